// QP state transition table (see qp_transitions.h).
// Models IBTA vol 1 11.2.4 / 10.3; Linux ib_modify_qp_is_ok().
//
// One row per allowed (from, to) pair; a pair without a row is rejected.
// Kernel quirks kept on purpose: RESET -> ERR is not a transition (only
// RESET -> RESET and RESET -> INIT leave RESET); transitions to RESET and
// ERR take STATE and nothing else, not even CUR_STATE; RC has an
// SQE -> RTS row with no optional bits, though RC never enters SQE.
#include "firmware/qp_transitions.h"

namespace hcasim::firmware {

namespace {

// Short names for the table only.
constexpr uint32_t CUR = kQpAttrCurState;
constexpr uint32_t SQD_NOTIFY = kQpAttrEnSqdAsyncNotify;
constexpr uint32_t ACCESS = kQpAttrAccessFlags;
constexpr uint32_t PKEY = kQpAttrPkeyIndex;
constexpr uint32_t PORT = kQpAttrPort;
constexpr uint32_t QKEY = kQpAttrQkey;
constexpr uint32_t AV = kQpAttrAv;
constexpr uint32_t MTU = kQpAttrPathMtu;
constexpr uint32_t TIMEOUT = kQpAttrTimeout;
constexpr uint32_t RETRY = kQpAttrRetryCnt;
constexpr uint32_t RNR_RETRY = kQpAttrRnrRetry;
constexpr uint32_t RQ_PSN = kQpAttrRqPsn;
constexpr uint32_t RD_ATOMIC = kQpAttrMaxQpRdAtomic;
constexpr uint32_t ALT = kQpAttrAltPath;
constexpr uint32_t RNR_TIMER = kQpAttrMinRnrTimer;
constexpr uint32_t SQ_PSN = kQpAttrSqPsn;
constexpr uint32_t DEST_RD_ATOMIC = kQpAttrMaxDestRdAtomic;
constexpr uint32_t MIG = kQpAttrPathMigState;
constexpr uint32_t DEST_QPN = kQpAttrDestQpn;

// Masks shared by several rows.
constexpr uint32_t kRcToRtsOpt = CUR | ACCESS | ALT | MIG | RNR_TIMER;
constexpr uint32_t kUcToRtsOpt = CUR | ACCESS | ALT | MIG;
constexpr uint32_t kUdToRtsOpt = CUR | QKEY;

// clang-format off
constexpr QpTransitionRule kRules[] = {
    //  from       to          required {RC, UC, UD}                     optional {RC, UC, UD}
    {kQpsReset, kQpsReset, {0, 0, 0},                                 {0, 0, 0}},
    {kQpsReset, kQpsInit,  {PKEY | PORT | ACCESS, PKEY | PORT | ACCESS, PKEY | PORT | QKEY},
                                                                      {0, 0, 0}},

    {kQpsInit,  kQpsReset, {0, 0, 0},                                 {0, 0, 0}},
    {kQpsInit,  kQpsErr,   {0, 0, 0},                                 {0, 0, 0}},
    {kQpsInit,  kQpsInit,  {0, 0, 0},
                           {PKEY | PORT | ACCESS, PKEY | PORT | ACCESS, PKEY | PORT | QKEY}},
    {kQpsInit,  kQpsRtr,   {AV | MTU | DEST_QPN | RQ_PSN | DEST_RD_ATOMIC | RNR_TIMER,
                            AV | MTU | DEST_QPN | RQ_PSN,
                            0},
                           {ALT | ACCESS | PKEY, ALT | ACCESS | PKEY, PKEY | QKEY}},

    {kQpsRtr,   kQpsReset, {0, 0, 0},                                 {0, 0, 0}},
    {kQpsRtr,   kQpsErr,   {0, 0, 0},                                 {0, 0, 0}},
    {kQpsRtr,   kQpsRts,   {TIMEOUT | RETRY | RNR_RETRY | SQ_PSN | RD_ATOMIC, SQ_PSN, SQ_PSN},
                           {kRcToRtsOpt, kUcToRtsOpt, kUdToRtsOpt}},

    {kQpsRts,   kQpsReset, {0, 0, 0},                                 {0, 0, 0}},
    {kQpsRts,   kQpsErr,   {0, 0, 0},                                 {0, 0, 0}},
    {kQpsRts,   kQpsRts,   {0, 0, 0},                                 {kRcToRtsOpt, kUcToRtsOpt, kUdToRtsOpt}},
    {kQpsRts,   kQpsSqd,   {0, 0, 0},                                 {SQD_NOTIFY, SQD_NOTIFY, SQD_NOTIFY}},

    {kQpsSqd,   kQpsReset, {0, 0, 0},                                 {0, 0, 0}},
    {kQpsSqd,   kQpsErr,   {0, 0, 0},                                 {0, 0, 0}},
    {kQpsSqd,   kQpsRts,   {0, 0, 0},                                 {kRcToRtsOpt, kUcToRtsOpt, kUdToRtsOpt}},
    {kQpsSqd,   kQpsSqd,   {0, 0, 0},
                           {PORT | AV | TIMEOUT | RETRY | RNR_RETRY | RD_ATOMIC | DEST_RD_ATOMIC |
                                ALT | ACCESS | PKEY | RNR_TIMER | MIG,
                            AV | ALT | ACCESS | PKEY | MIG,
                            PKEY | QKEY}},

    {kQpsSqe,   kQpsReset, {0, 0, 0},                                 {0, 0, 0}},
    {kQpsSqe,   kQpsErr,   {0, 0, 0},                                 {0, 0, 0}},
    {kQpsSqe,   kQpsRts,   {0, 0, 0},                                 {0, CUR | ACCESS, CUR | QKEY}},

    {kQpsErr,   kQpsReset, {0, 0, 0},                                 {0, 0, 0}},
    {kQpsErr,   kQpsErr,   {0, 0, 0},                                 {0, 0, 0}},
};
// clang-format on

// CUR_STATE is only meaningful from the states where a QP can be moved
// without the driver knowing it (the kernel checks this before the table).
bool cur_state_allowed_from(uint32_t cur) {
    return cur == kQpsRtr || cur == kQpsRts || cur == kQpsSqd || cur == kQpsSqe;
}

}  // namespace

int qp_type_index(uint32_t qp_type) {
    switch (qp_type) {
    case kQptRC: return 0;
    case kQptUC: return 1;
    case kQptUD: return 2;
    default: return -1;
    }
}

const QpTransitionRule* find_qp_transition(uint32_t cur, uint32_t next) {
    for (const QpTransitionRule& r : kRules)
        if (r.from == cur && r.to == next) return &r;
    return nullptr;
}

QpTransitionError check_qp_transition(uint32_t qp_type, uint32_t cur, uint32_t next,
                                      uint32_t attr_mask) {
    int t = qp_type_index(qp_type);
    if (t < 0) return QpTransitionError::BadTransition;
    if (!(attr_mask & kQpAttrState)) next = cur;
    const QpTransitionRule* r = find_qp_transition(cur, next);
    if (!r) return QpTransitionError::BadTransition;  // also covers states past ERR
    if ((attr_mask & kQpAttrCurState) && !cur_state_allowed_from(cur))
        return QpTransitionError::BadAttrMask;
    uint32_t req = r->required[t];
    uint32_t allowed = req | r->optional[t] | kQpAttrState;
    if ((attr_mask & req) != req) return QpTransitionError::BadAttrMask;
    if (attr_mask & ~allowed) return QpTransitionError::BadAttrMask;
    return QpTransitionError::None;
}

const char* qp_state_name(uint32_t state) {
    static constexpr const char* kNames[kQpsCount] = {"RESET", "INIT", "RTR", "RTS",
                                                      "SQD",   "SQE",  "ERR"};
    return state < kQpsCount ? kNames[state] : "UNKNOWN";
}

}  // namespace hcasim::firmware
