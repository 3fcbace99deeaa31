// MSI-X IRQ indexes of a vfio-user function (see msix_irqs.h).
#include "pcie/msix_irqs.h"

#include <unistd.h>

#include <cerrno>

namespace hcasim::pcie {

using namespace vfio_user;

IrqInfo MsixIrqs::info(uint32_t index) const
{
    IrqInfo info{sizeof(IrqInfo), 0, index, 0};
    switch (index) {
    case kIrqIntx:
        info.flags = kIrqInfoEventfd | kIrqInfoMaskable | kIrqInfoAutomasked;
        info.count = 1;
        break;
    case kIrqMsix:
        info.flags = kIrqInfoEventfd | kIrqInfoNoresize;
        info.count = static_cast<uint32_t>(fds_.size());
        break;
    case kIrqErr:
    case kIrqReq:
        // One eventfd each (QEMU wires error recovery and device requests
        // to them); the device never raises either.
        info.flags = kIrqInfoEventfd;
        info.count = 1;
        break;
    default:
        info.flags = kIrqInfoEventfd;
        info.count = 0;
        break;
    }
    return info;
}

int MsixIrqs::set(const IrqSet& s, std::vector<UniqueFd>& fds, std::span<const uint8_t> data)
{
    const IrqInfo i = info(s.index);
    if (s.index >= kNumIrqs) return EINVAL;
    if (s.count == 0 && (s.flags & kIrqSetDataNone)) {
        // Disable the whole index.
        if (s.index == kIrqMsix) drop();
        return 0;
    }
    if (s.start >= i.count || s.count > i.count - s.start) return EINVAL;
    if (s.index != kIrqMsix) return 0;  // INTx is never raised
    if (s.flags & kIrqSetDataEventfd) {
        if (!(s.flags & kIrqSetActionTrigger)) return EINVAL;
        for (uint32_t n = 0; n < s.count; ++n)
            fds_[s.start + n] = n < fds.size() ? std::move(fds[n]) : UniqueFd{};
        return 0;
    }
    if (s.flags & kIrqSetActionTrigger) {
        for (uint32_t n = 0; n < s.count; ++n) {
            const bool fire = (s.flags & kIrqSetDataNone) || (n < data.size() && data[n]);
            if (fire) trigger(s.start + n);
        }
    }
    return 0;  // mask/unmask: MSI-X masking is QEMU's (it emulates the table)
}

void MsixIrqs::trigger(unsigned vector)
{
    if (vector >= fds_.size() || !fds_[vector]) return;
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(fds_[vector].get(), &one, sizeof(one));
}

void MsixIrqs::drop()
{
    for (auto& fd : fds_) fd.reset();
}

}  // namespace hcasim::pcie
