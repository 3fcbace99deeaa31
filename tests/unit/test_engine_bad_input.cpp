// Bad input to the data path (issue 6, section 7): malformed send WQEs
// written straight into the SQ ring, doorbell records beyond their ring,
// SGEs and queue pages outside guest RAM, CQ overrun, and the QP of a
// dead owner.  Each gives an error CQE, an async event or a firmware
// status (as mlx5 would), never a crash and never an access outside the
// DMA maps, and the device keeps serving the other QPs.
//
// The harness drives the firmware and the engine directly: guest RAM is a
// memfd mapped into a DmaSpace, queues are created with firmware commands
// whose page lists sit in that RAM, WQEs and doorbell records are written
// by hand, and the engine is polled until it is quiet (the shared driver,
// tests/unit/engine_driver.h).  Time is a clock the test advances to the
// engine's next timer.  Status and event numbers are rdma-core's, written
// out here (not taken from the device).
#include "tests/unit/engine_driver.h"

using namespace hcasim;
using namespace hcasim::firmware;
using namespace hcasim::test;

namespace {

using Hca = EngineDriver;

// ibv_wc_status
constexpr uint8_t kSuccess = 0, kLocLenErr = 1, kLocQpOpErr = 2, kLocProtErr = 4, kFlushErr = 5,
                  kRemAccessErr = 10, kRemOpErr = 11, kRetryExcErr = 12;
// ibv_event_type
constexpr uint8_t kEvCqErr = 0, kEvQpFatal = 1, kEvQpAccessErr = 3, kEvSrqErr = 14,
                  kEvLastWqe = 16;
// ibv_wr_opcode
constexpr uint8_t kWrite = 0, kSend = 2, kRead = 4, kFetchAdd = 6;

Event async(uint8_t ev, uint32_t obj) { return {HCASIM_EVENT_ASYNC, ev, obj}; }

std::string statuses(const std::vector<hcasim_cqe>& v) {
    std::string s;
    for (const auto& c : v) s += fmt::format("[wr_id={:#x} status={} qpn={:#x}] ", c.wr_id, c.status, c.qpn);
    return s;
}

// One channel with: an async EQ; QPs a -> b (type chosen) with a's send
// CQ, a's receive CQ, b's CQ; and a healthy RC pair u <-> v on their own
// CQ; one registered buffer.
struct World : Hca {
    uint32_t pdn = 0;
    EqH aeq;
    CqH cq_a, cq_ar, cq_b, cq_o;
    QpH a, b, u, v;
    MrH buf;

    explicit World(uint32_t type = qpt::kRc, QpOpts ao = {}) {
        pdn = pd(0);
        aeq = eq(0);
        cq_a = cq(0, aeq.eqn);
        cq_ar = cq(0, aeq.eqn);
        cq_b = cq(0, aeq.eqn);
        cq_o = cq(0, aeq.eqn);
        a = qp(0, type, pdn, cq_a.cqn, cq_ar.cqn, aeq.eqn, 0, ao);
        b = qp(0, type, pdn, cq_b.cqn, cq_b.cqn, aeq.eqn);
        u = qp(0, qpt::kRc, pdn, cq_o.cqn, cq_o.cqn, aeq.eqn);
        v = qp(0, qpt::kRc, pdn, cq_o.cqn, cq_o.cqn, aeq.eqn);
        connect(a, b.qpn);
        connect(b, a.qpn);
        connect(u, v.qpn);
        connect(v, u.qpn);
        buf = mr(0, pdn, 64 * 1024);
    }
    hcasim_wqe_sge sge(uint64_t off, uint32_t len) const { return {buf.addr + off, len, buf.key}; }
    hcasim_wqe_ud av_to(const QpH& q) {
        hcasim_wqe_ud ud{};
        const hcasim_ah_attr av = self_av();
        std::memcpy(ud.dgid, av.dgid, 16);
        ud.is_global = 1;
        ud.sgid_index = 1;
        ud.hop_limit = 64;
        ud.port_num = 1;
        ud.remote_qpn = q.qpn;
        ud.remote_qkey = 0x11111111;
        return ud;
    }

    // u <-> v still carry a WRITE and a SEND, data checked.
    void healthy(uint8_t fill = 0x5a) {
        std::memset(buf.host + 60000, fill, 512);
        std::memset(buf.host + 61000, 0, 1024);
        Wqe w = wqe(kWrite, 0x71, {sge(60000, 256)});
        w.raddr = {buf.addr + 61000, buf.key, 0};
        post_recv(v, 0x72, {sge(62000, 512)});
        post(u, {w, wqe(kSend, 0x73, {sge(60000, 512)})});
        run();
        auto cu = cqes(cq_o);
        REQUIRE_MESSAGE(cu.size() == 3, statuses(cu));
        for (const auto& c : cu) CHECK_MESSAGE(c.status == kSuccess, statuses(cu));
        CHECK(buf.host[61000 + 255] == fill);
        CHECK(buf.host[61000 + 256] == 0);
        CHECK(buf.host[62000 + 511] == fill);
        CHECK(state(u) == qps::kRts);
        CHECK(state(v) == qps::kRts);
    }
};

// Another owner (command channel 1, its own arena and map): a PD, an
// async EQ, a CQ, an RC QP d on it, a registered buffer.
struct Other {
    explicit Other(World& w)
        : pdn(w.pd(1)),
          eq(w.eq(1)),
          cq(w.cq(1, eq.eqn)),
          d(w.qp(1, qpt::kRc, pdn, cq.cqn, cq.cqn, eq.eqn)),
          m(w.mr(1, pdn, 8192)) {}
    uint32_t pdn;
    EqH eq;
    CqH cq;
    QpH d;
    MrH m;
};

struct BadWqe {
    const char* what;
    uint32_t type;
    uint8_t status;
    Wqe (*make)(World&);
};

const BadWqe kBadWqes[] = {
    {"unknown opcode", qpt::kRc, kLocQpOpErr,
     [](World& w) { return wqe(0x7f, 0xbad, {w.sge(0, 8)}, 0); }},
    {"SEND_WITH_INV (not supported)", qpt::kRc, kLocQpOpErr,
     [](World& w) { return wqe(9, 0xbad, {w.sge(0, 8)}, 0); }},
    {"num_sge above the QP's max_send_sge", qpt::kRc, kLocQpOpErr,
     [](World& w) { return wqe(kSend, 0xbad, {w.sge(0, 8), w.sge(8, 8), w.sge(16, 8)}, 0); }},
    {"num_sge beyond the stride", qpt::kRc, kLocQpOpErr,
     [](World& w) {
         Wqe x = wqe(kSend, 0xbad, {w.sge(0, 8)}, 0);
         x.ctrl.num_sge = 255;
         return x;
     }},
    {"inline length beyond the stride", qpt::kRc, kLocQpOpErr,
     [](World&) {
         Wqe x = wqe(kSend, 0xbad, {}, HCASIM_WQE_INLINE);
         x.ctrl.inline_len = 4096;
         x.inline_data.assign(64, 0xee);
         return x;
     }},
    {"inline length above max_inline_data", qpt::kRc, kLocQpOpErr,
     [](World&) {
         Wqe x = wqe(kSend, 0xbad, {}, HCASIM_WQE_INLINE);
         x.ctrl.inline_len = 100;
         x.inline_data.assign(100, 0xee);
         return x;
     }},
    {"SGE lengths summing past 2^31", qpt::kRc, kLocLenErr,
     [](World& w) { return wqe(kSend, 0xbad, {w.sge(0, 0x7fffffff), w.sge(0, 0x10)}, 0); }},
    {"inline READ", qpt::kRc, kLocQpOpErr,
     [](World& w) {
         Wqe x = wqe(kRead, 0xbad, {}, HCASIM_WQE_INLINE);
         x.ctrl.inline_len = 16;
         x.inline_data.assign(16, 0xee);
         x.raddr = {w.buf.addr, w.buf.key, 0};
         return x;
     }},
    {"inline atomic", qpt::kRc, kLocQpOpErr,
     [](World& w) {
         Wqe x = wqe(kFetchAdd, 0xbad, {}, HCASIM_WQE_INLINE);
         x.ctrl.inline_len = 8;
         x.inline_data.assign(8, 0xee);
         x.raddr = {w.buf.addr, w.buf.key, 0};
         return x;
     }},
    {"atomic with a 4-byte SGE", qpt::kRc, kLocLenErr,
     [](World& w) {
         Wqe x = wqe(kFetchAdd, 0xbad, {w.sge(0, 4)}, 0);
         x.raddr = {w.buf.addr + 64, w.buf.key, 0};
         return x;
     }},
    {"READ on a UC QP", qpt::kUc, kLocQpOpErr,
     [](World& w) {
         Wqe x = wqe(kRead, 0xbad, {w.sge(0, 8)}, 0);
         x.raddr = {w.buf.addr + 64, w.buf.key, 0};
         return x;
     }},
    {"RDMA WRITE on a UD QP", qpt::kUd, kLocQpOpErr,
     [](World& w) {
         Wqe x = wqe(kWrite, 0xbad, {w.sge(0, 8)}, 0);
         x.ud = w.av_to(w.b);
         return x;
     }},
    {"UD with an all-zero address vector", qpt::kUd, kLocQpOpErr,
     [](World& w) { return wqe(kSend, 0xbad, {w.sge(0, 8)}, 0); }},
    {"UD address vector with a source GID index outside the table", qpt::kUd, kLocQpOpErr,
     [](World& w) {
         Wqe x = wqe(kSend, 0xbad, {w.sge(0, 8)}, 0);
         x.ud = w.av_to(w.b);
         x.ud.sgid_index = 7;
         return x;
     }},
    {"UD message longer than the MTU", qpt::kUd, kLocLenErr,
     [](World& w) {
         Wqe x = wqe(kSend, 0xbad, {w.sge(0, 2048)}, 0);
         x.ud = w.av_to(w.b);
         return x;
     }},
};

}  // namespace

TEST_CASE("malformed send WQE in the SQ ring: mlx5's error CQE, QP in ERR, rest flushed, others served") {
    for (const BadWqe& bad : kBadWqes) {
        CAPTURE(bad.what);
        World w(bad.type);
        const bool ud = bad.type == qpt::kUd;
        // A good WQE first, then the bad one (unsignaled: errors always
        // complete), then a good one that must be flushed.
        std::memset(w.buf.host, 0x33, 256);
        Wqe good = wqe(ud ? kSend : kWrite, 0x600d, {w.sge(0, 128)});
        good.raddr = {w.buf.addr + 4096, w.buf.key, 0};
        if (ud) good.ud = w.av_to(w.b);
        w.post_recv(w.b, 0xb0, {w.sge(8192, 1024)});
        w.post_recv(w.b, 0xb1, {w.sge(8192, 1024)});
        Wqe after = good;
        after.ctrl.wr_id = 0xaf7e;
        w.post(w.a, {good, bad.make(w), after});
        w.run();
        auto ca = w.cqes(w.cq_a);
        REQUIRE_MESSAGE(ca.size() == 3, statuses(ca));
        CHECK(ca[0].wr_id == 0x600d);
        CHECK(ca[0].status == kSuccess);
        CHECK(ca[1].wr_id == 0xbad);
        CHECK(ca[1].status == bad.status);
        CHECK(ca[1].qpn == w.a.qpn);
        CHECK(ca[1].is_recv == 0);
        CHECK(ca[2].wr_id == 0xaf7e);
        CHECK(ca[2].status == kFlushErr);
        CHECK(w.state(w.a) == qps::kErr);
        // The peer saw the good message only, and stays up.
        auto cb = w.cqes(w.cq_b);
        CHECK(cb.size() == (ud ? 1u : 0u));
        if (ud) CHECK(cb[0].status == kSuccess);
        CHECK(w.state(w.b) == qps::kRts);
        if (!ud) CHECK(w.buf.host[4096 + 127] == 0x33);
        // A fault of the WQE itself raises no async event.
        CHECK(w.events(w.aeq).empty());
        w.healthy();
        // Reset and reconnected, the QP works again.
        w.reconnect(w.a, w.b.qpn);
        good.ctrl.wr_id = 0x2;
        w.post(w.a, {good});
        w.run();
        auto again = w.cqes(w.cq_a);
        REQUIRE_MESSAGE(again.size() == 1, statuses(again));
        CHECK(again[0].status == kSuccess);
    }
}

TEST_CASE("a WQE whose lkey faults completes once, with IBV_WC_LOC_PROT_ERR; the rest is flushed") {
    for (bool outside : {false, true}) {
        CAPTURE(outside);
        World w;
        // A bad key, or a key whose pages lie outside guest RAM.
        const MrH wild = outside ? w.wild_mr(0, w.pdn, 8192) : MrH{0xdead00, 0, nullptr, 0};
        Wqe first = wqe(kWrite, 0x1, {w.sge(0, 64)});
        first.raddr = {w.buf.addr + 4096, w.buf.key, 0};
        Wqe bad = wqe(kWrite, 0x2, {{wild.addr, 64, wild.key}});
        bad.raddr = first.raddr;
        Wqe after = first;
        after.ctrl.wr_id = 0x3;
        w.post(w.a, {first, bad, after});
        w.run();
        auto ca = w.cqes(w.cq_a);
        REQUIRE_MESSAGE(ca.size() == 3, statuses(ca));
        CHECK(ca[0].status == kSuccess);
        CHECK(ca[1].wr_id == 0x2);
        CHECK(ca[1].status == kLocProtErr);
        CHECK(ca[2].wr_id == 0x3);
        CHECK(ca[2].status == kFlushErr);
        CHECK(w.state(w.a) == qps::kErr);
        CHECK(w.state(w.b) == qps::kRts);
        w.healthy();
    }
}

TEST_CASE("SQ doorbell beyond the ring: QP to ERR with IBV_EVENT_QP_FATAL, nothing made up from the ring") {
    for (uint32_t pi : {16u + 5u, 0xffffffffu}) {
        CAPTURE(pi);
        World w;
        // Every slot holds a signaled WQE: had the device taken one, a CQE
        // with its wr_id would show.
        for (uint32_t i = 0; i < w.a.sq_entries(); ++i) {
            Wqe x = wqe(kWrite, 0x5000 + i, {w.sge(0, 8)});
            x.raddr = {w.buf.addr + 4096, w.buf.key, 0};
            w.write_wqe(w.a, i, x);
        }
        w.a.sq_pi = pi;
        w.ring_sq(w.a);
        w.run();
        CHECK(w.state(w.a) == qps::kErr);
        CHECK(w.events(w.aeq) == std::vector<Event>{async(kEvQpFatal, w.a.qpn)});
        for (int k = 0; k < 3; ++k) {  // more kicks flush nothing either
            w.kick(0);
            w.run();
        }
        CHECK_MESSAGE(w.cqes(w.cq_a).empty(), "no completion for a doorbell beyond the ring");
        CHECK(w.cqes(w.cq_b).empty());
        w.healthy();
        w.reconnect(w.a, w.b.qpn);
        Wqe x = wqe(kWrite, 0x9, {w.sge(0, 8)});
        x.raddr = {w.buf.addr + 4096, w.buf.key, 0};
        w.post(w.a, {x});
        w.run();
        auto ca = w.cqes(w.cq_a);
        REQUIRE(ca.size() == 1);
        CHECK(ca[0].status == kSuccess);
    }
}

TEST_CASE("RQ doorbell beyond the ring: the receiver goes to ERR (QP_FATAL), the sender gets REM_OP_ERR") {
    World w;
    w.b.rq_pi = 16 + 3;
    __atomic_store_n(&w.b.ring.db[0], w.b.rq_pi, __ATOMIC_RELEASE);
    w.kick(0);
    w.post(w.a, {wqe(kSend, 0x1, {w.sge(0, 64)}), wqe(kSend, 0x2, {w.sge(0, 64)})});
    w.run();
    auto ca = w.cqes(w.cq_a);
    REQUIRE_MESSAGE(ca.size() == 2, statuses(ca));
    CHECK(ca[0].status == kRemOpErr);
    CHECK(ca[1].status == kFlushErr);
    CHECK(w.state(w.b) == qps::kErr);
    CHECK(w.state(w.a) == qps::kErr);
    CHECK(w.events(w.aeq) == std::vector<Event>{async(kEvQpFatal, w.b.qpn)});
    for (int k = 0; k < 3; ++k) {
        w.kick(0);
        w.run();
    }
    CHECK_MESSAGE(w.cqes(w.cq_b).empty(), "no receive completion made up from the ring");
    w.healthy();
}

TEST_CASE("SRQ doorbell beyond the ring: IBV_EVENT_SRQ_ERR, its QPs go to ERR, other QPs served") {
    World w;
    SrqH s = w.srq(0, w.pdn, w.aeq.eqn);
    CqH cq_r = w.cq(0, w.aeq.eqn);
    QpH r1 = w.qp(0, qpt::kRc, w.pdn, cq_r.cqn, cq_r.cqn, w.aeq.eqn, s.srqn);
    QpH r2 = w.qp(0, qpt::kRc, w.pdn, cq_r.cqn, cq_r.cqn, w.aeq.eqn, s.srqn);
    QpH s2 = w.qp(0, qpt::kRc, w.pdn, w.cq_b.cqn, w.cq_b.cqn, w.aeq.eqn);
    w.reconnect(w.a, r1.qpn);
    w.connect(r1, w.a.qpn);
    w.connect(s2, r2.qpn);
    w.connect(r2, s2.qpn);
    // One good receive through the SRQ first.
    w.post_srq(s, 0, 0x51, w.sge(8192, 256));
    w.post(w.a, {wqe(kSend, 0x1, {w.sge(0, 64)})});
    w.run();
    REQUIRE(w.cqes(w.cq_a).size() == 1);
    auto cr = w.cqes(cq_r);
    REQUIRE(cr.size() == 1);
    CHECK(cr[0].status == kSuccess);
    CHECK(cr[0].srqn == s.srqn);
    // Now the SRQ's producer index jumps far beyond the ring.
    s.pi = 1 + 100;
    __atomic_store_n(&s.ring.db[0], s.pi, __ATOMIC_RELEASE);
    w.kick(0);
    w.post(w.a, {wqe(kSend, 0x2, {w.sge(0, 64)})});
    w.run();
    auto ca = w.cqes(w.cq_a);
    REQUIRE_MESSAGE(ca.size() == 1, statuses(ca));
    CHECK(ca[0].status == kRemOpErr);
    CHECK(w.state(r1) == qps::kErr);
    CHECK(w.events(w.aeq) == std::vector<Event>{async(kEvSrqErr, s.srqn), async(kEvQpFatal, r1.qpn),
                                                async(kEvLastWqe, r1.qpn)});
    // Another QP on the SRQ in error fails the same way (no second SRQ_ERR).
    w.post(s2, {wqe(kSend, 0x3, {w.sge(0, 64)})});
    w.run();
    auto cb = w.cqes(w.cq_b);
    REQUIRE_MESSAGE(cb.size() == 1, statuses(cb));
    CHECK(cb[0].status == kRemOpErr);
    CHECK(w.state(r2) == qps::kErr);
    CHECK(w.events(w.aeq) == std::vector<Event>{async(kEvQpFatal, r2.qpn), async(kEvLastWqe, r2.qpn)});
    CHECK(w.cqes(cq_r).empty());
    w.healthy();
}

TEST_CASE("CQ doorbell nonsense: a consumer index ahead of the CQEs is a CQ error; a bad arm word is no arm") {
    SUBCASE("ci ahead of pi") {
        World w;
        __atomic_store_n(&w.cq_a.ring.db[0], 1000u, __ATOMIC_RELEASE);
        Wqe x = wqe(kWrite, 0x1, {w.sge(0, 8)});
        x.raddr = {w.buf.addr + 4096, w.buf.key, 0};
        w.post(w.a, {x});
        w.run();
        CHECK(w.cq_in_error(w.cq_a));
        CHECK(w.events(w.aeq) == std::vector<Event>{async(kEvCqErr, w.cq_a.cqn), async(kEvQpFatal, w.a.qpn)});
        CHECK(w.state(w.a) == qps::kErr);
        CHECK(w.cqes(w.cq_a).empty());
        w.healthy();
    }
    SUBCASE("arm command 3 raises nothing; a valid arm one event") {
        World w;
        EqH ceq = w.eq(0);
        CqH c = w.cq(0, w.aeq.eqn, 6, ceq.eqn);
        QpH s = w.qp(0, qpt::kRc, w.pdn, c.cqn, c.cqn, w.aeq.eqn);
        QpH t = w.qp(0, qpt::kRc, w.pdn, w.cq_b.cqn, w.cq_b.cqn, w.aeq.eqn);
        w.connect(s, t.qpn);
        w.connect(t, s.qpn);
        Wqe x = wqe(kWrite, 0x1, {w.sge(0, 8)});
        x.raddr = {w.buf.addr + 4096, w.buf.key, 0};
        __atomic_store_n(&c.ring.db[1], 0xffffffffu, __ATOMIC_RELEASE);
        w.post(s, {x, wqe(0x7f, 0x2, {})});  // a success, then an error CQE
        w.run();
        CHECK(w.cqes(c).size() == 2);
        CHECK(w.events(ceq).empty());
        CHECK_FALSE(w.cq_in_error(c));
        w.reconnect(s, t.qpn);
        __atomic_store_n(&c.ring.db[1], (7u << 2) | HCASIM_CQ_ARM_NEXT, __ATOMIC_RELEASE);
        w.post(s, {x, x});
        w.run();
        CHECK(w.cqes(c).size() == 2);
        CHECK(w.events(ceq) == std::vector<Event>{{HCASIM_EVENT_COMPLETION, 0, c.cqn}});
        w.healthy();
    }
    SUBCASE("EQ consumer index nonsense: events are dropped, CQEs still flow") {
        World w;
        __atomic_store_n(&w.aeq.ring.db[0], 5000u, __ATOMIC_RELEASE);
        w.a.sq_pi = 100;  // QP_FATAL for a: the EQ looks full, the event is lost
        w.ring_sq(w.a);
        w.run();
        CHECK(w.state(w.a) == qps::kErr);
        w.post(w.u, {wqe(0x7f, 0x1, {})});
        w.run();
        CHECK(w.cqes(w.cq_o).size() == 1);
        __atomic_store_n(&w.aeq.ring.db[0], w.aeq.ci, __ATOMIC_RELEASE);
        CHECK(w.events(w.aeq).empty());
        // A sane consumer index again: the next event lands.
        w.b.sq_pi = 100;
        w.ring_sq(w.b);
        w.run();
        CHECK(w.events(w.aeq) == std::vector<Event>{async(kEvQpFatal, w.b.qpn)});
        w.reconnect(w.u, w.v.qpn);
        w.reconnect(w.v, w.u.qpn);
        w.healthy();
    }
}

TEST_CASE("CQ overrun: IBV_EVENT_CQ_ERR, every QP on the CQ goes to ERR (QP_FATAL), other CQs keep working") {
    World w;
    CqH small = w.cq(0, w.aeq.eqn, 2);  // 4 CQEs
    QpH s = w.qp(0, qpt::kRc, w.pdn, small.cqn, w.cq_ar.cqn, w.aeq.eqn);
    QpH idle = w.qp(0, qpt::kRc, w.pdn, small.cqn, small.cqn, w.aeq.eqn);
    w.connect(s, w.b.qpn);
    w.reconnect(w.b, s.qpn);
    w.connect(idle, w.v.qpn);
    w.post_recv(s, 0x70, {w.sge(8192, 64)});
    w.post_recv(s, 0x71, {w.sge(8192, 64)});
    std::vector<Wqe> writes;
    for (uint64_t i = 1; i <= 6; ++i) {
        Wqe x = wqe(kWrite, i, {w.sge(0, 8)});
        x.raddr = {w.buf.addr + 4096 + 8 * i, w.buf.key, 0};
        writes.push_back(x);
    }
    w.post(s, writes);
    w.run();
    auto got = w.cqes(small);
    REQUIRE_MESSAGE(got.size() == 4, statuses(got));
    for (uint64_t i = 0; i < 4; ++i) {
        CHECK(got[i].wr_id == i + 1);
        CHECK(got[i].status == kSuccess);
    }
    CHECK(w.cq_in_error(small));
    const auto evs = w.events(w.aeq);
    REQUIRE(!evs.empty());
    CHECK(evs[0] == async(kEvCqErr, small.cqn));
    CHECK(std::count(evs.begin(), evs.end(), async(kEvCqErr, small.cqn)) == 1);
    CHECK(std::count(evs.begin(), evs.end(), async(kEvQpFatal, s.qpn)) == 1);
    CHECK(std::count(evs.begin(), evs.end(), async(kEvQpFatal, idle.qpn)) == 1);
    CHECK(evs.size() == 3);
    CHECK(w.state(s) == qps::kErr);
    CHECK(w.state(idle) == qps::kErr);
    // s's receive CQ is fine: its receives are flushed there.
    auto rcv = w.cqes(w.cq_ar);
    REQUIRE(rcv.size() == 2);
    CHECK(rcv[0].wr_id == 0x70);
    CHECK(rcv[0].status == kFlushErr);
    CHECK(rcv[1].status == kFlushErr);
    // Nothing more lands in the CQ in error, even once it has room.
    w.post(idle, {writes[0]});
    w.run();
    CHECK(w.cqes(small).empty());
    CHECK(w.state(w.b) == qps::kRts);
    w.healthy();
}

TEST_CASE("SGEs and queue pages outside guest RAM: error CQEs or a create error, never a crash") {
    SUBCASE("receive SGE outside: LOC_PROT_ERR at the receiver, REM_OP_ERR at the sender") {
        World w;
        const MrH wild = w.wild_mr(0, w.pdn, 8192);
        w.post_recv(w.b, 0xb, {{wild.addr, 1024, wild.key}});
        w.post(w.a, {wqe(kSend, 0x1, {w.sge(0, 64)})});
        w.run();
        auto cb = w.cqes(w.cq_b);
        REQUIRE_MESSAGE(cb.size() == 1, statuses(cb));
        CHECK(cb[0].wr_id == 0xb);
        CHECK(cb[0].status == kLocProtErr);
        auto ca = w.cqes(w.cq_a);
        REQUIRE(ca.size() == 1);
        CHECK(ca[0].status == kRemOpErr);
        CHECK(w.state(w.b) == qps::kErr);
        w.healthy();
    }
    SUBCASE("READ landing outside: LOC_PROT_ERR") {
        World w;
        const MrH wild = w.wild_mr(0, w.pdn, 8192);
        Wqe x = wqe(kRead, 0x1, {{wild.addr, 2048, wild.key}});
        x.raddr = {w.buf.addr, w.buf.key, 0};
        w.post(w.a, {x});
        w.run();
        auto ca = w.cqes(w.cq_a);
        REQUIRE_MESSAGE(ca.size() == 1, statuses(ca));
        CHECK(ca[0].status == kLocProtErr);
        CHECK(w.state(w.a) == qps::kErr);
        w.healthy();
    }
    SUBCASE("WRITE, READ, atomic at an rkey outside: REM_ACCESS_ERR, responder ACCESS_ERR") {
        for (uint8_t op : {kWrite, kRead, kFetchAdd}) {
            CAPTURE(int(op));
            World w;
            const MrH wild = w.wild_mr(0, w.pdn, 8192);
            Wqe x = wqe(op, 0x1, {w.sge(0, 8)});
            x.raddr = {wild.addr + 64, wild.key, 0};
            w.post(w.a, {x});
            w.run();
            auto ca = w.cqes(w.cq_a);
            REQUIRE_MESSAGE(ca.size() == 1, statuses(ca));
            CHECK(ca[0].status == kRemAccessErr);
            CHECK(w.state(w.b) == qps::kErr);
            CHECK(w.events(w.aeq) == std::vector<Event>{async(kEvQpAccessErr, w.b.qpn)});
            w.healthy();
        }
    }
    SUBCASE("page lists and doorbell records outside: firmware errors, nothing created") {
        Hca h;
        const uint32_t pdn = h.pd(0);
        EqH e = h.eq(0);
        hcasim_create_cq_in in{};
        in.hdr.opcode = HCASIM_CMD_CREATE_CQ;
        in.log_size = 4;
        in.uar = HCASIM_CHANNEL_UAR(0);
        in.eqn = HCASIM_EQN_NONE;
        in.async_eqn = e.eqn;
        Ring r = h.ring(0, 1024);
        in.buf = Hca::qbuf(r);
        hcasim_create_cq_out out{};
        CmdStatus st = h.run(in, out, 0, {kOutside});  // the page list's page
        CHECK(st.status == HCASIM_STATUS_BAD_PARAM);
        CHECK(st.syndrome == HCASIM_SYND_QUEUE_BAD_BUF);
        in.buf.dbrec = kOutside;
        st = h.run(in, out, 0, {r.mtt});
        CHECK(st.status == HCASIM_STATUS_BAD_PARAM);
        CHECK(st.syndrome == HCASIM_SYND_QUEUE_BAD_DBREC);
        CHECK(h.eng().cq_table().size() == 0);
        MrH m;
        st = h.try_mr(0, m, pdn, 0x1000, 4096, {kRamBase}, HCASIM_ACCESS_LOCAL_WRITE, kOutside);
        CHECK(st.status == HCASIM_STATUS_BAD_PARAM);
        CHECK(st.syndrome == HCASIM_SYND_MKEY_MTT_DMA_FAULT);
        CHECK(h.fw.state().mkeys.size() == 0);
    }
}

TEST_CASE("queue rings whose pages lie outside guest RAM: a create error or a queue error, never a crash") {
    // The firmware may refuse such a ring at create time (BAD_PARAM,
    // QUEUE_BAD_BUF); if it takes it, the first access is the error.
    SUBCASE("CQ ring: IBV_EVENT_CQ_ERR and its QPs to ERR at the first CQE") {
        World w;
        CqH c;
        const CmdStatus st = w.try_cq(0, c, 6, HCASIM_EQN_NONE, w.aeq.eqn, {kOutside});
        if (st.status != HCASIM_STATUS_OK) {
            CHECK(st.syndrome == HCASIM_SYND_QUEUE_BAD_BUF);
        } else {
            QpH s = w.qp(0, qpt::kRc, w.pdn, c.cqn, c.cqn, w.aeq.eqn);
            w.connect(s, w.b.qpn);
            w.reconnect(w.b, s.qpn);
            Wqe x = wqe(kWrite, 0x1, {w.sge(0, 8)});
            x.raddr = {w.buf.addr + 4096, w.buf.key, 0};
            w.post(s, {x});
            w.run();
            CHECK(w.cq_in_error(c));
            CHECK(w.events(w.aeq) == std::vector<Event>{async(kEvCqErr, c.cqn), async(kEvQpFatal, s.qpn)});
            CHECK(w.state(s) == qps::kErr);
        }
        w.healthy();
    }
    SUBCASE("SQ ring: IBV_WC_LOC_QP_OP_ERR") {
        World w;
        QpH q;
        const CmdStatus st = w.try_qp(0, q, qpt::kRc, w.pdn, w.cq_a.cqn, w.cq_a.cqn, 0, w.aeq.eqn, {},
                                      {kOutside, kOutside + kPage});
        if (st.status != HCASIM_STATUS_OK) {
            CHECK(st.syndrome == HCASIM_SYND_QUEUE_BAD_BUF);
        } else {
            w.connect(q, w.b.qpn);
            q.sq_pi = 1;
            w.ring_sq(q);
            w.run();
            auto ca = w.cqes(w.cq_a);
            REQUIRE_MESSAGE(ca.size() == 1, statuses(ca));
            CHECK(ca[0].status == kLocQpOpErr);
            CHECK(ca[0].qpn == q.qpn);
            CHECK(w.state(q) == qps::kErr);
            CHECK(w.events(w.aeq) == std::vector<Event>{async(kEvQpFatal, q.qpn)});
        }
        w.healthy();
    }
    SUBCASE("SRQ ring: IBV_EVENT_SRQ_ERR, the receiver to ERR, the sender REM_OP_ERR") {
        World w;
        SrqH s;
        const CmdStatus st = w.try_srq(0, s, w.pdn, w.aeq.eqn, 4, {kOutside});
        if (st.status != HCASIM_STATUS_OK) {
            CHECK(st.syndrome == HCASIM_SYND_QUEUE_BAD_BUF);
        } else {
            QpH r = w.qp(0, qpt::kRc, w.pdn, w.cq_b.cqn, w.cq_b.cqn, w.aeq.eqn, s.srqn);
            w.connect(r, w.a.qpn);
            w.reconnect(w.a, r.qpn);
            __atomic_store_n(&s.ring.db[0], 1u, __ATOMIC_RELEASE);
            w.post(w.a, {wqe(kSend, 0x1, {w.sge(0, 8)})});
            w.run();
            auto ca = w.cqes(w.cq_a);
            REQUIRE_MESSAGE(ca.size() == 1, statuses(ca));
            CHECK(ca[0].status == kRemOpErr);
            CHECK(w.state(r) == qps::kErr);
            CHECK(w.events(w.aeq) == std::vector<Event>{async(kEvSrqErr, s.srqn), async(kEvQpFatal, r.qpn),
                                                        async(kEvLastWqe, r.qpn)});
        }
        w.healthy();
    }
    SUBCASE("EQ ring: its events are lost, nothing else") {
        World w;
        EqH e;
        const CmdStatus st = w.try_eq(0, e, 4, {kOutside});
        if (st.status != HCASIM_STATUS_OK) {
            CHECK(st.syndrome == HCASIM_SYND_QUEUE_BAD_BUF);
        } else {
            CqH c = w.cq(0, e.eqn, 6, e.eqn);
            __atomic_store_n(&c.ring.db[1], (1u << 2) | HCASIM_CQ_ARM_NEXT, __ATOMIC_RELEASE);
            QpH s = w.qp(0, qpt::kRc, w.pdn, c.cqn, c.cqn, e.eqn);
            w.connect(s, w.b.qpn);
            w.post(s, {wqe(0x7f, 0x1, {})});  // a CQE (and its completion event)
            w.run();
            CHECK(w.cqes(c).size() == 1);
            s.sq_pi = 100;  // and an async event
            w.ring_sq(s);
            w.run();
            CHECK(w.state(s) == qps::kErr);
        }
        w.healthy();
    }
}

TEST_CASE("guest memory unmapped under live queues: no access, the peer gets an error, the rest goes on") {
    World w;
    Other o(w);
    QpH& d = o.d;
    w.connect(d, w.a.qpn);
    w.reconnect(w.a, d.qpn);
    w.post_recv(d, 0xd0, {{o.m.addr, 1024, o.m.key}});
    REQUIRE(w.dma.unmap(kRamBase + kArena, kArena) == 0);
    w.kick(1);
    w.post(w.a, {wqe(kSend, 0x1, {w.sge(0, 64)})});
    w.run();
    auto ca = w.cqes(w.cq_a);
    REQUIRE_MESSAGE(ca.size() == 1, statuses(ca));
    CHECK(ca[0].status == kRemOpErr);
    w.healthy();
}

TEST_CASE("the QP of a dead owner: the live peer gets RETRY_EXC_ERR, the dead QP's memory is never touched") {
    World w;
    Other o(w);
    QpH& d = o.d;
    CqH& cq1 = o.cq;
    MrH& m1 = o.m;
    ConnOpts quick;
    quick.timeout = 10;
    quick.retry_cnt = 2;
    QpH l = w.qp(0, qpt::kRc, w.pdn, w.cq_a.cqn, w.cq_ar.cqn, w.aeq.eqn);
    w.connect(d, l.qpn, quick);
    w.connect(l, d.qpn, quick);
    // They talk once.
    w.post_recv(d, 0xd0, {{m1.addr, 1024, m1.key}});
    w.post(l, {wqe(kSend, 0x1, {w.sge(0, 64)})});
    w.run();
    REQUIRE(w.cqes(w.cq_a).size() == 1);
    REQUIRE(w.cqes(cq1).size() == 1);
    // The owner posts more (receives and a WRITE into a's buffer), then
    // dies before the device sees the doorbells.
    w.post_recv(d, 0xd1, {{m1.addr, 1024, m1.key}});
    std::memset(m1.host + 4096, 0xdd, 64);
    Wqe x = wqe(kWrite, 0xd2, {{m1.addr + 4096, 64, m1.key}});
    x.raddr = {w.buf.addr + 20000, w.buf.key, 0};
    w.post(d, {x});
    w.fw.release_channel(1);
    w.eng().close_uar(HCASIM_CHANNEL_UAR(1));  // as the HCA does when the owner leaves
    CHECK(w.eng().qp_table().find(d.qpn) == nullptr);
    // Channel 1's memory as the dead process left it.
    const std::vector<uint8_t> before(w.host(kRamBase + kArena), w.host(kRamBase + kArena) + kArena);
    // The live QP sends, writes and reads towards the dead QPN.
    Wqe wr = wqe(kWrite, 0x2, {w.sge(0, 64)});
    wr.raddr = {m1.addr, m1.key, 0};
    Wqe rd = wqe(kRead, 0x3, {w.sge(1024, 64)});
    rd.raddr = {m1.addr, m1.key, 0};
    w.post(l, {wqe(kSend, 0x1, {w.sge(0, 64)}), wr, rd});
    std::vector<hcasim_cqe> ca;
    const bool done = w.run_until([&] {
        auto more = w.cqes(w.cq_a);
        ca.insert(ca.end(), more.begin(), more.end());
        return ca.size() >= 3;
    });
    REQUIRE_MESSAGE(done, statuses(ca));
    REQUIRE(ca.size() == 3);
    CHECK(ca[0].status == kRetryExcErr);
    CHECK(ca[1].status == kFlushErr);
    CHECK(ca[2].status == kFlushErr);
    CHECK(w.state(l) == qps::kErr);
    CHECK(w.eng().next_deadline() == 0);  // no timer left: nothing waits forever
    CHECK(w.buf.host[20000] != 0xdd);     // the dead QP's WRITE never ran
    const std::vector<uint8_t> after(w.host(kRamBase + kArena), w.host(kRamBase + kArena) + kArena);
    CHECK_MESSAGE(before == after, "the dead owner's memory was touched after reclaim");
    // A UD QP sending to the dead QPN completes (unreliable) and reaches no one.
    QpH ud = w.qp(0, qpt::kUd, w.pdn, w.cq_b.cqn, w.cq_b.cqn, w.aeq.eqn);
    w.connect(ud, 0);
    Wqe us = wqe(kSend, 0x4, {w.sge(0, 64)});
    us.ud = w.av_to(d);
    w.post(ud, {us});
    w.run();
    auto cb = w.cqes(w.cq_b);
    REQUIRE(cb.size() == 1);
    CHECK(cb[0].status == kSuccess);
    const std::vector<uint8_t> last(w.host(kRamBase + kArena), w.host(kRamBase + kArena) + kArena);
    CHECK(before == last);
    w.healthy();
}

TEST_CASE("UD: many inline SENDs in one doorbell each arrive with their own bytes") {
    // Inline payloads live in the requester's WQE copies, whose slots are
    // reused: every packet must be delivered before its slot is.
    World w;
    QpOpts big;
    big.log_sq = 6;
    big.log_rq = 6;
    QpH s = w.qp(0, qpt::kUd, w.pdn, w.cq_a.cqn, w.cq_a.cqn, w.aeq.eqn, 0, big);
    QpH r = w.qp(0, qpt::kUd, w.pdn, w.cq_b.cqn, w.cq_b.cqn, w.aeq.eqn, 0, big);
    w.connect(s, 0);
    w.connect(r, 0);
    constexpr uint32_t kN = 40;
    for (uint32_t i = 0; i < kN; ++i) w.post_recv(r, i, {w.sge(128 * i, 128)});
    std::vector<Wqe> sends;
    for (uint32_t i = 0; i < kN; ++i) {
        Wqe x = wqe(kSend, i, {}, HCASIM_WQE_SIGNALED | HCASIM_WQE_INLINE);
        x.ctrl.inline_len = 32;
        x.inline_data.assign(32, static_cast<uint8_t>(i + 1));
        x.ud = w.av_to(r);
        sends.push_back(x);
    }
    w.post(s, sends);
    w.run();
    auto cs = w.cqes(w.cq_a);
    auto cr = w.cqes(w.cq_b);
    REQUIRE(cs.size() == kN);
    REQUIRE(cr.size() == kN);
    for (uint32_t i = 0; i < kN; ++i) {
        CAPTURE(i);
        CHECK(cr[i].status == kSuccess);
        CHECK(cr[i].byte_len == 40 + 32);
        const uint8_t* got = w.buf.host + 128 * i + 40;  // after the GRH
        CHECK(std::count(got, got + 32, static_cast<uint8_t>(i + 1)) == 32);
    }
}
