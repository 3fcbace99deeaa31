// Thread domains and parent domains (rdma-core ibv_alloc_td(3),
// ibv_alloc_parent_domain(3)), with the mlx5 provider's rules:
//  - ibv_alloc_td: comp_mask != 0 -> EINVAL; ibv_dealloc_td while a parent
//    domain uses it -> EBUSY;
//  - ibv_alloc_parent_domain: pd NULL or unknown comp_mask bits -> EINVAL;
//    holds a reference on its PD and TD; freed with ibv_dealloc_pd, EBUSY
//    while objects use it;
//  - provider buffers go through the parent domain's allocators.
#include "verbs/provider.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

namespace hcasim::verbs {

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
    return &td->td;
}

int dealloc_td(ibv_td* ibtd) {
    TdShell* td = to_td(ibtd);
    if (td->refcount.load() > 1) return EBUSY;
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

int provider_buffer_alloc(ibv_pd* ibpd, size_t size, size_t alignment, uint64_t resource_type,
                          ProviderBuffer& out) {
    PdShell* pd = ibpd ? to_pd(ibpd) : nullptr;
    out = {};
    out.size = size;
    out.resource_type = resource_type;
    if (pd && pd->is_parent && pd->alloc) {
        void* p = pd->alloc(ibpd, pd->pd_context, size, alignment, resource_type);
        if (!p) return ENOMEM;
        if (p != IBV_ALLOCATOR_USE_DEFAULT) {
            out.ptr = p;
            out.from_user_allocator = true;
            ++pd->refcount;  // the buffer's object uses the parent domain
            return 0;
        }
    }
    if (::posix_memalign(&out.ptr, std::max<size_t>(alignment, sizeof(void*)), size) != 0)
        return ENOMEM;
    std::memset(out.ptr, 0, size);
    if (pd && pd->is_parent) ++pd->refcount;
    return 0;
}

void provider_buffer_free(ibv_pd* ibpd, ProviderBuffer& buf) {
    if (!buf.ptr) return;
    PdShell* pd = ibpd ? to_pd(ibpd) : nullptr;
    if (buf.from_user_allocator && pd && pd->free)
        pd->free(ibpd, pd->pd_context, buf.ptr, buf.resource_type);
    else if (!buf.from_user_allocator)
        std::free(buf.ptr);
    if (pd && pd->is_parent) --pd->refcount;
    buf = {};
}

}  // namespace hcasim::verbs

// Private entry points (not rdma-core API): let tests drive the provider
// buffer path before queues exist.  Exported under HCASIM_PRIVATE_1.
using namespace hcasim::verbs;

HCASIM_EXPORT void* hcasim_provider_buffer_alloc(ibv_pd* pd, size_t size, size_t alignment,
                                                 uint64_t resource_type, void** cookie) {
    auto* b = new (std::nothrow) ProviderBuffer();
    if (!b) {
        errno = ENOMEM;
        return nullptr;
    }
    if (int e = provider_buffer_alloc(pd, size, alignment, resource_type, *b)) {
        delete b;
        errno = e;
        return nullptr;
    }
    *cookie = b;
    return b->ptr;
}

HCASIM_EXPORT void hcasim_provider_buffer_free(ibv_pd* pd, void* cookie) {
    auto* b = static_cast<ProviderBuffer*>(cookie);
    provider_buffer_free(pd, *b);
    delete b;
}
