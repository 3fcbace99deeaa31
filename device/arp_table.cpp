// ARP neighbour cache and responder (see arp_table.h).  RFC 826.
#include "device/arp_table.h"

#include <algorithm>
#include <cstring>

namespace hcasim::device {
namespace {

constexpr Mac kBroadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr size_t kMinFrame = 60;  // Ethernet minimum without the FCS

void put16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t get32(const uint8_t* p) {
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

}  // namespace

std::vector<uint8_t> ArpTable::build(uint16_t op, const Mac& src_mac, uint32_t src_ip,
                                     const Mac& dst_mac, uint32_t dst_ip) {
    std::vector<uint8_t> f(kMinFrame, 0);
    // Ethernet: a request is broadcast, a reply goes to the asker.
    const Mac& eth_dst = op == 1 ? kBroadcast : dst_mac;
    std::memcpy(f.data(), eth_dst.data(), 6);
    std::memcpy(f.data() + 6, src_mac.data(), 6);
    put16(f.data() + 12, kEtherTypeArp);
    uint8_t* a = f.data() + kEthHeaderLen;
    put16(a, 1);               // hardware type: Ethernet
    put16(a + 2, kEtherTypeIpv4);
    a[4] = 6;                  // hardware address length
    a[5] = 4;                  // protocol address length
    put16(a + 6, op);
    std::memcpy(a + 8, src_mac.data(), 6);
    put32(a + 14, src_ip);
    if (op == 2) std::memcpy(a + 18, dst_mac.data(), 6);  // a request's target MAC is zero
    put32(a + 24, dst_ip);
    return f;
}

ArpTable::Entry& ArpTable::slot(uint32_t ipv4) {
    auto it = entries_.find(ipv4);
    if (it != entries_.end()) return it->second;
    if (entries_.size() >= cfg_.max_entries) {
        // Bounded: the least recently learned (or requested) entry goes.
        auto oldest = std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
            return std::max(a.second.updated, a.second.requested) <
                   std::max(b.second.updated, b.second.requested);
        });
        entries_.erase(oldest);
    }
    return entries_[ipv4];
}

std::optional<Mac> ArpTable::resolve(uint32_t ipv4, uint64_t now_ns) {
    Entry& e = slot(ipv4);
    if (e.valid && now_ns - e.updated < cfg_.ttl_ns) return e.mac;
    ++stats_.misses;
    if (e.requested == 0 || now_ns - e.requested >= cfg_.retry_ns) {
        e.requested = now_ns ? now_ns : 1;
        const auto f = build(1, cfg_.mac, cfg_.ipv4, Mac{}, ipv4);
        ++stats_.requests_sent;
        send_(f.data(), f.size());
    }
    return std::nullopt;
}

std::optional<Mac> ArpTable::lookup(uint32_t ipv4, uint64_t now_ns) const {
    auto it = entries_.find(ipv4);
    if (it == entries_.end() || !it->second.valid || now_ns - it->second.updated >= cfg_.ttl_ns)
        return std::nullopt;
    return it->second.mac;
}

void ArpTable::insert(uint32_t ipv4, const Mac& mac, uint64_t now_ns) {
    Entry& e = slot(ipv4);
    e.mac = mac;
    e.valid = true;
    e.updated = now_ns;
}

bool ArpTable::on_frame(const uint8_t* frame, size_t len, uint64_t now_ns) {
    if (len < kArpFrameLen || get16(frame + 12) != kEtherTypeArp) {
        ++stats_.malformed;
        return false;
    }
    const uint8_t* a = frame + kEthHeaderLen;
    const uint16_t op = get16(a + 6);
    if (get16(a) != 1 || get16(a + 2) != kEtherTypeIpv4 || a[4] != 6 || a[5] != 4 ||
        (op != 1 && op != 2)) {
        ++stats_.malformed;
        return false;
    }
    Mac sender_mac;
    std::memcpy(sender_mac.data(), a + 8, 6);
    const uint32_t sender_ip = get32(a + 14);
    const uint32_t target_ip = get32(a + 24);
    // A sender MAC that is broadcast or multicast is never learned.
    const bool unicast = (sender_mac[0] & 1) == 0;
    if (op == 2) ++stats_.replies_received;
    else ++stats_.requests_received;
    // RFC 826: merge the sender if known; add it if the frame is for us.
    auto it = entries_.find(sender_ip);
    if (unicast && sender_ip != 0 && (it != entries_.end() || target_ip == cfg_.ipv4))
        insert(sender_ip, sender_mac, now_ns);
    if (op == 1 && target_ip == cfg_.ipv4 && cfg_.ipv4 != 0 && unicast) {
        const auto f = build(2, cfg_.mac, cfg_.ipv4, sender_mac, sender_ip);
        ++stats_.replies_sent;
        send_(f.data(), f.size());
    }
    return true;
}

}  // namespace hcasim::device
