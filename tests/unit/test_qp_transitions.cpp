// QP state transitions against the Linux kernel's qp_state_table
// (ib_modify_qp_is_ok): required bits, allowed bits, legal pairs, quirks.
// The expectations are written out here from the kernel source, not taken
// from firmware/qp_transitions.cpp, so a wrong table row fails.
#include "firmware/qp_transitions.h"

#include <doctest/doctest.h>

#include <string>

using namespace hcasim::firmware;
using E = QpTransitionError;

namespace {

constexpr uint32_t kMaxBit = 31;

const char* type_name(uint32_t t) {
    return t == qpt::kRc ? "RC" : t == qpt::kUc ? "UC" : t == qpt::kUd ? "UD" : "?";
}

struct MaskCase {
    uint32_t type;
    uint32_t from;
    uint32_t to;
    uint32_t required;  // without STATE
    uint32_t optional;  // without STATE
};

// Transitions whose masks are spelled out. STATE is added where the target
// differs from the source (otherwise next would silently become cur).
const MaskCase kMaskCases[] = {
    // RESET -> INIT
    {qpt::kRc, qps::kReset, qps::kInit, qpa::kPkeyIndex | qpa::kPort | qpa::kAccessFlags, 0},
    {qpt::kUc, qps::kReset, qps::kInit, qpa::kPkeyIndex | qpa::kPort | qpa::kAccessFlags, 0},
    {qpt::kUd, qps::kReset, qps::kInit, qpa::kPkeyIndex | qpa::kPort | qpa::kQkey, 0},
    // INIT -> INIT
    {qpt::kRc, qps::kInit, qps::kInit, 0, qpa::kPkeyIndex | qpa::kPort | qpa::kAccessFlags},
    {qpt::kUd, qps::kInit, qps::kInit, 0, qpa::kPkeyIndex | qpa::kPort | qpa::kQkey},
    // INIT -> RTR
    {qpt::kRc, qps::kInit, qps::kRtr,
     qpa::kAv | qpa::kPathMtu | qpa::kDestQpn | qpa::kRqPsn | qpa::kMaxDestRdAtomic |
         qpa::kMinRnrTimer,
     qpa::kAltPath | qpa::kAccessFlags | qpa::kPkeyIndex},
    {qpt::kUc, qps::kInit, qps::kRtr, qpa::kAv | qpa::kPathMtu | qpa::kDestQpn | qpa::kRqPsn,
     qpa::kAltPath | qpa::kAccessFlags | qpa::kPkeyIndex},
    {qpt::kUd, qps::kInit, qps::kRtr, 0, qpa::kPkeyIndex | qpa::kQkey},
    // RTR -> RTS
    {qpt::kRc, qps::kRtr, qps::kRts,
     qpa::kTimeout | qpa::kRetryCnt | qpa::kRnrRetry | qpa::kSqPsn | qpa::kMaxQpRdAtomic,
     qpa::kCurState | qpa::kAltPath | qpa::kAccessFlags | qpa::kMinRnrTimer |
         qpa::kPathMigState},
    {qpt::kUc, qps::kRtr, qps::kRts, qpa::kSqPsn,
     qpa::kCurState | qpa::kAltPath | qpa::kAccessFlags | qpa::kPathMigState},
    {qpt::kUd, qps::kRtr, qps::kRts, qpa::kSqPsn, qpa::kCurState | qpa::kQkey},
    // RTS -> RTS
    {qpt::kRc, qps::kRts, qps::kRts, 0,
     qpa::kCurState | qpa::kAccessFlags | qpa::kAltPath | qpa::kPathMigState |
         qpa::kMinRnrTimer},
    {qpt::kUc, qps::kRts, qps::kRts, 0,
     qpa::kCurState | qpa::kAccessFlags | qpa::kAltPath | qpa::kPathMigState},
    {qpt::kUd, qps::kRts, qps::kRts, 0, qpa::kCurState | qpa::kQkey},
    // RTS -> SQD, SQD -> RTS, SQD -> SQD
    {qpt::kRc, qps::kRts, qps::kSqd, 0, qpa::kEnSqdAsyncNotify},
    {qpt::kUd, qps::kRts, qps::kSqd, 0, qpa::kEnSqdAsyncNotify},
    {qpt::kRc, qps::kSqd, qps::kRts, 0,
     qpa::kCurState | qpa::kAltPath | qpa::kAccessFlags | qpa::kMinRnrTimer |
         qpa::kPathMigState},
    {qpt::kUd, qps::kSqd, qps::kRts, 0, qpa::kCurState | qpa::kQkey},
    {qpt::kRc, qps::kSqd, qps::kSqd, 0,
     qpa::kPort | qpa::kAv | qpa::kTimeout | qpa::kRetryCnt | qpa::kRnrRetry |
         qpa::kMaxQpRdAtomic | qpa::kMaxDestRdAtomic | qpa::kAltPath | qpa::kAccessFlags |
         qpa::kPkeyIndex | qpa::kMinRnrTimer | qpa::kPathMigState},
    {qpt::kUc, qps::kSqd, qps::kSqd, 0,
     qpa::kAv | qpa::kAltPath | qpa::kAccessFlags | qpa::kPkeyIndex | qpa::kPathMigState},
    {qpt::kUd, qps::kSqd, qps::kSqd, 0, qpa::kPkeyIndex | qpa::kQkey},
    // SQE -> RTS (RC has the row but no optional bits)
    {qpt::kRc, qps::kSqe, qps::kRts, 0, 0},
    {qpt::kUc, qps::kSqe, qps::kRts, 0, qpa::kCurState | qpa::kAccessFlags},
    {qpt::kUd, qps::kSqe, qps::kRts, 0, qpa::kCurState | qpa::kQkey},
    // -> ERR and -> RESET: STATE only
    {qpt::kRc, qps::kRts, qps::kErr, 0, 0},
    {qpt::kUd, qps::kRtr, qps::kErr, 0, 0},
    {qpt::kUc, qps::kSqd, qps::kErr, 0, 0},
    {qpt::kRc, qps::kErr, qps::kErr, 0, 0},
    {qpt::kRc, qps::kRts, qps::kReset, 0, 0},
    {qpt::kUd, qps::kErr, qps::kReset, 0, 0},
    {qpt::kUc, qps::kInit, qps::kReset, 0, 0},
    {qpt::kRc, qps::kReset, qps::kReset, 0, 0},
};

std::string label(const MaskCase& c) {
    return std::string(type_name(c.type)) + " " + qp_state_name(c.from) + "->" +
           qp_state_name(c.to);
}

// Legal (from, to) pairs, identical for RC, UC and UD. Rows: from.
constexpr bool kLegal[kQpsCount][kQpsCount] = {
    //          RESET  INIT   RTR    RTS    SQD    SQE    ERR
    /* RESET */ {true, true, false, false, false, false, false},
    /* INIT  */ {true, true, true, false, false, false, true},
    /* RTR   */ {true, false, false, true, false, false, true},
    /* RTS   */ {true, false, false, true, true, false, true},
    /* SQD   */ {true, false, false, true, true, false, true},
    /* SQE   */ {true, false, false, true, false, false, true},
    /* ERR   */ {true, false, false, false, false, false, true},
};

constexpr uint32_t kTypes[] = {qpt::kRc, qpt::kUc, qpt::kUd};

}  // namespace

TEST_CASE("required bits pass, each missing one fails, only listed bits are allowed") {
    for (const MaskCase& c : kMaskCases) {
        INFO(label(c));
        const uint32_t state = c.from == c.to ? 0 : qpa::kState;
        const uint32_t base = c.required | state;
        CHECK(check_qp_transition(c.type, c.from, c.to, base) == E::None);
        CHECK(check_qp_transition(c.type, c.from, c.to, base | c.optional) == E::None);
        // STATE is always allowed, also for a same-state modify.
        CHECK(check_qp_transition(c.type, c.from, c.to, base | c.optional | qpa::kState) ==
              E::None);
        for (uint32_t bit = 0; bit <= kMaxBit; ++bit) {
            const uint32_t m = 1u << bit;
            INFO("bit " << bit);
            if (c.required & m) {
                CHECK(check_qp_transition(c.type, c.from, c.to, base & ~m) == E::BadAttrMask);
                CHECK(check_qp_transition(c.type, c.from, c.to, (base | c.optional) & ~m) ==
                      E::BadAttrMask);
            } else if (!((c.optional | qpa::kState) & m)) {
                CHECK(check_qp_transition(c.type, c.from, c.to, base | m) == E::BadAttrMask);
            } else {
                CHECK(check_qp_transition(c.type, c.from, c.to, base | m) == E::None);
            }
        }
    }
}

TEST_CASE("legal state pairs match the kernel table for every modelled type") {
    for (uint32_t type : kTypes) {
        int legal = 0;
        for (uint32_t from = 0; from < kQpsCount; ++from) {
            for (uint32_t to = 0; to < kQpsCount; ++to) {
                INFO(type_name(type) << " " << qp_state_name(from) << "->" << qp_state_name(to));
                // All bits set: legal pairs fail on the mask, illegal on the pair.
                E want = kLegal[from][to] ? E::BadAttrMask : E::BadTransition;
                CHECK(check_qp_transition(type, from, to, ~0u) == want);
                CHECK((find_qp_transition(from, to) != nullptr) == kLegal[from][to]);
                legal += kLegal[from][to];
            }
        }
        CHECK(legal == 22);
    }
}

TEST_CASE("disallowed pairs fail with BadTransition even with a plausible mask") {
    struct Bad {
        uint32_t type, from, to, mask;
    };
    const uint32_t rc_rts = qpa::kTimeout | qpa::kRetryCnt | qpa::kRnrRetry | qpa::kSqPsn |
                            qpa::kMaxQpRdAtomic;
    const Bad bad[] = {
        {qpt::kRc, qps::kReset, qps::kRts, rc_rts},
        {qpt::kUd, qps::kReset, qps::kRts, qpa::kSqPsn},
        {qpt::kRc, qps::kReset, qps::kRtr, qpa::kAv | qpa::kPathMtu},
        {qpt::kRc, qps::kInit, qps::kRts, rc_rts},
        {qpt::kUc, qps::kInit, qps::kRts, qpa::kSqPsn},
        {qpt::kUd, qps::kInit, qps::kRts, qpa::kSqPsn},
        {qpt::kRc, qps::kReset, qps::kErr, 0},  // kernel: RESET only goes to RESET or INIT
        {qpt::kUd, qps::kReset, qps::kErr, 0},
        {qpt::kRc, qps::kRtr, qps::kInit, 0},
        {qpt::kRc, qps::kRts, qps::kRtr, 0},
        {qpt::kUd, qps::kRts, qps::kSqe, 0},  // SQE is entered by the device, not by modify
        {qpt::kUd, qps::kSqe, qps::kSqd, 0},
        {qpt::kRc, qps::kErr, qps::kInit, qpa::kPkeyIndex | qpa::kPort | qpa::kAccessFlags},
        {qpt::kRc, qps::kErr, qps::kRts, 0},
    };
    for (const Bad& b : bad) {
        INFO(type_name(b.type) << " " << qp_state_name(b.from) << "->" << qp_state_name(b.to));
        CHECK(check_qp_transition(b.type, b.from, b.to, b.mask | qpa::kState) ==
              E::BadTransition);
    }
}

TEST_CASE("without IBV_QP_STATE the target is the current state") {
    // RTR -> RTR does not exist, whatever `next` says.
    CHECK(check_qp_transition(qpt::kUd, qps::kRtr, qps::kRts, qpa::kSqPsn) == E::BadTransition);
    CHECK(check_qp_transition(qpt::kUd, qps::kRtr, qps::kRts, qpa::kSqPsn | qpa::kState) == E::None);
    // RTS with no STATE is RTS -> RTS, not RTS -> RESET.
    CHECK(check_qp_transition(qpt::kRc, qps::kRts, qps::kReset, qpa::kMinRnrTimer) == E::None);
    CHECK(check_qp_transition(qpt::kRc, qps::kRts, qps::kReset, qpa::kMinRnrTimer | qpa::kState) ==
          E::BadAttrMask);
    // An empty mask is a no-op modify where X -> X exists.
    CHECK(check_qp_transition(qpt::kRc, qps::kReset, qps::kReset, 0) == E::None);
    CHECK(check_qp_transition(qpt::kRc, qps::kInit, qps::kInit, 0) == E::None);
    CHECK(check_qp_transition(qpt::kRc, qps::kErr, qps::kErr, 0) == E::None);
    CHECK(check_qp_transition(qpt::kRc, qps::kSqe, qps::kSqe, 0) == E::BadTransition);
}

TEST_CASE("IBV_QP_CUR_STATE is only accepted where the table lists it") {
    CHECK(check_qp_transition(qpt::kRc, qps::kRts, qps::kRts, qpa::kCurState) == E::None);
    CHECK(check_qp_transition(qpt::kUd, qps::kSqe, qps::kRts, qpa::kCurState | qpa::kState) ==
          E::None);
    CHECK(check_qp_transition(qpt::kRc, qps::kSqe, qps::kRts, qpa::kCurState | qpa::kState) ==
          E::BadAttrMask);
    CHECK(check_qp_transition(qpt::kRc, qps::kInit, qps::kInit, qpa::kCurState) == E::BadAttrMask);
    CHECK(check_qp_transition(qpt::kRc, qps::kRts, qps::kErr, qpa::kCurState | qpa::kState) ==
          E::BadAttrMask);
    CHECK(check_qp_transition(qpt::kRc, qps::kRts, qps::kSqd, qpa::kCurState | qpa::kState) ==
          E::BadAttrMask);
    CHECK(check_qp_transition(qpt::kUd, qps::kSqd, qps::kSqd, qpa::kCurState) == E::BadAttrMask);
}

TEST_CASE("types and states outside the model are rejected") {
    const uint32_t init = qpa::kState | qpa::kPkeyIndex | qpa::kPort | qpa::kAccessFlags;
    CHECK(check_qp_transition(qpt::kRc, qps::kReset, qps::kInit, init) == E::None);
    CHECK(check_qp_transition(8 /* RAW_PACKET */, qps::kReset, qps::kInit, init) ==
          E::BadTransition);
    CHECK(check_qp_transition(0, qps::kReset, qps::kInit, init) == E::BadTransition);
    CHECK(check_qp_transition(qpt::kRc, 7, qps::kErr, qpa::kState) == E::BadTransition);
    CHECK(check_qp_transition(qpt::kRc, qps::kRts, 7, qpa::kState) == E::BadTransition);
    CHECK(check_qp_transition(qpt::kRc, 7, 7, 0) == E::BadTransition);
    CHECK(qp_type_index(qpt::kRc) == 0);
    CHECK(qp_type_index(qpt::kUc) == 1);
    CHECK(qp_type_index(qpt::kUd) == 2);
    CHECK(qp_type_index(9) == -1);
}

TEST_CASE("constants keep rdma-core's values; state names") {
    CHECK(qps::kReset == 0);
    CHECK(qps::kErr == 6);
    CHECK(qpt::kRc == 2);
    CHECK(qpt::kUd == 4);
    CHECK(qpa::kDestQpn == 0x100000u);
    CHECK(qpa::kRateLimit == 0x2000000u);
    const char* names[] = {"RESET", "INIT", "RTR", "RTS", "SQD", "SQE", "ERR"};
    for (uint32_t s = 0; s < kQpsCount; ++s) CHECK(std::string(qp_state_name(s)) == names[s]);
    CHECK(std::string(qp_state_name(7)) == "UNKNOWN");
    CHECK(std::string(qp_state_name(0xffffffffu)) == "UNKNOWN");
}
