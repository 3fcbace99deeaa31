// Host-direct: the ibv_wr_* post API (rdma-core ibv_wr_post(3)) on QPs
// made with ibv_create_qp_ex and IBV_QP_INIT_ATTR_SEND_OPS_FLAGS: every
// operation hcasim executes, SGE lists and inline data, UD addressing,
// batches that fail whole at ibv_wr_complete, and ibv_wr_abort.
#include "tests/host/rdma_fixture.h"

#include <arpa/inet.h>

#include <cstring>
#include <map>

using namespace hcasim::test;

namespace {

constexpr uint64_t kRcOps = IBV_QP_EX_WITH_SEND | IBV_QP_EX_WITH_SEND_WITH_IMM |
                            IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM |
                            IBV_QP_EX_WITH_RDMA_READ | IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP |
                            IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD;

ibv_qp* create_ex(VerbsFixture& f, ibv_cq* cq, ibv_qp_type type, uint64_t ops,
                  uint32_t send_wr = 32) {
    ibv_qp_init_attr_ex a{};
    a.send_cq = cq;
    a.recv_cq = cq;
    a.qp_type = type;
    a.cap.max_send_wr = send_wr;
    a.cap.max_recv_wr = 32;
    a.cap.max_send_sge = 3;
    a.cap.max_recv_sge = 3;
    a.cap.max_inline_data = 64;
    a.comp_mask = IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
    a.pd = f.pd;
    a.send_ops_flags = ops;
    return ibv_create_qp_ex(f.ctx, &a);
}

struct ExPair : VerbsFixture {
    explicit ExPair(uint32_t send_wr = 32) {
        cq = ibv_create_cq(ctx, 128, nullptr, nullptr, 0);
        REQUIRE(cq);
        a = create_ex(*this, cq, IBV_QPT_RC, kRcOps, send_wr);
        b = create_qp(pd, cq, cq, IBV_QPT_RC);
        connect_pair(a, b);
        x = ibv_qp_to_qp_ex(a);
        REQUIRE(x);
    }
    ~ExPair() {
        CHECK(ibv_destroy_qp(a) == 0);
        CHECK(ibv_destroy_qp(b) == 0);
        CHECK(ibv_destroy_cq(cq) == 0);
    }
    ibv_cq* cq = nullptr;
    ibv_qp *a = nullptr, *b = nullptr;
    ibv_qp_ex* x = nullptr;
};

}  // namespace

TEST_CASE("wr_*: every operation in one batch; data, statuses, opcodes") {
    ExPair p;
    Buffer src(p.pd, 4096), dst(p.pd, 4096), rx(p.pd, 4096), rd(p.pd, 64), at(p.pd, 64);
    for (size_t i = 0; i < 4096; ++i) src.data[i] = static_cast<uint8_t>(i * 3);
    uint64_t v = 10;
    std::memcpy(dst.data.data() + 2048, &v, 8);
    REQUIRE(post_recv_one(p.b, {rx.sge(0, 1024)}, 1) == 0);
    REQUIRE(post_recv_one(p.b, {rx.sge(1024, 1024)}, 2) == 0);
    REQUIRE(post_recv_one(p.b, {rx.sge(2048, 1024)}, 3) == 0);
    ibv_qp_ex* x = p.x;
    ibv_wr_start(x);
    x->wr_id = 10;
    x->wr_flags = IBV_SEND_SIGNALED;
    ibv_wr_send(x);
    ibv_wr_set_sge(x, src.mr->lkey, src.addr(0), 100);
    x->wr_id = 11;
    ibv_wr_send_imm(x, htonl(5));
    const ibv_sge list[2] = {src.sge(200, 10), src.sge(300, 20)};
    ibv_wr_set_sge_list(x, 2, list);
    x->wr_id = 12;
    ibv_wr_rdma_write(x, dst.mr->rkey, dst.addr(0));
    ibv_wr_set_sge(x, src.mr->lkey, src.addr(0), 1000);
    x->wr_id = 13;
    ibv_wr_rdma_write_imm(x, dst.mr->rkey, dst.addr(1000), htonl(6));
    char inl[] = "inline!";
    ibv_wr_set_inline_data(x, inl, 7);
    x->wr_id = 14;
    ibv_wr_rdma_read(x, dst.mr->rkey, dst.addr(0));
    ibv_wr_set_sge(x, rd.mr->lkey, rd.addr(0), 50);
    x->wr_id = 15;
    ibv_wr_atomic_fetch_add(x, dst.mr->rkey, dst.addr(2048), 5);
    ibv_wr_set_sge(x, at.mr->lkey, at.addr(0), 8);
    x->wr_id = 16;
    ibv_wr_atomic_cmp_swp(x, dst.mr->rkey, dst.addr(2048), 15, 99);
    ibv_wr_set_sge(x, at.mr->lkey, at.addr(8), 8);
    REQUIRE(ibv_wr_complete(x) == 0);
    auto wc = poll_cq(p.cq, 10);
    REQUIRE(wc.size() == 10);
    std::map<uint64_t, ibv_wc> by_id;
    for (const auto& w : wc) {
        CHECK_MESSAGE(w.status == IBV_WC_SUCCESS, w.wr_id, " ", status_str(w));
        by_id[w.wr_id] = w;
    }
    CHECK(by_id[10].opcode == IBV_WC_SEND);
    CHECK(by_id[12].opcode == IBV_WC_RDMA_WRITE);
    CHECK(by_id[14].opcode == IBV_WC_RDMA_READ);
    CHECK(by_id[15].opcode == IBV_WC_FETCH_ADD);
    CHECK(by_id[16].opcode == IBV_WC_COMP_SWAP);
    CHECK(by_id[1].byte_len == 100);
    CHECK(by_id[2].byte_len == 30);
    CHECK(by_id[2].imm_data == htonl(5));
    CHECK(by_id[3].opcode == IBV_WC_RECV_RDMA_WITH_IMM);
    CHECK(by_id[3].imm_data == htonl(6));
    CHECK(std::memcmp(rx.data.data(), src.data.data(), 100) == 0);
    CHECK(std::memcmp(rx.data.data() + 1024, src.data.data() + 200, 10) == 0);
    CHECK(std::memcmp(rx.data.data() + 1034, src.data.data() + 300, 20) == 0);
    CHECK(std::memcmp(dst.data.data() + 1000, "inline!", 7) == 0);
    CHECK(std::memcmp(rd.data.data(), src.data.data(), 50) == 0);
    uint64_t old1 = 0, old2 = 0, now = 0;
    std::memcpy(&old1, at.data.data(), 8);
    std::memcpy(&old2, at.data.data() + 8, 8);
    std::memcpy(&now, dst.data.data() + 2048, 8);
    CHECK(old1 == 10);
    CHECK(old2 == 15);
    CHECK(now == 99);
}

TEST_CASE("wr_*: a failing batch posts nothing; abort drops; EOPNOTSUPP for what hcasim lacks") {
    ExPair p(4);
    Buffer src(p.pd, 64, kAllAccess, 8), dst(p.pd, 64);
    ibv_qp_ex* x = p.x;
    x->wr_flags = IBV_SEND_SIGNALED;
    // Five into a four-entry SQ: ENOMEM, none of them executes.
    ibv_wr_start(x);
    for (int i = 0; i < 5; ++i) {
        x->wr_id = i;
        ibv_wr_rdma_write(x, dst.mr->rkey, dst.addr(i));
        ibv_wr_set_sge(x, src.mr->lkey, src.addr(0), 1);
    }
    CHECK(ibv_wr_complete(x) == ENOMEM);
    CHECK(cq_empty(p.cq));
    CHECK(dst.data[0] == 0);
    // Too many SGEs, too much inline: EINVAL.
    ibv_wr_start(x);
    ibv_wr_send(x);
    const ibv_sge four[4] = {src.sge(0, 1), src.sge(1, 1), src.sge(2, 1), src.sge(3, 1)};
    ibv_wr_set_sge_list(x, 4, four);
    CHECK(ibv_wr_complete(x) == EINVAL);
    std::vector<char> big(1024);
    ibv_wr_start(x);
    ibv_wr_send(x);
    ibv_wr_set_inline_data(x, big.data(), big.size());
    CHECK(ibv_wr_complete(x) == EINVAL);
    // Operations hcasim does not execute.
    ibv_wr_start(x);
    ibv_wr_local_inv(x, 1);
    CHECK(ibv_wr_complete(x) == EOPNOTSUPP);
    ibv_wr_start(x);
    ibv_wr_send_inv(x, 1);
    CHECK(ibv_wr_complete(x) == EOPNOTSUPP);
    // Abort: nothing goes out, and the QP keeps working.
    ibv_wr_start(x);
    ibv_wr_rdma_write(x, dst.mr->rkey, dst.addr(0));
    ibv_wr_set_sge(x, src.mr->lkey, src.addr(0), 4);
    ibv_wr_abort(x);
    CHECK(cq_empty(p.cq));
    CHECK(dst.data[0] == 0);
    ibv_wr_start(x);
    x->wr_id = 77;
    ibv_wr_rdma_write(x, dst.mr->rkey, dst.addr(0));
    ibv_wr_set_sge(x, src.mr->lkey, src.addr(0), 4);
    REQUIRE(ibv_wr_complete(x) == 0);
    auto wc = poll_cq(p.cq, 1);
    REQUIRE(wc.size() == 1);
    CHECK(wc[0].wr_id == 77);
    CHECK(wc[0].status == IBV_WC_SUCCESS);
    CHECK(dst.data[3] == 8);
}

TEST_CASE("qp_ex: creation rules and ibv_qp_to_qp_ex") {
    VerbsFixture f;
    ibv_cq* cq = ibv_create_cq(f.ctx, 16, nullptr, nullptr, 0);
    REQUIRE(cq);
    ibv_qp* plain = create_qp(f.pd, cq, cq, IBV_QPT_RC);
    REQUIRE(plain);
    CHECK(ibv_qp_to_qp_ex(plain) == nullptr);
    errno = 0;
    CHECK(create_ex(f, cq, IBV_QPT_RC, kRcOps | IBV_QP_EX_WITH_BIND_MW) == nullptr);
    CHECK(errno == EOPNOTSUPP);
    errno = 0;
    CHECK(create_ex(f, cq, IBV_QPT_UD, IBV_QP_EX_WITH_RDMA_WRITE) == nullptr);
    CHECK(errno == EOPNOTSUPP);
    errno = 0;
    CHECK(create_ex(f, cq, IBV_QPT_RAW_PACKET, IBV_QP_EX_WITH_SEND) == nullptr);
    CHECK(errno == EOPNOTSUPP);
    ibv_qp* ex = create_ex(f, cq, IBV_QPT_UC, IBV_QP_EX_WITH_SEND | IBV_QP_EX_WITH_RDMA_WRITE);
    REQUIRE(ex);
    ibv_qp_ex* x = ibv_qp_to_qp_ex(ex);
    REQUIRE(x);
    CHECK(&x->qp_base == ex);
    CHECK(ibv_destroy_qp(ex) == 0);
    CHECK(ibv_destroy_qp(plain) == 0);
    CHECK(ibv_destroy_cq(cq) == 0);
}

TEST_CASE("wr_*: UD sends with ibv_wr_set_ud_addr") {
    VerbsFixture f;
    ibv_cq* cq = ibv_create_cq(f.ctx, 16, nullptr, nullptr, 0);
    REQUIRE(cq);
    ibv_qp* a = create_ex(f, cq, IBV_QPT_UD, IBV_QP_EX_WITH_SEND | IBV_QP_EX_WITH_SEND_WITH_IMM);
    ibv_qp* b = create_qp(f.pd, cq, cq, IBV_QPT_UD);
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(ud_ready(a, 7) == 0);
    REQUIRE(ud_ready(b, 7) == 0);
    ibv_ah_attr attr = self_ah_attr(f.ctx);
    ibv_ah* ah = ibv_create_ah(f.pd, &attr);
    REQUIRE(ah);
    {
        Buffer rx(f.pd, 40 + 128);
        REQUIRE(post_recv_one(b, {rx.sge(0, 40 + 128)}, 1) == 0);
        ibv_qp_ex* x = ibv_qp_to_qp_ex(a);
        ibv_wr_start(x);
        x->wr_id = 2;
        x->wr_flags = IBV_SEND_SIGNALED;
        ibv_wr_send_imm(x, htonl(3));
        ibv_wr_set_ud_addr(x, ah, b->qp_num, 7);
        char msg[] = "hello ud";
        ibv_wr_set_inline_data(x, msg, 8);
        REQUIRE(ibv_wr_complete(x) == 0);
        auto wc = poll_cq(cq, 2);
        REQUIRE(wc.size() == 2);
        const ibv_wc& r = wc[0].wr_id == 1 ? wc[0] : wc[1];
        CHECK(r.status == IBV_WC_SUCCESS);
        CHECK(r.byte_len == 48);
        CHECK(r.imm_data == htonl(3));
        CHECK(r.src_qp == a->qp_num);
        CHECK(std::memcmp(rx.data.data() + 40, "hello ud", 8) == 0);
        // RDMA on a UD QP's wr_* API: not for this type.
        ibv_wr_start(x);
        ibv_wr_rdma_write(x, 1, 0);
        CHECK(ibv_wr_complete(x) == EOPNOTSUPP);
    }
    CHECK(ibv_destroy_ah(ah) == 0);
    CHECK(ibv_destroy_qp(a) == 0);
    CHECK(ibv_destroy_qp(b) == 0);
    CHECK(ibv_destroy_cq(cq) == 0);
}
