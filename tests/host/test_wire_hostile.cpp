// Host-direct: bad input from the wire (issue 7, section 6).  The test
// process is the device's only peer on a ptp:// link (libvdeplug) and
// sends it thousands of frames, with a fixed seed: random bytes, every
// truncation, lying lengths, every BTH opcode, PSNs far out of the
// window, READ responses nobody asked for, atomics on unaligned
// addresses, bad keys, all addressed to a live RC QP.  Each must end in a
// counted drop, a NAK or an error completion: the device stays up, its
// other QPs keep working, and no byte outside the target MR changes.
#include "device/opcodes.h"
#include "device/roce_frame.h"
#include "tests/host/device_process.h"
#include "tests/host/rdma_fixture.h"
#include "tests/host/wire_support.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <memory>
#include <random>
#include <poll.h>
#include <sys/socket.h>
#include <string>

using namespace hcasim::test;
namespace dev = hcasim::device;

namespace {

const dev::Mac kDevMac{0x02, 0, 0, 0x77, 0, 0x01};
const dev::Mac kPeerMac{0x02, 0, 0, 0x77, 0, 0x02};

dev::Gid mapped(uint8_t last) { return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 77, 0, last}; }

}  // namespace

TEST_CASE("thousands of hostile frames: drops, NAKs or error CQEs; the device keeps serving" *
          doctest::skip(kNoVde)) {
    LinkPeer lp("hostile", "02:00:00:77:00:01", "10.77.0.1", 4096);
    auto& device = lp.device;
    VDECONN* peer = lp.peer;
    ibv_context* ctx = lp.ctx;
    ibv_pd* pd = lp.pd;
    ibv_cq* cq = lp.cq;
    // The target: an RC QP connected to the (fake) peer 10.77.0.2, QPN 0x42,
    // with an MR the frames aim at, guarded by canaries around it.
    ibv_qp* target = create_qp(pd, cq, cq, IBV_QPT_RC);
    REQUIRE(target);
    ibv_gid peer_gid{};
    std::memcpy(peer_gid.raw, mapped(2).data(), 16);
    ConnectAttr attr;
    attr.dgid = &peer_gid;
    attr.timeout = 8;
    attr.retry_cnt = 1;
    attr.max_dest_rd_atomic = 16;
    REQUIRE(connect_qp(target, 0x42, attr) == 0);
    auto guard_buf = std::make_unique<Buffer>(pd, 3 * 4096, kAllAccess, 0x5a);
    Buffer& guard = *guard_buf;
    ibv_mr* mr = ibv_reg_mr(pd, guard.data.data() + 4096, 4096, kAllAccess);
    REQUIRE(mr);
    for (int i = 0; i < 64; ++i) REQUIRE(post_recv_one(target, {guard.sge(4096 + 64 * i, 64)}, i) == 0);

    std::mt19937_64 rng(20261122);
    auto rnd = [&](uint64_t m) { return m ? rng() % m : 0; };
    uint32_t psn = 0;  // the responder's expected PSN starts at 0
    std::vector<uint8_t> frame;
    uint8_t payload[2048];
    for (auto& b : payload) b = static_cast<uint8_t>(rng());
    size_t sent = 0;
    for (int i = 0; i < 6000; ++i) {
        dev::Packet p;
        p.sgid = mapped(2);
        p.dgid = mapped(1);
        p.dest_qp = target->qp_num;
        p.pkey = 0xffff;
        const int kind = static_cast<int>(rnd(8));
        uint8_t op = 0;
        do op = static_cast<uint8_t>(rnd(256));
        while (!dev::op_info(op).name);
        p.opcode = op;
        p.psn = kind == 1 ? static_cast<uint32_t>(rnd(1u << 24)) : (psn + rnd(3)) & 0xffffff;
        p.ack_req = rnd(2);
        p.va = kind == 2 ? mr->addr == nullptr ? 0 : reinterpret_cast<uintptr_t>(mr->addr) + rnd(4096) + rnd(8)
                         : rng();
        if (kind == 3) p.va = reinterpret_cast<uintptr_t>(mr->addr) + 4096 - rnd(16);  // straddles the end
        p.rkey = kind >= 2 && kind <= 4 ? mr->rkey : static_cast<uint32_t>(rng());
        p.dma_len = static_cast<uint32_t>(kind == 4 ? rnd(1u << 31) : rnd(5000));
        p.swap_add = rng();
        p.compare = rng();
        p.syndrome = static_cast<uint8_t>(rng());
        p.msn = static_cast<uint32_t>(rnd(1u << 24));
        p.qkey = static_cast<uint32_t>(rng());
        if (dev::op_info(op).flags & dev::kHasPayload) {
            p.data = payload;
            p.len = static_cast<uint32_t>(rnd(1100));
        }
        dev::FrameAddress a;
        a.src_mac = kPeerMac;
        a.dst_mac = kDevMac;
        REQUIRE(dev::build_roce_frame(p, a, frame) == dev::FrameError::None);
        switch (kind) {
        case 5: frame.resize(rnd(frame.size())); break;                       // truncated
        case 6: frame[16] = static_cast<uint8_t>(rng()); break;               // IP length lies
        case 7:                                                                // random bytes after Ethernet
            for (size_t k = 14; k < frame.size(); ++k)
                if (rnd(8) == 0) frame[k] = static_cast<uint8_t>(rng());
            break;
        default: break;
        }
        if (kind == 0 && rnd(4) == 0) psn = (psn + 1) & 0xffffff;
        if (vde_send(peer, frame.data(), frame.size(), 0) > 0) ++sent;
        // Drain what the device answers (ACKs, NAKs, ARP), never read here.
        // (libvdeplug's plugins may block in vde_recv: poll its fd first.)
        uint8_t buf[9000];
        pollfd pf{vde_datafd(peer), POLLIN, 0};
        while (::poll(&pf, 1, 0) > 0 && (pf.revents & POLLIN) && vde_recv(peer, buf, sizeof buf, 0) > 0) {
        }
    }
    CHECK(sent > 5000);
    // The device is alive and counted the drops.
    REQUIRE(device->alive());
    auto port = nlohmann::json::parse(device->inspect(R"({"cmd":"port"})"), nullptr, false);
    REQUIRE_FALSE(port.is_discarded());
    INFO(port.dump());
    CHECK(port["wire"]["rx_frames"].get<uint64_t>() > 1000);
    CHECK(port["wire"]["rx_dropped"].get<uint64_t>() > 500);
    CHECK(port["wire"]["rx_dropped_by_reason"]["bad ICRC"].get<uint64_t>() > 0);
    CHECK(port["wire"]["rx_dropped_by_reason"]["malformed"].get<uint64_t>() > 0);
    // Nothing outside the MR changed: the guard pages around it are intact.
    bool intact = true;
    for (size_t k = 0; k < 4096; ++k) intact &= guard.data[k] == 0x5a && guard.data[8192 + k] == 0x5a;
    CHECK(intact);
    // The device keeps serving: two fresh QPs loop a message through the port.
    ibv_cq* cq2 = ibv_create_cq(ctx, 16, nullptr, nullptr, 0);
    ibv_qp* x = create_qp(pd, cq2, cq2, IBV_QPT_RC);
    ibv_qp* y = create_qp(pd, cq2, cq2, IBV_QPT_RC);
    connect_pair(x, y);
    auto bx_buf = std::make_unique<Buffer>(pd, 256, kAllAccess, 0x11);
    auto by_buf = std::make_unique<Buffer>(pd, 256, kAllAccess, 0);
    Buffer &bx = *bx_buf, &by = *by_buf;
    REQUIRE(post_recv_one(y, {by.sge(0, 256)}, 7) == 0);
    REQUIRE(post_one(x, IBV_WR_SEND, {bx.sge(0, 200)}, 8) == 0);
    auto wc = poll_cq(cq2, 2);
    REQUIRE(wc.size() == 2);
    for (const auto& c : wc) CHECK_MESSAGE(c.status == IBV_WC_SUCCESS, status_str(c));
    CHECK(by.data[199] == 0x11);
    // The target QP is either still usable or in ERR, never anything else.
    ibv_qp_attr qa{};
    ibv_qp_init_attr qi{};
    REQUIRE(ibv_query_qp(target, &qa, IBV_QP_STATE, &qi) == 0);
    CHECK((qa.qp_state == IBV_QPS_RTS || qa.qp_state == IBV_QPS_ERR));
    CHECK(ibv_destroy_qp(x) == 0);
    CHECK(ibv_destroy_qp(y) == 0);
    CHECK(ibv_destroy_cq(cq2) == 0);
    CHECK(ibv_destroy_qp(target) == 0);
    CHECK(ibv_dereg_mr(mr) == 0);
    guard_buf.reset();
    bx_buf.reset();
    by_buf.reset();
}
