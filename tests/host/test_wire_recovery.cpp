// Host-direct: RC recovery between two HCAs on a ptp:// wire, as a user
// meets it (issue 17).  RNR on single- and multi-packet messages waits
// as long as rnr_retry allows (7: for ever) and charges nothing else;
// reordering alone costs a bounded amount of extra traffic; loss,
// reordering and duplication together never fail an operation, never
// corrupt data and never execute an atomic twice.  And a responder that
// sends an RNR NAK followed by a PSN-sequence NAK for the same PSN (as
// Linux rxe does) is survived: the test process plays that responder.
//
// Source: IBTA vol 1 9.7.5.2 (ACK/NAK, retry), 9.7.5.2.8 (RNR), 9.7.5.1.2
// (duplicates: atomics answered from the responder resources).
#include "device/arp_table.h"
#include "device/opcodes.h"
#include "device/roce_frame.h"
#include "tests/host/rdma_fixture.h"
#include "tests/host/wire_pair.h"
#include "tests/host/wire_support.h"

#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

using namespace hcasim::test;
namespace dev = hcasim::device;

namespace {

constexpr size_t kMiB = 1 << 20;

// One HCA's buffers for the rounds below.
struct RoundBuffers {
    explicit RoundBuffers(ibv_pd* pd)
        : src(pd, kMiB), dst(pd, kMiB), wdst(pd, kMiB), rsrc(pd, kMiB), rdst(pd, kMiB), words(pd, 64) {}
    Buffer src, dst, wdst, rsrc, rdst, words;
};

ibv_send_wr atomic_wr(ibv_sge* s, ibv_wr_opcode op, uint64_t id, uint64_t remote, uint32_t rkey,
                      uint64_t compare_add, uint64_t swap) {
    ibv_send_wr wr{};
    wr.wr_id = id;
    wr.sg_list = s;
    wr.num_sge = 1;
    wr.opcode = op;
    wr.send_flags = IBV_SEND_SIGNALED;
    wr.wr.atomic.remote_addr = remote;
    wr.wr.atomic.rkey = rkey;
    wr.wr.atomic.compare_add = compare_add;
    wr.wr.atomic.swap = swap;
    return wr;
}

// `n` rounds from a to b of a 1 MiB SEND, a 1 MiB WRITE, a 1 MiB READ and
// three atomics (FETCH_ADD, CMP_SWAP, FETCH_ADD on one word), all posted
// at once.  Every completion must be a success in order, every byte
// exact, and each atomic must return exactly the value it would if each
// executed once.
void rounds(WireRc& w, uint32_t n) {
    auto a = std::make_unique<RoundBuffers>(w.pd[0]);
    auto b = std::make_unique<RoundBuffers>(w.pd[1]);
    uint64_t word = 1000;
    std::memcpy(b->words.data.data(), &word, 8);
    for (uint32_t r = 0; r < n; ++r) {
        INFO("round ", r);
        for (size_t i = 0; i < kMiB; ++i) {
            a->src.data[i] = static_cast<uint8_t>(i * 7 + r * 13 + (i >> 10));
            b->rsrc.data[i] = static_cast<uint8_t>(i * 11 + r * 5 + (i >> 12));
        }
        REQUIRE(post_recv_one(w.b, {b->dst.sge(0, kMiB)}, 100 + r) == 0);
        REQUIRE(post_one(w.a, IBV_WR_SEND, {a->src.sge(0, kMiB)}, 1) == 0);
        REQUIRE(post_one(w.a, IBV_WR_RDMA_WRITE, {a->src.sge(0, kMiB)}, 2, IBV_SEND_SIGNALED,
                         b->wdst.addr(), b->wdst.mr->rkey) == 0);
        REQUIRE(post_one(w.a, IBV_WR_RDMA_READ, {a->rdst.sge(0, kMiB)}, 3, IBV_SEND_SIGNALED, b->rsrc.addr(),
                         b->rsrc.mr->rkey) == 0);
        ibv_sge s[3] = {a->words.sge(0, 8), a->words.sge(8, 8), a->words.sge(16, 8)};
        ibv_send_wr at[3] = {
            atomic_wr(&s[0], IBV_WR_ATOMIC_FETCH_AND_ADD, 4, b->words.addr(), b->words.mr->rkey, 1, 0),
            atomic_wr(&s[1], IBV_WR_ATOMIC_CMP_AND_SWP, 5, b->words.addr(), b->words.mr->rkey, word + 1,
                      word + 1000),
            atomic_wr(&s[2], IBV_WR_ATOMIC_FETCH_AND_ADD, 6, b->words.addr(), b->words.mr->rkey, 1, 0)};
        at[0].next = &at[1];
        at[1].next = &at[2];
        ibv_send_wr* bad = nullptr;
        REQUIRE(ibv_post_send(w.a, at, &bad) == 0);
        auto wc = poll_cq(w.cq[0], 6, 60000);
        REQUIRE(wc.size() == 6);
        for (size_t i = 0; i < 6; ++i) {
            REQUIRE_MESSAGE(wc[i].status == IBV_WC_SUCCESS, status_str(wc[i]), " wr_id ", wc[i].wr_id);
            REQUIRE(wc[i].wr_id == i + 1);
        }
        auto rc = poll_cq(w.cq[1], 1, 60000);
        REQUIRE(rc.size() == 1);
        REQUIRE_MESSAGE(rc[0].status == IBV_WC_SUCCESS, status_str(rc[0]));
        REQUIRE(rc[0].byte_len == kMiB);
        REQUIRE(std::memcmp(a->src.data.data(), b->dst.data.data(), kMiB) == 0);
        REQUIRE(std::memcmp(a->src.data.data(), b->wdst.data.data(), kMiB) == 0);
        REQUIRE(std::memcmp(b->rsrc.data.data(), a->rdst.data.data(), kMiB) == 0);
        uint64_t got[3], now = 0;
        std::memcpy(got, a->words.data.data(), 24);
        std::memcpy(&now, b->words.data.data(), 8);
        REQUIRE(got[0] == word);
        REQUIRE(got[1] == word + 1);
        REQUIRE(got[2] == word + 1000);
        REQUIRE(now == word + 1001);  // each atomic executed exactly once
        word = now;
    }
}

// Frames both ports put on the wire (after the fault injector: lost
// frames are not counted, duplicated ones are).
uint64_t frames_on_wire(Wire& w) {
    return w.port(0)["wire"]["tx_frames"].get<uint64_t>() + w.port(1)["wire"]["tx_frames"].get<uint64_t>();
}

// ConnectAttr's defaults (timeout 14: 67 ms, retry_cnt 7, rnr_retry 7),
// four READs or atomics outstanding.
ConnectAttr rounds_attr() {
    ConnectAttr attr;
    attr.max_rd_atomic = 4;
    attr.max_dest_rd_atomic = 4;
    return attr;
}

std::vector<std::string> faults(const std::string& spec) { return {"--wire-faults", spec}; }

}  // namespace

TEST_CASE("reordering alone: 40 rounds of 1 MiB READ, SEND, WRITE and atomics, at most twice the frames" *
          doctest::skip(kNoVde)) {
    uint64_t clean = 0;
    {
        WireRc w(rounds_attr(), {}, {}, {}, false);
        rounds(w, 40);
        clean = frames_on_wire(w);
    }
    WireRc w(rounds_attr(), faults("reorder=0.03,seed=21"), faults("reorder=0.03,seed=22"), {}, false);
    rounds(w, 40);
    const uint64_t reordered = frames_on_wire(w);
    auto pa = w.port(0), pb = w.port(1);
    INFO(pa.dump());
    INFO(pb.dump());
    MESSAGE("frames on the wire: ", reordered, " with 3% reordering, ", clean, " without faults");
    CHECK(pa["wire"]["faults"]["reordered"].get<uint64_t>() > 1000);
    CHECK(pb["wire"]["faults"]["reordered"].get<uint64_t>() > 100);
    CHECK(reordered <= 2 * clean);
}

TEST_CASE("loss, reordering and duplication: 40 rounds all succeed, exact data, no atomic twice" *
          doctest::skip(kNoVde)) {
    ConnectAttr attr = rounds_attr();
    attr.retry_cnt = 7;
    WireRc w(attr, faults("loss=0.03,reorder=0.03,dup=0.01,seed=31"),
             faults("loss=0.03,reorder=0.03,dup=0.01,seed=32"), {}, false);
    rounds(w, 40);
    auto pa = w.port(0), pb = w.port(1);
    INFO(pa.dump());
    INFO(pb.dump());
    for (auto* p : {&pa, &pb}) {
        CHECK((*p)["wire"]["faults"]["lost"].get<uint64_t>() > 100);
        CHECK((*p)["wire"]["faults"]["duplicated"].get<uint64_t>() > 10);
    }
    CHECK(pa["engine"]["retries"].get<uint64_t>() > 0);
    MESSAGE("engine a: ", pa["engine"].dump(), " engine b: ", pb["engine"].dump());
}

namespace {

// A SEND or WRITE_WITH_IMM of `len` bytes from a to b, whose receive b
// posts only 200 ms later.  Returns a's completion; b's is checked.
ibv_wc late_receive(WireRc& w, ibv_wr_opcode op, uint32_t len) {
    auto src = std::make_unique<Buffer>(w.pd[0], len);
    auto dst = std::make_unique<Buffer>(w.pd[1], len);
    for (uint32_t i = 0; i < len; ++i) src->data[i] = static_cast<uint8_t>(i * 3 + len);
    const bool imm = op == IBV_WR_RDMA_WRITE_WITH_IMM;
    REQUIRE(post_one(w.a, op, {src->sge(0, len)}, 1, IBV_SEND_SIGNALED, imm ? dst->addr() : 0,
                     imm ? dst->mr->rkey : 0, htonl(0x1234)) == 0);
    // The stimulus, not a wait for an outcome: the receive comes late.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ibv_wc early{};
    const int done_early = ibv_poll_cq(w.cq[0], 1, &early);
    REQUIRE(done_early >= 0);
    REQUIRE(post_recv_one(w.b, {dst->sge(0, len)}, 2) == 0);
    std::vector<ibv_wc> wc = done_early ? std::vector<ibv_wc>{early} : poll_cq(w.cq[0], 1, 20000);
    REQUIRE(wc.size() == 1);
    if (wc[0].status == IBV_WC_SUCCESS) {
        const bool waiting = done_early == 0;
        CHECK(waiting);  // it waited for the receive
        auto rc = poll_cq(w.cq[1], 1);
        REQUIRE(rc.size() == 1);
        CHECK_MESSAGE(rc[0].status == IBV_WC_SUCCESS, status_str(rc[0]));
        CHECK(rc[0].byte_len == len);
        if (imm) CHECK(rc[0].imm_data == htonl(0x1234));
        CHECK(std::memcmp(src->data.data(), dst->data.data(), len) == 0);
    }
    return wc[0];
}

}  // namespace

TEST_CASE("RNR with rnr_retry 7: SENDs of 1, 16 and 1024 packets and a WRITE_WITH_IMM wait for a late receive" *
          doctest::skip(kNoVde)) {
    struct Case {
        ibv_wr_opcode op;
        uint32_t len;
    };
    for (Case c : {Case{IBV_WR_SEND, 1000}, Case{IBV_WR_SEND, 16 * 1024}, Case{IBV_WR_SEND, 1024 * 1024},
                   Case{IBV_WR_RDMA_WRITE_WITH_IMM, 16 * 1024}}) {
        INFO("opcode ", c.op, " length ", c.len);
        ConnectAttr attr;
        attr.rnr_retry = 7;
        attr.retry_cnt = 7;
        attr.min_rnr_timer = 12;  // 0.64 ms
        WireRc w(attr, {}, {}, {}, false);
        const ibv_wc wc = late_receive(w, c.op, c.len);
        CHECK_MESSAGE(wc.status == IBV_WC_SUCCESS, status_str(wc));
        auto pa = w.port(0), pb = w.port(1);
        INFO(pa.dump());
        INFO(pb.dump());
        // RNR rounds (how many depends on how fast this host runs), each
        // one RNR NAK and no sequence NAK after it.
        CHECK(pb["engine"]["rnr_naks"].get<uint64_t>() >= 2);
        CHECK(pb["engine"]["naks"].get<uint64_t>() == 0);
    }
}

TEST_CASE("RNR with rnr_retry 3: the send ends in IBV_WC_RNR_RETRY_EXC_ERR" * doctest::skip(kNoVde)) {
    for (uint32_t len : {1000u, 16u * 1024}) {
        INFO("length ", len);
        ConnectAttr attr;
        attr.rnr_retry = 3;
        attr.retry_cnt = 7;
        attr.min_rnr_timer = 12;  // 0.64 ms
        WireRc w(attr, {}, {}, {}, false);
        const ibv_wc wc = late_receive(w, IBV_WR_SEND, len);
        CHECK_MESSAGE(wc.status == IBV_WC_RNR_RETRY_EXC_ERR, status_str(wc));
        CHECK(w.port(1)["engine"]["rnr_naks"].get<uint64_t>() == 4);  // the try and 3 retries
    }
}

namespace {

// 3000 SENDs of 1 to 3 packets (and a READ every tenth) from a to b, at
// most 32 outstanding, both directions losing 1%, reordering 1% and
// duplicating 0.5% of the frames (ACKs too), a retransmission after 16 ms:
// every message arrives once, in order, intact, and every completion is
// a success.
void lossy_wire(uint32_t seed) {
    const std::vector<std::string> faults_a = {
        "--wire-faults", "loss=0.01,reorder=0.01,dup=0.005,seed=" + std::to_string(seed)};
    const std::vector<std::string> faults_b = {
        "--wire-faults", "loss=0.01,reorder=0.01,dup=0.005,seed=" + std::to_string(seed + 1)};
    ConnectAttr attr;
    // 4.096 µs * 2^12 = 16 ms before a retransmission: eight in a row
    // without progress (128 ms) end the QP, and a host busy enough to stall
    // a device that long fails any RC peer with such a timeout.
    attr.timeout = 12;
    attr.retry_cnt = 7;
    attr.max_rd_atomic = 4;
    attr.max_dest_rd_atomic = 4;
    QpCaps caps;
    caps.send_wr = 128;
    caps.recv_wr = 128;
    WireRc w(attr, faults_a, faults_b, caps, false);
    // On a failure: both ports' counters (asked only then).
    INFO("port a: ", w.port(0).dump());
    INFO("port b: ", w.port(1).dump());
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
    // (b sends only ACKs, and how many depends on how they coalesce.)
    CHECK(pa["wire"]["faults"]["lost"].get<uint64_t>() > 20);
    CHECK(pa["wire"]["faults"]["reordered"].get<uint64_t>() > 20);
    CHECK(pb["wire"]["faults"]["lost"].get<uint64_t>() + pb["wire"]["faults"]["reordered"].get<uint64_t>() > 0);
    CHECK(pa["engine"]["retries"].get<uint64_t>() > 0);
}

// A CPU hog on every core, as on a busy CI machine: one child process per
// online CPU spinning until this object goes (or this process dies).
class CpuHog {
public:
    CpuHog() {
        const long n = std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
        for (long i = 0; i < n; ++i) {
            const pid_t pid = ::fork();
            REQUIRE(pid >= 0);
            if (pid == 0) {
                ::prctl(PR_SET_PDEATHSIG, SIGKILL);
                volatile uint64_t x = 0;
                for (;;) x = x + 1;
            }
            pids_.push_back(pid);
        }
    }
    ~CpuHog() {
        for (pid_t pid : pids_) ::kill(pid, SIGKILL);
        for (pid_t pid : pids_) ::waitpid(pid, nullptr, 0);
    }
    CpuHog(const CpuHog&) = delete;
    CpuHog& operator=(const CpuHog&) = delete;

private:
    std::vector<pid_t> pids_;
};

}  // namespace

TEST_CASE("a lossy, reordering wire: thousands of RC messages arrive once, in order, intact" *
          doctest::skip(kNoVde)) {
    lossy_wire(11);
}

TEST_CASE("a lossy, reordering wire under load: 20 runs in a row beside a CPU hog on every core" *
          doctest::skip(kNoVde)) {
    CpuHog hog;
    for (uint32_t run = 0; run < 20; ++run) {
        INFO("run ", run);
        lossy_wire(100 + 2 * run);
    }
}

TEST_CASE("a responder that follows each RNR NAK with a sequence NAK (as rxe does) is survived" *
          doctest::skip(kNoVde)) {
    // The test process is the responder, QPN 0x42 at 10.77.0.2: for ten
    // rounds it answers the first packet of a 16-packet SEND with an RNR
    // NAK and the second with a PSN-sequence NAK for the same PSN; then
    // it takes the message and ACKs it.  With retry_cnt 2, charging the
    // echoes would end the send after three rounds.
    const dev::Mac dev_mac{0x02, 0, 0, 0x77, 0, 0x01}, peer_mac{0x02, 0, 0, 0x77, 0, 0x02};
    const dev::Gid dev_gid{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 77, 0, 1};
    const dev::Gid peer_gid{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 77, 0, 2};
    LinkPeer lp("rnr-echo", "02:00:00:77:00:01", "10.77.0.1", 64);
    ibv_qp* qp = create_qp(lp.pd, lp.cq, lp.cq, IBV_QPT_RC);
    REQUIRE(qp);
    ibv_gid gid{};
    std::memcpy(gid.raw, peer_gid.data(), 16);
    ConnectAttr attr;
    attr.dgid = &gid;
    attr.retry_cnt = 2;
    attr.rnr_retry = 7;
    attr.timeout = 14;  // 67 ms: no ACK timeout in this exchange
    REQUIRE(connect_qp(qp, 0x42, attr) == 0);
    auto src = std::make_unique<Buffer>(lp.pd, 16 * 1024);
    REQUIRE(post_one(qp, IBV_WR_SEND, {src->sge(0, 16 * 1024)}, 9) == 0);

    auto reply = [&](uint32_t psn, uint8_t syndrome, uint32_t msn) {
        dev::Packet a;
        a.opcode = dev::bth::kAck;
        a.psn = psn;
        a.syndrome = syndrome;
        a.msn = msn;
        a.dest_qp = qp->qp_num;
        a.sgid = peer_gid;
        a.dgid = dev_gid;
        dev::FrameAddress fa;
        fa.src_mac = peer_mac;
        fa.dst_mac = dev_mac;
        std::vector<uint8_t> f;
        REQUIRE(dev::build_roce_frame(a, fa, f) == dev::FrameError::None);
        REQUIRE(vde_send(lp.peer, f.data(), f.size(), 0) > 0);
    };
    constexpr uint32_t kRounds = 10;
    uint32_t round = 0, rnr = 0, seq = 0, received = 0;
    bool echoed = false, acked = false;
    std::vector<ibv_wc> wc;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (wc.empty() && std::chrono::steady_clock::now() < deadline) {
        ibv_wc c{};
        if (ibv_poll_cq(lp.cq, 1, &c) == 1) {
            wc.push_back(c);
            break;
        }
        pollfd pf{vde_datafd(lp.peer), POLLIN, 0};
        if (::poll(&pf, 1, 10) <= 0) continue;
        uint8_t buf[9000];
        const ssize_t n = vde_recv(lp.peer, buf, sizeof buf, 0);
        if (n < 14) continue;
        if (buf[12] == 0x08 && buf[13] == 0x06) {  // ARP: who has 10.77.0.2?
            const auto r = dev::ArpTable::build(2, peer_mac, 0x0a4d0002, dev_mac, 0x0a4d0001);
            REQUIRE(vde_send(lp.peer, r.data(), r.size(), 0) > 0);
            continue;
        }
        dev::Packet p;
        if (dev::parse_roce_frame(buf, static_cast<size_t>(n), p) != dev::FrameError::None) continue;
        if (round < kRounds) {
            if (p.psn == 0) {
                ++round;
                ++rnr;
                echoed = false;
                reply(0, static_cast<uint8_t>(dev::aeth::kRnrNak | 12), 0);  // 0.64 ms
            } else if (!echoed) {
                echoed = true;
                ++seq;
                reply(0, dev::aeth::kNakPsnSeq, 0);
            }
            continue;
        }
        if (p.psn == received) ++received;  // the message, in order
        if (received == 16 && !acked) {
            acked = true;
            reply(15, dev::aeth::kAck, 1);
        }
    }
    REQUIRE(wc.size() == 1);
    CHECK_MESSAGE(wc[0].status == IBV_WC_SUCCESS, status_str(wc[0]));
    CHECK(wc[0].wr_id == 9);
    CHECK(rnr == kRounds);
    // More echoes than retry_cnt + 1: charged, they would have ended it.
    // (A round whose later packets had not left yet carries none.)
    CHECK(seq > attr.retry_cnt + 1u);
    CHECK(received == 16);
    CHECK(ibv_destroy_qp(qp) == 0);
}
