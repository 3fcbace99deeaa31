// A PCI function with a table of regions and only MSI-X interrupts, as both
// device models' functions are: the region table and the IRQ indexes in one
// place (pci_function.h, msix_irqs.h).
#pragma once

#include "pcie/msix_irqs.h"
#include "pcie/pci_function.h"

#include <array>

namespace hcasim::pcie {

class MsixFunction : public PciFunction {
public:
    const RegionDesc& region(uint32_t index) const override { return regions_.at(index); }
    vfio_user::IrqInfo irq_info(uint32_t index) const override { return irqs_.info(index); }
    int set_irqs(const vfio_user::IrqSet& s, std::vector<UniqueFd>& fds,
                 std::span<const uint8_t> data) override
    {
        return irqs_.set(s, fds, data);
    }
    void drop_irqs() override { irqs_.drop(); }
    // Signals an MSI-X vector (if the client gave an eventfd for it).
    void trigger_msix(unsigned vector) { irqs_.trigger(vector); }

protected:
    explicit MsixFunction(unsigned vectors) : irqs_(vectors) {}

    std::array<RegionDesc, vfio_user::kNumRegions> regions_{};
    MsixIrqs irqs_;
};

}  // namespace hcasim::pcie
