// Host-direct: completion queues (rdma-core ibv_create_cq(3),
// ibv_create_cq_ex(3), ibv_resize_cq(3), ibv_req_notify_cq(3)): sizes and
// errors, extended polling with the read_* accessors, resizing with CQEs
// still unpolled, and the busy rule.
#include "tests/host/rdma_fixture.h"

#include <arpa/inet.h>

#include <chrono>
#include <cstring>
#include <thread>

using namespace hcasim::test;

TEST_CASE("create_cq: sizes are powers of two minus one; errors as mlx5") {
    VerbsFixture f;
    ibv_device_attr da{};
    REQUIRE(ibv_query_device(f.ctx, &da) == 0);
    ibv_cq* cq = ibv_create_cq(f.ctx, 100, reinterpret_cast<void*>(0x1234), nullptr, 0);
    REQUIRE(cq);
    CHECK(cq->cqe == 127);
    CHECK(cq->context == f.ctx);
    CHECK(cq->cq_context == reinterpret_cast<void*>(0x1234));
    CHECK(ibv_destroy_cq(cq) == 0);
    cq = ibv_create_cq(f.ctx, da.max_cqe, nullptr, nullptr, 0);
    REQUIRE(cq);
    CHECK(cq->cqe == da.max_cqe);
    CHECK(ibv_destroy_cq(cq) == 0);
    for (int bad : {0, -1, da.max_cqe + 1}) {
        CAPTURE(bad);
        errno = 0;
        CHECK(ibv_create_cq(f.ctx, bad, nullptr, nullptr, 0) == nullptr);
        CHECK(errno == EINVAL);
    }
    errno = 0;
    CHECK(ibv_create_cq(f.ctx, 4, nullptr, nullptr, 5) == nullptr);  // no such vector
    CHECK(errno == EINVAL);
    ibv_cq_init_attr_ex a{};
    a.cqe = 4;
    a.wc_flags = IBV_WC_EX_WITH_COMPLETION_TIMESTAMP;  // no device clock
    errno = 0;
    CHECK(ibv_create_cq_ex(f.ctx, &a) == nullptr);
    CHECK(errno == EOPNOTSUPP);
    a.wc_flags = 1ull << 40;
    errno = 0;
    CHECK(ibv_create_cq_ex(f.ctx, &a) == nullptr);
    CHECK(errno == EOPNOTSUPP);
    a.wc_flags = IBV_WC_STANDARD_FLAGS;
    a.comp_mask = 1u << 7;
    errno = 0;
    CHECK(ibv_create_cq_ex(f.ctx, &a) == nullptr);
    CHECK(errno == EINVAL);
    a.comp_mask = IBV_CQ_INIT_ATTR_MASK_PD;
    a.parent_domain = f.pd;  // a PD, not a parent domain
    errno = 0;
    CHECK(ibv_create_cq_ex(f.ctx, &a) == nullptr);
    CHECK(errno == EINVAL);
}

TEST_CASE("cq_ex: start/next/end_poll and the read_* accessors") {
    VerbsFixture f;
    ibv_cq_init_attr_ex a{};
    a.cqe = 32;
    a.wc_flags = IBV_WC_STANDARD_FLAGS;
    ibv_cq_ex* cqx = ibv_create_cq_ex(f.ctx, &a);
    REQUIRE(cqx);
    CHECK(!cqx->read_completion_ts);  // not asked for
    ibv_cq* cq = ibv_cq_ex_to_cq(cqx);
    ibv_poll_cq_attr pa{};
    CHECK(ibv_start_poll(cqx, &pa) == ENOENT);  // empty: no end_poll
    ibv_qp* a_qp = create_qp(f.pd, cq, cq, IBV_QPT_RC);
    ibv_qp* b_qp = create_qp(f.pd, cq, cq, IBV_QPT_RC);
    connect_pair(a_qp, b_qp);
    {
        Buffer src(f.pd, 256, kAllAccess, 7), dst(f.pd, 256);
        REQUIRE(post_recv_one(b_qp, {dst.sge(0, 256)}, 100) == 0);
        REQUIRE(post_one(a_qp, IBV_WR_SEND_WITH_IMM, {src.sge(0, 200)}, 200, IBV_SEND_SIGNALED, 0,
                         0, htonl(77)) == 0);
        REQUIRE(post_one(a_qp, IBV_WR_RDMA_WRITE, {src.sge(0, 10)}, 300, IBV_SEND_SIGNALED,
                         dst.addr(), dst.mr->rkey) == 0);
        auto wc = poll_cq_ex(cqx, 3);
        REQUIRE(wc.size() == 3);
        int seen = 0;
        for (const auto& w : wc) {
            CHECK(w.status == IBV_WC_SUCCESS);
            if (w.wr_id == 100) {
                ++seen;
                CHECK(w.opcode == IBV_WC_RECV);
                CHECK(w.byte_len == 200);
                CHECK((w.wc_flags & IBV_WC_WITH_IMM) != 0);
                CHECK(w.imm_data == htonl(77));
                CHECK(w.qp_num == b_qp->qp_num);
                CHECK(w.src_qp == a_qp->qp_num);
            } else if (w.wr_id == 200) {
                ++seen;
                CHECK(w.opcode == IBV_WC_SEND);
                CHECK(w.qp_num == a_qp->qp_num);
            } else if (w.wr_id == 300) {
                ++seen;
                CHECK(w.opcode == IBV_WC_RDMA_WRITE);
            }
        }
        CHECK(seen == 3);
        CHECK(ibv_start_poll(cqx, &pa) == ENOENT);
    }
    pa.comp_mask = 1;
    CHECK(ibv_start_poll(cqx, &pa) == EINVAL);
    CHECK(ibv_req_notify_cq(cq, 0) == 0);  // arms (events themselves are not wired yet)
    CHECK(ibv_req_notify_cq(cq, 1) == 0);
    CHECK(ibv_destroy_cq(cq) == EBUSY);  // QPs use it: the CQ stays usable
    CHECK(ibv_destroy_qp(a_qp) == 0);
    CHECK(ibv_destroy_qp(b_qp) == 0);
    CHECK(ibv_destroy_cq(cq) == 0);
}

TEST_CASE("resize_cq: unpolled CQEs move to the new ring, in order; polling goes on") {
    VerbsFixture f;
    ibv_cq* cq = ibv_create_cq(f.ctx, 8, nullptr, nullptr, 0);
    REQUIRE(cq);
    CHECK(cq->cqe == 15);
    ibv_qp* a = create_qp(f.pd, cq, cq, IBV_QPT_RC);
    ibv_qp* b = create_qp(f.pd, cq, cq, IBV_QPT_RC);
    connect_pair(a, b);
    Buffer src(f.pd, 64, kAllAccess, 1), dst(f.pd, 64);
    auto write = [&](uint64_t id) {
        REQUIRE(post_one(a, IBV_WR_RDMA_WRITE, {src.sge(0, 8)}, id, IBV_SEND_SIGNALED, dst.addr(),
                         dst.mr->rkey) == 0);
    };
    // Wrap the ring once, then leave 11 CQEs unpolled.
    for (uint64_t i = 0; i < 12; ++i) write(i);
    REQUIRE(poll_cq(cq, 12).size() == 12);
    src.data[0] = 2;
    for (uint64_t i = 100; i < 110; ++i) write(i);
    // Let all 11 land before resizing: the last is a read of the byte the
    // writes put there (RC orders it after them), its CQE the last one.
    Buffer rd(f.pd, 64);
    REQUIRE(post_one(a, IBV_WR_RDMA_READ, {rd.sge(0, 8)}, 110, IBV_SEND_SIGNALED, dst.addr(),
                     dst.mr->rkey) == 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (rd.data[0] != 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    REQUIRE(rd.data[0] == 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(ibv_resize_cq(cq, 5) == EINVAL);  // fewer entries than unpolled CQEs
    CHECK(ibv_resize_cq(cq, -1) == EINVAL);
    REQUIRE(ibv_resize_cq(cq, 100) == 0);
    CHECK(cq->cqe == 127);
    auto wc = poll_cq(cq, 11);
    REQUIRE(wc.size() == 11);
    for (uint64_t i = 0; i < 11; ++i) {
        CHECK(wc[i].wr_id == 100 + i);
        CHECK(wc[i].status == IBV_WC_SUCCESS);
    }
    CHECK(cq_empty(cq));
    // The new ring works, across its own wrap too.
    for (int round = 0; round < 3; ++round) {
        for (uint64_t i = 0; i < 60; ++i) write(1000 + i);
        wc = poll_cq(cq, 60);
        REQUIRE(wc.size() == 60);
        CHECK(wc[59].wr_id == 1059);
    }
    REQUIRE(ibv_resize_cq(cq, 127) == 0);  // the same size: nothing to do
    CHECK(cq->cqe == 127);
    REQUIRE(ibv_resize_cq(cq, 20) == 0);  // smaller, empty
    CHECK(cq->cqe == 31);
    write(5000);
    wc = poll_cq(cq, 1);
    REQUIRE(wc.size() == 1);
    CHECK(wc[0].wr_id == 5000);
    CHECK(ibv_destroy_qp(a) == 0);
    CHECK(ibv_destroy_qp(b) == 0);
    CHECK(ibv_destroy_cq(cq) == 0);
}
