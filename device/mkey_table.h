// Memory keys: the device's table of memory regions (mlx5 "mkey"), each
// with its PD, access rights, virtual range, backing (host pages through
// an MTT, or a MEMIC block), optional DMA handle, owner channel, and the
// counters the inspection interface reports.
//
// Source: mlx5 PRM CREATE_MKEY (MTT translation, lkey = rkey = mkey).
#pragma once

#include "device/tph.h"

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace hcasim::device {

struct MkeyCounters {
    uint64_t dma_writes = 0;      // DMA writes performed through the mkey
    uint64_t bytes_written = 0;
    uint64_t tagged_writes = 0;   // writes that carried a TPH hint
    uint64_t dma_reads = 0;       // DMA reads (send/read sources)
    uint64_t bytes_read = 0;
    uint64_t tagged_reads = 0;    // reads that carried a TPH hint
    TphTag last_tag;              // hint of the last tagged access (present=false: none)
};

struct Mkey {
    uint32_t key = 0;
    uint32_t pdn = 0;
    uint32_t access = 0;     // HCASIM_ACCESS_*
    uint64_t iova = 0;       // virtual address of byte 0
    uint64_t length = 0;     // bytes
    uint32_t mode = 0;       // hcasim_mkey_mode
    uint64_t start = 0;      // MTT: offset in first page; MEMIC: BAR2 offset
    uint64_t memic_block = 0;  // MEMIC mode: start of the block it lies in
    uint32_t dmah = 0;       // 0: none
    uint32_t owner = 0;      // command channel
    std::vector<uint64_t> pages;  // MTT mode: bus address of each 4 KiB page
    MkeyCounters counters;
};

class MkeyTable {
public:
    explicit MkeyTable(uint32_t max) : max_(max) {}

    // Inserts m with a fresh key (index << 8 | variant); nullopt if full.
    std::optional<uint32_t> insert(Mkey m) {
        if (keys_.size() >= max_) return std::nullopt;
        for (uint32_t tries = 0; tries < max_; ++tries) {
            next_index_ = next_index_ % max_ + 1;
            const uint32_t key = (next_index_ << 8) | (variant_++ & 0xff);
            bool used = false;
            for (const auto& [k, v] : keys_) used |= (k >> 8) == next_index_;
            if (used) continue;
            m.key = key;
            keys_.emplace(key, std::move(m));
            return key;
        }
        return std::nullopt;
    }
    Mkey* find(uint32_t key) {
        auto it = keys_.find(key);
        return it == keys_.end() ? nullptr : &it->second;
    }
    bool erase(uint32_t key) { return keys_.erase(key) == 1; }
    template <class Pred>
    bool any(Pred p) const {
        for (const auto& [k, m] : keys_)
            if (p(m)) return true;
        return false;
    }
    size_t release_owner(uint32_t owner) {
        size_t n = 0;
        for (auto it = keys_.begin(); it != keys_.end();) {
            if (it->second.owner == owner) {
                it = keys_.erase(it);
                ++n;
            } else {
                ++it;
            }
        }
        return n;
    }
    void clear() { keys_.clear(); }
    size_t size() const { return keys_.size(); }
    uint32_t max() const { return max_; }
    const std::map<uint32_t, Mkey>& all() const { return keys_; }

private:
    uint32_t max_;
    uint32_t next_index_ = 0;
    uint8_t variant_ = 0x11;
    std::map<uint32_t, Mkey> keys_;
};

}  // namespace hcasim::device
