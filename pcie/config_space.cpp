// PCI configuration space with write masks (see config_space.h).
#include "pcie/config_space.h"

#include <algorithm>
#include <cstring>

namespace hcasim::pcie {

ConfigSpace::ConfigSpace() = default;

void ConfigSpace::set16(uint16_t off, uint16_t v) { std::memcpy(&data_[off], &v, 2); }
void ConfigSpace::set32(uint16_t off, uint32_t v) { std::memcpy(&data_[off], &v, 4); }
void ConfigSpace::writable16(uint16_t off, uint16_t m) { std::memcpy(&wmask_[off], &m, 2); }
void ConfigSpace::writable32(uint16_t off, uint32_t m) { std::memcpy(&wmask_[off], &m, 4); }

uint16_t ConfigSpace::get16(uint16_t off) const {
    uint16_t v;
    std::memcpy(&v, &data_[off], 2);
    return v;
}

uint32_t ConfigSpace::get32(uint16_t off) const {
    uint32_t v;
    std::memcpy(&v, &data_[off], 4);
    return v;
}

void ConfigSpace::set_bar(unsigned index, const BarSpec& bar) {
    bars_[index] = bar;
    const uint16_t off = static_cast<uint16_t>(cfg::kBar0 + 4 * index);
    uint32_t flags = 0;
    if (bar.is64) flags |= 0x4;
    if (bar.prefetchable) flags |= 0x8;
    set32(off, flags);
    // Address bits below the size are read-only zero: that is what makes
    // "write all ones, read back" return the size (PCI 3.0 §6.2.5.1).
    const uint64_t mask = ~(bar.size - 1);
    writable32(off, static_cast<uint32_t>(mask) & ~0xfu);
    if (bar.is64) {
        set32(static_cast<uint16_t>(off + 4), 0);
        writable32(static_cast<uint16_t>(off + 4), static_cast<uint32_t>(mask >> 32));
    }
}

uint16_t ConfigSpace::add_capability(uint8_t id, uint16_t off, uint16_t size) {
    data_[off] = id;
    data_[off + 1] = 0;
    if (last_cap_ == 0) {
        data_[cfg::kCapPtr] = static_cast<uint8_t>(off);
        set16(cfg::kStatus, get16(cfg::kStatus) | cfg::kStatusCapList);
    } else {
        data_[last_cap_ + 1] = static_cast<uint8_t>(off);
    }
    last_cap_ = off;
    (void)size;
    return off;
}

uint16_t ConfigSpace::add_ext_capability(uint16_t id, uint8_t version, uint16_t off,
                                         uint16_t size) {
    set32(off, static_cast<uint32_t>(id) | (static_cast<uint32_t>(version & 0xf) << 16));
    if (last_ext_cap_ != 0) {
        uint32_t h = get32(last_ext_cap_);
        h = (h & 0x000fffffu) | (static_cast<uint32_t>(off) << 20);
        set32(last_ext_cap_, h);
    }
    last_ext_cap_ = off;
    (void)size;
    return off;
}

uint16_t ConfigSpace::find_capability(uint8_t id) const {
    if (!(get16(cfg::kStatus) & cfg::kStatusCapList)) return 0;
    uint16_t off = data_[cfg::kCapPtr] & 0xfc;
    for (int guard = 0; off && guard < 48; ++guard) {
        if (data_[off] == id) return off;
        off = data_[off + 1] & 0xfc;
    }
    return 0;
}

uint16_t ConfigSpace::find_ext_capability(uint16_t id) const {
    uint16_t off = cfg::kExtStart;
    for (int guard = 0; off >= cfg::kExtStart && guard < 960; ++guard) {
        const uint32_t h = get32(off);
        if (h == 0) return 0;
        if ((h & 0xffff) == id) return off;
        off = static_cast<uint16_t>((h >> 20) & 0xffc);
    }
    return 0;
}

size_t ConfigSpace::read(uint64_t off, std::span<uint8_t> out) const {
    std::fill(out.begin(), out.end(), 0xff);
    if (off >= cfg::kSize) return 0;
    const size_t n = std::min<size_t>(out.size(), cfg::kSize - off);
    std::memcpy(out.data(), &data_[off], n);
    return n;
}

size_t ConfigSpace::write(uint64_t off, std::span<const uint8_t> in) {
    if (off >= cfg::kSize) return 0;
    const size_t n = std::min<size_t>(in.size(), cfg::kSize - off);
    for (size_t i = 0; i < n; ++i) {
        uint8_t& b = data_[off + i];
        const uint8_t m = wmask_[off + i];
        b = static_cast<uint8_t>((b & ~m) | (in[i] & m));
    }
    return n;
}

}  // namespace hcasim::pcie
