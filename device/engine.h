// The RDMA engine: the data path of one HCA.  It owns the queue objects
// (UARs, EQs, CQs, QPs, SRQs), watches the UAR pages for doorbells, and
// runs the three roles of rxe's design over packets:
//   requester (requester.cpp): SQ WQEs -> request packets (PSNs, MTU
//     segmentation, READ/atomic limits, fences, retry and RNR timers);
//   responder (responder.cpp): request packets -> PSN and opcode-sequence
//     checks, rkey/PD/access/bounds checks, receive WQEs or SRQ, DMA,
//     ACK/NAK, READ responses, atomics, responder resources;
//   completer (completer.cpp): ACK/NAK/READ/atomic responses -> CQEs.
// Packets leave through the port backend; loopback hands them back to
// this engine.  Everything runs on the device's one thread.
//
// Source: IBTA vol 1 chapters 9-11; the kernel's rxe (rxe_req.c,
// rxe_resp.c, rxe_comp.c); abi/hcasim_abi.h for the queue formats.
#pragma once

#include "abi/hcasim_abi.h"
#include "common/trace.h"
#include "device/cq.h"
#include "device/mr_engine.h"
#include "device/object_table.h"
#include "device/packet.h"
#include "device/pd.h"
#include "device/platform.h"
#include "device/port.h"
#include "device/qp.h"
#include "device/queue_format.h"

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <vector>

namespace hcasim::device {

struct EngineLimits {
    uint32_t max_qp = 1u << 16;
    uint32_t max_qp_wr = 1u << 15;
    uint32_t max_sge = kMaxSge;
    uint32_t max_cq = 1u << 16;
    uint32_t max_cqe = 1u << 22;
    uint32_t max_srq = 1u << 14;
    uint32_t max_srq_wr = 1u << 15;
    uint32_t max_inline = kMaxInline;
    uint32_t max_rd_atom = 16;
    uint32_t max_eq = HCASIM_MAX_EQS;
    uint32_t max_msg = 1u << 31;
};

// Counters the inspection interface shows.
struct EngineStats {
    uint64_t wqes = 0, cqes = 0, packets = 0, acks = 0, naks = 0, rnr_naks = 0;
    uint64_t retries = 0, rx_dropped = 0, doorbells = 0, events = 0, cq_overflows = 0;
    uint64_t ack_timeouts = 0;   // RC ACK timer expiries (each a retransmission or the end)
    uint64_t reorder_held = 0;   // packets held in a reorder stash (ReorderStash)
};

class RdmaEngine {
public:
    // RC requester: how often a long SEND/WRITE asks for an ACK (BTH
    // AckReq), and the bounds of a QP's congestion window, in packets
    // sent and not yet answered (RequesterState::window: it starts at `init`, grows by
    // `ack_every` per window of acknowledged packets, and halves on a
    // loss, a PSN-sequence NAK or an ACK timeout, down to `min`, which
    // holds two AckReqs), by path MTU.  The maximum keeps one QP's
    // unanswered frames under what a switch port queues toward a receiver
    // that lags: a vde_switch port's socket has the default send buffer,
    // 212,992 bytes (net.core.wmem_default), which the kernel charges per
    // frame, ~2.3 KB for a frame of a 1024-byte MTU (about 92 fit), ~4.3 KB
    // for 2048 (49) and ~8.4 KB for 4096 (25).  A larger window only turns
    // a busy receiver into switch drops and go-back-N.
    struct RcWindow {
        uint32_t ack_every, min, init, max;
    };
    static constexpr RcWindow rc_window(uint32_t path_mtu) {
        if (path_mtu >= 4096) return {8, 16, 24, 24};
        if (path_mtu >= 2048) return {8, 16, 32, 44};
        return {16, 32, 64, 80};
    }

    // `platform` gives DMA, MSI-X and the clock; `format` reads WQEs and
    // writes CQEs and EQEs (device/queue_format.h); `uar_area` is BAR2's
    // UAR pages (page 0 the status page, then HCASIM_NUM_UARS UAR pages of
    // HCASIM_UAR_PAGE_SIZE bytes), which the engine scans for doorbells;
    // `pds`: the PD table, whose users the engine's QPs and SRQs count in.
    RdmaEngine(Platform& platform, QueueFormat& format, uint8_t* uar_area, MrEngine mr, PdTable& pds,
               const EngineLimits& limits, Tracer& trace);
    ~RdmaEngine();
    RdmaEngine(const RdmaEngine&) = delete;
    RdmaEngine& operator=(const RdmaEngine&) = delete;

    // ---- objects (the firmware validates commands, then calls these) ----
    struct UarState {
        bool in_use = false;
        uint32_t owner = 0;
        uint32_t last_kick = 0;
        std::vector<uint32_t> qps, cqs, srqs;
    };
    // UAR index 1..HCASIM_NUM_UARS.  Channel UARs are opened by the HCA
    // when a channel is claimed.
    void open_uar(uint32_t uar, uint32_t owner);
    void close_uar(uint32_t uar);
    std::optional<uint32_t> alloc_uar(uint32_t owner);  // a non-channel UAR
    UarState* uar(uint32_t index);

    // Creating a queue object: the engine takes it with its references
    // (a QP on its PD, CQs, SRQ and async EQ; a CQ on its EQs; an SRQ on
    // its PD and EQ) and puts it in its UAR's doorbell scan.  The firmware
    // has validated every handle.  nullopt when the table is full.
    std::optional<uint32_t> create_eq(Eq eq, uint32_t owner);
    std::optional<uint32_t> create_cq(Cq cq, uint32_t owner);
    std::optional<uint32_t> create_qp(Qp qp, uint32_t owner);
    std::optional<uint32_t> create_srq(Srq srq, uint32_t owner);
    // Destroying one for its owner: NotFound for another channel's, Busy
    // while others use it; else no CQE or event for it after this
    // returns, and its references are given back (the tables' cleanup
    // hooks).
    DestroyResult destroy_eq(uint32_t eqn, uint32_t owner) { return eqs.destroy(eqn, owner); }
    DestroyResult destroy_cq(uint32_t cqn, uint32_t owner) { return cqs.destroy(cqn, owner); }
    DestroyResult destroy_qp(uint32_t qpn, uint32_t owner) { return qps.destroy(qpn, owner); }
    DestroyResult destroy_srq(uint32_t srqn, uint32_t owner) { return srqs.destroy(srqn, owner); }
    // The objects, read-only (commands validate and query through these).
    const ObjectTable<Eq>& eq_table() const { return eqs; }
    const ObjectTable<Cq>& cq_table() const { return cqs; }
    const ObjectTable<Qp>& qp_table() const { return qps; }
    const ObjectTable<Srq>& srq_table() const { return srqs; }
    // MODIFY_SRQ: arms the SRQ limit event at `limit` WQEs (0: disarmed).
    void set_srq_limit(uint32_t srqn, uint32_t limit);

    // Applies a validated MODIFY_QP (side effects of the transition:
    // RESET clears the queues, ERR flushes, RTR/RTS set PSNs).
    void modify_qp(uint32_t qpn, uint32_t attr_mask, const hcasim_qp_attr& attr);
    // Moves the unpolled CQEs to a new ring (MODIFY_CQ); returns how many,
    // or -1 if the new ring is too small (or a DMA fault, -2).
    int resize_cq(uint32_t cqn, uint32_t log_size, QueueRing ring);

    // ---- port ----
    void set_port(const PortConfig& cfg, PortBackend* backend);
    const PortConfig& port() const { return port_; }
    bool port_active() const { return backend_ && backend_->link_up(); }
    const Gid& gid(uint32_t index) const { return gids_[index % 2]; }
    bool is_local_gid(const Gid& g) const;
    // A packet arrived from the port backend; it is queued and handled
    // by the next poll() (the payload must outlive the call: p.owned).
    void receive(Packet& p);
    // A packet arrived from the wire: handled now when nothing is queued
    // before it (its payload, p.data, need only be valid for this call),
    // else queued like receive() with its payload copied.  The ACKs it
    // makes wait for flush_rx(), so one batch of frames gets one ACK.
    void deliver(Packet& p);
    // The end of a batch of deliver()ed packets: queued packets are
    // handled and the coalesced ACKs go.
    void flush_rx() { drain_rx(); }
    // Packets received and not yet handled (a backend bounds this).
    size_t rx_pending() const { return rx_.size(); }
    // The backend's link went up or down: the status page's port state
    // follows, and every async EQ gets IBV_EVENT_PORT_ACTIVE or
    // IBV_EVENT_PORT_ERR (IBTA 11.6.3.1, affiliated with port 1).
    void port_changed();

    // ---- running ----
    // Scans the UARs, runs ready QPs, fires timers.  Returns true if it
    // did any work (the caller keeps polling while work flows).
    bool poll();
    // Earliest timer deadline (ns), or 0 when no timer is armed.
    uint64_t next_deadline() const;
    // Kick: a UAR doorbell arrived through the trapped WAKE register.
    void kick(uint32_t uar);

    // Destroys every object `owner` created (the channel was released).
    void release_owner(uint32_t owner);
    // Device reset.
    void reset();

    void set_trace_datapath(bool on) { trace_dp_ = on; }
    const EngineStats& stats() const { return stats_; }
    hcasim_status_page* status_page() { return reinterpret_cast<hcasim_status_page*>(uar_area_); }
    Platform& platform() { return platform_; }
    uint64_t now_ns() const { return platform_.now_ns(); }

    // ---- completion and event delivery (used by the roles) ----
    // Writes completion `c` (of QP c.qpn) to CQ `cqn` in the queue
    // format; raises the CQ's event when armed.
    void post_cqe(uint32_t cqn, const Completion& c);
    // Writes an EQE and raises the EQ's interrupt.
    void post_event(uint32_t eqn, uint8_t type, uint8_t ibv_event, uint32_t obj);

private:
    // The responder's and completer's stages (device/role_stages.h): one
    // packet's context and the step table, in responder.cpp and
    // completer.cpp.
    struct RespCtx;
    struct Responder;
    struct CompCtx;
    struct Completer;

    // requester.cpp
    void schedule(uint32_t qpn, Qp& qp);
    bool run_requester(uint32_t qpn, Qp& qp, uint32_t budget);
    // RC: packets sent and not yet answered, from the oldest unanswered
    // PSN up to (not including) the next packet of `next`.
    uint32_t unanswered(const Qp& qp, const SendWqe& next) const;
    bool fetch_wqe(uint32_t qpn, Qp& qp);
    bool send_packet_of(uint32_t qpn, Qp& qp, SendWqe& w);
    void complete_send(uint32_t qpn, Qp& qp, SendWqe& w, uint8_t status, uint32_t vendor_err);
    void rewind(uint32_t qpn, Qp& qp, uint32_t psn);
    // The window of unanswered packets (RequesterState::window): a loss halves it; acknowledged
    // packets grow it.
    void on_loss(Qp& qp);
    void on_acked(Qp& qp, uint32_t packets);
    // READ: how many response packets the next request of w asks for (the
    // whole rest, or after a loss a piece the window has room for), 0 to
    // wait for room.
    uint32_t read_chunk(const Qp& qp, const SendWqe& w, uint32_t out) const;
    // Responder ACKs are coalesced: send_ack() of a positive ACK only
    // records it (Qp::ack_due); flush_ack() sends a QP's, flush_acks()
    // every QP's, at the end of drain_rx() and before any other response
    // of that QP.
    void flush_ack(Qp& qp);
    void flush_acks();
    // An ACK or atomic ACK of this QP: its route, PSN, AETH syndrome and MSN.
    Packet response(Qp& qp, uint8_t opcode, uint32_t psn, uint8_t syndrome);
    void arm_ack_timer(uint32_t qpn, Qp& qp);
    // Queues a timer check for `qpn` at `deadline` (ns).  The heap keeps
    // (deadline, qpn) pairs; an entry whose QP is gone or no longer has
    // that deadline is stale and skipped, so clearing a deadline needs no
    // heap work.
    void add_timer(uint32_t qpn, uint64_t deadline);
    // A gap closed and the stash still holds packets: their wait starts now.
    void restart_wait(uint32_t qpn, ReorderStash& stash);
    // responder.cpp
    void respond(Qp& qp, uint32_t qpn, Packet& p);
    void send_ack(Qp& qp, uint32_t qpn, const Packet& req, uint8_t syndrome, uint32_t psn);
    RecvTake take_recv_wqe(Qp& qp, uint32_t qpn);
    // An SRQ whose doorbell or ring is unusable: IBV_EVENT_SRQ_ERR, once.
    void srq_error(uint32_t srqn, Srq& s, const char* why);
    void complete_recv(Qp& qp, uint32_t qpn, uint8_t status, uint8_t opcode, uint32_t byte_len,
                       const Packet* p, uint32_t vendor_err);
    // The request's PSN checked: in order, ahead (held or NAK'd) or a
    // duplicate (answered again from the responder resources or memory).
    void respond_one(Qp& qp, uint32_t qpn, Packet& p);
    void request_ahead(Qp& qp, uint32_t qpn, Packet& p);
    void duplicate_request(Qp& qp, uint32_t qpn, Packet& p);
    void send_seq_nak(Qp& qp, uint32_t qpn, const Packet& p);
    void send_rnr_nak(Qp& qp, uint32_t qpn, const Packet& p);
    // The held requests waited ReorderStash::kWaitNs: a PSN-sequence NAK.
    void on_reorder_timeout(uint32_t qpn, Qp& qp);
    bool read_allowed(const Qp& qp, const Packet& p);
    // `npkts` READ responses to `req` (RETH: va, rkey, dma_len), from its PSN.
    void send_read_responses(Qp& qp, uint32_t qpn, const Packet& req, uint32_t npkts);
    // completer.cpp
    void complete(Qp& qp, uint32_t qpn, Packet& p);
    void complete_one(Qp& qp, uint32_t qpn, Packet& p);
    // The front WQE's next expected response PSN, if it is a READ or an
    // atomic (responses to those come in PSN order).
    std::optional<uint32_t> expected_response(const Qp& qp) const;
    // A READ response went missing: asked again from the first missing
    // one (once until one lands).
    void read_gap(uint32_t qpn, Qp& qp);
    void on_ack_timeout(uint32_t qpn, Qp& qp);
    void on_response_reorder_timeout(uint32_t qpn, Qp& qp);
    // Retires the front WQE with `status` (the QP goes to ERR unless it
    // is a success).
    void retire_front(uint32_t qpn, Qp& qp, uint8_t status, uint32_t vendor_err = 0);
    void qp_error(uint32_t qpn, Qp& qp, uint8_t event);
    void flush(uint32_t qpn, Qp& qp);
    // engine.cpp
    // A CQ overran or its ring faulted: it stops taking CQEs, raises
    // IBV_EVENT_CQ_ERR, and every QP on it is queued to go to ERR.
    void cq_error(uint32_t cqn, Cq& cq, const char* why);
    // Moves the QPs queued by cq_error (and QPs that completed into a CQ
    // in error) to ERR with IBV_EVENT_QP_FATAL.  Called at the top level
    // only (end of poll, kick, modify_qp), never inside a role, which may
    // hold references into the QP's queues.
    void fail_pending();
    void scan_uar(uint32_t index, UarState& u);
    void check_cq_arm(uint32_t cqn, Cq& cq);
    // Fires the timers due now; true if any was due.
    bool fire_timers();
    void emit(Packet& p);
    // Hands one received packet to its QP's responder or completer.
    void dispatch(Packet& p);
    // A received packet dropped: counted on its QP (if any) and in the
    // stats, and traced with the reason when data-path tracing is on.
    void drop_packet(Qp* qp, uint32_t qpn, const Packet& p, const char* why);
    void drain_rx();
    void detach(std::vector<uint32_t>& list, uint32_t handle);
    SendWqe* current_send(Qp& qp);
    void fill_route(const Qp& qp, Packet& p) const;

    // The object tables (their cleanup hooks are set in the constructor).
    PdTable& pds_;
    ObjectTable<Eq> eqs;
    ObjectTable<Cq> cqs;
    ObjectTable<Qp> qps;
    ObjectTable<Srq> srqs;
    // The cleanup hooks: what each queue object gives back as it goes.
    void release_qp(uint32_t qpn, Qp& qp);
    void release_cq(uint32_t cqn, Cq& cq);
    void release_srq(uint32_t srqn, Srq& s);

    Platform& platform_;
    QueueFormat& format_;
    uint8_t* uar_area_;
    MrEngine mr_;
    EngineLimits limits_;
    Tracer& trace_;
    bool trace_dp_ = false;
    PortConfig port_;
    Gid gids_[2]{};
    PortBackend* backend_ = nullptr;
    std::vector<UarState> uars_;           // index 0 unused (status page)
    std::vector<uint32_t> active_uars_;
    std::deque<uint32_t> ready_;           // QPs with requester work
    using Timer = std::pair<uint64_t, uint32_t>;  // (deadline ns, qpn)
    std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
    std::deque<Packet> rx_;                // packets delivered by loopback
    std::vector<uint32_t> acks_due_;       // QPs with a coalesced ACK to send (Qp::ack_due)
    std::vector<uint32_t> pending_fatal_;  // QPs on a CQ in error (fail_pending)
    bool in_rx_ = false;
    EngineStats stats_;
};

const char* wc_status_name(uint8_t status);

}  // namespace hcasim::device
