// The HCA's PCI function as a vfio-user client sees it: type-0 config
// space with PM, MSI-X, PCI Express and the TPH Requester extended
// capability; BAR0 (registers, trapped), BAR2 (MEMIC, a memfd offered for
// mmap through a sparse-mmap capability), BAR4 (MSI-X table + PBA, which
// QEMU emulates); the IRQ indexes; MSI-X eventfds.
//
// Sources: PCI 3.0 §6 (header, capabilities), PCIe base spec §7.5 (Express
// capability) and §7.9.13 (TPH Requester capability, ST table), vfio-user
// spec §Region info / §IRQ info / §Set IRQs.
#pragma once

#include "pcie/hca.h"
#include "pcie/config_space.h"
#include "pcie/msix_function.h"
#include "common/unique_fd.h"
#include "vfio_user/protocol.h"

#include <array>
#include <span>
#include <vector>

namespace hcasim::pcie {

// Offsets of the capabilities in config space.
namespace hca_cfg {
inline constexpr uint16_t kPm = 0x40;
inline constexpr uint16_t kMsix = 0x50;
inline constexpr uint16_t kExp = 0x60;
inline constexpr uint16_t kExpSize = 0x3c;
inline constexpr uint16_t kTph = 0x100;
inline constexpr uint16_t kTphStEntries = 64;
inline constexpr uint16_t kTphCapReg = kTph + 4;
inline constexpr uint16_t kTphCtrlReg = kTph + 8;
inline constexpr uint16_t kTphStTable = kTph + 12;
}  // namespace hca_cfg

// Builds the HCA's config space (IDs, BARs, capability chain, masks).
ConfigSpace make_hca_config(uint64_t memic_bar_size);

class HcaFunction final : public MsixFunction {
public:
    explicit HcaFunction(Hca& hca);

    ConfigSpace& config() { return config_; }
    Hca& hca() { return hca_; }

    // PciFunction.
    device::DmaSpace& dma() override { return hca_.dma(); }
    int region_read(uint32_t index, uint64_t off, std::span<uint8_t> out) override;
    int region_write(uint32_t index, uint64_t off, std::span<const uint8_t> in) override;
    void reset() override;
    // The TPH Requester state the driver programmed (control + ST table).
    device::TphConfig tph_config() const;

private:
    int bar0_read(uint64_t off, std::span<uint8_t> out);
    int bar0_write(uint64_t off, std::span<const uint8_t> in);

    Hca& hca_;
    ConfigSpace config_;

};

}  // namespace hcasim::pcie
