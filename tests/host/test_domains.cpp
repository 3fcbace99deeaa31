// Host-direct: thread domains and parent domains (rdma-core
// ibv_alloc_td(3), ibv_alloc_parent_domain(3)) and the EBUSY rules in
// every direction.  Queues on parent domains, with and without
// allocators, are in test_queue_memory.cpp.
#include "tests/host/verbs_fixture.h"

#include <cerrno>
#include <vector>

using hcasim::test::VerbsFixture;

namespace {

ibv_pd* parent(ibv_context* ctx, ibv_pd* pd, ibv_td* td) {
    ibv_parent_domain_init_attr a{};
    a.pd = pd;
    a.td = td;
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
    CHECK(parent(f.ctx, nullptr, nullptr) == nullptr);
    CHECK(errno == EINVAL);
    ibv_parent_domain_init_attr a{};
    a.pd = f.pd;
    a.comp_mask = 1u << 9;
    errno = 0;
    CHECK(ibv_alloc_parent_domain(f.ctx, &a) == nullptr);
    CHECK(errno == EINVAL);
    ibv_pd* pad = parent(f.ctx, f.pd, nullptr);
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
    ibv_pd* pad = parent(f.ctx, pd, td);
    REQUIRE(pad);
    CHECK(ibv_dealloc_pd(pd) == EBUSY);
    CHECK(ibv_dealloc_td(td) == EBUSY);
    // An object on the parent domain holds it in turn.
    ibv_cq_init_attr_ex ca{};
    ca.cqe = 4;
    ca.comp_mask = IBV_CQ_INIT_ATTR_MASK_PD;
    ca.parent_domain = pad;
    ibv_cq_ex* cq = ibv_create_cq_ex(f.ctx, &ca);
    REQUIRE(cq);
    CHECK(ibv_dealloc_pd(pad) == EBUSY);
    CHECK(ibv_destroy_cq(ibv_cq_ex_to_cq(cq)) == 0);
    CHECK(ibv_dealloc_pd(pad) == 0);
    CHECK(ibv_dealloc_td(td) == 0);
    CHECK(ibv_dealloc_pd(pd) == 0);
}

TEST_CASE("MRs on a parent domain use its PD") {
    VerbsFixture f;
    ibv_pd* pad = parent(f.ctx, f.pd, nullptr);
    REQUIRE(pad);
    std::vector<uint8_t> buf(4096);
    ibv_mr* mr = ibv_reg_mr(pad, buf.data(), 64, IBV_ACCESS_LOCAL_WRITE);
    REQUIRE(mr);
    CHECK(mr->pd == pad);
    CHECK(f.mkey(mr->lkey)["pdn"] == f.pd->handle);
    CHECK(ibv_dereg_mr(mr) == 0);
    CHECK(ibv_dealloc_pd(pad) == 0);
}
