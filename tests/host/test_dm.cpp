// Host-direct: the DM verbs (rdma-core ibv_alloc_dm(3)) against a live
// hcasim-device, through hcasim's libibverbs.so.1 and the vfio-user
// transport.  The device side is inspected through its trace.
#include "tests/host/device_process.h"

#include <doctest/doctest.h>
#include <infiniband/verbs.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

using hcasim::test::DeviceProcess;

namespace {

struct Open {
    explicit Open(const DeviceProcess& dev) {
        ::setenv("HCASIM_SOCKET", dev.socket().c_str(), 1);
        int n = 0;
        list = ibv_get_device_list(&n);
        REQUIRE(list);
        REQUIRE(n == 1);
        ctx = ibv_open_device(list[0]);
        REQUIRE(ctx);
        REQUIRE(ibv_query_device_ex(ctx, nullptr, &attr) == 0);
    }
    ~Open() {
        if (ctx) CHECK(ibv_close_device(ctx) == 0);
        ibv_free_device_list(list);
    }
    ibv_dm* alloc(size_t len, uint32_t log_align = 0) {
        ibv_alloc_dm_attr a{};
        a.length = len;
        a.log_align_req = log_align;
        return ibv_alloc_dm(ctx, &a);
    }
    ibv_device** list = nullptr;
    ibv_context* ctx = nullptr;
    ibv_device_attr_ex attr{};
};

}  // namespace

TEST_CASE("device list, name and attributes") {
    DeviceProcess dev({"--memic-size", "65536"});
    Open o(dev);
    CHECK(std::string(ibv_get_device_name(o.list[0])) == "hcasim0");
    CHECK(o.attr.max_dm_size == 65536);
    CHECK(o.attr.orig_attr.vendor_id == 0x1234);
    CHECK(o.attr.orig_attr.phys_port_cnt == 1);
    ibv_device_attr legacy{};
    CHECK(ibv_query_device(o.ctx, &legacy) == 0);
    CHECK(std::string(legacy.fw_ver) == "1.0.0");
}

TEST_CASE("no device without a socket") {
    ::setenv("HCASIM_SOCKET", "/nonexistent/hca.sock", 1);
    int n = -1;
    ibv_device** l = ibv_get_device_list(&n);
    REQUIRE(l);
    CHECK(n == 0);
    CHECK(l[0] == nullptr);
    ibv_free_device_list(l);
}

TEST_CASE("PDs are allocated and freed by the firmware") {
    DeviceProcess dev;
    Open o(dev);
    ibv_pd* a = ibv_alloc_pd(o.ctx);
    ibv_pd* b = ibv_alloc_pd(o.ctx);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->handle != b->handle);
    CHECK(ibv_dealloc_pd(a) == 0);
    CHECK(ibv_dealloc_pd(b) == 0);
    CHECK(dev.trace().find("op=DEALLOC_PD(0x801)") != std::string::npos);
}

TEST_CASE("DM round trip: the bytes sit in the device's MEMIC") {
    DeviceProcess dev({"--memic-size", "65536"});
    Open o(dev);
    ibv_dm* dm = o.alloc(256);
    REQUIRE(dm);
    const char pattern[17] = "0123456789abcdef";
    CHECK(ibv_memcpy_to_dm(dm, 64, pattern, 16) == 0);
    char back[16] = {};
    CHECK(ibv_memcpy_from_dm(back, dm, 64, 16) == 0);
    CHECK(std::memcmp(back, pattern, 16) == 0);
    CHECK(ibv_memcpy_to_dm(dm, 0, pattern, 16) == 0);
    CHECK(ibv_free_dm(dm) == 0);
    // The device read the block itself when it was freed.
    CHECK(dev.trace().find("device_bytes=30313233343536373839616263646566") != std::string::npos);
}

TEST_CASE("memcpy errors: EINVAL for unaligned, EFAULT beyond the DM") {
    DeviceProcess dev;
    Open o(dev);
    ibv_dm* dm = o.alloc(100);  // 100 bytes asked, 128 allocated
    REQUIRE(dm);
    uint32_t buf[64] = {};
    CHECK(ibv_memcpy_to_dm(dm, 1, buf, 4) == EINVAL);
    CHECK(ibv_memcpy_to_dm(dm, 0, buf, 3) == EINVAL);
    CHECK(ibv_memcpy_from_dm(buf, dm, 2, 8) == EINVAL);
    CHECK(ibv_memcpy_to_dm(dm, 96, buf, 4) == 0);
    CHECK(ibv_memcpy_to_dm(dm, 100, buf, 4) == EFAULT);  // within the 128 but past 100
    CHECK(ibv_memcpy_from_dm(buf, dm, 0, 104) == EFAULT);
    CHECK(ibv_memcpy_to_dm(dm, ~0ull - 3, buf, 8) == EFAULT);  // offset + length wraps
    CHECK(ibv_memcpy_to_dm(dm, 1, buf, 200) == EFAULT);        // bounds before alignment
    CHECK(ibv_free_dm(dm) == 0);
}

TEST_CASE("alloc errors: comp_mask, too long, alignment, exhaustion") {
    DeviceProcess dev({"--memic-size", "16384"});
    Open o(dev);
    ibv_alloc_dm_attr a{};
    a.length = 64;
    a.comp_mask = 1;
    errno = 0;
    CHECK(ibv_alloc_dm(o.ctx, &a) == nullptr);
    CHECK(errno == EINVAL);
    errno = 0;
    CHECK(o.alloc(16384 + 64) == nullptr);
    CHECK(errno == EINVAL);
    errno = 0;
    CHECK(o.alloc(64, 40) == nullptr);  // beyond log_max_memic_addr_alignment
    CHECK(errno == EINVAL);
    errno = 0;
    CHECK(o.alloc(0) == nullptr);
    CHECK(errno == EINVAL);

    std::vector<ibv_dm*> held;
    while (ibv_dm* d = o.alloc(4096)) held.push_back(d);
    CHECK(errno == ENOMEM);
    CHECK(held.size() == 4);
    ibv_dm* aligned = nullptr;
    CHECK(ibv_free_dm(held[1]) == 0);
    aligned = o.alloc(4096, 12);
    REQUIRE(aligned);
    CHECK(ibv_free_dm(aligned) == 0);
    held.erase(held.begin() + 1);
    for (auto* d : held) CHECK(ibv_free_dm(d) == 0);
    ibv_dm* whole = o.alloc(16384);  // everything came back
    REQUIRE(whole);
    CHECK(ibv_free_dm(whole) == 0);
}

TEST_CASE("a dead process's DM is reclaimed and new DM reads as zeroes") {
    DeviceProcess dev({"--memic-size", "8192"});
    ::setenv("HCASIM_SOCKET", dev.socket().c_str(), 1);
    const pid_t child = ::fork();
    if (child == 0) {
        // Take the whole pool, dirty it, and die without cleaning up.
        int n = 0;
        ibv_device** l = ibv_get_device_list(&n);
        ibv_context* c = (l && n == 1) ? ibv_open_device(l[0]) : nullptr;
        ibv_alloc_dm_attr a{};
        a.length = 8192;
        ibv_dm* dm = c ? ibv_alloc_dm(c, &a) : nullptr;
        std::vector<uint32_t> ones(2048, 0xffffffff);
        const int ok = dm && ibv_memcpy_to_dm(dm, 0, ones.data(), 8192) == 0;
        ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    Open o(dev);  // finds the dead owner's channel and releases it
    CHECK(dev.trace().find("fw_reclaim ch=0 pds=0 memic_blocks=1") != std::string::npos);
    ibv_dm* dm = o.alloc(8192);
    REQUIRE(dm);
    std::vector<uint32_t> back(2048, 1);
    CHECK(ibv_memcpy_from_dm(back.data(), dm, 0, 8192) == 0);
    CHECK(std::all_of(back.begin(), back.end(), [](uint32_t v) { return v == 0; }));
    CHECK(ibv_free_dm(dm) == 0);
}

TEST_CASE("fault injection reaches the verbs caller as an errno") {
    DeviceProcess dev({"--fail-cmd", "ALLOC_MEMIC:0x6:1"});
    Open o(dev);
    errno = 0;
    CHECK(o.alloc(64) == nullptr);
    CHECK(errno == EBUSY);
    ibv_dm* dm = o.alloc(64);  // only the first one fails
    REQUIRE(dm);
    CHECK(ibv_free_dm(dm) == 0);
    CHECK(dev.trace().find("syndrome=0xc0de004") != std::string::npos);
}

TEST_CASE("device process ends cleanly on SIGTERM") {
    DeviceProcess dev;
    CHECK(dev.stop() == 0);
}
