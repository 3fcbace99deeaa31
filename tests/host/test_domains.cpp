// Host-direct: thread domains and parent domains (rdma-core
// ibv_alloc_td(3), ibv_alloc_parent_domain(3)), the EBUSY rules in every
// direction, and provider buffers through a parent domain's allocators.
#include "tests/host/verbs_fixture.h"

#include <infiniband/mlx5dv.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

using hcasim::test::VerbsFixture;

extern "C" void* hcasim_provider_buffer_alloc(ibv_pd* pd, size_t size, size_t alignment,
                                              uint64_t resource_type, void** cookie);
extern "C" void hcasim_provider_buffer_free(ibv_pd* pd, void* cookie);

namespace {

struct Counting {
    int allocs = 0, frees = 0;
    size_t last_size = 0, last_align = 0;
    uint64_t last_alloc_type = 0, last_free_type = 0;
    ibv_pd* last_pd = nullptr;
    void* mode = nullptr;  // what alloc returns: nullptr=memory, USE_DEFAULT, or FAIL
};
void* const kFail = reinterpret_cast<void*>(0x1);

void* count_alloc(ibv_pd* pd, void* ctx, size_t size, size_t align, uint64_t type) {
    auto* c = static_cast<Counting*>(ctx);
    c->allocs++;
    c->last_size = size;
    c->last_align = align;
    c->last_alloc_type = type;
    c->last_pd = pd;
    if (c->mode == IBV_ALLOCATOR_USE_DEFAULT) return IBV_ALLOCATOR_USE_DEFAULT;
    if (c->mode == kFail) return nullptr;
    void* p = nullptr;
    return posix_memalign(&p, align, size) == 0 ? p : nullptr;
}

void count_free(ibv_pd*, void* ctx, void* ptr, uint64_t type) {
    auto* c = static_cast<Counting*>(ctx);
    c->frees++;
    c->last_free_type = type;
    std::free(ptr);
}

ibv_pd* parent(ibv_context* ctx, ibv_pd* pd, ibv_td* td, Counting* cnt) {
    ibv_parent_domain_init_attr a{};
    a.pd = pd;
    a.td = td;
    if (cnt) {
        a.comp_mask = IBV_PARENT_DOMAIN_INIT_ATTR_ALLOCATORS | IBV_PARENT_DOMAIN_INIT_ATTR_PD_CONTEXT;
        a.alloc = count_alloc;
        a.free = count_free;
        a.pd_context = cnt;
    }
    errno = 0;
    return ibv_alloc_parent_domain(ctx, &a);
}

}  // namespace

TEST_CASE("alloc_td: comp_mask must be 0") {
    VerbsFixture f;
    ibv_td_init_attr a{};
    a.comp_mask = 1;
    errno = 0;
    CHECK(ibv_alloc_td(f.ctx, &a) == nullptr);
    CHECK(errno == EINVAL);
    a.comp_mask = 0;
    ibv_td* td = ibv_alloc_td(f.ctx, &a);
    REQUIRE(td);
    CHECK(td->context == f.ctx);
    CHECK(ibv_dealloc_td(td) == 0);
}

TEST_CASE("alloc_parent_domain: pd required, comp_mask checked") {
    VerbsFixture f;
    CHECK(parent(f.ctx, nullptr, nullptr, nullptr) == nullptr);
    CHECK(errno == EINVAL);
    ibv_parent_domain_init_attr a{};
    a.pd = f.pd;
    a.comp_mask = 1u << 9;
    errno = 0;
    CHECK(ibv_alloc_parent_domain(f.ctx, &a) == nullptr);
    CHECK(errno == EINVAL);
    ibv_pd* pad = parent(f.ctx, f.pd, nullptr, nullptr);
    REQUIRE(pad);
    CHECK(pad->context == f.ctx);
    CHECK(pad->handle == f.pd->handle);
    CHECK(ibv_dealloc_pd(pad) == 0);
}

TEST_CASE("EBUSY both ways: PD and TD are held by the parent domain") {
    VerbsFixture f;
    ibv_td_init_attr ta{};
    ibv_td* td = ibv_alloc_td(f.ctx, &ta);
    REQUIRE(td);
    ibv_pd* pd = ibv_alloc_pd(f.ctx);
    ibv_pd* pad = parent(f.ctx, pd, td, nullptr);
    REQUIRE(pad);
    CHECK(ibv_dealloc_pd(pd) == EBUSY);
    CHECK(ibv_dealloc_td(td) == EBUSY);
    // An object on the parent domain holds it in turn.
    void* cookie = nullptr;
    void* buf = hcasim_provider_buffer_alloc(pad, 4096, 64, MLX5DV_RES_TYPE_CQ, &cookie);
    REQUIRE(buf);
    CHECK(ibv_dealloc_pd(pad) == EBUSY);
    hcasim_provider_buffer_free(pad, cookie);
    CHECK(ibv_dealloc_pd(pad) == 0);
    CHECK(ibv_dealloc_td(td) == 0);
    CHECK(ibv_dealloc_pd(pd) == 0);
}

TEST_CASE("MRs on a parent domain use its PD") {
    VerbsFixture f;
    ibv_pd* pad = parent(f.ctx, f.pd, nullptr, nullptr);
    REQUIRE(pad);
    std::vector<uint8_t> buf(4096);
    ibv_mr* mr = ibv_reg_mr(pad, buf.data(), 64, IBV_ACCESS_LOCAL_WRITE);
    REQUIRE(mr);
    CHECK(mr->pd == pad);
    CHECK(f.mkey(mr->lkey)["pdn"] == f.pd->handle);
    CHECK(ibv_dereg_mr(mr) == 0);
    CHECK(ibv_dealloc_pd(pad) == 0);
}

TEST_CASE("provider buffers: alloc/free with the same resource type; USE_DEFAULT; NULL") {
    VerbsFixture f;
    Counting cnt;
    ibv_pd* pad = parent(f.ctx, f.pd, nullptr, &cnt);
    REQUIRE(pad);
    for (uint64_t type : {MLX5DV_RES_TYPE_QP, MLX5DV_RES_TYPE_CQ, MLX5DV_RES_TYPE_DBR,
                          MLX5DV_RES_TYPE_SRQ, MLX5DV_RES_TYPE_RWQ}) {
        void* cookie = nullptr;
        void* p = hcasim_provider_buffer_alloc(pad, 8192, 4096, type, &cookie);
        REQUIRE(p);
        CHECK(cnt.last_alloc_type == type);
        CHECK(cnt.last_size == 8192);
        CHECK(cnt.last_align == 4096);
        CHECK(cnt.last_pd == pad);
        hcasim_provider_buffer_free(pad, cookie);
        CHECK(cnt.last_free_type == type);
    }
    CHECK(cnt.allocs == 5);
    CHECK(cnt.frees == 5);
    // IBV_ALLOCATOR_USE_DEFAULT: the library allocates, and never calls free.
    cnt.mode = IBV_ALLOCATOR_USE_DEFAULT;
    void* cookie = nullptr;
    void* p = hcasim_provider_buffer_alloc(pad, 64, 64, MLX5DV_RES_TYPE_DBR, &cookie);
    REQUIRE(p);
    hcasim_provider_buffer_free(pad, cookie);
    CHECK(cnt.allocs == 6);
    CHECK(cnt.frees == 5);
    // NULL from alloc is a failure.
    cnt.mode = kFail;
    errno = 0;
    CHECK(hcasim_provider_buffer_alloc(pad, 64, 64, MLX5DV_RES_TYPE_QP, &cookie) == nullptr);
    CHECK(errno == ENOMEM);
    CHECK(ibv_dealloc_pd(pad) == 0);
    // Without allocators the library's own allocation is used.
    ibv_pd* plain = parent(f.ctx, f.pd, nullptr, nullptr);
    p = hcasim_provider_buffer_alloc(plain, 64, 64, MLX5DV_RES_TYPE_CQ, &cookie);
    REQUIRE(p);
    hcasim_provider_buffer_free(plain, cookie);
    CHECK(ibv_dealloc_pd(plain) == 0);
}
