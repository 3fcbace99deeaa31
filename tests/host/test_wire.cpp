// Host-direct: two hcasim-device processes whose ports share a wire
// (hcasim-device --port ptp://PATH: libvdeplug's point-to-point link), one
// test process driving both HCAs (HCASIM_SOCKET=a:b).  RC and UD traffic
// crosses as RoCEv2 frames: peers found by ARP, every opcode, data
// checked; a peer that never answers ARP ends in IBV_WC_RETRY_EXC_ERR; and
// under loss, duplication and reordering every RC message still arrives
// once, in order, intact (IBTA 9.7: PSNs, ACK timeout, duplicate
// detection).  Each device's pcap capture holds the frames.
#include "tests/host/device_process.h"
#include "tests/host/rdma_fixture.h"
#include "tests/host/wire_support.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

using namespace hcasim::test;

namespace {

std::string temp_dir() { return wire_temp_dir("wire"); }

// Two devices on one ptp link, both opened by this process.
struct Wire {
    explicit Wire(std::vector<std::string> extra_a = {}, std::vector<std::string> extra_b = {})
        : dir(temp_dir()) {
        auto args = [&](const char* mac, const char* ip, const char* pcap, std::vector<std::string> extra) {
            std::vector<std::string> a = {"--port", "ptp://" + dir + "/link", "--mac", mac, "--ipv4", ip,
                                          "--pcap", dir + "/" + pcap};
            a.insert(a.end(), extra.begin(), extra.end());
            return a;
        };
        dev_a = std::make_unique<DeviceProcess>(args("02:00:00:77:00:01", "10.77.0.1", "a.pcap", extra_a));
        dev_b = std::make_unique<DeviceProcess>(args("02:00:00:77:00:02", "10.77.0.2", "b.pcap", extra_b));
        const std::string sockets = dev_a->socket() + ":" + dev_b->socket();
        ::setenv("HCASIM_SOCKET", sockets.c_str(), 1);
        int n = 0;
        list = ibv_get_device_list(&n);
        REQUIRE(list);
        REQUIRE(n == 2);
        for (int i = 0; i < 2; ++i) {
            ctx[i] = ibv_open_device(list[i]);
            REQUIRE(ctx[i]);
            pd[i] = ibv_alloc_pd(ctx[i]);
            REQUIRE(pd[i]);
            cq[i] = ibv_create_cq(ctx[i], 256, nullptr, nullptr, 0);
            REQUIRE(cq[i]);
            REQUIRE(ibv_query_gid(ctx[i], 1, 1, &gid[i]) == 0);
        }
    }
    ~Wire() {
        for (int i = 0; i < 2; ++i) {
            if (cq[i]) CHECK(ibv_destroy_cq(cq[i]) == 0);
            if (pd[i]) CHECK(ibv_dealloc_pd(pd[i]) == 0);
            if (ctx[i]) CHECK(ibv_close_device(ctx[i]) == 0);
        }
        ibv_free_device_list(list);
        dev_a.reset();
        dev_b.reset();
        if (!std::getenv("HCASIM_KEEP_WIRE")) std::system(("rm -rf " + dir).c_str());
    }
    nlohmann::json port(int i) {
        auto j = nlohmann::json::parse((i ? dev_b : dev_a)->inspect(R"({"cmd":"port"})"), nullptr, false);
        REQUIRE_FALSE(j.is_discarded());
        return j;
    }
    std::string dir;
    std::unique_ptr<DeviceProcess> dev_a, dev_b;
    ibv_device** list = nullptr;
    ibv_context* ctx[2]{};
    ibv_pd* pd[2]{};
    ibv_cq* cq[2]{};
    ibv_gid gid[2]{};
};

// RC QPs a (on HCA 0) and b (on HCA 1), connected across the wire.
struct WireRc : Wire {
    explicit WireRc(ConnectAttr attr = {}, std::vector<std::string> extra_a = {},
                    std::vector<std::string> extra_b = {}, QpCaps caps = {})
        : Wire(std::move(extra_a), std::move(extra_b)) {
        a = create_qp(pd[0], cq[0], cq[0], IBV_QPT_RC, caps);
        b = create_qp(pd[1], cq[1], cq[1], IBV_QPT_RC, caps);
        REQUIRE(a);
        REQUIRE(b);
        ConnectAttr ca = attr, cb = attr;
        ca.dgid = &gid[1];
        cb.dgid = &gid[0];
        REQUIRE(connect_qp(a, b->qp_num, ca) == 0);
        REQUIRE(connect_qp(b, a->qp_num, cb) == 0);
    }
    ~WireRc() {
        if (a) CHECK(ibv_destroy_qp(a) == 0);
        if (b) CHECK(ibv_destroy_qp(b) == 0);
    }
    ibv_qp* a = nullptr;
    ibv_qp* b = nullptr;
};

}  // namespace

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

TEST_CASE("a lossy, reordering wire: thousands of RC messages arrive once, in order, intact" *
          doctest::skip(kNoVde)) {
    // Both directions lose 1% and reorder 1% of the frames (ACKs too).
    const std::vector<std::string> faults_a = {"--wire-faults", "loss=0.01,reorder=0.01,dup=0.005,seed=11"};
    const std::vector<std::string> faults_b = {"--wire-faults", "loss=0.01,reorder=0.01,dup=0.005,seed=12"};
    ConnectAttr attr;
    attr.timeout = 10;  // 4.096 µs * 2^10 = 4 ms before a retransmission
    attr.retry_cnt = 7;
    attr.max_rd_atomic = 4;
    attr.max_dest_rd_atomic = 4;
    QpCaps caps;
    caps.send_wr = 128;
    caps.recv_wr = 128;
    WireRc w(attr, faults_a, faults_b, caps);
    constexpr uint32_t kMessages = 3000, kMsgMax = 2600, kWindow = 32;
    Buffer src(w.pd[0], kWindow * kMsgMax), dst(w.pd[1], kWindow * kMsgMax), wdst(w.pd[1], 1 << 16);
    Buffer rsrc(w.pd[0], 1 << 16);
    for (size_t i = 0; i < wdst.data.size(); ++i) wdst.data[i] = static_cast<uint8_t>(i * 13 + 5);
    auto len_of = [](uint32_t i) { return 16 + (i * 7919) % (kMsgMax - 16); };  // 1 to 3 packets
    uint32_t posted = 0, sent_done = 0, received = 0, reads = 0;
    // Receives are posted ahead: slot i % kWindow.
    for (uint32_t i = 0; i < kWindow; ++i)
        REQUIRE(post_recv_one(w.b, {dst.sge(i * kMsgMax, kMsgMax)}, i) == 0);
    while (received < kMessages) {
        while (posted < kMessages && posted - sent_done < kWindow && posted - received < kWindow) {
            const uint32_t slot = posted % kWindow, len = len_of(posted);
            uint8_t* p = src.data.data() + slot * kMsgMax;
            for (uint32_t k = 0; k < len; ++k) p[k] = static_cast<uint8_t>(posted * 31 + k);
            std::memcpy(p, &posted, 4);
            REQUIRE(post_one(w.a, IBV_WR_SEND, {src.sge(slot * kMsgMax, len)}, posted) == 0);
            ++posted;
            if (posted % 10 == 0) {
                // Mixed in: an RDMA READ of b's pattern (checked below).
                const uint32_t off = (posted * 97) % 60000;
                REQUIRE(post_one(w.a, IBV_WR_RDMA_READ, {rsrc.sge(off, 1500)}, 1u << 31 | off,
                                 IBV_SEND_SIGNALED, wdst.addr(off), wdst.mr->rkey) == 0);
                ++reads;
            }
        }
        ibv_wc wc[16];
        int n = ibv_poll_cq(w.cq[0], 16, wc);
        REQUIRE(n >= 0);
        for (int i = 0; i < n; ++i) {
            REQUIRE_MESSAGE(wc[i].status == IBV_WC_SUCCESS, status_str(wc[i]), " wr_id ", wc[i].wr_id);
            if (wc[i].opcode == IBV_WC_RDMA_READ) {
                const uint32_t off = static_cast<uint32_t>(wc[i].wr_id & 0x7fffffff);
                CHECK(std::memcmp(rsrc.data.data() + off, wdst.data.data() + off, 1500) == 0);
                --reads;
                continue;
            }
            REQUIRE(wc[i].wr_id == sent_done);  // send completions in order
            ++sent_done;
        }
        n = ibv_poll_cq(w.cq[1], 16, wc);
        REQUIRE(n >= 0);
        for (int i = 0; i < n; ++i) {
            REQUIRE_MESSAGE(wc[i].status == IBV_WC_SUCCESS, status_str(wc[i]));
            const uint32_t slot = static_cast<uint32_t>(wc[i].wr_id);
            REQUIRE(slot == received % kWindow);
            REQUIRE(wc[i].byte_len == len_of(received));
            const uint8_t* p = dst.data.data() + slot * kMsgMax;
            uint32_t seq = 0;
            std::memcpy(&seq, p, 4);
            REQUIRE(seq == received);  // exactly once, in order
            bool intact = true;
            for (uint32_t k = 4; k < wc[i].byte_len; ++k) intact &= p[k] == static_cast<uint8_t>(received * 31 + k);
            REQUIRE(intact);
            ++received;
            REQUIRE(post_recv_one(w.b, {dst.sge(slot * kMsgMax, kMsgMax)}, slot) == 0);
        }
    }
    while (sent_done < kMessages || reads) {
        auto wc = poll_cq(w.cq[0], 1);
        REQUIRE(wc.size() == 1);
        REQUIRE(wc[0].status == IBV_WC_SUCCESS);
        if (wc[0].opcode == IBV_WC_RDMA_READ) --reads;
        else ++sent_done;
    }
    CHECK(cq_empty(w.cq[1]));
    // The faults happened, and the engine recovered from them.
    auto pa = w.port(0), pb = w.port(1);
    INFO(pa.dump());
    INFO(pb.dump());
    CHECK(pa["wire"]["faults"]["lost"].get<uint64_t>() > 10);
    CHECK(pb["wire"]["faults"]["lost"].get<uint64_t>() > 10);
    CHECK(pa["wire"]["faults"]["reordered"].get<uint64_t>() > 10);
    CHECK(pa["engine"]["retries"].get<uint64_t>() > 0);
}
