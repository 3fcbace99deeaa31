// Host-direct: memory registration (rdma-core ibv_reg_mr(3)) and DM MRs
// (ibv_reg_dm_mr, ibv_alloc_dm(3)).  The device's side is read through the
// inspection interface; its DMA through an mkey is driven with mr_write.
#include "tests/host/verbs_fixture.h"

#include <cerrno>
#include <cstring>
#include <vector>

using hcasim::test::VerbsFixture;

namespace {

constexpr int kLW = IBV_ACCESS_LOCAL_WRITE;
constexpr int kRW = IBV_ACCESS_REMOTE_WRITE;
constexpr int kRR = IBV_ACCESS_REMOTE_READ;

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
    CHECK(ibv_dereg_mr(mr) == 0);
    CHECK(f.mkey(m["key"]).is_null());
}

TEST_CASE("the device writes through the mkey into registered memory") {
    VerbsFixture f;
    std::vector<uint8_t> buf(8192, 0);
    ibv_mr* mr = ibv_reg_mr(f.pd, buf.data(), buf.size(), kLW | kRW);
    REQUIRE(mr);
    const uint64_t at = reinterpret_cast<uintptr_t>(buf.data()) + 4090;  // crosses a page
    auto r = f.mr_write(mr->rkey, at, "0102030405060708");
    CHECK(r["ok"] == true);
    CHECK(r["tag"].is_null());  // no DMA handle: no hint
    CHECK(buf[4090] == 1);
    CHECK(buf[4097] == 8);
    auto m = f.mkey(mr->rkey);
    CHECK(m["dma_writes"] == 1);
    CHECK(m["bytes_written"] == 8);
    CHECK(m["tagged_writes"] == 0);
    CHECK(ibv_dereg_mr(mr) == 0);
}

TEST_CASE("the device enforces access rights and bounds") {
    VerbsFixture f;
    std::vector<uint8_t> buf(4096, 0);
    ibv_mr* ro = ibv_reg_mr(f.pd, buf.data(), 1024, kRR);
    REQUIRE(ro);
    const uint64_t a = reinterpret_cast<uintptr_t>(buf.data());
    CHECK(f.mr_write(ro->rkey, a, "aa", true)["error"] == "access");   // no remote write
    CHECK(f.mr_write(ro->lkey, a, "aa", false)["error"] == "access");  // no local write
    ibv_mr* rw = ibv_reg_mr(f.pd, buf.data(), 1024, kLW | kRW);
    REQUIRE(rw);
    CHECK(f.mr_write(rw->rkey, a + 1023, "aabb")["error"] == "bounds");
    CHECK(f.mr_write(rw->rkey, a - 1, "aa")["error"] == "bounds");
    CHECK(f.mr_write(0xdead00, a, "aa")["error"] == "bad key");
    CHECK(buf[0] == 0);  // nothing was written by the refused requests
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
    // A zero-based write at offset 16 lands at DM offset 1024 + 16.
    CHECK(f.mr_write(mr->rkey, 16, "c0ffee00")["ok"] == true);
    uint32_t v = 0;
    CHECK(ibv_memcpy_from_dm(&v, dm, 1040, 4) == 0);
    CHECK(v == 0x00eeffc0u);
    CHECK(f.mr_write(mr->rkey, 2046, "c0ffee00")["error"] == "bounds");
    ibv_mr* empty = ibv_reg_dm_mr(f.pd, dm, 0, 0, zb | kLW);  // pyverbs registers these
    REQUIRE(empty);
    CHECK(empty->length == 0);
    CHECK(f.mr_write(empty->lkey, 0, "00", false)["error"] == "bounds");
    CHECK(ibv_dereg_mr(empty) == 0);
    CHECK(ibv_free_dm(dm) == EBUSY);
    CHECK(ibv_memcpy_from_dm(&v, dm, 1040, 4) == 0);  // the DM stays intact
    CHECK(v == 0x00eeffc0u);
    CHECK(ibv_dereg_mr(mr) == 0);
    CHECK(ibv_free_dm(dm) == 0);
}
