// The ConnectX-5 model's HCA core as its PCI function drives it: BAR0's
// init segment (trapped registers: firmware revision, command interface
// revision, the command queue's address and geometry, the command doorbell,
// the initializing flag, the health counter and buffer, the internal timer),
// the command queue in host memory, and the PRM firmware behind it.
// Layout: prm::dev::init_seg (Linux's struct mlx5_init_seg), big-endian
// registers; what mlx5_core reads and writes, and when, is in
// ../docs/connectx5.md (from Linux main.c, cmd.c, health.c).
//
// Command completion: the device hands an entry back by clearing its owner
// bit, which the driver polls until it has created an EQ that takes
// command events (type 0x0a, its command EQ). A command rung while such an
// EQ exists also completes with an EQE whose data.cmd.vector is the slot's
// bit (and that EQ's MSI-X vector when armed). A command rung before (the
// CREATE_EQ of the command EQ itself) gets none: the driver completed it by
// polling, and a late EQE would name a slot it no longer has in flight.
//
// BAR0 beyond the init segment holds UAR pages (device::PrmDevice): the EQ
// doorbell at 0x40/0x48 of a UAR page moves an EQ's consumer index.
//
// Doorbells do not run commands inline: a doorbell write records the slots
// and asks the event loop to poll (as Hca does), so the MMIO write
// completes first.
#pragma once

#include "common/trace.h"
#include "device/dma_space.h"
#include "device/platform.h"
#include "device/prm_device.h"
#include "firmware/prm_firmware.h"

#include <cstdint>
#include <functional>

namespace hcasim::pcie {

class Cx5Hca final : public device::Platform {
public:
    using Post = std::function<void(std::function<void()>)>;
    using Irq = std::function<void(unsigned vector)>;
    using Clock = std::function<std::uint64_t()>;

    /// BAR0: 32 MiB as on a ConnectX-5: the init segment (0..0x2010, pages
    /// 0..2), UAR pages from index 3, the MEMIC window at 16 MiB.
    static constexpr std::uint64_t kBar0Size = 32ull << 20;
    /// The command queue: 2^5 entries of 2^6 bytes, one 4 KiB page.
    static constexpr std::uint32_t kLogCmdqSize = 5;
    static constexpr std::uint32_t kLogCmdqStride = 6;
    /// Firmware revision: major.minor.sub-minor (init segment fw_rev,
    /// cmdif_rev_fw_sub), as `devlink dev info` and `ethtool -i` show it.
    static constexpr std::uint16_t kFwMajor = 16, kFwMinor = 99, kFwSubMinor = 1;
    /// Command interface revision mlx5_core requires (CMD_IF_REV).
    static constexpr std::uint16_t kCmdIfRev = 5;

    /// `clock` is the platform's clock (ns, monotonic); the default is the
    /// host's steady clock. Tests pass their own.
    explicit Cx5Hca(Tracer& trace, Clock clock = device::steady_now_ns);

    void set_post(Post p) { post_ = std::move(p); }
    void set_irq(Irq i) { irq_ = std::move(i); }

    // device::Platform.
    device::DmaSpace& dma() override { return dma_; }
    void raise_msix(unsigned vector) override;
    std::uint64_t now_ns() const override { return clock_(); }

    /// BAR0 MMIO: the init segment's 4-byte registers and the UAR pages'
    /// doorbells at 4-byte aligned offsets, as numbers (the registers are
    /// big-endian: the PCI function converts, as the driver's
    /// ioread32be/iowrite32be do). Reads outside the registers return 0;
    /// writes to read-only registers are ignored; a doorbell the device has
    /// no use for is dropped and counted (PrmDevice::dropped_doorbells).
    std::uint32_t read_reg(std::uint32_t offset) const;
    void write_reg(std::uint32_t offset, std::uint32_t value);

    /// Runs the command slots rung since the last poll, in slot order.
    /// Returns true if there was work.
    bool poll();

    firmware::PrmFirmware& firmware() { return fw_; }
    device::PrmDevice& device() { return dev_; }
    /// The command queue's base address (cmdq_addr_h:l), 4 KiB aligned.
    std::uint64_t cmdq_addr() const { return cmdq_addr_; }

    /// Device reset (FLR / vfio-user DEVICE_RESET): the firmware back to
    /// power-on, the command queue forgotten.
    void reset();

private:
    void run_slot(std::uint32_t slot);

    Tracer& trace_;
    Clock clock_;
    device::DmaSpace dma_;
    device::PrmDevice dev_{*this};
    firmware::PrmFirmware fw_;
    std::uint64_t cmdq_addr_ = 0;
    std::uint32_t nic_interface_ = 0;  // cmdq_addr_l_sz bits 10:8 (0 full driver)
    std::uint32_t pending_ = 0;        // rung, not yet run
    std::uint32_t event_slots_ = 0;    // rung while a command EQ existed: complete with an EQE
    Post post_;
    Irq irq_;
};

}  // namespace hcasim::pcie
