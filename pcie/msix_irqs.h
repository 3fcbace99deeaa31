// The vfio-user IRQ indexes of a function that raises only MSI-X: INTx (one,
// never raised), MSI-X (`vectors` eventfds the client gives; the table and
// PBA are QEMU's to emulate, so masking is too), and one eventfd each for
// error and request (QEMU wires them; never raised).
//
// Source: vfio-user spec §IRQ info, §Set IRQs; PCIe base spec 6.8 (MSI-X).
#pragma once

#include "common/unique_fd.h"
#include "vfio_user/protocol.h"

#include <cstdint>
#include <span>
#include <vector>

namespace hcasim::pcie {

class MsixIrqs {
public:
    explicit MsixIrqs(unsigned vectors) : fds_(vectors) {}

    vfio_user::IrqInfo info(uint32_t index) const;
    // DEVICE_SET_IRQS: eventfds for MSI-X vectors, a trigger, or disabling
    // the index.  EINVAL for a bad index, range or action.
    int set(const vfio_user::IrqSet& s, std::vector<UniqueFd>& fds, std::span<const uint8_t> data);
    // Signals vector `vector`, if the client gave an eventfd for it.
    void trigger(unsigned vector);
    // Forgets every eventfd (the client left).
    void drop();

private:
    std::vector<UniqueFd> fds_;
};

}  // namespace hcasim::pcie
