// Platform steering-tag map (see tph.h).
#include "device/tph.h"

#include <charconv>
#include <sstream>

namespace hcasim::device {

namespace {

template <class T>
bool parse_num(std::string_view s, T& out) {
    int base = 10;
    if (s.starts_with("0x") || s.starts_with("0X")) {
        base = 16;
        s.remove_prefix(2);
    }
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
    return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string StPlatformMap::parse(uint8_t mem_type, const std::string& spec) {
    if (mem_type > 1) return "bad memory type";
    std::stringstream ss(spec);
    std::string item;
    while (std::getline(ss, item, ',')) {
        const auto colon = item.find(':');
        uint32_t cpu = 0;
        uint16_t st = 0;
        if (colon == std::string::npos ||
            !parse_num(std::string_view(item).substr(0, colon), cpu) ||
            !parse_num(std::string_view(item).substr(colon + 1), st))
            return "expected CPU:ST[,CPU:ST...], got '" + item + "'";
        map_[mem_type][cpu] = st;
    }
    return "";
}

uint16_t StPlatformMap::lookup(uint8_t mem_type, uint32_t cpu) const {
    const auto& m = map_[mem_type & 1];
    if (auto it = m.find(cpu); it != m.end()) return it->second;
    return static_cast<uint16_t>((mem_type ? 0x80 : 0x10) + cpu);
}

}  // namespace hcasim::device
