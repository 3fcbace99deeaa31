// DMA handles and the ST table indexes they use.  Handles asking for the
// same steering tag share one ST table index (refcounted), as the Linux
// mlx5 driver's mlx5_st_alloc_index() does.
#pragma once

#include "device/object_table.h"
#include "device/tph.h"

#include <cstdint>
#include <algorithm>
#include <optional>
#include <vector>

namespace hcasim::device {

class DmahTable {
public:
    // st_entries: the ST table's size; max: live handles at most.
    explicit DmahTable(uint16_t st_entries, uint32_t max = kMaxHandles)
        : objects_("dmah", max), st_refs_(st_entries, 0), st_vals_(st_entries, 0) {
        // A handle leaving gives back its share of the ST index.
        objects_.set_cleanup([this](uint32_t, Dmah& d) { drop_index(d.st_index); });
    }

    static constexpr uint32_t kMaxHandles = 1u << 16;

    // Allocates a handle (owner: d.owner); for has_st, finds or takes an
    // ST index for st_value.  nullopt when no ST index (or handle) is free.
    std::optional<uint32_t> allocate(Dmah d) {
        if (d.has_st) {
            auto idx = take_index(d.st_value);
            if (!idx) return std::nullopt;
            d.st_index = *idx;
        } else {
            d.st_index = 0xffff;
        }
        const uint32_t owner = d.owner;
        const uint16_t st_index = d.st_index;
        auto h = objects_.insert(d, owner);
        if (!h) {
            drop_index(st_index);
            return std::nullopt;
        }
        objects_.find(*h)->handle = *h;
        return h;
    }
    Dmah* find(uint32_t h) { return objects_.find(h); }
    // Users: the MRs that carry the handle (firmware/cmd_mkey.cpp counts
    // them); DEALLOC_DMAH refuses a busy handle.
    void get(uint32_t h) { objects_.get(h); }
    void put(uint32_t h) { objects_.put(h); }
    bool busy(uint32_t h) const { return objects_.busy(h); }
    bool release(uint32_t h) { return objects_.erase(h); }
    size_t release_owner(uint32_t owner) { return objects_.release_owner(owner); }
    void clear() { objects_.clear(); }
    size_t size() const { return objects_.size(); }
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

    ObjectTable<Dmah> objects_;
    std::vector<uint32_t> st_refs_;   // handles sharing each ST index
    std::vector<uint16_t> st_vals_;
};

}  // namespace hcasim::device
