// The platform: what the device core needs from the machine around it,
// in one interface (as SimBricks' nicbm keeps its Runner): DMA to guest
// memory, MSI-X, and the clock that every timer of the core runs on.
// Frames leave through the FrameLink the platform puts behind the wire
// port (device/frame_link.h).
//
// The daemon's PCI function (pcie/hca.h) implements it over vfio-user DMA
// maps, MSI-X eventfds and the host's steady clock; unit tests implement
// it with their own memory and a clock they move by hand, so the ACK, RNR
// and reorder timers, ARP and the wire's fault delays run without
// sleeping.
//
// Timers: the core never sleeps or arms host timers.  Each deadline is a
// time on now_ns(); the core's next_deadline() (RdmaEngine, WirePort)
// tells the platform when to poll it again.
#pragma once

#include "device/dma_space.h"

#include <cstdint>

namespace hcasim::device {

class Platform {
public:
    virtual ~Platform() = default;
    // Guest memory, as the function's DMA maps describe it (vfio-user
    // spec DMA_MAP): every access the core makes to guest memory goes
    // through it, and an address outside it fails (EFAULT).
    virtual DmaSpace& dma() = 0;
    // Raises MSI-X vector `vector` (0..HCASIM_MSIX_VECTORS-1; PCIe base
    // spec 6.8 MSI-X).  A vector the function does not have, or one that
    // is masked or not set up, raises nothing.
    virtual void raise_msix(unsigned vector) = 0;
    // Monotonic time, nanoseconds.  Never goes back.
    virtual uint64_t now_ns() const = 0;
};

// The host's monotonic clock (std::chrono::steady_clock), nanoseconds: the
// clock of a platform that runs in real time.
uint64_t steady_now_ns();

}  // namespace hcasim::device
