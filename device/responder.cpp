// The responder role (see engine.h): checks each request packet (QP
// state, transport, QKey, PSN, opcode sequence), finds the receive WQE
// (own RQ or SRQ; RNR NAK when there is none), checks rkey, PD, access
// and bounds, moves the payload, answers READs and atomics, keeps the
// responder resources that replay duplicates, and ACKs or NAKs.
//
// Source: IBTA vol 1 9.7.4-9.7.5 (responder, ACK/NAK, duplicates),
// 9.7.5.2.8 (RNR), 10.2.9 (SRQ limit); the kernel's rxe_resp.c.
#include "device/engine.h"
#include "device/ipv4.h"
#include "device/opcodes.h"
#include "device/role_stages.h"

#include <cstring>
#include <iterator>

namespace hcasim::device {

namespace {

// RoCEv2 over IPv4: the GRH area of a UD receive holds 20 zero bytes,
// then the IPv4 header (IBTA Annex A17.4.5.1); otherwise an IPv6-style GRH.
void build_grh(const Packet& p, uint8_t out[kGrhLen]) {
    std::memset(out, 0, kGrhLen);
    uint32_t src = 0, dst = 0;
    if (gid_to_ipv4(p.sgid, src) && gid_to_ipv4(p.dgid, dst)) {
        // IPv4, UDP (8 bytes), BTH, DETH, the payload, the ICRC (4 bytes).
        const uint16_t total = static_cast<uint16_t>(kIpv4HeaderLen + 8 + kBthLen + kDethLen + p.len + 4);
        write_ipv4_header({p.traffic_class, total, 0, p.hop_limit, src, dst}, out + 20);
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

// The responder resource a new READ or atomic takes: the oldest of the
// max_dest_rd_atomic kept (IBTA 9.7.5.1.3).
RdAtomicResource& next_resource(Qp& qp) {
    const uint32_t n = std::max<uint32_t>(1, std::min<uint32_t>(qp.attr.max_dest_rd_atomic, qp.resp.resources.size()));
    return qp.resp.resources[qp.resp.next_resource++ % n];
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
        trace::nak(trace_, qpn, psn, syndrome);
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
    trace::srq_error(trace_, srqn, why);
    if (s.async_eqn != HCASIM_EQN_NONE) post_event(s.async_eqn, HCASIM_EVENT_ASYNC, ev::kSrqErr, srqn);
}

RecvTake RdmaEngine::take_recv_wqe(Qp& qp, uint32_t qpn) {
    RecvWqe& r = qp.resp.rwqe;
    r = RecvWqe{};
    WqeDecode d;
    if (qp.srqn) {
        Srq* s = srqs.find(qp.srqn);
        if (!s || s->error) return RecvTake::Fatal;
        uint32_t pi = 0;
        if (s->buf.dbrec_read(platform_.dma(), dbr::kSrqPi, pi) != 0) return RecvTake::Fatal;
        if (pi == s->consumed) return RecvTake::Rnr;
        if (pi - s->consumed > s->entries()) {
            srq_error(qp.srqn, *s, "doorbell beyond the ring");
            return RecvTake::Fatal;
        }
        d = format_.read_recv_wqe(platform_.dma(), s->ring(), s->next, r.wr);
        if (d.kind == WqeDecode::Fault && !d.header_valid) {
            srq_error(qp.srqn, *s, d.why);
            return RecvTake::Fatal;
        }
        r.wqe_counter = static_cast<uint16_t>(s->next % s->entries());
        // Taken even when malformed: it completes in error on this QP.
        s->next = r.wr.next;
        ++s->consumed;
        qp.resp.has_rwqe = true;
        if (s->limit && pi - s->consumed < s->limit) {
            s->limit = 0;  // one event per arming (IBTA 10.2.9.5)
            if (s->async_eqn != HCASIM_EQN_NONE)
                post_event(s->async_eqn, HCASIM_EVENT_ASYNC, ev::kSrqLimitReached, qp.srqn);
        }
        if (d.kind == WqeDecode::Malformed || r.wr.num_sge > s->max_sge) return RecvTake::BadWqe;
        if (d.kind == WqeDecode::Fault) {
            srq_error(qp.srqn, *s, d.why);
            return RecvTake::BadWqe;
        }
    } else {
        uint32_t pi = 0;
        if (qp.buf.dbrec_read(platform_.dma(), dbr::kRq, pi) != 0) return RecvTake::Fatal;
        if (pi == qp.resp.rq_ci) return RecvTake::Rnr;
        if (pi - qp.resp.rq_ci > qp.rq_entries()) {
            trace::rq_bad_doorbell(trace_, qpn, pi, qp.resp.rq_ci, qp.rq_entries());
            return RecvTake::Fatal;
        }
        d = format_.read_recv_wqe(platform_.dma(), qp.rq(), qp.resp.rq_ci, r.wr);
        if (d.kind == WqeDecode::Fault && !d.header_valid) return RecvTake::Fatal;
        r.wqe_counter = static_cast<uint16_t>(qp.resp.rq_ci);
        qp.resp.rq_ci += d.slots;
        qp.resp.has_rwqe = true;  // a bad WQE still completes (in error)
        if (d.kind != WqeDecode::Ok || r.wr.num_sge > qp.max_recv_sge) return RecvTake::BadWqe;
    }
    uint64_t total = 0;
    for (uint32_t i = 0; i < r.wr.num_sge; ++i) total += r.wr.sge[i].length;
    r.length = static_cast<uint32_t>(std::min<uint64_t>(total, UINT32_MAX));
    qp.resp.recv_offset = 0;
    return RecvTake::Ok;
}

void RdmaEngine::complete_recv(Qp& qp, uint32_t qpn, uint8_t status, uint8_t opcode,
                               uint32_t byte_len, const Packet* p, uint32_t vendor_err) {
    Completion c;
    c.wr_id = qp.resp.rwqe.wr.wr_id;
    c.status = status;
    c.opcode = opcode;
    c.byte_len = byte_len;
    c.qpn = qpn;
    c.src_qp = p && qp.type == qpt::kUd ? p->src_qp : qp.attr.dest_qp_num;
    c.vendor_err = vendor_err;
    c.wqe_counter = qp.resp.rwqe.wqe_counter;
    c.is_recv = true;
    c.srqn = qp.srqn;
    c.pkey_index = qp.attr.pkey_index;
    if (p && status == wc::kSuccess) {
        if (op_info(p->opcode).flags & kHasImm) {
            c.with_imm = true;
            c.imm_data = p->imm;
        }
        c.grh = qp.type == qpt::kUd;
        c.solicited = p->se;
    }
    qp.resp.has_rwqe = false;
    qp.resp.recv_offset = 0;
    post_cqe(qp.recv_cqn, c);
}

// Scatters len bytes at offset `off` of the receive WQE's SGEs.
static MrError scatter(MrEngine& mr, const Qp& qp, uint32_t off, const uint8_t* data, uint32_t len) {
    const RecvWqe& r = qp.resp.rwqe;
    uint32_t i = 0, skip = off;
    while (i < r.wr.num_sge && skip >= r.wr.sge[i].length) skip -= r.wr.sge[i++].length;
    for (uint32_t done = 0; done < len; ++i, skip = 0) {
        if (i >= r.wr.num_sge) return MrError::Bounds;
        const uint32_t n = std::min(len - done, r.wr.sge[i].length - skip);
        if (MrError e = mr.write({r.wr.sge[i].lkey, qp.pdn, HCASIM_ACCESS_LOCAL_WRITE},
                                 r.wr.sge[i].addr + skip, data + done, n);
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
    if (qp.resp.nak_pending) return drop_packet(&qp, qpn, p, "PSN ahead, a NAK is outstanding");
    if (qp.resp.stash.holds(p.psn)) return drop_packet(&qp, qpn, p, "PSN ahead, held already");
    const uint32_t ahead = static_cast<uint32_t>(psn_diff(p.psn, qp.resp.epsn));
    if (ahead <= ReorderStash::kWindow && !qp.resp.stash.full()) {
        ++stats_.reorder_held;
        const bool first = qp.resp.stash.empty();
        qp.resp.stash.put(p, platform_.now_ns());
        if (first) add_timer(qpn, qp.resp.stash.deadline);
        return;
    }
    send_seq_nak(qp, qpn, p);
    drop_packet(&qp, qpn, p, "PSN ahead of the expected PSN");
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
        return drop_packet(&qp, qpn, p, "duplicate atomic without a resource");
    }
    // A READ asked again (after a lost response, or in pieces the size of
    // the requester's window) is answered for what the request names, as
    // rxe does: READ has no side effect, so it is served from memory with
    // the usual checks even when its resource is gone.  A request that
    // runs past the expected PSN (the requester asks again in pieces of
    // its own size, and what this side received was a smaller piece) is
    // new from there on: the expected PSN moves past it, as for a new READ.
    if (op.flags & kRead) {
        if (!read_allowed(qp, p)) return drop_packet(&qp, qpn, p, "duplicate READ outside its MR");
        const uint32_t n = std::max<uint32_t>(1, (p.dma_len + qp.mtu - 1) / qp.mtu);
        const uint32_t upto = static_cast<uint32_t>(psn_diff(qp.resp.epsn, p.psn));
        if (n > upto) {
            if (qp.resp.in_send || qp.resp.in_write) return drop_packet(&qp, qpn, p, "READ over a message in progress");
            qp.resp.nak_pending = false;
            next_resource(qp) = RdAtomicResource{true, false, p.psn, n, p.va, p.rkey, p.dma_len, 0};
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

// One request packet on its way through the responder's stages.
struct RdmaEngine::RespCtx {
    Qp& qp;
    uint32_t qpn;
    Packet& p;
    const OpInfo& op;
    bool rc;
    RecvTake take = RecvTake::Ok;  // what CheckResource found
    const char* why = "";          // a Drop's reason
    uint64_t orig = 0;             // an atomic's original value
};

// The responder's stages (see device/role_stages.h).  Each handles one
// check or action and returns the next stage.
struct RdmaEngine::Responder {
    using Ctx = RespCtx;

    static RespStage drop(Ctx& c, const char* why) {
        c.why = why;
        return RespStage::Drop;
    }
    // A NAK (RC only); class C/D errors put the responder QP in ERR too.
    static RespStage nak(RdmaEngine& e, Ctx& c, uint8_t syndrome) {
        if (c.rc) e.send_ack(c.qp, c.qpn, c.p, syndrome, c.p.psn);
        e.qp_error(c.qpn, c.qp, syndrome == aeth::kNakRemoteAccess ? ev::kQpAccessErr : ev::kQpReqErr);
        return RespStage::Done;
    }
    static bool is_send(const Ctx& c) { return c.op.flags & kSend; }
    static bool is_write(const Ctx& c) { return c.op.flags & kWrite; }
    static bool write_imm(const Ctx& c) { return is_write(c) && (c.op.flags & kHasImm); }
    static bool ud(const Ctx& c) { return c.qp.type == qpt::kUd; }
    // The opcode of the receive CQE a SEND or WRITE with immediate makes.
    static uint8_t recv_opcode(const Ctx& c) { return is_write(c) ? wc::kOpRecvRdmaWithImm : wc::kOpRecv; }

    static RespStage check_header(RdmaEngine&, Ctx& c) {
        const uint32_t st = c.qp.state;
        if (st != qps::kRtr && st != qps::kRts && st != qps::kSqd && st != qps::kSqe)
            return drop(c, "QP not ready to receive");
        if ((c.p.opcode & 0xe0) != transport_of(c.qp.type)) return drop(c, "transport does not match the QP");
        if (ud(c)) return RespStage::CheckOpValid;  // one packet per message, no PSN order
        if (c.p.len > c.qp.mtu) return drop(c, "payload longer than the path MTU");
        return RespStage::CheckPsn;
    }

    static RespStage check_psn(RdmaEngine&, Ctx& c) {
        ResponderState& r = c.qp.resp;
        const int32_t d = psn_diff(c.p.psn, r.epsn);
        if (c.rc) {
            if (d > 0) return RespStage::PsnAhead;
            if (d < 0) return RespStage::Duplicate;
            // In order: past the NAK'd PSN, the requester has come back.
            // (At it, this may be the late original of the packet NAK'd
            // for: the rewind is still to come.)
            if (r.nak_pending && c.p.psn != r.nak_psn) r.nak_pending = false;
            return RespStage::CheckOpSeq;
        }
        const bool first = c.op.flags & kFirst;
        if (d != 0) {
            // UC: a lost packet drops the rest of the message (IBTA 9.8.3).
            r.in_send = r.in_write = false;
            if (!first) {
                r.uc_drop = true;
                r.epsn = psn_add(c.p.psn, 1);
                return drop(c, "UC PSN gap");
            }
            r.epsn = c.p.psn;
        }
        if (r.uc_drop && !first) {
            r.epsn = psn_add(c.p.psn, 1);
            return drop(c, "UC: rest of a broken message");
        }
        r.uc_drop = false;
        return RespStage::CheckOpSeq;
    }

    static RespStage check_op_seq(RdmaEngine&, Ctx& c) {
        const ResponderState& r = c.qp.resp;
        const uint32_t f = c.op.flags;
        const bool continuation = (f & kMiddle) || ((f & kLast) && !(f & kFirst));
        if ((r.in_send && !(continuation && (f & kSend))) || (r.in_write && !(continuation && (f & kWrite))) ||
            (!r.in_send && !r.in_write && continuation))
            return RespStage::ErrOpSeq;
        return RespStage::CheckOpValid;
    }

    static RespStage check_op_valid(RdmaEngine&, Ctx& c) {
        if (ud(c)) return c.p.qkey == c.qp.attr.qkey ? RespStage::CheckResource : drop(c, "QKey mismatch");
        const uint32_t access = c.qp.attr.qp_access_flags;
        if ((c.op.flags & kRead) && !(access & HCASIM_ACCESS_REMOTE_READ)) return RespStage::ErrRkey;
        if (c.op.flags & kAtomic) {
            if (!(access & HCASIM_ACCESS_REMOTE_ATOMIC)) return RespStage::ErrRkey;
            if (c.p.va % 8) return RespStage::ErrMisaligned;
        }
        if (is_write(c) && (c.op.flags & kFirst) && !(access & HCASIM_ACCESS_REMOTE_WRITE))
            return RespStage::ErrRkey;
        return RespStage::CheckRkey;
    }

    // An atomic's rkey is checked as it executes (MrEngine::atomic).
    static RespStage check_rkey(RdmaEngine& e, Ctx& c) {
        if (c.op.flags & kRead)
            return e.read_allowed(c.qp, c.p) ? RespStage::CheckResource : RespStage::ErrRkey;
        if (is_write(c) && (c.op.flags & kFirst)) {
            if (e.mr_.check({c.p.rkey, c.qp.pdn, HCASIM_ACCESS_REMOTE_WRITE}, c.p.va, c.p.dma_len) !=
                MrError::None)
                return RespStage::ErrRkey;
            ResponderState& r = c.qp.resp;
            r.write_va = c.p.va;
            r.write_rkey = c.p.rkey;
            r.write_left = r.write_len = c.p.dma_len;
            r.in_write = true;
        }
        return RespStage::CheckResource;
    }

    // A receive WQE for a UD packet, a first SEND or a WRITE with
    // immediate (IBTA 9.4.3: it consumes one).
    static RespStage check_resource(RdmaEngine& e, Ctx& c) {
        const bool needs = ud(c) || (is_send(c) && (c.op.flags & kFirst)) || write_imm(c);
        if (!needs) return RespStage::CheckLength;
        c.take = e.take_recv_wqe(c.qp, c.qpn);
        switch (c.take) {
        case RecvTake::Ok: break;
        case RecvTake::Rnr: return RespStage::ErrRnr;
        case RecvTake::BadWqe: return RespStage::ErrMalformedWqe;
        case RecvTake::Fatal: return RespStage::ErrRecvQueue;
        }
        if (is_send(c) && !ud(c)) c.qp.resp.in_send = true;  // a UD message is one packet
        return RespStage::CheckLength;
    }

    static RespStage check_length(RdmaEngine&, Ctx& c) {
        const ResponderState& r = c.qp.resp;
        if (ud(c)) return kGrhLen + c.p.len > r.rwqe.length ? RespStage::ErrLength : RespStage::Execute;
        if (is_send(c) && r.recv_offset + c.p.len > r.rwqe.length) return RespStage::ErrLength;
        if (is_write(c) && c.p.len > r.write_left) return RespStage::ErrLength;
        return RespStage::Execute;
    }

    static RespStage execute(RdmaEngine& e, Ctx& c) {
        Qp& qp = c.qp;
        ResponderState& r = qp.resp;
        if (c.op.flags & kRead) {
            RdAtomicResource& res = next_resource(qp);
            res = RdAtomicResource{true, false, c.p.psn, std::max<uint32_t>(1, (c.p.dma_len + qp.mtu - 1) / qp.mtu),
                                   c.p.va, c.p.rkey, c.p.dma_len, 0};
            r.epsn = psn_add(c.p.psn, res.npkts);
            ++r.msn;
            return RespStage::ReadReply;
        }
        if (c.op.flags & kAtomic) {
            const bool cas = c.p.opcode == bth::kCompareSwap;
            if (e.mr_.atomic({c.p.rkey, qp.pdn, HCASIM_ACCESS_REMOTE_ATOMIC}, c.p.va, cas,
                             cas ? c.p.compare : c.p.swap_add, c.p.swap_add, &c.orig) != MrError::None)
                return RespStage::ErrRkey;
            next_resource(qp) = RdAtomicResource{true, true, c.p.psn, 1, c.p.va, c.p.rkey, 8, c.orig};
            r.epsn = psn_add(c.p.psn, 1);
            ++r.msn;
            return RespStage::AtomicReply;
        }
        if (ud(c)) {
            uint8_t grh[kGrhLen];
            build_grh(c.p, grh);
            MrError err = scatter(e.mr_, qp, 0, grh, kGrhLen);
            if (err == MrError::None && c.p.len) err = scatter(e.mr_, qp, kGrhLen, c.p.data, c.p.len);
            return err == MrError::None ? RespStage::Complete : RespStage::ErrScatter;
        }
        if (is_send(c)) {
            if (c.p.len) {
                if (scatter(e.mr_, qp, r.recv_offset, c.p.data, c.p.len) != MrError::None)
                    return RespStage::ErrScatter;
                r.recv_offset += c.p.len;
            }
        } else if (c.p.len) {
            const uint64_t at = r.write_va + (r.write_len - r.write_left);
            if (e.mr_.write({r.write_rkey, qp.pdn, HCASIM_ACCESS_REMOTE_WRITE}, at, c.p.data, c.p.len) !=
                MrError::None)
                return RespStage::ErrRkey;
            r.write_left -= c.p.len;
        }
        r.epsn = psn_add(c.p.psn, 1);
        return RespStage::Complete;
    }

    static RespStage read_reply(RdmaEngine& e, Ctx& c) {
        e.send_read_responses(c.qp, c.qpn, c.p, std::max<uint32_t>(1, (c.p.dma_len + c.qp.mtu - 1) / c.qp.mtu));
        return RespStage::Done;
    }

    static RespStage atomic_reply(RdmaEngine& e, Ctx& c) {
        e.flush_ack(c.qp);
        Packet a = e.response(c.qp, bth::kAtomicAck, c.p.psn, aeth::kAck);
        a.orig = c.orig;
        e.emit(a);
        return RespStage::Done;
    }

    static RespStage complete(RdmaEngine& e, Ctx& c) {
        ResponderState& r = c.qp.resp;
        if (ud(c)) {
            e.complete_recv(c.qp, c.qpn, wc::kSuccess, wc::kOpRecv, kGrhLen + c.p.len, &c.p, 0);
            return RespStage::Done;
        }
        if (!(c.op.flags & kLast)) return RespStage::Acknowledge;
        ++r.msn;
        if (is_send(c)) {
            r.in_send = false;
            e.complete_recv(c.qp, c.qpn, wc::kSuccess, wc::kOpRecv, r.recv_offset, &c.p, 0);
        } else {
            r.in_write = false;
            if (c.op.flags & kHasImm)
                e.complete_recv(c.qp, c.qpn, wc::kSuccess, wc::kOpRecvRdmaWithImm, r.write_len, &c.p, 0);
        }
        return RespStage::Acknowledge;
    }

    static RespStage acknowledge(RdmaEngine& e, Ctx& c) {
        if (c.rc && c.p.ack_req) e.send_ack(c.qp, c.qpn, c.p, aeth::kAck, c.p.psn);
        return RespStage::Done;
    }

    static RespStage done(RdmaEngine&, Ctx&) { return RespStage::Done; }

    static RespStage psn_ahead(RdmaEngine& e, Ctx& c) {
        e.request_ahead(c.qp, c.qpn, c.p);
        return RespStage::Done;
    }

    static RespStage duplicate(RdmaEngine& e, Ctx& c) {
        e.duplicate_request(c.qp, c.qpn, c.p);
        return RespStage::Done;
    }

    static RespStage dropped(RdmaEngine& e, Ctx& c) {
        e.drop_packet(&c.qp, c.qpn, c.p, c.why);
        return RespStage::Done;
    }

    static RespStage err_op_seq(RdmaEngine& e, Ctx& c) {
        if (c.rc) return nak(e, c, aeth::kNakInvalidRequest);
        c.qp.resp.in_send = c.qp.resp.in_write = false;
        c.qp.resp.uc_drop = true;
        return drop(c, "UC opcode out of sequence");
    }

    static RespStage err_misaligned(RdmaEngine& e, Ctx& c) { return nak(e, c, aeth::kNakInvalidRequest); }

    static RespStage err_rkey(RdmaEngine& e, Ctx& c) {
        c.qp.resp.in_write = false;
        return nak(e, c, aeth::kNakRemoteAccess);
    }

    static RespStage err_rnr(RdmaEngine& e, Ctx& c) {
        if (ud(c)) return drop(c, "no receive WQE");
        if (c.rc) e.send_rnr_nak(c.qp, c.qpn, c.p);
        if (is_send(c)) {
            if (!c.rc) c.qp.resp.uc_drop = true;
            return drop(c, "RNR: no receive WQE");
        }
        if (c.op.flags & kFirst) c.qp.resp.in_write = false;
        return drop(c, "RNR: no receive WQE for WRITE with immediate");
    }

    // A malformed receive WQE completes with IBV_WC_LOC_QP_OP_ERR; the
    // requester gets a remote operational error.
    static RespStage err_malformed_wqe(RdmaEngine& e, Ctx& c) {
        e.complete_recv(c.qp, c.qpn, wc::kLocQpOpErr, recv_opcode(c), 0, &c.p, 0);
        if (!ud(c)) return nak(e, c, aeth::kNakRemoteOp);
        e.qp_error(c.qpn, c.qp, ev::kNone);
        return drop(c, "bad receive WQE");
    }

    // A receive queue the device cannot use is a local catastrophic error.
    static RespStage err_recv_queue(RdmaEngine& e, Ctx& c) {
        if (c.rc) e.send_ack(c.qp, c.qpn, c.p, aeth::kNakRemoteOp, c.p.psn);
        e.qp_error(c.qpn, c.qp, ev::kQpFatal);
        return ud(c) ? drop(c, "receive queue broken") : RespStage::Done;
    }

    static RespStage err_length(RdmaEngine& e, Ctx& c) {
        ResponderState& r = c.qp.resp;
        if (ud(c)) {  // the receive completes in error; the QP goes on
            e.complete_recv(c.qp, c.qpn, wc::kLocLenErr, wc::kOpRecv, 0, &c.p, 0);
            return RespStage::Done;
        }
        if (is_send(c)) {
            e.complete_recv(c.qp, c.qpn, wc::kLocLenErr, wc::kOpRecv, r.recv_offset, &c.p, 0);
            r.in_send = false;
        } else {
            r.in_write = false;
        }
        return nak(e, c, aeth::kNakInvalidRequest);
    }

    static RespStage err_scatter(RdmaEngine& e, Ctx& c) {
        if (ud(c)) {
            e.complete_recv(c.qp, c.qpn, wc::kLocProtErr, wc::kOpRecv, 0, &c.p, 0);
            e.qp_error(c.qpn, c.qp, ev::kNone);
            return RespStage::Done;
        }
        e.complete_recv(c.qp, c.qpn, wc::kLocProtErr, wc::kOpRecv, c.qp.resp.recv_offset, &c.p, 0);
        c.qp.resp.in_send = false;
        return nak(e, c, aeth::kNakRemoteOp);
    }

    using Step = RespStage (*)(RdmaEngine&, Ctx&);
    // Indexed by RespStage.
    static constexpr Step kSteps[] = {
        check_header, check_psn, check_op_seq, check_op_valid, check_rkey, check_resource,
        check_length, execute, read_reply, atomic_reply, complete, acknowledge, done,
        psn_ahead, duplicate, dropped, err_op_seq, err_misaligned, err_rkey, err_rnr,
        err_malformed_wqe, err_recv_queue, err_length, err_scatter,
    };
    static_assert(std::size(kSteps) == static_cast<size_t>(RespStage::ErrScatter) + 1);
};

void RdmaEngine::respond_one(Qp& qp, uint32_t qpn, Packet& p) {
    RespCtx c{qp, qpn, p, op_info(p.opcode), qp.type == qpt::kRc};
    RespStage s = RespStage::CheckHeader;
    while (s != RespStage::Done) {
        const RespStage next = Responder::kSteps[static_cast<size_t>(s)](*this, c);
        if (trace_dp_ && off_path(next) && !off_path(s))
            trace::resp_stage(trace_, qpn, c.op.name, p.psn, stage_name(s), stage_name(next));
        s = next;
    }
}

}  // namespace hcasim::device
