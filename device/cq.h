// Completion queues and event queues as the device sees them: a ring of
// 64-byte CQEs (16-byte EQEs) in host memory with an ownership bit, the
// consumer index and arm word in the doorbell record, overflow detection,
// and the completion event an armed CQ raises.
//
// Source: IBTA vol 1 11.4.2 (CQ, notification), 11.6.2 (CQ overrun ->
// CQ error); mlx5 PRM CQE ownership and CQ arm doorbell.
#pragma once

#include "abi/hcasim_abi.h"
#include "device/queue_ring.h"

#include <cstdint>

namespace hcasim::device {

struct Eq {
    uint32_t log_size = 0;
    uint32_t msix_vector = HCASIM_MSIX_VECTOR_NONE;
    bool async = false;         // a context's async EQ: port events too
    QueueRing ring;
    uint32_t pi = 0;            // EQEs written
    uint64_t dropped = 0;       // EQEs lost to a full EQ
};

struct Cq {
    uint32_t log_size = 0;
    uint32_t uar = 0;
    uint32_t eqn = HCASIM_EQN_NONE;        // completion events
    uint32_t async_eqn = HCASIM_EQN_NONE;  // CQ errors
    QueueRing ring;
    uint32_t pi = 0;                   // CQEs written
    uint32_t fired_arm_sn = 0;         // arm_sn of the last event raised
    bool fired_any = false;
    bool overflowed = false;           // in error (overrun or ring DMA fault)
    uint64_t dropped = 0;              // CQEs lost after the overrun

    uint32_t entries() const { return 1u << log_size; }
};

}  // namespace hcasim::device
