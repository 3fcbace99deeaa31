// The ConnectX-5 model's PCI function (see cx5_function.h).
#include "pcie/cx5_function.h"

#include "pcie/pci_capabilities.h"

#include <cerrno>
#include <cstring>

namespace hcasim::pcie {

using namespace vfio_user;

ConfigSpace make_cx5_config()
{
    using namespace cx5_cfg;
    ConfigSpace c;
    c.set16(cfg::kVendorId, kVendorId);
    c.set16(cfg::kDeviceId, kDeviceId);
    c.writable16(cfg::kCommand, cfg::kCmdMemory | cfg::kCmdBusMaster | cfg::kCmdIntxDisable);
    c.set8(cfg::kRevision, 0);
    c.set8(cfg::kClassCode, kClassCode & 0xff);
    c.set8(cfg::kClassCode + 1, (kClassCode >> 8) & 0xff);
    c.set8(cfg::kClassCode + 2, (kClassCode >> 16) & 0xff);
    c.set8(cfg::kHeaderType, 0x00);
    c.set_bar(kBarRegs, {Cx5Hca::kBar0Size, true, true});  // 64-bit, prefetchable
    c.set_bar(kBarMsix, {kBar4Size, true, false});
    c.set16(cfg::kSubsysVendor, kVendorId);
    c.set16(cfg::kSubsysId, kSubsysId);
    c.writable8(cfg::kIntLine, 0xff);
    c.set8(cfg::kIntPin, 1);
    add_pm_capability(c, kPm);
    add_msix_capability(c, kMsix, kMsixVectors, kBarMsix, kMsixTableOff, kMsixPbaOff);
    add_pcie_endpoint_capability(c, kExp);
    add_tph_requester_capability(c, kTph, kTphStEntries);
    c.finalize();
    return c;
}

Cx5Function::Cx5Function(Cx5Hca& hca) : MsixFunction(cx5_cfg::kMsixVectors), hca_(hca), config_(make_cx5_config())
{
    regions_[cx5_cfg::kBarRegs] = {Cx5Hca::kBar0Size, kRegionFlagRead | kRegionFlagWrite, -1, {}};
    regions_[cx5_cfg::kBarMsix] = {cx5_cfg::kBar4Size, kRegionFlagRead | kRegionFlagWrite, -1, {}};
    regions_[kRegionConfig] = {cfg::kSize, kRegionFlagRead | kRegionFlagWrite, -1, {}};
    hca_.set_irq([this](unsigned v) { trigger_msix(v); });
}

int Cx5Function::region_read(uint32_t index, uint64_t off, std::span<uint8_t> out)
{
    if (index >= regions_.size() || !region_in_bounds(regions_[index], off, out.size())) return EINVAL;
    switch (index) {
    case kRegionConfig: config_.read(off, out); return 0;
    case cx5_cfg::kBarRegs: return bar0_read(off, out);
    default: std::memset(out.data(), 0, out.size()); return 0;  // PBA: nothing pending
    }
}

int Cx5Function::region_write(uint32_t index, uint64_t off, std::span<const uint8_t> in)
{
    if (index >= regions_.size() || !region_in_bounds(regions_[index], off, in.size())) return EINVAL;
    switch (index) {
    case kRegionConfig: config_.write(off, in); return 0;
    case cx5_cfg::kBarRegs: return bar0_write(off, in);
    default: return 0;
    }
}

// The init segment's registers are big-endian (the driver's ioread32be):
// byte i of a register is bits 31-8i..24-8i of its value.
int Cx5Function::bar0_read(uint64_t off, std::span<uint8_t> out)
{
    for (size_t i = 0; i < out.size();) {
        const uint64_t cur = off + i;
        const uint32_t v = hca_.read_reg(static_cast<uint32_t>(cur & ~3ull));
        const size_t shift = cur & 3;
        const size_t n = std::min<size_t>(4 - shift, out.size() - i);
        for (size_t k = 0; k < n; ++k)
            out[i + k] = static_cast<uint8_t>(v >> (24 - 8 * (shift + k)));
        i += n;
    }
    return 0;
}

int Cx5Function::bar0_write(uint64_t off, std::span<const uint8_t> in)
{
    // Registers are 32 bits: aligned 4- or 8-byte writes only.
    if ((off & 3) || (in.size() != 4 && in.size() != 8)) return EINVAL;
    for (size_t i = 0; i < in.size(); i += 4) {
        const uint32_t v = uint32_t{in[i]} << 24 | uint32_t{in[i + 1]} << 16 | uint32_t{in[i + 2]} << 8 | in[i + 3];
        hca_.write_reg(static_cast<uint32_t>(off + i), v);
    }
    return 0;
}

void Cx5Function::reset()
{
    config_.reset();
    hca_.reset();
}

}  // namespace hcasim::pcie
