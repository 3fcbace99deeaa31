// PCI capabilities shared by the device models' functions (see
// pci_capabilities.h).
#include "pcie/pci_capabilities.h"

namespace hcasim::pcie {

void add_pm_capability(ConfigSpace& c, uint16_t off)
{
    c.add_capability(cfg::kCapPm, off, 8);
    c.set16(off + 2, 0x0003);
    c.writable16(off + 4, 0x0003);
}

void add_msix_capability(ConfigSpace& c, uint16_t off, unsigned vectors, unsigned bar,
                         uint32_t table_off, uint32_t pba_off)
{
    c.add_capability(cfg::kCapMsix, off, 12);
    c.set16(off + 2, static_cast<uint16_t>(vectors - 1));
    c.writable16(off + 2, 0xc000);  // enable, function mask
    c.set32(off + 4, table_off | bar);
    c.set32(off + 8, pba_off | bar);
}

void add_pcie_endpoint_capability(ConfigSpace& c, uint16_t e)
{
    c.add_capability(cfg::kCapExp, e, kPcieCapSize);
    c.set16(e + 2, 0x0002);             // version 2, type 0 (endpoint)
    c.set32(e + 4, 0x10008001u);        // devcap: MPS 256, RBER, FLR
    c.writable16(e + 8, 0x7fff);        // devctl (FLR bit 15 handled as 0)
    c.set16(e + 8, 0x2810);             // MRRS 512, ext tag... defaults
    c.set32(e + 0x0c, 0x00000103u);     // linkcap: 8 GT/s, x16
    c.writable16(e + 0x10, 0x01c3);     // linkctl
    c.set16(e + 0x12, 0x0103);          // linkstat: 8 GT/s, x16
    c.set32(e + 0x24, 0x00000000u);     // devcap2
    c.writable16(e + 0x28, 0x041f);     // devctl2
}

void add_tph_requester_capability(ConfigSpace& c, uint16_t t, uint16_t entries)
{
    c.add_ext_capability(cfg::kExtCapTph, 1, t, static_cast<uint16_t>(12 + 2 * entries));
    const uint32_t tph_cap = (1u << 0) | (1u << 2) | (1u << 9) | (static_cast<uint32_t>(entries - 1) << 16);
    c.set32(t + 4, tph_cap);
    c.writable32(t + 8, 0x00000307u);  // ST mode select, requester enable
    for (uint16_t i = 0; i < entries; ++i)
        c.writable16(static_cast<uint16_t>(t + 12 + 2 * i), 0xffff);
}

device::TphConfig read_tph_requester(const ConfigSpace& c, uint16_t t, uint16_t entries)
{
    device::TphConfig tph;
    const uint32_t ctrl = c.get32(t + 8);
    tph.st_mode = ctrl & 0x7;
    tph.enabled = ((ctrl >> 8) & 0x3) != 0;
    tph.st_table.resize(entries);
    for (uint16_t i = 0; i < entries; ++i)
        tph.st_table[i] = c.get16(static_cast<uint16_t>(t + 12 + 2 * i));
    return tph;
}

}  // namespace hcasim::pcie
