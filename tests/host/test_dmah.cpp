// Host-direct: DMA handles and PCIe TPH (rdma-core ibv_alloc_dmah(3)).
// The driver enables TPH and programs the ST table; a write through an MR
// with a handle carries PH, the CPU's steering tag and the memory type.
#include "tests/host/verbs_fixture.h"

#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

using hcasim::test::VerbsFixture;

namespace {

ibv_dmah* alloc(ibv_context* ctx, uint32_t mask, uint8_t ph, uint32_t cpu = 0,
                uint8_t mem = IBV_TPH_MEM_TYPE_VM) {
    ibv_dmah_init_attr a{};
    a.comp_mask = mask;
    a.ph = ph;
    a.cpu_id = cpu;
    a.tph_mem_type = mem;
    errno = 0;
    return ibv_alloc_dmah(ctx, &a);
}

constexpr uint32_t kPh = IBV_DMAH_INIT_ATTR_MASK_PH;
constexpr uint32_t kCpu = IBV_DMAH_INIT_ATTR_MASK_CPU_ID;
constexpr uint32_t kMem = IBV_DMAH_INIT_ATTR_MASK_TPH_MEM_TYPE;

uint32_t first_allowed_cpu() {
    cpu_set_t s;
    CPU_ZERO(&s);
    REQUIRE(sched_getaffinity(0, sizeof(s), &s) == 0);
    for (uint32_t c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &s)) return c;
    FAIL("no CPU");
    return 0;
}

}  // namespace

TEST_CASE("alloc_dmah: the man page's and rdma-core's checks") {
    VerbsFixture f;
    CHECK(alloc(f.ctx, kPh | (1u << 7), 1) == nullptr);
    CHECK(errno == EOPNOTSUPP);  // unknown comp_mask bit
    CHECK(alloc(f.ctx, kCpu | kMem, 0) == nullptr);
    CHECK(errno == EINVAL);  // PH missing
    CHECK(alloc(f.ctx, kPh, 4) == nullptr);
    CHECK(errno == EINVAL);  // ph > 3
    CHECK(alloc(f.ctx, kPh | kCpu, 1) == nullptr);
    CHECK(errno == EINVAL);  // CPU_ID without TPH_MEM_TYPE
    CHECK(alloc(f.ctx, kPh | kMem, 1) == nullptr);
    CHECK(errno == EINVAL);  // TPH_MEM_TYPE without CPU_ID
    const long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    CHECK(alloc(f.ctx, kPh | kCpu | kMem, 1, static_cast<uint32_t>(ncpu) + 5) == nullptr);
    CHECK(errno == EINVAL);  // not a CPU
    ibv_dmah* d = alloc(f.ctx, kPh, 2);  // PH alone: no steering tag
    REQUIRE(d);
    CHECK(d->context == f.ctx);
    CHECK(ibv_dealloc_dmah(d) == 0);
}

TEST_CASE("alloc_dmah: a CPU outside the caller's affinity -> EPERM") {
    if (sysconf(_SC_NPROCESSORS_CONF) < 2) return;  // needs a second CPU
    VerbsFixture f;
    cpu_set_t old, one;
    REQUIRE(sched_getaffinity(0, sizeof(old), &old) == 0);
    const uint32_t mine = first_allowed_cpu();
    CPU_ZERO(&one);
    CPU_SET(mine, &one);
    REQUIRE(sched_setaffinity(0, sizeof(one), &one) == 0);
    const uint32_t other = mine == 0 ? 1 : 0;
    ibv_dmah* d = alloc(f.ctx, kPh | kCpu | kMem, 1, other);
    const int err = errno;
    REQUIRE(sched_setaffinity(0, sizeof(old), &old) == 0);
    CHECK(d == nullptr);
    CHECK(err == EPERM);
}

TEST_CASE("TPH: enabled, ST table programmed, writes tagged; MRs without a handle are not") {
    VerbsFixture f({"--tph-st-map", "0:0x42,1:0x43", "--tph-st-map-pm", "0:0x99"});
    const uint32_t cpu = first_allowed_cpu();
    ibv_dmah* d = alloc(f.ctx, kPh | kCpu | kMem, 2, cpu, IBV_TPH_MEM_TYPE_VM);
    REQUIRE(d);
    auto tph = f.inspect({{"cmd", "tph"}});
    CHECK(tph["enabled"] == true);
    const uint16_t want_st = cpu == 0 ? 0x42 : cpu == 1 ? 0x43 : static_cast<uint16_t>(0x10 + cpu);
    bool programmed = false;
    for (auto& e : tph["st_table"]) programmed |= (e == want_st);
    CHECK(programmed);

    std::vector<uint8_t> buf(4096, 0);
    ibv_mr_init_attr a{};
    a.length = buf.size();
    a.access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE;
    a.addr = buf.data();
    a.dmah = d;
    a.comp_mask = IBV_REG_MR_MASK_ADDR | IBV_REG_MR_MASK_DMAH;
    ibv_mr* tagged = ibv_reg_mr_ex(f.pd, &a);
    REQUIRE(tagged);
    ibv_mr* plain = ibv_reg_mr(f.pd, buf.data(), buf.size(), a.access);
    REQUIRE(plain);
    const uint64_t at = reinterpret_cast<uintptr_t>(buf.data());
    auto w = f.mr_write(tagged->rkey, at, "11223344");
    REQUIRE(w["ok"] == true);
    CHECK(w["tag"]["ph"] == 2);
    CHECK(w["tag"]["st"] == want_st);
    CHECK(w["tag"]["mem_type"] == "volatile");
    auto p = f.mr_write(plain->rkey, at, "55667788");
    CHECK(p["tag"].is_null());
    CHECK(f.mkey(tagged->rkey)["tagged_writes"] == 1);
    CHECK(f.mkey(plain->rkey)["tagged_writes"] == 0);
    CHECK(f.dev.trace().find("mr_write key=") != std::string::npos);

    CHECK(ibv_dealloc_dmah(d) == EBUSY);  // an MR uses it
    CHECK(ibv_dereg_mr(tagged) == 0);
    CHECK(ibv_dereg_mr(plain) == 0);
    CHECK(ibv_dealloc_dmah(d) == 0);
}

TEST_CASE("TPH: persistent memory uses its own steering tag; handles share ST entries") {
    VerbsFixture f({"--tph-st-map-pm", "0:0x99"});
    if (first_allowed_cpu() != 0) return;
    ibv_dmah* pm = alloc(f.ctx, kPh | kCpu | kMem, 3, 0, IBV_TPH_MEM_TYPE_PM);
    ibv_dmah* pm2 = alloc(f.ctx, kPh | kCpu | kMem, 1, 0, IBV_TPH_MEM_TYPE_PM);
    REQUIRE(pm);
    REQUIRE(pm2);
    std::vector<uint8_t> buf(4096, 0);
    ibv_mr_init_attr a{};
    a.length = 64;
    a.access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE;
    a.addr = buf.data();
    a.dmah = pm;
    a.comp_mask = IBV_REG_MR_MASK_ADDR | IBV_REG_MR_MASK_DMAH;
    ibv_mr* mr = ibv_reg_mr_ex(f.pd, &a);
    REQUIRE(mr);
    auto w = f.mr_write(mr->rkey, reinterpret_cast<uintptr_t>(buf.data()), "01");
    CHECK(w["tag"]["st"] == 0x99);
    CHECK(w["tag"]["ph"] == 3);
    CHECK(w["tag"]["mem_type"] == "persistent");
    int same = 0;
    const auto tph = f.inspect({{"cmd", "tph"}});
    for (auto& e : tph["st_table"]) same += (e == 0x99);
    CHECK(same == 1);  // one ST entry for both handles
    a.access |= IBV_ACCESS_ON_DEMAND;
    errno = 0;
    CHECK(ibv_reg_mr_ex(f.pd, &a) == nullptr);  // ODP + dmah
    CHECK(errno == EOPNOTSUPP);
    CHECK(ibv_dereg_mr(mr) == 0);
    CHECK(ibv_dealloc_dmah(pm) == 0);
    CHECK(ibv_dealloc_dmah(pm2) == 0);
}
