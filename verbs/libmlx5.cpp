// hcasim's libmlx5.so.1: the mlx5 direct-verbs entry points rdma-core
// programs link against, with rdma-core 65's symbol versions
// (libmlx5.map).  Each forwards to the implementation inside hcasim's
// libibverbs (verbs/mlx5dv.cpp).  Calls hcasim does not implement are
// not exported; see docs/verbs.md.
#include <infiniband/mlx5dv.h>

#define HCASIM_EXPORT extern "C" __attribute__((visibility("default")))

extern "C" {
ibv_dm* hcasim_mlx5dv_alloc_dm(ibv_context*, ibv_alloc_dm_attr*, mlx5dv_alloc_dm_attr*);
void* hcasim_mlx5dv_dm_map_op_addr(ibv_dm*, uint8_t);
int hcasim_mlx5dv_init_obj(mlx5dv_obj*, uint64_t);
int hcasim_mlx5dv_query_device(ibv_context*, mlx5dv_context*);
bool hcasim_mlx5dv_is_supported(ibv_device*);
}

HCASIM_EXPORT ibv_dm* mlx5dv_alloc_dm(ibv_context* context, ibv_alloc_dm_attr* dm_attr,
                                      mlx5dv_alloc_dm_attr* mlx5_dm_attr) {
    return hcasim_mlx5dv_alloc_dm(context, dm_attr, mlx5_dm_attr);
}

HCASIM_EXPORT void* mlx5dv_dm_map_op_addr(ibv_dm* dm, uint8_t op) {
    return hcasim_mlx5dv_dm_map_op_addr(dm, op);
}

HCASIM_EXPORT int mlx5dv_init_obj(mlx5dv_obj* obj, uint64_t obj_type) {
    return hcasim_mlx5dv_init_obj(obj, obj_type);
}

HCASIM_EXPORT int mlx5dv_query_device(ibv_context* ctx_in, mlx5dv_context* attrs_out) {
    return hcasim_mlx5dv_query_device(ctx_in, attrs_out);
}

HCASIM_EXPORT bool mlx5dv_is_supported(ibv_device* device) {
    return hcasim_mlx5dv_is_supported(device);
}
