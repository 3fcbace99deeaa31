// DMA space: maps with an fd, overlap, permissions, bounds, unmap rules.
#include "device/dma_space.h"

#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

using namespace hcasim;
using hcasim::device::DmaSpace;

namespace {

UniqueFd memfd(size_t len) {
    UniqueFd fd(::memfd_create("t", 0));
    REQUIRE(::ftruncate(fd.get(), static_cast<off_t>(len)) == 0);
    return fd;
}

}  // namespace

TEST_CASE("reads and writes land in the mapped fd") {
    DmaSpace d;
    UniqueFd fd = memfd(8192);
    void* host = ::mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    REQUIRE(d.map(0x10000, 4096, DmaSpace::kRead | DmaSpace::kWrite, UniqueFd(::dup(fd.get())), 4096) == 0);
    const char msg[] = "hello";
    REQUIRE(d.write(0x10010, msg, sizeof(msg)) == 0);
    CHECK(std::memcmp(static_cast<char*>(host) + 4096 + 0x10, msg, sizeof(msg)) == 0);
    char back[6] = {};
    REQUIRE(d.read(0x10010, back, sizeof(back)) == 0);
    CHECK(std::string(back) == "hello");
    ::munmap(host, 8192);
}

TEST_CASE("out-of-range DMA fails with EFAULT and touches nothing") {
    DmaSpace d;
    REQUIRE(d.map(0x10000, 4096, DmaSpace::kRead | DmaSpace::kWrite, memfd(4096), 0) == 0);
    char buf[16] = {};
    CHECK(d.read(0x0, buf, 16) == EFAULT);
    CHECK(d.read(0x10ff8, buf, 16) == EFAULT);  // straddles the end
    CHECK(d.write(0x11000, buf, 1) == EFAULT);
    CHECK(d.read(~0ull - 4, buf, 16) == EFAULT);  // wraps
}

TEST_CASE("adjacent maps are walked; permissions are enforced") {
    DmaSpace d;
    REQUIRE(d.map(0x0, 4096, DmaSpace::kRead | DmaSpace::kWrite, memfd(4096), 0) == 0);
    REQUIRE(d.map(0x1000, 4096, DmaSpace::kRead, memfd(4096), 0) == 0);
    char buf[32] = {};
    CHECK(d.read(0xff0, buf, 32) == 0);
    CHECK(d.write(0xff0, buf, 32) == EACCES);
    CHECK(d.write(0xff0, buf, 16) == 0);
}

TEST_CASE("overlaps are refused; unmap needs the exact range") {
    DmaSpace d;
    REQUIRE(d.map(0x10000, 0x2000, 3, memfd(0x2000), 0) == 0);
    CHECK(d.map(0x11000, 0x1000, 3, memfd(0x1000), 0) == EEXIST);
    CHECK(d.map(0xf000, 0x2000, 3, memfd(0x2000), 0) == EEXIST);
    CHECK(d.map(0x20000, 0x1000, 3, memfd(0x1000), 0x1000) == EINVAL);  // past the fd's end
    CHECK(d.unmap(0x10000, 0x1000) == ENOENT);
    CHECK(d.unmap(0x10000, 0x2000) == 0);
    CHECK(d.count() == 0);
}

TEST_CASE("maps without an fd need a message port") {
    DmaSpace d;
    REQUIRE(d.map(0x0, 4096, 3, UniqueFd{}, 0) == 0);
    char buf[4];
    CHECK(d.read(0, buf, 4) == EIO);
}
