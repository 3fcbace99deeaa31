// ARP for the port's IPv4 address (RFC 826, Ethernet/IPv4 only): the
// neighbour cache that maps a RoCE v2 peer's IPv4 address to its MAC, the
// requests that fill it, and the replies the port gives for its own
// address.
//
// A lookup that misses sends a broadcast request (at most one per
// `retry_ns` per address) and returns nothing; the caller holds its frame
// until the reply (WirePort, bounded like Linux's neighbour queue) or
// drops it, and the RC retransmission timer sends it again later (IBTA
// 9.7.6: an unanswered peer ends in IBV_WC_RETRY_EXC_ERR).  Entries
// expire after `ttl_ns`; a reply or request from a peer refreshes its
// entry (RFC 826 "merge").  Malformed ARP frames are dropped and counted.
// The table is bounded: beyond `max_entries` the oldest entry goes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

namespace hcasim::device {

using Mac = std::array<uint8_t, 6>;

inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr size_t kEthHeaderLen = 14;
inline constexpr size_t kArpFrameLen = kEthHeaderLen + 28;  // before padding to 60

struct ArpStats {
    uint64_t requests_sent = 0, replies_sent = 0, replies_received = 0, requests_received = 0;
    uint64_t malformed = 0;   // wrong hardware/protocol type or lengths, truncated
    uint64_t misses = 0;      // lookups without an entry (the caller's packet dropped)
};

class ArpTable {
public:
    // Sends one Ethernet frame (`len` bytes at `frame`).
    using SendFrame = std::function<void(const uint8_t* frame, size_t len)>;

    struct Config {
        Mac mac{};
        uint32_t ipv4 = 0;                            // host order
        uint64_t ttl_ns = 60'000'000'000ull;          // entry lifetime, ns
        uint64_t retry_ns = 200'000'000ull;           // between requests for one address, ns
        size_t max_entries = 4096;
    };

    ArpTable(const Config& cfg, SendFrame send) : cfg_(cfg), send_(std::move(send)) {}

    // The MAC of `ipv4` (host order) if known and fresh; otherwise sends a
    // request (rate-limited) and returns nothing.
    std::optional<Mac> resolve(uint32_t ipv4, uint64_t now_ns);
    // The MAC of `ipv4` if known and fresh; never sends.
    std::optional<Mac> lookup(uint32_t ipv4, uint64_t now_ns) const;

    // Handles a received frame of EtherType 0x0806 (the whole frame,
    // Ethernet header included): learns the sender, answers a request for
    // our address.  Returns false if the frame was malformed (counted).
    bool on_frame(const uint8_t* frame, size_t len, uint64_t now_ns);

    // Puts an entry in by hand (tests, static neighbours).
    void insert(uint32_t ipv4, const Mac& mac, uint64_t now_ns);
    void clear() { entries_.clear(); }
    size_t size() const { return entries_.size(); }
    uint64_t retry_ns() const { return cfg_.retry_ns; }
    const ArpStats& stats() const { return stats_; }

    // An ARP frame, 60 bytes (padded to Ethernet's minimum): op 1 is a
    // broadcast request, op 2 a reply to dst_mac.
    static std::vector<uint8_t> build(uint16_t op, const Mac& src_mac, uint32_t src_ip,
                                      const Mac& dst_mac, uint32_t dst_ip);

private:
    struct Entry {
        Mac mac{};
        bool valid = false;      // a MAC is known
        uint64_t updated = 0;    // when the MAC was learned, ns
        uint64_t requested = 0;  // last request sent, ns (0: none)
    };
    Entry& slot(uint32_t ipv4);

    Config cfg_;
    SendFrame send_;
    std::unordered_map<uint32_t, Entry> entries_;
    ArpStats stats_;
};

}  // namespace hcasim::device
