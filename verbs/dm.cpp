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

#include <infiniband/mlx5dv.h>

#include <atomic>
#include <bit>
#include <cerrno>
#include <new>

namespace hcasim::verbs {

namespace {

constexpr uint64_t kMemicUnit = 64;

int dealloc_memic(ibv_context* ctx, uint64_t addr, uint64_t len) {
    hcasim_dealloc_memic_in in{};
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

namespace {

DmShell* new_dm(ibv_context* ctx, uint32_t type) {
    auto* dm = new (std::nothrow) DmShell();
    if (!dm) return nullptr;
    dm->dm.context = ctx;
    dm->dm.comp_mask = 0;
    dm->type = type;
    return dm;
}

ibv_dm* alloc_memic(ibv_context* ctx, ibv_alloc_dm_attr* attr) {
    ContextImpl& c = impl(ctx);
    if (attr->length > c.caps.memic_bar_size) {
        errno = EINVAL;
        return nullptr;
    }
    uint8_t* bar2 = c.transport->bar2();
    if (!bar2 || !(c.caps.caps & HCASIM_CAP_MEMIC)) {
        errno = EOPNOTSUPP;
        return nullptr;
    }
    hcasim_alloc_memic_in in{};
    in.length = (attr->length + kMemicUnit - 1) & ~(kMemicUnit - 1);
    in.log_alignment = attr->log_align_req;
    hcasim_alloc_memic_out out{};
    if (int e = c.cmd->run(in, out)) {
        errno = e;
        return nullptr;
    }
    DmShell* dm = out.memic_addr + in.length <= c.transport->bar2_len() ? new_dm(ctx, 0) : nullptr;
    if (!dm) {  // no memory, or a firmware answer outside BAR2
        dealloc_memic(ctx, out.memic_addr, in.length);
        errno = ENOMEM;
        return nullptr;
    }
    dm->dm.memcpy_to_dm = memcpy_to_dm;
    dm->dm.memcpy_from_dm = memcpy_from_dm;
    dm->dm.handle = static_cast<uint32_t>(out.memic_addr / kMemicUnit);
    dm->memic_addr = out.memic_addr;
    dm->length = attr->length;
    dm->alloc_len = in.length;
    dm->va = bar2 + out.memic_addr;
    return &dm->dm;
}

// SW ICM (mlx5 kernel handle_alloc_dm_sw_icm): privileged only (EPERM),
// the length rounded up to the block size and to a power of two; not
// CPU-mapped, so memcpy_to/from_dm stay NULL as in rdma-core.
ibv_dm* alloc_sw_icm(ibv_context* ctx, ibv_alloc_dm_attr* attr, uint32_t type) {
    ContextImpl& c = impl(ctx);
    const auto& pool = c.caps.sw_icm[type];
    if (pool.size == 0) {
        errno = EOPNOTSUPP;
        return nullptr;
    }
    if (!c.caps.privileged) {
        errno = EPERM;
        return nullptr;
    }
    if (attr->length == 0) {
        errno = EINVAL;
        return nullptr;
    }
    const uint64_t block = uint64_t{1} << pool.log_granularity;
    uint64_t act = (attr->length + block - 1) & ~(block - 1);
    act = std::bit_ceil(act);
    hcasim_alloc_sw_icm_in in{};
    abi::set_opcode(in);  // exec, not run: ALLOC_SW_ICM maps its syndrome itself
    in.type = type;
    in.length = act;
    hcasim_alloc_sw_icm_out out{};
    CmdResult r;
    int e = c.cmd->exec(&in, sizeof(in), &out, sizeof(out), r);
    if (!e) e = r.syndrome == HCASIM_SYND_NOT_PRIVILEGED ? EPERM : CommandChannel::status_to_errno(r.status);
    DmShell* dm = e ? nullptr : new_dm(ctx, type);
    if (!dm) {
        if (!e) {
            hcasim_dealloc_sw_icm_in din{};
            din.type = type;
            din.icm_addr = out.icm_addr;
            din.length = act;
            hcasim_dealloc_sw_icm_out dout{};
            c.cmd->run(din, dout);
        }
        errno = e ? e : ENOMEM;
        return nullptr;
    }
    dm->dm.handle = static_cast<uint32_t>(out.icm_addr >> 12);
    dm->remote_va = out.icm_addr;
    dm->length = attr->length;
    dm->alloc_len = act;
    dm->va = nullptr;
    return &dm->dm;
}

}  // namespace

ibv_dm* alloc_dm_typed(ibv_context* ctx, ibv_alloc_dm_attr* attr, uint32_t type) {
    if (type > MLX5DV_DM_TYPE_ENCAP_SW_ICM) {
        errno = EOPNOTSUPP;
        return nullptr;
    }
    if (attr->comp_mask != 0) {
        errno = EINVAL;
        return nullptr;
    }
    return type == MLX5DV_DM_TYPE_MEMIC ? alloc_memic(ctx, attr) : alloc_sw_icm(ctx, attr, type);
}

ibv_dm* alloc_dm(ibv_context* ctx, ibv_alloc_dm_attr* attr) {
    return alloc_dm_typed(ctx, attr, MLX5DV_DM_TYPE_MEMIC);
}

int free_dm(ibv_dm* ibdm) {
    DmShell* dm = to_dm(ibdm);
    // A DM with MRs stays (rdma-core: EBUSY); the device checks it too.
    if (dm->mrs.load() > 0) return EBUSY;
    if (dm->type == MLX5DV_DM_TYPE_MEMIC) {
        if (int e = dealloc_memic(ibdm->context, dm->memic_addr, dm->alloc_len)) return e;
    } else {
        hcasim_dealloc_sw_icm_in in{};
        in.type = dm->type;
        in.icm_addr = dm->remote_va;
        in.length = dm->alloc_len;
        hcasim_dealloc_sw_icm_out out{};
        if (int e = impl(ibdm->context).cmd->run(in, out)) return e;
    }
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
    const bool icm = dm->type != MLX5DV_DM_TYPE_MEMIC;
    if ((icm && (access & IBV_ACCESS_REMOTE_ATOMIC)) ||  // mlx5: no atomics on SW ICM
        (access & ~allowed) || !(access & IBV_ACCESS_ZERO_BASED) ||
        dm_offset > dm->length || length > dm->length - dm_offset ||
        ((access & (IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_ATOMIC)) &&
         !(access & IBV_ACCESS_LOCAL_WRITE))) {
        errno = EINVAL;
        return nullptr;
    }
    PdShell* p = to_pd(pd);
    hcasim_create_mkey_in in{};
    in.pdn = p->is_parent ? p->protection->pdn : p->pdn;
    in.access = access & ~static_cast<unsigned>(IBV_ACCESS_OPTIONAL_RANGE);
    in.iova = 0;
    in.length = length;
    in.mode = icm ? HCASIM_MKEY_MODE_SW_ICM : HCASIM_MKEY_MODE_MEMIC;
    in.start = (icm ? dm->remote_va : dm->memic_addr) + dm_offset;
    uint32_t mkey = 0;
    if (int e = create_mkey(pd->context, in, {}, mkey)) {
        errno = e;
        return nullptr;
    }
    MrShell* mr = new_mr(pd, nullptr, length, mkey);  // zero-based: addr NULL
    if (!mr) return nullptr;
    mr->dm = dm;
    ++dm->mrs;
    return &mr->mr;
}

}  // namespace hcasim::verbs
