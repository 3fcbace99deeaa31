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
    return t == kQptRC ? "RC" : t == kQptUC ? "UC" : t == kQptUD ? "UD" : "?";
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
    {kQptRC, kQpsReset, kQpsInit, kQpAttrPkeyIndex | kQpAttrPort | kQpAttrAccessFlags, 0},
    {kQptUC, kQpsReset, kQpsInit, kQpAttrPkeyIndex | kQpAttrPort | kQpAttrAccessFlags, 0},
    {kQptUD, kQpsReset, kQpsInit, kQpAttrPkeyIndex | kQpAttrPort | kQpAttrQkey, 0},
    // INIT -> INIT
    {kQptRC, kQpsInit, kQpsInit, 0, kQpAttrPkeyIndex | kQpAttrPort | kQpAttrAccessFlags},
    {kQptUD, kQpsInit, kQpsInit, 0, kQpAttrPkeyIndex | kQpAttrPort | kQpAttrQkey},
    // INIT -> RTR
    {kQptRC, kQpsInit, kQpsRtr,
     kQpAttrAv | kQpAttrPathMtu | kQpAttrDestQpn | kQpAttrRqPsn | kQpAttrMaxDestRdAtomic |
         kQpAttrMinRnrTimer,
     kQpAttrAltPath | kQpAttrAccessFlags | kQpAttrPkeyIndex},
    {kQptUC, kQpsInit, kQpsRtr, kQpAttrAv | kQpAttrPathMtu | kQpAttrDestQpn | kQpAttrRqPsn,
     kQpAttrAltPath | kQpAttrAccessFlags | kQpAttrPkeyIndex},
    {kQptUD, kQpsInit, kQpsRtr, 0, kQpAttrPkeyIndex | kQpAttrQkey},
    // RTR -> RTS
    {kQptRC, kQpsRtr, kQpsRts,
     kQpAttrTimeout | kQpAttrRetryCnt | kQpAttrRnrRetry | kQpAttrSqPsn | kQpAttrMaxQpRdAtomic,
     kQpAttrCurState | kQpAttrAltPath | kQpAttrAccessFlags | kQpAttrMinRnrTimer |
         kQpAttrPathMigState},
    {kQptUC, kQpsRtr, kQpsRts, kQpAttrSqPsn,
     kQpAttrCurState | kQpAttrAltPath | kQpAttrAccessFlags | kQpAttrPathMigState},
    {kQptUD, kQpsRtr, kQpsRts, kQpAttrSqPsn, kQpAttrCurState | kQpAttrQkey},
    // RTS -> RTS
    {kQptRC, kQpsRts, kQpsRts, 0,
     kQpAttrCurState | kQpAttrAccessFlags | kQpAttrAltPath | kQpAttrPathMigState |
         kQpAttrMinRnrTimer},
    {kQptUC, kQpsRts, kQpsRts, 0,
     kQpAttrCurState | kQpAttrAccessFlags | kQpAttrAltPath | kQpAttrPathMigState},
    {kQptUD, kQpsRts, kQpsRts, 0, kQpAttrCurState | kQpAttrQkey},
    // RTS -> SQD, SQD -> RTS, SQD -> SQD
    {kQptRC, kQpsRts, kQpsSqd, 0, kQpAttrEnSqdAsyncNotify},
    {kQptUD, kQpsRts, kQpsSqd, 0, kQpAttrEnSqdAsyncNotify},
    {kQptRC, kQpsSqd, kQpsRts, 0,
     kQpAttrCurState | kQpAttrAltPath | kQpAttrAccessFlags | kQpAttrMinRnrTimer |
         kQpAttrPathMigState},
    {kQptUD, kQpsSqd, kQpsRts, 0, kQpAttrCurState | kQpAttrQkey},
    {kQptRC, kQpsSqd, kQpsSqd, 0,
     kQpAttrPort | kQpAttrAv | kQpAttrTimeout | kQpAttrRetryCnt | kQpAttrRnrRetry |
         kQpAttrMaxQpRdAtomic | kQpAttrMaxDestRdAtomic | kQpAttrAltPath | kQpAttrAccessFlags |
         kQpAttrPkeyIndex | kQpAttrMinRnrTimer | kQpAttrPathMigState},
    {kQptUC, kQpsSqd, kQpsSqd, 0,
     kQpAttrAv | kQpAttrAltPath | kQpAttrAccessFlags | kQpAttrPkeyIndex | kQpAttrPathMigState},
    {kQptUD, kQpsSqd, kQpsSqd, 0, kQpAttrPkeyIndex | kQpAttrQkey},
    // SQE -> RTS (RC has the row but no optional bits)
    {kQptRC, kQpsSqe, kQpsRts, 0, 0},
    {kQptUC, kQpsSqe, kQpsRts, 0, kQpAttrCurState | kQpAttrAccessFlags},
    {kQptUD, kQpsSqe, kQpsRts, 0, kQpAttrCurState | kQpAttrQkey},
    // -> ERR and -> RESET: STATE only
    {kQptRC, kQpsRts, kQpsErr, 0, 0},
    {kQptUD, kQpsRtr, kQpsErr, 0, 0},
    {kQptUC, kQpsSqd, kQpsErr, 0, 0},
    {kQptRC, kQpsErr, kQpsErr, 0, 0},
    {kQptRC, kQpsRts, kQpsReset, 0, 0},
    {kQptUD, kQpsErr, kQpsReset, 0, 0},
    {kQptUC, kQpsInit, kQpsReset, 0, 0},
    {kQptRC, kQpsReset, kQpsReset, 0, 0},
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

constexpr uint32_t kTypes[] = {kQptRC, kQptUC, kQptUD};

}  // namespace

TEST_CASE("required bits pass, each missing one fails, only listed bits are allowed") {
    for (const MaskCase& c : kMaskCases) {
        INFO(label(c));
        const uint32_t state = c.from == c.to ? 0 : kQpAttrState;
        const uint32_t base = c.required | state;
        CHECK(check_qp_transition(c.type, c.from, c.to, base) == E::None);
        CHECK(check_qp_transition(c.type, c.from, c.to, base | c.optional) == E::None);
        // STATE is always allowed, also for a same-state modify.
        CHECK(check_qp_transition(c.type, c.from, c.to, base | c.optional | kQpAttrState) ==
              E::None);
        for (uint32_t bit = 0; bit <= kMaxBit; ++bit) {
            const uint32_t m = 1u << bit;
            INFO("bit " << bit);
            if (c.required & m) {
                CHECK(check_qp_transition(c.type, c.from, c.to, base & ~m) == E::BadAttrMask);
                CHECK(check_qp_transition(c.type, c.from, c.to, (base | c.optional) & ~m) ==
                      E::BadAttrMask);
            } else if (!((c.optional | kQpAttrState) & m)) {
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
    const uint32_t rc_rts = kQpAttrTimeout | kQpAttrRetryCnt | kQpAttrRnrRetry | kQpAttrSqPsn |
                            kQpAttrMaxQpRdAtomic;
    const Bad bad[] = {
        {kQptRC, kQpsReset, kQpsRts, rc_rts},
        {kQptUD, kQpsReset, kQpsRts, kQpAttrSqPsn},
        {kQptRC, kQpsReset, kQpsRtr, kQpAttrAv | kQpAttrPathMtu},
        {kQptRC, kQpsInit, kQpsRts, rc_rts},
        {kQptUC, kQpsInit, kQpsRts, kQpAttrSqPsn},
        {kQptUD, kQpsInit, kQpsRts, kQpAttrSqPsn},
        {kQptRC, kQpsReset, kQpsErr, 0},  // kernel: RESET only goes to RESET or INIT
        {kQptUD, kQpsReset, kQpsErr, 0},
        {kQptRC, kQpsRtr, kQpsInit, 0},
        {kQptRC, kQpsRts, kQpsRtr, 0},
        {kQptUD, kQpsRts, kQpsSqe, 0},  // SQE is entered by the device, not by modify
        {kQptUD, kQpsSqe, kQpsSqd, 0},
        {kQptRC, kQpsErr, kQpsInit, kQpAttrPkeyIndex | kQpAttrPort | kQpAttrAccessFlags},
        {kQptRC, kQpsErr, kQpsRts, 0},
    };
    for (const Bad& b : bad) {
        INFO(type_name(b.type) << " " << qp_state_name(b.from) << "->" << qp_state_name(b.to));
        CHECK(check_qp_transition(b.type, b.from, b.to, b.mask | kQpAttrState) ==
              E::BadTransition);
    }
}

TEST_CASE("without IBV_QP_STATE the target is the current state") {
    // RTR -> RTR does not exist, whatever `next` says.
    CHECK(check_qp_transition(kQptUD, kQpsRtr, kQpsRts, kQpAttrSqPsn) == E::BadTransition);
    CHECK(check_qp_transition(kQptUD, kQpsRtr, kQpsRts, kQpAttrSqPsn | kQpAttrState) == E::None);
    // RTS with no STATE is RTS -> RTS, not RTS -> RESET.
    CHECK(check_qp_transition(kQptRC, kQpsRts, kQpsReset, kQpAttrMinRnrTimer) == E::None);
    CHECK(check_qp_transition(kQptRC, kQpsRts, kQpsReset, kQpAttrMinRnrTimer | kQpAttrState) ==
          E::BadAttrMask);
    // An empty mask is a no-op modify where X -> X exists.
    CHECK(check_qp_transition(kQptRC, kQpsReset, kQpsReset, 0) == E::None);
    CHECK(check_qp_transition(kQptRC, kQpsInit, kQpsInit, 0) == E::None);
    CHECK(check_qp_transition(kQptRC, kQpsErr, kQpsErr, 0) == E::None);
    CHECK(check_qp_transition(kQptRC, kQpsSqe, kQpsSqe, 0) == E::BadTransition);
}

TEST_CASE("IBV_QP_CUR_STATE is only accepted where the table lists it") {
    CHECK(check_qp_transition(kQptRC, kQpsRts, kQpsRts, kQpAttrCurState) == E::None);
    CHECK(check_qp_transition(kQptUD, kQpsSqe, kQpsRts, kQpAttrCurState | kQpAttrState) ==
          E::None);
    CHECK(check_qp_transition(kQptRC, kQpsSqe, kQpsRts, kQpAttrCurState | kQpAttrState) ==
          E::BadAttrMask);
    CHECK(check_qp_transition(kQptRC, kQpsInit, kQpsInit, kQpAttrCurState) == E::BadAttrMask);
    CHECK(check_qp_transition(kQptRC, kQpsRts, kQpsErr, kQpAttrCurState | kQpAttrState) ==
          E::BadAttrMask);
    CHECK(check_qp_transition(kQptRC, kQpsRts, kQpsSqd, kQpAttrCurState | kQpAttrState) ==
          E::BadAttrMask);
    CHECK(check_qp_transition(kQptUD, kQpsSqd, kQpsSqd, kQpAttrCurState) == E::BadAttrMask);
}

TEST_CASE("types and states outside the model are rejected") {
    const uint32_t init = kQpAttrState | kQpAttrPkeyIndex | kQpAttrPort | kQpAttrAccessFlags;
    CHECK(check_qp_transition(kQptRC, kQpsReset, kQpsInit, init) == E::None);
    CHECK(check_qp_transition(8 /* RAW_PACKET */, kQpsReset, kQpsInit, init) ==
          E::BadTransition);
    CHECK(check_qp_transition(0, kQpsReset, kQpsInit, init) == E::BadTransition);
    CHECK(check_qp_transition(kQptRC, 7, kQpsErr, kQpAttrState) == E::BadTransition);
    CHECK(check_qp_transition(kQptRC, kQpsRts, 7, kQpAttrState) == E::BadTransition);
    CHECK(check_qp_transition(kQptRC, 7, 7, 0) == E::BadTransition);
    CHECK(qp_type_index(kQptRC) == 0);
    CHECK(qp_type_index(kQptUC) == 1);
    CHECK(qp_type_index(kQptUD) == 2);
    CHECK(qp_type_index(9) == -1);
}

TEST_CASE("constants keep rdma-core's values; state names") {
    CHECK(kQpsReset == 0);
    CHECK(kQpsErr == 6);
    CHECK(kQptRC == 2);
    CHECK(kQptUD == 4);
    CHECK(kQpAttrDestQpn == 0x100000u);
    CHECK(kQpAttrRateLimit == 0x2000000u);
    const char* names[] = {"RESET", "INIT", "RTR", "RTS", "SQD", "SQE", "ERR"};
    for (uint32_t s = 0; s < kQpsCount; ++s) CHECK(std::string(qp_state_name(s)) == names[s]);
    CHECK(std::string(qp_state_name(7)) == "UNKNOWN");
    CHECK(std::string(qp_state_name(0xffffffffu)) == "UNKNOWN");
}
