// The ConnectX-5 model's device objects, as its PRM firmware creates them
// and its BAR0 reaches them: UAR pages (ALLOC_UAR / DEALLOC_UAR) and event
// queues (CREATE_EQ / DESTROY_EQ), the Ethernet objects (prm_objects.h),
// flow steering (prm_steering.h) and port 1 with its vport (prm_port.h).
//
// UAR pages: BAR0 is cut into 4 KiB pages, an x86 guest's system page (the
// model does not offer uar_4k, which only hosts with larger pages use). Pages 0..2 hold the init segment
// (0..0x2010), so UAR indexes start at 3 and never reach the MEMIC window
// at 16 MiB: indexes 3..4095. A doorbell written to a page that is not an
// allocated UAR is dropped and counted (a real device ignores it too).
//
// Source: mlx5 PRM "UAR" (ALLOC_UAR, doorbell pages); Linux
// drivers/net/ethernet/mellanox/mlx5/core/uar.c.
#pragma once

#include "device/platform.h"
#include "device/prm_eq.h"
#include "device/prm_objects.h"
#include "device/prm_port.h"
#include "device/prm_steering.h"

#include <bitset>
#include <cstdint>
#include <optional>

namespace hcasim::device {

class PrmDevice {
public:
    static constexpr std::uint32_t kUarPageBytes = 4096;
    static constexpr std::uint32_t kFirstUar = 3;      // after the init segment's pages
    static constexpr std::uint32_t kUarLimit = 4096;   // BAR0's first 16 MiB
    /// The function's MSI-X vectors (its BAR4 table): EQs' eqc.intr.
    static constexpr std::uint32_t kMsixVectors = 32;

    explicit PrmDevice(Platform& platform) : platform_(platform), eqs_(platform) {}

    Platform& platform() { return platform_; }
    PrmEqTable& eqs() { return eqs_; }
    const PrmEqTable& eqs() const { return eqs_; }
    PrmObjects& objects() { return objects_; }
    const PrmObjects& objects() const { return objects_; }
    PrmSteering& steering() { return steering_; }
    PrmPort& port() { return port_; }

    /// ALLOC_UAR: the lowest free UAR index, nullopt when none is left.
    std::optional<std::uint32_t> alloc_uar();
    /// DEALLOC_UAR: false if `index` is not an allocated UAR.
    bool dealloc_uar(std::uint32_t index);
    bool uar_allocated(std::uint32_t index) const { return index < kUarLimit && uars_.test(index); }
    std::uint32_t uar_count() const { return static_cast<std::uint32_t>(uars_.count()); }

    /// A write of `value` (a 32-bit doorbell, host order) at `offset` in UAR
    /// page `index`: an EQ doorbell moves an EQ's ci (and arms it). Returns
    /// false, counting a dropped doorbell, if the page is no allocated UAR,
    /// the offset is no doorbell the model has, or the doorbell names an EQ
    /// of another UAR.
    bool uar_write(std::uint32_t index, std::uint32_t offset, std::uint32_t value);
    /// Doorbells dropped by uar_write.
    std::uint64_t dropped_doorbells() const { return dropped_doorbells_; }

    /// Device reset: no UARs, EQs, objects or flow tables; the port back to
    /// power-on.
    void reset();

private:
    Platform& platform_;
    PrmEqTable eqs_;
    PrmObjects objects_;
    PrmSteering steering_;
    PrmPort port_;
    std::bitset<kUarLimit> uars_;
    std::uint64_t dropped_doorbells_ = 0;
};

}  // namespace hcasim::device
