// Posting work requests: ibv_post_send, ibv_post_recv (rdma-core
// ibv_post_send(3), ibv_post_recv(3)).  A WQE is written at the queue's
// head in the fixed-stride layout of abi/hcasim_abi.h, the doorbell
// record gets the new producer count, then the UAR is kicked.
//
// Errors (the first bad WR goes to *bad_wr, the ones before it are
// posted):
//  - send: QP in RESET, INIT or RTR -> EINVAL; an opcode the QP type
//    cannot carry (READ/atomics on UC, anything but SEND on UD) or out of
//    range -> EINVAL; LOCAL_INV, BIND_MW, SEND_WITH_INV, TSO, DRIVER1,
//    FLUSH, ATOMIC_WRITE -> EOPNOTSUPP; SQ full -> ENOMEM; more SGEs than
//    max_send_sge, inline data beyond max_inline_data, UD without an AH ->
//    EINVAL (rxe's and the brief's EINVAL; mlx5 says ENOMEM for the SGE
//    and inline overflows);
//  - receive: QP in RESET or with an SRQ -> EINVAL; RQ full -> ENOMEM;
//    too many SGEs -> EINVAL.
// Zero-length SGEs are left out, as mlx5 does.
#include "verbs/provider.h"

#include <cerrno>
#include <cstring>

namespace hcasim::verbs {

namespace {

bool opcode_allowed(ibv_qp_type t, uint32_t op) {
    switch (op) {
    case IBV_WR_SEND:
    case IBV_WR_SEND_WITH_IMM: return true;
    case IBV_WR_RDMA_WRITE:
    case IBV_WR_RDMA_WRITE_WITH_IMM: return t == IBV_QPT_RC || t == IBV_QPT_UC;
    case IBV_WR_RDMA_READ:
    case IBV_WR_ATOMIC_CMP_AND_SWP:
    case IBV_WR_ATOMIC_FETCH_AND_ADD: return t == IBV_QPT_RC;
    default: return false;
    }
}

bool opcode_unsupported(uint32_t op) {
    switch (op) {
    case IBV_WR_LOCAL_INV:
    case IBV_WR_BIND_MW:
    case IBV_WR_SEND_WITH_INV:
    case IBV_WR_TSO:
    case IBV_WR_DRIVER1:
    case IBV_WR_FLUSH:
    case IBV_WR_ATOMIC_WRITE: return true;
    default: return false;
    }
}

bool carries_data_inline(uint32_t op) {
    return op == IBV_WR_SEND || op == IBV_WR_SEND_WITH_IMM || op == IBV_WR_RDMA_WRITE ||
           op == IBV_WR_RDMA_WRITE_WITH_IMM;
}

// SGEs into a WQE's data area, zero-length ones left out: their count.
uint8_t put_sges(uint8_t* data, const ibv_sge* sg, size_t n) {
    uint8_t k = 0;
    for (size_t i = 0; i < n; ++i) {
        if (!sg[i].length) continue;
        hcasim_wqe_sge s{sg[i].addr, sg[i].length, sg[i].lkey};
        std::memcpy(data + 16 * k++, &s, sizeof(s));
    }
    return k;
}

int build_send(QpShell* qp, const ibv_send_wr& wr) {
    const ibv_qp_type type = qp->ibqp()->qp_type;
    // The caller may put any number in the enum field: read it as such.
    uint32_t op = 0;
    static_assert(sizeof(wr.opcode) == sizeof(op));
    std::memcpy(&op, &wr.opcode, sizeof(op));
    if (opcode_unsupported(op)) return EOPNOTSUPP;
    if (!opcode_allowed(type, op)) return EINVAL;
    WorkQueue& sq = qp->sq;
    if (sq.head - sq.tail.load(std::memory_order_acquire) >= sq.max_post) return ENOMEM;
    if (wr.num_sge < 0 || static_cast<uint32_t>(wr.num_sge) > sq.max_gs) return EINVAL;
    const bool inl = (wr.send_flags & IBV_SEND_INLINE) && carries_data_inline(op);
    size_t inline_len = 0;
    if (inl) {
        for (int i = 0; i < wr.num_sge; ++i) inline_len += wr.sg_list[i].length;
        if (inline_len > qp->max_inline) return EINVAL;
    }
    if (type == IBV_QPT_UD && !wr.wr.ud.ah) return EINVAL;

    uint8_t* wqe = sq.wqe(sq.head);
    std::memset(wqe, 0, HCASIM_WQE_DATA_OFF);
    hcasim_wqe_ctrl ctrl{};
    ctrl.opcode = static_cast<uint8_t>(op);
    if ((wr.send_flags & IBV_SEND_SIGNALED) || qp->sig_all) ctrl.flags |= HCASIM_WQE_SIGNALED;
    if (wr.send_flags & IBV_SEND_SOLICITED) ctrl.flags |= HCASIM_WQE_SOLICITED;
    if (wr.send_flags & IBV_SEND_FENCE) ctrl.flags |= HCASIM_WQE_FENCE;
    if (op == IBV_WR_SEND_WITH_IMM || op == IBV_WR_RDMA_WRITE_WITH_IMM) ctrl.imm_data = wr.imm_data;
    ctrl.wr_id = wr.wr_id;
    switch (op) {
    case IBV_WR_RDMA_WRITE:
    case IBV_WR_RDMA_WRITE_WITH_IMM:
    case IBV_WR_RDMA_READ: {
        hcasim_wqe_raddr r{wr.wr.rdma.remote_addr, wr.wr.rdma.rkey, 0};
        std::memcpy(wqe + HCASIM_WQE_RADDR_OFF, &r, sizeof(r));
        break;
    }
    case IBV_WR_ATOMIC_CMP_AND_SWP:
    case IBV_WR_ATOMIC_FETCH_AND_ADD: {
        hcasim_wqe_raddr r{wr.wr.atomic.remote_addr, wr.wr.atomic.rkey, 0};
        hcasim_wqe_atomic at{wr.wr.atomic.compare_add, wr.wr.atomic.swap};
        std::memcpy(wqe + HCASIM_WQE_RADDR_OFF, &r, sizeof(r));
        std::memcpy(wqe + HCASIM_WQE_ATOMIC_OFF, &at, sizeof(at));
        break;
    }
    default: break;
    }
    if (type == IBV_QPT_UD) {
        hcasim_wqe_ud ud = to_ah(wr.wr.ud.ah)->av;
        ud.remote_qpn = wr.wr.ud.remote_qpn;
        ud.remote_qkey = wr.wr.ud.remote_qkey;
        std::memcpy(wqe + HCASIM_WQE_UD_OFF, &ud, sizeof(ud));
    }
    uint8_t* data = wqe + HCASIM_WQE_DATA_OFF;
    if (inl) {
        ctrl.flags |= HCASIM_WQE_INLINE;
        ctrl.inline_len = static_cast<uint32_t>(inline_len);
        for (int i = 0; i < wr.num_sge; ++i) {
            std::memcpy(data, reinterpret_cast<const void*>(wr.sg_list[i].addr),
                        wr.sg_list[i].length);
            data += wr.sg_list[i].length;
        }
    } else {
        ctrl.num_sge = put_sges(data, wr.sg_list, static_cast<size_t>(wr.num_sge));
    }
    std::memcpy(wqe, &ctrl, sizeof(ctrl));
    ++sq.head;
    return 0;
}

}  // namespace

int post_send(ibv_qp* ibqp, ibv_send_wr* wr, ibv_send_wr** bad) {
    QpShell* qp = to_qp(ibqp);
    WorkQueue& sq = qp->sq;
    std::lock_guard lock(sq.mu);
    if (ibqp->state < IBV_QPS_RTS) {
        *bad = wr;
        return EINVAL;
    }
    const uint32_t head = sq.head;
    int e = 0;
    for (; wr; wr = wr->next) {
        if ((e = build_send(qp, *wr))) {
            *bad = wr;
            break;
        }
    }
    if (sq.head != head) {
        std::atomic_thread_fence(std::memory_order_release);  // WQEs before the record
        store_le32(&qp->db.va[1], sq.head);
        ring_doorbell(*qp->c, qp->uar);
    }
    return e;
}

int post_recv(ibv_qp* ibqp, ibv_recv_wr* wr, ibv_recv_wr** bad) {
    QpShell* qp = to_qp(ibqp);
    WorkQueue& rq = qp->rq;
    std::lock_guard lock(rq.mu);
    if (ibqp->state == IBV_QPS_RESET || ibqp->srq) {
        *bad = wr;
        return EINVAL;
    }
    const uint32_t head = rq.head;
    int e = 0;
    for (; wr; wr = wr->next) {
        if (rq.head - rq.tail.load(std::memory_order_acquire) >= rq.max_post) e = ENOMEM;
        else if (wr->num_sge < 0 || static_cast<uint32_t>(wr->num_sge) > rq.max_gs) e = EINVAL;
        if (e) {
            *bad = wr;
            break;
        }
        uint8_t* wqe = rq.wqe(rq.head);
        hcasim_recv_wqe h{};
        h.wr_id = wr->wr_id;
        h.num_sge = put_sges(wqe + sizeof(h), wr->sg_list, static_cast<size_t>(wr->num_sge));
        std::memcpy(wqe, &h, sizeof(h));
        ++rq.head;
    }
    if (rq.head != head) {
        std::atomic_thread_fence(std::memory_order_release);
        store_le32(&qp->db.va[0], rq.head);
        ring_doorbell(*qp->c, qp->uar);
    }
    return e;
}

}  // namespace hcasim::verbs
