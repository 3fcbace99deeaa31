// The PCI capabilities both device models' functions carry, each added to a
// config space being built: power management, MSI-X, PCI Express
// (endpoint), and the TPH Requester extended capability with its ST table.
//
// Sources: PCI PM 1.2; PCI 3.0 §6.8.2 (MSI-X); PCIe base spec §7.5.3
// (Express capability), §7.9.13 (TPH Requester).
#pragma once

#include "device/tph.h"
#include "pcie/config_space.h"

#include <cstdint>

namespace hcasim::pcie {

// PM at `off`: version 3, D0-D3hot in PMCSR.
void add_pm_capability(ConfigSpace& c, uint16_t off);
// MSI-X at `off`: `vectors` entries, table at `table_off` and PBA at
// `pba_off` of BAR `bar`; enable and function mask writable.
void add_msix_capability(ConfigSpace& c, uint16_t off, unsigned vectors, unsigned bar,
                         uint32_t table_off, uint32_t pba_off);
// PCI Express v2 at `off` (0x3c bytes): endpoint, FLR, 8 GT/s x16.
void add_pcie_endpoint_capability(ConfigSpace& c, uint16_t off);
inline constexpr uint16_t kPcieCapSize = 0x3c;
// TPH Requester at `off` (>= 0x100): no-ST and device-specific modes, an ST
// table of `entries` 16-bit entries inside the capability.
void add_tph_requester_capability(ConfigSpace& c, uint16_t off, uint16_t entries);
// The TPH state the driver programmed into that capability.
device::TphConfig read_tph_requester(const ConfigSpace& c, uint16_t off, uint16_t entries);

}  // namespace hcasim::pcie
