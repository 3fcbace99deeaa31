// The HCA's PCI function (see hca_function.h).
#include "pcie/hca_function.h"

#include "pcie/pci_capabilities.h"

#include <cerrno>
#include <cstring>

namespace hcasim::pcie {

using namespace vfio_user;

ConfigSpace make_hca_config(uint64_t memic_bar_size) {
    ConfigSpace c;
    c.set16(cfg::kVendorId, HCASIM_PCI_VENDOR_ID);
    c.set16(cfg::kDeviceId, HCASIM_PCI_DEVICE_ID);
    c.writable16(cfg::kCommand, cfg::kCmdMemory | cfg::kCmdBusMaster | cfg::kCmdIntxDisable);
    c.set8(cfg::kRevision, HCASIM_PCI_REVISION);
    c.set8(cfg::kClassCode, HCASIM_PCI_CLASS_CODE & 0xff);
    c.set8(cfg::kClassCode + 1, (HCASIM_PCI_CLASS_CODE >> 8) & 0xff);
    c.set8(cfg::kClassCode + 2, (HCASIM_PCI_CLASS_CODE >> 16) & 0xff);
    c.set8(cfg::kHeaderType, 0x00);
    c.set_bar(HCASIM_BAR_REGS, {HCASIM_BAR0_SIZE, true, false});
    c.set_bar(HCASIM_BAR_MEMIC, {memic_bar_size, true, true});
    c.set_bar(HCASIM_BAR_MSIX, {HCASIM_BAR4_SIZE, true, false});
    c.set16(cfg::kSubsysVendor, HCASIM_PCI_VENDOR_ID);
    c.set16(cfg::kSubsysId, HCASIM_PCI_SUBSYS_ID);
    // No expansion ROM: the ROM BAR has no writable bits, so sizing reads 0.
    c.writable8(cfg::kIntLine, 0xff);
    c.set8(cfg::kIntPin, 1);

    add_pm_capability(c, hca_cfg::kPm);
    add_msix_capability(c, hca_cfg::kMsix, HCASIM_MSIX_VECTORS, HCASIM_BAR_MSIX, HCASIM_MSIX_TABLE_OFF,
                        HCASIM_MSIX_PBA_OFF);
    add_pcie_endpoint_capability(c, hca_cfg::kExp);
    add_tph_requester_capability(c, hca_cfg::kTph, hca_cfg::kTphStEntries);
    c.finalize();
    return c;
}

HcaFunction::HcaFunction(Hca& hca)
    : MsixFunction(HCASIM_MSIX_VECTORS), hca_(hca), config_(make_hca_config(hca.memic_bar_size())) {
    regions_[HCASIM_BAR_REGS] = {HCASIM_BAR0_SIZE, kRegionFlagRead | kRegionFlagWrite, -1, {}};
    regions_[HCASIM_BAR_MEMIC] = {hca.memic_bar_size(),
                                  kRegionFlagRead | kRegionFlagWrite | kRegionFlagMmap |
                                      kRegionFlagCaps,
                                  hca.memic_fd(),
                                  {}};
    // Mapped straight into the guest: the MEMIC pool and the UAR area
    // (doorbells never trap); the MEMIC op windows between them trap.
    if (hca.memic_mmap_size())
        regions_[HCASIM_BAR_MEMIC].areas.push_back({0, hca.memic_mmap_size()});
    regions_[HCASIM_BAR_MEMIC].areas.push_back({hca.uar_offset(), hca.uar_size()});
    regions_[HCASIM_BAR_MSIX] = {HCASIM_BAR4_SIZE, kRegionFlagRead | kRegionFlagWrite, -1, {}};
    regions_[kRegionConfig] = {cfg::kSize, kRegionFlagRead | kRegionFlagWrite, -1, {}};
    hca_.set_bus_master([this] { return config_.bus_master(); });
    hca_.set_irq([this](unsigned v) { trigger_msix(v); });
    hca_.firmware().state().tph = [this] { return tph_config(); };
}

device::TphConfig HcaFunction::tph_config() const {
    return read_tph_requester(config_, hca_cfg::kTph, hca_cfg::kTphStEntries);
}

int HcaFunction::region_read(uint32_t index, uint64_t off, std::span<uint8_t> out) {
    if (index >= regions_.size() || !region_in_bounds(regions_[index], off, out.size())) return EINVAL;
    switch (index) {
    case kRegionConfig: config_.read(off, out); return 0;
    case HCASIM_BAR_REGS: return bar0_read(off, out);
    case HCASIM_BAR_MEMIC:
        if (off >= hca_.memic_mmap_size()) return hca_.memic_op_access(off, out, false);
        std::memcpy(out.data(), hca_.memic() + off, out.size());
        return 0;
    default: std::memset(out.data(), 0, out.size()); return 0;  // PBA: nothing pending
    }
}

int HcaFunction::region_write(uint32_t index, uint64_t off, std::span<const uint8_t> in) {
    if (index >= regions_.size() || !region_in_bounds(regions_[index], off, in.size())) return EINVAL;
    switch (index) {
    case kRegionConfig: config_.write(off, in); return 0;
    case HCASIM_BAR_REGS: return bar0_write(off, in);
    case HCASIM_BAR_MEMIC: {
        if (off >= hca_.memic_mmap_size()) {
            std::vector<uint8_t> v(in.begin(), in.end());
            return hca_.memic_op_access(off, v, true);
        }
        std::memcpy(hca_.memic() + off, in.data(), in.size());
        return 0;
    }
    default: return 0;
    }
}

int HcaFunction::bar0_read(uint64_t off, std::span<uint8_t> out) {
    // Compose the access from the 32-bit registers it covers.
    for (size_t i = 0; i < out.size();) {
        const uint64_t cur = off + i;
        const uint32_t reg = static_cast<uint32_t>(cur & ~3ull);
        const uint32_t v = hca_.read_reg(reg);
        const size_t shift = cur & 3;
        const size_t n = std::min<size_t>(4 - shift, out.size() - i);
        std::memcpy(out.data() + i, reinterpret_cast<const uint8_t*>(&v) + shift, n);
        i += n;
    }
    return 0;
}

int HcaFunction::bar0_write(uint64_t off, std::span<const uint8_t> in) {
    // Registers are 32 bits: aligned 4- or 8-byte writes only.
    if ((off & 3) || (in.size() != 4 && in.size() != 8)) return EINVAL;
    for (size_t i = 0; i < in.size(); i += 4) {
        uint32_t v;
        std::memcpy(&v, in.data() + i, 4);
        hca_.write_reg(static_cast<uint32_t>(off + i), v);
    }
    return 0;
}

void HcaFunction::reset() {
    config_.reset();
    hca_.reset();
}

}  // namespace hcasim::pcie
