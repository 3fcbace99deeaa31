// Queue pairs: ibv_create_qp, ibv_create_qp_ex, ibv_modify_qp,
// ibv_query_qp, ibv_destroy_qp, ibv_qp_to_qp_ex (rdma-core
// ibv_create_qp(3), ibv_create_qp_ex(3), ibv_modify_qp(3), ibv_query_qp(3)),
// with the mlx5 provider's rules:
//  - RC, UC and UD; XRC, RAW_PACKET and DRIVER -> EOPNOTSUPP; another
//    type -> EINVAL; no PD or CQ -> EINVAL;
//  - max_send_wr / max_recv_wr above max_qp_wr, max_send_sge /
//    max_recv_sge above max_sge, max_inline_data above the device's ->
//    EINVAL; the caps actually given come back in init_attr->cap
//    (queues rounded up to powers of two, the inline room and receive
//    SGEs the strides leave);
//  - IBV_QP_INIT_ATTR_SEND_OPS_FLAGS gives the ibv_wr_* API (qp_ex.cpp);
//    send ops beyond what the device executes -> EOPNOTSUPP; create_flags,
//    TSO headers, RSS, XRC domains -> EOPNOTSUPP;
//  - modify: the device checks transitions and attribute masks
//    (MODIFY_QP); ibv_qp.state follows every successful modify and query;
//    moving to RESET drops the QP's CQEs and empties its queues;
//  - access flags: any IBV_ACCESS_* bits are accepted (the kernel checks
//    none); the device gets what mlx5 programs (set_qpc_atomic_flags):
//    remote write, read and atomic, and only remote write while the QP
//    has no responder resources (max_dest_rd_atomic 0); ibv_query_qp
//    reads those bits back, as mlx5 reads them from the QP context.
// Layout (abi/hcasim_abi.h): one buffer, RQ at 0 then the SQ at a
// multiple of its stride; send stride = next power of two >= max(128,
// HCASIM_WQE_DATA_OFF + max(16 * max_send_sge, max_inline_data)), receive
// stride = next power of two >= max(32, 16 + 16 * max_recv_sge).
#include "verbs/provider.h"

#include <infiniband/mlx5dv.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <new>

namespace hcasim::verbs {

namespace {

uint32_t pow2(uint64_t v) { return static_cast<uint32_t>(std::bit_ceil(std::max<uint64_t>(v, 1))); }
uint8_t log2u(uint32_t v) { return static_cast<uint8_t>(std::countr_zero(v)); }

uint64_t send_ops_for(ibv_qp_type t) {
    constexpr uint64_t uc = IBV_QP_EX_WITH_SEND | IBV_QP_EX_WITH_SEND_WITH_IMM |
                            IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM;
    switch (t) {
    case IBV_QPT_RC:
        return uc | IBV_QP_EX_WITH_RDMA_READ | IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP |
               IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD;
    case IBV_QPT_UC: return uc;
    default: return IBV_QP_EX_WITH_SEND | IBV_QP_EX_WITH_SEND_WITH_IMM;
    }
}

int check_attr(const ContextImpl& c, const ibv_qp_init_attr_ex& a) {
    constexpr uint32_t known = IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_XRCD |
                               IBV_QP_INIT_ATTR_CREATE_FLAGS | IBV_QP_INIT_ATTR_MAX_TSO_HEADER |
                               IBV_QP_INIT_ATTR_IND_TABLE | IBV_QP_INIT_ATTR_RX_HASH |
                               IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
    if (a.comp_mask & ~known) return EINVAL;
    switch (a.qp_type) {
    case IBV_QPT_RC:
    case IBV_QPT_UC:
    case IBV_QPT_UD: break;
    case IBV_QPT_XRC_SEND:
    case IBV_QPT_XRC_RECV:
    case IBV_QPT_RAW_PACKET:
    case IBV_QPT_DRIVER: return EOPNOTSUPP;
    default: return EINVAL;
    }
    if (a.comp_mask & (IBV_QP_INIT_ATTR_XRCD | IBV_QP_INIT_ATTR_MAX_TSO_HEADER |
                       IBV_QP_INIT_ATTR_IND_TABLE | IBV_QP_INIT_ATTR_RX_HASH))
        return EOPNOTSUPP;
    if ((a.comp_mask & IBV_QP_INIT_ATTR_CREATE_FLAGS) && a.create_flags) return EOPNOTSUPP;
    if (!(a.comp_mask & IBV_QP_INIT_ATTR_PD) || !a.pd || !a.send_cq || !a.recv_cq) return EINVAL;
    if ((a.comp_mask & IBV_QP_INIT_ATTR_SEND_OPS_FLAGS) &&
        (a.send_ops_flags & ~send_ops_for(a.qp_type)))
        return EOPNOTSUPP;
    const ibv_qp_cap& cap = a.cap;
    if (cap.max_send_wr > c.caps.max_qp_wr || cap.max_recv_wr > c.caps.max_qp_wr ||
        cap.max_send_sge > c.caps.max_sge || cap.max_recv_sge > c.caps.max_sge ||
        cap.max_inline_data > c.caps.max_inline_data)
        return EINVAL;
    return 0;
}

// Sizes both queues; reports the caps the QP really has into `cap`.
void layout(QpShell* qp, const ContextImpl& c, ibv_qp_init_attr_ex& a) {
    ibv_qp_cap& cap = a.cap;
    WorkQueue& sq = qp->sq;
    WorkQueue& rq = qp->rq;
    sq.stride = pow2(std::max<uint64_t>(
        HCASIM_MIN_SQ_STRIDE,
        HCASIM_WQE_DATA_OFF + std::max<uint64_t>(16ull * cap.max_send_sge, cap.max_inline_data)));
    sq.entries = pow2(cap.max_send_wr);
    sq.max_gs = cap.max_send_sge;
    if (cap.max_send_wr) {
        sq.max_post = sq.entries;
        qp->max_inline = std::min(sq.stride - HCASIM_WQE_DATA_OFF, c.caps.max_inline_data);
        cap.max_send_wr = sq.max_post;
        cap.max_inline_data = qp->max_inline;
    }
    if (!a.srq) {
        rq.stride = pow2(std::max<uint64_t>(HCASIM_MIN_RQ_STRIDE,
                                            16 + 16ull * std::max<uint32_t>(cap.max_recv_sge, 1)));
        rq.entries = pow2(cap.max_recv_wr);
        rq.max_gs = std::min((rq.stride - 16) / 16, c.caps.max_sge);
        rq.max_post = cap.max_recv_wr ? rq.entries : 0;
        cap.max_recv_wr = rq.max_post;
        cap.max_recv_sge = rq.max_gs;
    } else {
        rq.stride = HCASIM_MIN_RQ_STRIDE;  // no RQ: the device reads the SRQ
        cap.max_recv_wr = 0;
        cap.max_recv_sge = 0;
    }
    const size_t rq_bytes = a.srq ? 0 : static_cast<size_t>(rq.entries) * rq.stride;
    qp->sq_offset = static_cast<uint32_t>((rq_bytes + sq.stride - 1) & ~size_t{sq.stride - 1});
}

// Empties both queues (the device restarts them from 0 after RESET).
void reset_queues(QpShell* qp) {
    ibv_qp* q = qp->ibqp();
    SrqShell* srq = q->srq ? to_srq(q->srq) : nullptr;
    cq_clean(to_cq(q->recv_cq), q->qp_num, srq);
    if (q->send_cq != q->recv_cq) cq_clean(to_cq(q->send_cq), q->qp_num, nullptr);
    std::scoped_lock lock(qp->sq.mu, qp->rq.mu);
    for (WorkQueue* wq : {&qp->sq, &qp->rq}) {
        wq->head = 0;
        wq->tail.store(0);
    }
    store_le32(&qp->db.va[0], 0);
    store_le32(&qp->db.va[1], 0);
}

void free_queues(QpShell* qp) {
    dbrec_free(*qp->c, qp->alloc_pd, qp->db);
    provider_buffer_free(*qp->c, qp->alloc_pd, qp->buf);
}

ibv_qp* create(ibv_context* ctx, ibv_qp_init_attr_ex& a) {
    ContextImpl& c = impl(ctx);
    int e = check_attr(c, a);
    auto* qp = e ? nullptr : new (std::nothrow) QpShell();
    if (!e && !qp) e = ENOMEM;
    if (e) {
        errno = e;
        return nullptr;
    }
    qp->c = &c;
    qp->alloc_pd = a.pd;
    ibv_qp_init_attr_ex attr = a;  // caps are reported only on success
    layout(qp, c, attr);
    const size_t align = std::max<size_t>({qp->sq.stride, a.srq ? 0 : qp->rq.stride, 64});
    const size_t size = qp->sq_offset + static_cast<size_t>(qp->sq.entries) * qp->sq.stride;
    e = provider_buffer_alloc(c, a.pd, (size + align - 1) & ~(align - 1), align,
                              MLX5DV_RES_TYPE_QP, qp->buf);
    if (!e) e = dbrec_alloc(c, a.pd, qp->db);
    PdShell* pd = to_pd(a.pd);
    qp->uar = pd->is_parent && pd->td && pd->td->uar.page ? pd->td->uar : c.uar;
    hcasim_create_qp_out out{};
    if (!e) {
        hcasim_create_qp_in in{};
        in.type = a.qp_type;
        in.pdn = real_pd(pd)->pdn;
        in.send_cqn = to_cq(a.send_cq)->cqn;
        in.recv_cqn = to_cq(a.recv_cq)->cqn;
        in.srqn = a.srq ? to_srq(a.srq)->srqn : 0;
        in.uar = qp->uar.index;
        in.async_eqn = c.async_eqn();
        in.log_sq_size = log2u(qp->sq.entries);
        in.log_sq_stride = log2u(qp->sq.stride);
        in.log_rq_size = a.srq ? 0 : log2u(qp->rq.entries);
        in.log_rq_stride = log2u(qp->rq.stride);
        in.sq_offset = qp->sq_offset;
        in.max_send_sge = qp->sq.max_gs;
        in.max_recv_sge = a.srq ? 0 : qp->rq.max_gs;
        in.max_inline_data = qp->max_inline;
        in.sq_sig_all = a.sq_sig_all ? 1 : 0;
        in.buf = queue_buf(qp->buf, qp->db);
        e = run_with_pages(c, in, &in.buf.num_mtt_pages, qp->buf.pages, out);
    }
    if (e) {
        free_queues(qp);
        delete qp;
        errno = e;
        return nullptr;
    }
    a.cap = attr.cap;
    qp->rq.base = qp->buf.ptr;
    qp->sq.base = qp->buf.ptr + qp->sq_offset;
    qp->sig_all = a.sq_sig_all != 0;
    ibv_qp& q = qp->qpx.qp_base;
    q.context = ctx;
    q.qp_context = a.qp_context;
    q.pd = a.pd;
    q.send_cq = a.send_cq;
    q.recv_cq = a.recv_cq;
    q.srq = a.srq;
    q.handle = out.qpn;
    q.qp_num = out.qpn;
    q.state = IBV_QPS_RESET;
    q.qp_type = a.qp_type;
    pthread_mutex_init(&q.mutex, nullptr);
    pthread_cond_init(&q.cond, nullptr);
    if (a.comp_mask & IBV_QP_INIT_ATTR_SEND_OPS_FLAGS) {
        qp->has_ex = true;
        qp->send_ops = send_ops_for(a.qp_type);
        set_wr_ops(qp);
    }
    ++pd->refcount;
    if (a.srq) ++to_srq(a.srq)->qps;
    cq_attach(to_cq(a.send_cq), qp);
    if (a.recv_cq != a.send_cq) cq_attach(to_cq(a.recv_cq), qp);
    register_obj(c, &ContextImpl::qps, out.qpn, qp);
    return &q;
}

hcasim_ah_attr to_hw(const ibv_ah_attr& a) {
    hcasim_ah_attr h{};
    std::memcpy(h.dgid, a.grh.dgid.raw, sizeof(h.dgid));
    h.flow_label = a.grh.flow_label;
    h.sgid_index = a.grh.sgid_index;
    h.hop_limit = a.grh.hop_limit;
    h.traffic_class = a.grh.traffic_class;
    h.is_global = a.is_global;
    h.dlid = a.dlid;
    h.sl = a.sl;
    h.src_path_bits = a.src_path_bits;
    h.static_rate = a.static_rate;
    h.port_num = a.port_num;
    return h;
}

ibv_ah_attr from_hw(const hcasim_ah_attr& h) {
    ibv_ah_attr a{};
    std::memcpy(a.grh.dgid.raw, h.dgid, sizeof(h.dgid));
    a.grh.flow_label = h.flow_label;
    a.grh.sgid_index = h.sgid_index;
    a.grh.hop_limit = h.hop_limit;
    a.grh.traffic_class = h.traffic_class;
    a.is_global = h.is_global;
    a.dlid = h.dlid;
    a.sl = h.sl;
    a.src_path_bits = h.src_path_bits;
    a.static_rate = h.static_rate;
    a.port_num = h.port_num;
    return a;
}

// The remote access bits the device gets (mlx5 set_qpc_atomic_flags):
// read and atomic only with responder resources.
unsigned device_access(const QpShell* qp, const ibv_qp_attr& a, int mask) {
    const unsigned flags = (mask & IBV_QP_ACCESS_FLAGS) ? a.qp_access_flags : qp->atomic_rd_en;
    const unsigned depth =
        (mask & IBV_QP_MAX_DEST_RD_ATOMIC) ? a.max_dest_rd_atomic : qp->resp_depth;
    return flags & (depth ? IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
                                IBV_ACCESS_REMOTE_ATOMIC
                          : IBV_ACCESS_REMOTE_WRITE);
}

int modify(QpShell* qp, const ibv_qp_attr& a, int mask) {
    hcasim_modify_qp_in in{};
    in.qpn = qp->ibqp()->qp_num;
    in.attr_mask = static_cast<uint32_t>(mask);
    // Every transition that takes MAX_DEST_RD_ATOMIC also takes
    // ACCESS_FLAGS: the device's access bits follow either.
    const bool access = mask & (IBV_QP_ACCESS_FLAGS | IBV_QP_MAX_DEST_RD_ATOMIC);
    if (mask & IBV_QP_MAX_DEST_RD_ATOMIC) in.attr_mask |= IBV_QP_ACCESS_FLAGS;
    hcasim_qp_attr& h = in.attr;
    h.qp_state = a.qp_state;
    h.cur_qp_state = a.cur_qp_state;
    h.path_mtu = a.path_mtu;
    h.qkey = a.qkey;
    h.rq_psn = a.rq_psn;
    h.sq_psn = a.sq_psn;
    h.dest_qp_num = a.dest_qp_num;
    h.qp_access_flags = access ? device_access(qp, a, mask) : 0;
    h.pkey_index = a.pkey_index;
    h.max_rd_atomic = a.max_rd_atomic;
    h.max_dest_rd_atomic = a.max_dest_rd_atomic;
    h.min_rnr_timer = a.min_rnr_timer;
    h.port_num = a.port_num;
    h.timeout = a.timeout;
    h.retry_cnt = a.retry_cnt;
    h.rnr_retry = a.rnr_retry;
    h.sq_draining = a.sq_draining;
    h.en_sqd_async_notify = a.en_sqd_async_notify;
    h.ah = to_hw(a.ah_attr);
    h.rate_limit = a.rate_limit;
    hcasim_modify_qp_out out{};
    if (int e = qp->c->cmd->run(in, out)) return e;
    if (mask & IBV_QP_ACCESS_FLAGS) qp->atomic_rd_en = static_cast<unsigned>(a.qp_access_flags);
    if (mask & IBV_QP_MAX_DEST_RD_ATOMIC) qp->resp_depth = a.max_dest_rd_atomic;
    if (mask & IBV_QP_STATE) {
        qp->ibqp()->state = a.qp_state;
        if (a.qp_state == IBV_QPS_RESET) reset_queues(qp);
    }
    return 0;
}

ibv_qp_cap caps_of(const QpShell* qp) {
    ibv_qp_cap cap{};
    cap.max_send_wr = qp->sq.max_post;
    cap.max_send_sge = qp->sq.max_gs;
    cap.max_inline_data = qp->max_inline;
    if (!qp->qpx.qp_base.srq) {
        cap.max_recv_wr = qp->rq.max_post;
        cap.max_recv_sge = qp->rq.max_gs;
    }
    return cap;
}

int query(QpShell* qp, ibv_qp_attr& a, ibv_qp_init_attr& init) {
    hcasim_query_qp_in in{};
    in.qpn = qp->ibqp()->qp_num;
    hcasim_query_qp_out out{};
    if (int e = qp->c->cmd->run(in, out)) return e;
    const hcasim_qp_attr& h = out.attr;
    a = {};
    a.qp_state = static_cast<ibv_qp_state>(h.qp_state);
    a.cur_qp_state = a.qp_state;
    a.path_mtu = static_cast<ibv_mtu>(h.path_mtu);
    a.path_mig_state = IBV_MIG_MIGRATED;
    a.qkey = h.qkey;
    a.rq_psn = h.rq_psn;
    a.sq_psn = h.sq_psn;
    a.dest_qp_num = h.dest_qp_num;
    a.qp_access_flags = h.qp_access_flags;
    a.cap = caps_of(qp);
    a.ah_attr = from_hw(h.ah);
    a.pkey_index = h.pkey_index;
    a.en_sqd_async_notify = h.en_sqd_async_notify;
    a.sq_draining = h.sq_draining;
    a.max_rd_atomic = h.max_rd_atomic;
    a.max_dest_rd_atomic = h.max_dest_rd_atomic;
    a.min_rnr_timer = h.min_rnr_timer;
    a.port_num = h.port_num;
    a.timeout = h.timeout;
    a.retry_cnt = h.retry_cnt;
    a.rnr_retry = h.rnr_retry;
    a.rate_limit = h.rate_limit;
    const ibv_qp& q = qp->qpx.qp_base;
    init = {};
    init.qp_context = q.qp_context;
    init.send_cq = q.send_cq;
    init.recv_cq = q.recv_cq;
    init.srq = q.srq;
    init.cap = a.cap;
    init.qp_type = q.qp_type;
    init.sq_sig_all = qp->sig_all ? 1 : 0;
    qp->qpx.qp_base.state = a.qp_state;
    return 0;
}

int destroy(QpShell* qp) {
    ibv_qp* q = qp->ibqp();
    hcasim_destroy_qp_in in{};
    in.qpn = q->qp_num;
    hcasim_destroy_qp_out out{};
    if (int e = qp->c->cmd->run(in, out)) return e;
    unregister_obj(*qp->c, &ContextImpl::qps, q->qp_num);
    wait_acked(&q->mutex, &q->cond, &q->events_completed, &qp->events_reported);
    SrqShell* srq = q->srq ? to_srq(q->srq) : nullptr;
    cq_clean(to_cq(q->recv_cq), q->qp_num, srq);
    if (q->send_cq != q->recv_cq) cq_clean(to_cq(q->send_cq), q->qp_num, nullptr);
    cq_detach(to_cq(q->send_cq), qp);
    if (q->recv_cq != q->send_cq) cq_detach(to_cq(q->recv_cq), qp);
    free_queues(qp);
    --to_pd(qp->alloc_pd)->refcount;
    if (srq) --srq->qps;
    pthread_mutex_destroy(&q->mutex);
    pthread_cond_destroy(&q->cond);
    delete qp;
    return 0;
}

}  // namespace

ibv_qp* create_qp_ex(ibv_context* ctx, ibv_qp_init_attr_ex* attr) { return create(ctx, *attr); }

}  // namespace hcasim::verbs

using namespace hcasim::verbs;

HCASIM_EXPORT ibv_qp* ibv_create_qp(ibv_pd* pd, ibv_qp_init_attr* qp_init_attr) {
    ibv_qp_init_attr_ex a{};
    std::memcpy(&a, qp_init_attr, sizeof(*qp_init_attr));
    a.comp_mask = IBV_QP_INIT_ATTR_PD;
    a.pd = pd;
    ibv_qp* qp = create(pd->context, a);
    if (qp) qp_init_attr->cap = a.cap;
    return qp;
}

HCASIM_EXPORT int ibv_modify_qp(ibv_qp* qp, ibv_qp_attr* attr, int attr_mask) {
    return modify(to_qp(qp), *attr, attr_mask);
}

HCASIM_EXPORT int ibv_query_qp(ibv_qp* qp, ibv_qp_attr* attr, int attr_mask,
                               ibv_qp_init_attr* init_attr) {
    (void)attr_mask;  // everything is returned, as the kernel does
    return query(to_qp(qp), *attr, *init_attr);
}

HCASIM_EXPORT int ibv_destroy_qp(ibv_qp* qp) { return destroy(to_qp(qp)); }

// No in-order guarantee is reported (mlx5 without the qp_data_in_order
// capability): 0 for every opcode and flag.
HCASIM_EXPORT int ibv_query_qp_data_in_order(ibv_qp*, ibv_wr_opcode, uint32_t) { return 0; }

HCASIM_EXPORT ibv_qp_ex* ibv_qp_to_qp_ex(ibv_qp* qp) {
    QpShell* q = to_qp(qp);
    return q->has_ex ? &q->qpx : nullptr;
}
