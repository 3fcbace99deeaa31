// Host-direct: libibverbs' fork support (rdma-core ibv_fork_init(3),
// ibv_is_fork_initialized(3)) in a process of its own (fork-tests), since
// its state is per process and one-way: ibv_fork_init() is EINVAL once a
// fork range was used without it, IBV_FORK_ENABLED after it, never
// IBV_FORK_UNNEEDED (the kernel does not pin hcasim's MR pages); an MR's
// pages are MADV_DONTFORK while some MR covers them, counted per page.
// The test cases run in file order: the first one checks the "too late"
// rule in a child before this process touches the fork state.
#include "tests/host/rdma_fixture.h"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

using namespace hcasim::test;

// Exported by libibverbs for providers (<infiniband/driver.h>).
extern "C" int ibv_dontfork_range(void* base, size_t size);
extern "C" int ibv_dofork_range(void* base, size_t size);

namespace {

constexpr size_t kPage = 4096;

// Whether the mapping holding `p` is VM_DONTCOPY ("dc" in smaps' VmFlags).
bool dontcopy(const void* p) {
    std::ifstream smaps("/proc/self/smaps");
    const auto at = reinterpret_cast<uintptr_t>(p);
    bool inside = false;
    std::string line;
    while (std::getline(smaps, line)) {
        unsigned long lo = 0, hi = 0;
        if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2) {
            inside = at >= lo && at < hi;
        } else if (inside && line.rfind("VmFlags:", 0) == 0) {
            return (line + " ").find(" dc ") != std::string::npos;
        }
    }
    FAIL("no mapping holds ", p);
    return false;
}

}  // namespace

TEST_CASE("fork: ibv_fork_init after a fork range was used without it is EINVAL") {
    REQUIRE(ibv_is_fork_initialized() == IBV_FORK_DISABLED);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // As a provider (or ibv_reg_mr) does before ibv_fork_init().
        static char page[kPage] __attribute__((aligned(kPage)));
        int status = 0;
        if (ibv_dontfork_range(page, sizeof(page)) != 0) status |= 1;
        if (dontcopy(page)) status |= 2;  // nothing is advised without fork support
        if (ibv_fork_init() != EINVAL) status |= 4;
        if (ibv_is_fork_initialized() != IBV_FORK_DISABLED) status |= 8;
        ::_exit(status);
    }
    int status = -1;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("fork: after ibv_fork_init an MR's pages are MADV_DONTFORK while some MR covers them") {
    REQUIRE(ibv_fork_init() == 0);
    CHECK(ibv_is_fork_initialized() == IBV_FORK_ENABLED);
    CHECK(ibv_fork_init() == 0);  // again: nothing to do
    VerbsFixture f;
    void* mem = ::mmap(nullptr, 4 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
    REQUIRE(mem != MAP_FAILED);
    auto* p = static_cast<uint8_t*>(mem);
    auto dc = [&] {
        std::string s;
        for (int i = 0; i < 4; ++i) s += dontcopy(p + i * kPage) ? '1' : '0';
        return s;
    };
    CHECK(dc() == "0000");
    // Pages 0-1 (from mid page 0 to mid page 1), then 1-2 overlapping.
    ibv_mr* a = ibv_reg_mr(f.pd, p + 100, kPage, kAllAccess);
    REQUIRE(a);
    CHECK(dc() == "1100");
    ibv_mr* b = ibv_reg_mr_iova2(f.pd, p + kPage, 2 * kPage, 0x10000, kAllAccess);
    REQUIRE(b);
    CHECK(dc() == "1110");
    CHECK(ibv_dereg_mr(a) == 0);
    CHECK(dc() == "0110");  // page 1 still under b
    // Failed registrations leave nothing behind: bad access, ODP.
    errno = 0;
    CHECK(ibv_reg_mr(f.pd, p + 3 * kPage, kPage, IBV_ACCESS_REMOTE_WRITE) == nullptr);
    CHECK(errno == EINVAL);
    errno = 0;
    CHECK(ibv_reg_mr(f.pd, p + 3 * kPage, kPage, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_ON_DEMAND) ==
          nullptr);
    CHECK(errno == EOPNOTSUPP);
    CHECK(dc() == "0110");
    CHECK(ibv_dereg_mr(b) == 0);
    CHECK(dc() == "0000");
    // ibv_reg_mr_ex takes part as well.
    ibv_mr_init_attr attr{};
    attr.comp_mask = IBV_REG_MR_MASK_ADDR;
    attr.addr = p + 2 * kPage;
    attr.length = 2 * kPage;
    attr.access = kAllAccess;
    ibv_mr* c = ibv_reg_mr_ex(f.pd, &attr);
    REQUIRE(c);
    CHECK(dc() == "0011");
    // The child does not get the registered pages at all.
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        unsigned char v = 0;
        const bool mapped = ::mincore(p + 2 * kPage, kPage, &v) == 0;
        const bool first_mapped = ::mincore(p, kPage, &v) == 0;
        ::_exit(!mapped && first_mapped ? 0 : 1);
    }
    int status = -1;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    CHECK(ibv_dereg_mr(c) == 0);
    CHECK(dc() == "0000");
    // Direct calls are counted the same way.
    CHECK(ibv_dontfork_range(p, 1) == 0);
    CHECK(ibv_dontfork_range(p, kPage) == 0);
    CHECK(ibv_dofork_range(p, kPage) == 0);
    CHECK(dc() == "1000");
    CHECK(ibv_dofork_range(p, 1) == 0);
    CHECK(dc() == "0000");
    CHECK(::munmap(mem, 4 * kPage) == 0);
}
