// Shared helpers for host-direct data-path tests (see rdma_fixture.h).
#include "tests/host/rdma_fixture.h"

#include <chrono>
#include <cstring>
#include <thread>

namespace hcasim::test {

ibv_qp* create_qp(ibv_pd* pd, ibv_cq* send_cq, ibv_cq* recv_cq, ibv_qp_type type,
                  const QpCaps& caps, ibv_srq* srq, bool sig_all) {
    ibv_qp_init_attr a{};
    a.send_cq = send_cq;
    a.recv_cq = recv_cq;
    a.srq = srq;
    a.qp_type = type;
    a.sq_sig_all = sig_all ? 1 : 0;
    a.cap.max_send_wr = caps.send_wr;
    a.cap.max_recv_wr = caps.recv_wr;
    a.cap.max_send_sge = caps.send_sge;
    a.cap.max_recv_sge = caps.recv_sge;
    a.cap.max_inline_data = caps.inline_data;
    return ibv_create_qp(pd, &a);
}

ibv_ah_attr self_ah_attr(ibv_context* ctx) {
    ibv_ah_attr ah{};
    ah.is_global = 1;
    ah.port_num = 1;
    ah.grh.sgid_index = 1;
    ah.grh.hop_limit = 64;
    REQUIRE(ibv_query_gid(ctx, 1, 1, &ah.grh.dgid) == 0);
    return ah;
}

int connect_qp(ibv_qp* qp, uint32_t remote_qpn, const ConnectAttr& c) {
    ibv_qp_attr a{};
    a.qp_state = IBV_QPS_INIT;
    a.pkey_index = 0;
    a.port_num = 1;
    a.qp_access_flags = c.access;
    if (int e = ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
                                          IBV_QP_ACCESS_FLAGS))
        return e;
    const bool rc = qp->qp_type == IBV_QPT_RC;
    a = {};
    a.qp_state = IBV_QPS_RTR;
    a.path_mtu = c.mtu;
    a.dest_qp_num = remote_qpn;
    a.rq_psn = c.rq_psn;
    a.ah_attr = self_ah_attr(qp->context);
    if (c.dgid) a.ah_attr.grh.dgid = *c.dgid;
    a.max_dest_rd_atomic = c.max_dest_rd_atomic;
    a.min_rnr_timer = c.min_rnr_timer;
    int mask = IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN;
    if (rc) mask |= IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER;
    if (int e = ibv_modify_qp(qp, &a, mask)) return e;
    a = {};
    a.qp_state = IBV_QPS_RTS;
    a.sq_psn = c.sq_psn;
    a.timeout = c.timeout;
    a.retry_cnt = c.retry_cnt;
    a.rnr_retry = c.rnr_retry;
    a.max_rd_atomic = c.max_rd_atomic;
    mask = IBV_QP_STATE | IBV_QP_SQ_PSN;
    if (rc) mask |= IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC;
    return ibv_modify_qp(qp, &a, mask);
}

void connect_pair(ibv_qp* a, ibv_qp* b, const ConnectAttr& attr) {
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(connect_qp(a, b->qp_num, attr) == 0);
    REQUIRE(connect_qp(b, a->qp_num, attr) == 0);
}

int ud_ready(ibv_qp* qp, uint32_t qkey) {
    ibv_qp_attr a{};
    a.qp_state = IBV_QPS_INIT;
    a.pkey_index = 0;
    a.port_num = 1;
    a.qkey = qkey;
    if (int e = ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_QKEY))
        return e;
    a = {};
    a.qp_state = IBV_QPS_RTR;
    if (int e = ibv_modify_qp(qp, &a, IBV_QP_STATE)) return e;
    a.qp_state = IBV_QPS_RTS;
    a.sq_psn = 0;
    return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN);
}

std::vector<ibv_wc> poll_cq(ibv_cq* cq, size_t n, int timeout_ms) {
    std::vector<ibv_wc> out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
        ibv_wc wc[16];
        const int got = ibv_poll_cq(cq, static_cast<int>(std::min<size_t>(16, n - out.size())), wc);
        REQUIRE(got >= 0);
        out.insert(out.end(), wc, wc + got);
        if (got == 0) std::this_thread::yield();
    }
    return out;
}

std::vector<ibv_wc> poll_cq_ex(ibv_cq_ex* cq, size_t n, int timeout_ms) {
    std::vector<ibv_wc> out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    auto read = [&] {
        ibv_wc wc{};
        wc.wr_id = cq->wr_id;
        wc.status = cq->status;
        wc.opcode = ibv_wc_read_opcode(cq);
        wc.byte_len = ibv_wc_read_byte_len(cq);
        wc.imm_data = ibv_wc_read_imm_data(cq);
        wc.qp_num = ibv_wc_read_qp_num(cq);
        wc.src_qp = ibv_wc_read_src_qp(cq);
        wc.wc_flags = ibv_wc_read_wc_flags(cq);
        wc.vendor_err = ibv_wc_read_vendor_err(cq);
        out.push_back(wc);
    };
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
        ibv_poll_cq_attr attr{};
        int e = ibv_start_poll(cq, &attr);
        if (e == ENOENT) {
            std::this_thread::yield();
            continue;
        }
        REQUIRE(e == 0);
        read();
        while (out.size() < n && (e = ibv_next_poll(cq)) == 0) read();
        REQUIRE((e == 0 || e == ENOENT));
        ibv_end_poll(cq);
    }
    return out;
}

bool cq_empty(ibv_cq* cq, int wait_ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    ibv_wc wc;
    return ibv_poll_cq(cq, 1, &wc) == 0;
}

Buffer::Buffer(ibv_pd* pd, size_t len, int access, uint8_t fill) : data(len, fill) {
    mr = ibv_reg_mr(pd, data.data(), len, access);
    REQUIRE_MESSAGE(mr, "ibv_reg_mr: errno ", errno);
}

Buffer::~Buffer() {
    if (mr) CHECK(ibv_dereg_mr(mr) == 0);
}

int post_one(ibv_qp* qp, ibv_wr_opcode op, std::vector<ibv_sge> sges, uint64_t wr_id,
             unsigned flags, uint64_t remote_addr, uint32_t rkey, uint32_t imm_data) {
    ibv_send_wr wr{};
    wr.wr_id = wr_id;
    wr.opcode = op;
    wr.send_flags = flags;
    wr.imm_data = imm_data;
    wr.sg_list = sges.data();
    wr.num_sge = static_cast<int>(sges.size());
    wr.wr.rdma.remote_addr = remote_addr;
    wr.wr.rdma.rkey = rkey;
    ibv_send_wr* bad = nullptr;
    return ibv_post_send(qp, &wr, &bad);
}

int post_recv_one(ibv_qp* qp, std::vector<ibv_sge> sges, uint64_t wr_id) {
    ibv_recv_wr wr{};
    wr.wr_id = wr_id;
    wr.sg_list = sges.data();
    wr.num_sge = static_cast<int>(sges.size());
    ibv_recv_wr* bad = nullptr;
    return ibv_post_recv(qp, &wr, &bad);
}

int post_srq_one(ibv_srq* srq, ibv_sge sge, uint64_t wr_id) {
    ibv_recv_wr wr{};
    wr.wr_id = wr_id;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    ibv_recv_wr* bad = nullptr;
    return ibv_post_srq_recv(srq, &wr, &bad);
}

SrqPair::SrqPair(uint32_t max_wr) {
    ibv_srq_init_attr sa{};
    sa.attr.max_wr = max_wr;
    sa.attr.max_sge = 1;
    srq = ibv_create_srq(pd, &sa);
    cq = ibv_create_cq(ctx, 64, nullptr, nullptr, 0);
    REQUIRE(srq);
    REQUIRE(cq);
    s = create_qp(pd, cq, cq, IBV_QPT_RC);
    r = create_qp(pd, cq, cq, IBV_QPT_RC, {}, srq);
    connect_pair(s, r);
}

SrqPair::~SrqPair() {
    CHECK(ibv_destroy_qp(s) == 0);
    CHECK(ibv_destroy_qp(r) == 0);
    CHECK(ibv_destroy_srq(srq) == 0);
    CHECK(ibv_destroy_cq(cq) == 0);
}

RcPair::RcPair(ibv_qp_type type, QpCaps caps, ConnectAttr attr, std::vector<std::string> args)
    : VerbsFixture(std::move(args)) {
    cq_a = ibv_create_cq(ctx, 256, nullptr, nullptr, 0);
    cq_b = ibv_create_cq(ctx, 256, nullptr, nullptr, 0);
    REQUIRE(cq_a);
    REQUIRE(cq_b);
    a = create_qp(pd, cq_a, cq_a, type, caps);
    b = create_qp(pd, cq_b, cq_b, type, caps);
    connect_pair(a, b, attr);
}

RcPair::~RcPair() {
    for (ibv_qp* q : {a, b})
        if (q) CHECK(ibv_destroy_qp(q) == 0);
    for (ibv_cq* c : {cq_a, cq_b})
        if (c) CHECK(ibv_destroy_cq(c) == 0);
}

std::string status_str(const ibv_wc& wc) {
    return std::to_string(wc.status) + " vendor_err " + std::to_string(wc.vendor_err);
}

}  // namespace hcasim::test
