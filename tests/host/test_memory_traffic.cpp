// Host-direct: the seed memory objects in traffic (rdma-core's
// DeviceMemoryTest and DmaHandleTrafficTest, data-path.md): MEMIC DM MRs
// (zero-based: addr = offset in the DM) as SGEs and as RDMA targets of
// send, write, write-imm, read, fetch-add and compare-swap; MRs with a DMA
// handle, whose device writes carry the TPH tag; and ibv_alloc_buf /
// ibv_reg_buf_mr (rdma-core ibv_alloc_buf(3)), which Debian's
// ibv_rc_pingpong always uses.
#include "tests/host/rdma_fixture.h"

#include <arpa/inet.h>
#include <sched.h>

#include <cstring>

using namespace hcasim::test;

namespace {

constexpr int kDmAccess = IBV_ACCESS_ZERO_BASED | IBV_ACCESS_LOCAL_WRITE |
                          IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
                          IBV_ACCESS_REMOTE_ATOMIC;

struct Dm {
    Dm(ibv_context* ctx, ibv_pd* pd, size_t len) : len(len) {
        ibv_alloc_dm_attr a{};
        a.length = len;
        dm = ibv_alloc_dm(ctx, &a);
        REQUIRE(dm);
        mr = ibv_reg_dm_mr(pd, dm, 0, len, kDmAccess);
        REQUIRE(mr);
    }
    ~Dm() {
        CHECK(ibv_dereg_mr(mr) == 0);
        CHECK(ibv_free_dm(dm) == 0);
    }
    std::vector<uint8_t> read() const {
        std::vector<uint8_t> v(len);
        REQUIRE(ibv_memcpy_from_dm(v.data(), dm, 0, len) == 0);
        return v;
    }
    size_t len;
    ibv_dm* dm = nullptr;
    ibv_mr* mr = nullptr;
};

}  // namespace

TEST_CASE("DM MRs: MEMIC as SGE and RDMA target of send, write, write-imm, read, atomics") {
    RcPair p;
    Dm dm(p.ctx, p.pd, 4096);
    Buffer host(p.pd, 4096);
    for (size_t i = 0; i < 4096; ++i) host.data[i] = static_cast<uint8_t>(i ^ 0x5c);
    // send from host into a DM receive (zero-based SGE: addr = offset)
    REQUIRE(post_recv_one(p.b, {{100, 256, dm.mr->lkey}}, 1) == 0);
    REQUIRE(post_one(p.a, IBV_WR_SEND, {host.sge(0, 256)}, 2) == 0);
    auto r = poll_cq(p.cq_b, 1);
    REQUIRE(r.size() == 1);
    CHECK(r[0].status == IBV_WC_SUCCESS);
    CHECK(r[0].byte_len == 256);
    REQUIRE(poll_cq(p.cq_a, 1).size() == 1);
    auto v = dm.read();
    CHECK(std::memcmp(v.data() + 100, host.data.data(), 256) == 0);
    // RDMA write into the DM (raddr = offset), then with immediate
    REQUIRE(post_one(p.a, IBV_WR_RDMA_WRITE, {host.sge(1000, 512)}, 3, IBV_SEND_SIGNALED, 1024,
                     dm.mr->rkey) == 0);
    REQUIRE(post_recv_one(p.b, {}, 4) == 0);
    REQUIRE(post_one(p.a, IBV_WR_RDMA_WRITE_WITH_IMM, {host.sge(2000, 64)}, 5, IBV_SEND_SIGNALED,
                     2048, dm.mr->rkey, htonl(9)) == 0);
    auto s = poll_cq(p.cq_a, 2);
    REQUIRE(s.size() == 2);
    for (const auto& w : s) CHECK_MESSAGE(w.status == IBV_WC_SUCCESS, status_str(w));
    r = poll_cq(p.cq_b, 1);
    REQUIRE(r.size() == 1);
    CHECK(r[0].imm_data == htonl(9));
    v = dm.read();
    CHECK(std::memcmp(v.data() + 1024, host.data.data() + 1000, 512) == 0);
    CHECK(std::memcmp(v.data() + 2048, host.data.data() + 2000, 64) == 0);
    // RDMA read out of the DM, and a send sourced from the DM
    Buffer back(p.pd, 1024);
    REQUIRE(post_one(p.a, IBV_WR_RDMA_READ, {back.sge(0, 512)}, 6, IBV_SEND_SIGNALED, 1024,
                     dm.mr->rkey) == 0);
    s = poll_cq(p.cq_a, 1);
    REQUIRE(s.size() == 1);
    CHECK(s[0].status == IBV_WC_SUCCESS);
    CHECK(std::memcmp(back.data.data(), host.data.data() + 1000, 512) == 0);
    REQUIRE(post_recv_one(p.a, {back.sge(512, 256)}, 7) == 0);
    REQUIRE(post_one(p.b, IBV_WR_SEND, {{100, 256, dm.mr->lkey}}, 8) == 0);
    REQUIRE(poll_cq(p.cq_b, 1).size() == 1);
    r = poll_cq(p.cq_a, 1);
    REQUIRE(r.size() == 1);
    CHECK(r[0].status == IBV_WC_SUCCESS);
    CHECK(std::memcmp(back.data.data() + 512, host.data.data(), 256) == 0);
    // atomics on MEMIC
    const uint64_t init = 40;
    REQUIRE(ibv_memcpy_to_dm(dm.dm, 3072, &init, 8) == 0);
    ibv_send_wr wr{};
    ibv_sge sge = back.sge(0, 8);
    wr.opcode = IBV_WR_ATOMIC_FETCH_AND_ADD;
    wr.send_flags = IBV_SEND_SIGNALED;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    wr.wr.atomic.remote_addr = 3072;
    wr.wr.atomic.rkey = dm.mr->rkey;
    wr.wr.atomic.compare_add = 2;
    ibv_send_wr* bad = nullptr;
    REQUIRE(ibv_post_send(p.a, &wr, &bad) == 0);
    wr.opcode = IBV_WR_ATOMIC_CMP_AND_SWP;
    wr.wr.atomic.compare_add = 42;
    wr.wr.atomic.swap = 7;
    sge = back.sge(8, 8);
    REQUIRE(ibv_post_send(p.a, &wr, &bad) == 0);
    s = poll_cq(p.cq_a, 2);
    REQUIRE(s.size() == 2);
    for (const auto& w : s) CHECK(w.status == IBV_WC_SUCCESS);
    uint64_t old_add = 0, old_cas = 0, now = 0;
    std::memcpy(&old_add, back.data.data(), 8);
    std::memcpy(&old_cas, back.data.data() + 8, 8);
    REQUIRE(ibv_memcpy_from_dm(&now, dm.dm, 3072, 8) == 0);
    CHECK(old_add == 40);
    CHECK(old_cas == 42);
    CHECK(now == 7);
}

TEST_CASE("DMA-handle MRs in traffic: send, write and fetch-add land, writes carry the TPH tag") {
    RcPair p(IBV_QPT_RC, {}, {}, {"--tph-st-map", "0:0x42,1:0x43"});
    cpu_set_t s;
    CPU_ZERO(&s);
    REQUIRE(sched_getaffinity(0, sizeof(s), &s) == 0);
    uint32_t cpu = 0;
    while (!CPU_ISSET(cpu, &s)) ++cpu;
    ibv_dmah_init_attr da{};
    da.comp_mask = IBV_DMAH_INIT_ATTR_MASK_PH | IBV_DMAH_INIT_ATTR_MASK_CPU_ID |
                   IBV_DMAH_INIT_ATTR_MASK_TPH_MEM_TYPE;
    da.ph = 1;
    da.cpu_id = cpu;
    da.tph_mem_type = IBV_TPH_MEM_TYPE_VM;
    ibv_dmah* dmah = ibv_alloc_dmah(p.ctx, &da);
    REQUIRE(dmah);
    std::vector<uint8_t> mem(4096, 0);
    ibv_mr_init_attr a{};
    a.length = mem.size();
    a.access = kAllAccess;
    a.addr = mem.data();
    a.dmah = dmah;
    a.comp_mask = IBV_REG_MR_MASK_ADDR | IBV_REG_MR_MASK_DMAH;
    ibv_mr* mr = ibv_reg_mr_ex(p.pd, &a);
    REQUIRE(mr);
    {
        Buffer src(p.pd, 4096, kAllAccess, 0x77);
        const uint64_t base = reinterpret_cast<uintptr_t>(mem.data());
        REQUIRE(post_recv_one(p.b, {{base, 128, mr->lkey}}, 1) == 0);
        REQUIRE(post_one(p.a, IBV_WR_SEND, {src.sge(0, 128)}, 2) == 0);
        REQUIRE(post_one(p.a, IBV_WR_RDMA_WRITE, {src.sge(0, 256)}, 3, IBV_SEND_SIGNALED,
                         base + 1024, mr->rkey) == 0);
        ibv_send_wr wr{};
        ibv_sge sge = src.sge(2048, 8);
        wr.opcode = IBV_WR_ATOMIC_FETCH_AND_ADD;
        wr.send_flags = IBV_SEND_SIGNALED;
        wr.sg_list = &sge;
        wr.num_sge = 1;
        wr.wr.atomic.remote_addr = base + 2048;
        wr.wr.atomic.rkey = mr->rkey;
        wr.wr.atomic.compare_add = 3;
        ibv_send_wr* bad = nullptr;
        REQUIRE(ibv_post_send(p.a, &wr, &bad) == 0);
        auto sc = poll_cq(p.cq_a, 3);
        REQUIRE(sc.size() == 3);
        for (const auto& w : sc) CHECK_MESSAGE(w.status == IBV_WC_SUCCESS, status_str(w));
        REQUIRE(poll_cq(p.cq_b, 1).size() == 1);
        CHECK(mem[127] == 0x77);
        CHECK(mem[128] == 0);
        CHECK(mem[1024 + 255] == 0x77);
        uint64_t sum = 0;
        std::memcpy(&sum, mem.data() + 2048, 8);
        CHECK(sum == 3);
        // The device's view: three writes through the mkey, each with the
        // handle's hint (PH 1 and the CPU's steering tag).
        auto m = p.mkey(mr->rkey);
        CHECK(m["dma_writes"] == 3);
        CHECK(m["bytes_written"] == 128 + 256 + 8);
        CHECK_MESSAGE(m["tagged_writes"] == 3, m.dump());
        CHECK(m["last_tag"]["ph"] == 1);
        CHECK(m["last_tag"]["st"] == (cpu == 0 ? 0x42 : cpu == 1 ? 0x43 : 0x10 + cpu));
    }
    CHECK(ibv_dealloc_dmah(dmah) == EBUSY);
    CHECK(ibv_dereg_mr(mr) == 0);
    CHECK(ibv_dealloc_dmah(dmah) == 0);
}

TEST_CASE("ibv_alloc_buf / ibv_reg_buf_mr: page-aligned buffers carrying traffic; the checks") {
    RcPair p;
    ibv_buf* hb = nullptr;
    void* mem = ibv_alloc_buf(p.pd, 10000, &hb);
    REQUIRE(mem);
    REQUIRE(hb);
    CHECK(reinterpret_cast<uintptr_t>(mem) % 4096 == 0);
    auto* bytes = static_cast<uint8_t*>(mem);
    for (size_t i = 0; i < 10000; ++i) CHECK(bytes[i] == 0);
    ibv_mr* mr = ibv_reg_buf_mr(p.pd, hb, bytes + 4096, 4096, kAllAccess);
    REQUIRE(mr);
    CHECK(mr->addr == bytes + 4096);
    errno = 0;
    CHECK(ibv_reg_buf_mr(p.pd, hb, bytes + 8192, 4096, kAllAccess) == nullptr);  // past the end
    CHECK(errno == EINVAL);
    ibv_pd* other = ibv_alloc_pd(p.ctx);
    REQUIRE(other);
    errno = 0;
    CHECK(ibv_reg_buf_mr(other, hb, mem, 64, kAllAccess) == nullptr);  // not its PD
    CHECK(errno == EINVAL);
    CHECK(ibv_dealloc_pd(other) == 0);
    errno = 0;
    ibv_buf* none = nullptr;
    CHECK(ibv_alloc_buf(p.pd, 0, &none) == nullptr);
    CHECK(errno == EINVAL);
    errno = 0;
    CHECK(ibv_export_buf_dmabuf_fd(hb) == -1);
    CHECK(errno == ENODATA);
    {
        Buffer src(p.pd, 4096, kAllAccess, 0x3c);
        REQUIRE(post_recv_one(p.b, {{reinterpret_cast<uintptr_t>(bytes + 4096), 4096, mr->lkey}}, 1) ==
                0);
        REQUIRE(post_one(p.a, IBV_WR_SEND, {src.sge(0, 4096)}, 2) == 0);
        auto r = poll_cq(p.cq_b, 1);
        REQUIRE(r.size() == 1);
        CHECK(r[0].status == IBV_WC_SUCCESS);
        CHECK(r[0].byte_len == 4096);
        REQUIRE(poll_cq(p.cq_a, 1).size() == 1);
        CHECK(bytes[4096] == 0x3c);
        CHECK(bytes[8191] == 0x3c);
        CHECK(bytes[4095] == 0);
        CHECK(bytes[8192] == 0);
    }
    CHECK(ibv_dereg_mr(mr) == 0);
    ibv_free_buf(hb);
}

TEST_CASE("two contexts of one process talk to each other (as rdma-core's tests do)") {
    VerbsFixture f;
    ibv_context* ctx2 = ibv_open_device(f.list[0]);
    REQUIRE(ctx2);
    ibv_pd* pd2 = ibv_alloc_pd(ctx2);
    REQUIRE(pd2);
    ibv_cq* cq1 = ibv_create_cq(f.ctx, 16, nullptr, nullptr, 0);
    ibv_cq* cq2 = ibv_create_cq(ctx2, 16, nullptr, nullptr, 0);
    REQUIRE(cq1);
    REQUIRE(cq2);
    ibv_qp* a = create_qp(f.pd, cq1, cq1, IBV_QPT_RC);
    ibv_qp* b = create_qp(pd2, cq2, cq2, IBV_QPT_RC);
    connect_pair(a, b);
    {
        Buffer src(f.pd, 4096, kAllAccess, 0x19), dst(pd2, 4096);
        REQUIRE(post_one(a, IBV_WR_RDMA_WRITE, {src.sge(0, 2000)}, 1, IBV_SEND_SIGNALED,
                         dst.addr(), dst.mr->rkey) == 0);
        REQUIRE(post_recv_one(b, {dst.sge(2048, 1024)}, 2) == 0);
        REQUIRE(post_one(a, IBV_WR_SEND, {src.sge(0, 1000)}, 3) == 0);
        auto s = poll_cq(cq1, 2);
        REQUIRE(s.size() == 2);
        for (const auto& w : s) CHECK(w.status == IBV_WC_SUCCESS);
        auto r = poll_cq(cq2, 1);
        REQUIRE(r.size() == 1);
        CHECK(r[0].byte_len == 1000);
        CHECK(dst.data[1999] == 0x19);
        CHECK(dst.data[2000] == 0);
        CHECK(dst.data[2048 + 999] == 0x19);
    }
    CHECK(ibv_destroy_qp(a) == 0);
    CHECK(ibv_destroy_qp(b) == 0);
    CHECK(ibv_destroy_cq(cq1) == 0);
    CHECK(ibv_destroy_cq(cq2) == 0);
    CHECK(ibv_dealloc_pd(pd2) == 0);
    CHECK(ibv_close_device(ctx2) == 0);
}
