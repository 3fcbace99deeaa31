// A small driver for the engine in unit tests: guest RAM as a memfd in a
// DmaSpace, queues created with firmware commands whose page lists sit in
// that RAM, WQEs and doorbell records written by hand (the ABI's layouts),
// CQEs and EQEs read back, and the engine polled until it is quiet.  Time
// is a clock the test moves to the engine's next timer (TestClock, through
// the platform interface, device/platform.h), so timers run without
// sleeping.  Shared by the engine's unit tests.
#pragma once

#include "common/trace.h"
#include "common/unique_fd.h"
#include "device/dma_space.h"
#include "device/engine.h"
#include "device/loopback_port.h"
#include "device/platform.h"
#include "firmware/firmware.h"
#include "firmware/qp_transitions.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace hcasim::test {

using namespace hcasim::firmware;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kRamBase = 0x10000000;  // guest RAM: two arenas, one per channel
constexpr uint64_t kArena = 2u << 20;
constexpr uint64_t kRamSize = 2 * kArena;
constexpr uint64_t kOutside = 0x7f000000;   // no DMA map covers it

// A queue buffer in guest RAM: its pages, the page holding its page list,
// and its doorbell record (in that same page, after the list).
struct Ring {
    uint64_t bus = 0;
    uint8_t* host = nullptr;
    uint64_t bytes = 0;
    uint64_t mtt = 0;
    uint64_t dbrec = 0;
    uint32_t* db = nullptr;
    uint32_t pages = 0;
};

struct EqH {
    uint32_t eqn = 0, log_size = 0, ci = 0;
    Ring ring;
};
struct CqH {
    uint32_t cqn = 0, log_size = 0, ci = 0;
    Ring ring;
};
struct SrqH {
    uint32_t srqn = 0, log_size = 0, stride = 0, pi = 0;
    Ring ring;
};
struct QpH {
    uint32_t qpn = 0, type = 0, ch = 0;
    uint32_t log_sq = 0, sq_stride = 0, log_rq = 0, rq_stride = 0, sq_offset = 0;
    uint32_t sq_pi = 0, rq_pi = 0;
    Ring ring;
    uint32_t sq_entries() const { return 1u << log_sq; }
};
struct MrH {
    uint32_t key = 0;
    uint64_t addr = 0;  // iova = bus address
    uint8_t* host = nullptr;
    uint64_t len = 0;
};

struct QpOpts {
    uint32_t log_sq = 4, log_sq_stride = 8;  // 16 x 256 bytes
    uint32_t log_rq = 4, log_rq_stride = 6;  // 16 x 64 bytes
    uint32_t max_send_sge = 2, max_recv_sge = 2, max_inline = 64;
};

struct ConnOpts {
    uint8_t timeout = 14, retry_cnt = 7, rnr_retry = 7;
};

// A send WQE as the ABI lays it out.
struct Wqe {
    hcasim_wqe_ctrl ctrl{};
    hcasim_wqe_raddr raddr{};
    hcasim_wqe_atomic atomic{};
    hcasim_wqe_ud ud{};
    std::vector<hcasim_wqe_sge> sge;
    std::vector<uint8_t> inline_data;
};

inline Wqe wqe(uint8_t opcode, uint64_t wr_id, std::vector<hcasim_wqe_sge> sge,
        uint8_t flags = HCASIM_WQE_SIGNALED) {
    Wqe w;
    w.ctrl.opcode = opcode;
    w.ctrl.flags = flags;
    w.ctrl.wr_id = wr_id;
    w.ctrl.num_sge = static_cast<uint8_t>(sge.size());
    w.sge = std::move(sge);
    return w;
}

struct Event {
    uint8_t type, ibv_event;
    uint32_t obj;
    bool operator==(const Event&) const = default;
};

// The tests' clock: nanoseconds, moved by hand.  Engines that share one
// (two HCAs on a link) see the same time.
struct TestClock {
    uint64_t now = 1'000'000'000;
};

// The platform of these tests (device/platform.h): their own guest RAM
// and a TestClock.
struct TestPlatform final : device::Platform {
    explicit TestPlatform(TestClock& c) : clock(c) {}
    device::DmaSpace space;
    TestClock& clock;
    unsigned msix_raised = 0;
    device::DmaSpace& dma() override { return space; }
    void raise_msix(unsigned) override { ++msix_raised; }
    uint64_t now_ns() const override { return clock.now; }
};

// One HCA's firmware and engine on a TestPlatform; port 1 on loopback
// until a test puts another backend behind it (set_backend).
struct EngineDriver {
    // `format`: the engine's queue format (nullptr: hcasim's own, which
    // the WQE and CQE helpers below write and read).
    explicit EngineDriver(TestClock* shared_clock = nullptr, device::PortConfig port_cfg = {},
                          device::QueueFormat* format = nullptr)
        : platform(shared_clock ? *shared_clock : own_clock), dma(platform.space), now(platform.clock.now) {
        init(port_cfg, format ? *format : device::hcasim_queue_format());
    }
    EngineDriver(const EngineDriver&) = delete;
    EngineDriver& operator=(const EngineDriver&) = delete;

    Tracer trace;
    std::vector<uint8_t> memic = std::vector<uint8_t>(64 * 1024);
    HcaCaps caps = [] {
        HcaCaps c;
        c.memic_size = 64 * 1024;
        return c;
    }();
    Firmware fw{caps, memic.data(), trace};
    TestClock own_clock;
    TestPlatform platform;
    device::DmaSpace& dma;
    uint64_t& now;
    uint8_t* ram = nullptr;
    std::vector<uint8_t> uars = std::vector<uint8_t>((HCASIM_NUM_UARS + 1) * HCASIM_UAR_PAGE_SIZE);
    std::unique_ptr<device::LoopbackPort> port;
    uint64_t next[2] = {kRamBase, kRamBase + kArena};

    void init(const device::PortConfig& port_cfg, device::QueueFormat& format) {
        // HCASIM_UNIT_TRACE=FILE: each driver traces to FILE.N (N counts drivers).
        static unsigned drivers = 0;
        if (const char* t = std::getenv("HCASIM_UNIT_TRACE")) trace.open(fmt::format("{}.{}", t, drivers));
        ++drivers;
        UniqueFd fd(::memfd_create("guest-ram", 0));
        REQUIRE(fd);
        REQUIRE(::ftruncate(fd.get(), kRamSize) == 0);
        void* m = ::mmap(nullptr, kRamSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
        REQUIRE(m != MAP_FAILED);
        ram = static_cast<uint8_t*>(m);
        // Each channel's arena is a map of its own (a process's memory).
        UniqueFd fd2(::dup(fd.get()));
        REQUIRE(dma.map(kRamBase, kArena, 3, std::move(fd), 0) == 0);
        REQUIRE(dma.map(kRamBase + kArena, kArena, 3, std::move(fd2), kArena) == 0);
        fw.state().dma = &dma;
        fw.state().attach_engine(platform, uars.data(), format);
        port = std::make_unique<device::LoopbackPort>(eng());
        eng().set_port(port_cfg, port.get());
        eng().set_trace_datapath(trace.enabled());
        for (uint32_t ch : {0u, 1u}) eng().open_uar(HCASIM_CHANNEL_UAR(ch), ch);
    }
    ~EngineDriver() { ::munmap(ram, kRamSize); }
    // Port 1 behind `backend` (nullptr: loopback again).
    void set_backend(device::PortBackend* backend) {
        eng().set_port(eng().port(), backend ? backend : port.get());
        eng().port_changed();
    }

    device::RdmaEngine& eng() { return *fw.state().engine; }
    uint8_t* host(uint64_t bus) { return ram + (bus - kRamBase); }
    uint64_t alloc(uint32_t ch, uint64_t bytes) {
        const uint64_t a = next[ch];
        next[ch] += (bytes + kPage - 1) / kPage * kPage;
        REQUIRE(next[ch] <= kRamBase + (ch + 1) * kArena);
        std::memset(host(a), 0, bytes);
        return a;
    }

    template <class In, class Out>
    CmdStatus run(const In& in, Out& out, uint32_t ch, std::vector<uint64_t> extra = {}) {
        std::vector<uint8_t> ib(sizeof(In) + 8 * extra.size()), ob(sizeof(Out));
        std::memcpy(ib.data(), &in, sizeof(In));
        if (!extra.empty()) std::memcpy(ib.data() + sizeof(In), extra.data(), 8 * extra.size());
        const CmdStatus st = fw.execute(ch, ib, ob);
        std::memcpy(&out, ob.data(), sizeof(Out));
        return st;
    }

    // A ring of `bytes`; `pages` overrides where its pages are.
    Ring ring(uint32_t ch, uint64_t bytes, std::vector<uint64_t> pages = {}) {
        Ring r;
        r.bytes = bytes;
        r.pages = static_cast<uint32_t>((bytes + kPage - 1) / kPage);
        REQUIRE(r.pages <= 256);
        if (pages.empty()) {
            r.bus = alloc(ch, bytes);
            r.host = host(r.bus);
            for (uint32_t i = 0; i < r.pages; ++i) pages.push_back(r.bus + i * kPage);
        }
        r.mtt = alloc(ch, kPage);
        std::memcpy(host(r.mtt), pages.data(), 8 * pages.size());
        r.dbrec = r.mtt + 2048;
        r.db = reinterpret_cast<uint32_t*>(host(r.dbrec));
        return r;
    }
    static hcasim_queue_buf qbuf(const Ring& r) {
        hcasim_queue_buf b{};
        b.dbrec = r.dbrec;
        b.num_pages = r.pages;
        b.num_mtt_pages = 1;
        b.length = r.bytes;
        return b;
    }

    uint32_t pd(uint32_t ch) {
        hcasim_alloc_pd_in in{};
        in.hdr.opcode = HCASIM_CMD_ALLOC_PD;
        hcasim_alloc_pd_out out{};
        REQUIRE(run(in, out, ch).status == HCASIM_STATUS_OK);
        return out.pdn;
    }
    CmdStatus try_eq(uint32_t ch, EqH& e, uint32_t log_size, std::vector<uint64_t> pages = {}) {
        e.log_size = log_size;
        e.ring = ring(ch, sizeof(hcasim_eqe) << log_size, std::move(pages));
        hcasim_create_eq_in in{};
        in.hdr.opcode = HCASIM_CMD_CREATE_EQ;
        in.log_size = log_size;
        in.msix_vector = 0;
        in.buf = qbuf(e.ring);
        hcasim_create_eq_out out{};
        const CmdStatus st = run(in, out, ch, {e.ring.mtt});
        e.eqn = out.eqn;
        return st;
    }
    EqH eq(uint32_t ch, uint32_t log_size = 6) {
        EqH e;
        REQUIRE(try_eq(ch, e, log_size).status == HCASIM_STATUS_OK);
        return e;
    }
    CmdStatus try_cq(uint32_t ch, CqH& c, uint32_t log_size, uint32_t eqn, uint32_t async_eqn,
                     std::vector<uint64_t> pages = {}) {
        c.log_size = log_size;
        c.ring = ring(ch, uint64_t{HCASIM_CQE_SIZE} << log_size, std::move(pages));
        hcasim_create_cq_in in{};
        in.hdr.opcode = HCASIM_CMD_CREATE_CQ;
        in.log_size = log_size;
        in.uar = HCASIM_CHANNEL_UAR(ch);
        in.eqn = eqn;
        in.async_eqn = async_eqn;
        in.buf = qbuf(c.ring);
        hcasim_create_cq_out out{};
        const CmdStatus st = run(in, out, ch, {c.ring.mtt});
        c.cqn = out.cqn;
        return st;
    }
    CqH cq(uint32_t ch, uint32_t async_eqn, uint32_t log_size = 6, uint32_t eqn = HCASIM_EQN_NONE) {
        CqH c;
        REQUIRE(try_cq(ch, c, log_size, eqn, async_eqn).status == HCASIM_STATUS_OK);
        return c;
    }
    CmdStatus try_srq(uint32_t ch, SrqH& s, uint32_t pdn, uint32_t async_eqn, uint32_t log_size = 4,
                      std::vector<uint64_t> pages = {}) {
        s.log_size = log_size;
        s.stride = 64;  // 16 + 2 SGEs -> 48, a power of two
        s.ring = ring(ch, uint64_t{s.stride} << log_size, std::move(pages));
        hcasim_create_srq_in in{};
        in.hdr.opcode = HCASIM_CMD_CREATE_SRQ;
        in.pdn = pdn;
        in.uar = HCASIM_CHANNEL_UAR(ch);
        in.async_eqn = async_eqn;
        in.log_size = static_cast<uint8_t>(log_size);
        in.log_stride = 6;
        in.max_sge = 2;
        in.buf = qbuf(s.ring);
        hcasim_create_srq_out out{};
        const CmdStatus st = run(in, out, ch, {s.ring.mtt});
        s.srqn = out.srqn;
        return st;
    }
    SrqH srq(uint32_t ch, uint32_t pdn, uint32_t async_eqn) {
        SrqH s;
        REQUIRE(try_srq(ch, s, pdn, async_eqn).status == HCASIM_STATUS_OK);
        return s;
    }
    CmdStatus try_qp(uint32_t ch, QpH& q, uint32_t type, uint32_t pdn, uint32_t scq, uint32_t rcq,
                     uint32_t srqn, uint32_t async_eqn, const QpOpts& o = {},
                     std::vector<uint64_t> pages = {}) {
        q.type = type;
        q.ch = ch;
        q.log_sq = o.log_sq;
        q.sq_stride = 1u << o.log_sq_stride;
        q.log_rq = srqn ? 0 : o.log_rq;
        q.rq_stride = 1u << o.log_rq_stride;
        const uint32_t rq_bytes = srqn ? 0 : (1u << o.log_rq) * q.rq_stride;
        q.sq_offset = (rq_bytes + q.sq_stride - 1) & ~(q.sq_stride - 1);
        q.ring = ring(ch, q.sq_offset + (uint64_t{1} << o.log_sq) * q.sq_stride, std::move(pages));
        hcasim_create_qp_in in{};
        in.hdr.opcode = HCASIM_CMD_CREATE_QP;
        in.type = type;
        in.pdn = pdn;
        in.send_cqn = scq;
        in.recv_cqn = rcq;
        in.srqn = srqn;
        in.uar = HCASIM_CHANNEL_UAR(ch);
        in.async_eqn = async_eqn;
        in.log_sq_size = static_cast<uint8_t>(o.log_sq);
        in.log_sq_stride = static_cast<uint8_t>(o.log_sq_stride);
        in.log_rq_size = static_cast<uint8_t>(q.log_rq);
        in.log_rq_stride = static_cast<uint8_t>(o.log_rq_stride);
        in.sq_offset = q.sq_offset;
        in.max_send_sge = o.max_send_sge;
        in.max_recv_sge = srqn ? 0 : o.max_recv_sge;
        in.max_inline_data = o.max_inline;
        in.buf = qbuf(q.ring);
        hcasim_create_qp_out out{};
        const CmdStatus st = run(in, out, ch, {q.ring.mtt});
        q.qpn = out.qpn;
        return st;
    }
    QpH qp(uint32_t ch, uint32_t type, uint32_t pdn, uint32_t scq, uint32_t rcq, uint32_t async_eqn,
           uint32_t srqn = 0, const QpOpts& o = {}) {
        QpH q;
        REQUIRE(try_qp(ch, q, type, pdn, scq, rcq, srqn, async_eqn, o).status == HCASIM_STATUS_OK);
        return q;
    }
    CmdStatus try_mr(uint32_t ch, MrH& m, uint32_t pdn, uint64_t iova, uint64_t len,
                     std::vector<uint64_t> pages, uint32_t access, uint64_t mtt_page = 0) {
        const uint64_t list = mtt_page ? mtt_page : alloc(ch, kPage);
        if (!mtt_page) std::memcpy(host(list), pages.data(), 8 * pages.size());
        hcasim_create_mkey_in in{};
        in.hdr.opcode = HCASIM_CMD_CREATE_MKEY;
        in.pdn = pdn;
        in.access = access;
        in.iova = iova;
        in.length = len;
        in.mode = HCASIM_MKEY_MODE_MTT;
        in.num_mtt = static_cast<uint32_t>(pages.size());
        in.num_mtt_pages = 1;
        hcasim_create_mkey_out out{};
        const CmdStatus st = run(in, out, ch, {list});
        m.key = out.mkey;
        m.addr = iova;
        m.len = len;
        return st;
    }
    // A registered buffer in the channel's arena.
    MrH mr(uint32_t ch, uint32_t pdn, uint64_t len, uint32_t access = HCASIM_ACCESS_ALL & ~HCASIM_ACCESS_ZERO_BASED) {
        MrH m;
        const uint64_t bus = alloc(ch, len);
        std::vector<uint64_t> pages;
        for (uint64_t p = 0; p < len; p += kPage) pages.push_back(bus + p);
        REQUIRE(try_mr(ch, m, pdn, bus, len, pages, access).status == HCASIM_STATUS_OK);
        m.host = host(bus);
        return m;
    }
    // An MR whose pages lie outside guest RAM (its page list is readable).
    MrH wild_mr(uint32_t ch, uint32_t pdn, uint64_t len) {
        MrH m;
        std::vector<uint64_t> pages;
        for (uint64_t p = 0; p < len; p += kPage) pages.push_back(kOutside + p);
        REQUIRE(try_mr(ch, m, pdn, 0x40000000, len, pages,
                       HCASIM_ACCESS_ALL & ~HCASIM_ACCESS_ZERO_BASED).status == HCASIM_STATUS_OK);
        return m;
    }

    CmdStatus modify(QpH& q, uint32_t mask, hcasim_qp_attr a) {
        hcasim_modify_qp_in in{};
        in.hdr.opcode = HCASIM_CMD_MODIFY_QP;
        in.qpn = q.qpn;
        in.attr_mask = mask;
        in.attr = a;
        hcasim_modify_qp_out out{};
        return run(in, out, q.ch);
    }
    hcasim_ah_attr self_av() { return av_to(eng().gid(1)); }
    // An address vector to `dgid` (RoCEv2: GID index 1, the IPv4-mapped one).
    static hcasim_ah_attr av_to(const device::Gid& dgid) {
        hcasim_ah_attr av{};
        std::memcpy(av.dgid, dgid.data(), 16);
        av.is_global = 1;
        av.sgid_index = 1;
        av.hop_limit = 64;
        av.port_num = 1;
        return av;
    }
    // RESET -> INIT -> RTR -> RTS towards dest (RC/UC) or for UD.
    void connect(QpH& q, uint32_t dest, const ConnOpts& c = {}, const hcasim_ah_attr* av = nullptr) {
        hcasim_qp_attr a{};
        a.port_num = 1;
        a.qkey = 0x11111111;
        a.qp_access_flags = HCASIM_ACCESS_REMOTE_WRITE | HCASIM_ACCESS_REMOTE_READ |
                            HCASIM_ACCESS_REMOTE_ATOMIC;
        a.path_mtu = 3;  // 1024
        a.dest_qp_num = dest;
        a.ah = av ? *av : self_av();
        a.max_dest_rd_atomic = 4;
        a.max_rd_atomic = 4;
        a.min_rnr_timer = 1;
        a.timeout = c.timeout;
        a.retry_cnt = c.retry_cnt;
        a.rnr_retry = c.rnr_retry;
        const bool ud = q.type == qpt::kUd, rc = q.type == qpt::kRc;
        a.qp_state = qps::kInit;
        REQUIRE(modify(q, qpa::kState | qpa::kPkeyIndex | qpa::kPort |
                              (ud ? qpa::kQkey : qpa::kAccessFlags),
                       a).status == HCASIM_STATUS_OK);
        a.qp_state = qps::kRtr;
        uint32_t rtr = qpa::kState;
        if (!ud) rtr |= qpa::kAv | qpa::kPathMtu | qpa::kDestQpn | qpa::kRqPsn;
        if (rc) rtr |= qpa::kMaxDestRdAtomic | qpa::kMinRnrTimer;
        REQUIRE(modify(q, rtr, a).status == HCASIM_STATUS_OK);
        a.qp_state = qps::kRts;
        uint32_t rts = qpa::kState | qpa::kSqPsn;
        if (rc) rts |= qpa::kTimeout | qpa::kRetryCnt | qpa::kRnrRetry | qpa::kMaxQpRdAtomic;
        REQUIRE(modify(q, rts, a).status == HCASIM_STATUS_OK);
    }
    // Back to RESET (the device zeroes the doorbell record) and up again.
    void reconnect(QpH& q, uint32_t dest) {
        hcasim_qp_attr a{};
        a.qp_state = qps::kReset;
        REQUIRE(modify(q, qpa::kState, a).status == HCASIM_STATUS_OK);
        q.sq_pi = q.rq_pi = 0;
        connect(q, dest);
    }
    uint32_t state(const QpH& q) {
        hcasim_query_qp_in in{};
        in.hdr.opcode = HCASIM_CMD_QUERY_QP;
        in.qpn = q.qpn;
        hcasim_query_qp_out out{};
        REQUIRE(run(in, out, q.ch).status == HCASIM_STATUS_OK);
        return out.attr.qp_state;
    }
    bool cq_in_error(const CqH& c, uint32_t ch = 0) {
        hcasim_query_cq_in in{};
        in.hdr.opcode = HCASIM_CMD_QUERY_CQ;
        in.cqn = c.cqn;
        hcasim_query_cq_out out{};
        REQUIRE(run(in, out, ch).status == HCASIM_STATUS_OK);
        return out.overflowed != 0;
    }

    // ---- posting by hand ----
    void kick(uint32_t ch) {
        auto* u = reinterpret_cast<hcasim_uar*>(uars.data() + HCASIM_CHANNEL_UAR(ch) * HCASIM_UAR_PAGE_SIZE);
        __atomic_add_fetch(&u->kick, 1, __ATOMIC_RELEASE);
    }
    uint8_t* sq_slot(QpH& q, uint32_t index) {
        return q.ring.host + q.sq_offset + uint64_t{index % q.sq_entries()} * q.sq_stride;
    }
    // Writes w into SQ slot `index` exactly as given (no checks), clipped
    // to the stride.
    void write_wqe(QpH& q, uint32_t index, const Wqe& w) {
        uint8_t* s = sq_slot(q, index);
        std::memset(s, 0, q.sq_stride);
        std::memcpy(s, &w.ctrl, sizeof(w.ctrl));
        std::memcpy(s + HCASIM_WQE_RADDR_OFF, &w.raddr, sizeof(w.raddr));
        std::memcpy(s + HCASIM_WQE_ATOMIC_OFF, &w.atomic, sizeof(w.atomic));
        std::memcpy(s + HCASIM_WQE_UD_OFF, &w.ud, sizeof(w.ud));
        const size_t room = q.sq_stride - HCASIM_WQE_DATA_OFF;
        if (!w.inline_data.empty())
            std::memcpy(s + HCASIM_WQE_DATA_OFF, w.inline_data.data(), std::min(room, w.inline_data.size()));
        else if (!w.sge.empty())
            std::memcpy(s + HCASIM_WQE_DATA_OFF, w.sge.data(), std::min(room, 16 * w.sge.size()));
    }
    void ring_sq(QpH& q) {
        __atomic_store_n(&q.ring.db[1], q.sq_pi, __ATOMIC_RELEASE);
        kick(q.ch);
    }
    void post(QpH& q, std::vector<Wqe> ws) {
        for (const Wqe& w : ws) write_wqe(q, q.sq_pi++, w);
        ring_sq(q);
    }
    void post_recv(QpH& q, uint64_t wr_id, std::vector<hcasim_wqe_sge> sge) {
        uint8_t* s = q.ring.host + uint64_t{q.rq_pi % (1u << q.log_rq)} * q.rq_stride;
        hcasim_recv_wqe h{};
        h.wr_id = wr_id;
        h.num_sge = static_cast<uint16_t>(sge.size());
        std::memcpy(s, &h, sizeof(h));
        std::memcpy(s + sizeof(h), sge.data(), 16 * sge.size());
        __atomic_store_n(&q.ring.db[0], ++q.rq_pi, __ATOMIC_RELEASE);
        kick(q.ch);
    }
    void post_srq(SrqH& s, uint32_t ch, uint64_t wr_id, hcasim_wqe_sge sge) {
        const uint32_t n = 1u << s.log_size;
        uint8_t* slot = s.ring.host + uint64_t{s.pi % n} * s.stride;
        hcasim_recv_wqe h{};
        h.wr_id = wr_id;
        h.num_sge = 1;
        h.next = static_cast<uint16_t>((s.pi + 1) % n);
        std::memcpy(slot, &h, sizeof(h));
        std::memcpy(slot + sizeof(h), &sge, sizeof(sge));
        __atomic_store_n(&s.ring.db[0], ++s.pi, __ATOMIC_RELEASE);
        kick(ch);
    }

    // ---- running ----
    // Polls until the engine did no work (bounded).
    void run() {
        for (int i = 0; i < 100000; ++i)
            if (!eng().poll()) return;
        FAIL("the engine never went quiet");
    }
    // Runs, then jumps the clock to each next timer until pred() holds or
    // no timer is left (bounded).
    template <class Pred>
    bool run_until(Pred pred, int max_timers = 64) {
        run();
        for (int i = 0; i < max_timers && !pred(); ++i) {
            const uint64_t d = eng().next_deadline();
            if (!d) break;
            now = std::max(now, d);
            run();
        }
        return pred();
    }

    // Software-owned CQEs from ci on (consumed: ci moves, dbrec updated).
    std::vector<hcasim_cqe> cqes(CqH& c) {
        std::vector<hcasim_cqe> out;
        const uint32_t n = 1u << c.log_size;
        for (;;) {
            auto* e = reinterpret_cast<hcasim_cqe*>(c.ring.host + uint64_t{c.ci % n} * HCASIM_CQE_SIZE);
            if ((__atomic_load_n(&e->owner, __ATOMIC_ACQUIRE) & 1) != (((c.ci / n) & 1) ^ 1)) break;
            out.push_back(*e);
            ++c.ci;
        }
        __atomic_store_n(&c.ring.db[0], c.ci, __ATOMIC_RELEASE);
        return out;
    }
    std::vector<Event> events(EqH& e) {
        std::vector<Event> out;
        const uint32_t n = 1u << e.log_size;
        for (;;) {
            auto* x = reinterpret_cast<hcasim_eqe*>(e.ring.host + uint64_t{e.ci % n} * sizeof(hcasim_eqe));
            if ((__atomic_load_n(&x->owner, __ATOMIC_ACQUIRE) & 1) != (((e.ci / n) & 1) ^ 1)) break;
            out.push_back({x->type, x->ibv_event, x->obj});
            ++e.ci;
        }
        __atomic_store_n(&e.ring.db[0], e.ci, __ATOMIC_RELEASE);
        return out;
    }
};


}  // namespace hcasim::test
