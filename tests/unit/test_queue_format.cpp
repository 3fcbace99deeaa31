// The queue-format boundary (issue 18, section 4; device/queue_format.h).
//
// 1. hcasim's own format: a send WQE, a receive WQE, a CQE and an EQE in
//    abi/hcasim_abi.h's layouts decode to (encode from) the decoded forms
//    field by field; malformed and unreadable WQEs say so; ownership bits
//    flip with each pass over the ring; a resize moves CQEs intact.
// 2. The roles on decoded requests: the engine runs with a second format
//    (HandleFormat below: each WQE slot holds only a handle into the test's
//    table of SendRequests / RecvRequests, and each CQE a handle into its
//    table of Completions).  RC SEND with immediate, WRITE, READ and an
//    atomic complete with the data in place; a request the QP cannot take
//    completes in error and the rest flush.  Nothing in the roles reads a
//    layout, so they cannot tell the formats apart.
#include "device/hcasim_format.h"
#include "tests/unit/engine_driver.h"

#include <cerrno>

using namespace hcasim;
using namespace hcasim::device;
using namespace hcasim::test;

namespace {

// ---- 1. hcasim's format ------------------------------------------------------

// A QueueRing over `pages` contiguous pages of guest RAM at `bus`.
QueueRing ring_at(uint64_t bus, uint32_t pages, uint64_t dbrec) {
    std::vector<uint64_t> list;
    for (uint32_t i = 0; i < pages; ++i) list.push_back(bus + i * kPage);
    return QueueRing(std::move(list), 0, uint64_t{pages} * kPage, dbrec);
}

TEST_CASE("hcasim format: a send WQE decodes field by field") {
    EngineDriver d;
    const uint64_t bus = d.alloc(0, 2 * kPage);
    QueueRing ring = ring_at(bus, 2, bus + kPage);
    WorkQueueRing sq{ring, 0, 8, 8};  // 8 x 256 bytes
    uint8_t* slot = d.host(bus) + 3 * 256;

    hcasim_wqe_ctrl ctrl{};
    ctrl.opcode = wr::kSendImm;
    ctrl.flags = HCASIM_WQE_SIGNALED | HCASIM_WQE_SOLICITED | HCASIM_WQE_FENCE;
    ctrl.num_sge = 2;
    ctrl.imm_data = 0x11223344;
    ctrl.wr_id = 0xabcdef0123;
    hcasim_wqe_raddr raddr{0x5000, 0x77, 0};
    hcasim_wqe_atomic atomic{9, 10};
    hcasim_wqe_ud ud{};
    ud.dgid[15] = 7;
    ud.remote_qpn = 0x123;
    ud.remote_qkey = 0x80000000u;
    ud.is_global = 1;
    ud.sgid_index = 1;
    ud.hop_limit = 5;
    hcasim_wqe_sge sges[2] = {{0x1000, 100, 0x21}, {0x2000, 200, 0x22}};
    std::memcpy(slot, &ctrl, sizeof(ctrl));
    std::memcpy(slot + HCASIM_WQE_RADDR_OFF, &raddr, sizeof(raddr));
    std::memcpy(slot + HCASIM_WQE_ATOMIC_OFF, &atomic, sizeof(atomic));
    std::memcpy(slot + HCASIM_WQE_UD_OFF, &ud, sizeof(ud));
    std::memcpy(slot + HCASIM_WQE_DATA_OFF, sges, sizeof(sges));

    SendRequest r;
    const WqeDecode res = hcasim_queue_format().read_send_wqe(d.dma, sq, 3 + 8 * 5, r);  // a later pass
    REQUIRE(res.kind == WqeDecode::Ok);
    CHECK(res.slots == 1);
    CHECK(r.wr_id == 0xabcdef0123);
    CHECK(r.opcode == wr::kSendImm);
    CHECK(r.signaled);
    CHECK(r.solicited);
    CHECK(r.fence);
    CHECK_FALSE(r.is_inline);
    CHECK(r.imm_data == 0x11223344);
    CHECK(r.remote_addr == 0x5000);
    CHECK(r.rkey == 0x77);
    CHECK(r.compare_add == 9);
    CHECK(r.swap == 10);
    CHECK(r.ud.dgid[15] == 7);
    CHECK(r.ud.remote_qpn == 0x123);
    CHECK(r.ud.remote_qkey == 0x80000000u);
    CHECK(r.ud.is_global);
    CHECK(r.ud.sgid_index == 1);
    CHECK(r.ud.hop_limit == 5);
    REQUIRE(r.num_sge == 2);
    CHECK(r.sge[0].addr == 0x1000);
    CHECK(r.sge[0].length == 100);
    CHECK(r.sge[0].lkey == 0x21);
    CHECK(r.sge[1].addr == 0x2000);
    CHECK(r.sge[1].length == 200);
    CHECK(r.sge[1].lkey == 0x22);

    SUBCASE("inline data") {
        ctrl.flags = HCASIM_WQE_INLINE;
        ctrl.inline_len = 20;
        std::memcpy(slot, &ctrl, sizeof(ctrl));
        std::memset(slot + HCASIM_WQE_DATA_OFF, 0xcd, 20);
        SendRequest in;
        REQUIRE(hcasim_queue_format().read_send_wqe(d.dma, sq, 3, in).kind == WqeDecode::Ok);
        CHECK(in.is_inline);
        CHECK_FALSE(in.signaled);
        REQUIRE(in.inline_len == 20);
        CHECK(in.inline_data[0] == 0xcd);
        CHECK(in.inline_data[19] == 0xcd);
    }
    SUBCASE("more SGEs than the slot holds: malformed, header kept") {
        ctrl.num_sge = (256 - HCASIM_WQE_DATA_OFF) / 16 + 1;
        std::memcpy(slot, &ctrl, sizeof(ctrl));
        SendRequest bad;
        const WqeDecode e = hcasim_queue_format().read_send_wqe(d.dma, sq, 3, bad);
        CHECK(e.kind == WqeDecode::Malformed);
        CHECK(e.header_valid);
        CHECK(bad.wr_id == 0xabcdef0123);
    }
    SUBCASE("inline data longer than the slot: malformed") {
        ctrl.flags = HCASIM_WQE_INLINE;
        ctrl.inline_len = 256 - HCASIM_WQE_DATA_OFF + 1;
        std::memcpy(slot, &ctrl, sizeof(ctrl));
        SendRequest bad;
        CHECK(hcasim_queue_format().read_send_wqe(d.dma, sq, 3, bad).kind == WqeDecode::Malformed);
    }
    SUBCASE("a ring outside guest memory: a fault, no header") {
        QueueRing wild = ring_at(kOutside, 1, kOutside + kPage);
        WorkQueueRing wq{wild, 0, 16, 8};
        SendRequest bad;
        const WqeDecode e = hcasim_queue_format().read_send_wqe(d.dma, wq, 0, bad);
        CHECK(e.kind == WqeDecode::Fault);
        CHECK_FALSE(e.header_valid);
    }
}

TEST_CASE("hcasim format: a receive WQE decodes, with the SRQ's next index") {
    EngineDriver d;
    const uint64_t bus = d.alloc(0, 2 * kPage);
    QueueRing ring = ring_at(bus, 1, bus + kPage);
    WorkQueueRing rq{ring, 0, 16, 6};  // 16 x 64 bytes
    hcasim_recv_wqe h{};
    h.wr_id = 0x99;
    h.num_sge = 1;
    h.next = 12;
    hcasim_wqe_sge s{0x3000, 4096, 0x31};
    std::memcpy(d.host(bus) + 5 * 64, &h, sizeof(h));
    std::memcpy(d.host(bus) + 5 * 64 + sizeof(h), &s, sizeof(s));
    RecvRequest r;
    REQUIRE(hcasim_queue_format().read_recv_wqe(d.dma, rq, 5 + 16, r).kind == WqeDecode::Ok);
    CHECK(r.wr_id == 0x99);
    CHECK(r.next == 12);
    REQUIRE(r.num_sge == 1);
    CHECK(r.sge[0].addr == 0x3000);
    CHECK(r.sge[0].length == 4096);
    CHECK(r.sge[0].lkey == 0x31);

    h.num_sge = 4;  // 16 + 4 x 16 > 64
    std::memcpy(d.host(bus) + 5 * 64, &h, sizeof(h));
    CHECK(hcasim_queue_format().read_recv_wqe(d.dma, rq, 5, r).kind == WqeDecode::Malformed);
}

TEST_CASE("hcasim format: CQEs and EQEs encode, ownership flips per pass, a resize moves CQEs") {
    EngineDriver d;
    const uint64_t bus = d.alloc(0, 3 * kPage);
    QueueRing cq = ring_at(bus, 1, bus + 2 * kPage);          // 64 CQEs
    QueueRing cq2 = ring_at(bus + kPage, 1, bus + 2 * kPage); // another 64
    QueueFormat& f = hcasim_queue_format();
    REQUIRE(f.cqe_size() == HCASIM_CQE_SIZE);
    REQUIRE(f.eqe_size() == sizeof(hcasim_eqe));

    Completion c;
    c.wr_id = 0x42;
    c.status = wc::kRemAccessErr;
    c.opcode = wc::kOpRecvRdmaWithImm;
    c.vendor_err = 0x22;
    c.byte_len = 777;
    c.imm_data = 0xfeed;
    c.qpn = 0x1234;
    c.src_qp = 0x55;
    c.srqn = 3;
    c.wqe_counter = 9;
    c.pkey_index = 1;
    c.is_recv = true;
    c.with_imm = true;
    c.grh = true;
    c.solicited = true;
    // Producer index 1 of 4 entries (first pass): owner 1; index 5 (second pass): owner 0.
    REQUIRE(f.write_cqe(d.dma, cq, 4, 1, c) == 0);
    auto* e = reinterpret_cast<const hcasim_cqe*>(d.host(bus) + 1 * HCASIM_CQE_SIZE);
    CHECK(e->owner == 1);
    CHECK(e->wr_id == 0x42);
    CHECK(e->status == wc::kRemAccessErr);
    CHECK(e->opcode == wc::kOpRecvRdmaWithImm);
    CHECK(e->vendor_err == 0x22);
    CHECK(e->byte_len == 777);
    CHECK(e->imm_data == 0xfeed);
    CHECK(e->qpn == 0x1234);
    CHECK(e->src_qp == 0x55);
    CHECK(e->srqn == 3);
    CHECK(e->wqe_counter == 9);
    CHECK(e->pkey_index == 1);
    CHECK(e->is_recv == 1);
    CHECK(e->flags == (HCASIM_CQE_WITH_IMM | HCASIM_CQE_GRH | HCASIM_CQE_SOLICITED));
    REQUIRE(f.write_cqe(d.dma, cq, 4, 5, c) == 0);
    CHECK(e->owner == 0);

    // Moved to index 6 of an 8-entry ring (first pass: owner 1), intact.
    REQUIRE(f.move_cqe(d.dma, cq, 4, 5, cq2, 8, 6) == 0);
    auto* m = reinterpret_cast<const hcasim_cqe*>(d.host(bus + kPage) + 6 * HCASIM_CQE_SIZE);
    CHECK(m->owner == 1);
    CHECK(m->wr_id == 0x42);
    CHECK(m->byte_len == 777);

    REQUIRE(f.write_eqe(d.dma, cq2, 4, 6, EventEntry{HCASIM_EVENT_ASYNC, ev::kQpFatal, 0x77}) == 0);
    auto* q = reinterpret_cast<const hcasim_eqe*>(d.host(bus + kPage) + 2 * sizeof(hcasim_eqe));
    CHECK(q->type == HCASIM_EVENT_ASYNC);
    CHECK(q->ibv_event == ev::kQpFatal);
    CHECK(q->obj == 0x77);
    CHECK(q->seq == 6);
    CHECK(q->owner == 0);

    QueueRing wild = ring_at(kOutside, 1, kOutside + kPage);
    CHECK(f.write_cqe(d.dma, wild, 4, 0, c) == EFAULT);
    CHECK(f.write_eqe(d.dma, wild, 4, 0, EventEntry{}) == EFAULT);
}

// ---- 2. the roles on decoded requests ---------------------------------------

// A second queue format: a WQE slot holds a 4-byte handle into the test's
// table of decoded requests; a CQE slot holds a handle into a table of the
// completions the engine made, and its last byte the ownership bit.  The
// CQ and EQ rings keep hcasim's entry sizes (the firmware sizes them).
class HandleFormat final : public QueueFormat {
public:
    std::vector<SendRequest> sends;
    std::vector<RecvRequest> recvs;
    std::vector<Completion> completions;

    const char* name() const override { return "handles"; }
    WqeDecode read_send_wqe(DmaSpace& dma, const WorkQueueRing& sq, uint32_t slot, SendRequest& out) override {
        return take(dma, sq, slot, sends, out);
    }
    WqeDecode read_recv_wqe(DmaSpace& dma, const WorkQueueRing& rq, uint32_t slot, RecvRequest& out) override {
        return take(dma, rq, slot, recvs, out);
    }
    size_t cqe_size() const override { return HCASIM_CQE_SIZE; }
    size_t eqe_size() const override { return sizeof(hcasim_eqe); }
    int write_cqe(DmaSpace& dma, QueueRing& ring, uint32_t entries, uint32_t pi, const Completion& c) override {
        completions.push_back(c);
        return put(dma, ring, HCASIM_CQE_SIZE, entries, pi, static_cast<uint32_t>(completions.size() - 1));
    }
    int move_cqe(DmaSpace& dma, QueueRing& from, uint32_t from_entries, uint32_t from_index, QueueRing& to,
                 uint32_t to_entries, uint32_t to_index) override {
        uint32_t h = 0;
        if (from.read(dma, uint64_t{from_index % from_entries} * HCASIM_CQE_SIZE, &h, 4)) return EFAULT;
        return put(dma, to, HCASIM_CQE_SIZE, to_entries, to_index, h);
    }
    int write_eqe(DmaSpace& dma, QueueRing& ring, uint32_t entries, uint32_t pi, const EventEntry& e) override {
        events.push_back(e);
        return put(dma, ring, sizeof(hcasim_eqe), entries, pi, static_cast<uint32_t>(events.size() - 1));
    }
    std::vector<EventEntry> events;

private:
    template <class Request>
    static WqeDecode take(DmaSpace& dma, const WorkQueueRing& q, uint32_t slot,
                          const std::vector<Request>& table, Request& out) {
        uint32_t h = 0;
        if (q.ring.read(dma, q.base + (uint64_t{slot % q.entries} << q.log_stride), &h, 4))
            return {WqeDecode::Fault, "handle outside guest memory", false};
        if (h >= table.size()) return {WqeDecode::Malformed, "no such request", false};
        out = table[h];
        return {};
    }
    static int put(DmaSpace& dma, QueueRing& ring, size_t size, uint32_t entries, uint32_t pi, uint32_t h) {
        std::vector<uint8_t> e(size);
        std::memcpy(e.data(), &h, 4);
        e.back() = static_cast<uint8_t>(((pi / entries) & 1) ^ 1);
        return ring.write_owned_entry(dma, uint64_t{pi % entries} * size, e.data(), size) ? EFAULT : 0;
    }
};

// One channel, an RC pair a <-> b on their own CQs, one buffer; requests
// posted as handles, completions read back as handles.
struct HandleWorld {
    HandleFormat format;
    EngineDriver d{nullptr, {}, &format};
    uint32_t pdn = d.pd(0);
    EqH aeq = d.eq(0);
    CqH cq_a = d.cq(0, aeq.eqn), cq_b = d.cq(0, aeq.eqn);
    QpH a = d.qp(0, qpt::kRc, pdn, cq_a.cqn, cq_a.cqn, aeq.eqn);
    QpH b = d.qp(0, qpt::kRc, pdn, cq_b.cqn, cq_b.cqn, aeq.eqn);
    MrH buf = d.mr(0, pdn, 64 * 1024);

    HandleWorld() {
        d.connect(a, b.qpn);
        d.connect(b, a.qpn);
    }
    Sge sge(uint64_t off, uint32_t len) const { return {buf.addr + off, len, buf.key}; }
    void post(QpH& q, std::vector<SendRequest> rs) {
        for (const SendRequest& r : rs) {
            const auto h = static_cast<uint32_t>(format.sends.size());
            format.sends.push_back(r);
            std::memcpy(d.sq_slot(q, q.sq_pi++), &h, 4);
        }
        d.ring_sq(q);
    }
    void post_recv(QpH& q, const RecvRequest& r) {
        const auto h = static_cast<uint32_t>(format.recvs.size());
        format.recvs.push_back(r);
        std::memcpy(q.ring.host + uint64_t{q.rq_pi % (1u << q.log_rq)} * q.rq_stride, &h, 4);
        __atomic_store_n(&q.ring.db[0], ++q.rq_pi, __ATOMIC_RELEASE);
        d.kick(q.ch);
    }
    // Software-owned entries from ci on, as the completions they name.
    std::vector<Completion> poll(CqH& c) {
        std::vector<Completion> out;
        const uint32_t n = 1u << c.log_size;
        for (;;) {
            const uint8_t* e = c.ring.host + uint64_t{c.ci % n} * HCASIM_CQE_SIZE;
            if ((__atomic_load_n(e + HCASIM_CQE_SIZE - 1, __ATOMIC_ACQUIRE) & 1) != (((c.ci / n) & 1) ^ 1)) break;
            uint32_t h = 0;
            std::memcpy(&h, e, 4);
            REQUIRE(h < format.completions.size());
            out.push_back(format.completions[h]);
            ++c.ci;
        }
        __atomic_store_n(&c.ring.db[0], c.ci, __ATOMIC_RELEASE);
        return out;
    }
};

SendRequest request(uint8_t opcode, uint64_t wr_id, std::vector<Sge> sges) {
    SendRequest r;
    r.opcode = opcode;
    r.wr_id = wr_id;
    r.signaled = true;
    r.num_sge = static_cast<uint32_t>(sges.size());
    std::copy(sges.begin(), sges.end(), r.sge.begin());
    return r;
}

TEST_CASE("the roles on decoded requests: RC SEND, WRITE, READ and an atomic through a second format") {
    HandleWorld w;
    uint8_t* m = w.buf.host;
    for (int i = 0; i < 3000; ++i) m[i] = static_cast<uint8_t>(i * 7);
    std::memset(m + 10000, 0, 20000);
    const uint64_t counter = 40;
    std::memcpy(m + 30000, &counter, 8);

    RecvRequest rr;
    rr.wr_id = 0xb1;
    rr.num_sge = 2;
    rr.sge[0] = w.sge(10000, 1000);
    rr.sge[1] = w.sge(12000, 2000);
    w.post_recv(w.b, rr);

    // SEND with immediate, 2500 bytes from two SGEs (3 packets at MTU 1024).
    SendRequest send = request(wr::kSendImm, 0xa1, {w.sge(0, 1500), w.sge(1500, 1000)});
    send.imm_data = 0x01020304;
    // WRITE 3000 bytes to b's window at 16000.
    SendRequest write = request(wr::kRdmaWrite, 0xa2, {w.sge(0, 3000)});
    write.remote_addr = w.buf.addr + 16000;
    write.rkey = w.buf.key;
    // READ those 3000 bytes back to 20000.
    SendRequest read = request(wr::kRdmaRead, 0xa3, {w.sge(20000, 3000)});
    read.remote_addr = w.buf.addr + 16000;
    read.rkey = w.buf.key;
    // FETCH_AND_ADD 2 to the counter; the old value lands at 30008.
    SendRequest fadd = request(wr::kFetchAdd, 0xa4, {w.sge(30008, 8)});
    fadd.remote_addr = w.buf.addr + 30000;
    fadd.rkey = w.buf.key;
    fadd.compare_add = 2;
    w.post(w.a, {send, write, read, fadd});
    w.d.run();

    const std::vector<Completion> ca = w.poll(w.cq_a);
    REQUIRE(ca.size() == 4);
    const uint64_t ids[] = {0xa1, 0xa2, 0xa3, 0xa4};
    const uint8_t ops[] = {wc::kOpSend, wc::kOpRdmaWrite, wc::kOpRdmaRead, wc::kOpFetchAdd};
    for (size_t i = 0; i < 4; ++i) {
        CHECK(ca[i].wr_id == ids[i]);
        CHECK(ca[i].status == wc::kSuccess);
        CHECK(ca[i].opcode == ops[i]);
        CHECK(ca[i].qpn == w.a.qpn);
        CHECK_FALSE(ca[i].is_recv);
        CHECK(ca[i].wqe_counter == i);
    }
    CHECK(ca[2].byte_len == 3000);
    CHECK(ca[3].byte_len == 8);

    const std::vector<Completion> cb = w.poll(w.cq_b);
    REQUIRE(cb.size() == 1);
    CHECK(cb[0].wr_id == 0xb1);
    CHECK(cb[0].status == wc::kSuccess);
    CHECK(cb[0].opcode == wc::kOpRecv);
    CHECK(cb[0].is_recv);
    CHECK(cb[0].byte_len == 2500);
    CHECK(cb[0].with_imm);
    CHECK(cb[0].imm_data == 0x01020304);
    CHECK(cb[0].src_qp == w.a.qpn);

    // The SEND scattered 1000 + 1500 bytes; the WRITE and READ moved 3000.
    CHECK(std::memcmp(m + 10000, m, 1000) == 0);
    CHECK(std::memcmp(m + 12000, m + 1000, 1500) == 0);
    CHECK(std::memcmp(m + 16000, m, 3000) == 0);
    CHECK(std::memcmp(m + 20000, m, 3000) == 0);
    uint64_t now = 0, old = 0;
    std::memcpy(&now, m + 30000, 8);
    std::memcpy(&old, m + 30008, 8);
    CHECK(now == 42);
    CHECK(old == 40);
}

TEST_CASE("the roles on decoded requests: a request the QP cannot take errs, the rest flush") {
    HandleWorld w;
    // Inline data on a READ is not a request a QP takes (mlx5 builds no
    // inline segment for it): the requester's check, not the format's.
    SendRequest bad = request(wr::kRdmaRead, 0xc1, {});
    bad.is_inline = true;
    bad.inline_len = 8;
    SendRequest after = request(wr::kSend, 0xc2, {w.sge(0, 64)});
    after.signaled = false;  // a flush completes it all the same
    w.post(w.a, {bad, after});
    RecvRequest rr;
    rr.wr_id = 0xd1;
    rr.num_sge = 1;
    rr.sge[0] = w.sge(100, 64);
    w.post_recv(w.a, rr);
    w.d.run();

    const std::vector<Completion> ca = w.poll(w.cq_a);
    REQUIRE(ca.size() == 3);
    CHECK(ca[0].wr_id == 0xc1);
    CHECK(ca[0].status == wc::kLocQpOpErr);
    CHECK(ca[1].wr_id == 0xc2);
    CHECK(ca[1].status == wc::kWrFlushErr);
    CHECK(ca[2].wr_id == 0xd1);
    CHECK(ca[2].status == wc::kWrFlushErr);
    CHECK(ca[2].is_recv);
    CHECK(w.d.state(w.a) == qps::kErr);

    // A handle the table does not hold: malformed to the format, so the
    // WQE completes in error (header unknown: wr_id 0).
    HandleWorld v;
    const uint32_t h = 1000;
    std::memcpy(v.d.sq_slot(v.a, v.a.sq_pi++), &h, 4);
    v.d.ring_sq(v.a);
    v.d.run();
    const std::vector<Completion> cv = v.poll(v.cq_a);
    REQUIRE(cv.size() == 1);
    CHECK(cv[0].status == wc::kLocQpOpErr);
    CHECK(v.d.state(v.a) == qps::kErr);
}

}  // namespace
