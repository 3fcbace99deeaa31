// Host-direct: where queue memory comes from.  Queues created on a parent
// domain with allocators get every ring and doorbell record from
// alloc(pd, pd_context, size, alignment, resource_type) with mlx5's
// resource types, sizes and alignments, give them back through free()
// with the same type, and carry traffic from that (untouched, unpinned,
// garbage-filled) memory; IBV_ALLOCATOR_USE_DEFAULT falls back to the
// library; NULL fails the create with ENOMEM.  A QP on a parent domain
// with a thread domain rings the TD's own UAR (rdma-core
// ibv_alloc_parent_domain(3), ibv_alloc_td(3)).
#include "tests/host/rdma_fixture.h"

#include <infiniband/mlx5dv.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace hcasim::test;

namespace {

struct Call {
    size_t size, align;
    uint64_t type;
    void* ptr;
};

struct Allocator {
    std::vector<Call> allocs, frees;
    ibv_pd* seen_pd = nullptr;
    void* seen_ctx = nullptr;
    void* mode = nullptr;   // nullptr: memory, IBV_ALLOCATOR_USE_DEFAULT, or kFail
    uint64_t fail_type = ~0ull;  // with kFail: only this type fails
    size_t count(uint64_t type) const {
        size_t n = 0;
        for (const auto& c : allocs) n += c.type == type;
        return n;
    }
};
void* const kFail = reinterpret_cast<void*>(0x1);

void* test_alloc(ibv_pd* pd, void* ctx, size_t size, size_t align, uint64_t type) {
    auto* a = static_cast<Allocator*>(ctx);
    a->seen_pd = pd;
    a->seen_ctx = ctx;
    if (a->mode == IBV_ALLOCATOR_USE_DEFAULT) {
        a->allocs.push_back({size, align, type, nullptr});
        return IBV_ALLOCATOR_USE_DEFAULT;
    }
    if (a->mode == kFail && (a->fail_type == ~0ull || a->fail_type == type)) return nullptr;
    void* p = nullptr;
    if (posix_memalign(&p, std::max<size_t>(align, sizeof(void*)), size) != 0) return nullptr;
    std::memset(p, 0xab, size);  // the provider must not count on zeroed memory
    a->allocs.push_back({size, align, type, p});
    return p;
}

void test_free(ibv_pd*, void* ctx, void* ptr, uint64_t type) {
    auto* a = static_cast<Allocator*>(ctx);
    a->frees.push_back({0, 0, type, ptr});
    std::free(ptr);
}

ibv_pd* parent_with(ibv_context* ctx, ibv_pd* pd, Allocator* a, ibv_td* td = nullptr) {
    ibv_parent_domain_init_attr pa{};
    pa.pd = pd;
    pa.td = td;
    if (a) {
        pa.comp_mask = IBV_PARENT_DOMAIN_INIT_ATTR_ALLOCATORS | IBV_PARENT_DOMAIN_INIT_ATTR_PD_CONTEXT;
        pa.alloc = test_alloc;
        pa.free = test_free;
        pa.pd_context = a;
    }
    ibv_pd* p = ibv_alloc_parent_domain(ctx, &pa);
    REQUIRE(p);
    return p;
}

ibv_cq* cq_on(ibv_context* ctx, ibv_pd* parent, uint32_t cqe) {
    ibv_cq_init_attr_ex a{};
    a.cqe = cqe;
    a.wc_flags = IBV_WC_STANDARD_FLAGS;
    a.comp_mask = IBV_CQ_INIT_ATTR_MASK_PD;
    a.parent_domain = parent;
    ibv_cq_ex* cq = ibv_create_cq_ex(ctx, &a);
    return cq ? ibv_cq_ex_to_cq(cq) : nullptr;
}

ibv_srq* srq_on(ibv_pd* pd, uint32_t max_wr, uint32_t max_sge) {
    ibv_srq_init_attr a{};
    a.attr.max_wr = max_wr;
    a.attr.max_sge = max_sge;
    return ibv_create_srq(pd, &a);
}

// a (own RQ) and b (on the SRQ) exchange a message each way.
void traffic(ibv_pd* pd, ibv_qp* a, ibv_qp* b, ibv_cq* cq_a, ibv_cq* cq_b, ibv_srq* srq) {
    connect_pair(a, b);
    Buffer ab(pd, 4096, kAllAccess, 0x11), ba(pd, 4096, kAllAccess, 0x22);
    Buffer ra(pd, 4096), rb(pd, 4096);
    ibv_sge s = rb.sge(0, 4096);
    ibv_recv_wr wr{};
    wr.wr_id = 9;
    wr.sg_list = &s;
    wr.num_sge = 1;
    ibv_recv_wr* bad = nullptr;
    REQUIRE(ibv_post_srq_recv(srq, &wr, &bad) == 0);
    REQUIRE(post_recv_one(a, {ra.sge(0, 4096)}, 8) == 0);
    REQUIRE(post_one(a, IBV_WR_SEND, {ab.sge(0, 3000)}, 1) == 0);
    REQUIRE(post_one(b, IBV_WR_SEND, {ba.sge(0, 2000)}, 2) == 0);
    auto ca = poll_cq(cq_a, 2);
    auto cb = poll_cq(cq_b, 2);
    REQUIRE(ca.size() == 2);
    REQUIRE(cb.size() == 2);
    for (const auto& wc : ca) CHECK_MESSAGE(wc.status == IBV_WC_SUCCESS, status_str(wc));
    for (const auto& wc : cb) CHECK_MESSAGE(wc.status == IBV_WC_SUCCESS, status_str(wc));
    CHECK(rb.data[2999] == 0x11);
    CHECK(rb.data[3000] == 0);
    CHECK(ra.data[1999] == 0x22);
    CHECK(ra.data[2000] == 0);
}

}  // namespace

TEST_CASE("queues on a parent domain: every ring and record through alloc/free, traffic flows") {
    VerbsFixture f;
    Allocator al;
    ibv_pd* pad = parent_with(f.ctx, f.pd, &al);
    ibv_cq* cq_a = cq_on(f.ctx, pad, 100);
    REQUIRE(cq_a);
    // CQ: 128 CQEs of 64 bytes, page-aligned; then its doorbell record.
    REQUIRE(al.allocs.size() == 2);
    CHECK(al.allocs[0].type == MLX5DV_RES_TYPE_CQ);
    CHECK(al.allocs[0].size == 128 * 64);
    CHECK(al.allocs[0].align == 4096);
    CHECK(al.allocs[1].type == MLX5DV_RES_TYPE_DBR);
    CHECK(al.allocs[1].size == 8);
    CHECK(al.allocs[1].align == 8);
    CHECK(al.seen_pd == pad);
    CHECK(al.seen_ctx == &al);
    ibv_cq* cq_b = cq_on(f.ctx, pad, 100);
    REQUIRE(cq_b);
    ibv_srq* srq = srq_on(pad, 100, 2);
    REQUIRE(srq);
    // SRQ: 128 WQEs of 64 bytes (16 + 2 SGEs, a power of two), page-aligned.
    REQUIRE(al.allocs.size() == 6);
    CHECK(al.allocs[4].type == MLX5DV_RES_TYPE_SRQ);
    CHECK(al.allocs[4].size == 128 * 64);
    CHECK(al.allocs[4].align == 4096);
    CHECK(al.allocs[5].type == MLX5DV_RES_TYPE_DBR);
    QpCaps caps;
    caps.send_wr = 16;
    caps.recv_wr = 16;
    caps.send_sge = 2;
    caps.recv_sge = 2;
    ibv_qp* a = create_qp(pad, cq_a, cq_a, IBV_QPT_RC, caps);
    REQUIRE(a);
    // QP: RQ 16 x 64 then SQ 16 x 256 (112 + 2 SGEs -> 256), aligned to the
    // larger stride.
    REQUIRE(al.allocs.size() == 8);
    CHECK(al.allocs[6].type == MLX5DV_RES_TYPE_QP);
    CHECK(al.allocs[6].size == 16 * 64 + 16 * 256);
    CHECK(al.allocs[6].align == 256);
    CHECK(al.allocs[7].type == MLX5DV_RES_TYPE_DBR);
    ibv_qp* b = create_qp(pad, cq_b, cq_b, IBV_QPT_RC, caps, srq);
    REQUIRE(b);
    CHECK(al.allocs[8].type == MLX5DV_RES_TYPE_QP);
    CHECK(al.allocs[8].size == 16 * 256);  // no RQ: the SRQ receives
    CHECK(ibv_dealloc_pd(pad) == EBUSY);
    traffic(f.pd, a, b, cq_a, cq_b, srq);
    CHECK(al.frees.empty());
    CHECK(ibv_destroy_qp(a) == 0);
    CHECK(ibv_destroy_qp(b) == 0);
    CHECK(ibv_destroy_srq(srq) == 0);
    CHECK(ibv_destroy_cq(cq_a) == 0);
    CHECK(ibv_destroy_cq(cq_b) == 0);
    // Everything came back, each with the type it was allocated with.
    REQUIRE(al.frees.size() == al.allocs.size());
    for (const Call& c : al.allocs) {
        bool found = false;
        for (const Call& fr : al.frees) found |= fr.ptr == c.ptr && fr.type == c.type;
        CHECK(found);
    }
    CHECK(ibv_dealloc_pd(pad) == 0);
}

TEST_CASE("queues on a parent domain: IBV_ALLOCATOR_USE_DEFAULT falls back, free is never called") {
    VerbsFixture f;
    Allocator al;
    al.mode = IBV_ALLOCATOR_USE_DEFAULT;
    ibv_pd* pad = parent_with(f.ctx, f.pd, &al);
    ibv_cq* cq_a = cq_on(f.ctx, pad, 16);
    ibv_cq* cq_b = cq_on(f.ctx, pad, 16);
    ibv_srq* srq = srq_on(pad, 16, 1);
    REQUIRE(cq_a);
    REQUIRE(cq_b);
    REQUIRE(srq);
    ibv_qp* a = create_qp(pad, cq_a, cq_a, IBV_QPT_RC);
    ibv_qp* b = create_qp(pad, cq_b, cq_b, IBV_QPT_RC, {}, srq);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(al.count(MLX5DV_RES_TYPE_CQ) == 2);
    CHECK(al.count(MLX5DV_RES_TYPE_SRQ) == 1);
    CHECK(al.count(MLX5DV_RES_TYPE_QP) == 2);
    CHECK(al.count(MLX5DV_RES_TYPE_DBR) == 5);
    traffic(f.pd, a, b, cq_a, cq_b, srq);
    CHECK(ibv_destroy_qp(a) == 0);
    CHECK(ibv_destroy_qp(b) == 0);
    CHECK(ibv_destroy_srq(srq) == 0);
    CHECK(ibv_destroy_cq(cq_a) == 0);
    CHECK(ibv_destroy_cq(cq_b) == 0);
    CHECK(al.frees.empty());
    CHECK(ibv_dealloc_pd(pad) == 0);
}

TEST_CASE("queues on a parent domain: NULL from alloc fails the create with ENOMEM") {
    VerbsFixture f;
    Allocator al;
    ibv_pd* pad = parent_with(f.ctx, f.pd, &al);
    ibv_cq* cq = cq_on(f.ctx, pad, 16);  // made before any failure
    REQUIRE(cq);
    al.mode = kFail;
    for (uint64_t type : {MLX5DV_RES_TYPE_CQ, MLX5DV_RES_TYPE_DBR}) {
        CAPTURE(type);
        al.fail_type = type;
        errno = 0;
        CHECK(cq_on(f.ctx, pad, 16) == nullptr);
        CHECK(errno == ENOMEM);
    }
    for (uint64_t type : {MLX5DV_RES_TYPE_SRQ, MLX5DV_RES_TYPE_DBR}) {
        CAPTURE(type);
        al.fail_type = type;
        errno = 0;
        CHECK(srq_on(pad, 16, 1) == nullptr);
        CHECK(errno == ENOMEM);
    }
    for (uint64_t type : {MLX5DV_RES_TYPE_QP, MLX5DV_RES_TYPE_DBR}) {
        CAPTURE(type);
        al.fail_type = type;
        errno = 0;
        CHECK(create_qp(pad, cq, cq, IBV_QPT_RC) == nullptr);
        CHECK(errno == ENOMEM);
    }
    // What was handed out for the failed creates went back.
    CHECK(al.frees.size() == al.allocs.size() - 2);
    CHECK(ibv_destroy_cq(cq) == 0);
    CHECK(al.frees.size() == al.allocs.size());
    CHECK(ibv_dealloc_pd(pad) == 0);
}

TEST_CASE("a QP on a parent domain with a thread domain rings the TD's own UAR") {
    VerbsFixture f;
    ibv_td_init_attr ta{};
    ibv_td* td = ibv_alloc_td(f.ctx, &ta);
    REQUIRE(td);
    // The trace names the UAR: "op=ALLOC_UAR(0x802) op_mod=0 uar=N status=OK".
    const std::string after_td = f.dev.trace();
    const std::string key = "op=ALLOC_UAR(0x802) op_mod=0 uar=";
    const size_t at = after_td.find(key);
    REQUIRE(at != std::string::npos);
    const std::string uar = after_td.substr(at + key.size(),
                                            after_td.find(' ', at + key.size()) - at - key.size());
    REQUIRE(!uar.empty());
    ibv_pd* pad = parent_with(f.ctx, f.pd, nullptr, td);
    ibv_cq* cq = ibv_create_cq(f.ctx, 16, nullptr, nullptr, 0);
    REQUIRE(cq);
    ibv_qp* a = create_qp(pad, cq, cq, IBV_QPT_RC);
    ibv_qp* b = create_qp(f.pd, cq, cq, IBV_QPT_RC);
    REQUIRE(a);
    REQUIRE(b);
    // CREATE_QP lines: "... srqn=0x0 uar=N sq=..."; a's names the TD's UAR.
    const std::string trace = f.dev.trace();
    size_t qp_lines = 0, td_uar = 0;
    for (size_t pos = trace.find("op=CREATE_QP"); pos != std::string::npos;
         pos = trace.find("op=CREATE_QP", pos + 1)) {
        const std::string line = trace.substr(pos, trace.find('\n', pos) - pos);
        ++qp_lines;
        td_uar += line.find(" uar=" + uar + " ") != std::string::npos;
    }
    CHECK(qp_lines == 2);
    CHECK(td_uar == 1);
    connect_pair(a, b);
    {
        Buffer src(f.pd, 256, kAllAccess, 0x42), dst(f.pd, 256);
        REQUIRE(post_one(a, IBV_WR_RDMA_WRITE, {src.sge(0, 256)}, 1, IBV_SEND_SIGNALED, dst.addr(),
                         dst.mr->rkey) == 0);
        auto s = poll_cq(cq, 1);
        REQUIRE(s.size() == 1);
        CHECK(s[0].status == IBV_WC_SUCCESS);
        CHECK(dst.data[255] == 0x42);
    }
    CHECK(ibv_dealloc_td(td) == EBUSY);
    CHECK(ibv_destroy_qp(a) == 0);
    CHECK(ibv_destroy_qp(b) == 0);
    CHECK(ibv_destroy_cq(cq) == 0);
    CHECK(ibv_dealloc_pd(pad) == 0);
    CHECK(ibv_dealloc_td(td) == 0);
    CHECK(f.dev.trace().find("op=DEALLOC_UAR(0x803) op_mod=0 uar=" + uar + " status=OK") !=
          std::string::npos);
}
