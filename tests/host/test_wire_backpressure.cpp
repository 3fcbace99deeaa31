// Host-direct: a full link holds frames back; it does not lose them.  The
// test process is the device's only peer on a ptp:// link and plays the
// RC responder by hand: it answers the device's ARP, then reads nothing
// while the device sends 16 RDMA WRITEs of 64 KiB, so the link's socket
// queue (net.unix.max_dgram_qlen datagrams) fills and the device's sends
// find it full (it ACKs what the device has sent meanwhile, so the RC
// window opens).  Then it reads every frame, checks that the PSNs come
// one after the other (no gap: nothing dropped; no repeat: nothing
// retransmitted) and ACKs each AckReq.  All 16 WRITEs complete, and the
// port counts frames held back (tx_link_busy) and none lost.
#include "device/opcodes.h"
#include "device/roce_frame.h"
#include "tests/host/device_process.h"
#include "tests/host/rdma_fixture.h"
#include "tests/host/wire_support.h"

#include <nlohmann/json.hpp>
#include <poll.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

using namespace hcasim::test;
namespace dev = hcasim::device;

namespace {

const dev::Mac kDevMac{0x02, 0, 0, 0x78, 0, 0x01};
const dev::Mac kPeerMac{0x02, 0, 0, 0x78, 0, 0x02};
constexpr uint8_t kDevIp[4] = {10, 78, 0, 1}, kPeerIp[4] = {10, 78, 0, 2};

dev::Gid mapped(const uint8_t ip[4]) {
    return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ip[0], ip[1], ip[2], ip[3]};
}

// The ARP reply "10.78.0.2 is at kPeerMac" to the device (RFC 826).
std::vector<uint8_t> arp_reply() {
    std::vector<uint8_t> f(60, 0);
    std::memcpy(f.data(), kDevMac.data(), 6);
    std::memcpy(f.data() + 6, kPeerMac.data(), 6);
    f[12] = 0x08, f[13] = 0x06;                     // ARP
    f[14] = 0, f[15] = 1, f[16] = 0x08, f[17] = 0;  // Ethernet, IPv4
    f[18] = 6, f[19] = 4, f[20] = 0, f[21] = 2;     // lengths, reply
    std::memcpy(f.data() + 22, kPeerMac.data(), 6);
    std::memcpy(f.data() + 28, kPeerIp, 4);
    std::memcpy(f.data() + 32, kDevMac.data(), 6);
    std::memcpy(f.data() + 38, kDevIp, 4);
    return f;
}

// One frame from the link within timeout_ms, or 0.
ssize_t recv_frame(VDECONN* c, uint8_t* buf, size_t len, int timeout_ms) {
    pollfd pf{vde_datafd(c), POLLIN, 0};
    if (::poll(&pf, 1, timeout_ms) <= 0) return 0;
    const ssize_t n = vde_recv(c, buf, len, 0);
    return n > 0 ? n : 0;
}

}  // namespace

TEST_CASE("a full link holds frames back: every WRITE packet leaves once, in order, none lost" *
          doctest::skip(kNoVde)) {
    LinkPeer lp("backpressure", "02:00:00:78:00:01", "10.78.0.1", 64);
    QpCaps caps;
    caps.send_wr = 16;
    ibv_qp* qp = create_qp(lp.pd, lp.cq, lp.cq, IBV_QPT_RC, caps);
    REQUIRE(qp);
    ibv_gid peer_gid{};
    const dev::Gid pg = mapped(kPeerIp);
    std::memcpy(peer_gid.raw, pg.data(), 16);
    ConnectAttr attr;
    attr.dgid = &peer_gid;
    attr.timeout = 18;  // 4.096 µs * 2^18: about 1 s, far beyond this test's pauses
    attr.sq_psn = 100;
    REQUIRE(connect_qp(qp, 0x42, attr) == 0);

    constexpr uint32_t kWrites = 16, kLen = 64 * 1024, kPackets = kWrites * kLen / 1024;
    auto buf = std::make_unique<Buffer>(lp.pd, kLen, kAllAccess, 0x3c);
    for (uint32_t i = 0; i < kWrites; ++i)
        REQUIRE(post_one(qp, IBV_WR_RDMA_WRITE, {buf->sge(0, kLen)}, i, IBV_SEND_SIGNALED,
                            0x10000000ull + i * kLen, 0x1234) == 0);

    // ARP first: the device asks for 10.78.0.2 before its first frame.
    uint8_t frame[9216];
    bool arp_seen = false;
    for (int i = 0; i < 50 && !arp_seen; ++i) {
        const ssize_t len = recv_frame(lp.peer, frame, sizeof frame, 200);
        arp_seen = len >= 42 && frame[12] == 0x08 && frame[13] == 0x06;
    }
    REQUIRE(arp_seen);
    const auto reply = arp_reply();
    REQUIRE(vde_send(lp.peer, reply.data(), reply.size(), 0) == static_cast<ssize_t>(reply.size()));

    auto port = [&] {
        auto j = nlohmann::json::parse(lp.device->inspect(R"({"cmd":"port"})"), nullptr, false);
        REQUIRE_FALSE(j.is_discarded());
        return j;
    };
    std::vector<uint8_t> ack;
    auto send_ack = [&](uint32_t psn, uint32_t msn) {
        dev::Packet a;
        a.opcode = dev::bth::kAck;
        a.sgid = pg;
        a.dgid = mapped(kDevIp);
        a.dest_qp = qp->qp_num;
        a.pkey = 0xffff;
        a.psn = psn;
        a.syndrome = dev::aeth::kAck;
        a.msn = msn;
        dev::FrameAddress fa;
        fa.src_mac = kPeerMac;
        fa.dst_mac = kDevMac;
        REQUIRE(dev::build_roce_frame(a, fa, ack) == dev::FrameError::None);
        REQUIRE(vde_send(lp.peer, ack.data(), ack.size(), 0) > 0);
    };

    // Read nothing until the device finds the link full.  Its congestion
    // window would stop it first, so ACK what it has sent (the PSNs follow
    // from its tx_frames, the ARP request aside): the window opens, and
    // the frames pile up in the link.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (uint64_t acked = 0;;) {
        const auto j = port();
        if (j["wire"]["tx_link_busy"].get<uint64_t>() > 0) break;
        const uint64_t sent = j["wire"]["tx_frames"].get<uint64_t>() - 1;
        if (sent > acked) {
            send_ack(dev::psn_add(100, static_cast<uint32_t>(sent - 1)), 0);
            acked = sent;
        }
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }

    // The responder: every packet in PSN order, an ACK for each AckReq.
    uint32_t expect = 100, packets = 0, out_of_order = 0, done = 0;
    while (done < kWrites) {
        const ssize_t len = recv_frame(lp.peer, frame, sizeof frame, 0);
        if (len > 0) {
            dev::Packet p;
            if (dev::parse_roce_frame(frame, static_cast<size_t>(len), p) != dev::FrameError::None) continue;
            ++packets;
            if (p.psn != expect) ++out_of_order;
            expect = dev::psn_add(p.psn, 1);
            if (p.ack_req) send_ack(p.psn, packets);
            continue;
        }
        for (const ibv_wc& wc : poll_cq(lp.cq, kWrites - done, 1)) {
            CHECK_MESSAGE(wc.status == IBV_WC_SUCCESS, status_str(wc));
            ++done;
        }
        REQUIRE(std::chrono::steady_clock::now() < deadline + std::chrono::seconds(20));
    }
    CHECK(packets == kPackets);
    CHECK(out_of_order == 0);
    const auto j = port();
    INFO(j.dump());
    CHECK(j["wire"]["tx_link_busy"].get<uint64_t>() > 0);
    CHECK(j["wire"]["tx_link_drops"].get<uint64_t>() == 0);
    CHECK(j["engine"]["retries"].get<uint64_t>() == 0);

    CHECK(ibv_destroy_qp(qp) == 0);
    buf.reset();
}
