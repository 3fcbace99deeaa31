// Host-direct: RC traffic between two QPs of one context through the
// device's loopback port (rdma-core ibv_post_send(3), ibv_post_recv(3),
// ibv_poll_cq(3)): every opcode, several SGEs, inline data, signaling,
// zero-length messages and messages larger than the path MTU.  Data,
// statuses, opcodes and byte counts are all checked.
#include "tests/host/rdma_fixture.h"

#include <arpa/inet.h>

#include <cstring>
#include <numeric>

using namespace hcasim::test;

namespace {

void pattern(std::vector<uint8_t>& v, uint8_t seed) {
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
}

}  // namespace

TEST_CASE("RC send/recv: data lands, both sides complete with the right fields") {
    RcPair p;
    Buffer src(p.pd, 4096), dst(p.pd, 4096);
    pattern(src.data, 3);
    REQUIRE(post_recv_one(p.b, {dst.sge(0, 4096)}, 77) == 0);
    REQUIRE(post_one(p.a, IBV_WR_SEND, {src.sge(0, 1000)}, 11) == 0);
    auto s = poll_cq(p.cq_a, 1);
    REQUIRE(s.size() == 1);
    CHECK(s[0].status == IBV_WC_SUCCESS);
    CHECK(s[0].wr_id == 11);
    CHECK(s[0].opcode == IBV_WC_SEND);
    CHECK(s[0].qp_num == p.a->qp_num);
    auto r = poll_cq(p.cq_b, 1);
    REQUIRE(r.size() == 1);
    CHECK(r[0].status == IBV_WC_SUCCESS);
    CHECK(r[0].wr_id == 77);
    CHECK(r[0].opcode == IBV_WC_RECV);
    CHECK(r[0].byte_len == 1000);
    CHECK(r[0].qp_num == p.b->qp_num);
    CHECK((r[0].wc_flags & IBV_WC_WITH_IMM) == 0);
    CHECK(std::memcmp(dst.data.data(), src.data.data(), 1000) == 0);
    CHECK(dst.data[1000] == 0);
    CHECK(cq_empty(p.cq_a));
    CHECK(cq_empty(p.cq_b));
}

TEST_CASE("RC send with immediate: IBV_WC_WITH_IMM and the value in network order") {
    RcPair p;
    Buffer src(p.pd, 64, kAllAccess, 0x5a), dst(p.pd, 64);
    REQUIRE(post_recv_one(p.b, {dst.sge(0, 64)}, 1) == 0);
    REQUIRE(post_one(p.a, IBV_WR_SEND_WITH_IMM, {src.sge(0, 32)}, 2, IBV_SEND_SIGNALED, 0, 0,
                     htonl(1234)) == 0);
    auto r = poll_cq(p.cq_b, 1);
    REQUIRE(r.size() == 1);
    CHECK(r[0].status == IBV_WC_SUCCESS);
    CHECK(r[0].opcode == IBV_WC_RECV);
    CHECK((r[0].wc_flags & IBV_WC_WITH_IMM) != 0);
    CHECK(r[0].imm_data == htonl(1234));
    CHECK(r[0].byte_len == 32);
    CHECK(dst.data[31] == 0x5a);
    CHECK(dst.data[32] == 0);
    auto s = poll_cq(p.cq_a, 1);
    REQUIRE(s.size() == 1);
    CHECK(s[0].status == IBV_WC_SUCCESS);
    CHECK(s[0].opcode == IBV_WC_SEND);
}

TEST_CASE("RC RDMA write, and write with immediate consuming a receive") {
    RcPair p;
    Buffer src(p.pd, 8192), dst(p.pd, 8192);
    pattern(src.data, 9);
    REQUIRE(post_one(p.a, IBV_WR_RDMA_WRITE, {src.sge(0, 5000)}, 5, IBV_SEND_SIGNALED,
                     dst.addr(100), dst.mr->rkey) == 0);
    auto s = poll_cq(p.cq_a, 1);
    REQUIRE(s.size() == 1);
    CHECK(s[0].status == IBV_WC_SUCCESS);
    CHECK(s[0].opcode == IBV_WC_RDMA_WRITE);
    CHECK(std::memcmp(dst.data.data() + 100, src.data.data(), 5000) == 0);
    CHECK(dst.data[99] == 0);
    CHECK(dst.data[5100] == 0);
    CHECK(cq_empty(p.cq_b));  // a plain write consumes nothing at the responder

    REQUIRE(post_recv_one(p.b, {}, 42) == 0);
    REQUIRE(post_one(p.a, IBV_WR_RDMA_WRITE_WITH_IMM, {src.sge(0, 16)}, 6, IBV_SEND_SIGNALED,
                     dst.addr(6000), dst.mr->rkey, htonl(0xabcdef)) == 0);
    auto r = poll_cq(p.cq_b, 1);
    REQUIRE(r.size() == 1);
    CHECK(r[0].status == IBV_WC_SUCCESS);
    CHECK(r[0].wr_id == 42);
    CHECK(r[0].opcode == IBV_WC_RECV_RDMA_WITH_IMM);
    CHECK((r[0].wc_flags & IBV_WC_WITH_IMM) != 0);
    CHECK(r[0].imm_data == htonl(0xabcdef));
    CHECK(r[0].byte_len == 16);
    CHECK(std::memcmp(dst.data.data() + 6000, src.data.data(), 16) == 0);
    s = poll_cq(p.cq_a, 1);
    REQUIRE(s.size() == 1);
    CHECK(s[0].opcode == IBV_WC_RDMA_WRITE);
}

TEST_CASE("RC RDMA read, larger than the MTU, into two SGEs") {
    RcPair p;
    Buffer remote(p.pd, 16384), local(p.pd, 16384);
    pattern(remote.data, 1);
    REQUIRE(post_one(p.a, IBV_WR_RDMA_READ, {local.sge(0, 3000), local.sge(8192, 7000)}, 8,
                     IBV_SEND_SIGNALED, remote.addr(10), remote.mr->rkey) == 0);
    auto s = poll_cq(p.cq_a, 1);
    REQUIRE(s.size() == 1);
    CHECK(s[0].status == IBV_WC_SUCCESS);
    CHECK(s[0].opcode == IBV_WC_RDMA_READ);
    CHECK(s[0].byte_len == 10000);
    CHECK(std::memcmp(local.data.data(), remote.data.data() + 10, 3000) == 0);
    CHECK(std::memcmp(local.data.data() + 8192, remote.data.data() + 3010, 7000) == 0);
    CHECK(local.data[3000] == 0);
}

TEST_CASE("RC atomics: compare-and-swap and fetch-and-add return the old value") {
    RcPair p;
    Buffer remote(p.pd, 64), local(p.pd, 64);
    uint64_t v = 100;
    std::memcpy(remote.data.data() + 8, &v, 8);
    ibv_send_wr wr{};
    ibv_sge sge = local.sge(0, 8);
    wr.wr_id = 1;
    wr.opcode = IBV_WR_ATOMIC_CMP_AND_SWP;
    wr.send_flags = IBV_SEND_SIGNALED;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    wr.wr.atomic.remote_addr = remote.addr(8);
    wr.wr.atomic.rkey = remote.mr->rkey;
    wr.wr.atomic.compare_add = 100;
    wr.wr.atomic.swap = 555;
    ibv_send_wr* bad = nullptr;
    REQUIRE(ibv_post_send(p.a, &wr, &bad) == 0);
    auto s = poll_cq(p.cq_a, 1);
    REQUIRE(s.size() == 1);
    CHECK(s[0].status == IBV_WC_SUCCESS);
    CHECK(s[0].opcode == IBV_WC_COMP_SWAP);
    CHECK(s[0].byte_len == 8);
    uint64_t got = 0;
    std::memcpy(&got, local.data.data(), 8);
    CHECK(got == 100);
    std::memcpy(&got, remote.data.data() + 8, 8);
    CHECK(got == 555);

    // A compare that does not match leaves the target alone.
    wr.wr.atomic.compare_add = 1;
    wr.wr.atomic.swap = 9;
    wr.wr_id = 2;
    REQUIRE(ibv_post_send(p.a, &wr, &bad) == 0);
    s = poll_cq(p.cq_a, 1);
    REQUIRE(s.size() == 1);
    CHECK(s[0].status == IBV_WC_SUCCESS);
    std::memcpy(&got, local.data.data(), 8);
    CHECK(got == 555);
    std::memcpy(&got, remote.data.data() + 8, 8);
    CHECK(got == 555);

    wr.opcode = IBV_WR_ATOMIC_FETCH_AND_ADD;
    wr.wr.atomic.compare_add = 45;
    wr.wr_id = 3;
    REQUIRE(ibv_post_send(p.a, &wr, &bad) == 0);
    s = poll_cq(p.cq_a, 1);
    REQUIRE(s.size() == 1);
    CHECK(s[0].status == IBV_WC_SUCCESS);
    CHECK(s[0].opcode == IBV_WC_FETCH_ADD);
    std::memcpy(&got, local.data.data(), 8);
    CHECK(got == 555);
    std::memcpy(&got, remote.data.data() + 8, 8);
    CHECK(got == 600);
}

TEST_CASE("RC send gathers several SGEs and scatters into several") {
    RcPair p;
    Buffer src(p.pd, 4096), dst(p.pd, 4096);
    pattern(src.data, 40);
    REQUIRE(post_recv_one(p.b, {dst.sge(0, 100), dst.sge(1000, 100), dst.sge(2000, 1000)}, 3) == 0);
    REQUIRE(post_one(p.a, IBV_WR_SEND, {src.sge(0, 50), src.sge(500, 150), src.sge(3000, 100)}, 4) ==
            0);
    auto r = poll_cq(p.cq_b, 1);
    REQUIRE(r.size() == 1);
    CHECK(r[0].status == IBV_WC_SUCCESS);
    CHECK(r[0].byte_len == 300);
    std::vector<uint8_t> sent;
    sent.insert(sent.end(), src.data.begin(), src.data.begin() + 50);
    sent.insert(sent.end(), src.data.begin() + 500, src.data.begin() + 650);
    sent.insert(sent.end(), src.data.begin() + 3000, src.data.begin() + 3100);
    CHECK(std::memcmp(dst.data.data(), sent.data(), 100) == 0);
    CHECK(std::memcmp(dst.data.data() + 1000, sent.data() + 100, 100) == 0);
    CHECK(std::memcmp(dst.data.data() + 2000, sent.data() + 200, 100) == 0);
    CHECK(dst.data[2100] == 0);
    CHECK(poll_cq(p.cq_a, 1).size() == 1);
}

TEST_CASE("RC inline send and inline write: the source may change right after posting") {
    QpCaps caps;
    caps.inline_data = 200;
    RcPair p(IBV_QPT_RC, caps);
    ibv_qp_attr qa{};
    ibv_qp_init_attr qi{};
    REQUIRE(ibv_query_qp(p.a, &qa, 0, &qi) == 0);
    CHECK(qi.cap.max_inline_data >= 200);
    Buffer dst(p.pd, 1024);
    std::vector<uint8_t> msg(150);  // not registered
    pattern(msg, 77);
    REQUIRE(post_recv_one(p.b, {dst.sge(0, 1024)}, 1) == 0);
    ibv_sge sge{reinterpret_cast<uintptr_t>(msg.data()), 150, 0};
    ibv_send_wr wr{};
    wr.opcode = IBV_WR_SEND;
    wr.send_flags = IBV_SEND_SIGNALED | IBV_SEND_INLINE;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    ibv_send_wr* bad = nullptr;
    REQUIRE(ibv_post_send(p.a, &wr, &bad) == 0);
    const std::vector<uint8_t> sent = msg;
    std::fill(msg.begin(), msg.end(), 0xee);
    auto r = poll_cq(p.cq_b, 1);
    REQUIRE(r.size() == 1);
    CHECK(r[0].status == IBV_WC_SUCCESS);
    CHECK(r[0].byte_len == 150);
    CHECK(std::memcmp(dst.data.data(), sent.data(), 150) == 0);
    REQUIRE(poll_cq(p.cq_a, 1).size() == 1);

    wr.opcode = IBV_WR_RDMA_WRITE;
    wr.wr.rdma.remote_addr = dst.addr(512);
    wr.wr.rdma.rkey = dst.mr->rkey;
    REQUIRE(ibv_post_send(p.a, &wr, &bad) == 0);
    auto s = poll_cq(p.cq_a, 1);
    REQUIRE(s.size() == 1);
    CHECK(s[0].status == IBV_WC_SUCCESS);
    CHECK(dst.data[512] == 0xee);
    CHECK(dst.data[661] == 0xee);
    CHECK(dst.data[662] == 0);

    // Beyond the inline room: EINVAL, bad_wr points at it.
    std::vector<uint8_t> big(qi.cap.max_inline_data + 1);
    sge = {reinterpret_cast<uintptr_t>(big.data()), static_cast<uint32_t>(big.size()), 0};
    wr.opcode = IBV_WR_SEND;
    CHECK(ibv_post_send(p.a, &wr, &bad) == EINVAL);
    CHECK(bad == &wr);
}

TEST_CASE("RC unsignaled WRs complete silently; a signaled one completes them all") {
    QpCaps caps;
    caps.send_wr = 8;
    RcPair p(IBV_QPT_RC, caps);
    Buffer src(p.pd, 64, kAllAccess, 1), dst(p.pd, 64);
    // 8 slots: 7 unsignaled + 1 signaled, twice; without the CQE freeing
    // the slots the second round would not fit.
    for (int round = 0; round < 2; ++round) {
        for (int i = 0; i < 7; ++i)
            REQUIRE(post_one(p.a, IBV_WR_RDMA_WRITE, {src.sge(i, 1)}, 100 + i, 0, dst.addr(i),
                             dst.mr->rkey) == 0);
        REQUIRE(post_one(p.a, IBV_WR_RDMA_WRITE, {src.sge(7, 1)}, 200 + round, IBV_SEND_SIGNALED,
                         dst.addr(7), dst.mr->rkey) == 0);
        auto s = poll_cq(p.cq_a, 1);
        REQUIRE(s.size() == 1);
        CHECK(s[0].wr_id == static_cast<uint64_t>(200 + round));
        CHECK(s[0].status == IBV_WC_SUCCESS);
        CHECK(cq_empty(p.cq_a));
    }
    for (int i = 0; i < 8; ++i) CHECK(dst.data[i] == 1);
    // The SQ is full once 8 are outstanding without a completion.
    for (int i = 0; i < 8; ++i)
        REQUIRE(post_one(p.a, IBV_WR_RDMA_WRITE, {src.sge(0, 1)}, 300 + i, 0, dst.addr(0),
                         dst.mr->rkey) == 0);
    CHECK(post_one(p.a, IBV_WR_RDMA_WRITE, {src.sge(0, 1)}, 400, 0, dst.addr(0), dst.mr->rkey) ==
          ENOMEM);
}

TEST_CASE("RC sq_sig_all: every WR completes") {
    VerbsFixture f;
    ibv_cq* cq = ibv_create_cq(f.ctx, 16, nullptr, nullptr, 0);
    REQUIRE(cq);
    ibv_qp* a = create_qp(f.pd, cq, cq, IBV_QPT_RC, {}, nullptr, true);
    ibv_qp* b = create_qp(f.pd, cq, cq, IBV_QPT_RC);
    connect_pair(a, b);
    {
        Buffer src(f.pd, 64, kAllAccess, 9), dst(f.pd, 64);
        for (int i = 0; i < 3; ++i)
            REQUIRE(post_one(a, IBV_WR_RDMA_WRITE, {src.sge(0, 8)}, i, 0, dst.addr(8 * i),
                             dst.mr->rkey) == 0);
        auto s = poll_cq(cq, 3);
        REQUIRE(s.size() == 3);
        for (int i = 0; i < 3; ++i) {
            CHECK(s[i].wr_id == static_cast<uint64_t>(i));
            CHECK(s[i].status == IBV_WC_SUCCESS);
        }
        CHECK(dst.data[23] == 9);
    }
    CHECK(ibv_destroy_qp(a) == 0);
    CHECK(ibv_destroy_qp(b) == 0);
    CHECK(ibv_destroy_cq(cq) == 0);
}

TEST_CASE("RC zero-length send, write and read") {
    RcPair p;
    Buffer buf(p.pd, 64);
    REQUIRE(post_recv_one(p.b, {buf.sge(0, 64)}, 1) == 0);
    REQUIRE(post_one(p.a, IBV_WR_SEND, {}, 2) == 0);
    auto r = poll_cq(p.cq_b, 1);
    REQUIRE(r.size() == 1);
    CHECK(r[0].status == IBV_WC_SUCCESS);
    CHECK(r[0].byte_len == 0);
    REQUIRE(post_one(p.a, IBV_WR_RDMA_WRITE, {}, 3, IBV_SEND_SIGNALED, buf.addr(), buf.mr->rkey) ==
            0);
    REQUIRE(post_one(p.a, IBV_WR_RDMA_READ, {}, 4, IBV_SEND_SIGNALED, buf.addr(), buf.mr->rkey) ==
            0);
    auto s = poll_cq(p.cq_a, 3);
    REQUIRE(s.size() == 3);
    for (const auto& wc : s) CHECK_MESSAGE(wc.status == IBV_WC_SUCCESS, status_str(wc));
    CHECK(s[0].wr_id == 2);
    CHECK(s[2].wr_id == 4);
    CHECK(s[2].byte_len == 0);
}

TEST_CASE("RC messages larger than the MTU: 16 KiB send and write at MTU 1024") {
    RcPair p;  // path MTU 1024
    Buffer src(p.pd, 16384), dst(p.pd, 16384), dst2(p.pd, 16384);
    pattern(src.data, 200);
    REQUIRE(post_recv_one(p.b, {dst.sge(0, 16384)}, 1) == 0);
    REQUIRE(post_one(p.a, IBV_WR_SEND, {src.sge(0, 16384)}, 2) == 0);
    REQUIRE(post_one(p.a, IBV_WR_RDMA_WRITE, {src.sge(0, 16384)}, 3, IBV_SEND_SIGNALED,
                     dst2.addr(), dst2.mr->rkey) == 0);
    auto r = poll_cq(p.cq_b, 1);
    REQUIRE(r.size() == 1);
    CHECK(r[0].status == IBV_WC_SUCCESS);
    CHECK(r[0].byte_len == 16384);
    auto s = poll_cq(p.cq_a, 2);
    REQUIRE(s.size() == 2);
    CHECK(s[0].status == IBV_WC_SUCCESS);
    CHECK(s[1].status == IBV_WC_SUCCESS);
    CHECK(dst.data == src.data);
    CHECK(dst2.data == src.data);
}

TEST_CASE("RC many messages in flight in both directions") {
    RcPair p;
    constexpr int kN = 50;
    Buffer sa(p.pd, kN * 64), sb(p.pd, kN * 64), ra(p.pd, kN * 64), rb(p.pd, kN * 64);
    pattern(sa.data, 1);
    pattern(sb.data, 2);
    for (int i = 0; i < kN; ++i) {
        REQUIRE(post_recv_one(p.a, {ra.sge(64 * i, 64)}, 1000 + i) == 0);
        REQUIRE(post_recv_one(p.b, {rb.sge(64 * i, 64)}, 2000 + i) == 0);
    }
    for (int i = 0; i < kN; ++i) {
        REQUIRE(post_one(p.a, IBV_WR_SEND, {sa.sge(64 * i, 64)}, i) == 0);
        REQUIRE(post_one(p.b, IBV_WR_SEND, {sb.sge(64 * i, 64)}, i) == 0);
    }
    auto ca = poll_cq(p.cq_a, 2 * kN);
    auto cb = poll_cq(p.cq_b, 2 * kN);
    CHECK(ca.size() == 2 * kN);
    CHECK(cb.size() == 2 * kN);
    int recvs = 0;
    for (const auto& wc : ca) {
        CHECK(wc.status == IBV_WC_SUCCESS);
        if (wc.opcode == IBV_WC_RECV) CHECK(wc.wr_id == static_cast<uint64_t>(1000 + recvs++));
    }
    CHECK(recvs == kN);
    CHECK(ra.data == sb.data);
    CHECK(rb.data == sa.data);
}
