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
constexpr uint32_t CUR = qpa::kCurState;
constexpr uint32_t SQD_NOTIFY = qpa::kEnSqdAsyncNotify;
constexpr uint32_t ACCESS = qpa::kAccessFlags;
constexpr uint32_t PKEY = qpa::kPkeyIndex;
constexpr uint32_t PORT = qpa::kPort;
constexpr uint32_t QKEY = qpa::kQkey;
constexpr uint32_t AV = qpa::kAv;
constexpr uint32_t MTU = qpa::kPathMtu;
constexpr uint32_t TIMEOUT = qpa::kTimeout;
constexpr uint32_t RETRY = qpa::kRetryCnt;
constexpr uint32_t RNR_RETRY = qpa::kRnrRetry;
constexpr uint32_t RQ_PSN = qpa::kRqPsn;
constexpr uint32_t RD_ATOMIC = qpa::kMaxQpRdAtomic;
constexpr uint32_t ALT = qpa::kAltPath;
constexpr uint32_t RNR_TIMER = qpa::kMinRnrTimer;
constexpr uint32_t SQ_PSN = qpa::kSqPsn;
constexpr uint32_t DEST_RD_ATOMIC = qpa::kMaxDestRdAtomic;
constexpr uint32_t MIG = qpa::kPathMigState;
constexpr uint32_t DEST_QPN = qpa::kDestQpn;

// Masks shared by several rows.
constexpr uint32_t kRcToRtsOpt = CUR | ACCESS | ALT | MIG | RNR_TIMER;
constexpr uint32_t kUcToRtsOpt = CUR | ACCESS | ALT | MIG;
constexpr uint32_t kUdToRtsOpt = CUR | QKEY;

// clang-format off
constexpr QpTransitionRule kRules[] = {
    //  from       to          required {RC, UC, UD}                     optional {RC, UC, UD}
    {qps::kReset, qps::kReset, {0, 0, 0},                                 {0, 0, 0}},
    {qps::kReset, qps::kInit,  {PKEY | PORT | ACCESS, PKEY | PORT | ACCESS, PKEY | PORT | QKEY},
                                                                      {0, 0, 0}},

    {qps::kInit,  qps::kReset, {0, 0, 0},                                 {0, 0, 0}},
    {qps::kInit,  qps::kErr,   {0, 0, 0},                                 {0, 0, 0}},
    {qps::kInit,  qps::kInit,  {0, 0, 0},
                           {PKEY | PORT | ACCESS, PKEY | PORT | ACCESS, PKEY | PORT | QKEY}},
    {qps::kInit,  qps::kRtr,   {AV | MTU | DEST_QPN | RQ_PSN | DEST_RD_ATOMIC | RNR_TIMER,
                            AV | MTU | DEST_QPN | RQ_PSN,
                            0},
                           {ALT | ACCESS | PKEY, ALT | ACCESS | PKEY, PKEY | QKEY}},

    {qps::kRtr,   qps::kReset, {0, 0, 0},                                 {0, 0, 0}},
    {qps::kRtr,   qps::kErr,   {0, 0, 0},                                 {0, 0, 0}},
    {qps::kRtr,   qps::kRts,   {TIMEOUT | RETRY | RNR_RETRY | SQ_PSN | RD_ATOMIC, SQ_PSN, SQ_PSN},
                           {kRcToRtsOpt, kUcToRtsOpt, kUdToRtsOpt}},

    {qps::kRts,   qps::kReset, {0, 0, 0},                                 {0, 0, 0}},
    {qps::kRts,   qps::kErr,   {0, 0, 0},                                 {0, 0, 0}},
    {qps::kRts,   qps::kRts,   {0, 0, 0},                                 {kRcToRtsOpt, kUcToRtsOpt, kUdToRtsOpt}},
    {qps::kRts,   qps::kSqd,   {0, 0, 0},                                 {SQD_NOTIFY, SQD_NOTIFY, SQD_NOTIFY}},

    {qps::kSqd,   qps::kReset, {0, 0, 0},                                 {0, 0, 0}},
    {qps::kSqd,   qps::kErr,   {0, 0, 0},                                 {0, 0, 0}},
    {qps::kSqd,   qps::kRts,   {0, 0, 0},                                 {kRcToRtsOpt, kUcToRtsOpt, kUdToRtsOpt}},
    {qps::kSqd,   qps::kSqd,   {0, 0, 0},
                           {PORT | AV | TIMEOUT | RETRY | RNR_RETRY | RD_ATOMIC | DEST_RD_ATOMIC |
                                ALT | ACCESS | PKEY | RNR_TIMER | MIG,
                            AV | ALT | ACCESS | PKEY | MIG,
                            PKEY | QKEY}},

    {qps::kSqe,   qps::kReset, {0, 0, 0},                                 {0, 0, 0}},
    {qps::kSqe,   qps::kErr,   {0, 0, 0},                                 {0, 0, 0}},
    {qps::kSqe,   qps::kRts,   {0, 0, 0},                                 {0, CUR | ACCESS, CUR | QKEY}},

    {qps::kErr,   qps::kReset, {0, 0, 0},                                 {0, 0, 0}},
    {qps::kErr,   qps::kErr,   {0, 0, 0},                                 {0, 0, 0}},
};
// clang-format on

// CUR_STATE is only meaningful from the states where a QP can be moved
// without the driver knowing it (the kernel checks this before the table).
bool cur_state_allowed_from(uint32_t cur) {
    return cur == qps::kRtr || cur == qps::kRts || cur == qps::kSqd || cur == qps::kSqe;
}

}  // namespace

int qp_type_index(uint32_t qp_type) {
    switch (qp_type) {
    case qpt::kRc: return 0;
    case qpt::kUc: return 1;
    case qpt::kUd: return 2;
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
    if (!(attr_mask & qpa::kState)) next = cur;
    const QpTransitionRule* r = find_qp_transition(cur, next);
    if (!r) return QpTransitionError::BadTransition;  // also covers states past ERR
    if ((attr_mask & qpa::kCurState) && !cur_state_allowed_from(cur))
        return QpTransitionError::BadAttrMask;
    uint32_t req = r->required[t];
    uint32_t allowed = req | r->optional[t] | qpa::kState;
    if ((attr_mask & req) != req) return QpTransitionError::BadAttrMask;
    if (attr_mask & ~allowed) return QpTransitionError::BadAttrMask;
    return QpTransitionError::None;
}

const char* qp_state_name(uint32_t state) { return device::qps::name(state); }

}  // namespace hcasim::firmware
