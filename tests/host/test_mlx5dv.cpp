// Host-direct: mlx5dv device memory (rdma-core mlx5dv_alloc_dm(3)) through
// hcasim's libmlx5.so.1: every DM type, SW ICM privilege and rounding,
// remote_va, DM MRs on SW ICM, and the rest of the mlx5dv calls hcasim has.
#include "tests/host/verbs_fixture.h"

#include <infiniband/mlx5dv.h>

#include <cerrno>
#include <cstdio>

using hcasim::test::VerbsFixture;

namespace {

ibv_dm* dv_alloc(ibv_context* ctx, size_t len, uint32_t type, uint32_t mask = 0) {
    ibv_alloc_dm_attr a{};
    a.length = len;
    a.comp_mask = mask;
    mlx5dv_alloc_dm_attr m{};
    m.type = static_cast<mlx5dv_alloc_dm_type>(type);
    errno = 0;
    return mlx5dv_alloc_dm(ctx, &a, &m);
}

mlx5dv_dm dm_info(ibv_dm* dm) {
    mlx5dv_dm out{};
    out.comp_mask = MLX5DV_DM_MASK_REMOTE_VA;
    mlx5dv_obj obj{};
    obj.dm.in = dm;
    obj.dm.out = &out;
    REQUIRE(mlx5dv_init_obj(&obj, MLX5DV_OBJ_DM) == 0);
    return out;
}

constexpr uint32_t kIcmTypes[] = {MLX5DV_DM_TYPE_STEERING_SW_ICM, MLX5DV_DM_TYPE_HEADER_MODIFY_SW_ICM,
                                  MLX5DV_DM_TYPE_HEADER_MODIFY_PATTERN_SW_ICM,
                                  MLX5DV_DM_TYPE_ENCAP_SW_ICM};

}  // namespace

TEST_CASE("mlx5dv_is_supported, mlx5dv_query_device") {
    VerbsFixture f;
    CHECK(mlx5dv_is_supported(f.list[0]));
    mlx5dv_context c{};
    c.comp_mask = ~0ull;
    CHECK(mlx5dv_query_device(f.ctx, &c) == 0);
    CHECK(c.comp_mask == 0);  // no optional block is reported
}

TEST_CASE("mlx5dv_alloc_dm: MEMIC like ibv_alloc_dm; bad type and comp_mask") {
    VerbsFixture f;
    ibv_dm* dm = dv_alloc(f.ctx, 256, MLX5DV_DM_TYPE_MEMIC);
    REQUIRE(dm);
    auto info = dm_info(dm);
    CHECK(info.buf != nullptr);
    CHECK(info.length == 256);
    uint32_t v = 7, back = 0;
    CHECK(ibv_memcpy_to_dm(dm, 0, &v, 4) == 0);
    CHECK(ibv_memcpy_from_dm(&back, dm, 0, 4) == 0);
    CHECK(back == 7);
    CHECK(ibv_free_dm(dm) == 0);
    CHECK(dv_alloc(f.ctx, 64, 9) == nullptr);
    CHECK(errno == EOPNOTSUPP);
    CHECK(dv_alloc(f.ctx, 64, MLX5DV_DM_TYPE_MEMIC, 1) == nullptr);
    CHECK(errno == EINVAL);
}

TEST_CASE("SW ICM needs a privileged function: EPERM otherwise") {
    VerbsFixture f;  // not --privileged
    for (uint32_t t : kIcmTypes) {
        CAPTURE(t);
        CHECK(dv_alloc(f.ctx, 4096, t) == nullptr);
        CHECK(errno == EPERM);
    }
}

TEST_CASE("SW ICM: every type, rounded up, remote_va, not CPU-mapped") {
    VerbsFixture f({"--privileged"});
    for (uint32_t t : kIcmTypes) {
        CAPTURE(t);
        ibv_dm* dm = dv_alloc(f.ctx, 5000, t);  // -> 8 KiB: block multiple, power of two
        REQUIRE(dm);
        CHECK((dm->memcpy_to_dm == nullptr));
        CHECK((dm->memcpy_from_dm == nullptr));
        auto info = dm_info(dm);
        CHECK(info.buf == nullptr);
        CHECK(info.length == 5000);
        CHECK((info.comp_mask & MLX5DV_DM_MASK_REMOTE_VA) != 0);
        CHECK(info.remote_va >= (uint64_t{t} << 40));
        CHECK(info.remote_va % 8192 == 0);
        char want[64];
        std::snprintf(want, sizeof(want), "op=ALLOC_SW_ICM(0xa00) op_mod=0 type=%u length=8192", t);
        CHECK(f.dev.trace().find(want) != std::string::npos);
        CHECK(ibv_free_dm(dm) == 0);
    }
    CHECK(dv_alloc(f.ctx, 0, MLX5DV_DM_TYPE_STEERING_SW_ICM) == nullptr);
    CHECK(errno == EINVAL);
    CHECK(dv_alloc(f.ctx, 64u << 20, MLX5DV_DM_TYPE_ENCAP_SW_ICM) == nullptr);  // > the pool
    CHECK(errno == ENOMEM);
}

TEST_CASE("SW ICM through a DM MR: device writes land in ICM; no atomics; busy") {
    VerbsFixture f({"--privileged"});
    ibv_dm* dm = dv_alloc(f.ctx, 4096, MLX5DV_DM_TYPE_STEERING_SW_ICM);
    REQUIRE(dm);
    const auto info = dm_info(dm);
    constexpr int base = IBV_ACCESS_ZERO_BASED | IBV_ACCESS_LOCAL_WRITE;
    errno = 0;
    CHECK(ibv_reg_dm_mr(f.pd, dm, 0, 4096, base | IBV_ACCESS_REMOTE_ATOMIC) == nullptr);
    CHECK(errno == EINVAL);
    ibv_mr* mr = ibv_reg_dm_mr(f.pd, dm, 256, 1024, base | IBV_ACCESS_REMOTE_WRITE);
    REQUIRE(mr);
    CHECK(f.mkey(mr->rkey)["mode"] == "sw_icm");
    CHECK(f.mr_write(mr->rkey, 8, "deadbeef")["ok"] == true);  // like SW steering's RDMA WRITE
    auto got = f.inspect({{"cmd", "icm_read"}, {"addr", info.remote_va + 264}, {"length", 4}});
    CHECK(got["data"] == "deadbeef");
    CHECK(ibv_free_dm(dm) == EBUSY);
    CHECK(ibv_dereg_mr(mr) == 0);
    CHECK(ibv_free_dm(dm) == 0);
}

TEST_CASE("mlx5dv_dm_map_op_addr: unsupported op and host-direct -> EOPNOTSUPP") {
    VerbsFixture f;
    ibv_dm* dm = dv_alloc(f.ctx, 64, MLX5DV_DM_TYPE_MEMIC);
    REQUIRE(dm);
    errno = 0;
    CHECK(mlx5dv_dm_map_op_addr(dm, 7) == nullptr);
    CHECK(errno == EOPNOTSUPP);
    errno = 0;
    // Op windows are trapped BAR2 pages: only a guest can map them.
    CHECK(mlx5dv_dm_map_op_addr(dm, 0) == nullptr);
    CHECK(errno == EOPNOTSUPP);
    CHECK(ibv_free_dm(dm) == 0);
}

TEST_CASE("mlx5dv_init_obj: PD gives the pdn; objects hcasim lacks -> EOPNOTSUPP") {
    VerbsFixture f;
    mlx5dv_pd pd_out{};
    mlx5dv_obj obj{};
    obj.pd.in = f.pd;
    obj.pd.out = &pd_out;
    CHECK(mlx5dv_init_obj(&obj, MLX5DV_OBJ_PD) == 0);
    CHECK(pd_out.pdn == f.pd->handle);
    CHECK(mlx5dv_init_obj(&obj, MLX5DV_OBJ_QP) == EOPNOTSUPP);
}
