// ARP on the port (device/arp_table.h, RFC 826): requests on a miss,
// rate-limited; replies learned; requests for our address answered;
// entries expire; malformed frames counted and ignored; the table stays
// bounded.
#include "device/arp_table.h"

#include <doctest/doctest.h>

#include <vector>

using namespace hcasim::device;

namespace {

constexpr Mac kOurMac{0x02, 0x48, 0x43, 0, 0, 1};
constexpr Mac kPeerMac{0x02, 0x48, 0x43, 0, 0, 2};
constexpr uint32_t kOurIp = 0x0a4d0001;   // 10.77.0.1
constexpr uint32_t kPeerIp = 0x0a4d0002;  // 10.77.0.2
constexpr uint64_t kSec = 1'000'000'000ull;

struct Wire {
    std::vector<std::vector<uint8_t>> sent;
    ArpTable table;
    explicit Wire(ArpTable::Config cfg = {kOurMac, kOurIp})
        : table(cfg, [this](const uint8_t* f, size_t n) { sent.emplace_back(f, f + n); }) {}
};

uint16_t op_of(const std::vector<uint8_t>& f) { return static_cast<uint16_t>(f[20] << 8 | f[21]); }

}  // namespace

TEST_CASE("a miss broadcasts one request per retry interval; the reply fills the cache") {
    Wire w;
    CHECK_FALSE(w.table.resolve(kPeerIp, 10 * kSec));
    REQUIRE(w.sent.size() == 1);
    const auto& req = w.sent[0];
    CHECK(req.size() == 60);
    for (int i = 0; i < 6; ++i) CHECK(req[i] == 0xff);                   // broadcast
    CHECK(req[12] == 0x08);
    CHECK(req[13] == 0x06);
    CHECK(op_of(req) == 1);
    CHECK(std::equal(kOurMac.begin(), kOurMac.end(), req.begin() + 22));  // sender MAC
    CHECK(req[38] == 10);                                                 // target IP
    CHECK(req[41] == 2);
    // Within the retry interval: no second request.
    CHECK_FALSE(w.table.resolve(kPeerIp, 10 * kSec + 1000));
    CHECK(w.sent.size() == 1);
    CHECK_FALSE(w.table.resolve(kPeerIp, 10 * kSec + 300'000'000));
    CHECK(w.sent.size() == 2);
    CHECK(w.table.stats().misses == 3);
    const auto reply = ArpTable::build(2, kPeerMac, kPeerIp, kOurMac, kOurIp);
    CHECK(w.table.on_frame(reply.data(), reply.size(), 11 * kSec));
    auto mac = w.table.resolve(kPeerIp, 11 * kSec);
    REQUIRE(mac);
    CHECK(*mac == kPeerMac);
    CHECK(w.table.stats().replies_received == 1);
}

TEST_CASE("a request for our address is answered and teaches us the asker") {
    Wire w;
    const auto req = ArpTable::build(1, kPeerMac, kPeerIp, Mac{}, kOurIp);
    CHECK(w.table.on_frame(req.data(), req.size(), kSec));
    REQUIRE(w.sent.size() == 1);
    const auto& rep = w.sent[0];
    CHECK(op_of(rep) == 2);
    CHECK(std::equal(kPeerMac.begin(), kPeerMac.end(), rep.begin()));       // unicast to the asker
    CHECK(std::equal(kOurMac.begin(), kOurMac.end(), rep.begin() + 22));    // our MAC
    CHECK(std::equal(kPeerMac.begin(), kPeerMac.end(), rep.begin() + 32));  // target MAC
    auto mac = w.table.resolve(kPeerIp, kSec);
    REQUIRE(mac);
    CHECK(*mac == kPeerMac);
    // A request for another address: not answered, the asker not learned.
    Wire other;
    const auto req2 = ArpTable::build(1, kPeerMac, kPeerIp, Mac{}, kOurIp + 7);
    CHECK(other.table.on_frame(req2.data(), req2.size(), kSec));
    CHECK(other.sent.empty());
    CHECK(other.table.size() == 0);
}

TEST_CASE("entries expire after their lifetime and are asked for again") {
    ArpTable::Config cfg{kOurMac, kOurIp};
    cfg.ttl_ns = 5 * kSec;
    Wire w(cfg);
    w.table.insert(kPeerIp, kPeerMac, kSec);
    CHECK(w.table.resolve(kPeerIp, 5 * kSec));
    CHECK(w.sent.empty());
    CHECK_FALSE(w.table.resolve(kPeerIp, 6 * kSec + 1));
    CHECK(w.sent.size() == 1);
}

TEST_CASE("malformed ARP frames are counted and change nothing") {
    Wire w;
    const auto good = ArpTable::build(1, kPeerMac, kPeerIp, Mac{}, kOurIp);
    for (size_t n = 0; n < kArpFrameLen; ++n) CHECK_FALSE(w.table.on_frame(good.data(), n, kSec));
    struct Bad {
        size_t off;
        uint8_t value;
    };
    for (Bad b : {Bad{15, 6}, Bad{16, 0x86}, Bad{18, 8}, Bad{19, 16}, Bad{21, 3}, Bad{21, 0}, Bad{12, 0x86}}) {
        auto f = good;
        f[b.off] = b.value;
        CHECK_FALSE(w.table.on_frame(f.data(), f.size(), kSec));
    }
    CHECK(w.table.stats().malformed == kArpFrameLen + 7);
    CHECK(w.sent.empty());
    CHECK(w.table.size() == 0);
    // A multicast sender MAC is never learned nor answered.
    Mac mcast = kPeerMac;
    mcast[0] |= 1;
    const auto m = ArpTable::build(1, mcast, kPeerIp, Mac{}, kOurIp);
    CHECK(w.table.on_frame(m.data(), m.size(), kSec));
    CHECK(w.sent.empty());
    CHECK(w.table.size() == 0);
}

TEST_CASE("the table is bounded: the oldest entry goes") {
    ArpTable::Config cfg{kOurMac, kOurIp};
    cfg.max_entries = 4;
    Wire w(cfg);
    for (uint32_t i = 0; i < 10; ++i) w.table.insert(kPeerIp + i, kPeerMac, (i + 1) * kSec);
    CHECK(w.table.size() == 4);
    CHECK(w.table.resolve(kPeerIp + 9, 10 * kSec));
    CHECK_FALSE(w.table.resolve(kPeerIp, 10 * kSec));  // evicted: asked again
}
