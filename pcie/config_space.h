// PCI configuration space of one type-0 function: 4 KiB of registers with
// per-byte write masks, so that read-only bits stay read-only, BARs size
// themselves like hardware (write all ones, read back the size mask), and a
// ROM BAR without a ROM reads back 0.
//
// Source: PCI Local Bus spec 3.0 §6.1-6.2 (header, BARs, expansion ROM),
// PCIe base spec §7.5 (capability lists, extended capabilities at 0x100).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace hcasim::pcie {

// Standard header offsets and capability IDs.
namespace cfg {
inline constexpr uint16_t kVendorId = 0x00;
inline constexpr uint16_t kDeviceId = 0x02;
inline constexpr uint16_t kCommand = 0x04;
inline constexpr uint16_t kStatus = 0x06;
inline constexpr uint16_t kRevision = 0x08;
inline constexpr uint16_t kClassCode = 0x09;  // 3 bytes
inline constexpr uint16_t kHeaderType = 0x0e;
inline constexpr uint16_t kBar0 = 0x10;
inline constexpr uint16_t kSubsysVendor = 0x2c;
inline constexpr uint16_t kSubsysId = 0x2e;
inline constexpr uint16_t kRomBar = 0x30;
inline constexpr uint16_t kCapPtr = 0x34;
inline constexpr uint16_t kIntLine = 0x3c;
inline constexpr uint16_t kIntPin = 0x3d;

inline constexpr uint16_t kCmdMemory = 1u << 1;
inline constexpr uint16_t kCmdBusMaster = 1u << 2;
inline constexpr uint16_t kCmdIntxDisable = 1u << 10;
inline constexpr uint16_t kStatusCapList = 1u << 4;

inline constexpr uint8_t kCapPm = 0x01;
inline constexpr uint8_t kCapMsix = 0x11;
inline constexpr uint8_t kCapExp = 0x10;
inline constexpr uint16_t kExtCapTph = 0x17;

inline constexpr size_t kSize = 4096;
inline constexpr uint16_t kExtStart = 0x100;
}  // namespace cfg

struct BarSpec {
    uint64_t size = 0;      // bytes, a power of two >= 16; 0 = unused
    bool is64 = true;
    bool prefetchable = false;
};

class ConfigSpace {
public:
    ConfigSpace();

    // ---- building (before the function is offered to a client) ----
    void set8(uint16_t off, uint8_t v) { data_[off] = v; }
    void set16(uint16_t off, uint16_t v);
    void set32(uint16_t off, uint32_t v);
    // Marks bits writable by the guest (mask applied on every write).
    void writable16(uint16_t off, uint16_t mask);
    void writable32(uint16_t off, uint32_t mask);
    void writable8(uint16_t off, uint8_t mask) { wmask_[off] = mask; }
    // Defines BAR `index` (a 64-bit BAR also consumes index + 1).
    void set_bar(unsigned index, const BarSpec& bar);
    // Appends a standard capability of `size` bytes at `off` (chained
    // through 0x34 / next pointers); returns `off`.
    uint16_t add_capability(uint8_t id, uint16_t off, uint16_t size);
    // Appends an extended capability (PCIe §7.6) at `off` >= 0x100.
    uint16_t add_ext_capability(uint16_t id, uint8_t version, uint16_t off, uint16_t size);

    // ---- guest-visible access (vfio-user REGION_READ/WRITE, index 7) ----
    // Out-of-range accesses are clipped: reads return 0xff bytes past the
    // end, writes past the end are dropped.  Returns bytes handled.
    size_t read(uint64_t off, std::span<uint8_t> out) const;
    size_t write(uint64_t off, std::span<const uint8_t> in);

    // ---- device-side views ----
    uint8_t get8(uint16_t off) const { return data_[off]; }
    uint16_t get16(uint16_t off) const;
    uint32_t get32(uint16_t off) const;
    uint16_t find_capability(uint8_t id) const;      // 0 if absent
    uint16_t find_ext_capability(uint16_t id) const; // 0 if absent
    uint64_t bar_size(unsigned index) const { return index < 6 ? bars_[index].size : 0; }
    bool bus_master() const { return get16(cfg::kCommand) & cfg::kCmdBusMaster; }

    // Records the built state as the reset state; call once when built.
    void finalize() { defaults_ = data_; }
    // Returns every register to the state recorded by finalize() (reset).
    void reset() { data_ = defaults_; }

private:
    std::array<uint8_t, cfg::kSize> data_{};
    std::array<uint8_t, cfg::kSize> defaults_{};
    std::array<uint8_t, cfg::kSize> wmask_{};
    std::array<BarSpec, 6> bars_{};
    uint16_t last_cap_ = 0;
    uint16_t last_ext_cap_ = 0;
};

}  // namespace hcasim::pcie
