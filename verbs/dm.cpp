// Device memory (MEMIC): ibv_alloc_dm, ibv_free_dm, ibv_memcpy_to_dm,
// ibv_memcpy_from_dm, with the mlx5 provider's semantics (rdma-core
// ibv_alloc_dm(3); providers/mlx5 alloc_dm_memic, mlx5_access_dm):
//  - alloc: unknown comp_mask bits -> EINVAL; length > max_dm_size ->
//    EINVAL; the firmware allocates 64-byte units (length rounded up) at
//    2^log_align_req alignment (above the device maximum -> EINVAL); no
//    room -> ENOMEM.  The block is used through the BAR2 mapping.
//  - memcpy: offset + length beyond the requested length -> EFAULT;
//    offset or length not a multiple of 4 -> EINVAL; copies in 32-bit
//    units; the error is the return value.
#include "verbs/provider.h"

#include <atomic>
#include <cerrno>
#include <new>

namespace hcasim::verbs {

namespace {

constexpr uint64_t kMemicUnit = 64;

int dealloc_memic(ibv_context* ctx, uint64_t addr, uint64_t len) {
    hcasim_dealloc_memic_in in{};
    in.hdr.opcode = HCASIM_CMD_DEALLOC_MEMIC;
    in.memic_addr = addr;
    in.length = len;
    hcasim_dealloc_memic_out out{};
    return impl(ctx).cmd->run(in, out);
}

int access_dm(DmShell* dm, uint64_t offset, void* host, size_t length, bool read) {
    if (offset > dm->length || length > dm->length - offset) return EFAULT;
    // MEMIC is accessed in 4-byte units (mlx5: HW limitation).
    if ((length & 3) || (offset & 3)) return EINVAL;
    auto* dev = reinterpret_cast<uint32_t*>(dm->va + offset);
    auto* h = static_cast<uint32_t*>(host);
    const size_t n = length / 4;
    if (read) {
        for (size_t i = 0; i < n; ++i)
            h[i] = std::atomic_ref<uint32_t>(dev[i]).load(std::memory_order_relaxed);
    } else {
        for (size_t i = 0; i < n; ++i)
            std::atomic_ref<uint32_t>(dev[i]).store(h[i], std::memory_order_relaxed);
    }
    return 0;
}

int memcpy_to_dm(ibv_dm* dm, uint64_t dm_offset, const void* host_addr, size_t length) {
    return access_dm(to_dm(dm), dm_offset, const_cast<void*>(host_addr), length, false);
}

int memcpy_from_dm(void* host_addr, ibv_dm* dm, uint64_t dm_offset, size_t length) {
    return access_dm(to_dm(dm), dm_offset, host_addr, length, true);
}

}  // namespace

ibv_dm* alloc_dm(ibv_context* ctx, ibv_alloc_dm_attr* attr) {
    ContextImpl& c = impl(ctx);
    if (attr->comp_mask != 0) {
        errno = EINVAL;
        return nullptr;
    }
    if (attr->length > c.caps.memic_bar_size) {
        errno = EINVAL;
        return nullptr;
    }
    uint8_t* bar2 = c.transport->memic_base();
    if (!bar2 || !(c.caps.caps & HCASIM_CAP_MEMIC)) {
        errno = EOPNOTSUPP;
        return nullptr;
    }
    hcasim_alloc_memic_in in{};
    in.hdr.opcode = HCASIM_CMD_ALLOC_MEMIC;
    in.length = (attr->length + kMemicUnit - 1) & ~(kMemicUnit - 1);
    in.log_alignment = attr->log_align_req;
    hcasim_alloc_memic_out out{};
    if (int e = c.cmd->run(in, out)) {
        errno = e;
        return nullptr;
    }
    if (out.memic_addr + in.length > c.transport->memic_len()) {  // firmware bug guard
        dealloc_memic(ctx, out.memic_addr, in.length);
        errno = EIO;
        return nullptr;
    }
    auto* dm = new (std::nothrow) DmShell();
    if (!dm) {
        dealloc_memic(ctx, out.memic_addr, in.length);
        errno = ENOMEM;
        return nullptr;
    }
    dm->dm.context = ctx;
    dm->dm.memcpy_to_dm = memcpy_to_dm;
    dm->dm.memcpy_from_dm = memcpy_from_dm;
    dm->dm.comp_mask = 0;
    dm->dm.handle = static_cast<uint32_t>(out.memic_addr / kMemicUnit);
    dm->memic_addr = out.memic_addr;
    dm->length = attr->length;
    dm->alloc_len = in.length;
    dm->va = bar2 + out.memic_addr;
    return &dm->dm;
}

int free_dm(ibv_dm* ibdm) {
    DmShell* dm = to_dm(ibdm);
    // A DM with MRs stays (rdma-core: EBUSY); the device checks it too.
    if (dm->mrs.load() > 0) return EBUSY;
    if (int e = dealloc_memic(ibdm->context, dm->memic_addr, dm->alloc_len)) return e;
    delete dm;
    return 0;
}

}  // namespace hcasim::verbs

namespace hcasim::verbs {

// ibv_reg_dm_mr (rdma-core ibv_alloc_dm(3), mlx5_reg_dm_mr +
// ibv_cmd_reg_dm_mr + the kernel): access beyond LOCAL_WRITE, REMOTE_*,
// ZERO_BASED (and the optional range) -> EINVAL; ZERO_BASED missing ->
// EINVAL; offset/length outside the DM -> EINVAL.  The MR is zero-based,
// its addr is NULL.
ibv_mr* reg_dm_mr(ibv_pd* pd, ibv_dm* ibdm, uint64_t dm_offset, size_t length,
                  unsigned int access) {
    constexpr unsigned allowed = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
                                 IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC |
                                 IBV_ACCESS_ZERO_BASED | IBV_ACCESS_OPTIONAL_RANGE;
    DmShell* dm = to_dm(ibdm);
    if ((access & ~allowed) || !(access & IBV_ACCESS_ZERO_BASED) ||
        dm_offset > dm->length || length > dm->length - dm_offset ||
        ((access & (IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_ATOMIC)) &&
         !(access & IBV_ACCESS_LOCAL_WRITE))) {
        errno = EINVAL;
        return nullptr;
    }
    PdShell* p = to_pd(pd);
    hcasim_create_mkey_in in{};
    in.hdr.opcode = HCASIM_CMD_CREATE_MKEY;
    in.pdn = p->is_parent ? p->protection->pdn : p->pdn;
    in.access = access & ~static_cast<unsigned>(IBV_ACCESS_OPTIONAL_RANGE);
    in.iova = 0;
    in.length = length;
    in.mode = HCASIM_MKEY_MODE_MEMIC;
    in.start = dm->memic_addr + dm_offset;
    uint32_t mkey = 0;
    if (int e = create_mkey(pd->context, in, {}, mkey)) {
        errno = e;
        return nullptr;
    }
    auto* mr = new (std::nothrow) MrShell{};
    if (!mr) {
        destroy_mkey(pd->context, mkey);
        errno = ENOMEM;
        return nullptr;
    }
    mr->mr.context = pd->context;
    mr->mr.pd = pd;
    mr->mr.addr = nullptr;
    mr->mr.length = length;
    mr->mr.handle = mkey;
    mr->mr.lkey = mr->mr.rkey = mkey;
    mr->mkey = mkey;
    mr->dm = dm;
    ++dm->mrs;
    return &mr->mr;
}

}  // namespace hcasim::verbs
