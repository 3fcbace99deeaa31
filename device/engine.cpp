// RDMA engine: objects, doorbells, scheduling, timers, CQE and EQE
// delivery (see engine.h).  The roles are in requester.cpp,
// responder.cpp and completer.cpp.
#include "device/engine.h"
#include "device/opcodes.h"

#include <algorithm>
#include <atomic>
#include <cstring>

namespace hcasim::device {

namespace {
const char* event_type_name(uint8_t type) {
    return type == HCASIM_EVENT_COMPLETION ? "completion" : type == HCASIM_EVENT_ASYNC ? "async" : "unknown";
}
}  // namespace

const char* wc_status_name(uint8_t s) {
    static constexpr const char* kNames[] = {
        "SUCCESS", "LOC_LEN_ERR", "LOC_QP_OP_ERR", "LOC_EEC_OP_ERR", "LOC_PROT_ERR",
        "WR_FLUSH_ERR", "MW_BIND_ERR", "BAD_RESP_ERR", "LOC_ACCESS_ERR", "REM_INV_REQ_ERR",
        "REM_ACCESS_ERR", "REM_OP_ERR", "RETRY_EXC_ERR", "RNR_RETRY_EXC_ERR", "LOC_RDD_VIOL_ERR",
        "REM_INV_RD_REQ_ERR", "REM_ABORT_ERR", "INV_EECN_ERR", "INV_EEC_STATE_ERR", "FATAL_ERR",
        "RESP_TIMEOUT_ERR", "GENERAL_ERR"};
    return s < std::size(kNames) ? kNames[s] : "?";
}

RdmaEngine::RdmaEngine(Platform& platform, QueueFormat& format, uint8_t* uar_area, MrEngine mr, PdTable& pds,
                       const EngineLimits& limits, Tracer& trace)
    : pds_(pds),
      eqs("eq", limits.max_eq),
      cqs("cq", limits.max_cq),
      qps("qp", limits.max_qp),
      srqs("srq", limits.max_srq),
      platform_(platform),
      format_(format),
      uar_area_(uar_area),
      mr_(std::move(mr)),
      limits_(limits),
      trace_(trace),
      uars_(HCASIM_NUM_UARS + 1) {
    set_port(port_, nullptr);
    qps.set_cleanup([this](uint32_t h, Qp& qp) { release_qp(h, qp); });
    cqs.set_cleanup([this](uint32_t h, Cq& cq) { release_cq(h, cq); });
    srqs.set_cleanup([this](uint32_t h, Srq& s) { release_srq(h, s); });
}

RdmaEngine::~RdmaEngine() = default;

// ---- port ----------------------------------------------------------------

void RdmaEngine::set_port(const PortConfig& cfg, PortBackend* backend) {
    port_ = cfg;
    backend_ = backend;
    gids_[0] = link_local_gid(cfg.mac);
    gids_[1] = ipv4_mapped_gid(cfg.ipv4);
    if (auto* st = status_page()) st->port_state = port_active() ? 4 /*ACTIVE*/ : 1 /*DOWN*/;
}

void RdmaEngine::port_changed() {
    const bool up = port_active();
    if (auto* st = status_page()) st->port_state = up ? 4 /*ACTIVE*/ : 1 /*DOWN*/;
    trace::port_state(trace_, 1, up ? "ACTIVE" : "DOWN");
    std::vector<uint32_t> async;
    eqs.for_each([&](uint32_t h, Eq& eq) {
        if (eq.async) async.push_back(h);
    });
    for (uint32_t eqn : async) post_event(eqn, HCASIM_EVENT_ASYNC, up ? ev::kPortActive : ev::kPortErr, 1);
}

bool RdmaEngine::is_local_gid(const Gid& g) const { return g == gids_[0] || g == gids_[1]; }

void RdmaEngine::emit(Packet& p) {
    ++stats_.packets;
    if (!backend_ || !backend_->link_up()) {
        ++stats_.rx_dropped;
        return;
    }
    backend_->send(p);
}

void RdmaEngine::receive(Packet& p) { rx_.push_back(std::move(p)); }

void RdmaEngine::deliver(Packet& p) {
    if (in_rx_ || !rx_.empty()) {
        // Behind others (or from inside the engine): queued, in order.
        if (p.len && p.data != p.owned.data()) {
            p.owned.assign(p.data, p.data + p.len);
            p.data = p.owned.data();
        }
        receive(p);
        return;
    }
    in_rx_ = true;
    dispatch(p);
    in_rx_ = false;
}

void RdmaEngine::dispatch(Packet& p) {
    const OpInfo& op = op_info(p.opcode);
    Qp* qp = qps.find(p.dest_qp);
    if (!op.name || !qp) return drop_packet(qp, p.dest_qp, p, op.name ? "unknown QPN" : "unknown opcode");
    if (op.flags & kRequest) respond(*qp, p.dest_qp, p);
    else complete(*qp, p.dest_qp, p);
}

void RdmaEngine::drop_packet(Qp* qp, uint32_t qpn, const Packet& p, const char* why) {
    if (qp) ++qp->rx_dropped;
    ++stats_.rx_dropped;
    if (!trace_dp_) return;
    const char* name = op_info(p.opcode).name;
    trace::rx_drop(trace_, qpn, name ? std::string(name) : fmt::format("{:#x}", p.opcode), p.psn, why);
}

void RdmaEngine::drain_rx() {
    if (in_rx_) return;
    in_rx_ = true;
    for (;;) {
        while (!rx_.empty()) {
            Packet p = std::move(rx_.front());
            rx_.pop_front();
            dispatch(p);
        }
        // The packets received together are handled: their coalesced
        // ACKs go (over loopback they come back at once, hence the loop).
        if (acks_due_.empty()) break;
        flush_acks();
    }
    in_rx_ = false;
}

// ---- UARs and doorbells ----------------------------------------------------

RdmaEngine::UarState* RdmaEngine::uar(uint32_t index) {
    return index >= 1 && index < uars_.size() && uars_[index].in_use ? &uars_[index] : nullptr;
}

void RdmaEngine::open_uar(uint32_t index, uint32_t owner) {
    if (index < 1 || index >= uars_.size()) return;
    UarState& u = uars_[index];
    if (u.in_use) return;
    u = UarState{};
    u.in_use = true;
    u.owner = owner;
    auto* page = reinterpret_cast<hcasim_uar*>(uar_area_ + index * HCASIM_UAR_PAGE_SIZE);
    std::memset(page, 0, HCASIM_UAR_PAGE_SIZE);
    active_uars_.push_back(index);
}

void RdmaEngine::close_uar(uint32_t index) {
    if (!uar(index)) return;
    uars_[index] = UarState{};
    std::erase(active_uars_, index);
}

std::optional<uint32_t> RdmaEngine::alloc_uar(uint32_t owner) {
    for (uint32_t i = HCASIM_CHANNEL_UAR(HCASIM_NUM_CHANNELS); i < uars_.size(); ++i) {
        if (uars_[i].in_use) continue;
        open_uar(i, owner);
        return i;
    }
    return std::nullopt;
}

void RdmaEngine::detach(std::vector<uint32_t>& list, uint32_t handle) { std::erase(list, handle); }

// ---- objects: creation takes references, the cleanup hooks give them back ----

std::optional<uint32_t> RdmaEngine::create_eq(Eq eq, uint32_t owner) { return eqs.insert(std::move(eq), owner); }

std::optional<uint32_t> RdmaEngine::create_cq(Cq cq, uint32_t owner) {
    const uint32_t uar_index = cq.uar, eqn = cq.eqn, async_eqn = cq.async_eqn;
    auto cqn = cqs.insert(std::move(cq), owner);
    if (!cqn) return cqn;
    if (eqn != HCASIM_EQN_NONE) eqs.get(eqn);
    if (async_eqn != HCASIM_EQN_NONE) eqs.get(async_eqn);
    if (UarState* u = uar(uar_index)) u->cqs.push_back(*cqn);
    return cqn;
}

std::optional<uint32_t> RdmaEngine::create_qp(Qp qp, uint32_t owner) {
    const QpConfig cfg = qp;
    auto qpn = qps.insert(std::move(qp), owner);
    if (!qpn) return qpn;
    pds_.get(cfg.pdn);
    cqs.get(cfg.send_cqn);
    cqs.get(cfg.recv_cqn);
    if (cfg.srqn) srqs.get(cfg.srqn);
    if (cfg.async_eqn != HCASIM_EQN_NONE) eqs.get(cfg.async_eqn);
    if (UarState* u = uar(cfg.uar)) u->qps.push_back(*qpn);
    return qpn;
}

std::optional<uint32_t> RdmaEngine::create_srq(Srq srq, uint32_t owner) {
    const uint32_t pdn = srq.pdn, uar_index = srq.uar, async_eqn = srq.async_eqn;
    auto srqn = srqs.insert(std::move(srq), owner);
    if (!srqn) return srqn;
    pds_.get(pdn);
    if (async_eqn != HCASIM_EQN_NONE) eqs.get(async_eqn);
    if (UarState* u = uar(uar_index)) u->srqs.push_back(*srqn);
    return srqn;
}

void RdmaEngine::release_qp(uint32_t qpn, Qp& qp) {
    if (UarState* u = uar(qp.uar)) detach(u->qps, qpn);
    pds_.put(qp.pdn);
    cqs.put(qp.send_cqn);
    cqs.put(qp.recv_cqn);
    if (qp.srqn) srqs.put(qp.srqn);
    if (qp.async_eqn != HCASIM_EQN_NONE) eqs.put(qp.async_eqn);
    std::erase(ready_, qpn);
}

void RdmaEngine::release_cq(uint32_t cqn, Cq& cq) {
    if (UarState* u = uar(cq.uar)) detach(u->cqs, cqn);
    if (cq.eqn != HCASIM_EQN_NONE) eqs.put(cq.eqn);
    if (cq.async_eqn != HCASIM_EQN_NONE) eqs.put(cq.async_eqn);
}

void RdmaEngine::release_srq(uint32_t srqn, Srq& s) {
    if (UarState* u = uar(s.uar)) detach(u->srqs, srqn);
    pds_.put(s.pdn);
    if (s.async_eqn != HCASIM_EQN_NONE) eqs.put(s.async_eqn);
}

void RdmaEngine::set_srq_limit(uint32_t srqn, uint32_t limit) {
    if (Srq* s = srqs.find(srqn)) s->limit = limit;
}

void RdmaEngine::kick(uint32_t index) {
    if (UarState* u = uar(index)) {
        ++stats_.doorbells;
        scan_uar(index, *u);
        fail_pending();
    }
}

void RdmaEngine::scan_uar(uint32_t /*index*/, UarState& u) {
    for (uint32_t qpn : u.qps) {
        Qp* qp = qps.find(qpn);
        if (!qp || qp->state == qps::kReset) continue;
        uint32_t sq_pi = 0;
        if (qp->buf.dbrec_read(platform_.dma(), dbr::kSq, sq_pi) != 0) continue;
        if (sq_pi != qp->req.sq_pi_seen) {
            qp->req.sq_pi_seen = sq_pi;
            if (qp->state == qps::kErr) {
                flush(qpn, *qp);  // WQEs posted in ERR complete flushed
            } else {
                schedule(qpn, *qp);
            }
        } else if (qp->state == qps::kErr) {
            uint32_t rq_pi = 0;
            if (qp->srqn == 0 && qp->buf.dbrec_read(platform_.dma(), dbr::kRq, rq_pi) == 0 && rq_pi != qp->resp.rq_ci)
                flush(qpn, *qp);
        }
    }
    for (uint32_t cqn : u.cqs)
        if (Cq* cq = cqs.find(cqn)) check_cq_arm(cqn, *cq);
}

bool RdmaEngine::poll() {
    bool work = false;
    for (size_t i = 0; i < active_uars_.size(); ++i) {
        const uint32_t index = active_uars_[i];
        auto* page = reinterpret_cast<hcasim_uar*>(uar_area_ + index * HCASIM_UAR_PAGE_SIZE);
        const uint32_t kick = __atomic_load_n(&page->kick, __ATOMIC_ACQUIRE);
        UarState& u = uars_[index];
        if (kick != u.last_kick) {
            u.last_kick = kick;
            ++stats_.doorbells;
            scan_uar(index, u);
            work = true;
        }
    }
    // Requester work, round-robin with a per-QP budget so one QP cannot
    // starve the others.
    for (size_t n = ready_.size(); n > 0 && !ready_.empty(); --n) {
        const uint32_t qpn = ready_.front();
        ready_.pop_front();
        Qp* qp = qps.find(qpn);
        if (!qp) continue;
        qp->scheduled = false;
        if (run_requester(qpn, *qp, 64)) work = true;
        drain_rx();
        if (Qp* again = qps.find(qpn); again && !again->scheduled && current_send(*again))
            schedule(qpn, *again);
    }
    if (!rx_.empty() || !acks_due_.empty()) {
        drain_rx();
        work = true;
    }
    // A timer that fired may have rescheduled a requester (a retransmission
    // after the ACK or RNR timer): that is work, and the caller polls again
    // before it sleeps.
    if (fire_timers()) work = true;
    if (!pending_fatal_.empty()) {
        fail_pending();
        work = true;
    }
    return work;
}

void RdmaEngine::add_timer(uint32_t qpn, uint64_t deadline) { timers_.emplace(deadline, qpn); }

void RdmaEngine::restart_wait(uint32_t qpn, ReorderStash& stash) {
    if (stash.empty()) return;
    stash.deadline = platform_.now_ns() + ReorderStash::kWaitNs;
    add_timer(qpn, stash.deadline);
}

namespace {

bool timer_live(const Qp* qp, uint64_t deadline) {
    return qp && deadline &&
           (qp->comp.ack_deadline == deadline || qp->comp.rnr_deadline == deadline ||
            qp->resp.stash.deadline == deadline || qp->comp.stash.deadline == deadline);
}

}  // namespace

uint64_t RdmaEngine::next_deadline() const {
    // Drops stale entries from the top first (logically const: the set of
    // live timers does not change).
    auto& heap = const_cast<decltype(timers_)&>(timers_);
    auto& table = const_cast<ObjectTable<Qp>&>(qps);
    while (!heap.empty() && !timer_live(table.find(heap.top().second), heap.top().first)) heap.pop();
    return heap.empty() ? 0 : heap.top().first;
}

bool RdmaEngine::fire_timers() {
    const uint64_t now = platform_.now_ns();
    if (next_deadline() == 0 || next_deadline() > now) return false;
    // Frames that arrived before the timers fire are handled first: an
    // ACK waiting in the receive ring is never taken for a loss, however
    // late a slow host runs this.
    if (backend_) backend_->drain_arrived();
    drain_rx();
    while (!timers_.empty() && timers_.top().first <= now) {
        const auto [deadline, qpn] = timers_.top();
        timers_.pop();
        Qp* qp = qps.find(qpn);
        if (!timer_live(qp, deadline)) continue;
        if (qp->resp.stash.deadline && qp->resp.stash.deadline <= now) on_reorder_timeout(qpn, *qp);
        if (qp->comp.stash.deadline && qp->comp.stash.deadline <= now) on_response_reorder_timeout(qpn, *qp);
        if (qp->comp.ack_deadline && qp->comp.ack_deadline <= now) on_ack_timeout(qpn, *qp);
        if (qp->comp.rnr_deadline && qp->comp.rnr_deadline <= now) {
            qp->comp.rnr_deadline = 0;
            // The ACK timer runs again (even if nothing is left to resend:
            // an RNR NAK for a PSN nothing waits on must not hang the QP).
            if (!qp->req.inflight.empty()) arm_ack_timer(qpn, *qp);
            schedule(qpn, *qp);
        }
    }
    drain_rx();  // loopback: what the timers sent
    return true;
}

// ---- CQs and EQs -------------------------------------------------------------

void RdmaEngine::post_event(uint32_t eqn, uint8_t type, uint8_t ibv_event, uint32_t obj) {
    Eq* eq = eqs.find(eqn);
    if (!eq) return;
    uint32_t ci = 0;
    const uint32_t n = 1u << eq->log_size;
    if (eq->ring.dbrec_read(platform_.dma(), dbr::kEqCi, ci) != 0 || eq->pi - ci >= n) {
        ++eq->dropped;
        trace::eq_overflow(trace_, eqn, event_type_name(type), ev::name(ibv_event), obj);
        return;
    }
    if (format_.write_eqe(platform_.dma(), eq->ring, n, eq->pi, EventEntry{type, ibv_event, obj}) != 0) {
        ++eq->dropped;
        return;
    }
    ++eq->pi;
    ++stats_.events;
    if (auto* st = status_page()) {
        const uint32_t slot = (eqn >> 8) - 1;
        if (slot < HCASIM_MAX_EQS) __atomic_add_fetch(&st->eq_seq[slot], 1, __ATOMIC_RELEASE);
    }
    if (trace_dp_) trace::eqe(trace_, eqn, event_type_name(type), ev::name(ibv_event), obj);
    platform_.raise_msix(eq->msix_vector);
}

void RdmaEngine::check_cq_arm(uint32_t cqn, Cq& cq) {
    if (cq.eqn == HCASIM_EQN_NONE || cq.overflowed) return;
    uint32_t arm = 0, ci = 0;
    if (cq.ring.dbrec_read(platform_.dma(), dbr::kCqArm, arm) != 0 || cq.ring.dbrec_read(platform_.dma(), dbr::kCqCi, ci) != 0)
        return;
    const uint32_t sn = arm >> 2, cmd = arm & 3;
    if (cmd != HCASIM_CQ_ARM_NEXT || (cq.fired_any && sn == cq.fired_arm_sn)) return;
    // mlx5: arming a CQ that already holds unpolled CQEs raises the event
    // at once, so "poll, arm, poll" never loses a wakeup.
    if (cq.pi != ci) {
        cq.fired_arm_sn = sn;
        cq.fired_any = true;
        post_event(cq.eqn, HCASIM_EVENT_COMPLETION, 0, cqn);
    }
}

void RdmaEngine::post_cqe(uint32_t cqn, const Completion& cqe) {
    Cq* cq = cqs.find(cqn);
    if (!cq) return;
    if (cq->overflowed) {
        // A CQ in error takes no CQE; the QP that completed into it goes
        // to ERR (at the top level, fail_pending).
        ++cq->dropped;
        pending_fatal_.push_back(cqe.qpn);
        return;
    }
    const uint32_t n = cq->entries();
    uint32_t ci = 0;
    if (cq->ring.dbrec_read(platform_.dma(), dbr::kCqCi, ci) != 0 || cq->pi - ci >= n) {
        // IBTA 11.6.2: CQ overrun is a CQ error; the CQE is lost.  A
        // consumer index ahead of the producer reads as an overrun too.
        ++stats_.cq_overflows;
        trace::cq_overflow(trace_, cqn, cq->pi, ci, n);
        cq_error(cqn, *cq, "overrun");
        ++cq->dropped;
        pending_fatal_.push_back(cqe.qpn);
        return;
    }
    if (format_.write_cqe(platform_.dma(), cq->ring, n, cq->pi, cqe) != 0) {
        trace::cq_dma_fault(trace_, cqn, cq->pi);
        cq_error(cqn, *cq, "ring outside guest memory");
        ++cq->dropped;
        pending_fatal_.push_back(cqe.qpn);
        return;
    }
    ++cq->pi;
    ++stats_.cqes;
    if (trace_dp_)
        trace::cqe(trace_, cqn, cqe.qpn, cqe.wr_id, wc::op_name(cqe.opcode), wc_status_name(cqe.status),
                   cqe.byte_len, cqe.wqe_counter, cqe.vendor_err);
    if (cq->eqn == HCASIM_EQN_NONE) return;
    uint32_t arm = 0;
    if (cq->ring.dbrec_read(platform_.dma(), dbr::kCqArm, arm) != 0) return;
    const uint32_t sn = arm >> 2, cmd = arm & 3;
    // Command 3 is no arm command: the CQ counts as not armed.
    const bool armed = (cmd == HCASIM_CQ_ARM_SOLICITED || cmd == HCASIM_CQ_ARM_NEXT) &&
                       !(cq->fired_any && sn == cq->fired_arm_sn);
    const bool matches = cmd == HCASIM_CQ_ARM_NEXT || cqe.solicited ||
                         cqe.status != wc::kSuccess;
    if (armed && matches) {
        cq->fired_arm_sn = sn;
        cq->fired_any = true;
        post_event(cq->eqn, HCASIM_EVENT_COMPLETION, 0, cqn);
    }
}

void RdmaEngine::cq_error(uint32_t cqn, Cq& cq, const char* why) {
    if (cq.overflowed) return;
    cq.overflowed = true;
    trace::cq_error(trace_, cqn, why);
    if (cq.async_eqn != HCASIM_EQN_NONE) post_event(cq.async_eqn, HCASIM_EVENT_ASYNC, ev::kCqErr, cqn);
    // mlx5: the QPs completing into a CQ in error move to ERR (WQ
    // catastrophic error).  Rare, so a scan of the QPs is fine.
    qps.for_each([&](uint32_t h, Qp& qp) {
        if ((qp.send_cqn == cqn || qp.recv_cqn == cqn) && qp.state != qps::kReset &&
            qp.state != qps::kErr)
            pending_fatal_.push_back(h);
    });
}

void RdmaEngine::fail_pending() {
    while (!pending_fatal_.empty()) {
        std::vector<uint32_t> batch;
        batch.swap(pending_fatal_);
        for (uint32_t qpn : batch)
            if (Qp* qp = qps.find(qpn); qp && qp->state != qps::kReset && qp->state != qps::kErr)
                qp_error(qpn, *qp, ev::kQpFatal);
        // qp_error's flush only completes into CQs in error for QPs that
        // are in ERR by now: the next round finds nothing to do.
    }
}

int RdmaEngine::resize_cq(uint32_t cqn, uint32_t log_size, QueueRing ring) {
    Cq* cq = cqs.find(cqn);
    if (!cq) return -2;
    uint32_t ci = 0;
    if (cq->ring.dbrec_read(platform_.dma(), dbr::kCqCi, ci) != 0) return -2;
    const uint32_t unpolled = cq->pi - ci;
    const uint32_t n_new = 1u << log_size;
    if (unpolled > n_new) return -1;
    const uint32_t n_old = cq->entries();
    for (uint32_t i = 0; i < unpolled; ++i)
        if (format_.move_cqe(platform_.dma(), cq->ring, n_old, ci + i, ring, n_new, i) != 0) return -2;
    cq->ring = std::move(ring);
    cq->log_size = log_size;
    cq->pi = unpolled;
    cq->ring.dbrec_write(platform_.dma(), dbr::kCqCi, 0);
    return static_cast<int>(unpolled);
}

// ---- QPs ---------------------------------------------------------------------

void RdmaEngine::schedule(uint32_t qpn, Qp& qp) {
    if (qp.scheduled) return;
    qp.scheduled = true;
    ready_.push_back(qpn);
}

void RdmaEngine::modify_qp(uint32_t qpn, uint32_t mask, const hcasim_qp_attr& a) {
    Qp* qp = qps.find(qpn);
    if (!qp) return;
    hcasim_qp_attr& t = qp->attr;
    if (mask & qpa::kAccessFlags) t.qp_access_flags = a.qp_access_flags;
    if (mask & qpa::kPkeyIndex) t.pkey_index = a.pkey_index;
    if (mask & qpa::kPort) t.port_num = a.port_num;
    if (mask & qpa::kQkey) t.qkey = a.qkey;
    if (mask & qpa::kAv) t.ah = a.ah;
    if (mask & qpa::kPathMtu) {
        t.path_mtu = a.path_mtu;
        qp->mtu = std::min(mtu_bytes(a.path_mtu), port_.mtu);
    }
    if (mask & qpa::kTimeout) t.timeout = a.timeout;
    if (mask & qpa::kRetryCnt) {
        t.retry_cnt = a.retry_cnt;
        qp->comp.retry_left = a.retry_cnt;
        // A new connection starts afresh; its path MTU is known (RC: RTR
        // requires it, and retry_cnt is set only on the way to RTS).
        qp->req.window = rc_window(qp->mtu).init;
        qp->req.window_acked = 0;
    }
    if (mask & qpa::kRnrRetry) {
        t.rnr_retry = a.rnr_retry;
        qp->comp.rnr_left = a.rnr_retry;
    }
    if (mask & qpa::kRqPsn) {
        t.rq_psn = a.rq_psn & 0xffffff;
        qp->resp.epsn = t.rq_psn;
    }
    if (mask & qpa::kMaxQpRdAtomic) t.max_rd_atomic = a.max_rd_atomic;
    if (mask & qpa::kMinRnrTimer) t.min_rnr_timer = a.min_rnr_timer;
    if (mask & qpa::kSqPsn) {
        t.sq_psn = a.sq_psn & 0xffffff;
        qp->req.next_psn = t.sq_psn;
    }
    if (mask & qpa::kMaxDestRdAtomic) t.max_dest_rd_atomic = a.max_dest_rd_atomic;
    if (mask & qpa::kDestQpn) t.dest_qp_num = a.dest_qp_num & 0xffffff;
    if (mask & qpa::kEnSqdAsyncNotify) t.en_sqd_async_notify = a.en_sqd_async_notify;
    if (mask & qpa::kRateLimit) t.rate_limit = a.rate_limit;
    if (!(mask & qpa::kState)) return;

    const uint32_t from = qp->state;
    const uint32_t to = a.qp_state;
    qp->state = to;
    t.qp_state = to;
    if (to == qps::kReset) {
        // A barrier: forget everything in flight; no CQE after this.
        qp->reset_roles();
        qp->buf.dbrec_write(platform_.dma(), dbr::kRq, 0);
        qp->buf.dbrec_write(platform_.dma(), dbr::kSq, 0);
    } else if (to == qps::kErr && from != qps::kErr) {
        flush(qpn, *qp);
    } else if ((to == qps::kRts || to == qps::kSqd) && from != to) {
        schedule(qpn, *qp);
    }
    trace::qp_state(trace_, qpn, qps::name(from), qps::name(to), "command");
    fail_pending();
}

void RdmaEngine::release_owner(uint32_t owner) {
    // Dependents first (QPs hold CQs, SRQs and EQs; CQs and SRQs hold
    // EQs), so the references another channel's objects hold stay right.
    qps.release_owner(owner);
    srqs.release_owner(owner);
    cqs.release_owner(owner);
    eqs.release_owner(owner);
    for (uint32_t i = HCASIM_CHANNEL_UAR(HCASIM_NUM_CHANNELS); i < uars_.size(); ++i)
        if (uars_[i].in_use && uars_[i].owner == owner) close_uar(i);
}

void RdmaEngine::reset() {
    qps.clear();
    srqs.clear();
    cqs.clear();
    eqs.clear();
    for (uint32_t i = 1; i < uars_.size(); ++i) uars_[i] = UarState{};
    active_uars_.clear();
    ready_.clear();
    rx_.clear();
    pending_fatal_.clear();
    timers_ = {};
}

}  // namespace hcasim::device
