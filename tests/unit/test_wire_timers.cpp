// The wire's timers on the test clock: two HCAs (firmware + engine + wire
// port, tests/unit/engine_driver.h) joined by an in-memory Ethernet cable,
// on one TestClock that the test moves to the next deadline.  ARP
// resolution and its give-up time, RC retransmission after the ACK
// timeout (IBTA 9.7.6.1) and the RNR timer (IBTA 9.7.5.2.8) run through
// the platform interface's clock (device/platform.h), without sleeping,
// and so also under the sanitizers, where a device process cannot open a
// libvdeplug link.
#include "device/wire_port.h"
#include "tests/unit/engine_driver.h"

#include <deque>
#include <functional>

using namespace hcasim;
using namespace hcasim::test;

namespace {

constexpr uint8_t kSuccess = 0, kRetryExcErr = 12;  // ibv_wc_status
constexpr uint8_t kSend = 2;                         // ibv_wr_opcode

// One end of an in-memory Ethernet cable.  What is sent here waits in the
// other end's inbox until that port drains it; `drop` (if set) decides,
// frame by frame, which ones the cable loses.
struct CableEnd final : device::FrameLink {
    CableEnd* peer = nullptr;
    std::deque<std::vector<uint8_t>> inbox;
    std::function<bool(const uint8_t* frame, size_t len)> drop;
    uint64_t sent = 0, lost = 0;

    SendResult send(const uint8_t* frame, size_t len) override {
        if (drop && drop(frame, len)) {
            ++lost;
            return SendResult::Sent;
        }
        ++sent;
        peer->inbox.emplace_back(frame, frame + len);
        return SendResult::Sent;
    }
    bool up() const override { return true; }
    size_t drain(const OnFrame& on_frame) override {
        size_t n = 0;
        while (!inbox.empty()) {
            const std::vector<uint8_t> f = std::move(inbox.front());
            inbox.pop_front();
            on_frame(f.data(), f.size());
            ++n;
        }
        return n;
    }
};

bool is_arp(const uint8_t* f, size_t len) { return len >= 14 && f[12] == 0x08 && f[13] == 0x06; }

device::PortConfig port_cfg(uint8_t host) {
    device::PortConfig c;
    c.mac = {0x02, 0x48, 0x43, 0x00, 0x00, host};
    c.ipv4 = 0x0a4d0000u | host;  // 10.77.0.host
    return c;
}

// A QP with its PD, async EQ, CQ and a registered 64 KiB buffer on one HCA.
struct End {
    uint32_t pdn = 0;
    EqH aeq;
    CqH cq;
    QpH qp;
    MrH mr;
    End(EngineDriver& d) {
        pdn = d.pd(0);
        aeq = d.eq(0);
        cq = d.cq(0, aeq.eqn);
        qp = d.qp(0, qpt::kRc, pdn, cq.cqn, cq.cqn, aeq.eqn);
        mr = d.mr(0, pdn, 64 * 1024);
    }
    hcasim_wqe_sge sge(uint32_t off, uint32_t len) const { return {mr.addr + off, len, mr.key}; }
};

// Two HCAs on one cable and one clock, an RC QP on each, connected.
struct WirePair {
    TestClock clock;
    EngineDriver a{&clock, port_cfg(1)}, b{&clock, port_cfg(2)};
    CableEnd ca, cb;
    device::WirePort pa{a.eng(), ca, nullptr, {}, a.trace};
    device::WirePort pb{b.eng(), cb, nullptr, {}, b.trace};
    End ea{a}, eb{b};

    explicit WirePair(const ConnOpts& conn = {}) {
        ca.peer = &cb;
        cb.peer = &ca;
        a.set_backend(&pa);
        b.set_backend(&pb);
        const hcasim_ah_attr to_b = EngineDriver::av_to(b.eng().gid(1)), to_a = EngineDriver::av_to(a.eng().gid(1));
        a.connect(ea.qp, eb.qp.qpn, conn, &to_b);
        b.connect(eb.qp, ea.qp.qpn, conn, &to_a);
    }
    ~WirePair() {
        a.set_backend(nullptr);
        b.set_backend(nullptr);
    }

    static bool step(EngineDriver& d, device::WirePort& p) {
        p.drain_arrived();
        d.eng().flush_rx();
        bool work = p.poll();
        work = d.eng().poll() || work;
        return work;
    }
    // Runs both HCAs until neither has work and the cable is empty (bounded).
    void run() {
        for (int i = 0; i < 100000; ++i) {
            const bool work = step(a, pa) | step(b, pb);
            if (!work && ca.inbox.empty() && cb.inbox.empty()) return;
        }
        FAIL("the HCAs never went quiet");
    }
    uint64_t next_deadline() {
        uint64_t d = 0;
        for (uint64_t x : {a.eng().next_deadline(), b.eng().next_deadline(), pa.next_deadline(), pb.next_deadline()})
            if (x && (!d || x < d)) d = x;
        return d;
    }
    // Runs, then moves the clock to each next deadline until pred() holds
    // or no deadline is left (bounded).
    template <class Pred>
    bool run_until(Pred pred, int max_timers = 1000) {
        run();
        for (int i = 0; i < max_timers && !pred(); ++i) {
            const uint64_t d = next_deadline();
            if (!d) break;
            clock.now = std::max(clock.now, d);
            run();
        }
        return pred();
    }
    // Runs until `d`'s CQ `c` holds a completion; returns what it got.
    std::vector<hcasim_cqe> wait_cqe(EngineDriver& d, CqH& c) {
        std::vector<hcasim_cqe> got;
        REQUIRE(run_until([&] {
            for (auto& x : d.cqes(c)) got.push_back(x);
            return !got.empty();
        }));
        return got;
    }
};

}  // namespace

TEST_CASE("wire on the test clock: a SEND resolves ARP first, then arrives intact") {
    WirePair w;
    std::memset(w.ea.mr.host, 0x5a, 4096);
    w.b.post_recv(w.eb.qp, 7, {w.eb.sge(0, 4096)});
    w.a.post(w.ea.qp, {wqe(kSend, 1, {w.ea.sge(0, 4096)})});
    std::vector<hcasim_cqe> got_a, got_b;
    REQUIRE(w.run_until([&] {
        for (auto& c : w.a.cqes(w.ea.cq)) got_a.push_back(c);
        for (auto& c : w.b.cqes(w.eb.cq)) got_b.push_back(c);
        return !got_a.empty() && !got_b.empty();
    }));
    CHECK(got_a[0].status == kSuccess);
    CHECK(got_b[0].status == kSuccess);
    CHECK(got_b[0].byte_len == 4096);
    CHECK(std::all_of(w.eb.mr.host, w.eb.mr.host + 4096, [](uint8_t x) { return x == 0x5a; }));
    CHECK(w.pa.stats().tx_arp_queued >= 1);  // the first frame waited for the ARP reply
    CHECK(w.a.eng().stats().ack_timeouts == 0);
}

TEST_CASE("wire on the test clock: a lost request is sent again when the ACK timeout expires, not before") {
    ConnOpts conn;
    conn.timeout = 14;  // 4.096 us * 2^14 = 67.1 ms
    WirePair w(conn);
    bool lost_one = false;
    w.ca.drop = [&](const uint8_t* f, size_t len) {
        if (is_arp(f, len) || lost_one) return false;
        lost_one = true;  // the SEND's only packet
        return true;
    };
    w.b.post_recv(w.eb.qp, 7, {w.eb.sge(0, 64)});
    const uint64_t t0 = w.clock.now;
    w.a.post(w.ea.qp, {wqe(kSend, 1, {w.ea.sge(0, 64)})});
    const std::vector<hcasim_cqe> got = w.wait_cqe(w.a, w.ea.cq);
    CHECK(got[0].status == kSuccess);
    CHECK(w.ca.lost == 1);
    CHECK(w.a.eng().stats().ack_timeouts == 1);
    CHECK(w.clock.now - t0 >= 4096ull << 14);  // not before the timeout
    CHECK(w.b.cqes(w.eb.cq).size() == 1);         // delivered once
}

TEST_CASE("wire on the test clock: RNR NAKs wait out the RNR timer until a receive is posted") {
    WirePair w;  // rnr_retry 7: retry forever; min_rnr_timer 1 (0.01 ms)
    w.a.post(w.ea.qp, {wqe(kSend, 1, {w.ea.sge(0, 3000)})});  // 3 packets
    // Let it meet the empty receive queue a few times on the test clock.
    const uint64_t t0 = w.clock.now;
    w.run_until([&] { return w.b.eng().stats().rnr_naks >= 5; });
    CHECK(w.b.eng().stats().rnr_naks >= 5);
    CHECK(w.a.cqes(w.ea.cq).empty());
    CHECK(w.clock.now - t0 >= 4 * 10'000ull);  // each round waited the RNR timer
    w.b.post_recv(w.eb.qp, 9, {w.eb.sge(0, 4096)});
    const std::vector<hcasim_cqe> got = w.wait_cqe(w.a, w.ea.cq);
    CHECK(got[0].status == kSuccess);
    const auto r = w.b.cqes(w.eb.cq);
    REQUIRE(r.size() == 1);
    CHECK(r[0].byte_len == 3000);
    CHECK(w.a.eng().stats().ack_timeouts == 0);
    CHECK(w.b.eng().stats().naks == 0);  // RNR NAKs only, no sequence NAK
}

TEST_CASE("wire on the test clock: a peer that never answers ARP costs the frames, then RETRY_EXC_ERR") {
    ConnOpts conn;
    conn.timeout = 18;   // 1.07 s: each try outlives the ARP hold time
    conn.retry_cnt = 1;
    WirePair w(conn);
    w.cb.drop = [](const uint8_t*, size_t) { return true; };  // b says nothing, ARP replies included
    w.a.post(w.ea.qp, {wqe(kSend, 1, {w.ea.sge(0, 64)})});
    const std::vector<hcasim_cqe> got = w.wait_cqe(w.a, w.ea.cq);
    CHECK(got[0].status == kRetryExcErr);
    const device::WireStats& s = w.pa.stats();
    CHECK(s.tx_arp_queued >= 2);  // the first try and the retry each waited
    CHECK(s.tx_arp_miss >= 2);    // and each was dropped after kArpHoldNs
    CHECK(w.a.eng().stats().ack_timeouts == 2);  // retry_cnt 1: two timeouts end it
    CHECK(w.cb.lost >= 2);        // b's ARP replies never arrived
}
