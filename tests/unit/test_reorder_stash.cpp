// The reorder stash (device/reorder_stash.h): packets held ahead of a gap
// keep their own copy of the payload, come back by PSN, bound their
// number, and start the wait with the first one held.
#include "device/reorder_stash.h"

#include <doctest/doctest.h>

#include <vector>

using namespace hcasim::device;

TEST_CASE("reorder stash: held packets own their payload and come back by PSN") {
    ReorderStash s;
    CHECK(s.empty());
    CHECK(s.deadline == 0);
    std::vector<uint8_t> link = {1, 2, 3, 4};  // a link buffer, reused after the call
    Packet p;
    p.psn = 7;
    p.data = link.data();
    p.len = 4;
    s.put(p, 1000);
    CHECK(s.deadline == 1000 + ReorderStash::kWaitNs);
    link.assign(4, 0xee);
    Packet q;
    q.psn = 9;
    s.put(q, 5000);
    CHECK(s.deadline == 1000 + ReorderStash::kWaitNs);  // the first held starts the wait
    CHECK(s.holds(7));
    CHECK(s.holds(9));
    CHECK_FALSE(s.holds(8));
    CHECK_FALSE(s.take(8).has_value());
    auto got = s.take(7);
    REQUIRE(got.has_value());
    REQUIRE(got->len == 4);
    CHECK(got->data == got->owned.data());
    CHECK(got->data[0] == 1);
    CHECK(got->data[3] == 4);
    CHECK(s.deadline != 0);  // 9 still waits
    CHECK(s.take(9).has_value());
    CHECK(s.empty());
    CHECK(s.deadline == 0);
}

TEST_CASE("reorder stash: at most kCapacity packets; clear() forgets them and the wait") {
    ReorderStash s;
    for (uint32_t i = 0; i < ReorderStash::kCapacity; ++i) {
        CHECK_FALSE(s.full());
        Packet p;
        p.psn = 100 + i;
        s.put(p, 1);
    }
    CHECK(s.full());
    s.clear();
    CHECK(s.empty());
    CHECK_FALSE(s.full());
    CHECK(s.deadline == 0);
}
