// The HCA core: BAR0 register file (init segment, command channels,
// health), the MEMIC memory behind BAR2, the DMA space, and the firmware.
// The PCI function (pcie/hca_function.h) exposes it to a vfio-user client.
//
// Doorbells do not run commands inline: the command is posted to the
// device's event loop so the MMIO write completes first (a vCPU waiting on
// a trapped write must never wait on the device's own DMA messages).
#pragma once

#include "device/dma_space.h"
#include "device/engine.h"
#include "device/loopback_port.h"
#include "device/platform.h"
#include "firmware/firmware.h"
#include "common/trace.h"
#include "common/unique_fd.h"

#include <array>
#include <cstdint>
#include <functional>
#include <span>

namespace hcasim::pcie {

struct HcaConfig {
    uint64_t memic_size = 256 * 1024;  // bytes, multiple of 4096
    bool privileged = false;           // may allocate SW ICM
    device::PortConfig port;           // MTU, MAC, IPv4
    bool trace_datapath = false;       // trace every WQE, CQE and NAK
};

// The HCA's core as the PCI function drives it, and the platform the
// device core runs on (device/platform.h): DMA through the vfio-user DMA
// maps, MSI-X through the function's vectors, the host's steady clock.
class Hca final : public device::Platform {
public:
    using Post = std::function<void(std::function<void()>)>;
    using Irq = std::function<void(unsigned vector)>;
    using BusMaster = std::function<bool()>;

    // Throws std::runtime_error if the MEMIC memfd cannot be created.
    Hca(const HcaConfig& cfg, Tracer& trace);
    ~Hca();
    Hca(const Hca&) = delete;
    Hca& operator=(const Hca&) = delete;

    void set_post(Post p) { post_ = std::move(p); }
    void set_irq(Irq i) { irq_ = std::move(i); }
    void set_bus_master(BusMaster b) { bus_master_ = std::move(b); }

    // device::Platform.
    device::DmaSpace& dma() override { return dma_; }
    void raise_msix(unsigned vector) override;  // through set_irq's callback
    uint64_t now_ns() const override { return device::steady_now_ns(); }

    // BAR0 MMIO, 4-byte registers; other sizes/offsets read as 0 and
    // writes to read-only registers are ignored (and traced).
    uint32_t read_reg(uint32_t offset);
    void write_reg(uint32_t offset, uint32_t value);

    // Polls the doorbells (command queues and data-path UARs) and runs the
    // engine.  Returns true if there was work.  The caller keeps polling
    // while work flows and calls set_polling(false) before it sleeps.
    bool poll();
    // Tells drivers (status page) whether the device is polling; a driver
    // that sees IDLE writes the trapped WAKE register after a doorbell.
    void set_polling(bool on);
    bool polling() const { return polling_; }
    device::RdmaEngine& engine() { return *fw_.state().engine; }
    // Puts port 1 behind `backend` (a wire port); nullptr goes back to
    // loopback.  The port state follows the backend's link.
    void set_port_backend(device::PortBackend* backend);

    // BAR2: MEMIC window backed by a memfd.
    int memic_fd() const { return memic_fd_.get(); }
    uint64_t memic_bar_size() const { return memic_bar_size_; }
    // The mmap-able part of BAR2 (the pool); the op windows after it trap.
    uint64_t memic_mmap_size() const { return pool_span_; }
    // The UAR area of BAR2 (status page + UAR pages), mmap-able.
    uint64_t uar_offset() const { return uar_offset_; }
    uint64_t uar_size() const { return uint64_t{HCASIM_NUM_UARS + 1} * HCASIM_UAR_PAGE_SIZE; }
    // A trapped access to a MEMIC op window (BAR2 offset >= the pool):
    // 4/8-byte, naturally aligned.  Returns 0, or EINVAL for a bad size.
    int memic_op_access(uint64_t bar_offset, std::span<uint8_t> data, bool write);
    uint8_t* memic() { return memic_; }

    firmware::Firmware& firmware() { return fw_; }

    // Device reset (vfio-user DEVICE_RESET / FLR): channels released,
    // every object destroyed, MEMIC zeroed.
    void reset();

private:
    struct Channel {
        uint64_t cmdq_addr = 0;
        uint32_t owner = 0;
        uint32_t completed = 0;
        uint32_t msix_vector = HCASIM_MSIX_VECTOR_NONE;
        uint32_t cmd_ci = 0;  // command entries run
    };
    void write_channel(uint32_t ch, uint32_t reg, uint32_t value);
    uint32_t read_channel(uint32_t ch, uint32_t reg) const;
    void wake(uint32_t uar);
    void ring_legacy_doorbell(uint32_t ch, uint32_t index);
    bool run_commands(uint32_t ch);

    Tracer& trace_;
    uint64_t pool_span_;
    uint64_t uar_offset_;
    uint64_t memic_bar_size_;
    UniqueFd memic_fd_;
    uint8_t* memic_ = nullptr;
    device::DmaSpace dma_;
    firmware::Firmware fw_;
    std::array<Channel, HCASIM_NUM_CHANNELS> channels_{};
    Post post_;
    Irq irq_;
    BusMaster bus_master_;
    std::unique_ptr<device::LoopbackPort> loopback_;
    bool polling_ = false;
};

}  // namespace hcasim::pcie
