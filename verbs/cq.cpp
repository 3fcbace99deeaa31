// Completion queues: ibv_create_cq, ibv_create_cq_ex, ibv_resize_cq,
// ibv_destroy_cq, ibv_req_notify_cq (rdma-core ibv_create_cq(3),
// ibv_create_cq_ex(3), ibv_resize_cq(3), ibv_req_notify_cq(3)), with the
// mlx5 provider's rules:
//  - cqe 0 (or < 0 for ibv_create_cq) -> EINVAL; the ring has the next
//    power of two above cqe entries and the CQ reports one less; more
//    than the device's max_cqe -> EINVAL; comp_vector beyond the
//    context's -> EINVAL;
//  - ibv_create_cq_ex: unknown comp_mask bits or flags -> EINVAL;
//    IBV_CQ_INIT_ATTR_MASK_PD on something that is not a parent domain ->
//    EINVAL (its allocators make the ring and doorbell record, MLX5DV_RES_TYPE_CQ
//    / _DBR); wc_flags beyond what mlx5 accepts -> EOPNOTSUPP; completion
//    timestamps need a device clock hcasim does not have -> EOPNOTSUPP;
//  - a completion channel makes the CQ's events go to its event queue
//    (ibv_req_notify_cq arms it); ibv_destroy_cq waits until every event
//    ibv_get_cq_event returned for the CQ was acknowledged;
//  - ibv_destroy_cq while a QP uses it -> EBUSY, the CQ stays usable;
//  - ibv_resize_cq: MODIFY_CQ moves the unpolled CQEs to the start of the
//    new ring; fewer entries than unpolled CQEs -> EINVAL.
// The ring is zeroed (every CQE owned by the device); polling is in
// poll.cpp.
#include "verbs/provider.h"

#include <infiniband/mlx5dv.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <new>

namespace hcasim::verbs {

namespace {

constexpr uint64_t kSupportedWcFlags =
    uint64_t{IBV_WC_STANDARD_FLAGS} | IBV_WC_EX_WITH_COMPLETION_TIMESTAMP | IBV_WC_EX_WITH_CVLAN |
    IBV_WC_EX_WITH_FLOW_TAG | IBV_WC_EX_WITH_TM_INFO |
    IBV_WC_EX_WITH_COMPLETION_TIMESTAMP_WALLCLOCK;
constexpr uint64_t kTimestamps =
    IBV_WC_EX_WITH_COMPLETION_TIMESTAMP | IBV_WC_EX_WITH_COMPLETION_TIMESTAMP_WALLCLOCK;

// Ring entries for `cqe` (mlx5 align_queue_size(cqe + 1)); 0 when too many.
uint32_t ring_entries(const ContextImpl& c, uint64_t cqe) {
    const uint64_t n = std::bit_ceil(cqe + 1);
    return n > c.caps.max_cqe ? 0 : static_cast<uint32_t>(n);
}

int alloc_ring(CqShell* cq, uint32_t entries, ProviderBuffer& buf) {
    const size_t len = static_cast<size_t>(entries) * HCASIM_CQE_SIZE;
    const size_t page = HCASIM_UAR_PAGE_SIZE;
    if (int e = provider_buffer_alloc(*cq->c, cq->alloc_pd, (len + page - 1) & ~(page - 1), page,
                                      MLX5DV_RES_TYPE_CQ, buf))
        return e;
    // Every CQE starts out owned by the device, whoever allocated the ring.
    std::memset(buf.ptr, 0, len);
    return 0;
}

ibv_cq_ex* create(ibv_context* ctx, const ibv_cq_init_attr_ex& attr, bool extended) {
    ContextImpl& c = impl(ctx);
    constexpr uint32_t known_mask = IBV_CQ_INIT_ATTR_MASK_FLAGS | IBV_CQ_INIT_ATTR_MASK_PD;
    constexpr uint32_t known_flags =
        IBV_CREATE_CQ_ATTR_SINGLE_THREADED | IBV_CREATE_CQ_ATTR_IGNORE_OVERRUN;
    int e = 0;
    if (attr.cqe == 0 || (attr.comp_mask & ~known_mask) ||
        ((attr.comp_mask & IBV_CQ_INIT_ATTR_MASK_FLAGS) && (attr.flags & ~known_flags)))
        e = EINVAL;
    else if (attr.wc_flags & ~kSupportedWcFlags)
        e = EOPNOTSUPP;
    else if ((attr.comp_mask & IBV_CQ_INIT_ATTR_MASK_PD) &&
             (!attr.parent_domain || !to_pd(attr.parent_domain)->is_parent))
        e = EINVAL;
    else if (attr.wc_flags & kTimestamps)
        e = EOPNOTSUPP;  // no device clock
    else if (attr.channel && attr.channel->context != ctx)
        e = EINVAL;
    else if (attr.comp_vector >= static_cast<uint32_t>(ctx->num_comp_vectors))
        e = EINVAL;
    const uint32_t entries = e ? 0 : ring_entries(c, attr.cqe);
    if (!e && !entries) e = EINVAL;
    auto* cq = e ? nullptr : new (std::nothrow) CqShell();
    if (!e && !cq) e = ENOMEM;
    if (e) {
        errno = e;
        return nullptr;
    }
    cq->c = &c;
    cq->extended = extended;
    if (attr.comp_mask & IBV_CQ_INIT_ATTR_MASK_PD) cq->alloc_pd = attr.parent_domain;
    cq->entries = entries;
    e = alloc_ring(cq, entries, cq->buf);
    if (!e) e = dbrec_alloc(c, cq->alloc_pd, cq->db);
    hcasim_create_cq_out out{};
    if (!e) {
        hcasim_create_cq_in in{};
        in.log_size = static_cast<uint32_t>(std::countr_zero(entries));
        in.uar = c.uar.index;
        in.eqn = attr.channel ? to_channel(attr.channel)->eq.eqn : HCASIM_EQN_NONE;
        in.async_eqn = c.async_eqn();
        in.buf = queue_buf(cq->buf, cq->db);
        e = run_with_pages(c, in, &in.buf.num_mtt_pages, cq->buf.pages, out);
    }
    if (e) {
        dbrec_free(c, cq->alloc_pd, cq->db);
        provider_buffer_free(c, cq->alloc_pd, cq->buf);
        delete cq;
        errno = e;
        return nullptr;
    }
    cq->cqn = out.cqn;
    if (cq->alloc_pd) ++to_pd(cq->alloc_pd)->refcount;
    ibv_cq_ex& x = cq->cq;
    x.context = ctx;
    x.channel = attr.channel;
    x.cq_context = attr.cq_context;
    x.handle = out.cqn;
    x.cqe = static_cast<int>(entries - 1);
    pthread_mutex_init(&x.mutex, nullptr);
    pthread_cond_init(&x.cond, nullptr);
    if (extended) set_poll_ops(cq, attr.wc_flags);
    if (attr.channel) {
        cq->channel = to_channel(attr.channel);
        channel_attach(cq->channel, cq);
    }
    register_obj(c, &ContextImpl::cqs, cq->cqn, cq);
    return &x;
}

int destroy_cq(CqShell* cq) {
    {
        std::lock_guard lock(cq->mu);
        if (!cq->qps.empty()) return EBUSY;  // as the kernel's use count
    }
    ContextImpl& c = *cq->c;
    hcasim_destroy_cq_in in{};
    in.cqn = cq->cqn;
    hcasim_destroy_cq_out out{};
    if (int e = c.cmd->run(in, out)) return e;
    unregister_obj(c, &ContextImpl::cqs, cq->cqn);
    // As libibverbs: every event handed out for this CQ must be acked.
    wait_acked(&cq->cq.mutex, &cq->cq.cond, &cq->cq.comp_events_completed, &cq->events_reported);
    wait_acked(&cq->cq.mutex, &cq->cq.cond, &cq->cq.async_events_completed, &cq->async_reported);
    if (cq->channel) channel_detach(cq->channel, cq);
    dbrec_free(c, cq->alloc_pd, cq->db);
    provider_buffer_free(c, cq->alloc_pd, cq->buf);
    if (cq->alloc_pd) --to_pd(cq->alloc_pd)->refcount;
    pthread_mutex_destroy(&cq->cq.mutex);
    pthread_cond_destroy(&cq->cq.cond);
    delete cq;
    return 0;
}

int resize_cq(CqShell* cq, int cqe) {
    if (cqe < 0) return EINVAL;
    ContextImpl& c = *cq->c;
    std::lock_guard lock(cq->mu);
    const uint32_t entries = ring_entries(c, static_cast<uint64_t>(cqe));
    if (!entries) return EINVAL;
    if (entries == cq->entries) return 0;
    ProviderBuffer nbuf;
    if (int e = alloc_ring(cq, entries, nbuf)) return e;
    // The device moves the CQEs in [ci, pi): it must see our ci.
    store_le32(&cq->db.va[0], cq->ci);
    hcasim_modify_cq_in in{};
    in.cqn = cq->cqn;
    in.log_size = static_cast<uint32_t>(std::countr_zero(entries));
    in.buf = queue_buf(nbuf, cq->db);
    hcasim_modify_cq_out out{};
    if (int e = run_with_pages(c, in, &in.buf.num_mtt_pages, nbuf.pages, out)) {
        provider_buffer_free(c, cq->alloc_pd, nbuf);
        return e;
    }
    provider_buffer_free(c, cq->alloc_pd, cq->buf);
    cq->buf = std::move(nbuf);
    cq->entries = entries;
    cq->ci = 0;
    store_le32(&cq->db.va[0], 0);
    cq->cq.cqe = static_cast<int>(entries - 1);
    return 0;
}

}  // namespace

ibv_cq_ex* create_cq_ex(ibv_context* ctx, ibv_cq_init_attr_ex* attr) {
    return create(ctx, *attr, true);
}

int req_notify_cq(ibv_cq* ibcq, int solicited_only) {
    CqShell* cq = to_cq(ibcq);
    std::lock_guard lock(cq->mu);
    const uint32_t arm = (++cq->arm_sn << 2) |
                         (solicited_only ? HCASIM_CQ_ARM_SOLICITED : HCASIM_CQ_ARM_NEXT);
    store_le32(&cq->db.va[1], arm);
    ring_doorbell(*cq->c, cq->c->uar);
    return 0;
}

void cq_attach(CqShell* cq, QpShell* qp) {
    std::lock_guard lock(cq->mu);
    cq->qps.push_back(qp);
}

void cq_detach(CqShell* cq, QpShell* qp) {
    std::lock_guard lock(cq->mu);
    cq->qps.erase(std::remove(cq->qps.begin(), cq->qps.end(), qp), cq->qps.end());
    if (cq->last_qp == qp) cq->last_qp = nullptr;
}

}  // namespace hcasim::verbs

using namespace hcasim::verbs;

HCASIM_EXPORT ibv_cq* ibv_create_cq(ibv_context* context, int cqe, void* cq_context,
                                    ibv_comp_channel* channel, int comp_vector) {
    if (cqe <= 0 || comp_vector < 0) {
        errno = EINVAL;
        return nullptr;
    }
    ibv_cq_init_attr_ex a{};
    a.cqe = static_cast<uint32_t>(cqe);
    a.cq_context = cq_context;
    a.channel = channel;
    a.comp_vector = static_cast<uint32_t>(comp_vector);
    a.wc_flags = IBV_WC_STANDARD_FLAGS;
    return ibv_cq_ex_to_cq(create(context, a, false));
}

HCASIM_EXPORT int ibv_resize_cq(ibv_cq* cq, int cqe) { return resize_cq(to_cq(cq), cqe); }

HCASIM_EXPORT int ibv_destroy_cq(ibv_cq* cq) { return destroy_cq(to_cq(cq)); }
