// The requester role (see engine.h): takes send WQEs from the SQ, assigns
// PSNs, splits messages into MTU-sized packets (a READ takes one PSN per
// response packet), respects max_rd_atomic and fences, and completes
// UC/UD WQEs once sent.  RC completions come from the completer.
//
// Source: IBTA vol 1 9.7.1-9.7.3 (requester, PSNs), 9.4 (operations),
// 10.8.3.3 (fences); the kernel's rxe_req.c.
#include "device/engine.h"
#include "device/opcodes.h"

#include <cstring>

namespace hcasim::device {

namespace {

// Every path MTU's window starts within its bounds, and its minimum holds
// two AckReqs (so a halved window still gets an ACK back).
constexpr bool window_sound(uint32_t path_mtu) {
    const RdmaEngine::RcWindow w = RdmaEngine::rc_window(path_mtu);
    return w.ack_every > 0 && w.min == 2 * w.ack_every && w.min <= w.init && w.init <= w.max;
}
static_assert(window_sound(256) && window_sound(512) && window_sound(1024) && window_sound(2048) &&
              window_sound(4096));

uint8_t wc_opcode_for(uint8_t wr_op) {
    switch (wr_op) {
    case wr::kRdmaWrite:
    case wr::kRdmaWriteImm: return wc::kOpRdmaWrite;
    case wr::kSend:
    case wr::kSendImm: return wc::kOpSend;
    case wr::kRdmaRead: return wc::kOpRdmaRead;
    case wr::kCompSwap: return wc::kOpCompSwap;
    case wr::kFetchAdd: return wc::kOpFetchAdd;
    default: return wc::kOpSend;
    }
}

bool opcode_allowed(uint32_t type, uint8_t op) {
    switch (op) {
    case wr::kSend:
    case wr::kSendImm: return true;
    case wr::kRdmaWrite:
    case wr::kRdmaWriteImm: return type != qpt::kUd;
    case wr::kRdmaRead:
    case wr::kCompSwap:
    case wr::kFetchAdd: return type == qpt::kRc;
    default: return false;
    }
}

}  // namespace

SendWqe* RdmaEngine::current_send(Qp& qp) {
    return qp.req.send_pos < qp.req.inflight.size() ? &qp.req.inflight[qp.req.send_pos] : nullptr;
}

void RdmaEngine::arm_ack_timer(uint32_t qpn, Qp& qp) {
    if (qp.type != qpt::kRc || qp.attr.timeout == 0 || qp.comp.ack_deadline) return;
    // 4.096 µs * 2^timeout, doubled for each timeout in a row without
    // progress, up to 8 times (CompleterState::backoff).
    const uint64_t ns = (4096ull << std::min<uint32_t>(qp.attr.timeout, 31))
                        << std::min(qp.comp.backoff, CompleterState::kMaxBackoff);
    qp.comp.ack_deadline = platform_.now_ns() + ns;
    add_timer(qpn, qp.comp.ack_deadline);
}

void RdmaEngine::complete_send(uint32_t qpn, Qp& qp, SendWqe& w, uint8_t status,
                               uint32_t vendor_err) {
    if (!w.wr.signaled && !qp.sq_sig_all && status == wc::kSuccess) return;
    Completion c;
    c.wr_id = w.wr.wr_id;
    c.status = status;
    c.opcode = wc_opcode_for(w.wr.opcode);
    c.byte_len = w.wr.opcode == wr::kCompSwap || w.wr.opcode == wr::kFetchAdd ? 8 : w.length;
    c.qpn = qpn;
    c.vendor_err = vendor_err;
    c.wqe_counter = static_cast<uint16_t>(w.index);
    post_cqe(qp.send_cqn, c);
}

// Takes the next WQE of the SQ into inflight, decoded by the queue format,
// and checks it against the QP.  Returns false when the SQ is empty (or
// the WQE was bad and the QP went to ERR).
bool RdmaEngine::fetch_wqe(uint32_t qpn, Qp& qp) {
    if (qp.req.sq_head == qp.req.sq_pi_seen) {
        uint32_t pi = 0;
        if (qp.buf.dbrec_read(platform_.dma(), dbr::kSq, pi) != 0 || pi == qp.req.sq_head) return false;
        qp.req.sq_pi_seen = pi;
    }
    if (qp.req.sq_pi_seen - qp.req.sq_head > qp.sq_entries()) {
        trace::wqe_bad_doorbell(trace_, qpn, qp.req.sq_pi_seen, qp.req.sq_head, qp.sq_entries());
        qp_error(qpn, qp, ev::kQpFatal);
        return false;
    }
    SendWqe& w = qp.req.inflight.push_back();
    w = SendWqe{};
    w.index = qp.req.sq_head;
    const WqeDecode d = format_.read_send_wqe(platform_.dma(), qp.sq(), qp.req.sq_head, w.wr);
    qp.req.sq_head += d.slots;
    ++stats_.wqes;
    auto fail = [&](uint8_t status, uint32_t synd, const char* why, uint8_t event = ev::kNone) {
        trace::wqe_bad(trace_, qpn, w.index, wr::name(w.wr.opcode), why);
        // The bad WQE completes in error; the QP goes to ERR and flushes
        // whatever else is outstanding.
        SendWqe bad = w;
        qp.req.inflight.pop_back();
        complete_send(qpn, qp, bad, status, synd);
        qp_error(qpn, qp, event);
        return false;
    };
    // A ring the device cannot read is a local catastrophic error.
    const bool fault = d.kind == WqeDecode::Fault;
    if (fault && !d.header_valid)
        return fail(wc::kLocQpOpErr, HCASIM_SYND_QUEUE_BAD_BUF, d.why, ev::kQpFatal);
    const SendRequest& r = w.wr;
    if (!opcode_allowed(qp.type, r.opcode)) return fail(wc::kLocQpOpErr, 0, "opcode not supported on this QP type");
    if (d.kind == WqeDecode::Malformed) return fail(wc::kLocQpOpErr, 0, d.why);
    if (r.num_sge > qp.max_send_sge) return fail(wc::kLocQpOpErr, 0, "too many SGEs");
    if (fault) return fail(wc::kLocQpOpErr, HCASIM_SYND_QUEUE_BAD_BUF, d.why, ev::kQpFatal);
    if (r.is_inline) {
        // Inline data is a payload: SEND and WRITE only (mlx5 builds no
        // inline segment for READ or atomics).
        const uint8_t op = r.opcode;
        if (op != wr::kSend && op != wr::kSendImm && op != wr::kRdmaWrite && op != wr::kRdmaWriteImm)
            return fail(wc::kLocQpOpErr, 0, "inline data on a READ or atomic");
        if (r.inline_len > qp.max_inline) return fail(wc::kLocQpOpErr, 0, "inline data too long");
        w.length = r.inline_len;
    } else {
        uint64_t total = 0;
        for (uint32_t i = 0; i < r.num_sge; ++i) total += r.sge[i].length;
        if (total > limits_.max_msg) return fail(wc::kLocLenErr, 0, "message longer than max_msg_sz");
        w.length = static_cast<uint32_t>(total);
    }
    const bool atomic = r.opcode == wr::kCompSwap || r.opcode == wr::kFetchAdd;
    if (atomic && w.length != 8) return fail(wc::kLocLenErr, 0, "atomic needs an 8-byte SGE");
    // RoCE: a UD address vector needs a GRH with a source GID of the
    // table (an all-zero, absent AV has none).
    if (qp.type == qpt::kUd && (!r.ud.is_global || r.ud.sgid_index >= HCASIM_GID_TABLE_LEN))
        return fail(wc::kLocQpOpErr, 0, "UD address vector without a valid GRH");
    if (qp.type == qpt::kUd && w.length > qp.mtu && w.length > port_.mtu)
        return fail(wc::kLocLenErr, 0, "UD message longer than the MTU");
    w.rd_atomic = atomic || r.opcode == wr::kRdmaRead;
    const uint32_t mtu = qp.type == qpt::kUd ? port_.mtu : qp.mtu;
    w.npkts = atomic ? 1 : std::max<uint32_t>(1, (w.length + mtu - 1) / mtu);
    w.first_psn = qp.req.next_psn;
    qp.req.next_psn = psn_add(qp.req.next_psn, w.npkts);
    if (trace_dp_) {
        std::string flags;
        for (const auto& [on, name] : {std::pair{r.signaled, "signaled"}, {r.solicited, "solicited"},
                                       {r.fence, "fence"}, {r.is_inline, "inline"}})
            if (on) flags += flags.empty() ? name : std::string("|") + name;
        trace::wqe(trace_, qpn, w.index, r.wr_id, wr::name(r.opcode), w.first_psn, w.last_psn(), w.length,
                   flags.empty() ? "none" : flags);
    }
    return true;
}

void RdmaEngine::fill_route(const Qp& qp, Packet& p) const {
    p.sgid = gids_[qp.attr.ah.sgid_index % 2];
    std::memcpy(p.dgid.data(), qp.attr.ah.dgid, 16);
    p.traffic_class = qp.attr.ah.traffic_class;
    p.hop_limit = qp.attr.ah.hop_limit ? qp.attr.ah.hop_limit : 64;
    p.flow_label = qp.attr.ah.flow_label;
    p.dest_qp = qp.attr.dest_qp_num;
}

// Builds and sends the next packet of w.  Returns false when the QP
// faulted.
bool RdmaEngine::send_packet_of(uint32_t qpn, Qp& qp, SendWqe& w) {
    Packet p;
    const uint8_t base = qp.type == qpt::kRc ? bth::kRc : qp.type == qpt::kUc ? bth::kUc : bth::kUd;
    const uint8_t op = w.wr.opcode;
    const uint32_t mtu = qp.type == qpt::kUd ? port_.mtu : qp.mtu;
    const uint32_t k = w.next_pkt;
    uint32_t read_pkts = 0;
    if (qp.type == qpt::kUd) {
        const UdAddress& ud = w.wr.ud;
        p.dgid = ud.dgid;
        p.sgid = gids_[ud.sgid_index % 2];
        p.traffic_class = ud.traffic_class;
        p.hop_limit = ud.hop_limit ? ud.hop_limit : 64;
        p.flow_label = ud.flow_label;
        p.dest_qp = ud.remote_qpn & 0xffffff;
        // IBTA 10.2.4: a QKey with the high bit set means "use the QP's".
        p.qkey = (ud.remote_qkey & 0x80000000u) ? qp.attr.qkey : ud.remote_qkey;
        p.src_qp = qpn;
    } else {
        fill_route(qp, p);
    }
    p.psn = psn_add(w.first_psn, k);
    const bool first = k == 0, last = k + 1 == w.npkts;
    uint32_t off = 0, len = 0;
    switch (op) {
    case wr::kSend:
    case wr::kSendImm:
    case wr::kRdmaWrite:
    case wr::kRdmaWriteImm: {
        const bool send = op == wr::kSend || op == wr::kSendImm;
        const bool imm = op == wr::kSendImm || op == wr::kRdmaWriteImm;
        off = k * mtu;
        len = std::min(mtu, w.length - off);
        uint8_t o;
        if (send)
            o = first && last ? (imm ? bth::kSendOnlyImm : bth::kSendOnly)
                : first       ? bth::kSendFirst
                : last        ? (imm ? bth::kSendLastImm : bth::kSendLast)
                              : bth::kSendMiddle;
        else
            o = first && last ? (imm ? bth::kWriteOnlyImm : bth::kWriteOnly)
                : first       ? bth::kWriteFirst
                : last        ? (imm ? bth::kWriteLastImm : bth::kWriteLast)
                              : bth::kWriteMiddle;
        p.opcode = static_cast<uint8_t>(base | o);
        if (!send && first) {
            p.va = w.wr.remote_addr;
            p.rkey = w.wr.rkey;
            p.dma_len = w.length;
        }
        if (imm && last) p.imm = w.wr.imm_data;
        p.se = last && w.wr.solicited;
        p.ack_req = last || (k + 1) % rc_window(qp.mtu).ack_every == 0;
        break;
    }
    case wr::kRdmaRead: {
        // One request for the rest of the message, or for a piece of it
        // once a response was lost (read_chunk); the VA advances with it.
        read_pkts = std::max<uint32_t>(1, read_chunk(qp, w, unanswered(qp, w)));
        p.opcode = bth::kReadRequest;
        p.va = w.wr.remote_addr + uint64_t{k} * mtu;
        p.rkey = w.wr.rkey;
        p.dma_len = std::min(w.length - std::min(w.length, k * mtu), read_pkts * mtu);
        p.ack_req = true;
        break;
    }
    case wr::kCompSwap:
    case wr::kFetchAdd:
        p.opcode = op == wr::kCompSwap ? bth::kCompareSwap : bth::kFetchAdd;
        p.va = w.wr.remote_addr;
        p.rkey = w.wr.rkey;
        p.swap_add = op == wr::kCompSwap ? w.wr.swap : w.wr.compare_add;
        p.compare = w.wr.compare_add;
        p.ack_req = true;
        break;
    }
    // Payload: inline bytes, or the SGEs' memory through their lkeys.
    if (len) {
        if (w.wr.is_inline) {
            p.data = w.wr.inline_data.data() + off;
            p.len = len;
        } else {
            // Find the SGE holding byte `off`.
            uint32_t i = 0, skip = off;
            while (i < w.wr.num_sge && skip >= w.wr.sge[i].length) skip -= w.wr.sge[i++].length;
            MrError err = MrError::None;
            const Sge* s = i < w.wr.num_sge ? &w.wr.sge[i] : nullptr;
            if (s && s->length - skip >= len)
                p.data = mr_.direct({s->lkey, qp.pdn, 0}, s->addr + skip, len, false, &err);
            if (!p.data && err == MrError::None) {
                p.owned.resize(len);
                for (uint32_t done = 0; done < len && err == MrError::None; ++i, skip = 0) {
                    const uint32_t n = std::min(len - done, w.wr.sge[i].length - skip);
                    err = mr_.read({w.wr.sge[i].lkey, qp.pdn, 0}, w.wr.sge[i].addr + skip,
                                   p.owned.data() + done, n);
                    done += n;
                }
                p.data = p.owned.data();
            }
            if (err != MrError::None) {
                trace::wqe_lkey_fault(trace_, qpn, w.index, to_string(err));
                complete_send(qpn, qp, w, wc::kLocProtErr, 0);
                w.completed = true;  // still in inflight: the flush must not complete it again
                qp_error(qpn, qp, ev::kNone);
                return false;
            }
            p.len = len;
        }
    }
    w.next_pkt = (op == wr::kRdmaRead) ? k + read_pkts : k + 1;
    if (w.rd_atomic && !w.counted) {
        w.counted = true;
        ++qp.req.rd_atomic_out;
    }
    if (w.next_pkt == w.npkts) {
        ++qp.req.send_pos;
        w.all_sent = true;
    }
    const bool done_unreliable = qp.type != qpt::kRc && w.next_pkt == w.npkts;
    if (qp.type == qpt::kRc) arm_ack_timer(qpn, qp);
    emit(p);
    if (done_unreliable && qp.state != qps::kErr && !qp.req.inflight.empty()) {
        // UC/UD: complete once sent (IBTA 9.8: no acknowledgement).
        retire_front(qpn, qp, wc::kSuccess);
    }
    return true;
}

uint32_t RdmaEngine::unanswered(const Qp& qp, const SendWqe& next) const {
    const SendWqe& f = qp.req.inflight.front();
    const uint32_t answered = f.wr.opcode == wr::kRdmaRead ? f.resp_bytes / qp.mtu
                              : f.rd_atomic                  ? 0
                                                             : f.acked_pkts;
    const int32_t d = psn_diff(psn_add(next.first_psn, next.next_pkt), psn_add(f.first_psn, answered));
    return d > 0 ? static_cast<uint32_t>(d) : 0;
}

bool RdmaEngine::run_requester(uint32_t qpn, Qp& qp, uint32_t budget) {
    bool work = false;
    while (budget-- > 0) {
        if ((qp.state != qps::kRts && qp.state != qps::kSqd) || qp.comp.rnr_deadline) break;
        SendWqe* w = current_send(qp);
        if (!w) {
            if (qp.state == qps::kSqd) break;
            if (qp.type == qpt::kRc && qp.req.inflight.size() >= qp.sq_entries()) break;
            if (!fetch_wqe(qpn, qp)) break;
            w = current_send(qp);
            if (!w) break;
        }
        if (w->next_pkt == 0 && !w->counted) {
            const uint32_t max_rd = std::max<uint32_t>(1, qp.attr.max_rd_atomic);
            if (w->rd_atomic && qp.req.rd_atomic_out >= max_rd) break;
            if (w->wr.fence && qp.req.rd_atomic_out > 0) break;
        }
        if (qp.type == qpt::kRc) {
            // The congestion window of unanswered packets (the ACKs asked
            // every rc_window().ack_every packets and the READ responses
            // open it): a loss then costs at most this much go-back-N,
            // and a switch's queues are not flooded.  A READ counts all its response
            // packets; one always may go.
            const uint32_t out = unanswered(qp, *w);
            const uint32_t span = w->wr.opcode == wr::kRdmaRead ? read_chunk(qp, *w, out) : 1;
            if (span == 0 || (out > 0 && out + span > qp.req.window)) break;
        }
        if (backend_ && backend_->tx_busy()) break;  // rescheduled by poll()
        if (!send_packet_of(qpn, qp, *w)) break;
        work = true;
        // Loopback: the packet is handled now (RC: its ACK retires WQEs).
        // A payload may point into this WQE's inflight slot (inline
        // data), which a later WQE reuses: it must be delivered first.
        drain_rx();
    }
    return work;
}

void RdmaEngine::on_loss(Qp& qp) {
    qp.req.window = std::max(rc_window(qp.mtu).min, qp.req.window / 2);
    qp.req.window_acked = 0;
}

void RdmaEngine::on_acked(Qp& qp, uint32_t packets) {
    qp.req.window_acked += packets;
    if (qp.req.window_acked < qp.req.window) return;
    qp.req.window_acked -= qp.req.window;
    const RcWindow win = rc_window(qp.mtu);
    qp.req.window = std::min(win.max, qp.req.window + win.ack_every);
}

uint32_t RdmaEngine::read_chunk(const Qp& qp, const SendWqe& w, uint32_t out) const {
    const uint32_t rest = w.npkts - std::min(w.next_pkt, w.npkts);
    if (!w.rerequest) return rest;
    // Asked again: the responses come in pieces the window has room for,
    // at least rc_window().ack_every packets (or the rest), so a lost
    // response costs at most a window of them, and stale responses never
    // crowd the link (IBTA leaves a READ's retry to the requester).
    const uint32_t room = qp.req.window > out ? qp.req.window - out : 0;
    const uint32_t least = std::min(rest, rc_window(qp.mtu).ack_every);
    return room >= least ? std::min(rest, room) : 0;
}

void RdmaEngine::rewind(uint32_t qpn, Qp& qp, uint32_t psn) {
    qp.comp.read_gap_retry = false;
    qp.comp.stash.clear();  // what it held is asked again
    for (size_t i = 0; i < qp.req.inflight.size(); ++i) {
        SendWqe& w = qp.req.inflight[i];
        const int32_t d = psn_diff(psn, w.first_psn);
        if (d < 0 || static_cast<uint32_t>(d) >= w.npkts) continue;
        // A READ is asked again for what has not landed: a request at the
        // PSN of the first missing response, for the rest of the message
        // (its VA and length advanced; the responder replays from its
        // resources, as rxe and a ConnectX do).
        if (w.wr.opcode == wr::kRdmaRead) {
            w.next_pkt = w.resp_bytes / qp.mtu;
            w.rerequest = true;
        } else {
            w.next_pkt = static_cast<uint32_t>(d);
        }
        for (size_t j = i + 1; j < qp.req.inflight.size(); ++j) {
            SendWqe& later = qp.req.inflight[j];
            if (later.wr.opcode == wr::kRdmaRead && later.next_pkt) later.rerequest = true;
            later.next_pkt = 0;
            later.resp_bytes = 0;
        }
        // An earlier WQE with packets still to send (a READ asked again
        // in pieces) goes first.
        qp.req.send_pos = std::min(qp.req.send_pos, static_cast<uint32_t>(i));
        ++stats_.retries;
        if (trace_dp_) trace::retry(trace_, qpn, psn, w.index);
        schedule(qpn, qp);
        return;
    }
}

}  // namespace hcasim::device
