// Port addressing helpers (see port.h).
#include "device/port.h"

#include <cstdio>
#include <functional>

namespace hcasim::device {

PortConfig default_port_config(const std::string& seed) {
    PortConfig c;
    const uint32_t h = static_cast<uint32_t>(std::hash<std::string>{}(seed));
    c.mac = {0x02, 0x48, 0x43, static_cast<uint8_t>(h >> 16), static_cast<uint8_t>(h >> 8),
             static_cast<uint8_t>(h)};
    uint32_t low = h & 0xffff;
    if ((low & 0xff) == 0 || (low & 0xff) == 0xff) low ^= 0x01;  // not .0 / .255
    c.ipv4 = 0x0a490000u | low;
    return c;
}

bool parse_mac(const std::string& s, std::array<uint8_t, 6>& mac) {
    unsigned v[6];
    char extra;
    if (std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
                    &v[5], &extra) != 6)
        return false;
    for (int i = 0; i < 6; ++i) mac[i] = static_cast<uint8_t>(v[i]);
    return true;
}

bool parse_ipv4(const std::string& s, uint32_t& ip) {
    unsigned a, b, c, d;
    char extra;
    if (std::sscanf(s.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) != 4 || a > 255 ||
        b > 255 || c > 255 || d > 255)
        return false;
    ip = (a << 24) | (b << 16) | (c << 8) | d;
    return true;
}

Gid link_local_gid(const std::array<uint8_t, 6>& mac) {
    Gid g{};
    g[0] = 0xfe;
    g[1] = 0x80;
    g[8] = mac[0] ^ 0x02;
    g[9] = mac[1];
    g[10] = mac[2];
    g[11] = 0xff;
    g[12] = 0xfe;
    g[13] = mac[3];
    g[14] = mac[4];
    g[15] = mac[5];
    return g;
}

uint64_t node_guid_from_mac(const std::array<uint8_t, 6>& mac) {
    const Gid g = link_local_gid(mac);
    uint64_t v = 0;
    for (int i = 8; i < 16; ++i) v = (v << 8) | g[i];
    return v;
}

}  // namespace hcasim::device
