// Host-direct: memory registration (rdma-core ibv_reg_mr(3)) and DM MRs
// (ibv_reg_dm_mr, ibv_alloc_dm(3)).  The device's side is read through the
// inspection interface; its DMA through an mkey is driven by RDMA traffic
// between QPs of the test's context.
#include "tests/host/rdma_fixture.h"

#include <cerrno>
#include <cstring>
#include <vector>

using namespace hcasim::test;

namespace {

constexpr int kLW = IBV_ACCESS_LOCAL_WRITE;
constexpr int kRW = IBV_ACCESS_REMOTE_WRITE;
constexpr int kRR = IBV_ACCESS_REMOTE_READ;

// Two fresh connected RC QPs on one CQ of f's context: a fault moves a QP
// to ERR, so each fault gets its own.
struct Loop {
    explicit Loop(VerbsFixture& f) {
        cq = ibv_create_cq(f.ctx, 16, nullptr, nullptr, 0);
        REQUIRE(cq);
        a = create_qp(f.pd, cq, cq, IBV_QPT_RC);
        b = create_qp(f.pd, cq, cq, IBV_QPT_RC);
        connect_pair(a, b);
    }
    ~Loop() {
        CHECK(ibv_destroy_qp(a) == 0);
        CHECK(ibv_destroy_qp(b) == 0);
        CHECK(ibv_destroy_cq(cq) == 0);
    }
    // a posts one signaled WR; its completion status.
    ibv_wc_status run(ibv_wr_opcode op, ibv_sge sge, uint64_t raddr, uint32_t rkey) {
        REQUIRE(post_one(a, op, {sge}, 1, IBV_SEND_SIGNALED, raddr, rkey) == 0);
        auto wc = poll_cq(cq, 1);
        REQUIRE(wc.size() == 1);
        CHECK(wc[0].qp_num == a->qp_num);
        return wc[0].status;
    }
    ibv_cq* cq = nullptr;
    ibv_qp* a = nullptr;
    ibv_qp* b = nullptr;
};

}  // namespace

TEST_CASE("reg_mr: device-issued keys, the device's view of the region") {
    VerbsFixture f;
    std::vector<uint8_t> buf(3 * 4096 + 100);
    ibv_mr* mr = ibv_reg_mr(f.pd, buf.data() + 10, buf.size() - 10, kLW | kRW | kRR);
    REQUIRE(mr);
    CHECK(mr->lkey == mr->rkey);
    CHECK(mr->lkey != 0);
    CHECK(mr->addr == buf.data() + 10);
    CHECK(mr->length == buf.size() - 10);
    CHECK(mr->pd == f.pd);
    auto m = f.mkey(mr->lkey);
    REQUIRE_FALSE(m.is_null());
    CHECK(m["iova"] == reinterpret_cast<uintptr_t>(buf.data() + 10));
    CHECK(m["length"] == buf.size() - 10);
    CHECK(m["mode"] == "mtt");
    CHECK(m["access"] == (kLW | kRW | kRR));
    const uint32_t key = mr->lkey;
    CHECK(f.inspect({{"cmd", "mkey"}, {"key", key}}) == m);  // one mkey, as in the list
    CHECK(ibv_dereg_mr(mr) == 0);
    CHECK(f.mkey(key).is_null());
    CHECK(f.inspect({{"cmd", "mkey"}, {"key", key}})["error"] == "no such mkey");
}

TEST_CASE("an RDMA WRITE lands through the rkey, across a page; the device counts it") {
    VerbsFixture f;
    Loop l(f);
    Buffer src(f.pd, 64);
    for (int i = 0; i < 8; ++i) src.data[i] = static_cast<uint8_t>(i + 1);
    std::vector<uint8_t> buf(8192, 0);
    ibv_mr* mr = ibv_reg_mr(f.pd, buf.data(), buf.size(), kLW | kRW);
    REQUIRE(mr);
    const uint64_t at = reinterpret_cast<uintptr_t>(buf.data()) + 4090;  // crosses a page
    CHECK(l.run(IBV_WR_RDMA_WRITE, src.sge(0, 8), at, mr->rkey) == IBV_WC_SUCCESS);
    CHECK(buf[4089] == 0);
    CHECK(buf[4090] == 1);
    CHECK(buf[4097] == 8);
    CHECK(buf[4098] == 0);
    auto m = f.mkey(mr->rkey);
    CHECK(m["dma_writes"] == 1);
    CHECK(m["bytes_written"] == 8);
    CHECK(m["tagged_writes"] == 0);  // no DMA handle: no hint
    CHECK(m["last_tag"].is_null());
    CHECK(ibv_dereg_mr(mr) == 0);
}

// Bad rkeys, writes past the end and missing remote access are in
// test_qp_errors.cpp; these are the edges it leaves.
TEST_CASE("the device enforces bounds below the region and local write access") {
    VerbsFixture f;
    std::vector<uint8_t> buf(4096, 0);
    Buffer src(f.pd, 64, kAllAccess, 0x5a);
    ibv_mr* rw = ibv_reg_mr(f.pd, buf.data() + 64, 1024, kLW | kRW);
    ibv_mr* ro = ibv_reg_mr(f.pd, buf.data() + 64, 1024, kRR);
    REQUIRE(rw);
    REQUIRE(ro);
    const uint64_t a = reinterpret_cast<uintptr_t>(buf.data()) + 64;
    {
        Loop l(f);  // one byte before the region
        CHECK(l.run(IBV_WR_RDMA_WRITE, src.sge(0, 2), a - 1, rw->rkey) == IBV_WC_REM_ACCESS_ERR);
    }
    {
        Loop l(f);  // an RDMA READ into memory registered without local write
        CHECK(l.run(IBV_WR_RDMA_READ, {a, 8, ro->lkey}, src.addr(), src.mr->rkey) ==
              IBV_WC_LOC_PROT_ERR);
    }
    for (uint8_t v : buf) REQUIRE(v == 0);  // nothing was written by the refused requests
    CHECK(f.mkey(rw->rkey)["dma_writes"] == 0);
    CHECK(f.mkey(ro->rkey)["dma_writes"] == 0);
    CHECK(ibv_dereg_mr(ro) == 0);
    CHECK(ibv_dereg_mr(rw) == 0);
}

TEST_CASE("reg_mr errors: access, length, iova, ODP") {
    VerbsFixture f;
    std::vector<uint8_t> buf(4096);
    errno = 0;
    CHECK(ibv_reg_mr(f.pd, buf.data(), 64, kRW) == nullptr);  // remote write w/o local write
    CHECK(errno == EINVAL);
    errno = 0;
    CHECK(ibv_reg_mr(f.pd, buf.data(), 64, IBV_ACCESS_REMOTE_ATOMIC) == nullptr);
    CHECK(errno == EINVAL);
    errno = 0;
    CHECK(ibv_reg_mr(f.pd, buf.data(), 64, 1 << 12) == nullptr);  // unknown bit
    CHECK(errno == EINVAL);
    errno = 0;
    CHECK(ibv_reg_mr(f.pd, buf.data(), 0, kLW) == nullptr);
    CHECK(errno == EINVAL);
    errno = 0;
    CHECK(ibv_reg_mr(f.pd, buf.data(), 64, kLW | IBV_ACCESS_ON_DEMAND) == nullptr);
    CHECK(errno == EOPNOTSUPP);
    errno = 0;
    const uintptr_t a = reinterpret_cast<uintptr_t>(buf.data());
    CHECK(ibv_reg_mr_iova2(f.pd, buf.data(), 64, (a & ~4095ull) + ((a + 8) & 4095), kLW) == nullptr);
    CHECK(errno == EINVAL);
    ibv_mr* mr = ibv_reg_mr_iova2(f.pd, buf.data(), 64, 0x7000000 + (a & 4095), kLW);
    REQUIRE(mr);
    CHECK(f.mkey(mr->lkey)["iova"] == 0x7000000 + (a & 4095));
    CHECK(ibv_dereg_mr(mr) == 0);
    mr = ibv_reg_mr_iova(f.pd, buf.data(), 64, 0x9000000 + (a & 4095), kLW);
    REQUIRE(mr);
    CHECK(ibv_dereg_mr(mr) == 0);
}

TEST_CASE("reg_mr_ex: comp_mask rules") {
    VerbsFixture f;
    std::vector<uint8_t> buf(4096);
    ibv_mr_init_attr a{};
    a.length = 128;
    a.access = kLW;
    a.addr = buf.data();
    a.comp_mask = IBV_REG_MR_MASK_ADDR;
    ibv_mr* mr = ibv_reg_mr_ex(f.pd, &a);
    REQUIRE(mr);
    CHECK(mr->addr == buf.data());
    CHECK(mr->length == 128);
    CHECK(ibv_dereg_mr(mr) == 0);
    a.comp_mask = IBV_REG_MR_MASK_ADDR | IBV_REG_MR_MASK_IOVA;
    a.iova = 0x40000000 + (reinterpret_cast<uintptr_t>(buf.data()) & 4095);
    mr = ibv_reg_mr_ex(f.pd, &a);
    REQUIRE(mr);
    CHECK(f.mkey(mr->lkey)["iova"] == a.iova);
    CHECK(ibv_dereg_mr(mr) == 0);
    errno = 0;
    a.comp_mask = 0;  // neither ADDR nor FD
    CHECK(ibv_reg_mr_ex(f.pd, &a) == nullptr);
    CHECK(errno == EINVAL);
    errno = 0;
    a.comp_mask = IBV_REG_MR_MASK_FD | IBV_REG_MR_MASK_FD_OFFSET | IBV_REG_MR_MASK_IOVA;
    CHECK(ibv_reg_mr_ex(f.pd, &a) == nullptr);
    CHECK(errno == EOPNOTSUPP);  // dma-buf MRs are not supported
}

TEST_CASE("a PD with MRs cannot be freed") {
    VerbsFixture f;
    ibv_pd* pd = ibv_alloc_pd(f.ctx);
    std::vector<uint8_t> buf(4096);
    ibv_mr* mr = ibv_reg_mr(pd, buf.data(), 64, kLW);
    REQUIRE(mr);
    CHECK(ibv_dealloc_pd(pd) == EBUSY);
    CHECK(ibv_dereg_mr(mr) == 0);
    CHECK(ibv_dealloc_pd(pd) == 0);
}

TEST_CASE("reg_dm_mr: zero-based, access, bounds; free_dm busy while registered") {
    VerbsFixture f({"--memic-size", "65536"});
    ibv_alloc_dm_attr da{};
    da.length = 4096;
    ibv_dm* dm = ibv_alloc_dm(f.ctx, &da);
    REQUIRE(dm);
    constexpr int zb = IBV_ACCESS_ZERO_BASED;
    errno = 0;
    CHECK(ibv_reg_dm_mr(f.pd, dm, 0, 4096, kLW) == nullptr);  // ZERO_BASED missing
    CHECK(errno == EINVAL);
    errno = 0;
    CHECK(ibv_reg_dm_mr(f.pd, dm, 0, 4096, zb | kLW | IBV_ACCESS_MW_BIND) == nullptr);
    CHECK(errno == EINVAL);
    errno = 0;
    CHECK(ibv_reg_dm_mr(f.pd, dm, 4000, 200, zb | kLW) == nullptr);  // past the DM
    CHECK(errno == EINVAL);
    ibv_mr* mr = ibv_reg_dm_mr(f.pd, dm, 1024, 2048, zb | kLW | kRW | kRR | IBV_ACCESS_REMOTE_ATOMIC);
    REQUIRE(mr);
    CHECK(mr->addr == nullptr);
    CHECK(mr->length == 2048);
    auto m = f.mkey(mr->rkey);
    CHECK(m["mode"] == "memic");
    CHECK(m["iova"] == 0);
    // A zero-based RDMA WRITE at offset 16 lands at DM offset 1024 + 16.
    Buffer src(f.pd, 64);
    const uint8_t coffee[4] = {0xc0, 0xff, 0xee, 0x00};
    std::memcpy(src.data.data(), coffee, 4);
    {
        Loop l(f);
        CHECK(l.run(IBV_WR_RDMA_WRITE, src.sge(0, 4), 16, mr->rkey) == IBV_WC_SUCCESS);
    }
    uint32_t v = 0;
    CHECK(ibv_memcpy_from_dm(&v, dm, 1040, 4) == 0);
    CHECK(v == 0x00eeffc0u);
    {
        Loop l(f);  // 2046 + 4 is past the MR's 2048 bytes
        CHECK(l.run(IBV_WR_RDMA_WRITE, src.sge(0, 4), 2046, mr->rkey) == IBV_WC_REM_ACCESS_ERR);
    }
    ibv_mr* empty = ibv_reg_dm_mr(f.pd, dm, 0, 0, zb | kLW);  // pyverbs registers these
    REQUIRE(empty);
    CHECK(empty->length == 0);
    {
        Loop l(f);  // no byte of an empty MR is an SGE
        CHECK(l.run(IBV_WR_SEND, {0, 1, empty->lkey}, 0, 0) == IBV_WC_LOC_PROT_ERR);
    }
    CHECK(ibv_dereg_mr(empty) == 0);
    CHECK(ibv_free_dm(dm) == EBUSY);
    CHECK(ibv_memcpy_from_dm(&v, dm, 1040, 4) == 0);  // the DM stays intact
    CHECK(v == 0x00eeffc0u);
    CHECK(ibv_dereg_mr(mr) == 0);
    CHECK(ibv_free_dm(dm) == 0);
}
