// PCI config space of the HCA function: identity, BAR and ROM sizing,
// the capability chain (PM -> MSI-X -> Express, TPH at 0x100), read-only
// bits, clipping at the end of the 4 KiB space.
#include "abi/hcasim_abi.h"
#include "pcie/config_space.h"
#include "pcie/hca_function.h"

#include <doctest/doctest.h>

#include <cerrno>

#include <vector>

using namespace hcasim::pcie;

namespace {

uint32_t rd32(ConfigSpace& c, uint16_t off) {
    uint32_t v = 0;
    c.read(off, {reinterpret_cast<uint8_t*>(&v), 4});
    return v;
}
void wr32(ConfigSpace& c, uint16_t off, uint32_t v) {
    c.write(off, {reinterpret_cast<const uint8_t*>(&v), 4});
}
uint64_t bar_size(ConfigSpace& c, unsigned bar) {
    const uint16_t off = static_cast<uint16_t>(cfg::kBar0 + 4 * bar);
    const uint32_t lo0 = rd32(c, off), hi0 = rd32(c, off + 4);
    wr32(c, off, 0xffffffff);
    wr32(c, off + 4, 0xffffffff);
    const uint64_t mask = (uint64_t{rd32(c, off + 4)} << 32) | (rd32(c, off) & ~0xfu);
    wr32(c, off, lo0);
    wr32(c, off + 4, hi0);
    return ~mask + 1;
}

}  // namespace

TEST_CASE("identity: IDs no in-kernel driver claims, class 0x0207") {
    ConfigSpace c = make_hca_config(1 << 20);
    CHECK(c.get16(cfg::kVendorId) == HCASIM_PCI_VENDOR_ID);
    CHECK(c.get16(cfg::kDeviceId) == HCASIM_PCI_DEVICE_ID);
    CHECK(c.get16(cfg::kVendorId) != 0x15b3);  // not Mellanox: mlx5_core would bind
    CHECK((rd32(c, 0x08) >> 8) == 0x020700);
    CHECK(c.get8(cfg::kHeaderType) == 0);
}

TEST_CASE("BARs size like hardware: 64-bit, BAR2 prefetchable") {
    ConfigSpace c = make_hca_config(1 << 20);
    CHECK(bar_size(c, 0) == HCASIM_BAR0_SIZE);
    CHECK(bar_size(c, 2) == (1u << 20));
    CHECK(bar_size(c, 4) == HCASIM_BAR4_SIZE);
    CHECK((rd32(c, cfg::kBar0) & 0xf) == 0x4);      // 64-bit memory
    CHECK((rd32(c, cfg::kBar0 + 8) & 0xf) == 0xc);  // 64-bit prefetchable
    // A programmed address reads back, low bits stay the BAR's flags.
    wr32(c, cfg::kBar0 + 8, 0xfe000000);
    CHECK(rd32(c, cfg::kBar0 + 8) == 0xfe00000c);
}

TEST_CASE("ROM BAR: no ROM, so sizing reads back 0") {
    ConfigSpace c = make_hca_config(1 << 20);
    wr32(c, cfg::kRomBar, 0xfffff800);
    CHECK(rd32(c, cfg::kRomBar) == 0);
    wr32(c, cfg::kRomBar, 0xffffffff);
    CHECK(rd32(c, cfg::kRomBar) == 0);
}

TEST_CASE("capability chain: PM, MSI-X, Express; TPH extended capability") {
    ConfigSpace c = make_hca_config(1 << 20);
    CHECK((c.get16(cfg::kStatus) & cfg::kStatusCapList) != 0);
    std::vector<uint8_t> ids;
    for (uint16_t off = c.get8(cfg::kCapPtr); off; off = c.get8(off + 1)) {
        REQUIRE(off >= 0x40);
        REQUIRE(ids.size() < 16);
        ids.push_back(c.get8(off));
    }
    CHECK(ids == std::vector<uint8_t>{cfg::kCapPm, cfg::kCapMsix, cfg::kCapExp});
    const uint16_t msix = c.find_capability(cfg::kCapMsix);
    CHECK((c.get16(msix + 2) & 0x7ff) + 1u == HCASIM_MSIX_VECTORS);
    CHECK((c.get32(msix + 4) & 7) == HCASIM_BAR_MSIX);
    const uint16_t exp = c.find_capability(cfg::kCapExp);
    CHECK(((c.get16(exp + 2) >> 4) & 0xf) == 0);  // endpoint
    const uint16_t tph = c.find_ext_capability(cfg::kExtCapTph);
    REQUIRE(tph == 0x100);
    const uint32_t cap = c.get32(tph + 4);
    CHECK(((cap >> 9) & 3) == 1);  // ST table in the capability
    CHECK(((cap >> 16) & 0x7ff) + 1u == hca_cfg::kTphStEntries);
    CHECK((c.get32(tph) >> 20) == 0);  // last extended capability
}

TEST_CASE("read-only bits stay read-only; writable ones take") {
    ConfigSpace c = make_hca_config(1 << 20);
    wr32(c, 0x00, 0xdeadbeef);  // IDs
    CHECK(c.get16(cfg::kVendorId) == HCASIM_PCI_VENDOR_ID);
    wr32(c, 0x08, 0);  // class/revision
    CHECK((rd32(c, 0x08) >> 8) == 0x020700);
    c.write(cfg::kCommand, std::vector<uint8_t>{0xff, 0xff});
    CHECK(c.get16(cfg::kCommand) == (cfg::kCmdMemory | cfg::kCmdBusMaster | cfg::kCmdIntxDisable));
    CHECK(c.bus_master());
    const uint16_t tph = c.find_ext_capability(cfg::kExtCapTph);
    wr32(c, tph + 4, 0);  // capability register: read-only
    CHECK(c.get32(tph + 4) != 0);
    wr32(c, tph + 8, 0xffffffff);  // control: ST mode + enable only
    CHECK(c.get32(tph + 8) == 0x307);
    wr32(c, tph + 12, 0x12345678);  // ST table entries are writable
    CHECK(c.get32(tph + 12) == 0x12345678);
    c.reset();
    CHECK(c.get16(cfg::kCommand) == 0);
    CHECK(c.get32(tph + 12) == 0);
}

TEST_CASE("accesses past the end are clipped") {
    ConfigSpace c = make_hca_config(1 << 20);
    std::vector<uint8_t> buf(8, 0);
    CHECK(c.read(4092, buf) == 4);
    CHECK(buf[7] == 0xff);
    CHECK(c.read(5000, buf) == 0);
    CHECK(c.write(4094, std::vector<uint8_t>(8, 0xff)) == 2);
}
