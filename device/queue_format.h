// The queue format: how a device model lays out its work queue entries,
// completion queue entries and event queue entries in host memory.  The
// engine's roles work on decoded requests and completions
// (device/work_request.h); this interface is the one place that reads a
// WQE out of a ring or writes a CQE or EQE into one.
//
// hcasim's own layouts (abi/hcasim_abi.h) are the first implementation
// (device/hcasim_format.h); the mlx5 PRM's layouts, for the ConnectX-5
// model, are the second.  Doorbells (where producer and consumer indices
// live, how a CQ is armed) stay with the device model.
//
// Ownership: a CQE or EQE the device writes becomes software's when its
// ownership bit flips; each format writes the body first and that bit
// last, after a release fence (QueueRing::write_owned_entry).
#pragma once

#include "device/dma_space.h"
#include "device/queue_ring.h"
#include "device/work_request.h"

#include <cstddef>
#include <cstdint>

namespace hcasim::device {

// A work queue inside a ring buffer: `entries` slots of 2^log_stride
// bytes, starting `base` bytes into the buffer.  Slot counters run
// freely; a format takes them modulo `entries`.
struct WorkQueueRing {
    QueueRing& ring;
    uint64_t base = 0;
    uint32_t entries = 1;
    uint32_t log_stride = 0;
};

// What decoding one WQE gave.
struct WqeDecode {
    enum Kind : uint8_t {
        Ok,
        // The WQE breaks the format's rules (too many data segments for
        // its slot, inline data longer than the slot): it completes with
        // IBV_WC_LOC_QP_OP_ERR.  The header fields (wr_id, opcode, the
        // flags) are valid.
        Malformed,
        // The WQE lies outside guest memory: a local catastrophic error.
        Fault,
    };
    Kind kind = Ok;
    const char* why = nullptr;  // for Malformed and Fault: what the trace says
    bool header_valid = true;   // the header fields were read (false: a Fault there)
    uint32_t slots = 1;         // slots the WQE takes (mlx5: its WQEBBs)
};

class QueueFormat {
public:
    virtual ~QueueFormat() = default;
    // The format's name, for the trace ("hcasim", "mlx5").
    virtual const char* name() const = 0;

    // Decodes the send WQE at slot counter `slot` of `sq`.  The format
    // bounds num_sge by kMaxSge and inline_len by kMaxInline; the QP's
    // own caps (max_send_sge, max_inline) are the requester's to check.
    virtual WqeDecode read_send_wqe(DmaSpace& dma, const WorkQueueRing& sq, uint32_t slot,
                                    SendRequest& out) = 0;
    // Decodes the receive WQE at slot counter `slot` of an RQ or SRQ;
    // num_sge is bounded by kMaxSge.
    virtual WqeDecode read_recv_wqe(DmaSpace& dma, const WorkQueueRing& rq, uint32_t slot,
                                    RecvRequest& out) = 0;

    // Bytes per CQE and per EQE.
    virtual size_t cqe_size() const = 0;
    virtual size_t eqe_size() const = 0;
    // Writes `c` as the CQE at producer index `pi` of a CQ of `entries`
    // (a power of two), ownership last.  0, or EFAULT when the ring is
    // outside guest memory.
    virtual int write_cqe(DmaSpace& dma, QueueRing& ring, uint32_t entries, uint32_t pi,
                          const Completion& c) = 0;
    // Moves the CQE at index `from_index` of `from` (from_entries) to index
    // `to_index` of `to` (to_entries), with the new ring's ownership bit
    // (MODIFY_CQ resize).  0 or EFAULT.
    virtual int move_cqe(DmaSpace& dma, QueueRing& from, uint32_t from_entries, uint32_t from_index,
                         QueueRing& to, uint32_t to_entries, uint32_t to_index) = 0;
    // Writes `e` as the EQE at producer index `pi` of an EQ of `entries`,
    // ownership last.  0 or EFAULT.
    virtual int write_eqe(DmaSpace& dma, QueueRing& ring, uint32_t entries, uint32_t pi,
                          const EventEntry& e) = 0;
};

}  // namespace hcasim::device
