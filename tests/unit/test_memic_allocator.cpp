// MEMIC allocator: units, alignment, first fit, fragmentation, exhaustion,
// owners.
#include "device/memic_allocator.h"

#include <doctest/doctest.h>

#include <cerrno>

#include <vector>

using hcasim::device::MemicAllocator;
using E = MemicAllocator::Error;

TEST_CASE("lengths must be non-zero multiples of the 64-byte unit") {
    MemicAllocator a(4096, 64, 12);
    CHECK(a.allocate(0, 0, 1).error == E::BadLength);
    CHECK(a.allocate(65, 0, 1).error == E::BadLength);
    CHECK(a.allocate(8192, 0, 1).error == E::BadLength);
    auto r = a.allocate(64, 0, 1);
    CHECK(r.error == E::None);
    CHECK(r.addr == 0);
}

TEST_CASE("alignment: honoured, capped by the device maximum") {
    MemicAllocator a(1 << 16, 64, 12);
    CHECK(a.allocate(64, 0, 1).addr == 0);
    auto r = a.allocate(64, 10, 1);
    CHECK(r.error == E::None);
    CHECK(r.addr == 1024);
    CHECK(a.allocate(64, 13, 1).error == E::BadAlignment);
    auto small = a.allocate(64, 2, 1);  // below the unit means the unit
    CHECK(small.addr == 64);
}

TEST_CASE("exhaustion, then the freed space is reused") {
    MemicAllocator a(4096, 64, 12);
    std::vector<uint64_t> addrs;
    for (int i = 0; i < 4; ++i) {
        auto r = a.allocate(1024, 0, 1);
        REQUIRE(r.error == E::None);
        addrs.push_back(r.addr);
    }
    CHECK(a.allocate(64, 0, 1).error == E::Exhausted);
    CHECK(a.bytes_in_use() == 4096);
    CHECK(a.release(addrs[1], 1024) == E::None);
    auto r = a.allocate(1024, 0, 1);
    CHECK(r.error == E::None);
    CHECK(r.addr == addrs[1]);
}

TEST_CASE("fragmentation: free bytes that are not contiguous do not fit") {
    MemicAllocator a(4096, 64, 12);
    std::vector<uint64_t> addrs;
    for (int i = 0; i < 8; ++i) addrs.push_back(a.allocate(512, 0, 1).addr);
    for (int i = 0; i < 8; i += 2) REQUIRE(a.release(addrs[i], 512) == E::None);
    CHECK(a.bytes_in_use() == 2048);
    CHECK(a.largest_free() == 512);
    CHECK(a.allocate(1024, 0, 1).error == E::Exhausted);
    CHECK(a.allocate(512, 0, 1).error == E::None);
    // Alignment can make a gap unusable even when it is big enough.
    MemicAllocator b(4096, 64, 12);
    b.allocate(64, 0, 1);
    CHECK(b.allocate(2048, 11, 1).addr == 2048);
    CHECK(b.allocate(2048, 11, 1).error == E::Exhausted);
}

TEST_CASE("release checks the exact block; owners are reclaimed together") {
    MemicAllocator a(4096, 64, 12);
    auto r1 = a.allocate(128, 0, 1);
    auto r2 = a.allocate(128, 0, 2);
    CHECK(a.release(r1.addr, 64) == E::BadAddress);
    CHECK(a.release(r1.addr + 64, 64) == E::BadAddress);
    a.allocate(256, 0, 1);
    CHECK(a.release_owner(1) == 2);
    CHECK(a.blocks() == 1);
    CHECK(a.owner_of(r2.addr) == 2u);
}
