// The ConnectX-5 model's PCI function as a vfio-user client sees it
// (mlx5_core's view: Linux main.c, the PRM map's section 1): PCI ID
// 15b3:1017, class 0x020000 (Ethernet controller); BAR0, 64-bit
// prefetchable, 32 MiB: the init segment, then UAR pages (index 3 up), the
// MEMIC window at 16 MiB; BAR4: the MSI-X table and PBA (QEMU emulates
// them); PM, MSI-X, PCI Express and the TPH Requester capability with its ST
// table.
//
// BAR0 is trapped: the init segment's big-endian registers go to Cx5Hca;
// everything else reads 0 until UARs and MEMIC come.
#pragma once

#include "pcie/config_space.h"
#include "pcie/cx5_hca.h"
#include "pcie/msix_function.h"

#include <array>

namespace hcasim::pcie {

namespace cx5_cfg {
inline constexpr uint16_t kVendorId = 0x15b3;  // Mellanox
inline constexpr uint16_t kDeviceId = 0x1017;  // ConnectX-5 PF
inline constexpr uint16_t kSubsysId = 0x0007;
inline constexpr uint32_t kClassCode = 0x020000;
inline constexpr unsigned kBarRegs = 0;
inline constexpr unsigned kBarMsix = 4;
inline constexpr uint64_t kBar4Size = 0x4000;
inline constexpr uint32_t kMsixTableOff = 0x0, kMsixPbaOff = 0x2000;
// Vector 0 serves the control EQs, the others the completion EQs.
inline constexpr unsigned kMsixVectors = device::PrmDevice::kMsixVectors;
inline constexpr uint16_t kPm = 0x40, kMsix = 0x50, kExp = 0x60, kTph = 0x100;
inline constexpr uint16_t kTphStEntries = 64;
}  // namespace cx5_cfg

// Builds the ConnectX-5 model's config space.
ConfigSpace make_cx5_config();

class Cx5Function final : public MsixFunction {
public:
    explicit Cx5Function(Cx5Hca& hca);

    ConfigSpace& config() { return config_; }
    Cx5Hca& hca() { return hca_; }

    // PciFunction.
    device::DmaSpace& dma() override { return hca_.dma(); }
    int region_read(uint32_t index, uint64_t off, std::span<uint8_t> out) override;
    int region_write(uint32_t index, uint64_t off, std::span<const uint8_t> in) override;
    void reset() override;

private:
    int bar0_read(uint64_t off, std::span<uint8_t> out);
    int bar0_write(uint64_t off, std::span<const uint8_t> in);

    Cx5Hca& hca_;
    ConfigSpace config_;

};

}  // namespace hcasim::pcie
