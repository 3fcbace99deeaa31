// The completer role (see engine.h): matches ACKs, NAKs, READ responses
// and atomic ACKs to the outstanding WQEs in order, lands READ data and
// atomic results in the local SGEs, maps AETH syndromes to completion
// statuses, drives retransmission (local ACK timeout, PSN-sequence NAK,
// RNR NAK with the RNR timer) and moves a faulted QP to ERR, flushing
// what is left with IBV_WC_WR_FLUSH_ERR.
//
// Source: IBTA vol 1 9.7.5.2 (requester side of ACK/NAK), 9.7.5.2.8
// (RNR timer encoding), 10.8.3 (error handling); the kernel's rxe_comp.c.
#include "device/engine.h"
#include "device/opcodes.h"
#include "device/role_stages.h"

#include <iterator>

namespace hcasim::device {

namespace {

// IBTA 9.7.5.2.8 table 45: RNR timer field -> nanoseconds.
uint64_t rnr_timer_ns(uint8_t t) {
    static constexpr uint32_t kUs[32] = {655360, 10,    20,    30,    40,    60,    80,    120,
                                         160,    240,   320,   480,   640,   960,   1280,  1920,
                                         2560,   3840,  5120,  7680,  10240, 15360, 20480, 30720,
                                         40960,  61440, 81920, 122880, 163840, 245760, 327680, 491520};
    return uint64_t{kUs[t & 31]} * 1000;
}

uint8_t status_for_nak(uint8_t syndrome) {
    switch (syndrome) {
    case aeth::kNakInvalidRequest: return wc::kRemInvReqErr;
    case aeth::kNakRemoteAccess: return wc::kRemAccessErr;
    case aeth::kNakRemoteOp: return wc::kRemOpErr;
    default: return wc::kBadRespErr;
    }
}

}  // namespace

void RdmaEngine::qp_error(uint32_t qpn, Qp& qp, uint8_t event) {
    if (qp.state == qps::kErr) return;
    const uint32_t from = qp.state;
    qp.state = qps::kErr;
    qp.attr.qp_state = qps::kErr;
    trace::qp_state(trace_, qpn, qps::name(from), qps::name(qps::kErr), "fault");
    flush(qpn, qp);
    if (qp.async_eqn != HCASIM_EQN_NONE) {
        if (event != ev::kNone) post_event(qp.async_eqn, HCASIM_EVENT_ASYNC, event, qpn);
        if (qp.srqn) post_event(qp.async_eqn, HCASIM_EVENT_ASYNC, ev::kQpLastWqeReached, qpn);
    }
}

void RdmaEngine::flush(uint32_t qpn, Qp& qp) {
    qp.comp.ack_deadline = qp.comp.rnr_deadline = 0;
    qp.resp.stash.clear();
    qp.comp.stash.clear();
    // Send side: what was taken, then what is still in the SQ.
    while (!qp.req.inflight.empty()) {
        SendWqe& w = qp.req.inflight.front();
        w.wr.signaled = true;  // flushed WQEs always complete
        if (!w.completed) complete_send(qpn, qp, w, wc::kWrFlushErr, 0);
        qp.req.inflight.pop_front();
    }
    qp.req.send_pos = 0;
    qp.req.rd_atomic_out = 0;
    // A producer index more than a ring ahead is nonsense: nothing in the
    // ring is flushed for it (no completion is made up from stale slots).
    uint32_t sq_pi = qp.req.sq_head;
    qp.buf.dbrec_read(platform_.dma(), dbr::kSq, sq_pi);
    if (sq_pi - qp.req.sq_head > qp.sq_entries()) sq_pi = qp.req.sq_head;
    while (static_cast<int32_t>(sq_pi - qp.req.sq_head) > 0) {
        // Whatever of the WQE the format could read names it (wr_id,
        // opcode); a WQE outside guest memory still completes.
        SendWqe w;
        w.index = qp.req.sq_head;
        const WqeDecode d = format_.read_send_wqe(platform_.dma(), qp.sq(), qp.req.sq_head, w.wr);
        w.wr.signaled = true;
        complete_send(qpn, qp, w, wc::kWrFlushErr, 0);
        qp.req.sq_head += d.slots;
    }
    qp.req.sq_pi_seen = qp.req.sq_head;
    // Receive side: the WQE in progress, then the RQ (an SRQ's WQEs stay).
    if (qp.resp.has_rwqe) complete_recv(qp, qpn, wc::kWrFlushErr, wc::kOpRecv, 0, nullptr, 0);
    qp.resp.in_send = qp.resp.in_write = false;
    if (qp.srqn == 0 && qp.log_rq_size) {
        uint32_t rq_pi = qp.resp.rq_ci;
        qp.buf.dbrec_read(platform_.dma(), dbr::kRq, rq_pi);
        if (rq_pi - qp.resp.rq_ci > qp.rq_entries()) rq_pi = qp.resp.rq_ci;
        while (static_cast<int32_t>(rq_pi - qp.resp.rq_ci) > 0) {
            qp.resp.rwqe = RecvWqe{};
            qp.resp.rwqe.wqe_counter = static_cast<uint16_t>(qp.resp.rq_ci);
            const WqeDecode d = format_.read_recv_wqe(platform_.dma(), qp.rq(), qp.resp.rq_ci, qp.resp.rwqe.wr);
            qp.resp.rq_ci += d.slots;
            complete_recv(qp, qpn, wc::kWrFlushErr, wc::kOpRecv, 0, nullptr, 0);
        }
    }
}

void RdmaEngine::retire_front(uint32_t qpn, Qp& qp, uint8_t status, uint32_t vendor_err) {
    SendWqe& w = qp.req.inflight.front();
    complete_send(qpn, qp, w, status, vendor_err);
    if (w.counted) --qp.req.rd_atomic_out;
    qp.req.inflight.pop_front();
    if (qp.req.send_pos) --qp.req.send_pos;
    if (status != wc::kSuccess) qp_error(qpn, qp, ev::kNone);
}

void RdmaEngine::on_ack_timeout(uint32_t qpn, Qp& qp) {
    qp.comp.ack_deadline = 0;
    // No ACK timer runs while an RNR wait does (it restarts after it).
    if (qp.req.inflight.empty() || qp.state == qps::kErr || qp.comp.rnr_deadline) return;
    ++stats_.ack_timeouts;
    SendWqe& w = qp.req.inflight.front();
    // retry_cnt + 1 timeouts in a row without progress end the QP (IBTA
    // 9.7.5.2.6: retry_cnt retries after the first try).
    if (qp.comp.retry_left == 0) {
        trace::retry_exceeded(trace_, qpn, w.index, w.first_psn);
        retire_front(qpn, qp, wc::kRetryExcErr);
        return;
    }
    --qp.comp.retry_left;
    ++qp.comp.backoff;
    on_loss(qp);
    // Resend from the oldest unacknowledged packet (a READ from its first
    // missing response, see rewind).
    rewind(qpn, qp, w.rd_atomic ? w.first_psn : psn_add(w.first_psn, std::min(w.acked_pkts, w.npkts - 1)));
    qp.comp.rewound = false;  // a timeout is no NAK: a NAK for this PSN is news
    arm_ack_timer(qpn, qp);
}

std::optional<uint32_t> RdmaEngine::expected_response(const Qp& qp) const {
    if (qp.req.inflight.empty()) return std::nullopt;
    const SendWqe& w = qp.req.inflight.front();
    if (!w.rd_atomic) return std::nullopt;
    return w.wr.opcode == wr::kRdmaRead ? psn_add(w.first_psn, w.resp_bytes / qp.mtu) : w.first_psn;
}

void RdmaEngine::read_gap(uint32_t qpn, Qp& qp) {
    qp.comp.stash.clear();
    const std::optional<uint32_t> expect_psn = expected_response(qp);
    if (qp.comp.read_gap_retry || !expect_psn) return;
    const uint32_t expect = *expect_psn;
    // An implied NAK (IBTA 9.7.5.2): asked again from the first missing
    // response.  It costs no retry (the ACK timer, which does, takes over
    // if the new request is lost too).
    on_loss(qp);
    rewind(qpn, qp, expect);
    qp.comp.read_gap_retry = true;
}

void RdmaEngine::on_response_reorder_timeout(uint32_t qpn, Qp& qp) {
    qp.comp.stash.deadline = 0;
    if (qp.comp.stash.empty()) return;
    if (qp.state != qps::kRts && qp.state != qps::kSqd) return qp.comp.stash.clear();
    read_gap(qpn, qp);
}

void RdmaEngine::complete(Qp& qp, uint32_t qpn, Packet& p) {
    complete_one(qp, qpn, p);
    // Responses held ahead of a gap that this one closed, lowest PSN first.
    while (!qp.comp.stash.empty()) {
        if (qp.req.inflight.empty() || (qp.state != qps::kRts && qp.state != qps::kSqd)) {
            qp.comp.stash.clear();
            break;
        }
        auto& held = qp.comp.stash.held;
        auto lowest = std::min_element(held.begin(), held.end(), [](const Packet& a, const Packet& b) {
            return psn_diff(a.psn, b.psn) < 0;
        });
        const std::optional<uint32_t> expect = expected_response(qp);
        if (expect && psn_diff(lowest->psn, *expect) > 0) break;  // still ahead
        std::optional<Packet> next = qp.comp.stash.take(lowest->psn);
        complete_one(qp, qpn, *next);
        restart_wait(qpn, qp.comp.stash);
    }
}

// One response packet on its way through the completer's stages.
struct RdmaEngine::CompCtx {
    Qp& qp;
    uint32_t qpn;
    Packet& p;
    const OpInfo& op;
    bool is_ack;        // an ACK or NAK (not a READ response or atomic ACK)
    bool positive;      // no AETH, or an AETH that acknowledges
    bool progress = false;  // something was acknowledged or landed
    uint32_t acked = 0;     // packets answered, for the window of unanswered packets
    int32_t ahead = 0;      // PSNs ahead of the expected response (Hold)
    const char* why = "";   // a Drop's reason
};

// The completer's stages (see device/role_stages.h).
struct RdmaEngine::Completer {
    using Ctx = CompCtx;

    static CompStage drop(Ctx& c, const char* why) {
        c.why = why;
        return CompStage::Drop;
    }
    static SendWqe& front(Ctx& c) { return c.qp.req.inflight.front(); }
    // Progress: the retry counters and the backoff start afresh.
    static void reset_counters(Qp& qp) {
        qp.comp.read_gap_retry = false;
        qp.comp.retry_left = qp.attr.retry_cnt;
        qp.comp.backoff = 0;
        qp.comp.rnr_left = qp.attr.rnr_retry;
    }

    static CompStage check_state(RdmaEngine&, Ctx& c) {
        if (c.qp.type != qpt::kRc) return drop(c, "response on a non-RC QP");
        if (c.qp.state != qps::kRts && c.qp.state != qps::kSqd) return drop(c, "response while not in RTS/SQD");
        if (c.qp.req.inflight.empty()) return drop(c, "response with nothing outstanding");
        return CompStage::RetireAcked;
    }

    // SEND/WRITE WQEs this packet acknowledges: an ACK covers its PSN; any
    // other response (a NAK too) implicitly acknowledges earlier PSNs
    // (IBTA 9.7.5.2.1).  An ACK inside a multi-packet SEND/WRITE (the
    // requester asks one every rc_window().ack_every packets)
    // acknowledges up to its PSN, a NAK up to the PSN before it: progress
    // too, and a retransmission resumes after it.
    static CompStage retire_acked(RdmaEngine& e, Ctx& c) {
        Qp& qp = c.qp;
        while (!qp.req.inflight.empty()) {
            SendWqe& w = front(c);
            if (w.rd_atomic || !w.all_sent) break;
            const int32_t d = psn_diff(c.p.psn, w.last_psn());
            if (!(d > 0 || (d == 0 && c.is_ack && c.positive))) break;
            c.acked += w.npkts - std::min(w.acked_pkts, w.npkts);
            e.retire_front(c.qpn, qp, wc::kSuccess);
            c.progress = true;
        }
        if (c.is_ack && !qp.req.inflight.empty()) {
            SendWqe& w = front(c);
            const int32_t d = psn_diff(c.p.psn, w.first_psn);
            const uint32_t upto = static_cast<uint32_t>(d) + (c.positive ? 1 : 0);  // packets covered
            if (!w.rd_atomic && d >= 0 && static_cast<uint32_t>(d) < w.npkts && upto > w.acked_pkts) {
                c.acked += upto - w.acked_pkts;
                w.acked_pkts = upto;
                c.progress = true;
            }
        }
        if (qp.req.inflight.empty()) return CompStage::UpdateComp;
        if (!c.positive) return CompStage::CheckNak;
        return c.is_ack ? CompStage::UpdateComp : CompStage::CheckPsn;
    }

    static CompStage check_nak(RdmaEngine& e, Ctx& c) {
        Qp& qp = c.qp;
        const SendWqe& w = front(c);
        const uint32_t oldest =
            psn_add(w.first_psn, w.rd_atomic ? (w.wr.opcode == wr::kRdmaRead ? w.resp_bytes / qp.mtu : 0)
                                             : std::min(w.acked_pkts, w.npkts - 1));
        if (psn_diff(c.p.psn, oldest) < 0) return drop(c, "NAK for a PSN acknowledged already");
        if (c.progress) {
            // The NAK acknowledged what came before it: both counters
            // start afresh (an RNR NAK is then charged below).
            if (c.acked) e.on_acked(qp, c.acked);
            reset_counters(qp);
        }
        const uint8_t type = c.p.syndrome & aeth::kTypeMask;
        if (type == aeth::kTypeRnr) return CompStage::RnrNak;
        if (c.p.syndrome == aeth::kNakPsnSeq) return CompStage::SeqNak;
        return CompStage::ErrNak;  // class B/C/D: the WQE fails, the QP goes to ERR
    }

    static CompStage rnr_nak(RdmaEngine& e, Ctx& c) {
        CompleterState& s = c.qp.comp;
        // A copy of the RNR NAK being waited out changes nothing.
        if (s.rnr_deadline && s.rewound && s.rewound_psn == c.p.psn && !c.progress)
            return drop(c, "RNR NAK repeated");
        // Only the RNR counter pays; 7 is infinite (IBTA 9.7.5.2.8).
        if (c.qp.attr.rnr_retry != 7) {
            if (s.rnr_left == 0) return CompStage::ErrRnrRetry;
            --s.rnr_left;
        }
        e.rewind(c.qpn, c.qp, c.p.psn);
        s.rewound = true;
        s.rewound_psn = c.p.psn;
        s.ack_deadline = 0;
        s.rnr_deadline = e.platform_.now_ns() + rnr_timer_ns(c.p.syndrome & 0x1f);
        e.add_timer(c.qpn, s.rnr_deadline);
        return CompStage::Done;
    }

    static CompStage seq_nak(RdmaEngine& e, Ctx& c) {
        CompleterState& s = c.qp.comp;
        // A NAK for the PSN the requester is already going back to (an RNR
        // NAK's, or an earlier NAK's) only echoes it: some responders send
        // one for each packet that was in flight.  It costs no retry.
        if (s.rewound && s.rewound_psn == c.p.psn && !c.progress) {
            if (!s.rnr_deadline) e.rewind(c.qpn, c.qp, c.p.psn);
            return CompStage::Done;
        }
        if (s.retry_left == 0) return CompStage::ErrRetry;
        --s.retry_left;
        e.on_loss(c.qp);
        s.rnr_deadline = 0;
        e.rewind(c.qpn, c.qp, c.p.psn);
        s.rewound = true;
        s.rewound_psn = c.p.psn;
        if (c.progress) {
            s.ack_deadline = 0;
            e.arm_ack_timer(c.qpn, c.qp);
        }
        return CompStage::Done;
    }

    // A READ response or atomic ACK: responses to those come in PSN order.
    static CompStage check_psn(RdmaEngine& e, Ctx& c) {
        const std::optional<uint32_t> expect = e.expected_response(c.qp);
        if (!expect) return drop(c, "READ response or atomic ACK while a SEND/WRITE waits");
        c.ahead = psn_diff(c.p.psn, *expect);
        if (c.ahead < 0) return drop(c, "response answered already");
        if (c.ahead > 0) return CompStage::Hold;
        if (c.op.flags & kRead) return CompStage::Read;
        if (c.op.flags & kAtomic) return CompStage::Atomic;
        return CompStage::UpdateComp;
    }

    // Ahead of a missing response: held a moment (it may have been
    // overtaken), else the missing one is lost and asked for again.
    static CompStage hold(RdmaEngine& e, Ctx& c) {
        Qp& qp = c.qp;
        const SendWqe& w = front(c);
        if (qp.comp.read_gap_retry) return drop(c, "response after a gap, asked again already");
        // A READ asked again in pieces: what lies beyond the piece asked
        // for is a late response of an earlier round.
        if (w.wr.opcode == wr::kRdmaRead && w.rerequest && psn_diff(c.p.psn, psn_add(w.first_psn, w.next_pkt)) >= 0)
            return drop(c, "response of an earlier round");
        if (qp.comp.stash.holds(c.p.psn)) return drop(c, "response held already");
        if (static_cast<uint32_t>(c.ahead) <= ReorderStash::kWindow && !qp.comp.stash.full()) {
            ++e.stats_.reorder_held;
            const bool first = qp.comp.stash.empty();
            qp.comp.stash.put(c.p, e.platform_.now_ns());
            if (first) e.add_timer(c.qpn, qp.comp.stash.deadline);
            return CompStage::Done;
        }
        e.read_gap(c.qpn, qp);
        return drop(c, "response after a gap");
    }

    static CompStage read(RdmaEngine& e, Ctx& c) {
        Qp& qp = c.qp;
        SendWqe& w = front(c);
        if (w.wr.opcode != wr::kRdmaRead) return drop(c, "READ response for an atomic");
        const uint32_t want = std::min(qp.mtu, w.length - w.resp_bytes);
        if (c.p.len != want) return drop(c, "READ response of the wrong length");
        // Scatter into the local SGEs (local write access needed).
        uint32_t i = 0, skip = w.resp_bytes;
        while (i < w.wr.num_sge && skip >= w.wr.sge[i].length) skip -= w.wr.sge[i++].length;
        for (uint32_t done = 0; done < c.p.len; ++i, skip = 0) {
            const uint32_t n = std::min(c.p.len - done, w.wr.sge[i].length - skip);
            if (e.mr_.write({w.wr.sge[i].lkey, qp.pdn, HCASIM_ACCESS_LOCAL_WRITE}, w.wr.sge[i].addr + skip,
                            c.p.data + done, n) != MrError::None)
                return CompStage::ErrLocal;
            done += n;
        }
        w.resp_bytes += c.p.len;
        ++c.acked;
        c.progress = true;
        // Complete when every byte landed (the responses may come as
        // several requests' worth: see RdmaEngine::read_chunk).
        if (w.resp_bytes == w.length) e.retire_front(c.qpn, qp, wc::kSuccess);
        return CompStage::UpdateComp;
    }

    static CompStage atomic(RdmaEngine& e, Ctx& c) {
        SendWqe& w = front(c);
        if (w.wr.opcode != wr::kCompSwap && w.wr.opcode != wr::kFetchAdd) return drop(c, "atomic ACK for a READ");
        if (e.mr_.write({w.wr.sge[0].lkey, c.qp.pdn, HCASIM_ACCESS_LOCAL_WRITE}, w.wr.sge[0].addr, &c.p.orig, 8) !=
            MrError::None)
            return CompStage::ErrLocal;
        e.retire_front(c.qpn, c.qp, wc::kSuccess);
        ++c.acked;
        c.progress = true;
        return CompStage::UpdateComp;
    }

    // Progress: the window grows, the counters start afresh, the ACK timer
    // restarts and the requester goes on.  During an RNR wait (a later WQE
    // was RNR NAK'd) the ACK timer stays off and the PSN gone back to
    // stays known.
    static CompStage update_comp(RdmaEngine& e, Ctx& c) {
        Qp& qp = c.qp;
        if (c.acked) e.on_acked(qp, c.acked);
        if (!c.progress) return CompStage::Done;
        reset_counters(qp);
        if (qp.req.inflight.empty() || !qp.comp.rnr_deadline) {
            qp.comp.rewound = false;
            qp.comp.ack_deadline = 0;
            if (!qp.req.inflight.empty()) e.arm_ack_timer(c.qpn, qp);
        }
        e.schedule(c.qpn, qp);
        return CompStage::Done;
    }

    static CompStage done(RdmaEngine&, Ctx&) { return CompStage::Done; }

    static CompStage dropped(RdmaEngine& e, Ctx& c) {
        e.drop_packet(&c.qp, c.qpn, c.p, c.why);
        return CompStage::Done;
    }

    static CompStage err_nak(RdmaEngine& e, Ctx& c) {
        e.retire_front(c.qpn, c.qp, status_for_nak(c.p.syndrome), c.p.syndrome);
        return CompStage::Done;
    }

    // retry_cnt + 1 tries without progress (IBTA 9.7.5.2.6).
    static CompStage err_retry(RdmaEngine& e, Ctx& c) {
        trace::retry_exceeded(e.trace_, c.qpn, front(c).index, c.p.psn);
        e.retire_front(c.qpn, c.qp, wc::kRetryExcErr);
        return CompStage::Done;
    }

    static CompStage err_rnr_retry(RdmaEngine& e, Ctx& c) {
        trace::rnr_retry_exceeded(e.trace_, c.qpn, front(c).index, c.p.psn);
        e.retire_front(c.qpn, c.qp, wc::kRnrRetryExcErr);
        return CompStage::Done;
    }

    static CompStage err_local(RdmaEngine& e, Ctx& c) {
        e.retire_front(c.qpn, c.qp, wc::kLocProtErr);
        return CompStage::Done;
    }

    using Step = CompStage (*)(RdmaEngine&, Ctx&);
    // Indexed by CompStage.
    static constexpr Step kSteps[] = {
        check_state, retire_acked, check_nak, rnr_nak, seq_nak, check_psn, read, atomic, update_comp,
        done, dropped, hold, err_nak, err_retry, err_rnr_retry, err_local,
    };
    static_assert(std::size(kSteps) == static_cast<size_t>(CompStage::ErrLocal) + 1);
};

void RdmaEngine::complete_one(Qp& qp, uint32_t qpn, Packet& p) {
    const OpInfo& op = op_info(p.opcode);
    const bool positive = !(op.flags & kHasAeth) || (p.syndrome & aeth::kTypeMask) == aeth::kTypeAck;
    CompCtx c{qp, qpn, p, op, (op.flags & kAckOp) != 0, positive};
    CompStage s = CompStage::CheckState;
    while (s != CompStage::Done) {
        const CompStage next = Completer::kSteps[static_cast<size_t>(s)](*this, c);
        if (trace_dp_ && off_path(next) && !off_path(s))
            trace::comp_stage(trace_, qpn, op.name, p.psn, stage_name(s), stage_name(next));
        s = next;
    }
}

}  // namespace hcasim::device
