// QP state transitions: which modify-QP state changes are legal for RC, UC
// and UD QPs, and which attribute-mask bits each one requires or allows.
// Models IBTA vol 1 11.2.4 / 10.3; Linux ib_modify_qp_is_ok()
// (drivers/infiniband/core/verbs.c, qp_state_table), accept/reject for
// accept/reject. Attribute values (port, P_Key index, MTU, RD atomic depth)
// are not checked here: that is the driver's job on top of this table.
//
// The constants have rdma-core's numeric values (<infiniband/verbs.h>:
// enum ibv_qp_state, ibv_qp_type, ibv_qp_attr_mask), so a verbs attr_mask
// can be checked as is; firmware does not include verbs.h itself.
#pragma once

#include <cstdint>

namespace hcasim::firmware {

// enum ibv_qp_state
inline constexpr uint32_t kQpsReset = 0;
inline constexpr uint32_t kQpsInit = 1;
inline constexpr uint32_t kQpsRtr = 2;
inline constexpr uint32_t kQpsRts = 3;
inline constexpr uint32_t kQpsSqd = 4;
inline constexpr uint32_t kQpsSqe = 5;
inline constexpr uint32_t kQpsErr = 6;
inline constexpr uint32_t kQpsCount = 7;

// enum ibv_qp_type (only the types modelled here)
inline constexpr uint32_t kQptRC = 2;
inline constexpr uint32_t kQptUC = 3;
inline constexpr uint32_t kQptUD = 4;

// enum ibv_qp_attr_mask
inline constexpr uint32_t kQpAttrState = 1u << 0;
inline constexpr uint32_t kQpAttrCurState = 1u << 1;
inline constexpr uint32_t kQpAttrEnSqdAsyncNotify = 1u << 2;
inline constexpr uint32_t kQpAttrAccessFlags = 1u << 3;
inline constexpr uint32_t kQpAttrPkeyIndex = 1u << 4;
inline constexpr uint32_t kQpAttrPort = 1u << 5;
inline constexpr uint32_t kQpAttrQkey = 1u << 6;
inline constexpr uint32_t kQpAttrAv = 1u << 7;
inline constexpr uint32_t kQpAttrPathMtu = 1u << 8;
inline constexpr uint32_t kQpAttrTimeout = 1u << 9;
inline constexpr uint32_t kQpAttrRetryCnt = 1u << 10;
inline constexpr uint32_t kQpAttrRnrRetry = 1u << 11;
inline constexpr uint32_t kQpAttrRqPsn = 1u << 12;
inline constexpr uint32_t kQpAttrMaxQpRdAtomic = 1u << 13;
inline constexpr uint32_t kQpAttrAltPath = 1u << 14;
inline constexpr uint32_t kQpAttrMinRnrTimer = 1u << 15;
inline constexpr uint32_t kQpAttrSqPsn = 1u << 16;
inline constexpr uint32_t kQpAttrMaxDestRdAtomic = 1u << 17;
inline constexpr uint32_t kQpAttrPathMigState = 1u << 18;
inline constexpr uint32_t kQpAttrCap = 1u << 19;
inline constexpr uint32_t kQpAttrDestQpn = 1u << 20;
// Bits 21..24 are rdma-core internal (_IBV_QP_SMAC ...); never valid here.
inline constexpr uint32_t kQpAttrRateLimit = 1u << 25;  // raw packet QPs only

enum class QpTransitionError { None, BadTransition, BadAttrMask };

// One allowed transition. Masks are indexed by qp_type_index(); STATE is
// always allowed on top of required | optional and is never listed.
struct QpTransitionRule {
    uint32_t from;
    uint32_t to;
    uint32_t required[3];  // RC, UC, UD
    uint32_t optional[3];  // RC, UC, UD
};

// 0 for RC, 1 for UC, 2 for UD, -1 for any other type.
int qp_type_index(uint32_t qp_type);

// The row for cur -> next, or nullptr when the pair is not a transition.
const QpTransitionRule* find_qp_transition(uint32_t cur, uint32_t next);

// cur: the current state as the kernel sees it (attr.cur_qp_state when
// IBV_QP_CUR_STATE is in the mask, else the QP's state).
// next: the target state; when IBV_QP_STATE is not in attr_mask it is
// ignored and taken to be cur, as the kernel does.
// Returns None when ib_modify_qp_is_ok() would accept type, pair and mask.
// QP types other than RC/UC/UD and states past ERR give BadTransition.
QpTransitionError check_qp_transition(uint32_t qp_type, uint32_t cur, uint32_t next,
                                      uint32_t attr_mask);

// "RESET", "INIT", "RTR", "RTS", "SQD", "SQE", "ERR"; "UNKNOWN" otherwise.
const char* qp_state_name(uint32_t state);

}  // namespace hcasim::firmware
