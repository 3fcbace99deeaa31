// Host-direct: bad input that never passes the verbs library's checks,
// written straight into queue memory (issue 6, section 7).  The QPs under
// test live on a parent domain whose allocator hands the test their ring
// and doorbell record (rdma-core ibv_alloc_parent_domain(3)); a WQE or a
// doorbell record is then written by hand and the device is kicked
// through another QP of the same context (one UAR: the device scans every
// queue on it).  Each gives the error CQE or async event mlx5 gives (see
// docs/datapath.md, "Bad input"), and the other QPs keep working.  A QP
// whose context is closed with everything still in it (a dead process)
// leaves its live peer with IBV_WC_RETRY_EXC_ERR, never a hang.
#include "abi/hcasim_abi.h"
#include "tests/host/rdma_fixture.h"

#include <infiniband/mlx5dv.h>
#include <poll.h>

#include <cstdlib>
#include <cstring>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

using namespace hcasim::test;

namespace {

struct Block {
    uint64_t type;
    void* ptr;
    size_t size;
};

void* raw_alloc(ibv_pd*, void* ctx, size_t size, size_t align, uint64_t type) {
    void* p = nullptr;
    if (posix_memalign(&p, std::max<size_t>(align, sizeof(void*)), size) != 0) return nullptr;
    std::memset(p, 0, size);
    static_cast<std::vector<Block>*>(ctx)->push_back({type, p, size});
    return p;
}

void raw_free(ibv_pd*, void* ctx, void* ptr, uint64_t) {
    auto* blocks = static_cast<std::vector<Block>*>(ctx);
    std::erase_if(*blocks, [&](const Block& b) { return b.ptr == ptr; });
    std::free(ptr);
}

bool readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
}

// The next async event (required within the deadline), acked.
std::pair<ibv_event_type, void*> next_async(ibv_context* ctx) {
    REQUIRE(readable(ctx->async_fd, 10000));
    ibv_async_event ev{};
    REQUIRE(ibv_get_async_event(ctx, &ev) == 0);
    void* obj = ev.element.qp;  // a union: qp, cq or srq
    ibv_ack_async_event(&ev);
    return {ev.event_type, obj};
}

// Queue memory of a QP made with QpCaps{16, 16, 2, 2}: RQ 16 x 64 bytes,
// then SQ 16 x 256 bytes (abi/hcasim_abi.h; verbs/qp.cpp's layout).
constexpr uint32_t kSqOffset = 16 * 64, kSqStride = 256, kSqEntries = 16;
constexpr QpCaps kCaps{16, 16, 2, 2, 0};

struct RawQp {
    ibv_qp* qp = nullptr;
    uint8_t* buf = nullptr;    // RQ at 0, SQ at kSqOffset
    uint32_t* db = nullptr;    // rq_pi, sq_pi
    uint8_t* sq_slot(uint32_t i) const { return buf + kSqOffset + (i % kSqEntries) * kSqStride; }
};

// One context: QPs a and b on a parent domain with raw queue memory
// (a -> b, type chosen), and a healthy RC pair u <-> v.
struct Raw : VerbsFixture {
    std::vector<Block> blocks;
    ibv_pd* pad = nullptr;
    ibv_cq *cq_a = nullptr, *cq_b = nullptr, *cq_o = nullptr;
    RawQp a, b;
    ibv_qp *u = nullptr, *v = nullptr;
    ibv_qp_type type;
    Buffer buf{pd, 64 * 1024, kAllAccess, 0x33};

    explicit Raw(ibv_qp_type t = IBV_QPT_RC, ConnectAttr ca = {}) : type(t) {
        ibv_parent_domain_init_attr pa{};
        pa.pd = pd;
        pa.comp_mask = IBV_PARENT_DOMAIN_INIT_ATTR_ALLOCATORS | IBV_PARENT_DOMAIN_INIT_ATTR_PD_CONTEXT;
        pa.alloc = raw_alloc;
        pa.free = raw_free;
        pa.pd_context = &blocks;
        pad = ibv_alloc_parent_domain(ctx, &pa);
        REQUIRE(pad);
        cq_a = ibv_create_cq(ctx, 64, nullptr, nullptr, 0);
        cq_b = ibv_create_cq(ctx, 64, nullptr, nullptr, 0);
        cq_o = ibv_create_cq(ctx, 64, nullptr, nullptr, 0);
        REQUIRE(cq_a);
        REQUIRE(cq_b);
        REQUIRE(cq_o);
        a = raw_qp(cq_a);
        b = raw_qp(cq_b);
        u = create_qp(pd, cq_o, cq_o, IBV_QPT_RC);
        v = create_qp(pd, cq_o, cq_o, IBV_QPT_RC);
        REQUIRE(u);
        REQUIRE(v);
        if (type == IBV_QPT_UD) {
            REQUIRE(ud_ready(a.qp, 0x11111111) == 0);
            REQUIRE(ud_ready(b.qp, 0x11111111) == 0);
        } else {
            connect_pair(a.qp, b.qp, ca);
        }
        connect_pair(u, v);
    }
    ~Raw() {
        for (ibv_qp* q : {a.qp, b.qp, u, v}) CHECK(ibv_destroy_qp(q) == 0);
        for (ibv_cq* c : {cq_a, cq_b, cq_o}) CHECK(ibv_destroy_cq(c) == 0);
        CHECK(ibv_dealloc_pd(pad) == 0);
    }
    RawQp raw_qp(ibv_cq* cq) {
        const size_t before = blocks.size();
        RawQp r;
        r.qp = create_qp(pad, cq, cq, type, kCaps);
        REQUIRE(r.qp);
        REQUIRE(blocks.size() == before + 2);
        REQUIRE(blocks[before].type == MLX5DV_RES_TYPE_QP);
        REQUIRE(blocks[before].size == kSqOffset + kSqEntries * kSqStride);
        REQUIRE(blocks[before + 1].type == MLX5DV_RES_TYPE_DBR);
        r.buf = static_cast<uint8_t*>(blocks[before].ptr);
        r.db = static_cast<uint32_t*>(blocks[before + 1].ptr);
        return r;
    }
    // u writes into buf and completes: by then the device has also handled
    // whatever the same kick showed it on a and b (one UAR, scanned in
    // creation order, served in order).
    void kick_and_check_healthy() {
        Buffer dst(pd, 256);
        REQUIRE(post_one(u, IBV_WR_RDMA_WRITE, {buf.sge(0, 256)}, 0x71, IBV_SEND_SIGNALED, dst.addr(),
                         dst.mr->rkey) == 0);
        auto wc = poll_cq(cq_o, 1);
        REQUIRE(wc.size() == 1);
        CHECK_MESSAGE(wc[0].status == IBV_WC_SUCCESS, status_str(wc[0]));
        CHECK(dst.data[255] == 0x33);
    }
    ibv_qp_state state(ibv_qp* q) {
        ibv_qp_attr at{};
        ibv_qp_init_attr ia{};
        REQUIRE(ibv_query_qp(q, &at, IBV_QP_STATE, &ia) == 0);
        return at.qp_state;
    }
    // Completions on cq right now (the device already wrote them).
    std::vector<ibv_wc> now(ibv_cq* cq) {
        std::vector<ibv_wc> out(16);
        const int n = ibv_poll_cq(cq, static_cast<int>(out.size()), out.data());
        REQUIRE(n >= 0);
        out.resize(static_cast<size_t>(n));
        return out;
    }
};

void put_ctrl(uint8_t* slot, uint8_t opcode, uint8_t num_sge, uint64_t wr_id, uint8_t flags = 0,
              uint32_t inline_len = 0) {
    hcasim_wqe_ctrl c{};
    c.opcode = opcode;
    c.flags = flags;
    c.num_sge = num_sge;
    c.wr_id = wr_id;
    c.inline_len = inline_len;
    std::memcpy(slot, &c, sizeof(c));
}

void put_sge(uint8_t* slot, unsigned i, uint64_t addr, uint32_t len, uint32_t lkey) {
    const hcasim_wqe_sge s{addr, len, lkey};
    std::memcpy(slot + HCASIM_WQE_DATA_OFF + 16 * i, &s, sizeof(s));
}

struct Malformed {
    const char* what;
    ibv_qp_type type;
    ibv_wc_status status;
    void (*write)(uint8_t* slot, const Buffer& buf);
};

const Malformed kMalformed[] = {
    {"unknown opcode", IBV_QPT_RC, IBV_WC_LOC_QP_OP_ERR,
     [](uint8_t* s, const Buffer& b) {
         put_ctrl(s, 0x7f, 1, 0xbad);
         put_sge(s, 0, b.addr(), 8, b.mr->lkey);
     }},
    {"num_sge beyond the stride", IBV_QPT_RC, IBV_WC_LOC_QP_OP_ERR,
     [](uint8_t* s, const Buffer& b) {
         put_ctrl(s, IBV_WR_SEND, 200, 0xbad);
         put_sge(s, 0, b.addr(), 8, b.mr->lkey);
     }},
    {"inline length beyond the stride", IBV_QPT_RC, IBV_WC_LOC_QP_OP_ERR,
     [](uint8_t* s, const Buffer&) { put_ctrl(s, IBV_WR_SEND, 0, 0xbad, HCASIM_WQE_INLINE, 4096); }},
    {"SGE lengths summing past 2^31", IBV_QPT_RC, IBV_WC_LOC_LEN_ERR,
     [](uint8_t* s, const Buffer& b) {
         put_ctrl(s, IBV_WR_SEND, 2, 0xbad);
         put_sge(s, 0, b.addr(), 0x7fffffff, b.mr->lkey);
         put_sge(s, 1, b.addr(), 0x100, b.mr->lkey);
     }},
    {"UD SEND with an all-zero address vector", IBV_QPT_UD, IBV_WC_LOC_QP_OP_ERR,
     [](uint8_t* s, const Buffer& b) {
         put_ctrl(s, IBV_WR_SEND, 1, 0xbad);
         put_sge(s, 0, b.addr(), 8, b.mr->lkey);
     }},
};

}  // namespace

TEST_CASE("a malformed WQE written into the SQ: mlx5's error CQE, the QP in ERR, the others go on") {
    for (const Malformed& m : kMalformed) {
        CAPTURE(m.what);
        Raw r(m.type);
        m.write(r.a.sq_slot(0), r.buf);
        __atomic_store_n(&r.a.db[1], 1u, __ATOMIC_RELEASE);
        r.kick_and_check_healthy();
        auto wc = r.now(r.cq_a);
        REQUIRE(wc.size() == 1);
        CHECK(wc[0].wr_id == 0xbad);
        CHECK_MESSAGE(wc[0].status == m.status, status_str(wc[0]));
        CHECK(wc[0].qp_num == r.a.qp->qp_num);
        CHECK(r.state(r.a.qp) == IBV_QPS_ERR);
        CHECK(r.state(r.b.qp) == IBV_QPS_RTS);
        CHECK_FALSE(readable(r.ctx->async_fd, 0));  // a WQE fault raises no event
    }
}

TEST_CASE("SQ doorbell beyond the ring: IBV_EVENT_QP_FATAL, no completion made up, the others go on") {
    Raw r;
    for (uint32_t i = 0; i < kSqEntries; ++i) {  // every slot a valid-looking signaled SEND
        put_ctrl(r.a.sq_slot(i), IBV_WR_SEND, 1, 0x5000 + i, HCASIM_WQE_SIGNALED);
        put_sge(r.a.sq_slot(i), 0, r.buf.addr(), 8, r.buf.mr->lkey);
    }
    __atomic_store_n(&r.a.db[1], 1000u, __ATOMIC_RELEASE);
    r.kick_and_check_healthy();
    const auto [ev, obj] = next_async(r.ctx);
    CHECK(ev == IBV_EVENT_QP_FATAL);
    CHECK(obj == r.a.qp);
    CHECK(r.state(r.a.qp) == IBV_QPS_ERR);
    r.kick_and_check_healthy();  // kicked again: still nothing flushed from the ring
    CHECK(r.now(r.cq_a).empty());
    CHECK(r.now(r.cq_b).empty());
}

TEST_CASE("RQ doorbell beyond the ring: the receiver gets QP_FATAL, the sender IBV_WC_REM_OP_ERR") {
    Raw r;
    __atomic_store_n(&r.b.db[0], 1000u, __ATOMIC_RELEASE);
    REQUIRE(post_one(r.a.qp, IBV_WR_SEND, {r.buf.sge(0, 64)}, 0x1) == 0);
    auto wc = poll_cq(r.cq_a, 1);
    REQUIRE(wc.size() == 1);
    CHECK_MESSAGE(wc[0].status == IBV_WC_REM_OP_ERR, status_str(wc[0]));
    const auto [ev, obj] = next_async(r.ctx);
    CHECK(ev == IBV_EVENT_QP_FATAL);
    CHECK(obj == r.b.qp);
    CHECK(r.state(r.b.qp) == IBV_QPS_ERR);
    r.kick_and_check_healthy();
    CHECK(r.now(r.cq_b).empty());
}

TEST_CASE("CQ overrun: IBV_EVENT_CQ_ERR and QP_FATAL for the QP on it; other CQs keep working") {
    Raw r;
    ibv_cq* small = ibv_create_cq(r.ctx, 3, nullptr, nullptr, 0);
    REQUIRE(small);
    const int entries = small->cqe + 1;
    ibv_qp* s = create_qp(r.pd, small, small, IBV_QPT_RC, {64, 4, 1, 1, 0});
    ibv_qp* t = create_qp(r.pd, r.cq_b, r.cq_b, IBV_QPT_RC);
    REQUIRE(s);
    REQUIRE(t);
    connect_pair(s, t);
    Buffer dst(r.pd, 4096);
    for (int i = 0; i < entries + 3; ++i)
        REQUIRE(post_one(s, IBV_WR_RDMA_WRITE, {r.buf.sge(0, 8)}, 100 + i, IBV_SEND_SIGNALED,
                         dst.addr(8 * i), dst.mr->rkey) == 0);
    std::vector<std::pair<ibv_event_type, void*>> evs{next_async(r.ctx), next_async(r.ctx)};
    CHECK(evs[0].first == IBV_EVENT_CQ_ERR);
    CHECK(evs[0].second == small);
    CHECK(evs[1].first == IBV_EVENT_QP_FATAL);
    CHECK(evs[1].second == s);
    CHECK(r.state(s) == IBV_QPS_ERR);
    auto wc = poll_cq(small, static_cast<size_t>(entries), 1000);
    CHECK(static_cast<int>(wc.size()) == entries);
    for (const auto& w : wc) CHECK_MESSAGE(w.status == IBV_WC_SUCCESS, status_str(w));
    r.kick_and_check_healthy();
    CHECK(r.now(small).empty());  // the CQ in error takes nothing more
    CHECK(ibv_destroy_qp(s) == 0);
    CHECK(ibv_destroy_qp(t) == 0);
    CHECK(ibv_destroy_cq(small) == 0);
}

TEST_CASE("the QP of a closed context (a dead process): the live peer gets IBV_WC_RETRY_EXC_ERR") {
    Raw r;
    ConnectAttr quick;
    quick.timeout = 10;  // 4 ms
    quick.retry_cnt = 1;
    ibv_context* dead = ibv_open_device(r.list[0]);
    REQUIRE(dead);
    // What the dead process leaves behind is never freed by it.
#if defined(__SANITIZE_ADDRESS__)
    __lsan_disable();
#endif
    ibv_pd* dpd = ibv_alloc_pd(dead);
    ibv_cq* dcq = ibv_create_cq(dead, 16, nullptr, nullptr, 0);
    ibv_qp* d = dpd && dcq ? create_qp(dpd, dcq, dcq, IBV_QPT_RC) : nullptr;
    void* mem = std::calloc(1, 4096);
    ibv_mr* dmr = dpd ? ibv_reg_mr(dpd, mem, 4096, IBV_ACCESS_LOCAL_WRITE) : nullptr;
#if defined(__SANITIZE_ADDRESS__)
    __lsan_enable();
#endif
    REQUIRE(d);
    REQUIRE(dmr);
    ibv_qp* l = create_qp(r.pd, r.cq_b, r.cq_b, IBV_QPT_RC);
    REQUIRE(l);
    connect_pair(l, d, quick);
    ibv_sge rs{reinterpret_cast<uintptr_t>(mem), 4096, dmr->lkey};
    REQUIRE(post_recv_one(d, {rs}, 0xd0) == 0);
    REQUIRE(post_one(l, IBV_WR_SEND, {r.buf.sge(0, 64)}, 0x1) == 0);
    auto wc = poll_cq(r.cq_b, 1);
    REQUIRE(wc.size() == 1);
    CHECK(wc[0].status == IBV_WC_SUCCESS);
    REQUIRE(post_recv_one(d, {rs}, 0xd1) == 0);
    // The process dies: its context goes with everything in it.
    CHECK(ibv_close_device(dead) == 0);
    REQUIRE(post_one(l, IBV_WR_SEND, {r.buf.sge(0, 64)}, 0x2) == 0);
    std::memset(r.buf.data.data() + 1024, 0x44, 64);
    REQUIRE(post_one(l, IBV_WR_RDMA_WRITE, {r.buf.sge(1024, 64)}, 0x3, IBV_SEND_SIGNALED,
                     reinterpret_cast<uintptr_t>(mem), dmr->rkey) == 0);
    wc = poll_cq(r.cq_b, 2);
    REQUIRE(wc.size() == 2);
    CHECK_MESSAGE(wc[0].status == IBV_WC_RETRY_EXC_ERR, status_str(wc[0]));
    CHECK_MESSAGE(wc[1].status == IBV_WC_WR_FLUSH_ERR, status_str(wc[1]));
    CHECK(static_cast<uint8_t*>(mem)[0] == 0x33);  // the first SEND landed, the WRITE never did
    CHECK(r.state(l) == IBV_QPS_ERR);
    r.kick_and_check_healthy();
    CHECK(ibv_destroy_qp(l) == 0);
}
