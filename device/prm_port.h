// The ConnectX-5 model's port 1 and its NIC vport as the PRM shows them:
// the vport context (permanent MAC, MTU, system image GUID, promiscuous
// and all-multicast modes, the unicast and multicast address lists the
// driver installs), the port's administrative and operational status
// (PAOS), its MTU limits (PMTU) and the link's speed (PTYS).
//
// The link is up whenever the port is administratively up: the model's
// cable is always plugged (until the port joins a wire in a later stage).
//
// Source: mlx5 PRM "NIC Vport Context", "PAOS", "PMTU", "PTYS"; Linux
// vport.c, port.c.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace hcasim::device {

struct PrmPort {
    using Mac = std::array<std::uint8_t, 6>;

    static constexpr std::uint32_t kMaxMtu = 9978;  // PMTU max_mtu: a ConnectX-5's
    static constexpr std::uint32_t kMinMtu = 68;
    /// PAOS status values (admin_status, oper_status).
    static constexpr std::uint32_t kUp = 1, kDown = 2;

    Mac mac{0x02, 0xc5, 0x00, 0x00, 0x00, 0x01};
    std::uint64_t system_image_guid = 0x02c500fffe000001;
    // The vport context's mtu is the hardware MTU: the netdev's MTU plus the
    // Ethernet header, a VLAN tag and the FCS (Linux MLX5E_SW2HW_MTU, 22).
    std::uint32_t mtu = 1500 + 22;
    std::uint32_t admin_mtu = kMaxMtu;  // PMTU admin_mtu
    std::uint32_t admin_status = kDown;
    bool promisc_uc = false, promisc_mc = false, promisc_all = false;
    std::vector<Mac> uc_list, mc_list;

    std::uint32_t oper_status() const { return admin_status == kUp ? kUp : kDown; }
    /// The port's permanent MAC, and the system image GUID made from it
    /// (EUI-64: the MAC with ff:fe in its middle).
    void set_identity(const Mac& m)
    {
        mac = m;
        system_image_guid = 0;
        for (std::size_t i = 0; i < 3; ++i)
            system_image_guid = system_image_guid << 8 | m[i];
        system_image_guid = system_image_guid << 16 | 0xfffe;
        for (std::size_t i = 3; i < 6; ++i)
            system_image_guid = system_image_guid << 8 | m[i];
    }
    /// Power-on state (the MAC and GUID are the device's identity: kept).
    void reset()
    {
        PrmPort fresh;
        fresh.mac = mac;
        fresh.system_image_guid = system_image_guid;
        *this = fresh;
    }
};

}  // namespace hcasim::device
