// The responder role (see engine.h): checks each request packet (QP
// state, transport, QKey, PSN, opcode sequence), finds the receive WQE
// (own RQ or SRQ; RNR NAK when there is none), checks rkey, PD, access
// and bounds, moves the payload, answers READs and atomics, keeps the
// responder resources that replay duplicates, and ACKs or NAKs.
//
// Source: IBTA vol 1 9.7.4-9.7.5 (responder, ACK/NAK, duplicates),
// 9.7.5.2.8 (RNR), 10.2.9 (SRQ limit); the kernel's rxe_resp.c.
#include "device/engine.h"
#include "device/opcodes.h"

#include <cstring>

namespace hcasim::device {

namespace {

// RoCEv2 over IPv4: the GRH area of a UD receive holds 20 zero bytes,
// then the IPv4 header (IBTA Annex A17.4.5.1); otherwise an IPv6-style GRH.
void build_grh(const Packet& p, uint8_t out[kGrhLen]) {
    std::memset(out, 0, kGrhLen);
    const bool v4 = p.sgid[10] == 0xff && p.sgid[11] == 0xff &&
                    std::all_of(p.sgid.begin(), p.sgid.begin() + 10, [](uint8_t b) { return !b; });
    if (v4) {
        uint8_t* ip = out + 20;
        const uint16_t total = static_cast<uint16_t>(20 + 8 + kBthLen + kDethLen + p.len + 4);
        ip[0] = 0x45;
        ip[1] = p.traffic_class;
        ip[2] = static_cast<uint8_t>(total >> 8);
        ip[3] = static_cast<uint8_t>(total);
        ip[6] = 0x40;  // DF
        ip[8] = p.hop_limit;
        ip[9] = 17;    // UDP
        std::memcpy(ip + 12, p.sgid.data() + 12, 4);
        std::memcpy(ip + 16, p.dgid.data() + 12, 4);
        uint32_t sum = 0;
        for (int i = 0; i < 20; i += 2) sum += (ip[i] << 8) | ip[i + 1];
        while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
        const uint16_t csum = static_cast<uint16_t>(~sum);
        ip[10] = static_cast<uint8_t>(csum >> 8);
        ip[11] = static_cast<uint8_t>(csum);
    } else {
        const uint32_t w0 = (6u << 28) | (uint32_t{p.traffic_class} << 20) | (p.flow_label & 0xfffff);
        out[0] = static_cast<uint8_t>(w0 >> 24);
        out[1] = static_cast<uint8_t>(w0 >> 16);
        out[2] = static_cast<uint8_t>(w0 >> 8);
        out[3] = static_cast<uint8_t>(w0);
        const uint16_t paylen = static_cast<uint16_t>(kBthLen + kDethLen + p.len + 4);
        out[4] = static_cast<uint8_t>(paylen >> 8);
        out[5] = static_cast<uint8_t>(paylen);
        out[6] = 0x1b;  // next header: IBA
        out[7] = p.hop_limit;
        std::memcpy(out + 8, p.sgid.data(), 16);
        std::memcpy(out + 24, p.dgid.data(), 16);
    }
}

uint8_t transport_of(uint32_t type) {
    return type == qpt::kRc ? bth::kRc : type == qpt::kUc ? bth::kUc : bth::kUd;
}

}  // namespace

Packet RdmaEngine::response(Qp& qp, uint8_t opcode, uint32_t psn, uint8_t syndrome) {
    Packet a;
    fill_route(qp, a);
    a.opcode = opcode;
    a.psn = psn;
    a.syndrome = syndrome;
    a.msn = qp.resp.msn & 0xffffff;
    return a;
}

void RdmaEngine::send_ack(Qp& qp, uint32_t qpn, const Packet& req, uint8_t syndrome, uint32_t psn) {
    (void)req;
    if (syndrome == aeth::kAck) {
        // Coalesced (IBTA 9.7.5.1: one ACK may answer every packet up to
        // its PSN): sent once the packets received together are handled,
        // or at once when it answers rc_window().ack_every packets or
        // more (a long message's window must open as it goes).
        qp.resp.ack_due_psn = psn;
        if (!qp.resp.ack_due) {
            qp.resp.ack_due = true;
            acks_due_.push_back(qpn);
        }
        if (psn_diff(psn, qp.resp.ack_sent_psn) >= static_cast<int32_t>(rc_window(qp.mtu).ack_every)) flush_ack(qp);
        return;
    }
    flush_ack(qp);  // what was acknowledged goes first
    Packet a = response(qp, bth::kAck, psn, syndrome);
    if ((syndrome & aeth::kTypeMask) == aeth::kTypeRnr) ++stats_.rnr_naks;
    else ++stats_.naks;
    if (trace_dp_ && (syndrome & aeth::kTypeMask) != aeth::kTypeAck)
        trace_.event("nak", "qpn={:#x} psn={} syndrome={:#x}", qpn, psn, syndrome);
    emit(a);
}

void RdmaEngine::send_rnr_nak(Qp& qp, uint32_t qpn, const Packet& p) {
    // What follows is dropped silently until the requester comes back
    // to this PSN after the RNR timer (IBTA 9.7.5.2.8).
    qp.resp.stash.clear();
    qp.resp.nak_pending = true;
    qp.resp.nak_psn = p.psn;
    send_ack(qp, qpn, p, static_cast<uint8_t>(aeth::kRnrNak | (qp.attr.min_rnr_timer & 0x1f)), p.psn);
}

void RdmaEngine::flush_ack(Qp& qp) {
    if (!qp.resp.ack_due) return;
    qp.resp.ack_due = false;
    if (qp.state != qps::kRtr && qp.state != qps::kRts && qp.state != qps::kSqd) return;
    Packet a = response(qp, bth::kAck, qp.resp.ack_due_psn, aeth::kAck);
    qp.resp.ack_sent_psn = qp.resp.ack_due_psn;
    ++stats_.acks;
    emit(a);
}

void RdmaEngine::flush_acks() {
    std::vector<uint32_t> due;
    due.swap(acks_due_);
    for (uint32_t qpn : due)
        if (Qp* qp = qps.find(qpn)) flush_ack(*qp);
}

void RdmaEngine::srq_error(uint32_t srqn, Srq& s, const char* why) {
    if (s.error) return;
    s.error = true;
    trace_.event("srq_error", "srqn={:#x} reason=\"{}\"", srqn, why);
    if (s.async_eqn != HCASIM_EQN_NONE) post_event(s.async_eqn, HCASIM_EVENT_ASYNC, ev::kSrqErr, srqn);
}

RecvTake RdmaEngine::take_recv_wqe(Qp& qp, uint32_t qpn) {
    RecvWqe& r = qp.resp.rwqe;
    r = RecvWqe{};
    if (qp.srqn) {
        Srq* s = srqs.find(qp.srqn);
        if (!s || s->error) return RecvTake::Fatal;
        uint32_t pi = 0;
        if (s->buf.dbrec_read(*host_.dma, dbr::kSrqPi, pi) != 0) return RecvTake::Fatal;
        if (pi == s->consumed) return RecvTake::Rnr;
        if (pi - s->consumed > s->entries()) {
            srq_error(qp.srqn, *s, "doorbell beyond the ring");
            return RecvTake::Fatal;
        }
        const uint64_t at = uint64_t{s->next % s->entries()} << s->log_stride;
        if (s->buf.read(*host_.dma, at, &r.hdr, sizeof(r.hdr)) != 0) {
            srq_error(qp.srqn, *s, "ring outside guest memory");
            return RecvTake::Fatal;
        }
        r.wqe_counter = static_cast<uint16_t>(s->next % s->entries());
        // Taken even when malformed: it completes in error on this QP.
        s->next = r.hdr.next;
        ++s->consumed;
        qp.resp.has_rwqe = true;
        if (s->limit && pi - s->consumed < s->limit) {
            s->limit = 0;  // one event per arming (IBTA 10.2.9.5)
            if (s->async_eqn != HCASIM_EQN_NONE)
                post_event(s->async_eqn, HCASIM_EVENT_ASYNC, ev::kSrqLimitReached, qp.srqn);
        }
        if (r.hdr.num_sge > s->max_sge || r.hdr.num_sge > kMaxSge) return RecvTake::BadWqe;
        if (s->buf.read(*host_.dma, at + sizeof(r.hdr), r.sge.data(), 16u * r.hdr.num_sge) != 0) {
            srq_error(qp.srqn, *s, "ring outside guest memory");
            return RecvTake::BadWqe;
        }
    } else {
        uint32_t pi = 0;
        if (qp.buf.dbrec_read(*host_.dma, dbr::kRq, pi) != 0) return RecvTake::Fatal;
        if (pi == qp.resp.rq_ci) return RecvTake::Rnr;
        if (pi - qp.resp.rq_ci > qp.rq_entries()) {
            trace_.event("rq_bad_doorbell", "qpn={:#x} rq_pi={} ci={} entries={}", qpn, pi, qp.resp.rq_ci,
                         qp.rq_entries());
            return RecvTake::Fatal;
        }
        const uint64_t at = uint64_t{qp.resp.rq_ci % qp.rq_entries()} << qp.log_rq_stride;
        if (qp.buf.read(*host_.dma, at, &r.hdr, sizeof(r.hdr)) != 0) return RecvTake::Fatal;
        r.wqe_counter = static_cast<uint16_t>(qp.resp.rq_ci);
        ++qp.resp.rq_ci;
        qp.resp.has_rwqe = true;  // a bad WQE still completes (in error)
        if (r.hdr.num_sge > qp.max_recv_sge || r.hdr.num_sge > kMaxSge ||
            sizeof(r.hdr) + 16u * r.hdr.num_sge > (1u << qp.log_rq_stride))
            return RecvTake::BadWqe;
        if (qp.buf.read(*host_.dma, at + sizeof(r.hdr), r.sge.data(), 16u * r.hdr.num_sge) != 0)
            return RecvTake::BadWqe;
    }
    uint64_t total = 0;
    for (uint32_t i = 0; i < r.hdr.num_sge; ++i) total += r.sge[i].length;
    r.length = static_cast<uint32_t>(std::min<uint64_t>(total, UINT32_MAX));
    qp.resp.recv_offset = 0;
    return RecvTake::Ok;
}

void RdmaEngine::complete_recv(Qp& qp, uint32_t qpn, uint8_t status, uint8_t opcode,
                               uint32_t byte_len, const Packet* p, uint32_t vendor_err) {
    hcasim_cqe c{};
    c.wr_id = qp.resp.rwqe.hdr.wr_id;
    c.status = status;
    c.opcode = opcode;
    c.byte_len = byte_len;
    c.qpn = qpn;
    c.src_qp = p && qp.type == qpt::kUd ? p->src_qp : qp.attr.dest_qp_num;
    c.vendor_err = vendor_err;
    c.wqe_counter = qp.resp.rwqe.wqe_counter;
    c.is_recv = 1;
    c.srqn = qp.srqn;
    c.pkey_index = qp.attr.pkey_index;
    if (p && status == wc::kSuccess) {
        if (op_info(p->opcode).flags & kHasImm) {
            c.flags |= HCASIM_CQE_WITH_IMM;
            c.imm_data = p->imm;
        }
        if (qp.type == qpt::kUd) c.flags |= HCASIM_CQE_GRH;
        if (p->se) c.flags |= HCASIM_CQE_SOLICITED;
    }
    qp.resp.has_rwqe = false;
    qp.resp.recv_offset = 0;
    post_cqe(qp.recv_cqn, c);
}

// Scatters len bytes at offset `off` of the receive WQE's SGEs.
static MrError scatter(MrEngine& mr, const Qp& qp, uint32_t off, const uint8_t* data, uint32_t len) {
    const RecvWqe& r = qp.resp.rwqe;
    uint32_t i = 0, skip = off;
    while (i < r.hdr.num_sge && skip >= r.sge[i].length) skip -= r.sge[i++].length;
    for (uint32_t done = 0; done < len; ++i, skip = 0) {
        if (i >= r.hdr.num_sge) return MrError::Bounds;
        const uint32_t n = std::min(len - done, r.sge[i].length - skip);
        if (MrError e = mr.write({r.sge[i].lkey, qp.pdn, HCASIM_ACCESS_LOCAL_WRITE},
                                 r.sge[i].addr + skip, data + done, n);
            e != MrError::None)
            return e;
        done += n;
    }
    return MrError::None;
}

void RdmaEngine::send_read_responses(Qp& qp, uint32_t qpn, const Packet& req, uint32_t npkts) {
    flush_ack(qp);  // earlier packets' ACK before the responses
    const uint32_t mtu = qp.mtu;
    const MrAccess acc{req.rkey, qp.pdn, HCASIM_ACCESS_REMOTE_READ};
    for (uint32_t k = 0; k < npkts; ++k) {
        Packet p;
        fill_route(qp, p);
        const bool first = k == 0, last = k + 1 == npkts;
        p.opcode = first && last ? bth::kReadRespOnly
                   : first       ? bth::kReadRespFirst
                   : last        ? bth::kReadRespLast
                                 : bth::kReadRespMiddle;
        p.psn = psn_add(req.psn, k);
        p.syndrome = aeth::kAck;
        p.msn = qp.resp.msn & 0xffffff;
        const uint32_t off = k * mtu;
        const uint32_t len = std::min(mtu, req.dma_len - std::min(req.dma_len, off));
        if (len) {
            MrError err = MrError::None;
            p.data = mr_.direct(acc, req.va + off, len, false, &err);
            if (!p.data && err == MrError::None) {
                p.owned.resize(len);
                err = mr_.read(acc, req.va + off, p.owned.data(), len);
                p.data = p.owned.data();
            }
            if (err != MrError::None) {
                // As for a failed rkey check: NAK, and the responder errs.
                send_ack(qp, qpn, req, aeth::kNakRemoteAccess, p.psn);
                qp_error(qpn, qp, ev::kQpAccessErr);
                return;
            }
            p.len = len;
        }
        emit(p);
    }
}

bool RdmaEngine::read_allowed(const Qp& qp, const Packet& p) {
    return (qp.attr.qp_access_flags & HCASIM_ACCESS_REMOTE_READ) &&
           mr_.check({p.rkey, qp.pdn, HCASIM_ACCESS_REMOTE_READ}, p.va, p.dma_len) == MrError::None;
}

void RdmaEngine::resp_drop(Qp& qp, uint32_t qpn, const Packet& p, const char* why) {
    ++qp.rx_dropped;
    ++stats_.rx_dropped;
    if (trace_dp_)
        trace_.event("rx_drop", "qpn={:#x} opcode={} psn={} reason=\"{}\"", qpn, op_info(p.opcode).name, p.psn, why);
}

void RdmaEngine::send_seq_nak(Qp& qp, uint32_t qpn, const Packet& p) {
    qp.resp.stash.clear();
    qp.resp.nak_pending = true;
    qp.resp.nak_psn = qp.resp.epsn;
    send_ack(qp, qpn, p, aeth::kNakPsnSeq, qp.resp.epsn);
}

void RdmaEngine::request_ahead(Qp& qp, uint32_t qpn, Packet& p) {
    // After a NAK nothing beyond it is answered until the requester comes
    // back: one NAK per PSN, never a NAK per packet in flight.
    // Once the NAK'd PSN itself has been taken the requester is back: a
    // new gap gets its own NAK.
    if (qp.resp.nak_pending && psn_diff(qp.resp.epsn, qp.resp.nak_psn) > 0) qp.resp.nak_pending = false;
    if (qp.resp.nak_pending) return resp_drop(qp, qpn, p, "PSN ahead, a NAK is outstanding");
    if (qp.resp.stash.holds(p.psn)) return resp_drop(qp, qpn, p, "PSN ahead, held already");
    const uint32_t ahead = static_cast<uint32_t>(psn_diff(p.psn, qp.resp.epsn));
    if (ahead <= ReorderStash::kWindow && !qp.resp.stash.full()) {
        ++stats_.reorder_held;
        const bool first = qp.resp.stash.empty();
        qp.resp.stash.put(p, host_.now_ns());
        if (first) add_timer(qpn, qp.resp.stash.deadline);
        return;
    }
    send_seq_nak(qp, qpn, p);
    resp_drop(qp, qpn, p, "PSN ahead of the expected PSN");
}

void RdmaEngine::duplicate_request(Qp& qp, uint32_t qpn, Packet& p) {
    // The requester is back at (or before) the PSN it was NAK'd for.
    if (qp.resp.nak_pending && psn_diff(p.psn, qp.resp.nak_psn) <= 0) qp.resp.nak_pending = false;
    const OpInfo& op = op_info(p.opcode);
    // IBTA 9.7.5.1.2: an atomic is answered from its responder resource,
    // never executed twice.
    if (op.flags & kAtomic) {
        for (const RdAtomicResource& r : qp.resp.resources) {
            if (!r.valid || !r.atomic || r.psn != p.psn) continue;
            flush_ack(qp);
            Packet a = response(qp, bth::kAtomicAck, r.psn, aeth::kAck);
            a.orig = r.orig;
            emit(a);
            return;
        }
        return resp_drop(qp, qpn, p, "duplicate atomic without a resource");
    }
    // A READ asked again (after a lost response, or in pieces the size of
    // the requester's window) is answered for what the request names, as
    // rxe does: READ has no side effect, so it is served from memory with
    // the usual checks even when its resource is gone.  A request that
    // runs past the expected PSN (the requester asks again in pieces of
    // its own size, and what this side received was a smaller piece) is
    // new from there on: the expected PSN moves past it, as for a new READ.
    if (op.flags & kRead) {
        if (!read_allowed(qp, p)) return resp_drop(qp, qpn, p, "duplicate READ outside its MR");
        const uint32_t n = std::max<uint32_t>(1, (p.dma_len + qp.mtu - 1) / qp.mtu);
        const uint32_t upto = static_cast<uint32_t>(psn_diff(qp.resp.epsn, p.psn));
        if (n > upto) {
            if (qp.resp.in_send || qp.resp.in_write) return resp_drop(qp, qpn, p, "READ over a message in progress");
            qp.resp.nak_pending = false;
            RdAtomicResource& r = qp.resp.resources[qp.resp.next_resource++ % std::max<uint32_t>(1, std::min<uint32_t>(qp.attr.max_dest_rd_atomic, qp.resp.resources.size()))];
            r = RdAtomicResource{true, false, p.psn, n, p.va, p.rkey, p.dma_len, 0};
            qp.resp.epsn = psn_add(p.psn, n);
            ++qp.resp.msn;
        }
        send_read_responses(qp, qpn, p, n);
        return;
    }
    // SEND/WRITE: acknowledged again, nothing redone.
    if (p.ack_req) send_ack(qp, qpn, p, aeth::kAck, psn_add(qp.resp.epsn, 0xffffff));
}

void RdmaEngine::respond(Qp& qp, uint32_t qpn, Packet& p) {
    respond_one(qp, qpn, p);
    // Requests held ahead of a gap that this packet closed.
    while (!qp.resp.stash.empty()) {
        std::optional<Packet> next = qp.resp.stash.take(qp.resp.epsn);
        if (!next) break;
        respond_one(qp, qpn, *next);
        restart_wait(qpn, qp.resp.stash);
    }
    std::erase_if(qp.resp.stash.held, [&](const Packet& h) { return psn_diff(h.psn, qp.resp.epsn) < 0; });
    if (qp.resp.stash.empty()) qp.resp.stash.deadline = 0;
}

void RdmaEngine::on_reorder_timeout(uint32_t qpn, Qp& qp) {
    qp.resp.stash.deadline = 0;
    if (qp.resp.stash.empty() || qp.resp.nak_pending) return;
    // The gap did not close in time: a loss, answered as IBTA says.
    send_seq_nak(qp, qpn, Packet{});
}

void RdmaEngine::respond_one(Qp& qp, uint32_t qpn, Packet& p) {
    const OpInfo& op = op_info(p.opcode);
    auto drop = [&](const char* why) { resp_drop(qp, qpn, p, why); };
    if (qp.state != qps::kRtr && qp.state != qps::kRts && qp.state != qps::kSqd && qp.state != qps::kSqe)
        return drop("QP not ready to receive");
    if ((p.opcode & 0xe0) != transport_of(qp.type)) return drop("transport does not match the QP");
    if (p.len > qp.mtu && qp.type != qpt::kUd) return drop("payload longer than the path MTU");

    // ---- UD: one packet per message ----
    if (qp.type == qpt::kUd) {
        if (p.qkey != qp.attr.qkey) return drop("QKey mismatch");
        switch (take_recv_wqe(qp, qpn)) {
        case RecvTake::Ok: break;
        case RecvTake::Rnr: return drop("no receive WQE");
        case RecvTake::BadWqe:
            complete_recv(qp, qpn, wc::kLocQpOpErr, wc::kOpRecv, 0, &p, 0);
            qp_error(qpn, qp, ev::kNone);
            return drop("bad receive WQE");
        case RecvTake::Fatal:
            qp_error(qpn, qp, ev::kQpFatal);
            return drop("receive queue broken");
        }
        if (kGrhLen + p.len > qp.resp.rwqe.length) {
            complete_recv(qp, qpn, wc::kLocLenErr, wc::kOpRecv, 0, &p, 0);
            return;
        }
        uint8_t grh[kGrhLen];
        build_grh(p, grh);
        MrError e = scatter(mr_, qp, 0, grh, kGrhLen);
        if (e == MrError::None && p.len) e = scatter(mr_, qp, kGrhLen, p.data, p.len);
        if (e != MrError::None) {
            complete_recv(qp, qpn, wc::kLocProtErr, wc::kOpRecv, 0, &p, 0);
            qp_error(qpn, qp, ev::kNone);
            return;
        }
        complete_recv(qp, qpn, wc::kSuccess, wc::kOpRecv, kGrhLen + p.len, &p, 0);
        return;
    }

    const bool rc = qp.type == qpt::kRc;
    // ---- PSN check ----
    const int32_t d = psn_diff(p.psn, qp.resp.epsn);
    if (rc && d > 0) return request_ahead(qp, qpn, p);
    if (rc && d < 0) return duplicate_request(qp, qpn, p);
    // In order: past the NAK'd PSN, the requester has come back.  (At it,
    // this may be the late original of the packet NAK'd for: the rewind
    // is still to come.)
    if (rc && qp.resp.nak_pending && p.psn != qp.resp.nak_psn) qp.resp.nak_pending = false;
    if (!rc && d != 0) {
        // UC: a lost packet drops the rest of the message (IBTA 9.8.3).
        qp.resp.in_send = qp.resp.in_write = false;
        if (!(op.flags & kFirst)) {
            qp.resp.uc_drop = true;
            qp.resp.epsn = psn_add(p.psn, 1);
            return drop("UC PSN gap");
        }
        qp.resp.epsn = p.psn;
    }
    if (!rc && qp.resp.uc_drop && !(op.flags & kFirst)) {
        qp.resp.epsn = psn_add(p.psn, 1);
        return drop("UC: rest of a broken message");
    }
    qp.resp.uc_drop = false;

    // NAK helper: class C/D errors put the responder QP in ERR too.
    auto nak = [&](uint8_t syndrome) {
        if (rc) send_ack(qp, qpn, p, syndrome, p.psn);
        qp_error(qpn, qp, syndrome == aeth::kNakRemoteAccess ? ev::kQpAccessErr : ev::kQpReqErr);
    };
    // A receive WQE could not be taken (not RNR): a malformed WQE completes
    // with IBV_WC_LOC_QP_OP_ERR; a broken queue is a local catastrophic
    // error.  Either way the requester gets a remote operational error.
    auto recv_fault = [&](RecvTake t, uint8_t opcode) {
        if (t == RecvTake::BadWqe) {
            complete_recv(qp, qpn, wc::kLocQpOpErr, opcode, 0, &p, 0);
            return nak(aeth::kNakRemoteOp);
        }
        if (rc) send_ack(qp, qpn, p, aeth::kNakRemoteOp, p.psn);
        qp_error(qpn, qp, ev::kQpFatal);
    };

    // ---- opcode sequence ----
    const bool continuation = (op.flags & kMiddle) || ((op.flags & kLast) && !(op.flags & kFirst));
    if ((qp.resp.in_send && !(continuation && (op.flags & kSend))) ||
        (qp.resp.in_write && !(continuation && (op.flags & kWrite))) ||
        (!qp.resp.in_send && !qp.resp.in_write && continuation)) {
        if (!rc) {
            qp.resp.in_send = qp.resp.in_write = false;
            qp.resp.uc_drop = true;
            return drop("UC opcode out of sequence");
        }
        return nak(aeth::kNakInvalidRequest);
    }

    // ---- READ ----
    if (op.flags & kRead) {
        if (!read_allowed(qp, p)) return nak(aeth::kNakRemoteAccess);
        RdAtomicResource& r = qp.resp.resources[qp.resp.next_resource++ % std::max<uint32_t>(1, std::min<uint32_t>(qp.attr.max_dest_rd_atomic, qp.resp.resources.size()))];
        r = RdAtomicResource{true, false, p.psn,
                             std::max<uint32_t>(1, (p.dma_len + qp.mtu - 1) / qp.mtu), p.va, p.rkey,
                             p.dma_len, 0};
        qp.resp.epsn = psn_add(p.psn, r.npkts);
        ++qp.resp.msn;
        send_read_responses(qp, qpn, p, r.npkts);
        return;
    }
    // ---- atomics ----
    if (op.flags & kAtomic) {
        if (!(qp.attr.qp_access_flags & HCASIM_ACCESS_REMOTE_ATOMIC)) return nak(aeth::kNakRemoteAccess);
        if (p.va % 8) return nak(aeth::kNakInvalidRequest);
        uint64_t orig = 0;
        const MrError e = mr_.atomic({p.rkey, qp.pdn, HCASIM_ACCESS_REMOTE_ATOMIC}, p.va,
                                     p.opcode == bth::kCompareSwap, p.opcode == bth::kCompareSwap ? p.compare : p.swap_add,
                                     p.swap_add, &orig);
        if (e != MrError::None) return nak(aeth::kNakRemoteAccess);
        RdAtomicResource& r = qp.resp.resources[qp.resp.next_resource++ % std::max<uint32_t>(1, std::min<uint32_t>(qp.attr.max_dest_rd_atomic, qp.resp.resources.size()))];
        r = RdAtomicResource{true, true, p.psn, 1, p.va, p.rkey, 8, orig};
        qp.resp.epsn = psn_add(p.psn, 1);
        ++qp.resp.msn;
        flush_ack(qp);
        Packet a = response(qp, bth::kAtomicAck, p.psn, aeth::kAck);
        a.orig = orig;
        emit(a);
        return;
    }

    const bool imm = op.flags & kHasImm;
    // ---- SEND ----
    if (op.flags & kSend) {
        if (op.flags & kFirst) {
            const RecvTake t = take_recv_wqe(qp, qpn);
            if (t == RecvTake::Rnr) {
                if (rc) send_rnr_nak(qp, qpn, p);
                else qp.resp.uc_drop = true;
                return drop("RNR: no receive WQE");
            }
            if (t != RecvTake::Ok) return recv_fault(t, wc::kOpRecv);
            qp.resp.in_send = true;
        }
        if (qp.resp.recv_offset + p.len > qp.resp.rwqe.length) {
            complete_recv(qp, qpn, wc::kLocLenErr, wc::kOpRecv, qp.resp.recv_offset, &p, 0);
            qp.resp.in_send = false;
            return nak(aeth::kNakInvalidRequest);
        }
        if (p.len) {
            if (scatter(mr_, qp, qp.resp.recv_offset, p.data, p.len) != MrError::None) {
                complete_recv(qp, qpn, wc::kLocProtErr, wc::kOpRecv, qp.resp.recv_offset, &p, 0);
                qp.resp.in_send = false;
                return nak(aeth::kNakRemoteOp);
            }
            qp.resp.recv_offset += p.len;
        }
        qp.resp.epsn = psn_add(p.psn, 1);
        if (op.flags & kLast) {
            qp.resp.in_send = false;
            ++qp.resp.msn;
            complete_recv(qp, qpn, wc::kSuccess, wc::kOpRecv, qp.resp.recv_offset, &p, 0);
        }
        if (rc && p.ack_req) send_ack(qp, qpn, p, aeth::kAck, p.psn);
        return;
    }

    // ---- WRITE ----
    if (op.flags & kFirst) {
        if (!(qp.attr.qp_access_flags & HCASIM_ACCESS_REMOTE_WRITE) ||
            mr_.check({p.rkey, qp.pdn, HCASIM_ACCESS_REMOTE_WRITE}, p.va, p.dma_len) != MrError::None)
            return nak(aeth::kNakRemoteAccess);
        qp.resp.write_va = p.va;
        qp.resp.write_rkey = p.rkey;
        qp.resp.write_left = p.dma_len;
        qp.resp.write_len = p.dma_len;
        qp.resp.in_write = true;
    }
    if (imm) {
        // WRITE with immediate consumes a receive WQE (IBTA 9.4.3).
        const RecvTake t = take_recv_wqe(qp, qpn);
        if (t == RecvTake::Rnr) {
            if (rc) send_rnr_nak(qp, qpn, p);
            if (op.flags & kFirst) qp.resp.in_write = false;
            return drop("RNR: no receive WQE for WRITE with immediate");
        }
        if (t != RecvTake::Ok) return recv_fault(t, wc::kOpRecvRdmaWithImm);
    }
    if (p.len > qp.resp.write_left) {
        qp.resp.in_write = false;
        return nak(aeth::kNakInvalidRequest);
    }
    if (p.len) {
        const uint64_t at = qp.resp.write_va + (qp.resp.write_len - qp.resp.write_left);
        if (mr_.write({qp.resp.write_rkey, qp.pdn, HCASIM_ACCESS_REMOTE_WRITE}, at, p.data, p.len) != MrError::None) {
            qp.resp.in_write = false;
            return nak(aeth::kNakRemoteAccess);
        }
        qp.resp.write_left -= p.len;
    }
    qp.resp.epsn = psn_add(p.psn, 1);
    if (op.flags & kLast) {
        qp.resp.in_write = false;
        ++qp.resp.msn;
        if (imm) complete_recv(qp, qpn, wc::kSuccess, wc::kOpRecvRdmaWithImm, qp.resp.write_len, &p, 0);
    }
    if (rc && p.ack_req) send_ack(qp, qpn, p, aeth::kAck, p.psn);
}

}  // namespace hcasim::device
