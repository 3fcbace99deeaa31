// Memory keys: the device's table of memory regions (mlx5 "mkey"), each
// with its PD, access rights, virtual range, backing (host pages through
// an MTT, or a MEMIC block), optional DMA handle, owner channel, and the
// counters the inspection interface reports.
//
// Source: mlx5 PRM CREATE_MKEY (MTT translation, lkey = rkey = mkey).
#pragma once

#include "device/object_table.h"
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

// The mkeys, in the device's refcounted object table: a key is the
// table's handle (index << 8 | generation, as mlx5's mkey index and
// variant), so lookups are O(1) and a stale key never finds a newer MR.
// Who refers to an mkey's PD and DMA handle is counted in those tables
// (taken by CREATE_MKEY, given back by the cleanup hook), never found by
// scanning this one.
class MkeyTable {
public:
    explicit MkeyTable(uint32_t max) : objects_("mkey", max) {}
    // The hook that gives back what an mkey holds (its PD and DMA handle
    // users), run as it leaves (ObjectTable::set_cleanup).
    void set_cleanup(ObjectTable<Mkey>::Cleanup fn) { objects_.set_cleanup(std::move(fn)); }

    // Inserts m (owner: m.owner) under a fresh key, also stored in m.key;
    // nullopt if full.
    std::optional<uint32_t> insert(Mkey m) {
        const uint32_t owner = m.owner;
        auto key = objects_.insert(std::move(m), owner);
        if (key) objects_.find(*key)->key = *key;
        return key;
    }
    Mkey* find(uint32_t key) { return objects_.find(key); }
    bool erase(uint32_t key) { return objects_.erase(key); }
    // Whether any mkey satisfies p (a scan: for rare control-path checks
    // such as "an MR still lies in this MEMIC block", not for busy rules).
    template <class Pred>
    bool any(Pred p) {
        bool hit = false;
        objects_.for_each([&](uint32_t, const Mkey& m) { hit = hit || p(m); });
        return hit;
    }
    // Calls fn(key, mkey) for every mkey, or every mkey `owner` created.
    template <class Fn>
    void for_each(Fn&& fn) { objects_.for_each(fn); }
    template <class Fn>
    void for_each_owned(uint32_t owner, Fn&& fn) { objects_.for_each_owned(owner, fn); }
    size_t release_owner(uint32_t owner) { return objects_.release_owner(owner); }
    void clear() { objects_.clear(); }
    size_t size() const { return objects_.size(); }
    uint32_t max() const { return objects_.max(); }
    // A sorted copy of every mkey, for the inspection interface.
    std::map<uint32_t, Mkey> all() {
        std::map<uint32_t, Mkey> out;
        objects_.for_each([&](uint32_t key, const Mkey& m) { out.emplace(key, m); });
        return out;
    }

private:
    ObjectTable<Mkey> objects_;
};

}  // namespace hcasim::device
