// Port 1 of the HCA: its link state, MTU and addresses (RoCE: a MAC, an
// IPv4 address, and the GID table derived from them), and the backend that
// carries packets.  Loopback (loopback_port.h) is one backend; a wire
// backend plugs in behind the same interface.
//
// Source: IBTA vol 1 Annex A16/A17 (RoCE GIDs: link-local from the MAC's
// EUI-64, IPv4-mapped ::ffff:a.b.c.d for RoCE v2).
#pragma once

#include "device/ipv4.h"
#include "device/packet.h"

#include <array>
#include <cstdint>
#include <functional>
#include <string>

namespace hcasim::device {

struct PortConfig {
    uint32_t mtu = 1024;                    // active MTU, bytes (256..4096)
    std::array<uint8_t, 6> mac{0x02, 0x48, 0x43, 0x00, 0x00, 0x01};
    uint32_t ipv4 = 0x0a490001;             // host order: 10.73.0.1
};

// IB MTU enum (IBV_MTU_256 = 1 .. IBV_MTU_4096 = 5) <-> bytes.
inline uint32_t mtu_bytes(uint32_t ib_mtu) {
    return ib_mtu >= 1 && ib_mtu <= 5 ? 128u << ib_mtu : 0;
}
inline uint32_t mtu_enum(uint32_t bytes) {
    for (uint32_t e = 1; e <= 5; ++e)
        if ((128u << e) == bytes) return e;
    return 0;
}

// Distinct defaults per device: MAC 02:48:43:xx:yy:zz and IPv4 10.73.y.z
// from a hash of `seed` (the device's socket path).
PortConfig default_port_config(const std::string& seed);
// "aa:bb:cc:dd:ee:ff" -> mac; false on bad syntax.
bool parse_mac(const std::string& s, std::array<uint8_t, 6>& mac);
// "a.b.c.d" -> host-order IPv4; false on bad syntax.
bool parse_ipv4(const std::string& s, uint32_t& ip);

// GID table entries of the port.
Gid link_local_gid(const std::array<uint8_t, 6>& mac);
// Node GUID from the MAC (EUI-64, as mlx5 firmware derives it).
uint64_t node_guid_from_mac(const std::array<uint8_t, 6>& mac);

class PortBackend {
public:
    virtual ~PortBackend() = default;
    // Carries one packet out of the port.  The packet may be consumed
    // (moved from).  Delivery may happen later (within the same poll).
    virtual void send(Packet& p) = 0;
    virtual bool link_up() const = 0;
    // The link is pushing back (its transmit queue holds frames it could
    // not take yet): requesters start no new packets until it drains,
    // as a NIC's send queues wait on a full transmit FIFO.  Responses
    // (ACKs, READ responses) still go out, queued.
    virtual bool tx_busy() const { return false; }
    // Hands every frame that has already arrived (and waits in a receive
    // ring) to the engine: called before timers fire.
    virtual void drain_arrived() {}
    virtual const char* name() const = 0;
};

}  // namespace hcasim::device
