// hcasim's queue format (see hcasim_format.h).
#include "device/hcasim_format.h"

#include "abi/hcasim_abi.h"

#include <cerrno>
#include <cstring>

namespace hcasim::device {

namespace {

// The WQE segments in front of the data, as one block: one read per WQE.
struct SendHeader {
    hcasim_wqe_ctrl ctrl;
    hcasim_wqe_raddr raddr;
    hcasim_wqe_atomic atomic;
    hcasim_wqe_ud ud;
};
static_assert(offsetof(SendHeader, raddr) == HCASIM_WQE_RADDR_OFF);
static_assert(offsetof(SendHeader, atomic) == HCASIM_WQE_ATOMIC_OFF);
static_assert(offsetof(SendHeader, ud) == HCASIM_WQE_UD_OFF);
static_assert(sizeof(SendHeader) == HCASIM_WQE_DATA_OFF);
static_assert(sizeof(hcasim_wqe_sge) == sizeof(Sge) && offsetof(hcasim_wqe_sge, length) == offsetof(Sge, length) &&
              offsetof(hcasim_wqe_sge, lkey) == offsetof(Sge, lkey));

uint64_t slot_offset(const WorkQueueRing& q, uint32_t slot) {
    return q.base + (uint64_t{slot % q.entries} << q.log_stride);
}

// Data segments: the ABI's 16-byte hcasim_wqe_sge is laid out as Sge.
int read_sges(DmaSpace& dma, QueueRing& ring, uint64_t at, uint32_t n, std::array<Sge, kMaxSge>& sge) {
    return ring.read(dma, at, sge.data(), sizeof(Sge) * n);
}

uint8_t owner_bit(uint32_t pi, uint32_t entries) {
    return static_cast<uint8_t>(((pi / entries) & 1) ^ 1);
}

}  // namespace

WqeDecode HcasimQueueFormat::read_send_wqe(DmaSpace& dma, const WorkQueueRing& sq, uint32_t slot,
                                           SendRequest& out) {
    const uint64_t at = slot_offset(sq, slot);
    const uint32_t stride = 1u << sq.log_stride;
    SendHeader h;
    if (sq.ring.read(dma, at, &h, sizeof(h)) != 0)
        return {WqeDecode::Fault, "WQE outside guest memory", false};
    out.wr_id = h.ctrl.wr_id;
    out.opcode = h.ctrl.opcode;
    out.signaled = h.ctrl.flags & HCASIM_WQE_SIGNALED;
    out.solicited = h.ctrl.flags & HCASIM_WQE_SOLICITED;
    out.fence = h.ctrl.flags & HCASIM_WQE_FENCE;
    out.is_inline = h.ctrl.flags & HCASIM_WQE_INLINE;
    out.imm_data = h.ctrl.imm_data;
    out.num_sge = h.ctrl.num_sge;
    out.remote_addr = h.raddr.remote_addr;
    out.rkey = h.raddr.rkey;
    out.compare_add = h.atomic.compare_add;
    out.swap = h.atomic.swap;
    std::memcpy(out.ud.dgid.data(), h.ud.dgid, 16);
    out.ud.remote_qpn = h.ud.remote_qpn;
    out.ud.remote_qkey = h.ud.remote_qkey;
    out.ud.flow_label = h.ud.flow_label;
    out.ud.traffic_class = h.ud.traffic_class;
    out.ud.hop_limit = h.ud.hop_limit;
    out.ud.sl = h.ud.sl;
    out.ud.is_global = h.ud.is_global;
    out.ud.sgid_index = h.ud.sgid_index;
    if (out.num_sge > kMaxSge || HCASIM_WQE_DATA_OFF + sizeof(Sge) * out.num_sge > stride)
        return {WqeDecode::Malformed, "too many SGEs"};
    if (out.is_inline) {
        out.inline_len = h.ctrl.inline_len;
        if (out.inline_len > kMaxInline || HCASIM_WQE_DATA_OFF + out.inline_len > stride)
            return {WqeDecode::Malformed, "inline data too long"};
        if (sq.ring.read(dma, at + HCASIM_WQE_DATA_OFF, out.inline_data.data(), out.inline_len) != 0)
            return {WqeDecode::Fault, "WQE outside guest memory"};
    } else if (read_sges(dma, sq.ring, at + HCASIM_WQE_DATA_OFF, out.num_sge, out.sge) != 0) {
        return {WqeDecode::Fault, "WQE outside guest memory"};
    }
    return {};
}

WqeDecode HcasimQueueFormat::read_recv_wqe(DmaSpace& dma, const WorkQueueRing& rq, uint32_t slot,
                                           RecvRequest& out) {
    const uint64_t at = slot_offset(rq, slot);
    hcasim_recv_wqe h;
    if (rq.ring.read(dma, at, &h, sizeof(h)) != 0)
        return {WqeDecode::Fault, "ring outside guest memory", false};
    out.wr_id = h.wr_id;
    out.num_sge = h.num_sge;
    out.next = h.next;
    if (out.num_sge > kMaxSge || sizeof(h) + sizeof(Sge) * out.num_sge > (1u << rq.log_stride))
        return {WqeDecode::Malformed, "too many SGEs"};
    if (read_sges(dma, rq.ring, at + sizeof(h), out.num_sge, out.sge) != 0)
        return {WqeDecode::Fault, "ring outside guest memory"};
    return {};
}

size_t HcasimQueueFormat::cqe_size() const { return HCASIM_CQE_SIZE; }
size_t HcasimQueueFormat::eqe_size() const { return sizeof(hcasim_eqe); }

int HcasimQueueFormat::write_cqe(DmaSpace& dma, QueueRing& ring, uint32_t entries, uint32_t pi,
                                 const Completion& c) {
    hcasim_cqe e{};
    e.wr_id = c.wr_id;
    e.byte_len = c.byte_len;
    e.imm_data = c.imm_data;
    e.qpn = c.qpn;
    e.src_qp = c.src_qp;
    e.vendor_err = c.vendor_err;
    e.wqe_counter = c.wqe_counter;
    e.opcode = c.opcode;
    e.status = c.status;
    e.flags = static_cast<uint8_t>((c.with_imm ? HCASIM_CQE_WITH_IMM : 0) | (c.grh ? HCASIM_CQE_GRH : 0) |
                                   (c.solicited ? HCASIM_CQE_SOLICITED : 0));
    e.sl = c.sl;
    e.pkey_index = c.pkey_index;
    e.slid = c.slid;
    e.dlid_path_bits = c.dlid_path_bits;
    e.is_recv = c.is_recv;
    e.srqn = c.srqn;
    e.owner = owner_bit(pi, entries);
    return ring.write_owned_entry(dma, uint64_t{pi % entries} * HCASIM_CQE_SIZE, &e, sizeof(e)) ? EFAULT : 0;
}

int HcasimQueueFormat::move_cqe(DmaSpace& dma, QueueRing& from, uint32_t from_entries, uint32_t from_index,
                                QueueRing& to, uint32_t to_entries, uint32_t to_index) {
    hcasim_cqe e{};
    if (from.read(dma, uint64_t{from_index % from_entries} * HCASIM_CQE_SIZE, &e, sizeof(e))) return EFAULT;
    e.owner = owner_bit(to_index, to_entries);
    return to.write_owned_entry(dma, uint64_t{to_index % to_entries} * HCASIM_CQE_SIZE, &e, sizeof(e)) ? EFAULT
                                                                                                   : 0;
}

int HcasimQueueFormat::write_eqe(DmaSpace& dma, QueueRing& ring, uint32_t entries, uint32_t pi,
                                 const EventEntry& ev) {
    hcasim_eqe e{};
    e.type = ev.type;
    e.ibv_event = ev.ibv_event;
    e.obj = ev.obj;
    e.seq = pi;
    e.owner = owner_bit(pi, entries);
    return ring.write_owned_entry(dma, uint64_t{pi % entries} * sizeof(e), &e, sizeof(e)) ? EFAULT : 0;
}

QueueFormat& hcasim_queue_format() {
    static HcasimQueueFormat format;
    return format;
}

}  // namespace hcasim::device
