// The RoCEv2 invariant CRC (IBTA vol 1 Annex A17.3.3, ICRC): CRC-32
// (IEEE 802.3 polynomial, as zlib's crc32) over 8 bytes of 0xff and the
// packet from the IP header up to the ICRC, with the fields that routers
// may change set to all ones: IPv4 TOS, TTL and header checksum, the UDP
// checksum, and the BTH's reserved byte 4.  On the wire the ICRC follows
// the payload and its pad, least significant byte first.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hcasim::device {

// CRC-32 of `len` bytes continuing `crc` (0 to start), equal to zlib's
// crc32(): libdeflate_crc32() (Debian libdeflate-dev, docs/libraries.md).
uint32_t crc32_update(uint32_t crc, const uint8_t* data, size_t len);

// The ICRC of an IPv4 RoCEv2 packet: `ip` points at the IPv4 header (20
// bytes, no options), `len` bytes up to (not including) the ICRC.
// `len` must be at least 20 + 8 + 12 (IP, UDP, BTH).
uint32_t roce_icrc_ipv4(const uint8_t* ip, size_t len);

}  // namespace hcasim::device
