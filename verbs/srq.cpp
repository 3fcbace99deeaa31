// Shared receive queues: ibv_create_srq, ibv_create_srq_ex (basic SRQs),
// ibv_modify_srq, ibv_query_srq, ibv_destroy_srq, ibv_post_srq_recv
// (rdma-core ibv_create_srq(3), ibv_modify_srq(3), ibv_post_srq_recv(3)),
// with the mlx5 provider's rules:
//  - max_wr above the device's max_srq_wr, max_sge above max_srq_sge ->
//    EINVAL; the ring has the next power of two above max_wr entries, one
//    of which always stays free (the list's tail), so max_wr comes back as
//    entries - 1 and max_sge as what the stride holds;
//  - ibv_create_srq_ex: XRC and tag-matching SRQs -> EOPNOTSUPP;
//  - ibv_modify_srq: IBV_SRQ_LIMIT arms the limit (MODIFY_SRQ; a limit
//    not below max_wr -> EINVAL); IBV_SRQ_MAX_WR (resizing) -> EINVAL, as
//    mlx5's kernel driver answers;
//  - ibv_destroy_srq while a QP uses it -> EBUSY;
//  - posting: more SGEs than max_sge -> EINVAL; no free WQE -> ENOMEM.
// The WQEs form mlx5's free list through hcasim_recv_wqe.next: posting
// takes the head, the device follows `next` from index 0 as it consumes,
// and a receive CQE's wqe_counter names the WQE to link after the tail.
#include "verbs/provider.h"

#include <infiniband/mlx5dv.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <new>

namespace hcasim::verbs {

namespace {

hcasim_recv_wqe* header(SrqShell* srq, uint32_t i) {
    return reinterpret_cast<hcasim_recv_wqe*>(srq->wqe(i));
}

ibv_srq* create(ibv_pd* pd, ibv_srq_attr& attr, void* srq_context) {
    ContextImpl& c = impl(pd->context);
    // The device's max_srq_wr counts ring entries; one stays the tail.
    if (attr.max_wr >= c.caps.max_srq_wr || attr.max_sge > c.caps.max_srq_sge) {
        errno = EINVAL;
        return nullptr;
    }
    auto* srq = new (std::nothrow) SrqShell();
    if (!srq) {
        errno = ENOMEM;
        return nullptr;
    }
    srq->c = &c;
    srq->entries = static_cast<uint32_t>(std::bit_ceil(uint64_t{attr.max_wr} + 1));
    srq->stride = static_cast<uint32_t>(std::bit_ceil(
        std::max<uint64_t>(HCASIM_MIN_RQ_STRIDE, sizeof(hcasim_recv_wqe) + 16ull * attr.max_sge)));
    srq->max_gs = std::min<uint32_t>((srq->stride - sizeof(hcasim_recv_wqe)) / 16,
                                     c.caps.max_srq_sge);
    const size_t len = static_cast<size_t>(srq->entries) * srq->stride;
    int e = provider_buffer_alloc(c, pd, (len + 4095) & ~size_t{4095}, 4096, MLX5DV_RES_TYPE_SRQ,
                                  srq->buf);
    if (!e) e = dbrec_alloc(c, pd, srq->db);
    hcasim_create_srq_out out{};
    if (!e) {
        // The free list: 0 -> 1 -> ... -> entries - 1 (the tail).
        for (uint32_t i = 0; i < srq->entries; ++i) {
            std::memset(srq->wqe(i), 0, sizeof(hcasim_recv_wqe));
            header(srq, i)->next = static_cast<uint16_t>(i + 1 < srq->entries ? i + 1 : 0);
        }
        srq->head = 0;
        srq->tail = srq->entries - 1;
        hcasim_create_srq_in in{};
        in.pdn = real_pd(to_pd(pd))->pdn;
        in.uar = c.uar.index;
        in.async_eqn = c.async_eqn();
        in.log_size = static_cast<uint8_t>(std::countr_zero(srq->entries));
        in.log_stride = static_cast<uint8_t>(std::countr_zero(srq->stride));
        in.max_sge = srq->max_gs;
        in.buf = queue_buf(srq->buf, srq->db);
        e = run_with_pages(c, in, &in.buf.num_mtt_pages, srq->buf.pages, out);
    }
    if (e) {
        dbrec_free(c, pd, srq->db);
        provider_buffer_free(c, pd, srq->buf);
        delete srq;
        errno = e;
        return nullptr;
    }
    srq->srqn = out.srqn;
    ++to_pd(pd)->refcount;
    ibv_srq& s = srq->srq;
    s.context = pd->context;
    s.srq_context = srq_context;
    s.pd = pd;
    s.handle = out.srqn;
    pthread_mutex_init(&s.mutex, nullptr);
    pthread_cond_init(&s.cond, nullptr);
    attr.max_wr = srq->entries - 1;
    attr.max_sge = srq->max_gs;
    register_obj(c, &ContextImpl::srqs, srq->srqn, srq);
    return &s;
}

int modify(SrqShell* srq, const ibv_srq_attr& attr, int mask) {
    if (mask & ~(IBV_SRQ_MAX_WR | IBV_SRQ_LIMIT)) return EINVAL;
    if (mask & IBV_SRQ_MAX_WR) return EINVAL;  // mlx5 cannot resize an SRQ
    if (!(mask & IBV_SRQ_LIMIT)) return 0;
    if (attr.srq_limit >= srq->entries - 1) return EINVAL;
    hcasim_modify_srq_in in{};
    in.srqn = srq->srqn;
    in.srq_limit = attr.srq_limit;
    hcasim_modify_srq_out out{};
    return srq->c->cmd->run(in, out);
}

int query(SrqShell* srq, ibv_srq_attr& attr) {
    hcasim_query_srq_in in{};
    in.srqn = srq->srqn;
    hcasim_query_srq_out out{};
    if (int e = srq->c->cmd->run(in, out)) return e;
    attr.max_wr = srq->entries - 1;
    attr.max_sge = srq->max_gs;
    attr.srq_limit = out.srq_limit;
    return 0;
}

int destroy(SrqShell* srq) {
    if (srq->qps.load() > 0) return EBUSY;
    hcasim_destroy_srq_in in{};
    in.srqn = srq->srqn;
    hcasim_destroy_srq_out out{};
    ContextImpl& c = *srq->c;
    if (int e = c.cmd->run(in, out)) return e;
    unregister_obj(c, &ContextImpl::srqs, srq->srqn);
    wait_acked(&srq->srq.mutex, &srq->srq.cond, &srq->srq.events_completed, &srq->events_reported);
    ibv_pd* pd = srq->srq.pd;
    dbrec_free(c, pd, srq->db);
    provider_buffer_free(c, pd, srq->buf);
    --to_pd(pd)->refcount;
    pthread_mutex_destroy(&srq->srq.mutex);
    pthread_cond_destroy(&srq->srq.cond);
    delete srq;
    return 0;
}

}  // namespace

ibv_srq* create_srq_ex(ibv_context* ctx, ibv_srq_init_attr_ex* a) {
    constexpr uint32_t known = IBV_SRQ_INIT_ATTR_TYPE | IBV_SRQ_INIT_ATTR_PD |
                               IBV_SRQ_INIT_ATTR_XRCD | IBV_SRQ_INIT_ATTR_CQ |
                               IBV_SRQ_INIT_ATTR_TM;
    int e = 0;
    if (a->comp_mask & ~known) e = EINVAL;
    else if ((a->comp_mask & (IBV_SRQ_INIT_ATTR_XRCD | IBV_SRQ_INIT_ATTR_TM)) ||
             ((a->comp_mask & IBV_SRQ_INIT_ATTR_TYPE) && a->srq_type != IBV_SRQT_BASIC))
        e = EOPNOTSUPP;
    else if (!(a->comp_mask & IBV_SRQ_INIT_ATTR_PD) || !a->pd || a->pd->context != ctx)
        e = EINVAL;
    if (e) {
        errno = e;
        return nullptr;
    }
    return create(a->pd, a->attr, a->srq_context);
}

int post_srq_recv(ibv_srq* ibsrq, ibv_recv_wr* wr, ibv_recv_wr** bad) {
    SrqShell* srq = to_srq(ibsrq);
    std::lock_guard lock(srq->mu);
    const uint32_t counter = srq->counter;
    int e = 0;
    for (; wr; wr = wr->next) {
        if (wr->num_sge < 0 || static_cast<uint32_t>(wr->num_sge) > srq->max_gs) e = EINVAL;
        else if (srq->head == srq->tail) e = ENOMEM;
        if (e) {
            *bad = wr;
            break;
        }
        hcasim_recv_wqe* h = header(srq, srq->head);
        uint8_t* data = srq->wqe(srq->head) + sizeof(*h);
        uint16_t k = 0;
        for (int i = 0; i < wr->num_sge; ++i) {
            const ibv_sge& sg = wr->sg_list[i];
            if (!sg.length) continue;
            hcasim_wqe_sge s{sg.addr, sg.length, sg.lkey};
            std::memcpy(data + 16 * k++, &s, sizeof(s));
        }
        h->wr_id = wr->wr_id;
        h->num_sge = k;  // `next` stays: it is the list
        srq->head = h->next;
        ++srq->counter;
    }
    if (srq->counter != counter) {
        std::atomic_thread_fence(std::memory_order_release);
        store_le32(&srq->db.va[0], srq->counter);
        ring_doorbell(*srq->c, srq->c->uar);
    }
    return e;
}

void srq_free_wqe(SrqShell* srq, uint32_t idx) {
    std::lock_guard lock(srq->mu);
    idx &= srq->entries - 1;
    header(srq, srq->tail)->next = static_cast<uint16_t>(idx);
    srq->tail = idx;
}

}  // namespace hcasim::verbs

using namespace hcasim::verbs;

HCASIM_EXPORT ibv_srq* ibv_create_srq(ibv_pd* pd, ibv_srq_init_attr* srq_init_attr) {
    return create(pd, srq_init_attr->attr, srq_init_attr->srq_context);
}

HCASIM_EXPORT int ibv_modify_srq(ibv_srq* srq, ibv_srq_attr* srq_attr, int srq_attr_mask) {
    return modify(to_srq(srq), *srq_attr, srq_attr_mask);
}

HCASIM_EXPORT int ibv_query_srq(ibv_srq* srq, ibv_srq_attr* srq_attr) {
    return query(to_srq(srq), *srq_attr);
}

HCASIM_EXPORT int ibv_destroy_srq(ibv_srq* srq) { return destroy(to_srq(srq)); }
