// MEMIC allocator: hands out blocks of the HCA's on-chip device memory
// (the BAR2 window) in allocation units, with power-of-two start alignment.
//
// Source: mlx5 PRM ALLOC_MEMIC/DEALLOC_MEMIC (64-byte units, address
// alignment 2^log_alignment); rdma-core ibv_alloc_dm(3) (ENOMEM when the
// device memory is exhausted).  First fit, lowest address first.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

namespace hcasim::device {

class MemicAllocator {
public:
    // size: pool bytes (a multiple of unit); unit: allocation unit in bytes
    // (a power of two); max_log_align: largest accepted log2 alignment.
    MemicAllocator(uint64_t size, uint64_t unit, uint32_t max_log_align);

    enum class Error { None, BadLength, BadAlignment, Exhausted, BadAddress };

    struct Result {
        Error error = Error::None;
        uint64_t addr = 0;  // byte offset in the pool
    };

    // length: bytes, non-zero multiple of unit (else BadLength);
    // log_align: log2 bytes, at most max_log_align (else BadAlignment);
    // values below log2(unit) mean the unit.  Exhausted when no gap fits.
    Result allocate(uint64_t length, uint32_t log_align, uint32_t owner);

    // Frees the block that starts at addr and is exactly length bytes long.
    Error release(uint64_t addr, uint64_t length);

    // Frees every block of `owner`; returns how many.
    size_t release_owner(uint32_t owner);
    void clear() { blocks_.clear(); }

    std::optional<uint32_t> owner_of(uint64_t addr) const;
    // The block containing byte addr: {start, length, owner}, if any.
    struct BlockInfo {
        uint64_t start, length;
        uint32_t owner;
    };
    std::optional<BlockInfo> block_containing(uint64_t addr) const {
        auto it = blocks_.upper_bound(addr);
        if (it == blocks_.begin()) return std::nullopt;
        --it;
        if (addr - it->first >= it->second.length) return std::nullopt;
        return BlockInfo{it->first, it->second.length, it->second.owner};
    }
    // Length of the block starting at addr (0 if none).
    uint64_t length_of(uint64_t addr) const {
        auto it = blocks_.find(addr);
        return it == blocks_.end() ? 0 : it->second.length;
    }
    uint64_t size() const { return size_; }
    uint64_t unit() const { return unit_; }
    uint32_t max_log_align() const { return max_log_align_; }
    uint64_t bytes_in_use() const;
    size_t blocks() const { return blocks_.size(); }
    // Largest single block that could be allocated now (unit alignment).
    uint64_t largest_free() const;

private:
    struct Block {
        uint64_t length;
        uint32_t owner;
    };
    uint64_t size_;
    uint64_t unit_;
    uint32_t max_log_align_;
    std::map<uint64_t, Block> blocks_;  // start -> block
};

const char* to_string(MemicAllocator::Error e);

}  // namespace hcasim::device
