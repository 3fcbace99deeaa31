// Host-direct: hcasim-device processes on one vde_switch (Debian's
// vde-switch, started by the test; hcasim-device --port vde://DIR), the
// shape scripts/run-fabric gives guests.  One test process drives every
// HCA (HCASIM_SOCKET=a:b:...).  Two HCAs move megabyte WRITEs and READs
// through the switch; four HCAs talk all to all (SEND, WRITE, READ and
// atomics on every ordered pair); and the port follows the switch: when
// it goes away the port goes DOWN with IBV_EVENT_PORT_ERR, when it comes
// back the port is ACTIVE again (IBV_EVENT_PORT_ACTIVE) and carries
// traffic (IBTA vol 1 11.6.3, port state change events).
//
// vde_switch drops what a port's socket queue cannot take (10 datagrams:
// net.unix.max_dgram_qlen): megabyte READ responses lose frames on their
// way, and RC recovers them (READs resume at the first missing response).
//
// vde_switch forwards frames of at most 1514 bytes; the same megabyte test
// also runs on libvdeplug4's switch (vde_plug null:// switch://DIR, Debian
// package vdeplug), which forwards 9 KB frames, with the HCAs and the QPs
// at an MTU of 4096 (scripts/run-fabric --mtu 9000).
#include "tests/host/device_process.h"
#include "tests/host/rdma_fixture.h"
#include "tests/host/wire_support.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

using namespace hcasim::test;

namespace {

bool exists(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0;
}

bool readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
}

// A switch on DIR/switch, our child until stop(): a vde_switch, or with
// `jumbo` libvdeplug4's switch (hosted by a vde_plug).
class Switch {
public:
    explicit Switch(std::string dir, bool jumbo = false) : dir_(std::move(dir)), jumbo_(jumbo) { start(); }
    ~Switch() { stop(); }
    std::string url() const { return "vde://" + dir_ + "/switch"; }
    void start() {
        REQUIRE_MESSAGE(pid_ < 0, "the switch already runs");
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            // Its management console reads stdin: give it one that stays
            // open and empty.
            int fds[2];
            if (::pipe(fds) == 0) ::dup2(fds[0], 0);
            const int null = ::open("/dev/null", O_WRONLY);
            if (null >= 0) ::dup2(null, 1);
            const std::string sock = dir_ + "/switch";
            const std::string url = "switch://" + sock;
            if (jumbo_)
                ::execlp("vde_plug", "vde_plug", "null://", url.c_str(), static_cast<char*>(nullptr));
            else
                ::execlp("vde_switch", "vde_switch", "--sock", sock.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        for (int i = 0; i < 400 && !exists(dir_ + "/switch/ctl"); ++i) {
            int st = 0;
            REQUIRE_MESSAGE(::waitpid(pid_, &st, WNOHANG) == 0,
                            "the switch exited (scripts/setup installs Debian's vde-switch and vdeplug)");
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        REQUIRE_MESSAGE(exists(dir_ + "/switch/ctl"), "the switch made no control socket");
    }
    void stop() {
        if (pid_ < 0) return;
        ::kill(pid_, SIGTERM);
        int st = 0;
        ::waitpid(pid_, &st, 0);
        pid_ = -1;
        std::system(("rm -rf " + dir_ + "/switch").c_str());
    }

private:
    std::string dir_;
    bool jumbo_;
    pid_t pid_ = -1;
};

// N HCAs on one switch: HCA i is 10.78.0.(i+1), MAC 02:00:00:78:00:(i+1);
// their ports' MTU `mtu` bytes (above 1024: on libvdeplug4's switch).
struct Fabric {
    explicit Fabric(int n, unsigned mtu = 1024) : dir(make_dir()), sw(dir, mtu > 1024), n(n) {
        std::string sockets;
        for (int i = 0; i < n; ++i) {
            const std::string last = std::to_string(i + 1);
            dev.push_back(std::make_unique<DeviceProcess>(
                std::vector<std::string>{"--port", sw.url(), "--mac", "02:00:00:78:00:0" + last, "--ipv4",
                                         "10.78.0." + last, "--mtu", std::to_string(mtu)}));
            sockets += (i ? ":" : "") + dev.back()->socket();
        }
        ::setenv("HCASIM_SOCKET", sockets.c_str(), 1);
        int count = 0;
        list = ibv_get_device_list(&count);
        REQUIRE(list);
        REQUIRE(count == n);
        ctx.resize(n);
        pd.resize(n);
        cq.resize(n);
        gid.resize(n);
        for (int i = 0; i < n; ++i) {
            ctx[i] = ibv_open_device(list[i]);
            REQUIRE(ctx[i]);
            pd[i] = ibv_alloc_pd(ctx[i]);
            REQUIRE(pd[i]);
            cq[i] = ibv_create_cq(ctx[i], 1024, nullptr, nullptr, 0);
            REQUIRE(cq[i]);
            REQUIRE(ibv_query_gid(ctx[i], 1, 1, &gid[i]) == 0);
        }
    }
    ~Fabric() {
        for (int i = 0; i < n; ++i) {
            if (cq[i]) CHECK(ibv_destroy_cq(cq[i]) == 0);
            if (pd[i]) CHECK(ibv_dealloc_pd(pd[i]) == 0);
            if (ctx[i]) CHECK(ibv_close_device(ctx[i]) == 0);
        }
        ibv_free_device_list(list);
        dev.clear();
        sw.stop();
        std::system(("rm -rf " + dir).c_str());
    }
    static std::string make_dir() { return wire_temp_dir("switch"); }
    nlohmann::json wire(int i) {
        auto j = nlohmann::json::parse(dev[i]->inspect(R"({"cmd":"port"})"), nullptr, false);
        REQUIRE_FALSE(j.is_discarded());
        return j;
    }
    // An RC QP on HCA i connected to QP `remote_qpn` on HCA j.
    ibv_qp* rc(int i) { return create_qp(pd[i], cq[i], cq[i], IBV_QPT_RC, QpCaps{256, 256, 4, 4, 0}); }
    void connect(ibv_qp* qp, int j, uint32_t remote_qpn, ConnectAttr attr = {}) {
        attr.dgid = &gid[j];
        REQUIRE(connect_qp(qp, remote_qpn, attr) == 0);
    }
    std::string dir;
    Switch sw;
    int n;
    std::vector<std::unique_ptr<DeviceProcess>> dev;
    ibv_device** list = nullptr;
    std::vector<ibv_context*> ctx;
    std::vector<ibv_pd*> pd;
    std::vector<ibv_cq*> cq;
    std::vector<ibv_gid> gid;
};

// Polls HCA i's CQ for n completions, all successful.
void expect_success(ibv_cq* cq, size_t n) {
    auto wc = poll_cq(cq, n, 30000);
    REQUIRE(wc.size() == n);
    for (const auto& c : wc) CHECK_MESSAGE(c.status == IBV_WC_SUCCESS, status_str(c));
}

uint8_t pattern(size_t i, unsigned seed) { return static_cast<uint8_t>((i * 131 + seed * 17 + (i >> 10)) & 0xff); }

// Two HCAs at MTU `mtu` (bytes; `path_mtu` for the QPs): 8 WRITEs of
// 1 MiB from HCA 0 to HCA 1 and 8 READs of them back, data intact, no
// frame dropped by a port; every megabyte crosses in packets of `mtu`.
void megabyte_writes_and_reads(unsigned mtu, ibv_mtu path_mtu) {
    Fabric f(2, mtu);
    ibv_qp* a = f.rc(0);
    ibv_qp* b = f.rc(1);
    REQUIRE(a);
    REQUIRE(b);
    ConnectAttr attr;
    attr.mtu = path_mtu;
    attr.max_rd_atomic = attr.max_dest_rd_atomic = 16;
    f.connect(a, 1, b->qp_num, attr);
    f.connect(b, 0, a->qp_num, attr);
    constexpr size_t kMiB = 1 << 20;
    constexpr int kMsgs = 8;
    Buffer src(f.pd[0], kMsgs * kMiB), dst(f.pd[1], kMsgs * kMiB), back(f.pd[0], kMsgs * kMiB);
    for (size_t i = 0; i < src.data.size(); ++i) src.data[i] = pattern(i, 1);
    // 8 WRITEs of 1 MiB, posted back to back (1024 packets each at MTU
    // 1024, 256 at 4096).
    for (int m = 0; m < kMsgs; ++m)
        REQUIRE(post_one(a, IBV_WR_RDMA_WRITE, {src.sge(m * kMiB, kMiB)}, m, IBV_SEND_SIGNALED,
                         dst.addr(m * kMiB), dst.mr->rkey) == 0);
    expect_success(f.cq[0], kMsgs);
    CHECK(std::memcmp(src.data.data(), dst.data.data(), src.data.size()) == 0);
    // ... and READ back, 8 READs of 1 MiB outstanding at once.
    for (int m = 0; m < kMsgs; ++m)
        REQUIRE(post_one(a, IBV_WR_RDMA_READ, {back.sge(m * kMiB, kMiB)}, 100 + m, IBV_SEND_SIGNALED,
                         dst.addr(m * kMiB), dst.mr->rkey) == 0);
    expect_success(f.cq[0], kMsgs);
    CHECK(std::memcmp(src.data.data(), back.data.data(), src.data.size()) == 0);
    // HCA 1 received the WRITEs and HCA 0 the READ responses: 8 MiB each,
    // in packets of `mtu`.  The WRITEs are paced by the window, so HCA 1
    // got less than twice that many frames (the READ requests and any
    // resent packets besides): no smaller packets.  (READ responses are
    // not paced; the switch may drop some and the READs resume, so HCA 0's
    // count has no such bound.)
    const uint64_t packets = 8 * kMiB / mtu;
    for (int i = 0; i < 2; ++i) {
        auto p = f.wire(i);
        INFO("HCA ", i, ": ", p.dump());
        CHECK(p["wire"]["rx_frames"].get<uint64_t>() >= packets);
        if (i == 1) CHECK(p["wire"]["rx_frames"].get<uint64_t>() < 2 * packets);
        CHECK(p["wire"]["rx_dropped"].get<uint64_t>() == 0);
        CHECK(p["wire"]["tx_link_drops"].get<uint64_t>() == 0);
    }
    CHECK(ibv_destroy_qp(a) == 0);
    CHECK(ibv_destroy_qp(b) == 0);
}

}  // namespace

TEST_CASE("two HCAs on a vde_switch: megabyte WRITEs and READs arrive intact" * doctest::skip(kNoVde)) {
    megabyte_writes_and_reads(1024, IBV_MTU_1024);
}

TEST_CASE("two HCAs on a jumbo-frame switch at MTU 4096: megabyte WRITEs and READs arrive intact" *
          doctest::skip(kNoVde)) {
    megabyte_writes_and_reads(4096, IBV_MTU_4096);
}

TEST_CASE("four HCAs on a vde_switch, all to all: SEND, WRITE, READ and FETCH_ADD on every pair" *
          doctest::skip(kNoVde)) {
    constexpr int kN = 4;
    Fabric f(kN);
    // qp[i][j]: HCA i's QP towards HCA j; buffers per HCA: one 16 KiB slot per peer.
    ibv_qp* qp[kN][kN]{};
    for (int i = 0; i < kN; ++i)
        for (int j = 0; j < kN; ++j)
            if (i != j) REQUIRE((qp[i][j] = f.rc(i)));
    ConnectAttr attr;
    attr.max_rd_atomic = attr.max_dest_rd_atomic = 4;
    for (int i = 0; i < kN; ++i)
        for (int j = 0; j < kN; ++j)
            if (i != j) f.connect(qp[i][j], j, qp[j][i]->qp_num, attr);
    constexpr size_t kSlot = 16384;
    std::vector<std::unique_ptr<Buffer>> tx, rx, mem, back;
    for (int i = 0; i < kN; ++i) {
        tx.push_back(std::make_unique<Buffer>(f.pd[i], kN * kSlot));
        rx.push_back(std::make_unique<Buffer>(f.pd[i], kN * kSlot));
        mem.push_back(std::make_unique<Buffer>(f.pd[i], kN * kSlot + 64));
        back.push_back(std::make_unique<Buffer>(f.pd[i], kN * kSlot + 64));
        for (size_t k = 0; k < tx[i]->data.size(); ++k) tx[i]->data[k] = pattern(k, 10 + i);
    }
    // Every HCA: a receive per peer, then a 5000-byte SEND and a 12000-byte
    // WRITE into its slot at the peer, then READ that slot back and add
    // (i+1) to the peer's counter.
    for (int i = 0; i < kN; ++i)
        for (int j = 0; j < kN; ++j)
            if (i != j) REQUIRE(post_recv_one(qp[i][j], {rx[i]->sge(j * kSlot, kSlot)}, j) == 0);
    for (int i = 0; i < kN; ++i)
        for (int j = 0; j < kN; ++j) {
            if (i == j) continue;
            REQUIRE(post_one(qp[i][j], IBV_WR_SEND, {tx[i]->sge(j * kSlot, 5000)}, 1) == 0);
            REQUIRE(post_one(qp[i][j], IBV_WR_RDMA_WRITE, {tx[i]->sge(j * kSlot, 12000)}, 2,
                             IBV_SEND_SIGNALED, mem[j]->addr(i * kSlot), mem[j]->mr->rkey) == 0);
            REQUIRE(post_one(qp[i][j], IBV_WR_RDMA_READ, {back[i]->sge(j * kSlot, 12000)}, 3,
                             IBV_SEND_SIGNALED, mem[j]->addr(i * kSlot), mem[j]->mr->rkey) == 0);
            ibv_sge s = back[i]->sge(kN * kSlot, 8);
            ibv_send_wr wr{};
            ibv_send_wr* bad = nullptr;
            wr.wr_id = 4;
            wr.sg_list = &s;
            wr.num_sge = 1;
            wr.opcode = IBV_WR_ATOMIC_FETCH_AND_ADD;
            wr.send_flags = IBV_SEND_SIGNALED;
            wr.wr.atomic.remote_addr = mem[j]->addr(kN * kSlot);
            wr.wr.atomic.rkey = mem[j]->mr->rkey;
            wr.wr.atomic.compare_add = static_cast<uint64_t>(i + 1);
            REQUIRE(ibv_post_send(qp[i][j], &wr, &bad) == 0);
        }
    // Each HCA: 4 send-side completions and 1 receive per peer.
    for (int i = 0; i < kN; ++i) expect_success(f.cq[i], (kN - 1) * 5);
    for (int i = 0; i < kN; ++i) {
        uint64_t counter = 0;
        std::memcpy(&counter, mem[i]->data.data() + kN * kSlot, 8);
        uint64_t want = 0;
        for (int j = 0; j < kN; ++j)
            if (j != i) want += static_cast<uint64_t>(j + 1);
        CHECK_MESSAGE(counter == want, "HCA ", i, "'s counter");
        for (int j = 0; j < kN; ++j) {
            if (i == j) continue;
            INFO("from HCA ", j, " to HCA ", i);
            CHECK(std::memcmp(rx[i]->data.data() + j * kSlot, tx[j]->data.data() + i * kSlot, 5000) == 0);
            CHECK(std::memcmp(mem[i]->data.data() + j * kSlot, tx[j]->data.data() + i * kSlot, 12000) == 0);
            CHECK(std::memcmp(back[j]->data.data() + i * kSlot, tx[j]->data.data() + i * kSlot, 12000) == 0);
        }
        auto p = f.wire(i);
        INFO("HCA ", i, ": ", p.dump());
        CHECK(p["wire"]["arp_entries"].get<uint64_t>() == kN - 1);
    }
    for (int i = 0; i < kN; ++i)
        for (int j = 0; j < kN; ++j)
            if (qp[i][j]) CHECK(ibv_destroy_qp(qp[i][j]) == 0);
}

TEST_CASE("the port follows the switch: PORT_ERR when it goes, PORT_ACTIVE and traffic when it is back" *
          doctest::skip(kNoVde)) {
    Fabric f(2);
    auto next_event = [&](int i) {
        REQUIRE_MESSAGE(readable(f.ctx[i]->async_fd, 10000), "no async event on HCA ", i);
        ibv_async_event ev{};
        REQUIRE(ibv_get_async_event(f.ctx[i], &ev) == 0);
        const ibv_event_type t = ev.event_type;
        CHECK(ev.element.port_num == 1);
        ibv_ack_async_event(&ev);
        return t;
    };
    auto port_state = [&](int i) {
        ibv_port_attr pa{};
        REQUIRE(ibv_query_port(f.ctx[i], 1, &pa) == 0);
        return pa.state;
    };
    for (int i = 0; i < 2; ++i) CHECK(port_state(i) == IBV_PORT_ACTIVE);
    f.sw.stop();
    for (int i = 0; i < 2; ++i) {
        CHECK(next_event(i) == IBV_EVENT_PORT_ERR);
        CHECK(port_state(i) == IBV_PORT_DOWN);
    }
    f.sw.start();  // the same path: the devices reconnect on their own
    for (int i = 0; i < 2; ++i) {
        CHECK(next_event(i) == IBV_EVENT_PORT_ACTIVE);
        CHECK(port_state(i) == IBV_PORT_ACTIVE);
    }
    ibv_qp* a = f.rc(0);
    ibv_qp* b = f.rc(1);
    REQUIRE(a);
    REQUIRE(b);
    f.connect(a, 1, b->qp_num);
    f.connect(b, 0, a->qp_num);
    Buffer src(f.pd[0], 4096, kAllAccess, 0x5a), dst(f.pd[1], 4096);
    REQUIRE(post_recv_one(b, {dst.sge(0, 4096)}, 1) == 0);
    REQUIRE(post_one(a, IBV_WR_SEND, {src.sge(0, 3000)}, 2) == 0);
    expect_success(f.cq[0], 1);
    expect_success(f.cq[1], 1);
    CHECK(std::memcmp(src.data.data(), dst.data.data(), 3000) == 0);
    CHECK(ibv_destroy_qp(a) == 0);
    CHECK(ibv_destroy_qp(b) == 0);
}
