// A PCI function as the vfio-user server offers it to a client: its regions
// (config space, BARs), its IRQ indexes, and the DMA space its device
// reaches. One implementation per device model: HcaFunction (hcasim's own
// ABI, 1234:4863) and Cx5Function (the ConnectX-5, 15b3:1017).
//
// Source: vfio-user spec §Region info, §IRQ info, §Set IRQs, §DMA_MAP,
// §Device reset.
#pragma once

#include "common/unique_fd.h"
#include "device/dma_space.h"
#include "vfio_user/protocol.h"

#include <cstdint>
#include <span>
#include <vector>

namespace hcasim::pcie {

struct RegionDesc {
    uint64_t size = 0;
    uint32_t flags = 0;                           // vfio_user::kRegionFlag*
    int fd = -1;                                  // for mmap, or -1
    std::vector<vfio_user::SparseArea> areas;     // mmap-able parts
};

class PciFunction {
public:
    virtual ~PciFunction() = default;

    // The device's DMA space: DMA_MAP/DMA_UNMAP change it.
    virtual device::DmaSpace& dma() = 0;
    // Region `index` (a size of 0: the function has no such region).
    virtual const RegionDesc& region(uint32_t index) const = 0;
    // Region accesses (REGION_READ/REGION_WRITE).  EINVAL when the region
    // does not exist or [off, off+len) is outside it, or for an access the
    // register file refuses.
    virtual int region_read(uint32_t index, uint64_t off, std::span<uint8_t> out) = 0;
    virtual int region_write(uint32_t index, uint64_t off, std::span<const uint8_t> in) = 0;
    virtual vfio_user::IrqInfo irq_info(uint32_t index) const = 0;
    // DEVICE_SET_IRQS: EINVAL for a bad index/range/action.
    virtual int set_irqs(const vfio_user::IrqSet& s, std::vector<UniqueFd>& fds,
                         std::span<const uint8_t> data) = 0;
    // A client left: forget its eventfds.
    virtual void drop_irqs() = 0;
    // DEVICE_RESET / FLR.
    virtual void reset() = 0;
};

// [off, off+len) lies inside region r, which exists.
inline bool region_in_bounds(const RegionDesc& r, uint64_t off, size_t len)
{
    return r.size != 0 && off <= r.size && len <= r.size - off;
}

}  // namespace hcasim::pcie
