// Host-direct: UD traffic (rdma-core ibv_create_ah(3), ibv_post_send(3)
// with wr.ud): every receive starts with the 40-byte GRH (RoCE v2 over
// IPv4: 20 zero bytes, then the IPv4 header), the QKey filters, and an AH
// made from a work completion (ibv_create_ah_from_wc) answers the sender.
#include "tests/host/rdma_fixture.h"

#include <arpa/inet.h>

#include <cstring>

using namespace hcasim::test;

namespace {

constexpr uint32_t kQkey = 0x11111111;

struct UdPair : VerbsFixture {
    UdPair() {
        cq = ibv_create_cq(ctx, 64, nullptr, nullptr, 0);
        REQUIRE(cq);
        a = create_qp(pd, cq, cq, IBV_QPT_UD);
        b = create_qp(pd, cq, cq, IBV_QPT_UD);
        REQUIRE(a);
        REQUIRE(b);
        REQUIRE(ud_ready(a, kQkey) == 0);
        REQUIRE(ud_ready(b, kQkey) == 0);
        ibv_ah_attr attr = self_ah_attr(ctx);
        ah = ibv_create_ah(pd, &attr);
        REQUIRE(ah);
    }
    ~UdPair() {
        CHECK(ibv_destroy_ah(ah) == 0);
        CHECK(ibv_destroy_qp(a) == 0);
        CHECK(ibv_destroy_qp(b) == 0);
        CHECK(ibv_destroy_cq(cq) == 0);
    }
    int send(ibv_qp* from, ibv_ah* to, uint32_t qpn, uint32_t qkey, ibv_sge sge, uint64_t id,
             ibv_wr_opcode op = IBV_WR_SEND) {
        ibv_send_wr wr{};
        wr.wr_id = id;
        wr.opcode = op;
        wr.send_flags = IBV_SEND_SIGNALED;
        wr.imm_data = htonl(99);
        wr.sg_list = &sge;
        wr.num_sge = 1;
        wr.wr.ud.ah = to;
        wr.wr.ud.remote_qpn = qpn;
        wr.wr.ud.remote_qkey = qkey;
        ibv_send_wr* bad = nullptr;
        return ibv_post_send(from, &wr, &bad);
    }
    ibv_cq* cq = nullptr;
    ibv_qp *a = nullptr, *b = nullptr;
    ibv_ah* ah = nullptr;
};

}  // namespace

TEST_CASE("UD send: a 40-byte GRH (IPv4 header at byte 20), the source QP, the data") {
    UdPair u;
    Buffer src(u.pd, 1024), dst(u.pd, 40 + 1024);
    for (size_t i = 0; i < 1024; ++i) src.data[i] = static_cast<uint8_t>(i);
    REQUIRE(post_recv_one(u.b, {dst.sge(0, 40 + 1024)}, 5) == 0);
    REQUIRE(u.send(u.a, u.ah, u.b->qp_num, kQkey, src.sge(0, 512), 6) == 0);
    auto wc = poll_cq(u.cq, 2);
    REQUIRE(wc.size() == 2);
    const ibv_wc& r = wc[0].wr_id == 5 ? wc[0] : wc[1];
    const ibv_wc& s = wc[0].wr_id == 5 ? wc[1] : wc[0];
    CHECK(s.status == IBV_WC_SUCCESS);
    CHECK(s.opcode == IBV_WC_SEND);
    CHECK(s.qp_num == u.a->qp_num);
    REQUIRE(r.status == IBV_WC_SUCCESS);
    CHECK(r.opcode == IBV_WC_RECV);
    CHECK(r.byte_len == 40 + 512);
    CHECK((r.wc_flags & IBV_WC_GRH) != 0);
    CHECK(r.src_qp == u.a->qp_num);
    CHECK(r.qp_num == u.b->qp_num);
    CHECK(std::memcmp(dst.data.data() + 40, src.data.data(), 512) == 0);
    // RoCE v2 over IPv4: 20 zero bytes, then an IPv4 header from our own
    // address to our own address (the GID ::ffff:a.b.c.d).
    for (int i = 0; i < 20; ++i) CHECK(dst.data[i] == 0);
    const uint8_t* ip = dst.data.data() + 20;
    CHECK(ip[0] == 0x45);
    CHECK(ip[9] == 17);  // UDP
    CHECK((ip[2] << 8 | ip[3]) == 20 + 8 + 12 + 8 + 512 + 4);  // IPv4, UDP, BTH, DETH, payload, ICRC
    CHECK(ip[6] == 0x40);                                        // DF
    uint32_t sum = 0;                                            // RFC 1071: the header sums to 0xffff
    for (int i = 0; i < 20; i += 2) sum += static_cast<uint32_t>(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    CHECK(sum == 0xffff);
    ibv_gid gid{};
    REQUIRE(ibv_query_gid(u.ctx, 1, 1, &gid) == 0);
    CHECK(std::memcmp(ip + 12, gid.raw + 12, 4) == 0);
    CHECK(std::memcmp(ip + 16, gid.raw + 12, 4) == 0);

    // An AH built from that completion points back at the sender.
    auto* grh = reinterpret_cast<ibv_grh*>(dst.data.data());
    ibv_ah_attr back{};
    REQUIRE(ibv_init_ah_from_wc(u.ctx, 1, const_cast<ibv_wc*>(&r), grh, &back) == 0);
    CHECK(back.is_global == 1);
    CHECK(back.grh.sgid_index == 1);
    CHECK(std::memcmp(back.grh.dgid.raw, gid.raw, 16) == 0);
    ibv_ah* reply = ibv_create_ah_from_wc(u.pd, const_cast<ibv_wc*>(&r), grh, 1);
    REQUIRE(reply);
    Buffer rdst(u.pd, 40 + 64);
    REQUIRE(post_recv_one(u.a, {rdst.sge(0, 40 + 64)}, 7) == 0);
    REQUIRE(u.send(u.b, reply, r.src_qp, kQkey, src.sge(100, 64), 8, IBV_WR_SEND_WITH_IMM) == 0);
    wc = poll_cq(u.cq, 2);
    REQUIRE(wc.size() == 2);
    const ibv_wc& r2 = wc[0].wr_id == 7 ? wc[0] : wc[1];
    CHECK(r2.status == IBV_WC_SUCCESS);
    CHECK(r2.byte_len == 40 + 64);
    CHECK((r2.wc_flags & IBV_WC_WITH_IMM) != 0);
    CHECK(r2.imm_data == htonl(99));
    CHECK(r2.src_qp == u.b->qp_num);
    CHECK(std::memcmp(rdst.data.data() + 40, src.data.data() + 100, 64) == 0);
    CHECK(ibv_destroy_ah(reply) == 0);
}

TEST_CASE("UD: a wrong QKey is dropped silently; the sender still completes") {
    UdPair u;
    Buffer src(u.pd, 64, kAllAccess, 3), dst(u.pd, 40 + 64);
    REQUIRE(post_recv_one(u.b, {dst.sge(0, 40 + 64)}, 1) == 0);
    REQUIRE(u.send(u.a, u.ah, u.b->qp_num, kQkey + 1, src.sge(0, 64), 2) == 0);
    auto wc = poll_cq(u.cq, 1);
    REQUIRE(wc.size() == 1);
    CHECK(wc[0].wr_id == 2);
    CHECK(wc[0].status == IBV_WC_SUCCESS);
    CHECK(cq_empty(u.cq));
    // The receive is still there for the right QKey.
    REQUIRE(u.send(u.a, u.ah, u.b->qp_num, kQkey, src.sge(0, 64), 3) == 0);
    wc = poll_cq(u.cq, 2);
    REQUIRE(wc.size() == 2);
    CHECK(dst.data[40] == 3);
}

TEST_CASE("UD: AH rules (RoCE needs a GRH, port 1, a GID in the table); RDMA opcodes refused") {
    UdPair u;
    ibv_ah_attr attr = self_ah_attr(u.ctx);
    attr.is_global = 0;
    errno = 0;
    CHECK(ibv_create_ah(u.pd, &attr) == nullptr);
    CHECK(errno == EINVAL);
    attr = self_ah_attr(u.ctx);
    attr.port_num = 2;
    CHECK(ibv_create_ah(u.pd, &attr) == nullptr);
    attr = self_ah_attr(u.ctx);
    attr.grh.sgid_index = 7;
    CHECK(ibv_create_ah(u.pd, &attr) == nullptr);
    // An AH holds its PD.
    ibv_pd* pd = ibv_alloc_pd(u.ctx);
    REQUIRE(pd);
    attr = self_ah_attr(u.ctx);
    ibv_ah* ah = ibv_create_ah(pd, &attr);
    REQUIRE(ah);
    CHECK(ibv_dealloc_pd(pd) == EBUSY);
    CHECK(ibv_destroy_ah(ah) == 0);
    CHECK(ibv_dealloc_pd(pd) == 0);
    Buffer src(u.pd, 64);
    CHECK(u.send(u.a, u.ah, u.b->qp_num, kQkey, src.sge(0, 8), 1, IBV_WR_RDMA_WRITE) == EINVAL);
    CHECK(u.send(u.a, nullptr, u.b->qp_num, kQkey, src.sge(0, 8), 1) == EINVAL);
}
