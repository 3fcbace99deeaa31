// Host-direct: a QP's access flags as mlx5 handles them (rdma-core
// ibv_modify_qp(3); Linux mlx5 set_qpc_atomic_flags): every IBV_ACCESS_*
// bit is accepted (rdma-core's tests pass FLUSH_GLOBAL and
// FLUSH_PERSISTENT), the QP gets remote write, read and atomic, read and
// atomic only while it has responder resources (max_dest_rd_atomic), and
// ibv_query_qp reads back those three bits.
#include "tests/host/rdma_fixture.h"

#include <cstring>

using namespace hcasim::test;

namespace {

constexpr unsigned kRemote =
    IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC;

unsigned queried_access(ibv_qp* qp) {
    ibv_qp_attr a{};
    ibv_qp_init_attr i{};
    REQUIRE(ibv_query_qp(qp, &a, IBV_QP_ACCESS_FLAGS, &i) == 0);
    return static_cast<unsigned>(a.qp_access_flags);
}

// One signalled operation from p.a to p.b's buffer; its completion status.
ibv_wc_status run_one(RcPair& p, ibv_wr_opcode op, Buffer& local, Buffer& remote) {
    ibv_send_wr wr{};
    ibv_sge sge = local.sge(0, 8);
    wr.wr_id = 1;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    wr.opcode = op;
    wr.send_flags = IBV_SEND_SIGNALED;
    if (op == IBV_WR_ATOMIC_FETCH_AND_ADD) {
        wr.wr.atomic.remote_addr = remote.addr();
        wr.wr.atomic.rkey = remote.mr->rkey;
        wr.wr.atomic.compare_add = 1;
    } else {
        wr.wr.rdma.remote_addr = remote.addr();
        wr.wr.rdma.rkey = remote.mr->rkey;
    }
    ibv_send_wr* bad = nullptr;
    REQUIRE(ibv_post_send(p.a, &wr, &bad) == 0);
    auto wc = poll_cq(p.cq_a, 1);
    REQUIRE(wc.size() == 1);
    return wc[0].status;
}

}  // namespace

TEST_CASE("modify_qp: every IBV_ACCESS_* bit is accepted; query reads back the remote ones") {
    ConnectAttr c;
    c.access = IBV_ACCESS_LOCAL_WRITE | kRemote | IBV_ACCESS_MW_BIND |
               IBV_ACCESS_FLUSH_GLOBAL | IBV_ACCESS_FLUSH_PERSISTENT | IBV_ACCESS_RELAXED_ORDERING;
    RcPair p(IBV_QPT_RC, {}, c);
    CHECK(queried_access(p.a) == kRemote);
    CHECK(queried_access(p.b) == kRemote);
    Buffer local(p.pd, 64, kAllAccess, 0x5a), remote(p.pd, 64);
    CHECK(run_one(p, IBV_WR_RDMA_WRITE, local, remote) == IBV_WC_SUCCESS);
    CHECK(remote.data[0] == 0x5a);
    CHECK(run_one(p, IBV_WR_RDMA_READ, local, remote) == IBV_WC_SUCCESS);
    CHECK(run_one(p, IBV_WR_ATOMIC_FETCH_AND_ADD, local, remote) == IBV_WC_SUCCESS);

    // The same bits on a UC QP, and the INIT -> INIT change of them.
    ibv_qp* uc = create_qp(p.pd, p.cq_a, p.cq_a, IBV_QPT_UC);
    REQUIRE(uc);
    ibv_qp_attr a{};
    a.qp_state = IBV_QPS_INIT;
    a.port_num = 1;
    a.qp_access_flags = static_cast<int>(c.access);
    CHECK(ibv_modify_qp(uc, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
                                    IBV_QP_ACCESS_FLAGS) == 0);
    CHECK(ibv_destroy_qp(uc) == 0);
}

TEST_CASE("modify_qp: without responder resources only remote write is enabled (mlx5)") {
    VerbsFixture f;
    ibv_cq* cq = ibv_create_cq(f.ctx, 16, nullptr, nullptr, 0);
    REQUIRE(cq);
    ibv_qp* q = create_qp(f.pd, cq, cq, IBV_QPT_RC);
    REQUIRE(q);
    ibv_qp_attr a{};
    a.qp_state = IBV_QPS_INIT;
    a.port_num = 1;
    a.qp_access_flags = static_cast<int>(kRemote);
    REQUIRE(ibv_modify_qp(q, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
                                     IBV_QP_ACCESS_FLAGS) == 0);
    CHECK(queried_access(q) == IBV_ACCESS_REMOTE_WRITE);  // no max_dest_rd_atomic yet
    // INIT -> RTR with responder resources: the flags given at INIT apply.
    a = {};
    a.qp_state = IBV_QPS_RTR;
    a.path_mtu = IBV_MTU_1024;
    a.dest_qp_num = q->qp_num;
    a.ah_attr = self_ah_attr(f.ctx);
    a.max_dest_rd_atomic = 1;
    a.min_rnr_timer = 12;
    REQUIRE(ibv_modify_qp(q, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
                                     IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
                                     IBV_QP_MIN_RNR_TIMER) == 0);
    CHECK(queried_access(q) == kRemote);
    CHECK(ibv_destroy_qp(q) == 0);
    CHECK(ibv_destroy_cq(cq) == 0);

    // max_dest_rd_atomic 0 at RTR: the responder refuses reads and
    // atomics (the requester's QP then is in error: one pair each), takes
    // writes.
    ConnectAttr c;
    c.max_dest_rd_atomic = 0;
    for (ibv_wr_opcode op : {IBV_WR_RDMA_WRITE, IBV_WR_RDMA_READ, IBV_WR_ATOMIC_FETCH_AND_ADD}) {
        CAPTURE(op);
        RcPair p(IBV_QPT_RC, {}, c);
        CHECK(queried_access(p.b) == IBV_ACCESS_REMOTE_WRITE);
        Buffer local(p.pd, 64, kAllAccess, 0x33), remote(p.pd, 64);
        const bool write = op == IBV_WR_RDMA_WRITE;
        CHECK(run_one(p, op, local, remote) == (write ? IBV_WC_SUCCESS : IBV_WC_REM_ACCESS_ERR));
        CHECK(remote.data[0] == (write ? 0x33 : 0));
    }
}
