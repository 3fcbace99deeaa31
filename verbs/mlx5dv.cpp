// The mlx5 direct-verbs calls hcasim supports, implemented inside
// libibverbs (where the device context lives) and exported to hcasim's
// libmlx5.so.1 under HCASIM_PRIVATE_1 (rdma-core's providers reach
// libibverbs internals the same way, through IBVERBS_PRIVATE):
//  - mlx5dv_alloc_dm(3): MEMIC and the four SW ICM types;
//  - mlx5dv_dm_map_op_addr: MEMIC operation addresses (MODIFY_MEMIC),
//    in a guest only: they are trapped BAR2 pages, which host-direct
//    cannot map (EOPNOTSUPP there);
//  - mlx5dv_init_obj for DM (buf, length, remote_va) and PD (pdn); other
//    object types do not exist yet (EOPNOTSUPP);
//  - mlx5dv_query_device, mlx5dv_is_supported.
#include "verbs/provider.h"

#include <infiniband/mlx5dv.h>

#include <cerrno>
#include <cstring>

using namespace hcasim::verbs;

HCASIM_EXPORT ibv_dm* hcasim_mlx5dv_alloc_dm(ibv_context* ctx, ibv_alloc_dm_attr* dm_attr,
                                             mlx5dv_alloc_dm_attr* mlx5_attr) {
    // The caller may pass any number in the enum field: read it as such.
    uint32_t type = 0;
    static_assert(sizeof(mlx5_attr->type) == sizeof(type));
    std::memcpy(&type, &mlx5_attr->type, sizeof(type));
    if (type > MLX5DV_DM_TYPE_ENCAP_SW_ICM) {
        errno = EOPNOTSUPP;
        return nullptr;
    }
    if (dm_attr->comp_mask || mlx5_attr->comp_mask) {
        errno = EINVAL;
        return nullptr;
    }
    return alloc_dm_typed(ctx, dm_attr, type);
}

HCASIM_EXPORT void* hcasim_mlx5dv_dm_map_op_addr(ibv_dm* ibdm, uint8_t op) {
    DmShell* dm = to_dm(ibdm);
    ContextImpl& c = impl(ibdm->context);
    if (dm->type != MLX5DV_DM_TYPE_MEMIC || op >= HCASIM_MEMIC_NUM_OPS ||
        c.caps.memic_op_stride == 0) {
        errno = EOPNOTSUPP;
        return nullptr;
    }
    uint8_t* bar2 = c.transport->bar2();
    // The op windows must be in this process's BAR2 mapping and trap to
    // the device; host-direct has no VMM to trap them.
    const uint64_t op_addr = c.caps.memic_op_offset + op * c.caps.memic_op_stride + dm->memic_addr;
    if (!bar2 || !c.transport->bar2_traps() || op_addr + dm->alloc_len > c.transport->bar2_len()) {
        errno = EOPNOTSUPP;
        return nullptr;
    }
    hcasim_modify_memic_in in{};
    in.memic_addr = dm->memic_addr;
    in.op = op;
    hcasim_modify_memic_out out{};
    if (int e = c.cmd->run(in, out)) {
        errno = e;
        return nullptr;
    }
    if (out.op_addr != op_addr) {  // firmware and caps disagree
        errno = EIO;
        return nullptr;
    }
    return bar2 + out.op_addr;
}

HCASIM_EXPORT int hcasim_mlx5dv_init_obj(mlx5dv_obj* obj, uint64_t obj_type) {
    constexpr uint64_t supported = MLX5DV_OBJ_DM | MLX5DV_OBJ_PD;
    if (!(obj_type & (supported | MLX5DV_OBJ_QP | MLX5DV_OBJ_CQ | MLX5DV_OBJ_SRQ |
                      MLX5DV_OBJ_RWQ | MLX5DV_OBJ_AH | MLX5DV_OBJ_DEVX)))
        return EINVAL;  // no object to take a context from
    if (obj_type & ~supported) return EOPNOTSUPP;
    if (obj_type & MLX5DV_OBJ_DM) {
        DmShell* dm = to_dm(obj->dm.in);
        mlx5dv_dm* out = obj->dm.out;
        out->buf = dm->va;
        out->length = dm->length;
        uint64_t mask = 0;
        if (out->comp_mask & MLX5DV_DM_MASK_REMOTE_VA) {
            out->remote_va = dm->remote_va;
            mask |= MLX5DV_DM_MASK_REMOTE_VA;
        }
        out->comp_mask = mask;
    }
    if (obj_type & MLX5DV_OBJ_PD) {
        PdShell* pd = to_pd(obj->pd.in);
        obj->pd.out->comp_mask = 0;
        obj->pd.out->pdn = pd->is_parent ? pd->protection->pdn : pd->pdn;
    }
    return 0;
}

HCASIM_EXPORT int hcasim_mlx5dv_query_device(ibv_context* ctx, mlx5dv_context* attrs) {
    (void)ctx;
    attrs->version = 0;
    attrs->flags = MLX5DV_CONTEXT_FLAGS_CQE_V1;
    attrs->comp_mask = 0;  // none of the optional blocks is reported yet
    return 0;
}

HCASIM_EXPORT bool hcasim_mlx5dv_is_supported(ibv_device* device) {
    return device && std::strncmp(device->name, "hcasim", 6) == 0;
}
