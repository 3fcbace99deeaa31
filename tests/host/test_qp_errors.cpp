// Host-direct: QP rules and error completions (rdma-core ibv_create_qp(3),
// ibv_modify_qp(3), ibv_query_qp(3), ibv_post_send(3), ibv_poll_cq(3)):
// creation beyond the caps, transitions the device refuses, posting in
// the wrong state, and the completion statuses of bad keys, bounds,
// access, short receives, RNR, with everything after an error flushed; a
// QP taken back through RESET works again.
#include "tests/host/rdma_fixture.h"

#include <cstring>

using namespace hcasim::test;

namespace {

// Waits for n completions; requires them all.
std::vector<ibv_wc> expect(ibv_cq* cq, size_t n) {
    auto wc = poll_cq(cq, n);
    REQUIRE(wc.size() == n);
    return wc;
}

}  // namespace

TEST_CASE("create_qp: caps beyond the device's are EINVAL; the caps given come back") {
    VerbsFixture f;
    ibv_device_attr da{};
    REQUIRE(ibv_query_device(f.ctx, &da) == 0);
    ibv_cq* cq = ibv_create_cq(f.ctx, 16, nullptr, nullptr, 0);
    REQUIRE(cq);
    auto try_caps = [&](QpCaps c) {
        errno = 0;
        ibv_qp* q = create_qp(f.pd, cq, cq, IBV_QPT_RC, c);
        const int e = errno;
        if (q) CHECK(ibv_destroy_qp(q) == 0);
        return q ? 0 : e;
    };
    QpCaps c;
    c.send_wr = static_cast<uint32_t>(da.max_qp_wr) + 1;
    CHECK(try_caps(c) == EINVAL);
    c = {};
    c.recv_wr = static_cast<uint32_t>(da.max_qp_wr) + 1;
    CHECK(try_caps(c) == EINVAL);
    c = {};
    c.send_sge = static_cast<uint32_t>(da.max_sge) + 1;
    CHECK(try_caps(c) == EINVAL);
    c = {};
    c.recv_sge = static_cast<uint32_t>(da.max_sge) + 1;
    CHECK(try_caps(c) == EINVAL);
    c = {};
    c.inline_data = 1u << 20;
    CHECK(try_caps(c) == EINVAL);
    c = {};
    c.send_wr = static_cast<uint32_t>(da.max_qp_wr);
    CHECK(try_caps(c) == 0);
    for (ibv_qp_type t : {IBV_QPT_XRC_SEND, IBV_QPT_XRC_RECV, IBV_QPT_RAW_PACKET, IBV_QPT_DRIVER}) {
        errno = 0;
        CHECK(create_qp(f.pd, cq, cq, t) == nullptr);
        CHECK(errno == EOPNOTSUPP);
    }
    errno = 0;
    CHECK(create_qp(f.pd, nullptr, cq, IBV_QPT_RC) == nullptr);
    CHECK(errno == EINVAL);
    // Rounded up as mlx5 reports them.
    ibv_qp_init_attr a{};
    a.send_cq = a.recv_cq = cq;
    a.qp_type = IBV_QPT_RC;
    a.cap = {100, 50, 3, 3, 20};
    ibv_qp* q = ibv_create_qp(f.pd, &a);
    REQUIRE(q);
    CHECK(a.cap.max_send_wr == 128);
    CHECK(a.cap.max_recv_wr == 64);
    CHECK(a.cap.max_send_sge == 3);
    CHECK(a.cap.max_recv_sge == 3);
    CHECK(a.cap.max_inline_data == 256 - 112);  // 112 + 3 * 16 -> a 256-byte WQE
    CHECK(q->state == IBV_QPS_RESET);
    CHECK(q->qp_type == IBV_QPT_RC);
    ibv_qp_attr qa{};
    ibv_qp_init_attr qi{};
    REQUIRE(ibv_query_qp(q, &qa, IBV_QP_STATE | IBV_QP_CAP, &qi) == 0);
    CHECK(qa.qp_state == IBV_QPS_RESET);
    CHECK(qi.cap.max_send_wr == 128);
    CHECK(qi.cap.max_inline_data == 144);
    CHECK(qi.send_cq == cq);
    CHECK(ibv_dealloc_pd(f.pd) == EBUSY);  // the QP holds its PD
    CHECK(ibv_destroy_qp(q) == 0);
    CHECK(ibv_destroy_cq(cq) == 0);
}

TEST_CASE("modify_qp: refused transitions are EINVAL and change nothing; query reads back") {
    VerbsFixture f;
    ibv_cq* cq = ibv_create_cq(f.ctx, 16, nullptr, nullptr, 0);
    ibv_qp* q = create_qp(f.pd, cq, cq, IBV_QPT_RC);
    ibv_qp* peer = create_qp(f.pd, cq, cq, IBV_QPT_RC);
    REQUIRE(q);
    REQUIRE(peer);
    ibv_qp_attr a{};
    a.qp_state = IBV_QPS_RTR;  // RESET -> RTR skips INIT
    CHECK(ibv_modify_qp(q, &a, IBV_QP_STATE) == EINVAL);
    CHECK(q->state == IBV_QPS_RESET);
    a.qp_state = IBV_QPS_INIT;  // INIT without its required attributes
    CHECK(ibv_modify_qp(q, &a, IBV_QP_STATE) == EINVAL);
    CHECK(q->state == IBV_QPS_RESET);
    ConnectAttr c;
    c.sq_psn = 0x123;
    c.rq_psn = 0x456;
    c.timeout = 17;
    c.min_rnr_timer = 5;
    REQUIRE(connect_qp(q, peer->qp_num, c) == 0);
    CHECK(q->state == IBV_QPS_RTS);
    ibv_qp_attr qa{};
    ibv_qp_init_attr qi{};
    REQUIRE(ibv_query_qp(q, &qa, IBV_QP_STATE, &qi) == 0);
    CHECK(qa.qp_state == IBV_QPS_RTS);
    CHECK(qa.dest_qp_num == peer->qp_num);
    CHECK(qa.sq_psn == 0x123);
    CHECK(qa.rq_psn == 0x456);
    CHECK(qa.timeout == 17);
    CHECK(qa.min_rnr_timer == 5);
    CHECK(qa.path_mtu == IBV_MTU_1024);
    CHECK(qa.ah_attr.is_global == 1);
    CHECK(qa.ah_attr.grh.sgid_index == 1);
    CHECK(qa.qp_access_flags == c.access);
    CHECK(ibv_destroy_qp(q) == 0);
    CHECK(ibv_destroy_qp(peer) == 0);
    CHECK(ibv_destroy_cq(cq) == 0);
}

TEST_CASE("posting in the wrong state: send before RTS and receive in RESET are EINVAL") {
    VerbsFixture f;
    ibv_cq* cq = ibv_create_cq(f.ctx, 16, nullptr, nullptr, 0);
    ibv_qp* q = create_qp(f.pd, cq, cq, IBV_QPT_RC);
    REQUIRE(q);
    Buffer b(f.pd, 64);
    ibv_sge sge = b.sge(0, 8);
    ibv_send_wr wr{}, wr2{};
    wr.opcode = IBV_WR_SEND;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    wr.next = &wr2;
    wr2 = wr;
    wr2.next = nullptr;
    ibv_send_wr* bad = nullptr;
    CHECK(ibv_post_send(q, &wr, &bad) == EINVAL);
    CHECK(bad == &wr);
    CHECK(post_recv_one(q, {sge}, 1) == EINVAL);
    ibv_qp_attr a{};
    a.qp_state = IBV_QPS_INIT;
    a.port_num = 1;
    REQUIRE(ibv_modify_qp(q, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
                                     IBV_QP_ACCESS_FLAGS) == 0);
    CHECK(ibv_post_send(q, &wr, &bad) == EINVAL);
    CHECK(post_recv_one(q, {sge}, 1) == 0);  // receives may be posted from INIT
    // Opcodes hcasim does not execute, and bad opcodes.
    CHECK(ibv_destroy_qp(q) == 0);
    CHECK(ibv_destroy_cq(cq) == 0);
    RcPair p;
    for (ibv_wr_opcode op : {IBV_WR_LOCAL_INV, IBV_WR_BIND_MW, IBV_WR_SEND_WITH_INV, IBV_WR_TSO}) {
        wr.opcode = op;
        wr.next = nullptr;
        bad = nullptr;
        CHECK(ibv_post_send(p.a, &wr, &bad) == EOPNOTSUPP);
        CHECK(bad == &wr);
    }
    const int out_of_range = 100;  // no such IBV_WR_*: written as the number it is
    std::memcpy(&wr.opcode, &out_of_range, sizeof(out_of_range));
    CHECK(ibv_post_send(p.a, &wr, &bad) == EINVAL);
    // Too many SGEs (the RQ holds what its stride has room for: 7 here).
    Buffer c(p.pd, 64);
    ibv_qp_attr qa{};
    ibv_qp_init_attr qi{};
    REQUIRE(ibv_query_qp(p.b, &qa, IBV_QP_CAP, &qi) == 0);
    CHECK(qi.cap.max_recv_sge == 7);
    std::vector<ibv_sge> five(5, c.sge(0, 1)), eight(8, c.sge(0, 1));
    CHECK(post_one(p.a, IBV_WR_SEND, five, 1) == EINVAL);
    CHECK(post_recv_one(p.b, eight, 1) == EINVAL);
    CHECK(cq_empty(p.cq_a));
}

TEST_CASE("bad lkey: IBV_WC_LOC_PROT_ERR, then everything after it is flushed") {
    RcPair p;
    Buffer src(p.pd, 64), dst(p.pd, 64);
    ibv_sge bad_sge = src.sge(0, 8);
    bad_sge.lkey ^= 0x5a5a00;
    REQUIRE(post_one(p.a, IBV_WR_RDMA_WRITE, {bad_sge}, 1, IBV_SEND_SIGNALED, dst.addr(),
                     dst.mr->rkey) == 0);
    auto wc = expect(p.cq_a, 1);
    CHECK(wc[0].wr_id == 1);
    CHECK(wc[0].status == IBV_WC_LOC_PROT_ERR);
    ibv_qp_attr qa{};
    ibv_qp_init_attr qi{};
    REQUIRE(ibv_query_qp(p.a, &qa, IBV_QP_STATE, &qi) == 0);
    CHECK(qa.qp_state == IBV_QPS_ERR);
    CHECK(p.a->state == IBV_QPS_ERR);
    // WRs posted to the failed QP complete flushed, signaled or not;
    // receives too.
    REQUIRE(post_recv_one(p.a, {dst.sge(0, 8)}, 7) == 0);
    REQUIRE(post_one(p.a, IBV_WR_RDMA_WRITE, {src.sge(0, 8)}, 2, 0, dst.addr(), dst.mr->rkey) == 0);
    REQUIRE(post_one(p.a, IBV_WR_SEND, {src.sge(0, 8)}, 3) == 0);
    wc = expect(p.cq_a, 3);
    for (const auto& w : wc) CHECK(w.status == IBV_WC_WR_FLUSH_ERR);
    CHECK(dst.data[0] == 0);
}

TEST_CASE("RDMA to a bad rkey, out of bounds, without access: IBV_WC_REM_ACCESS_ERR") {
    for (int which = 0; which < 4; ++which) {
        CAPTURE(which);
        RcPair p;
        Buffer src(p.pd, 64), dst(p.pd, 64);
        Buffer ro(p.pd, 64, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ);
        ibv_wr_opcode op = IBV_WR_RDMA_WRITE;
        uint64_t addr = dst.addr();
        uint32_t rkey = dst.mr->rkey;
        switch (which) {
        case 0: rkey ^= 0x777700; break;                    // no such key
        case 1: addr = dst.addr(60); break;                 // 8 bytes from 60: past the end
        case 2: addr = ro.addr(); rkey = ro.mr->rkey; break;  // no remote write
        case 3:
            op = IBV_WR_RDMA_READ;  // a read past the end
            addr = dst.addr(32);
            break;
        }
        const uint32_t len = which == 3 ? 64 : 8;
        Buffer lb(p.pd, 64);
        REQUIRE(post_one(p.a, op, {(op == IBV_WR_RDMA_READ ? lb : src).sge(0, len)}, 9,
                         IBV_SEND_SIGNALED, addr, rkey) == 0);
        auto wc = expect(p.cq_a, 1);
        CHECK(wc[0].wr_id == 9);
        CHECK(wc[0].status == IBV_WC_REM_ACCESS_ERR);
        CHECK(dst.data[60] == 0);
        CHECK(ro.data[0] == 0);
    }
}

TEST_CASE("receive too small: IBV_WC_LOC_LEN_ERR at the receiver, IBV_WC_REM_INV_REQ_ERR at the sender") {
    RcPair p;
    Buffer src(p.pd, 256), dst(p.pd, 256);
    REQUIRE(post_recv_one(p.b, {dst.sge(0, 16)}, 1) == 0);
    REQUIRE(post_one(p.a, IBV_WR_SEND, {src.sge(0, 100)}, 2) == 0);
    auto r = expect(p.cq_b, 1);
    CHECK(r[0].wr_id == 1);
    CHECK(r[0].status == IBV_WC_LOC_LEN_ERR);
    auto s = expect(p.cq_a, 1);
    CHECK(s[0].wr_id == 2);
    CHECK(s[0].status == IBV_WC_REM_INV_REQ_ERR);
}

TEST_CASE("a receive WQE with a bad lkey: IBV_WC_REM_OP_ERR at the sender") {
    RcPair p;
    Buffer src(p.pd, 64), dst(p.pd, 64);
    ibv_sge bad = dst.sge(0, 64);
    bad.lkey ^= 0x3300;
    REQUIRE(post_recv_one(p.b, {bad}, 1) == 0);
    REQUIRE(post_one(p.a, IBV_WR_SEND, {src.sge(0, 8)}, 2) == 0);
    auto s = expect(p.cq_a, 1);
    CHECK(s[0].status == IBV_WC_REM_OP_ERR);
    auto r = expect(p.cq_b, 1);
    CHECK(r[0].wr_id == 1);
    CHECK(r[0].status != IBV_WC_SUCCESS);
}

TEST_CASE("no receive posted, rnr_retry 0: IBV_WC_RNR_RETRY_EXC_ERR") {
    ConnectAttr c;
    c.rnr_retry = 0;
    c.min_rnr_timer = 1;
    RcPair p(IBV_QPT_RC, {}, c);
    Buffer src(p.pd, 64);
    REQUIRE(post_one(p.a, IBV_WR_SEND, {src.sge(0, 8)}, 5) == 0);
    auto s = expect(p.cq_a, 1);
    CHECK(s[0].wr_id == 5);
    CHECK(s[0].status == IBV_WC_RNR_RETRY_EXC_ERR);
}

TEST_CASE("RNR with retries left: the send completes once a receive shows up") {
    ConnectAttr c;
    c.rnr_retry = 7;  // infinite
    c.min_rnr_timer = 1;
    RcPair p(IBV_QPT_RC, {}, c);
    Buffer src(p.pd, 64, kAllAccess, 4), dst(p.pd, 64);
    REQUIRE(post_one(p.a, IBV_WR_SEND, {src.sge(0, 8)}, 5) == 0);
    CHECK(cq_empty(p.cq_a, 100));
    REQUIRE(post_recv_one(p.b, {dst.sge(0, 64)}, 6) == 0);
    auto s = expect(p.cq_a, 1);
    CHECK(s[0].status == IBV_WC_SUCCESS);
    auto r = expect(p.cq_b, 1);
    CHECK(r[0].status == IBV_WC_SUCCESS);
    CHECK(dst.data[7] == 4);
}

TEST_CASE("after an error, RESET -> INIT -> RTR -> RTS gives a working QP again") {
    RcPair p;
    Buffer src(p.pd, 64, kAllAccess, 2), dst(p.pd, 64);
    REQUIRE(post_one(p.a, IBV_WR_RDMA_WRITE, {src.sge(0, 8)}, 1, IBV_SEND_SIGNALED, dst.addr(),
                     dst.mr->rkey ^ 0x1100) == 0);
    CHECK(expect(p.cq_a, 1)[0].status == IBV_WC_REM_ACCESS_ERR);
    // The responder is in error too (the NAK'd request moved it there), so
    // both start over, with fresh PSNs.
    for (ibv_qp* q : {p.a, p.b}) {
        ibv_qp_attr a{};
        a.qp_state = IBV_QPS_RESET;
        REQUIRE(ibv_modify_qp(q, &a, IBV_QP_STATE) == 0);
        CHECK(q->state == IBV_QPS_RESET);
    }
    CHECK(cq_empty(p.cq_a));
    ConnectAttr c;
    c.sq_psn = c.rq_psn = 100;
    connect_pair(p.a, p.b, c);
    REQUIRE(post_recv_one(p.b, {dst.sge(0, 64)}, 3) == 0);
    REQUIRE(post_one(p.a, IBV_WR_SEND, {src.sge(0, 16)}, 4) == 0);
    auto s = expect(p.cq_a, 1);
    CHECK(s[0].wr_id == 4);
    CHECK(s[0].status == IBV_WC_SUCCESS);
    auto r = expect(p.cq_b, 1);
    CHECK(r[0].status == IBV_WC_SUCCESS);
    CHECK(r[0].byte_len == 16);
    CHECK(dst.data[15] == 2);
}

TEST_CASE("the data-path trace names the responder or completer stage that decided") {
    const std::vector<std::string> traced = {"--trace-datapath"};
    SUBCASE("a WRITE to a bad rkey: check_rkey, then the completer's NAK") {
        RcPair p(IBV_QPT_RC, {}, {}, traced);
        Buffer src(p.pd, 64), dst(p.pd, 64);
        REQUIRE(post_one(p.a, IBV_WR_RDMA_WRITE, {src.sge(0, 8)}, 1, IBV_SEND_SIGNALED, dst.addr(),
                         dst.mr->rkey ^ 0x777700) == 0);
        CHECK(expect(p.cq_a, 1)[0].status == IBV_WC_REM_ACCESS_ERR);
        const std::string t = p.dev.trace();
        CHECK(t.find("resp_stage qpn=") != std::string::npos);
        CHECK(t.find("opcode=RC_RDMA_WRITE_ONLY psn=0 stage=check_rkey next=err_rkey") != std::string::npos);
        CHECK(t.find("opcode=RC_ACKNOWLEDGE psn=0 stage=check_nak next=err_nak") != std::string::npos);
    }
    SUBCASE("a receive too small: check_length") {
        RcPair p(IBV_QPT_RC, {}, {}, traced);
        Buffer src(p.pd, 256), dst(p.pd, 256);
        REQUIRE(post_recv_one(p.b, {dst.sge(0, 16)}, 1) == 0);
        REQUIRE(post_one(p.a, IBV_WR_SEND, {src.sge(0, 100)}, 2) == 0);
        CHECK(expect(p.cq_a, 1)[0].status == IBV_WC_REM_INV_REQ_ERR);
        CHECK(p.dev.trace().find("stage=check_length next=err_length") != std::string::npos);
    }
    SUBCASE("no receive and rnr_retry 0: check_resource, then the RNR counter runs out") {
        ConnectAttr c;
        c.rnr_retry = 0;
        c.min_rnr_timer = 1;
        RcPair p(IBV_QPT_RC, {}, c, traced);
        Buffer src(p.pd, 64);
        REQUIRE(post_one(p.a, IBV_WR_SEND, {src.sge(0, 8)}, 5) == 0);
        CHECK(expect(p.cq_a, 1)[0].status == IBV_WC_RNR_RETRY_EXC_ERR);
        const std::string t = p.dev.trace();
        CHECK(t.find("stage=check_resource next=err_rnr") != std::string::npos);
        CHECK(t.find("reason=\"RNR: no receive WQE\"") != std::string::npos);
        CHECK(t.find("stage=rnr_nak next=err_rnr_retry") != std::string::npos);
    }
}
