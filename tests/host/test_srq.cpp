// Host-direct: shared receive queues (rdma-core ibv_create_srq(3),
// ibv_modify_srq(3), ibv_query_srq(3), ibv_post_srq_recv(3)): two QPs
// receiving from one SRQ, WQEs recycled through the free list many times
// over, the size rules, the limit, and the EBUSY rule.
#include "tests/host/rdma_fixture.h"

#include <cstring>
#include <set>

using namespace hcasim::test;

namespace {

ibv_srq* make_srq(ibv_pd* pd, uint32_t max_wr, uint32_t max_sge, ibv_srq_attr* out = nullptr) {
    ibv_srq_init_attr a{};
    a.attr.max_wr = max_wr;
    a.attr.max_sge = max_sge;
    ibv_srq* s = ibv_create_srq(pd, &a);
    if (out) *out = a.attr;
    return s;
}

}  // namespace

TEST_CASE("SRQ: two QPs receive from one SRQ; WQEs are recycled many times over") {
    VerbsFixture f;
    ibv_srq_attr got{};
    ibv_srq* srq = make_srq(f.pd, 8, 1, &got);
    REQUIRE(srq);
    CHECK(got.max_wr == 15);  // 16 entries, one stays the list's tail
    CHECK(got.max_sge == 1);
    ibv_cq* cq = ibv_create_cq(f.ctx, 256, nullptr, nullptr, 0);
    REQUIRE(cq);
    ibv_qp* s1 = create_qp(f.pd, cq, cq, IBV_QPT_RC);
    ibv_qp* s2 = create_qp(f.pd, cq, cq, IBV_QPT_RC);
    ibv_qp* r1 = create_qp(f.pd, cq, cq, IBV_QPT_RC, {}, srq);
    ibv_qp* r2 = create_qp(f.pd, cq, cq, IBV_QPT_RC, {}, srq);
    REQUIRE((s1 && s2 && r1 && r2));
    connect_pair(s1, r1);
    connect_pair(s2, r2);
    // Posting a receive on a QP with an SRQ is EINVAL.
    {
        Buffer tmp(f.pd, 64);
        CHECK(post_recv_one(r1, {tmp.sge(0, 64)}, 0) == EINVAL);
    }
    constexpr int kSlots = 15, kRounds = 6;
    Buffer rx(f.pd, kSlots * 64), tx(f.pd, 64);
    std::set<uint64_t> outstanding;
    for (int i = 0; i < kSlots; ++i) {
        REQUIRE(post_srq_one(srq, rx.sge(64 * i, 64), i) == 0);
        outstanding.insert(i);
    }
    Buffer extra(f.pd, 64);
    CHECK(post_srq_one(srq, extra.sge(0, 64), 999) == ENOMEM);  // full
    int received = 0;
    for (int round = 0; round < kRounds; ++round) {
        for (int i = 0; i < kSlots; ++i) {
            tx.data[0] = static_cast<uint8_t>(round * kSlots + i);
            REQUIRE(post_one(i % 2 ? s2 : s1, IBV_WR_SEND, {tx.sge(0, 1)}, 0, IBV_SEND_INLINE) == 0);
            // One at a time (the sends are unsignaled and inline): only
            // the receive completes.
            auto wc = poll_cq(cq, 1);
            REQUIRE(wc.size() == 1);
            CHECK(wc[0].opcode == IBV_WC_RECV);
            CHECK(wc[0].status == IBV_WC_SUCCESS);
            CHECK(wc[0].qp_num == (i % 2 ? r2 : r1)->qp_num);
            REQUIRE(outstanding.count(wc[0].wr_id) == 1);
            outstanding.erase(wc[0].wr_id);
            CHECK(rx.data[64 * wc[0].wr_id] == static_cast<uint8_t>(round * kSlots + i));
            ++received;
            // Re-post into the slot just consumed.
            REQUIRE(post_srq_one(srq, rx.sge(64 * wc[0].wr_id, 64), wc[0].wr_id) == 0);
            outstanding.insert(wc[0].wr_id);
        }
    }
    CHECK(received == kSlots * kRounds);
    // The sends' unsignaled completions never surfaced; nothing else is left.
    CHECK(cq_empty(cq));
    CHECK(ibv_destroy_srq(srq) == EBUSY);  // QPs use it
    for (ibv_qp* q : {s1, s2, r1, r2}) CHECK(ibv_destroy_qp(q) == 0);
    CHECK(ibv_destroy_srq(srq) == 0);
    CHECK(ibv_destroy_cq(cq) == 0);
}

TEST_CASE("SRQ: sizes, limit, query, unsupported resize, too many SGEs") {
    VerbsFixture f;
    ibv_device_attr da{};
    REQUIRE(ibv_query_device(f.ctx, &da) == 0);
    errno = 0;
    CHECK(make_srq(f.pd, static_cast<uint32_t>(da.max_srq_wr) + 1, 1) == nullptr);
    CHECK(errno == EINVAL);
    errno = 0;
    CHECK(make_srq(f.pd, 4, static_cast<uint32_t>(da.max_srq_sge) + 1) == nullptr);
    CHECK(errno == EINVAL);
    ibv_srq_attr got{};
    ibv_srq* srq = make_srq(f.pd, 100, 3, &got);
    REQUIRE(srq);
    CHECK(got.max_wr == 127);
    CHECK(got.max_sge == 3);  // 16 + 3 * 16 = 64: exactly three
    ibv_srq_attr q{};
    REQUIRE(ibv_query_srq(srq, &q) == 0);
    CHECK(q.max_wr == 127);
    CHECK(q.max_sge == 3);
    CHECK(q.srq_limit == 0);
    ibv_srq_attr m{};
    m.srq_limit = 10;
    CHECK(ibv_modify_srq(srq, &m, IBV_SRQ_LIMIT) == 0);
    REQUIRE(ibv_query_srq(srq, &q) == 0);
    CHECK(q.srq_limit == 10);
    m.srq_limit = 127;  // not below max_wr
    CHECK(ibv_modify_srq(srq, &m, IBV_SRQ_LIMIT) == EINVAL);
    m.max_wr = 500;
    CHECK(ibv_modify_srq(srq, &m, IBV_SRQ_MAX_WR) == EINVAL);
    Buffer b(f.pd, 256);
    ibv_sge sg[4] = {b.sge(0, 8), b.sge(8, 8), b.sge(16, 8), b.sge(24, 8)};
    ibv_recv_wr wr{};
    wr.sg_list = sg;
    wr.num_sge = 4;
    ibv_recv_wr* bad = nullptr;
    CHECK(ibv_post_srq_recv(srq, &wr, &bad) == EINVAL);
    CHECK(bad == &wr);
    CHECK(ibv_destroy_srq(srq) == 0);
    // ibv_create_srq_ex: basic only.
    ibv_srq_init_attr_ex ex{};
    ex.comp_mask = IBV_SRQ_INIT_ATTR_TYPE | IBV_SRQ_INIT_ATTR_PD;
    ex.srq_type = IBV_SRQT_XRC;
    ex.pd = f.pd;
    ex.attr.max_wr = 4;
    ex.attr.max_sge = 1;
    errno = 0;
    CHECK(ibv_create_srq_ex(f.ctx, &ex) == nullptr);
    CHECK(errno == EOPNOTSUPP);
    ex.srq_type = IBV_SRQT_BASIC;
    ibv_srq* s2 = ibv_create_srq_ex(f.ctx, &ex);
    REQUIRE(s2);
    CHECK(s2->pd == f.pd);
    CHECK(ibv_destroy_srq(s2) == 0);
}

TEST_CASE("SRQ: destroying a QP gives its unpolled receive completions' WQEs back") {
    VerbsFixture f;
    ibv_srq* srq = make_srq(f.pd, 3, 1);
    REQUIRE(srq);
    ibv_cq* cq = ibv_create_cq(f.ctx, 16, nullptr, nullptr, 0);
    ibv_cq* rcq = ibv_create_cq(f.ctx, 16, nullptr, nullptr, 0);
    REQUIRE(cq);
    REQUIRE(rcq);
    ibv_qp* s = create_qp(f.pd, cq, cq, IBV_QPT_RC);
    ibv_qp* r = create_qp(f.pd, rcq, rcq, IBV_QPT_RC, {}, srq);
    connect_pair(s, r);
    Buffer rx(f.pd, 3 * 64), tx(f.pd, 64, kAllAccess, 5);
    for (int i = 0; i < 3; ++i) REQUIRE(post_srq_one(srq, rx.sge(64 * i, 64), i) == 0);
    for (int i = 0; i < 3; ++i) REQUIRE(post_one(s, IBV_WR_SEND, {tx.sge(0, 8)}, i) == 0);
    REQUIRE(poll_cq(cq, 3).size() == 3);  // all delivered; receives left unpolled
    CHECK(post_srq_one(srq, rx.sge(0, 64), 9) == ENOMEM);
    CHECK(ibv_destroy_qp(r) == 0);
    CHECK(cq_empty(rcq));  // its CQEs went with it
    for (int i = 0; i < 3; ++i) CHECK(post_srq_one(srq, rx.sge(64 * i, 64), 10 + i) == 0);
    CHECK(ibv_destroy_qp(s) == 0);
    CHECK(ibv_destroy_srq(srq) == 0);
    CHECK(ibv_destroy_cq(cq) == 0);
    CHECK(ibv_destroy_cq(rcq) == 0);
}
