// hcasim's own queue format (abi/hcasim_abi.h): one send WQE per SQ slot
// (control, remote-address, atomic and UD segments, then SGEs or inline
// data), receive WQEs of a header and SGEs, 64-byte CQEs and 16-byte EQEs
// whose last byte carries ownership.  The first QueueFormat; the private
// device ABI's verbs library (verbs/) writes and reads the same layouts.
//
// Source: abi/hcasim_abi.h ("Send WQE", "Receive WQE", "CQE", "EQE").
#pragma once

#include "device/queue_format.h"

namespace hcasim::device {

class HcasimQueueFormat final : public QueueFormat {
public:
    const char* name() const override { return "hcasim"; }
    WqeDecode read_send_wqe(DmaSpace& dma, const WorkQueueRing& sq, uint32_t slot,
                            SendRequest& out) override;
    WqeDecode read_recv_wqe(DmaSpace& dma, const WorkQueueRing& rq, uint32_t slot,
                            RecvRequest& out) override;
    size_t cqe_size() const override;
    size_t eqe_size() const override;
    int write_cqe(DmaSpace& dma, QueueRing& ring, uint32_t entries, uint32_t pi,
                  const Completion& c) override;
    int move_cqe(DmaSpace& dma, QueueRing& from, uint32_t from_entries, uint32_t from_index,
                 QueueRing& to, uint32_t to_entries, uint32_t to_index) override;
    int write_eqe(DmaSpace& dma, QueueRing& ring, uint32_t entries, uint32_t pi,
                  const EventEntry& e) override;
};

// The one instance the hcasim device model uses (the format keeps no state).
QueueFormat& hcasim_queue_format();

}  // namespace hcasim::device
