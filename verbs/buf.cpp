// Memory the provider hands to the device: queue rings and doorbell
// records (through a parent domain's allocators, rdma-core
// ibv_alloc_parent_domain(3), or the library's own DMA memory), the page
// lists that describe them in create commands, and ibv_alloc_buf /
// ibv_free_buf / ibv_reg_buf_mr (rdma-core ibv_alloc_buf(3)).
#include "verbs/provider.h"

#include <infiniband/mlx5dv.h>

#include <cerrno>
#include <cstring>
#include <new>

namespace hcasim::verbs {

namespace {

constexpr size_t kPage = 4096;
constexpr size_t kDbrecSlot = 64;

PdShell* allocator_pd(ibv_pd* pd) {
    PdShell* p = pd ? to_pd(pd) : nullptr;
    return p && p->is_parent && p->alloc ? p : nullptr;
}

// The parent domain's allocator: 0 with out.ptr set (user memory, pinned
// and translated), 0 with out.ptr == nullptr (IBV_ALLOCATOR_USE_DEFAULT or
// no allocator: the library allocates), or ENOMEM.
int user_alloc(ContextImpl& c, ibv_pd* pd, size_t size, size_t alignment,
               uint64_t resource_type, ProviderBuffer& out) {
    out = {};
    out.size = size;
    out.resource_type = resource_type;
    PdShell* p = allocator_pd(pd);
    if (!p) return 0;
    void* mem = p->alloc(pd, p->pd_context, size, alignment, resource_type);
    if (!mem) return ENOMEM;
    if (mem == IBV_ALLOCATOR_USE_DEFAULT) return 0;
    // The allocator's memory may be untouched and unpinned: fault it in,
    // pin it and translate it like registered memory.
    if (int e = c.transport->pin_pages(mem, size, out.pages)) {
        if (p->free) p->free(pd, p->pd_context, mem, resource_type);
        return e;
    }
    out.ptr = static_cast<uint8_t*>(mem);
    out.from_user_allocator = true;
    out.page_offset = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(mem) % kPage);
    return 0;
}

void user_free(ContextImpl& c, ibv_pd* pd, ProviderBuffer& buf) {
    c.transport->unpin_pages(buf.ptr, buf.size);
    PdShell* p = allocator_pd(pd);
    if (p && p->free) p->free(pd, p->pd_context, buf.ptr, buf.resource_type);
    buf = {};
}

}  // namespace

int provider_buffer_alloc(ContextImpl& c, ibv_pd* pd, size_t size, size_t alignment,
                          uint64_t resource_type, ProviderBuffer& out) {
    if (int e = user_alloc(c, pd, size, alignment, resource_type, out)) return e;
    if (out.ptr) return 0;
    // The library's own: page-aligned (every ring stride divides a page
    // or is a multiple of it) and reachable by the device without help.
    if (int e = c.transport->alloc_dma(size, out.own)) return e;
    out.ptr = static_cast<uint8_t*>(out.own.va);
    out.pages = out.own.pages;
    out.pages.resize((size + kPage - 1) / kPage);
    return 0;
}

void provider_buffer_free(ContextImpl& c, ibv_pd* pd, ProviderBuffer& buf) {
    if (!buf.ptr) return;
    if (buf.from_user_allocator) {
        user_free(c, pd, buf);
        return;
    }
    c.transport->free_dma(buf.own);
    buf = {};
}

int DbrecPool::alloc(Transport& t, uint32_t*& va, uint64_t& bus) {
    std::lock_guard lock(mu_);
    if (free_.empty()) {
        DmaRegion r;
        if (int e = t.alloc_dma(kPage, r)) return e;
        for (size_t off = kPage; off >= kDbrecSlot; off -= kDbrecSlot)
            free_.push_back({reinterpret_cast<uint32_t*>(static_cast<uint8_t*>(r.va) + off - kDbrecSlot),
                             r.pages[0] + off - kDbrecSlot});
        pages_.push_back(std::move(r));
    }
    va = free_.back().va;
    bus = free_.back().bus;
    free_.pop_back();
    std::memset(va, 0, 8);
    return 0;
}

void DbrecPool::free(uint32_t* va) {
    std::lock_guard lock(mu_);
    for (const DmaRegion& r : pages_) {
        auto* base = static_cast<uint8_t*>(r.va);
        auto* p = reinterpret_cast<uint8_t*>(va);
        if (p >= base && p < base + r.len) {
            free_.push_back({va, r.pages[0] + static_cast<uint64_t>(p - base)});
            return;
        }
    }
}

void DbrecPool::release(Transport& t) {
    std::lock_guard lock(mu_);
    for (DmaRegion& r : pages_) t.free_dma(r);
    pages_.clear();
    free_.clear();
}

int dbrec_alloc(ContextImpl& c, ibv_pd* pd, Dbrec& out) {
    out = {};
    if (int e = user_alloc(c, pd, 8, 8, MLX5DV_RES_TYPE_DBR, out.user)) return e;
    if (out.user.ptr) {
        // mlx5 clears a custom record too: the device reads it at once.
        std::memset(out.user.ptr, 0, 8);
        out.va = reinterpret_cast<uint32_t*>(out.user.ptr);
        out.bus = out.user.pages[0] + out.user.page_offset;
        return 0;
    }
    return c.dbrecs.alloc(*c.transport, out.va, out.bus);
}

void dbrec_free(ContextImpl& c, ibv_pd* pd, Dbrec& db) {
    if (db.user.ptr) user_free(c, pd, db.user);
    else if (db.va) c.dbrecs.free(db.va);
    db = {};
}

hcasim_queue_buf queue_buf(const ProviderBuffer& b, const Dbrec& db) {
    hcasim_queue_buf q{};
    q.dbrec = db.bus;
    q.page_offset = b.page_offset;
    q.num_pages = static_cast<uint32_t>(b.pages.size());
    q.length = b.size;
    return q;
}

int exec_with_pages(ContextImpl& c, void* fixed, size_t fixed_len, uint32_t* num_mtt_pages,
                    const std::vector<uint64_t>& pages, void* out, size_t out_len) {
    std::vector<DmaBuffer> mtt((pages.size() + HCASIM_MTT_PER_PAGE - 1) / HCASIM_MTT_PER_PAGE);
    if (fixed_len + 8 * mtt.size() > HCASIM_CMD_MAX_MAILBOX) return EINVAL;
    *num_mtt_pages = static_cast<uint32_t>(mtt.size());
    std::vector<uint8_t> in(fixed_len + 8 * mtt.size());
    std::memcpy(in.data(), fixed, fixed_len);
    int e = 0;
    for (size_t i = 0; i < mtt.size() && !e; ++i) {
        e = c.transport->alloc_dma_page(mtt[i]);
        if (e) break;
        const size_t first = i * HCASIM_MTT_PER_PAGE;
        const size_t n = std::min<size_t>(HCASIM_MTT_PER_PAGE, pages.size() - first);
        std::memcpy(mtt[i].va, pages.data() + first, 8 * n);
        std::memcpy(in.data() + fixed_len + 8 * i, &mtt[i].iova, 8);
    }
    if (!e) {
        CmdResult r;
        e = c.cmd->exec(in.data(), in.size(), out, out_len, r);
        if (!e) e = CommandChannel::status_to_errno(r.status);
    }
    for (auto& p : mtt) c.transport->free_dma_page(p);
    return e;
}

// ---- ibv_alloc_buf(3) ------------------------------------------------------
// Page-aligned memory for the application's own buffers, from the
// library's DMA memory: host-direct it lies in the fd-backed arena, so the
// device moves data to and from it with a memcpy instead of messages.

void* alloc_buf(ibv_pd* pd, size_t size, ibv_buf** out) {
    if (size == 0) {
        errno = EINVAL;
        return nullptr;
    }
    auto* b = new (std::nothrow) ibv_buf{pd, nullptr, size, {}};
    if (!b) {
        errno = ENOMEM;
        return nullptr;
    }
    if (impl(pd->context).transport->alloc_dma(size, b->region)) {
        delete b;
        errno = ENOMEM;
        return nullptr;
    }
    b->addr = b->region.va;
    *out = b;
    return b->addr;
}

void free_buf(ibv_buf* buf) {
    if (!buf) return;
    impl(buf->pd->context).transport->free_dma(buf->region);
    delete buf;
}

}  // namespace hcasim::verbs

using namespace hcasim::verbs;

HCASIM_EXPORT void* ibv_alloc_buf(ibv_pd* pd, size_t size, ibv_buf** buf) {
    return alloc_buf(pd, size, buf);
}

HCASIM_EXPORT void ibv_free_buf(ibv_buf* buf) { free_buf(buf); }

HCASIM_EXPORT ibv_mr* ibv_reg_buf_mr(ibv_pd* pd, ibv_buf* buf, void* addr, size_t length,
                                     int access) {
    ibv_mr_init_attr a{};
    a.length = length;
    a.access = access;
    a.comp_mask = IBV_REG_MR_MASK_BUF | IBV_REG_MR_MASK_ADDR;
    a.addr = addr;
    a.buf = buf;
    return reg_mr_ex(pd, &a);
}

// Not DMA-buf backed (rdma-core: ENODATA for such a buffer).
HCASIM_EXPORT int ibv_export_buf_dmabuf_fd(ibv_buf*) {
    errno = ENODATA;
    return -1;
}
