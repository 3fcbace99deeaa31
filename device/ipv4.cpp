// IPv4 for RoCEv2 (see ipv4.h).
#include "device/ipv4.h"

namespace hcasim::device {

Gid ipv4_mapped_gid(uint32_t ipv4) {
    Gid g{};
    g[10] = g[11] = 0xff;
    for (int i = 0; i < 4; ++i) g[12 + i] = static_cast<uint8_t>(ipv4 >> (24 - 8 * i));
    return g;
}

bool gid_to_ipv4(const Gid& gid, uint32_t& ipv4) {
    for (int i = 0; i < 10; ++i)
        if (gid[i]) return false;
    if (gid[10] != 0xff || gid[11] != 0xff) return false;
    ipv4 = uint32_t{gid[12]} << 24 | uint32_t{gid[13]} << 16 | uint32_t{gid[14]} << 8 | gid[15];
    return true;
}

uint16_t ip_checksum(const uint8_t* h, size_t len) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>(h[i] << 8 | h[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

void write_ipv4_header(const Ipv4Header& h, uint8_t* ip) {
    auto put16 = [](uint8_t* at, uint16_t v) {
        at[0] = static_cast<uint8_t>(v >> 8);
        at[1] = static_cast<uint8_t>(v);
    };
    auto put32 = [&](uint8_t* at, uint32_t v) {
        put16(at, static_cast<uint16_t>(v >> 16));
        put16(at + 2, static_cast<uint16_t>(v));
    };
    ip[0] = 0x45;  // version 4, 5 words
    ip[1] = h.tos;
    put16(ip + 2, h.total_len);
    put16(ip + 4, h.id);
    put16(ip + 6, 0x4000);  // DF, offset 0
    ip[8] = h.ttl;
    ip[9] = kIpProtoUdp;
    put16(ip + 10, 0);
    put32(ip + 12, h.src);
    put32(ip + 16, h.dst);
    put16(ip + 10, ip_checksum(ip, kIpv4HeaderLen));
}

}  // namespace hcasim::device
