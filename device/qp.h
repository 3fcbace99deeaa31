// Queue pairs and shared receive queues as the device keeps them: the
// attributes the IB state machine gives them, where their WQE rings sit,
// and the three engine roles' state (rxe's requester, responder and
// completer): PSNs, outstanding WQEs, the message in progress, responder
// resources for READ/atomic replay, retry and RNR timers.
//
// Source: IBTA vol 1 9.7 (RC: PSNs, ACK/NAK, retry), 10.3 (QP states),
// 9.7.5.2.8 (RNR timer), 9.5 (responder resources); the kernel's rxe.
#pragma once

#include "abi/hcasim_abi.h"
#include "device/queue_format.h"
#include "device/queue_ring.h"
#include "device/reorder_stash.h"
#include "device/ring_deque.h"
#include "device/work_request.h"

#include <array>
#include <iterator>
#include <cstdint>

namespace hcasim::device {

// IBV_QPS_* and IBV_QPT_* (rdma-core values).
namespace qps {
inline constexpr uint32_t kReset = 0, kInit = 1, kRtr = 2, kRts = 3, kSqd = 4, kSqe = 5, kErr = 6;
// The state's name as the trace prints it ("RTS"); "UNKNOWN" beyond ERR.
inline const char* name(uint32_t state) {
    static constexpr const char* kNames[] = {"RESET", "INIT", "RTR", "RTS", "SQD", "SQE", "ERR"};
    return state <= kErr ? kNames[state] : "UNKNOWN";
}
}  // namespace qps
namespace qpt {
inline constexpr uint32_t kRc = 2, kUc = 3, kUd = 4;
}
// IBV_QP_* attribute-mask bits (rdma-core values).
namespace qpa {
inline constexpr uint32_t kState = 1u << 0, kCurState = 1u << 1, kEnSqdAsyncNotify = 1u << 2,
                          kAccessFlags = 1u << 3, kPkeyIndex = 1u << 4, kPort = 1u << 5,
                          kQkey = 1u << 6, kAv = 1u << 7, kPathMtu = 1u << 8, kTimeout = 1u << 9,
                          kRetryCnt = 1u << 10, kRnrRetry = 1u << 11, kRqPsn = 1u << 12,
                          kMaxQpRdAtomic = 1u << 13, kAltPath = 1u << 14, kMinRnrTimer = 1u << 15,
                          kSqPsn = 1u << 16, kMaxDestRdAtomic = 1u << 17, kPathMigState = 1u << 18,
                          kCap = 1u << 19, kDestQpn = 1u << 20, kRateLimit = 1u << 25;
}
// ibv_wc_status / ibv_wc_opcode / ibv_wr_opcode / ibv_event_type values.
namespace wc {
inline constexpr uint8_t kSuccess = 0, kLocLenErr = 1, kLocQpOpErr = 2, kLocEecOpErr = 3,
                         kLocProtErr = 4, kWrFlushErr = 5, kMwBindErr = 6, kBadRespErr = 7,
                         kLocAccessErr = 8, kRemInvReqErr = 9, kRemAccessErr = 10, kRemOpErr = 11,
                         kRetryExcErr = 12, kRnrRetryExcErr = 13, kFatalErr = 19, kGeneralErr = 21;
inline constexpr uint8_t kOpSend = 0, kOpRdmaWrite = 1, kOpRdmaRead = 2, kOpCompSwap = 3,
                         kOpFetchAdd = 4, kOpRecv = 128, kOpRecvRdmaWithImm = 129;
// The names the trace prints (rdma-core's, without the prefix).
inline const char* op_name(uint8_t op) {
    switch (op) {
    case kOpSend: return "SEND";
    case kOpRdmaWrite: return "RDMA_WRITE";
    case kOpRdmaRead: return "RDMA_READ";
    case kOpCompSwap: return "COMP_SWAP";
    case kOpFetchAdd: return "FETCH_ADD";
    case kOpRecv: return "RECV";
    case kOpRecvRdmaWithImm: return "RECV_RDMA_WITH_IMM";
    default: return "UNKNOWN";
    }
}
}  // namespace wc
namespace wr {
inline constexpr uint8_t kRdmaWrite = 0, kRdmaWriteImm = 1, kSend = 2, kSendImm = 3, kRdmaRead = 4,
                         kCompSwap = 5, kFetchAdd = 6;
inline const char* name(uint8_t op) {
    static constexpr const char* kNames[] = {"RDMA_WRITE", "RDMA_WRITE_WITH_IMM", "SEND", "SEND_WITH_IMM",
                                             "RDMA_READ", "ATOMIC_CMP_AND_SWP", "ATOMIC_FETCH_AND_ADD"};
    return op <= kFetchAdd ? kNames[op] : "UNKNOWN";
}
}
namespace ev {
inline constexpr uint8_t kCqErr = 0, kQpFatal = 1, kQpReqErr = 2, kQpAccessErr = 3, kCommEst = 4,
                         kSqDrained = 5, kPortActive = 9, kPortErr = 10, kSrqErr = 14,
                         kSrqLimitReached = 15, kQpLastWqeReached = 16, kNone = 255;
inline const char* name(uint8_t e) {
    static constexpr const char* kNames[] = {
        "CQ_ERR",       "QP_FATAL",   "QP_REQ_ERR", "QP_ACCESS_ERR",     "COMM_EST",
        "SQ_DRAINED",   "PATH_MIG",   "PATH_MIG_ERR", "DEVICE_FATAL",    "PORT_ACTIVE",
        "PORT_ERR",     "LID_CHANGE", "PKEY_CHANGE", "SM_CHANGE",        "SRQ_ERR",
        "SRQ_LIMIT_REACHED", "QP_LAST_WQE_REACHED", "CLIENT_REREGISTER", "GID_CHANGE", "WQ_FATAL"};
    return e < std::size(kNames) ? kNames[e] : "NONE";
}
}

// One send WQE the requester has taken from the SQ: the decoded request
// and the requester's progress through it.
struct SendWqe {
    uint32_t index = 0;          // SQ counter value
    SendRequest wr;
    uint32_t length = 0;         // bytes of the message
    uint32_t first_psn = 0;
    uint32_t npkts = 0;          // PSNs the message uses
    uint32_t next_pkt = 0;       // packets sent (requests) so far
    bool rd_atomic = false;      // READ or atomic
    bool counted = false;        // READ/atomic: counted in rd_atomic_out
    bool completed = false;      // its error CQE is written: a flush skips it
    bool all_sent = false;       // every packet went out once (a rewind does not clear it):
                                 // an ACK beyond it retires it
    uint32_t resp_bytes = 0;     // READ: response bytes landed
    bool rerequest = false;      // READ: asked again after a loss; the rest goes in
                                 // requests of at most the window (RdmaEngine::read_chunk)
    uint32_t acked_pkts = 0;     // SEND/WRITE: packets a positive ACK covered (a
                                 // retransmission starts after them)
    uint32_t last_psn() const { return (first_psn + npkts - 1) & 0xffffff; }
};

// What taking a receive WQE gave (RdmaEngine::take_recv_wqe).
enum class RecvTake {
    Ok,      // qp.rwqe holds it
    Rnr,     // the queue is empty
    BadWqe,  // the WQE itself is malformed: it completes with IBV_WC_LOC_QP_OP_ERR
    Fatal,   // the queue is broken (doorbell beyond the ring, ring unreadable,
             // SRQ in error): the QP goes to ERR with IBV_EVENT_QP_FATAL
};

struct RecvWqe {
    RecvRequest wr;
    uint32_t length = 0;         // bytes the SGEs hold
    uint16_t wqe_counter = 0;    // index in the RQ/SRQ ring
};

struct RdAtomicResource {
    bool valid = false;
    bool atomic = false;
    uint32_t psn = 0;            // request PSN
    uint32_t npkts = 1;          // response packets
    uint64_t va = 0;
    uint32_t rkey = 0;
    uint32_t length = 0;
    uint64_t orig = 0;           // atomic: value returned the first time
};

// What CREATE_QP fixes for the QP's life: listed once, here.
struct QpConfig {
    uint32_t type = 0;           // qpt::
    uint32_t pdn = 0;
    uint32_t send_cqn = 0, recv_cqn = 0, srqn = 0;
    uint32_t uar = 0;
    uint32_t async_eqn = HCASIM_EQN_NONE;
    uint32_t log_sq_size = 0, log_sq_stride = 0, log_rq_size = 0, log_rq_stride = 0;
    uint32_t sq_offset = 0;      // bytes from the buffer's start to the SQ
    uint32_t max_send_sge = 0, max_recv_sge = 0, max_inline = 0;
    bool sq_sig_all = false;

    uint32_t sq_entries() const { return 1u << log_sq_size; }
    uint32_t rq_entries() const { return 1u << log_rq_size; }
};

// The requester (rxe_req.c): WQEs taken from the SQ, PSNs, the packets
// of the WQE being sent, and the window of unanswered packets.
struct RequesterState {
    uint32_t sq_pi_seen = 0;     // SQ producer index last read
    uint32_t sq_head = 0;        // next SQ counter to take
    uint32_t next_psn = 0;       // PSN for the next new WQE
    RingDeque<SendWqe> inflight; // taken, not yet completed
    uint32_t send_pos = 0;       // index in inflight of the WQE being sent
    uint32_t rd_atomic_out = 0;  // READ/atomic requests outstanding
    // Unanswered packets allowed out (RdmaEngine::rc_window bounds it),
    // and the packets acknowledged towards its next increase.
    uint32_t window = 64;
    uint32_t window_acked = 0;
};

// The completer (rxe_comp.c): retry counters, the ACK and RNR timers,
// and what recovery is under way.
struct CompleterState {
    // The ACK timeout doubles with each timeout in a row that brings no
    // progress, up to 2^kMaxBackoff times the QP's (as ConnectX's adaptive
    // retransmission doubles it): a peer that a busy host slows down gets
    // retry_cnt + 1 tries over 47 timeouts' time, not 8, while a lost
    // packet is still resent after one.
    static constexpr uint32_t kMaxBackoff = 3;
    uint32_t backoff = 0;        // timeouts in a row without progress
    uint32_t retry_left = 7, rnr_left = 7;
    uint64_t ack_deadline = 0;   // ns; 0 = no timer
    uint64_t rnr_deadline = 0;   // ns; 0 = not waiting
    // A READ response went missing and the READ was asked again: the
    // responses still in flight are dropped quietly until the expected
    // PSN comes (one retry per loss, not one per late packet).
    bool read_gap_retry = false;
    // The requester went back to `rewound_psn` for a NAK (PSN sequence or
    // RNR) and has made no progress since: a sequence NAK for that same
    // PSN only echoes it and costs no retry (completer.cpp).
    bool rewound = false;
    uint32_t rewound_psn = 0;
    ReorderStash stash;          // READ responses / atomic ACKs ahead of the expected PSN
};

// The responder (rxe_resp.c): the expected PSN, the message being
// received, the responder resources that answer duplicate READs and
// atomics, NAK state and the coalesced ACK.
struct ResponderState {
    uint32_t epsn = 0;           // expected PSN
    uint32_t msn = 0;
    uint32_t rq_ci = 0;          // own RQ WQEs consumed
    bool in_send = false, in_write = false;
    // A NAK (PSN sequence or RNR) for nak_psn is outstanding: requests
    // beyond the expected PSN are dropped silently until the requester
    // comes back (responder.cpp: at most one NAK per PSN, IBTA 9.7.5.2.1).
    bool nak_pending = false;
    uint32_t nak_psn = 0;
    ReorderStash stash;          // requests ahead of the expected PSN
    bool ack_due = false;        // a coalesced ACK waits (RdmaEngine::flush_ack)
    uint32_t ack_due_psn = 0;    // the PSN it acknowledges
    uint32_t ack_sent_psn = 0;   // the PSN of the last ACK sent
    bool has_rwqe = false;
    RecvWqe rwqe;
    uint32_t recv_offset = 0;    // bytes scattered into rwqe
    uint64_t write_va = 0;
    uint32_t write_rkey = 0;
    uint32_t write_left = 0;     // bytes the RETH announced and not yet written
    uint32_t write_len = 0;
    // Responder resources (IBTA 9.5: max_dest_rd_atomic of them in use),
    // a ring; next_resource is the next to fill.
    std::array<RdAtomicResource, 16> resources{};
    uint32_t next_resource = 0;
    bool uc_drop = false;        // UC: drop until the next FIRST/ONLY
};

struct Qp : QpConfig {
    QueueRing buf;
    // State and attributes (hcasim_qp_attr as last modified)
    uint32_t state = qps::kReset;
    hcasim_qp_attr attr{};
    uint32_t mtu = 1024;         // path MTU, bytes
    bool scheduled = false;      // in the engine's ready list
    uint64_t rx_dropped = 0;     // packets dropped at this QP

    RequesterState req;
    CompleterState comp;
    ResponderState resp;

    // The send and receive queues in the QP's buffer.
    WorkQueueRing sq() { return {buf, sq_offset, sq_entries(), log_sq_stride}; }
    WorkQueueRing rq() { return {buf, 0, rq_entries(), log_rq_stride}; }

    // MODIFY_QP to RESET: the roles start afresh; configuration and ring stay.
    void reset_roles() {
        state = qps::kReset;
        attr = {};
        mtu = 1024;
        scheduled = false;
        rx_dropped = 0;
        req = {};
        comp = {};
        resp = {};
    }
};

struct Srq {
    uint32_t pdn = 0;
    uint32_t uar = 0;
    uint32_t async_eqn = HCASIM_EQN_NONE;
    uint32_t log_size = 0, log_stride = 0, max_sge = 0;
    uint32_t limit = 0;          // 0: disarmed
    QueueRing buf;
    uint32_t consumed = 0;       // WQEs taken
    uint16_t next = 0;           // index of the next WQE to take
    bool error = false;          // doorbell or ring fault: IBV_EVENT_SRQ_ERR raised
    uint32_t entries() const { return 1u << log_size; }
    WorkQueueRing ring() { return {buf, 0, entries(), log_stride}; }
};

}  // namespace hcasim::device
