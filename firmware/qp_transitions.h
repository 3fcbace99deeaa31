// QP state transitions: which modify-QP state changes are legal for RC, UC
// and UD QPs, and which attribute-mask bits each one requires or allows.
// Models IBTA vol 1 11.2.4 / 10.3; Linux ib_modify_qp_is_ok()
// (drivers/infiniband/core/verbs.c, qp_state_table), accept/reject for
// accept/reject. Attribute values (port, P_Key index, MTU, RD atomic depth)
// are not checked here: that is the driver's job on top of this table.
//
// States, types and mask bits have rdma-core's numeric values
// (<infiniband/verbs.h>: enum ibv_qp_state, ibv_qp_type, ibv_qp_attr_mask;
// defined once, in device/qp.h), so a verbs attr_mask is checked as is.
#pragma once

#include "device/qp.h"

#include <cstdint>

namespace hcasim::firmware {

// The QP states, types and attribute-mask bits are device/qp.h's
// (device::qps, qpt, qpa: rdma-core's numeric values).
namespace qps = device::qps;
namespace qpt = device::qpt;
namespace qpa = device::qpa;
inline constexpr uint32_t kQpsCount = qps::kErr + 1;

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
