// Thread domains and parent domains (rdma-core ibv_alloc_td(3),
// ibv_alloc_parent_domain(3)), with the mlx5 provider's rules:
//  - ibv_alloc_td: comp_mask != 0 -> EINVAL; the thread domain gets its
//    own UAR (ALLOC_UAR; mlx5's dedicated UAR), which QPs created on a
//    parent domain with it ring; ibv_dealloc_td while a parent domain uses
//    it -> EBUSY;
//  - ibv_alloc_parent_domain: pd NULL or unknown comp_mask bits -> EINVAL;
//    holds a reference on its PD and TD; freed with ibv_dealloc_pd, EBUSY
//    while objects use it;
//  - provider buffers go through the parent domain's allocators (buf.cpp).
#include "verbs/provider.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

namespace hcasim::verbs {

namespace {

int free_uar(ContextImpl& c, uint32_t uar) {
    hcasim_dealloc_uar_in in{};
    in.uar = uar;
    hcasim_dealloc_uar_out out{};
    return c.cmd->run(in, out);
}

}  // namespace

ibv_td* alloc_td(ibv_context* ctx, ibv_td_init_attr* attr) {
    if (attr->comp_mask) {
        errno = EINVAL;
        return nullptr;
    }
    auto* td = new (std::nothrow) TdShell();
    if (!td) {
        errno = ENOMEM;
        return nullptr;
    }
    td->td.context = ctx;
    td->refcount = 1;
    ContextImpl& c = impl(ctx);
    if (c.status) {  // UARs are mapped: a dedicated one
        hcasim_alloc_uar_in in{};
        hcasim_alloc_uar_out out{};
        int e = c.cmd->run(in, out);
        volatile hcasim_uar* page = e ? nullptr : uar_page(c, out.uar);
        if (!e && !page) {  // an index outside the mapped area
            free_uar(c, out.uar);
            e = EIO;
        }
        if (e) {
            delete td;
            errno = e;
            return nullptr;
        }
        td->uar = {out.uar, page};
    }
    return &td->td;
}

int dealloc_td(ibv_td* ibtd) {
    TdShell* td = to_td(ibtd);
    if (td->refcount.load() > 1) return EBUSY;
    if (td->uar.page) {
        if (int e = free_uar(impl(ibtd->context), td->uar.index)) return e;
    }
    delete td;
    return 0;
}

ibv_pd* alloc_parent_domain(ibv_context* ctx, ibv_parent_domain_init_attr* attr) {
    constexpr uint32_t known = IBV_PARENT_DOMAIN_INIT_ATTR_ALLOCATORS |
                               IBV_PARENT_DOMAIN_INIT_ATTR_PD_CONTEXT |
                               IBV_PARENT_DOMAIN_INIT_ATTR_ALLOW_CC_UNPROTECTED_ALLOC;
    if (!attr->pd || (attr->comp_mask & ~known)) {
        errno = EINVAL;
        return nullptr;
    }
    auto* pd = new (std::nothrow) PdShell();
    if (!pd) {
        errno = ENOMEM;
        return nullptr;
    }
    PdShell* protection = to_pd(attr->pd);
    pd->is_parent = true;
    pd->protection = protection;
    pd->pdn = protection->pdn;
    pd->refcount = 1;
    ++protection->refcount;
    if (attr->td) {
        pd->td = to_td(attr->td);
        ++pd->td->refcount;
    }
    if (attr->comp_mask & IBV_PARENT_DOMAIN_INIT_ATTR_ALLOCATORS) {
        pd->alloc = attr->alloc;
        pd->free = attr->free;
    }
    if (attr->comp_mask & IBV_PARENT_DOMAIN_INIT_ATTR_PD_CONTEXT) pd->pd_context = attr->pd_context;
    pd->pd.context = ctx;
    pd->pd.handle = protection->pd.handle;
    return &pd->pd;
}

int dealloc_parent_domain(PdShell* pd) {
    if (pd->refcount.load() > 1) return EBUSY;  // objects use it
    --pd->protection->refcount;
    if (pd->td) --pd->td->refcount;
    delete pd;
    return 0;
}

}  // namespace hcasim::verbs
