// DMA handles and the ST table indexes they use.  Handles asking for the
// same steering tag share one ST table index (refcounted), as the Linux
// mlx5 driver's mlx5_st_alloc_index() does.
#pragma once

#include "device/tph.h"

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace hcasim::device {

class DmahTable {
public:
    explicit DmahTable(uint16_t st_entries) : st_refs_(st_entries, 0), st_vals_(st_entries, 0) {}

    // Allocates a handle; for has_st, finds or takes an ST index for
    // st_value.  nullopt when no ST index is free.
    std::optional<uint32_t> allocate(Dmah d) {
        if (d.has_st) {
            auto idx = take_index(d.st_value);
            if (!idx) return std::nullopt;
            d.st_index = *idx;
        } else {
            d.st_index = 0xffff;
        }
        d.handle = ++next_;
        handles_.emplace(d.handle, d);
        return d.handle;
    }
    Dmah* find(uint32_t h) {
        auto it = handles_.find(h);
        return it == handles_.end() ? nullptr : &it->second;
    }
    bool release(uint32_t h) {
        auto it = handles_.find(h);
        if (it == handles_.end()) return false;
        drop_index(it->second.st_index);
        handles_.erase(it);
        return true;
    }
    size_t release_owner(uint32_t owner) {
        std::vector<uint32_t> gone;
        for (const auto& [h, d] : handles_)
            if (d.owner == owner) gone.push_back(h);
        for (uint32_t h : gone) release(h);
        return gone.size();
    }
    void clear() {
        handles_.clear();
        std::fill(st_refs_.begin(), st_refs_.end(), 0);
    }
    size_t size() const { return handles_.size(); }
    uint32_t st_refs(uint16_t index) const { return index < st_refs_.size() ? st_refs_[index] : 0; }

private:
    std::optional<uint16_t> take_index(uint16_t value) {
        for (uint16_t i = 0; i < st_refs_.size(); ++i)
            if (st_refs_[i] && st_vals_[i] == value) {
                ++st_refs_[i];
                return i;
            }
        for (uint16_t i = 0; i < st_refs_.size(); ++i)
            if (!st_refs_[i]) {
                st_refs_[i] = 1;
                st_vals_[i] = value;
                return i;
            }
        return std::nullopt;
    }
    void drop_index(uint16_t i) {
        if (i < st_refs_.size() && st_refs_[i]) --st_refs_[i];
    }

    std::map<uint32_t, Dmah> handles_;
    std::vector<uint32_t> st_refs_;
    std::vector<uint16_t> st_vals_;
    uint32_t next_ = 0;
};

}  // namespace hcasim::device
