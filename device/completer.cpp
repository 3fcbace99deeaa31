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
    trace_.event("qp_state", "qpn={:#x} {}->{} reason=fault", qpn, from, qps::kErr);
    flush(qpn, qp);
    if (qp.async_eqn != 0xffffffffu) {
        if (event != ev::kNone) post_event(qp.async_eqn, HCASIM_EVENT_ASYNC, event, qpn);
        if (qp.srqn) post_event(qp.async_eqn, HCASIM_EVENT_ASYNC, ev::kQpLastWqeReached, qpn);
    }
}

void RdmaEngine::flush(uint32_t qpn, Qp& qp) {
    qp.ack_deadline = qp.rnr_deadline = 0;
    // Send side: what was taken, then what is still in the SQ.
    while (!qp.inflight.empty()) {
        SendWqe& w = qp.inflight.front();
        w.ctrl.flags |= HCASIM_WQE_SIGNALED;  // flushed WQEs always complete
        if (!w.completed) complete_send(qpn, qp, w, wc::kWrFlushErr, 0);
        qp.inflight.pop_front();
    }
    qp.send_pos = 0;
    qp.rd_atomic_out = 0;
    // A producer index more than a ring ahead is nonsense: nothing in the
    // ring is flushed for it (no completion is made up from stale slots).
    uint32_t sq_pi = qp.sq_head;
    qp.buf.dbrec_read(*host_.dma, 1, sq_pi);
    if (sq_pi - qp.sq_head > qp.sq_entries()) sq_pi = qp.sq_head;
    for (; qp.sq_head != sq_pi; ++qp.sq_head) {
        SendWqe w;
        w.index = qp.sq_head;
        const uint64_t at = qp.sq_offset + (uint64_t{qp.sq_head % qp.sq_entries()} << qp.log_sq_stride);
        qp.buf.read(*host_.dma, at, &w.ctrl, sizeof(w.ctrl));
        w.ctrl.flags |= HCASIM_WQE_SIGNALED;
        complete_send(qpn, qp, w, wc::kWrFlushErr, 0);
    }
    qp.sq_pi_seen = qp.sq_head;
    // Receive side: the WQE in progress, then the RQ (an SRQ's WQEs stay).
    if (qp.has_rwqe) complete_recv(qp, qpn, wc::kWrFlushErr, wc::kOpRecv, 0, nullptr, 0);
    qp.in_send = qp.in_write = false;
    if (qp.srqn == 0 && qp.log_rq_size) {
        uint32_t rq_pi = qp.rq_ci;
        qp.buf.dbrec_read(*host_.dma, 0, rq_pi);
        if (rq_pi - qp.rq_ci > qp.rq_entries()) rq_pi = qp.rq_ci;
        while (qp.rq_ci != rq_pi) {
            qp.rwqe = RecvWqe{};
            qp.rwqe.wqe_counter = static_cast<uint16_t>(qp.rq_ci);
            qp.buf.read(*host_.dma, uint64_t{qp.rq_ci % qp.rq_entries()} << qp.log_rq_stride,
                        &qp.rwqe.hdr, sizeof(qp.rwqe.hdr));
            ++qp.rq_ci;
            complete_recv(qp, qpn, wc::kWrFlushErr, wc::kOpRecv, 0, nullptr, 0);
        }
    }
}

void RdmaEngine::on_ack_timeout(uint32_t qpn, Qp& qp) {
    qp.ack_deadline = 0;
    if (qp.inflight.empty() || qp.state == qps::kErr) return;
    SendWqe& w = qp.inflight.front();
    if (qp.retry_left == 0) {
        trace_.event("retry_exceeded", "qpn={:#x} wqe={} psn={}", qpn, w.index, w.first_psn);
        complete_send(qpn, qp, w, wc::kRetryExcErr, 0);
        qp.inflight.pop_front();
        qp_error(qpn, qp, ev::kNone);
        return;
    }
    --qp.retry_left;
    on_loss(qp);
    // Resend from the oldest unacknowledged packet (a READ whole, see rewind).
    rewind(qpn, qp, w.rd_atomic ? w.first_psn : psn_add(w.first_psn, std::min(w.acked_pkts, w.npkts - 1)));
    arm_ack_timer(qpn, qp);
}

void RdmaEngine::complete(Qp& qp, uint32_t qpn, Packet& p) {
    const OpInfo& op = op_info(p.opcode);
    auto drop = [&](const char* why) {
        ++qp.rx_dropped;
        ++stats_.rx_dropped;
        if (trace_dp_) trace_.event("rx_drop", "qpn={:#x} opcode={} psn={} reason=\"{}\"", qpn, op.name, p.psn, why);
    };
    if (qp.type != qpt::kRc) return drop("response on a non-RC QP");
    if (qp.state != qps::kRts && qp.state != qps::kSqd) return drop("response while not in RTS/SQD");
    if (qp.inflight.empty()) return drop("response with nothing outstanding");

    bool progress = false;
    uint32_t acked = 0;  // packets this response answers, for the congestion window
    // Retire SEND/WRITE WQEs acknowledged by this packet: an ACK covers
    // its PSN; any other response implicitly acknowledges earlier PSNs.
    const bool is_ack = (op.flags & kAckOp) != 0;
    const bool positive = !(op.flags & kHasAeth) || (p.syndrome & aeth::kTypeMask) == aeth::kTypeAck;
    while (!qp.inflight.empty()) {
        SendWqe& w = qp.inflight.front();
        if (w.rd_atomic || !w.all_sent) break;
        const int32_t d = psn_diff(p.psn, w.last_psn());
        if (!(d > 0 || (d == 0 && is_ack && positive))) break;
        acked += w.npkts - std::min(w.acked_pkts, w.npkts);
        complete_send(qpn, qp, w, wc::kSuccess, 0);
        qp.inflight.pop_front();
        if (qp.send_pos) --qp.send_pos;
        progress = true;
    }

    // A positive ACK inside a multi-packet SEND/WRITE (the requester asks
    // one every 64 packets): progress too, so the ACK timer restarts and
    // a retransmission resumes after it (IBTA 9.7.5.2: the timer runs
    // while packets are outstanding without a response).
    if (is_ack && positive && !qp.inflight.empty()) {
        SendWqe& w = qp.inflight.front();
        const int32_t d = psn_diff(p.psn, w.first_psn);
        if (!w.rd_atomic && d >= 0 && static_cast<uint32_t>(d) < w.npkts && static_cast<uint32_t>(d) + 1 > w.acked_pkts) {
            acked += static_cast<uint32_t>(d) + 1 - w.acked_pkts;
            w.acked_pkts = static_cast<uint32_t>(d) + 1;
            progress = true;
        }
    }

    if ((op.flags & kHasAeth) && (p.syndrome & aeth::kTypeMask) != aeth::kTypeAck) {
        const uint8_t type = p.syndrome & aeth::kTypeMask;
        if (qp.inflight.empty()) return;
        SendWqe& w = qp.inflight.front();
        if (type == aeth::kTypeRnr) {
            if (qp.attr.rnr_retry != 7 && qp.rnr_left == 0) {
                complete_send(qpn, qp, w, wc::kRnrRetryExcErr, 0);
                qp.inflight.pop_front();
                qp_error(qpn, qp, ev::kNone);
                return;
            }
            if (qp.attr.rnr_retry != 7) --qp.rnr_left;
            rewind(qpn, qp, p.psn);
            qp.ack_deadline = 0;
            qp.rnr_deadline = host_.now_ns() + rnr_timer_ns(p.syndrome & 0x1f);
            add_timer(qpn, qp.rnr_deadline);
            return;
        }
        if (p.syndrome == aeth::kNakPsnSeq) {
            if (qp.retry_left == 0) {
                complete_send(qpn, qp, w, wc::kRetryExcErr, 0);
                qp.inflight.pop_front();
                qp_error(qpn, qp, ev::kNone);
                return;
            }
            --qp.retry_left;
            on_loss(qp);
            rewind(qpn, qp, p.psn);
            return;
        }
        // Class B/C/D NAKs: the WQE fails and the QP goes to ERR.
        complete_send(qpn, qp, w, status_for_nak(p.syndrome), p.syndrome);
        qp.inflight.pop_front();
        qp_error(qpn, qp, ev::kNone);
        return;
    }

    if (!is_ack && !qp.inflight.empty()) {
        SendWqe& w = qp.inflight.front();
        if (op.flags & kRead) {
            const uint32_t expect = psn_add(w.first_psn, w.resp_bytes / qp.mtu);
            if (w.ctrl.opcode != wr::kRdmaRead || p.psn != expect) {
                // A response went missing or comes late (an implied NAK
                // sequence error, IBTA 9.7.5.2): ask again from it, once
                // until one lands.  Reordering alone does this, so it
                // costs no retry; if the new request is lost too, the
                // ACK timer (which does) takes over.
                if (w.ctrl.opcode == wr::kRdmaRead && psn_diff(p.psn, expect) > 0 && !qp.read_gap_retry) {
                    on_loss(qp);
                    rewind(qpn, qp, expect);
                    qp.read_gap_retry = true;
                }
                return drop("unexpected READ response");
            }
            const uint32_t want = std::min(qp.mtu, w.length - w.resp_bytes);
            if (p.len != want) return drop("READ response of the wrong length");
            // Scatter into the local SGEs (local write access needed).
            uint32_t i = 0, skip = w.resp_bytes;
            while (i < w.ctrl.num_sge && skip >= w.sge[i].length) skip -= w.sge[i++].length;
            for (uint32_t done = 0; done < p.len; ++i, skip = 0) {
                const uint32_t n = std::min(p.len - done, w.sge[i].length - skip);
                if (mr_.write({w.sge[i].lkey, qp.pdn, HCASIM_ACCESS_LOCAL_WRITE}, w.sge[i].addr + skip,
                              p.data + done, n) != MrError::None) {
                    complete_send(qpn, qp, w, wc::kLocProtErr, 0);
                    qp.inflight.pop_front();
                    qp_error(qpn, qp, ev::kNone);
                    return;
                }
                done += n;
            }
            w.resp_bytes += p.len;
            ++acked;
            progress = true;
            if (op.flags & kLast) {
                complete_send(qpn, qp, w, wc::kSuccess, 0);
                if (w.counted) --qp.rd_atomic_out;
                qp.inflight.pop_front();
                if (qp.send_pos) --qp.send_pos;
            }
        } else if (op.flags & kAtomic) {
            if ((w.ctrl.opcode != wr::kCompSwap && w.ctrl.opcode != wr::kFetchAdd) || p.psn != w.first_psn)
                return drop("unexpected atomic ACK");
            if (mr_.write({w.sge[0].lkey, qp.pdn, HCASIM_ACCESS_LOCAL_WRITE}, w.sge[0].addr, &p.orig, 8) !=
                MrError::None) {
                complete_send(qpn, qp, w, wc::kLocProtErr, 0);
                qp.inflight.pop_front();
                qp_error(qpn, qp, ev::kNone);
                return;
            }
            complete_send(qpn, qp, w, wc::kSuccess, 0);
            if (w.counted) --qp.rd_atomic_out;
            qp.inflight.pop_front();
            if (qp.send_pos) --qp.send_pos;
            progress = true;
        }
    }

    if (acked) on_acked(qp, acked);
    if (progress) {
        qp.read_gap_retry = false;
        qp.retry_left = qp.attr.retry_cnt;
        qp.rnr_left = qp.attr.rnr_retry;
        qp.ack_deadline = 0;
        if (!qp.inflight.empty()) arm_ack_timer(qpn, qp);
        schedule(qpn, qp);
    }
}

}  // namespace hcasim::device
