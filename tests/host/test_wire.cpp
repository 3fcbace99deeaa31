// Host-direct: two hcasim-device processes whose ports share a wire
// (hcasim-device --port ptp://PATH: libvdeplug's point-to-point link), one
// test process driving both HCAs (HCASIM_SOCKET=a:b).  RC and UD traffic
// crosses as RoCEv2 frames: peers found by ARP, every opcode, data
// checked; a peer that never answers ARP ends in IBV_WC_RETRY_EXC_ERR.
// Each device's pcap capture holds the frames.  (Recovery from loss,
// reordering and RNR: test_wire_recovery.cpp.)
#include "tests/host/device_process.h"
#include "tests/host/rdma_fixture.h"
#include "tests/host/wire_pair.h"
#include "tests/host/wire_support.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

using namespace hcasim::test;

TEST_CASE("RC across the wire: SEND, WRITE, READ and atomics between two HCAs" * doctest::skip(kNoVde)) {
    WireRc w;
    Buffer ba(w.pd[0], 8192), bb(w.pd[1], 8192);
    for (size_t i = 0; i < 4096; ++i) ba.data[i] = static_cast<uint8_t>(i * 7 + 1);
    // SEND of 3000 bytes (three packets at MTU 1024).
    REQUIRE(post_recv_one(w.b, {bb.sge(0, 4096)}, 1) == 0);
    REQUIRE(post_one(w.a, IBV_WR_SEND, {ba.sge(0, 3000)}, 2) == 0);
    auto wc = poll_cq(w.cq[0], 1);
    REQUIRE(wc.size() == 1);
    CHECK_MESSAGE(wc[0].status == IBV_WC_SUCCESS, status_str(wc[0]));
    wc = poll_cq(w.cq[1], 1);
    REQUIRE(wc.size() == 1);
    CHECK(wc[0].status == IBV_WC_SUCCESS);
    CHECK(wc[0].byte_len == 3000);
    CHECK(std::memcmp(ba.data.data(), bb.data.data(), 3000) == 0);
    // RDMA WRITE into b, RDMA READ back from b.
    REQUIRE(post_one(w.a, IBV_WR_RDMA_WRITE, {ba.sge(0, 2500)}, 3, IBV_SEND_SIGNALED, bb.addr(4096),
                     bb.mr->rkey) == 0);
    wc = poll_cq(w.cq[0], 1);
    REQUIRE(wc.size() == 1);
    CHECK(wc[0].status == IBV_WC_SUCCESS);
    CHECK(std::memcmp(ba.data.data(), bb.data.data() + 4096, 2500) == 0);
    REQUIRE(post_one(w.a, IBV_WR_RDMA_READ, {ba.sge(4096, 2500)}, 4, IBV_SEND_SIGNALED, bb.addr(4096),
                     bb.mr->rkey) == 0);
    wc = poll_cq(w.cq[0], 1);
    REQUIRE(wc.size() == 1);
    CHECK(wc[0].status == IBV_WC_SUCCESS);
    CHECK(std::memcmp(ba.data.data(), ba.data.data() + 4096, 2500) == 0);
    // FETCH_AND_ADD and CMP_AND_SWP on b's word.
    uint64_t word = 40;
    std::memcpy(bb.data.data() + 8000, &word, 8);
    ibv_sge s = ba.sge(7000, 8);
    ibv_send_wr wr{};
    ibv_send_wr* bad = nullptr;
    wr.wr_id = 5;
    wr.sg_list = &s;
    wr.num_sge = 1;
    wr.opcode = IBV_WR_ATOMIC_FETCH_AND_ADD;
    wr.send_flags = IBV_SEND_SIGNALED;
    wr.wr.atomic.remote_addr = bb.addr(8000);
    wr.wr.atomic.rkey = bb.mr->rkey;
    wr.wr.atomic.compare_add = 2;
    REQUIRE(ibv_post_send(w.a, &wr, &bad) == 0);
    wc = poll_cq(w.cq[0], 1);
    REQUIRE(wc.size() == 1);
    CHECK(wc[0].status == IBV_WC_SUCCESS);
    uint64_t got = 0;
    std::memcpy(&got, ba.data.data() + 7000, 8);
    CHECK(got == 40);
    wr.opcode = IBV_WR_ATOMIC_CMP_AND_SWP;
    wr.wr.atomic.compare_add = 42;
    wr.wr.atomic.swap = 99;
    REQUIRE(ibv_post_send(w.a, &wr, &bad) == 0);
    wc = poll_cq(w.cq[0], 1);
    REQUIRE(wc.size() == 1);
    CHECK(wc[0].status == IBV_WC_SUCCESS);
    std::memcpy(&got, bb.data.data() + 8000, 8);
    CHECK(got == 99);
    // The frames crossed the wire: each port sent and received some, and
    // found its peer by ARP.
    for (int i = 0; i < 2; ++i) {
        auto p = w.port(i);
        INFO(p.dump());
        CHECK(p["backend"] == "wire");
        CHECK(p["wire"]["tx_frames"].get<uint64_t>() >= 5);
        CHECK(p["wire"]["rx_frames"].get<uint64_t>() >= 5);
        CHECK(p["wire"]["rx_dropped"].get<uint64_t>() == 0);
        CHECK(p["wire"]["arp_entries"].get<uint64_t>() == 1);
        CHECK(p["wire"]["pcap_frames"].get<uint64_t>() ==
              p["wire"]["tx_frames"].get<uint64_t>() + p["wire"]["rx_frames"].get<uint64_t>());
    }
    // Debian's tshark decodes the capture as RoCE (InfiniBand over UDP
    // 4791) with no malformed packet (its RPC-over-RDMA heuristic is off:
    // it misreads small SEND payloads).
    const std::string pcap = w.dir + "/a.pcap";
    auto run = [](const std::string& cmd) {
        std::string out;
        if (FILE* f = ::popen(cmd.c_str(), "r")) {
            char buf[4096];
            size_t n;
            while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
            ::pclose(f);
        }
        return out;
    };
    const std::string tshark = "tshark -r " + pcap +
                               " --disable-protocol rpcordma"
                               " -o infiniband.identify_payload:FALSE 2>/dev/null";
    const std::string all = run(tshark + " -T fields -e frame.protocols");
    REQUIRE_MESSAGE(!all.empty(), "tshark (scripts/setup installs it) printed nothing for ", pcap);
    size_t roce = 0, arp = 0, lines = 0;
    for (size_t at = 0; at < all.size();) {
        const size_t nl = all.find('\n', at);
        const std::string line = all.substr(at, nl - at);
        at = nl == std::string::npos ? all.size() : nl + 1;
        if (line.empty()) continue;
        ++lines;
        if (line.find("eth:ethertype:arp") == 0) ++arp;
        else if (line.find("eth:ethertype:ip:udp:infiniband") == 0) ++roce;
        else FAIL_CHECK("frame not decoded as RoCE: ", line);
    }
    CHECK(arp == 2);
    CHECK(roce >= 14);
    CHECK(run(tshark + " -Y _ws.malformed").empty());
}

TEST_CASE("a peer that never answers ARP: the RC send ends in IBV_WC_RETRY_EXC_ERR, the QP in ERR" *
          doctest::skip(kNoVde)) {
    ConnectAttr attr;
    attr.timeout = 8;  // 4.096 µs * 2^8 = 1 ms
    attr.retry_cnt = 2;
    Wire w;
    ibv_qp* a = create_qp(w.pd[0], w.cq[0], w.cq[0], IBV_QPT_RC);
    REQUIRE(a);
    ibv_gid nobody = w.gid[1];
    nobody.raw[15] = 99;  // 10.77.0.99: on nobody's port
    attr.dgid = &nobody;
    REQUIRE(connect_qp(a, 0x123, attr) == 0);
    Buffer ba(w.pd[0], 64);
    REQUIRE(post_one(a, IBV_WR_SEND, {ba.sge(0, 64)}, 1) == 0);
    auto wc = poll_cq(w.cq[0], 1);
    REQUIRE(wc.size() == 1);
    CHECK_MESSAGE(wc[0].status == IBV_WC_RETRY_EXC_ERR, status_str(wc[0]));
    ibv_qp_attr qa{};
    ibv_qp_init_attr qi{};
    REQUIRE(ibv_query_qp(a, &qa, IBV_QP_STATE, &qi) == 0);
    CHECK(qa.qp_state == IBV_QPS_ERR);
    auto p = w.port(0);
    // Every try (the send and two retries) waited for an ARP reply.
    CHECK(p["wire"]["tx_arp_queued"].get<uint64_t>() >= 3);
    CHECK(p["wire"]["arp"]["requests_sent"].get<uint64_t>() >= 1);
    CHECK(ibv_destroy_qp(a) == 0);
}
