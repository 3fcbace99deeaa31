// The ibv_wr_* post API (rdma-core ibv_wr_post(3)) of QPs created with
// IBV_QP_INIT_ATTR_SEND_OPS_FLAGS: ibv_wr_start takes the SQ, each
// ibv_wr_<op> starts a WQE from qp->wr_id / qp->wr_flags, the
// ibv_wr_set_* calls complete it, ibv_wr_complete posts the batch and
// rings the doorbell (or fails it whole: the first error recorded), and
// ibv_wr_abort drops it.  Errors at ibv_wr_complete: QP not ready to send
// -> EINVAL; SQ full -> ENOMEM; too many SGEs or too much inline data ->
// EINVAL; an operation hcasim does not execute (LOCAL_INV, BIND_MW,
// SEND_WITH_INV, TSO, FLUSH, ATOMIC_WRITE, XRC) -> EOPNOTSUPP.
#include "verbs/provider.h"

#include <cerrno>
#include <cstring>

namespace hcasim::verbs {

namespace {

// IBV_QP_EX_WITH_<op> is bit IBV_WR_<op> for the operations hcasim runs.
static_assert(IBV_QP_EX_WITH_RDMA_WRITE == 1u << IBV_WR_RDMA_WRITE);
static_assert(IBV_QP_EX_WITH_SEND_WITH_IMM == 1u << IBV_WR_SEND_WITH_IMM);
static_assert(IBV_QP_EX_WITH_RDMA_READ == 1u << IBV_WR_RDMA_READ);
static_assert(IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD == 1u << IBV_WR_ATOMIC_FETCH_AND_ADD);

void fail(QpShell* qp, int e) {
    if (!qp->wr_err) qp->wr_err = e;
    qp->wr_cur = nullptr;
}

// Starts a WQE for `op` at head + wr_n; nullptr after an error.
uint8_t* begin(ibv_qp_ex* x, ibv_wr_opcode op) {
    QpShell* qp = to_qp(x);
    if (qp->wr_err) return nullptr;
    if (!(qp->send_ops & (uint64_t{1} << op))) {  // not for this QP type
        fail(qp, EOPNOTSUPP);
        return nullptr;
    }
    WorkQueue& sq = qp->sq;
    if (sq.head + qp->wr_n - sq.tail.load(std::memory_order_acquire) >= sq.max_post) {
        fail(qp, ENOMEM);
        return nullptr;
    }
    uint8_t* wqe = sq.wqe(sq.head + qp->wr_n);
    std::memset(wqe, 0, HCASIM_WQE_DATA_OFF);
    hcasim_wqe_ctrl ctrl{};
    ctrl.opcode = static_cast<uint8_t>(op);
    if ((x->wr_flags & IBV_SEND_SIGNALED) || qp->sig_all) ctrl.flags |= HCASIM_WQE_SIGNALED;
    if (x->wr_flags & IBV_SEND_SOLICITED) ctrl.flags |= HCASIM_WQE_SOLICITED;
    if (x->wr_flags & IBV_SEND_FENCE) ctrl.flags |= HCASIM_WQE_FENCE;
    ctrl.wr_id = x->wr_id;
    std::memcpy(wqe, &ctrl, sizeof(ctrl));
    ++qp->wr_n;
    qp->wr_cur = wqe;
    return wqe;
}

hcasim_wqe_ctrl* ctrl_of(uint8_t* wqe) { return reinterpret_cast<hcasim_wqe_ctrl*>(wqe); }

void put_raddr(uint8_t* wqe, uint32_t rkey, uint64_t addr) {
    hcasim_wqe_raddr r{addr, rkey, 0};
    std::memcpy(wqe + HCASIM_WQE_RADDR_OFF, &r, sizeof(r));
}

void wr_send(ibv_qp_ex* x) { begin(x, IBV_WR_SEND); }

void wr_send_imm(ibv_qp_ex* x, __be32 imm) {
    if (uint8_t* w = begin(x, IBV_WR_SEND_WITH_IMM)) ctrl_of(w)->imm_data = imm;
}

void wr_rdma_write(ibv_qp_ex* x, uint32_t rkey, uint64_t addr) {
    if (uint8_t* w = begin(x, IBV_WR_RDMA_WRITE)) put_raddr(w, rkey, addr);
}

void wr_rdma_write_imm(ibv_qp_ex* x, uint32_t rkey, uint64_t addr, __be32 imm) {
    if (uint8_t* w = begin(x, IBV_WR_RDMA_WRITE_WITH_IMM)) {
        put_raddr(w, rkey, addr);
        ctrl_of(w)->imm_data = imm;
    }
}

void wr_rdma_read(ibv_qp_ex* x, uint32_t rkey, uint64_t addr) {
    if (uint8_t* w = begin(x, IBV_WR_RDMA_READ)) put_raddr(w, rkey, addr);
}

void put_atomic(ibv_qp_ex* x, ibv_wr_opcode op, uint32_t rkey, uint64_t addr, uint64_t cmp_add,
                uint64_t swap) {
    if (uint8_t* w = begin(x, op)) {
        put_raddr(w, rkey, addr);
        hcasim_wqe_atomic a{cmp_add, swap};
        std::memcpy(w + HCASIM_WQE_ATOMIC_OFF, &a, sizeof(a));
    }
}

void wr_atomic_cmp_swp(ibv_qp_ex* x, uint32_t rkey, uint64_t addr, uint64_t compare,
                       uint64_t swap) {
    put_atomic(x, IBV_WR_ATOMIC_CMP_AND_SWP, rkey, addr, compare, swap);
}

void wr_atomic_fetch_add(ibv_qp_ex* x, uint32_t rkey, uint64_t addr, uint64_t add) {
    put_atomic(x, IBV_WR_ATOMIC_FETCH_AND_ADD, rkey, addr, add, 0);
}

// ---- operations hcasim does not execute: the batch fails with EOPNOTSUPP.
void unsupported(ibv_qp_ex* x) { fail(to_qp(x), EOPNOTSUPP); }
void wr_bind_mw(ibv_qp_ex* x, ibv_mw*, uint32_t, const ibv_mw_bind_info*) { unsupported(x); }
void wr_local_inv(ibv_qp_ex* x, uint32_t) { unsupported(x); }
void wr_send_inv(ibv_qp_ex* x, uint32_t) { unsupported(x); }
void wr_send_tso(ibv_qp_ex* x, void*, uint16_t, uint16_t) { unsupported(x); }
void wr_set_xrc_srqn(ibv_qp_ex* x, uint32_t) { unsupported(x); }
void wr_atomic_write(ibv_qp_ex* x, uint32_t, uint64_t, const void*) { unsupported(x); }
void wr_flush(ibv_qp_ex* x, uint32_t, uint64_t, size_t, uint8_t, uint8_t) { unsupported(x); }

// ---- data and address of the current WQE --------------------------------

void wr_set_ud_addr(ibv_qp_ex* x, ibv_ah* ah, uint32_t remote_qpn, uint32_t remote_qkey) {
    QpShell* qp = to_qp(x);
    if (!qp->wr_cur) return;
    if (!ah) {
        fail(qp, EINVAL);
        return;
    }
    hcasim_wqe_ud ud = to_ah(ah)->av;
    ud.remote_qpn = remote_qpn;
    ud.remote_qkey = remote_qkey;
    std::memcpy(qp->wr_cur + HCASIM_WQE_UD_OFF, &ud, sizeof(ud));
}

void wr_set_sge_list(ibv_qp_ex* x, size_t n, const ibv_sge* sg) {
    QpShell* qp = to_qp(x);
    if (!qp->wr_cur) return;
    if (n > qp->sq.max_gs) {
        fail(qp, EINVAL);
        return;
    }
    uint8_t k = 0;
    for (size_t i = 0; i < n; ++i) {
        if (!sg[i].length) continue;
        hcasim_wqe_sge s{sg[i].addr, sg[i].length, sg[i].lkey};
        std::memcpy(qp->wr_cur + HCASIM_WQE_DATA_OFF + 16 * k++, &s, sizeof(s));
    }
    ctrl_of(qp->wr_cur)->num_sge = k;
}

void wr_set_sge(ibv_qp_ex* x, uint32_t lkey, uint64_t addr, uint32_t length) {
    const ibv_sge s{addr, length, lkey};
    wr_set_sge_list(x, 1, &s);
}

void wr_set_inline_data_list(ibv_qp_ex* x, size_t n, const ibv_data_buf* bufs) {
    QpShell* qp = to_qp(x);
    if (!qp->wr_cur) return;
    size_t total = 0;
    for (size_t i = 0; i < n; ++i) total += bufs[i].length;
    if (total > qp->max_inline) {
        fail(qp, EINVAL);
        return;
    }
    uint8_t* data = qp->wr_cur + HCASIM_WQE_DATA_OFF;
    for (size_t i = 0; i < n; ++i) {
        std::memcpy(data, bufs[i].addr, bufs[i].length);
        data += bufs[i].length;
    }
    hcasim_wqe_ctrl* c = ctrl_of(qp->wr_cur);
    c->flags |= HCASIM_WQE_INLINE;
    c->inline_len = static_cast<uint32_t>(total);
    c->num_sge = 0;
}

void wr_set_inline_data(ibv_qp_ex* x, void* addr, size_t length) {
    const ibv_data_buf b{addr, length};
    wr_set_inline_data_list(x, 1, &b);
}

// ---- the batch -------------------------------------------------------------

void wr_start(ibv_qp_ex* x) {
    QpShell* qp = to_qp(x);
    qp->sq.mu.lock();
    qp->wr_n = 0;
    qp->wr_err = 0;
    qp->wr_cur = nullptr;
}

int wr_complete(ibv_qp_ex* x) {
    QpShell* qp = to_qp(x);
    WorkQueue& sq = qp->sq;
    int e = qp->wr_err;
    if (!e && qp->ibqp()->state < IBV_QPS_RTS) e = EINVAL;
    if (!e && qp->wr_n) {
        sq.head += qp->wr_n;
        std::atomic_thread_fence(std::memory_order_release);
        store_le32(&qp->db.va[1], sq.head);
        ring_doorbell(*qp->c, qp->uar);
    }
    qp->wr_n = 0;
    qp->wr_cur = nullptr;
    sq.mu.unlock();
    return e;
}

void wr_abort(ibv_qp_ex* x) {
    QpShell* qp = to_qp(x);
    qp->wr_n = 0;
    qp->wr_cur = nullptr;
    qp->sq.mu.unlock();
}

}  // namespace

void set_wr_ops(QpShell* qp) {
    ibv_qp_ex& x = qp->qpx;
    x.comp_mask = 0;
    x.wr_atomic_cmp_swp = wr_atomic_cmp_swp;
    x.wr_atomic_fetch_add = wr_atomic_fetch_add;
    x.wr_bind_mw = wr_bind_mw;
    x.wr_local_inv = wr_local_inv;
    x.wr_rdma_read = wr_rdma_read;
    x.wr_rdma_write = wr_rdma_write;
    x.wr_rdma_write_imm = wr_rdma_write_imm;
    x.wr_send = wr_send;
    x.wr_send_imm = wr_send_imm;
    x.wr_send_inv = wr_send_inv;
    x.wr_send_tso = wr_send_tso;
    x.wr_set_ud_addr = wr_set_ud_addr;
    x.wr_set_xrc_srqn = wr_set_xrc_srqn;
    x.wr_set_inline_data = wr_set_inline_data;
    x.wr_set_inline_data_list = wr_set_inline_data_list;
    x.wr_set_sge = wr_set_sge;
    x.wr_set_sge_list = wr_set_sge_list;
    x.wr_start = wr_start;
    x.wr_complete = wr_complete;
    x.wr_abort = wr_abort;
    x.wr_atomic_write = wr_atomic_write;
    x.wr_flush = wr_flush;
}

}  // namespace hcasim::verbs
