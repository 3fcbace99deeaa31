// The HCA's PCI function (see hca_function.h).
#include "pcie/hca_function.h"

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

    // Power management (PCI PM 1.2): PMC version 3, D0-D3hot in PMCSR.
    c.add_capability(cfg::kCapPm, hca_cfg::kPm, 8);
    c.set16(hca_cfg::kPm + 2, 0x0003);
    c.writable16(hca_cfg::kPm + 4, 0x0003);

    // MSI-X: table in BAR4 at 0, PBA in BAR4 at 0x1000.
    c.add_capability(cfg::kCapMsix, hca_cfg::kMsix, 12);
    c.set16(hca_cfg::kMsix + 2, HCASIM_MSIX_VECTORS - 1);
    c.writable16(hca_cfg::kMsix + 2, 0xc000);  // enable, function mask
    c.set32(hca_cfg::kMsix + 4, HCASIM_MSIX_TABLE_OFF | HCASIM_BAR_MSIX);
    c.set32(hca_cfg::kMsix + 8, HCASIM_MSIX_PBA_OFF | HCASIM_BAR_MSIX);

    // PCI Express capability v2, endpoint; 8 GT/s x16 link.
    const uint16_t e = hca_cfg::kExp;
    c.add_capability(cfg::kCapExp, e, hca_cfg::kExpSize);
    c.set16(e + 2, 0x0002);             // version 2, type 0 (endpoint)
    c.set32(e + 4, 0x10008001u);        // devcap: MPS 256, RBER, FLR
    c.writable16(e + 8, 0x7fff);        // devctl (FLR bit 15 handled as 0)
    c.set16(e + 8, 0x2810);             // MRRS 512, ext tag... defaults
    c.set32(e + 0x0c, 0x00000103u);     // linkcap: 8 GT/s, x16
    c.writable16(e + 0x10, 0x01c3);     // linkctl
    c.set16(e + 0x12, 0x0103);          // linkstat: 8 GT/s, x16
    c.set32(e + 0x24, 0x00000000u);     // devcap2
    c.writable16(e + 0x28, 0x041f);     // devctl2

    // TPH Requester (PCIe §7.9.13): no-ST and device-specific modes, ST
    // table of 64 16-bit entries inside the capability.
    const uint16_t t = hca_cfg::kTph;
    c.add_ext_capability(cfg::kExtCapTph, 1, t, 12 + 2 * hca_cfg::kTphStEntries);
    const uint32_t tph_cap = (1u << 0) | (1u << 2) | (1u << 9) |
                             (static_cast<uint32_t>(hca_cfg::kTphStEntries - 1) << 16);
    c.set32(hca_cfg::kTphCapReg, tph_cap);
    c.writable32(hca_cfg::kTphCtrlReg, 0x00000307u);  // ST mode select, requester enable
    for (uint16_t i = 0; i < hca_cfg::kTphStEntries; ++i)
        c.writable16(static_cast<uint16_t>(hca_cfg::kTphStTable + 2 * i), 0xffff);
    c.finalize();
    return c;
}

HcaFunction::HcaFunction(Hca& hca)
    : hca_(hca), config_(make_hca_config(hca.memic_bar_size())) {
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
    device::TphConfig t;
    const uint32_t ctrl = config_.get32(hca_cfg::kTphCtrlReg);
    t.st_mode = ctrl & 0x7;
    t.enabled = ((ctrl >> 8) & 0x3) != 0;
    t.st_table.resize(hca_cfg::kTphStEntries);
    for (uint16_t i = 0; i < hca_cfg::kTphStEntries; ++i)
        t.st_table[i] = config_.get16(static_cast<uint16_t>(hca_cfg::kTphStTable + 2 * i));
    return t;
}

static bool in_bounds(const RegionDesc& r, uint64_t off, size_t len) {
    return r.size != 0 && off <= r.size && len <= r.size - off;
}

int HcaFunction::region_read(uint32_t index, uint64_t off, std::span<uint8_t> out) {
    if (index >= regions_.size() || !in_bounds(regions_[index], off, out.size())) return EINVAL;
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
    if (index >= regions_.size() || !in_bounds(regions_[index], off, in.size())) return EINVAL;
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

IrqInfo HcaFunction::irq_info(uint32_t index) const {
    IrqInfo info{sizeof(IrqInfo), 0, index, 0};
    switch (index) {
    case kIrqIntx:
        info.flags = kIrqInfoEventfd | kIrqInfoMaskable | kIrqInfoAutomasked;
        info.count = 1;
        break;
    case kIrqMsix:
        info.flags = kIrqInfoEventfd | kIrqInfoNoresize;
        info.count = HCASIM_MSIX_VECTORS;
        break;
    case kIrqErr:
    case kIrqReq:
        // One eventfd each (QEMU wires error recovery and device requests
        // to them); this device never raises either.
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

int HcaFunction::set_irqs(const IrqSet& s, std::vector<UniqueFd>& fds,
                          std::span<const uint8_t> data) {
    const IrqInfo info = irq_info(s.index);
    if (s.index >= kNumIrqs) return EINVAL;
    if (s.count == 0 && (s.flags & kIrqSetDataNone)) {
        // Disable the whole index.
        if (s.index == kIrqMsix)
            for (auto& fd : msix_fds_) fd.reset();
        return 0;
    }
    if (s.start >= info.count || s.count > info.count - s.start) return EINVAL;
    if (s.index != kIrqMsix) return 0;  // INTx is never raised by this device
    if (s.flags & kIrqSetDataEventfd) {
        if (!(s.flags & kIrqSetActionTrigger)) return EINVAL;
        for (uint32_t i = 0; i < s.count; ++i)
            msix_fds_[s.start + i] = fds.empty() ? UniqueFd{} : std::move(fds[i]);
        return 0;
    }
    if (s.flags & kIrqSetActionTrigger) {
        for (uint32_t i = 0; i < s.count; ++i) {
            const bool fire = (s.flags & kIrqSetDataNone) || (!data.empty() && data[i]);
            if (fire) trigger_msix(s.start + i);
        }
    }
    return 0;  // mask/unmask: MSI-X masking is QEMU's (it emulates the table)
}

void HcaFunction::trigger_msix(unsigned vector) {
    if (vector >= msix_fds_.size() || !msix_fds_[vector]) return;
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(msix_fds_[vector].get(), &one, sizeof(one));
}

void HcaFunction::drop_irqs() {
    for (auto& fd : msix_fds_) fd.reset();
}

void HcaFunction::reset() {
    config_.reset();
    hca_.reset();
}

}  // namespace hcasim::pcie
