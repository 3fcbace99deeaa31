// Work requests and completions as the engine's roles see them, decoded
// from (and encoded to) whatever queue format the device model speaks
// (device/queue_format.h).  The roles never read a WQE, CQE or EQE layout:
// they take a SendRequest or RecvRequest and give a Completion or an
// EventEntry.
//
// The fields follow rdma-core's ibv_send_wr, ibv_recv_wr and ibv_wc
// (verbs.h); opcodes and statuses use their values (namespaces wr:: and
// wc:: in device/qp.h).  A format that does not carry a field (mlx5's
// WQEs have no wr_id: libmlx5 keeps it by WQE index) leaves it zero.
//
// Source: rdma-core ibv_post_send(3), ibv_post_recv(3), ibv_poll_cq(3);
// IBTA vol 1 11.4.1 (work requests), 11.4.2.1 (work completions).
#pragma once

#include <array>
#include <cstdint>

namespace hcasim::device {

inline constexpr uint32_t kMaxSge = 32;      // data segments per WQE
inline constexpr uint32_t kMaxInline = 512;  // bytes of inline data per WQE

// A data segment: `length` bytes at `addr` (a virtual address of the MR,
// or an offset for zero-based ones) under local key `lkey`.
struct Sge {
    uint64_t addr = 0;
    uint32_t length = 0;  // bytes
    uint32_t lkey = 0;
};

// A UD send's address vector (ibv_ah_attr with its GRH, RoCE: always
// global) plus the destination QP and its QKey.
struct UdAddress {
    std::array<uint8_t, 16> dgid{};
    uint32_t remote_qpn = 0;
    uint32_t remote_qkey = 0;   // high bit set: use the QP's QKey (IBTA 10.2.4)
    uint32_t flow_label = 0;
    uint8_t traffic_class = 0;
    uint8_t hop_limit = 0;      // 0: the device's default
    uint8_t sl = 0;
    bool is_global = false;
    uint8_t sgid_index = 0;
};

// One send WQE, decoded (ibv_send_wr).
struct SendRequest {
    uint64_t wr_id = 0;
    uint8_t opcode = 0;         // wr:: (IBV_WR_*)
    bool signaled = false;      // IBV_SEND_SIGNALED
    bool solicited = false;     // IBV_SEND_SOLICITED
    bool fence = false;         // IBV_SEND_FENCE
    bool is_inline = false;     // IBV_SEND_INLINE: the payload is inline_data
    uint32_t imm_data = 0;      // network order, as ibv_send_wr.imm_data
    uint64_t remote_addr = 0;   // RDMA and atomics
    uint32_t rkey = 0;
    uint64_t compare_add = 0;   // atomics
    uint64_t swap = 0;
    UdAddress ud;               // UD QPs
    uint32_t num_sge = 0;       // <= kMaxSge
    std::array<Sge, kMaxSge> sge{};
    uint32_t inline_len = 0;    // bytes, <= kMaxInline
    std::array<uint8_t, kMaxInline> inline_data{};
};

// One receive WQE, decoded (ibv_recv_wr).
struct RecvRequest {
    uint64_t wr_id = 0;
    uint32_t num_sge = 0;       // <= kMaxSge
    std::array<Sge, kMaxSge> sge{};
    // SRQ WQEs form a free list (mlx5's next_wqe_index): the WQE the SRQ
    // takes after this one.
    uint16_t next = 0;
};

// One work completion (ibv_wc), plus what the formats' CQEs carry besides.
struct Completion {
    uint64_t wr_id = 0;
    uint8_t status = 0;         // wc:: (IBV_WC_*)
    uint8_t opcode = 0;         // wc::kOp* (ibv_wc_opcode)
    uint32_t vendor_err = 0;    // HCASIM_SYND_* or the wire's syndrome, on errors
    uint32_t byte_len = 0;      // bytes received, or the READ/atomic length
    uint32_t imm_data = 0;      // network order, with with_imm
    uint32_t qpn = 0;           // the local QP
    uint32_t src_qp = 0;        // the sender's QPN (UD), else the peer's
    uint32_t srqn = 0;          // the SRQ, for its receives
    uint16_t wqe_counter = 0;   // the completed WQE's index (mod 2^16)
    uint16_t pkey_index = 0;
    uint16_t slid = 0;
    uint8_t sl = 0;
    uint8_t dlid_path_bits = 0;
    bool is_recv = false;       // an RQ/SRQ completion
    bool with_imm = false;      // IBV_WC_WITH_IMM
    bool grh = false;           // IBV_WC_GRH: a 40-byte GRH precedes the data
    bool solicited = false;     // the message carried the SE bit
};

// One event queue entry: a completion event for a CQ, or an affiliated
// or port event (ibv_event_type) for an object.
struct EventEntry {
    uint8_t type = 0;           // HCASIM_EVENT_COMPLETION or HCASIM_EVENT_ASYNC
    uint8_t ibv_event = 0;      // ev:: (ibv_event_type), for async events
    uint32_t obj = 0;           // cqn, qpn, srqn or port number
};

}  // namespace hcasim::device
