// MEMIC allocator (see memic_allocator.h).
#include "device/memic_allocator.h"

#include <bit>

namespace hcasim::device {

MemicAllocator::MemicAllocator(uint64_t size, uint64_t unit, uint32_t max_log_align)
    : size_(size - size % unit), unit_(unit), max_log_align_(max_log_align) {}

MemicAllocator::Result MemicAllocator::allocate(uint64_t length, uint32_t log_align,
                                                uint32_t owner) {
    if (length == 0 || length % unit_ != 0 || length > size_) return {Error::BadLength, 0};
    if (log_align > max_log_align_ || log_align > 63) return {Error::BadAlignment, 0};
    uint64_t align = uint64_t{1} << log_align;
    if (align < unit_) align = unit_;

    uint64_t cursor = 0;  // start of the current gap
    auto try_gap = [&](uint64_t gap_end) -> std::optional<uint64_t> {
        const uint64_t start = (cursor + align - 1) & ~(align - 1);
        if (start < cursor || start > gap_end || gap_end - start < length) return std::nullopt;
        return start;
    };
    for (const auto& [start, block] : blocks_) {
        if (auto s = try_gap(start)) {
            blocks_.emplace(*s, Block{length, owner});
            return {Error::None, *s};
        }
        cursor = start + block.length;
    }
    if (auto s = try_gap(size_)) {
        blocks_.emplace(*s, Block{length, owner});
        return {Error::None, *s};
    }
    return {Error::Exhausted, 0};
}

MemicAllocator::Error MemicAllocator::release(uint64_t addr, uint64_t length) {
    auto it = blocks_.find(addr);
    if (it == blocks_.end() || it->second.length != length) return Error::BadAddress;
    blocks_.erase(it);
    return Error::None;
}

size_t MemicAllocator::release_owner(uint32_t owner) {
    size_t n = 0;
    for (auto it = blocks_.begin(); it != blocks_.end();) {
        if (it->second.owner == owner) {
            it = blocks_.erase(it);
            ++n;
        } else {
            ++it;
        }
    }
    return n;
}

std::optional<uint32_t> MemicAllocator::owner_of(uint64_t addr) const {
    auto it = blocks_.find(addr);
    if (it == blocks_.end()) return std::nullopt;
    return it->second.owner;
}

uint64_t MemicAllocator::bytes_in_use() const {
    uint64_t n = 0;
    for (const auto& [start, block] : blocks_) n += block.length;
    return n;
}

uint64_t MemicAllocator::largest_free() const {
    uint64_t cursor = 0, best = 0;
    for (const auto& [start, block] : blocks_) {
        best = std::max(best, start - cursor);
        cursor = start + block.length;
    }
    return std::max(best, size_ - cursor);
}

const char* to_string(MemicAllocator::Error e) {
    switch (e) {
    case MemicAllocator::Error::None: return "ok";
    case MemicAllocator::Error::BadLength: return "bad length";
    case MemicAllocator::Error::BadAlignment: return "bad alignment";
    case MemicAllocator::Error::Exhausted: return "exhausted";
    case MemicAllocator::Error::BadAddress: return "bad address";
    }
    return "?";
}

}  // namespace hcasim::device
