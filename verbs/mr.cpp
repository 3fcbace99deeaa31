// Memory regions: ibv_reg_mr, ibv_reg_mr_iova, ibv_reg_mr_iova2,
// ibv_reg_mr_ex (addr, iova, dmah), ibv_dereg_mr (rdma-core
// ibv_reg_mr(3)).  The library pins the pages, writes their bus addresses
// (the MTT) into DMA pages and sends CREATE_MKEY; lkey and rkey are the
// device's mkey, and the device enforces the access flags.
//
// Errors, as rdma-core + kernel: unknown access bits, remote write or
// atomic without local write, length 0, addr and iova in different page
// offsets, ADDR and FD masks wrong -> EINVAL; ODP, dma-buf (FD) ->
// EOPNOTSUPP; unknown comp_mask bits -> EINVAL; pinning failures -> the
// mlock errno.  An ibv_buf (IBV_REG_MR_MASK_BUF, ibv_reg_buf_mr) is
// registered like any memory, after libibverbs' checks: same PD, ADDR set,
// the range inside the buffer, no FD/FD_OFFSET -> else EINVAL.
// Fork support (util.cpp): as libibverbs, a host MR's range goes through
// ibv_dontfork_range before it is registered and ibv_dofork_range after
// it is deregistered (or failed), except ODP MRs; an ibv_buf's memory is
// the library's, MADV_DONTFORK for its whole life, and stays out of it.
#include "verbs/provider.h"

#include <cerrno>
#include <cstring>
#include <new>

namespace hcasim::verbs {

namespace {

constexpr uint64_t kPage = 4096;

// Access bits the kernel accepts (IB_ACCESS_SUPPORTED); the device gets
// the ones it implements, the optional range and HUGETLB/FLUSH are hints.
constexpr unsigned kAccessKnown = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
                                  IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC |
                                  IBV_ACCESS_MW_BIND | IBV_ACCESS_ZERO_BASED |
                                  IBV_ACCESS_ON_DEMAND | IBV_ACCESS_HUGETLB |
                                  IBV_ACCESS_FLUSH_GLOBAL | IBV_ACCESS_FLUSH_PERSISTENT |
                                  IBV_ACCESS_OPTIONAL_RANGE;
constexpr unsigned kAccessDevice = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
                                   IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC |
                                   IBV_ACCESS_ZERO_BASED;

int check_access(unsigned access) {
    if (access & ~kAccessKnown) return EINVAL;
    if ((access & (IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_ATOMIC)) &&
        !(access & IBV_ACCESS_LOCAL_WRITE))
        return EINVAL;
    if (access & IBV_ACCESS_ON_DEMAND) return EOPNOTSUPP;  // no ODP
    return 0;
}

ibv_mr* register_pinned(ibv_pd* pd, void* addr, size_t length, uint64_t iova, unsigned access,
                        DmahShell* dmah) {
    if (int e = check_access(access)) {
        errno = e;
        return nullptr;
    }
    if (length == 0 || (reinterpret_cast<uintptr_t>(addr) % kPage) != (iova % kPage)) {
        errno = EINVAL;
        return nullptr;
    }
    ContextImpl& c = impl(pd->context);
    std::vector<uint64_t> pages;
    if (int e = c.transport->pin_pages(addr, length, pages)) {
        errno = e;
        return nullptr;
    }
    hcasim_create_mkey_in in{};
    in.pdn = real_pd(to_pd(pd))->pdn;
    in.access = access & kAccessDevice;
    in.iova = iova;
    in.length = length;
    in.mode = HCASIM_MKEY_MODE_MTT;
    in.dmah = dmah ? dmah->handle : 0;
    in.start = reinterpret_cast<uintptr_t>(addr) % kPage;
    in.num_mtt = static_cast<uint32_t>(pages.size());
    uint32_t mkey = 0;
    int e = pages.size() > HCASIM_MAX_MTT_PAGES * HCASIM_MTT_PER_PAGE ? EINVAL : 0;
    if (!e) e = create_mkey(pd->context, in, pages, mkey);
    MrShell* mr = e ? nullptr : new_mr(pd, addr, length, mkey);
    if (!mr) {
        c.transport->unpin_pages(addr, length);
        if (e) errno = e;
        return nullptr;
    }
    mr->pinned = addr;
    mr->pinned_len = length;
    mr->dmah = dmah;
    if (dmah) ++dmah->refcount;
    return &mr->mr;
}

ibv_mr* register_host(ibv_pd* pd, void* addr, size_t length, uint64_t iova, unsigned access,
                      DmahShell* dmah, bool fork_range = true) {
    fork_range = fork_range && !(access & IBV_ACCESS_ON_DEMAND);
    if (fork_range && ibv_dontfork_range(addr, length)) return nullptr;
    ibv_mr* mr = register_pinned(pd, addr, length, iova, access, dmah);
    if (fork_range) {
        const int e = errno;
        if (mr) to_mr(mr)->dontfork = true;
        else ibv_dofork_range(addr, length);
        errno = e;
    }
    return mr;
}

}  // namespace

int create_mkey(ibv_context* ctx, const hcasim_create_mkey_in& in,
                const std::vector<uint64_t>& pages, uint32_t& mkey) {
    // The MTT goes in DMA pages of 512 entries; their addresses follow the
    // fixed input.
    hcasim_create_mkey_in fixed = in;
    hcasim_create_mkey_out out{};
    const int e = run_with_pages(impl(ctx), fixed, &fixed.num_mtt_pages, pages, out);
    if (!e) mkey = out.mkey;
    return e;
}

MrShell* new_mr(ibv_pd* pd, void* addr, size_t length, uint32_t mkey) {
    auto* mr = new (std::nothrow) MrShell{};
    if (!mr) {
        destroy_mkey(pd->context, mkey);
        errno = ENOMEM;
        return nullptr;
    }
    mr->mr.context = pd->context;
    mr->mr.pd = pd;
    mr->mr.addr = addr;
    mr->mr.length = length;
    mr->mr.handle = mkey;
    mr->mr.lkey = mr->mr.rkey = mkey;
    mr->mkey = mkey;
    return mr;
}

int destroy_mkey(ibv_context* ctx, uint32_t mkey) {
    hcasim_destroy_mkey_in in{};
    in.mkey = mkey;
    hcasim_destroy_mkey_out out{};
    return impl(ctx).cmd->run(in, out);
}

ibv_mr* reg_mr_ex(ibv_pd* pd, ibv_mr_init_attr* attr) {
    constexpr uint64_t known = IBV_REG_MR_MASK_IOVA | IBV_REG_MR_MASK_ADDR | IBV_REG_MR_MASK_FD |
                               IBV_REG_MR_MASK_FD_OFFSET | IBV_REG_MR_MASK_DMAH |
                               IBV_REG_MR_MASK_BUF;
    uint64_t mask = attr->comp_mask;
    if (mask & ~known) {
        errno = EINVAL;
        return nullptr;
    }
    if (mask & IBV_REG_MR_MASK_BUF) {
        const ibv_buf* b = attr->buf;
        const auto base = reinterpret_cast<uintptr_t>(b ? b->addr : nullptr);
        const auto addr = reinterpret_cast<uintptr_t>(attr->addr);
        if (!b || b->pd != pd || !(mask & IBV_REG_MR_MASK_ADDR) || addr < base ||
            addr - base > b->size || attr->length > b->size - (addr - base) ||
            (mask & (IBV_REG_MR_MASK_FD | IBV_REG_MR_MASK_FD_OFFSET))) {
            errno = EINVAL;
            return nullptr;
        }
        mask &= ~static_cast<uint64_t>(IBV_REG_MR_MASK_BUF);
    }
    if (mask & IBV_REG_MR_MASK_FD) {  // dma-buf
        errno = EOPNOTSUPP;
        return nullptr;
    }
    const bool buf = mask != attr->comp_mask;  // IBV_REG_MR_MASK_BUF consumed
    if ((mask & IBV_REG_MR_MASK_FD_OFFSET) || !(mask & IBV_REG_MR_MASK_ADDR)) {
        errno = EINVAL;
        return nullptr;
    }
    DmahShell* dmah = nullptr;
    if (mask & IBV_REG_MR_MASK_DMAH) {
        if (!attr->dmah) {
            errno = EINVAL;
            return nullptr;
        }
        if (attr->access & IBV_ACCESS_ON_DEMAND) {  // ODP with a DMA handle
            errno = EOPNOTSUPP;
            return nullptr;
        }
        dmah = to_dmah(attr->dmah);
    }
    const uint64_t iova =
        (mask & IBV_REG_MR_MASK_IOVA) ? attr->iova : reinterpret_cast<uintptr_t>(attr->addr);
    return register_host(pd, attr->addr, attr->length, iova,
                         static_cast<unsigned>(attr->access), dmah, !buf);
}

}  // namespace hcasim::verbs

using namespace hcasim::verbs;

HCASIM_EXPORT ibv_mr* ibv_reg_mr_iova2(ibv_pd* pd, void* addr, size_t length, uint64_t iova,
                                       unsigned int access) {
    return register_host(pd, addr, length, iova, access, nullptr);
}

#undef ibv_reg_mr
HCASIM_EXPORT ibv_mr* ibv_reg_mr(ibv_pd* pd, void* addr, size_t length, int access) {
    return register_host(pd, addr, length, reinterpret_cast<uintptr_t>(addr),
                         static_cast<unsigned>(access), nullptr);
}

#undef ibv_reg_mr_iova
HCASIM_EXPORT ibv_mr* ibv_reg_mr_iova(ibv_pd* pd, void* addr, size_t length, uint64_t iova,
                                      int access) {
    return register_host(pd, addr, length, iova, static_cast<unsigned>(access), nullptr);
}

HCASIM_EXPORT ibv_mr* ibv_reg_mr_ex(ibv_pd* pd, ibv_mr_init_attr* mr_init_attr) {
    return reg_mr_ex(pd, mr_init_attr);
}

HCASIM_EXPORT int ibv_dereg_mr(ibv_mr* ibmr) {
    MrShell* mr = to_mr(ibmr);
    if (int e = destroy_mkey(ibmr->context, mr->mkey)) return e;
    if (mr->pinned) impl(ibmr->context).transport->unpin_pages(mr->pinned, mr->pinned_len);
    if (mr->dontfork) ibv_dofork_range(mr->pinned, mr->pinned_len);
    if (mr->dmah) --mr->dmah->refcount;
    if (mr->dm) --mr->dm->mrs;
    delete mr;
    return 0;
}
