// The ConnectX-5 model's device objects (see prm_device.h).
#include "device/prm_device.h"

namespace hcasim::device {

std::optional<std::uint32_t> PrmDevice::alloc_uar()
{
    for (std::uint32_t i = kFirstUar; i < kUarLimit; ++i)
        if (!uars_.test(i)) {
            uars_.set(i);
            return i;
        }
    return std::nullopt;
}

bool PrmDevice::dealloc_uar(std::uint32_t index)
{
    if (!uar_allocated(index))
        return false;
    uars_.reset(index);
    return true;
}

bool PrmDevice::uar_write(std::uint32_t index, std::uint32_t offset, std::uint32_t value)
{
    bool ok = uar_allocated(index) &&
              (offset == PrmEqTable::kDoorbellArm || offset == PrmEqTable::kDoorbellUpdate) &&
              eqs_.doorbell(index, offset, value);
    if (!ok)
        ++dropped_doorbells_;
    return ok;
}

void PrmDevice::reset()
{
    objects_.reset();
    steering_.reset();
    port_.reset();
    eqs_.reset();
    uars_.reset();
    dropped_doorbells_ = 0;
}

}  // namespace hcasim::device
