// A QP's reorder stash: the few packets that arrived a little ahead of
// the PSN a role expects, held until the missing one comes, so that a
// frame overtaken on the wire costs no NAK and no retransmission.  The
// responder keeps one for requests, the completer one for READ responses
// and atomic ACKs.
//
// A missing PSN is taken for lost (and the role falls back to IBTA's
// recovery: a PSN-sequence NAK from the responder, a new READ request
// from the completer) as soon as one of these holds:
//   - a packet arrives more than kWindow PSNs ahead;
//   - kCapacity packets are held already;
//   - kWaitNs passed since the first packet was held.
// The same idea as ConnectX's out-of-order data placement for adaptive
// routing, bounded to a small window; with nothing reordered the stash
// stays empty and the roles behave exactly as IBTA vol 1 9.7.5 says.
#pragma once

#include "device/packet.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace hcasim::device {

struct ReorderStash {
    static constexpr uint32_t kCapacity = 3;     // packets held, at most
    static constexpr uint32_t kWindow = 8;       // PSNs ahead of the expected one, at most
    static constexpr uint64_t kWaitNs = 500'000; // longest a gap is waited for, ns

    std::vector<Packet> held;
    uint64_t deadline = 0;  // ns: the gap is a loss after this; 0 when empty

    bool empty() const { return held.empty(); }
    bool full() const { return held.size() >= kCapacity; }
    bool holds(uint32_t psn) const {
        for (const Packet& p : held)
            if (p.psn == psn) return true;
        return false;
    }
    // Keeps p (its payload is copied: p.data may point into a link buffer
    // or guest memory).  The first packet held starts the wait.
    void put(Packet& p, uint64_t now_ns) {
        if (p.len && p.data != p.owned.data()) {
            p.owned.assign(p.data, p.data + p.len);
            p.data = p.owned.data();
        } else if (!p.len) {
            p.data = nullptr;  // nothing to point at, least of all a link buffer
        }
        held.push_back(std::move(p));
        if (held.size() == 1) deadline = now_ns + kWaitNs;
    }
    // Removes and returns the packet of `psn`, if held.
    std::optional<Packet> take(uint32_t psn) {
        for (size_t i = 0; i < held.size(); ++i) {
            if (held[i].psn != psn) continue;
            std::optional<Packet> p(std::move(held[i]));
            held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
            if (held.empty()) deadline = 0;
            return p;
        }
        return std::nullopt;
    }
    void clear() {
        held.clear();
        deadline = 0;
    }
};

}  // namespace hcasim::device
