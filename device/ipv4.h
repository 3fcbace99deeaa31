// IPv4 as RoCEv2 uses it: the IPv4-mapped GID (::ffff:a.b.c.d, the GID of
// a RoCEv2 IPv4 address) and the IPv4 header, built in one place for the
// wire's frames and for the GRH area of a UD receive.
//
// Source: IBTA vol 1 Annex A17.4.5 (RoCEv2 GIDs and the IPv4 header a UD
// receive sees), RFC 791 (the header), RFC 4291 2.5.5.2 (IPv4-mapped IPv6
// addresses).
#pragma once

#include "device/packet.h"

#include <cstddef>
#include <cstdint>

namespace hcasim::device {

inline constexpr size_t kIpv4HeaderLen = 20;  // bytes, no options
inline constexpr uint8_t kIpProtoUdp = 17;

// ::ffff:a.b.c.d for `ipv4` (host order).
Gid ipv4_mapped_gid(uint32_t ipv4);
// The IPv4 address (host order) of an IPv4-mapped GID, or false.
bool gid_to_ipv4(const Gid& gid, uint32_t& ipv4);
// The Internet checksum of `len` bytes (RFC 1071); 0 over a header whose
// checksum field is right.
uint16_t ip_checksum(const uint8_t* h, size_t len);

// The fields of an IPv4 header that RoCEv2 sets (DF always: RoCEv2
// senders do not fragment; protocol UDP).
struct Ipv4Header {
    uint8_t tos = 0;           // the GRH traffic class
    uint16_t total_len = 0;    // bytes, header included
    uint16_t id = 0;
    uint8_t ttl = 64;          // the GRH hop limit
    uint32_t src = 0, dst = 0; // host order
};
// Writes the 20-byte header, checksum included, at `out`.
void write_ipv4_header(const Ipv4Header& h, uint8_t* out);

}  // namespace hcasim::device
