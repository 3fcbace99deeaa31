// Protection domain table: PD numbers (pdn) the firmware hands out, each
// tagged with the command channel that created it so that a channel's
// release reclaims its PDs.
//
// Source: mlx5 PRM ALLOC_PD/DEALLOC_PD (24-bit pdn).
#pragma once

#include <cstdint>
#include <map>
#include <optional>

namespace hcasim::device {

class PdTable {
public:
    explicit PdTable(uint32_t max_pd) : max_pd_(max_pd) {}

    // Returns a new pdn (1..max_pd), or nullopt when max_pd are live.
    std::optional<uint32_t> allocate(uint32_t owner) {
        if (pds_.size() >= max_pd_) return std::nullopt;
        for (uint32_t tries = 0; tries < max_pd_; ++tries) {
            next_ = next_ % max_pd_ + 1;
            if (!pds_.count(next_)) {
                pds_.emplace(next_, Pd{owner});
                return next_;
            }
        }
        return std::nullopt;
    }
    bool release(uint32_t pdn) { return pds_.erase(pdn) == 1; }
    bool exists(uint32_t pdn) const { return pds_.count(pdn) == 1; }
    std::optional<uint32_t> owner_of(uint32_t pdn) const {
        auto it = pds_.find(pdn);
        if (it == pds_.end()) return std::nullopt;
        return it->second.owner;
    }
    size_t release_owner(uint32_t owner) {
        size_t n = 0;
        for (auto it = pds_.begin(); it != pds_.end();) {
            if (it->second.owner == owner) {
                it = pds_.erase(it);
                ++n;
            } else {
                ++it;
            }
        }
        return n;
    }
    void clear() { pds_.clear(); }
    size_t size() const { return pds_.size(); }
    uint32_t max_pd() const { return max_pd_; }

private:
    struct Pd {
        uint32_t owner;
    };
    uint32_t max_pd_;
    uint32_t next_ = 0;
    std::map<uint32_t, Pd> pds_;
};

}  // namespace hcasim::device
