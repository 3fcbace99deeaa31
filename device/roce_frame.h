// RoCEv2 frames: the engine's Packet (device/packet.h) as it travels on
// Ethernet, and back.  IBTA vol 1 Annex A17 (RoCEv2): Ethernet II, IPv4
// (20 bytes, no options), UDP to port 4791, then the InfiniBand transport
// headers of chapter 9 in their wire order (BTH; DETH, RETH, AtomicETH,
// AETH, AtomicAckETH, ImmDt as the opcode requires, 9.3), the payload
// padded to 4 bytes (the BTH pad count), and the ICRC (device/icrc.h).
// The GRH fields travel in the IP header: TOS is the traffic class, TTL
// the hop limit, and the addresses are the IPv4-mapped GIDs
// (::ffff:a.b.c.d).  IPv6 RoCEv2 is not produced or accepted.
#pragma once

#include "device/arp_table.h"
#include "device/ipv4.h"
#include "device/packet.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hcasim::device {

inline constexpr uint16_t kRoceV2Port = 4791;  // IANA, Annex A17.2
inline constexpr size_t kUdpHeaderLen = 8, kIcrcLen = 4;
// Ethernet + IPv4 + UDP before the BTH.
inline constexpr size_t kRoceV2HeadLen = kEthHeaderLen + kIpv4HeaderLen + kUdpHeaderLen;

// What a frame carries beside the Packet.
struct FrameAddress {
    Mac src_mac{}, dst_mac{};
    uint16_t udp_sport = 0xc000;  // flow entropy (Annex A17.3.1)
    uint16_t ip_id = 0;
};

// Why a frame was refused by parse_roce_frame.
enum class FrameError : uint8_t {
    None,
    TruncatedEthernet,   // shorter than 14 bytes
    NotIpv4,             // EtherType is not 0x0800
    TruncatedIp,         // shorter than an IPv4 header
    IpVersion,           // version 4 with IHL 5 is all we take
    IpOptions,
    IpLength,            // total length below the headers or beyond the frame
    IpFragment,          // MF set or an offset
    IpChecksum,
    NotUdp,
    UdpLength,           // UDP length disagrees with the IP total length
    NotRoceV2,           // UDP destination port is not 4791
    TruncatedBth,        // no room for the BTH, its extension headers and the ICRC
    BthVersion,          // TVer is not 0
    UnknownOpcode,       // not in the opcode table (device/opcodes.h)
    BadPad,              // pad count larger than the payload, or payload on an opcode without one
    BadIcrc,
    NotIpv4Gid,          // (build) a GID that is not IPv4-mapped
};
const char* to_string(FrameError e);

// Writes the frame of `p` into `out`, resized to the frame's length (a
// reused buffer keeps its capacity, so a sender allocates nothing).  The
// source and destination IPv4 addresses come from p.sgid and p.dgid,
// which must be IPv4-mapped (else NotIpv4Gid and `out` is left empty).
// The pad is computed from p.len.
FrameError build_roce_frame(const Packet& p, const FrameAddress& addr, std::vector<uint8_t>& out);

// Parses a whole Ethernet frame (Ethernet padding after the IP packet is
// allowed).  On success `p` holds the headers and its payload points into
// `frame` (p.data, p.len; p.owned is left empty); `addr` (if not null)
// gets the MACs and UDP source port.  Reads only [frame, frame + len).
FrameError parse_roce_frame(const uint8_t* frame, size_t len, Packet& p, FrameAddress* addr = nullptr);

}  // namespace hcasim::device
