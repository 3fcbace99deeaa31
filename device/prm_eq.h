// The ConnectX-5 model's event queues: rings of 64-byte EQEs in host memory
// (struct mlx5_eqe, prm::dev::eqe) that the device fills and mlx5_core
// drains, each with the event types it takes (CREATE_EQ's event_bitmask),
// its MSI-X vector (eqc.intr), its UAR page (eqc.uar_page, the page whose
// EQ doorbell moves its consumer index) and its arming.
//
// Ownership: the driver pre-fills every EQE's owner byte with 1 and takes
// an EQE when (owner ^ (ci >> log_size)) & 1 is 0 (Linux eq.c next_eqe_sw),
// so the device writes owner = (pi >> log_size) & 1: 0 on the first pass.
// The EQ doorbell (Linux eq.c eq_update_ci): a 32-bit write of
// (eqn << 24) | ci at UAR page + 0x40 arms the EQ, at + 0x48 only moves ci.
// An armed EQ raises its MSI-X vector for the next EQE and is then disarmed;
// arming an EQ that holds EQEs beyond ci raises it at once.
//
// EQ numbers are indexes (they must fit the doorbell's 8 bits), at most
// kMaxEqs. A full EQ (pi - ci = size) drops the event and counts it: the
// PRM's EQ overrun; hardware would stop the EQ, the model keeps it going.
//
// Source: mlx5 PRM "Event Queues" (EQE format, EQ doorbell), Linux
// drivers/net/ethernet/mellanox/mlx5/core/eq.c; the layouts from
// mlx5_ifc.h and device.h (prm/prm_layouts.h).
#pragma once

#include "device/platform.h"
#include "device/queue_ring.h"

#include <array>
#include <cstdint>
#include <optional>
#include <span>

namespace hcasim::device {

struct PrmEq {
    std::uint32_t log_size = 0;             // 2^log_size EQEs
    std::uint32_t uar_page = 0;             // the UAR whose EQ doorbell moves ci
    std::uint32_t intr = 0;                 // MSI-X vector
    std::array<std::uint64_t, 4> event_mask{};  // bit t of word t/64: event type t
    QueueRing ring;                         // the EQE buffer (no doorbell record)
    std::uint32_t pi = 0;                   // EQEs written (24-bit counter in eqc)
    std::uint32_t ci = 0;                   // the driver's consumer index (doorbell)
    bool armed = false;
    std::uint64_t overruns = 0;             // EQEs dropped: the EQ was full
    std::uint64_t dma_faults = 0;           // EQEs dropped: the ring is outside guest RAM

    std::uint32_t entries() const { return 1u << log_size; }
    bool takes(std::uint8_t type) const { return (event_mask[type / 64] >> (type % 64)) & 1; }
};

class PrmEqTable {
public:
    /// log_max_eq is 5 in the model's capabilities: 32 EQs.
    static constexpr std::uint32_t kMaxEqs = 32;
    /// Bytes of an EQE and of its event data (EQE bytes 0x20..0x3b).
    static constexpr std::uint32_t kEqeBytes = 64;
    static constexpr std::uint32_t kEventDataBytes = 28;
    /// EQ doorbell offsets in a UAR page: MLX5_EQ_DOORBEL_OFFSET (arm) and
    /// two dwords on (update only), as Linux eq_update_ci writes them.
    static constexpr std::uint32_t kDoorbellArm = 0x40;
    static constexpr std::uint32_t kDoorbellUpdate = 0x48;

    explicit PrmEqTable(Platform& platform) : platform_(platform) {}

    /// A new EQ at the lowest free number; nullopt when all kMaxEqs are in
    /// use. It starts disarmed with pi = ci = 0.
    std::optional<std::uint32_t> create(PrmEq eq);
    /// false if eqn names no EQ.
    bool destroy(std::uint32_t eqn);
    const PrmEq* find(std::uint32_t eqn) const;
    std::uint32_t count() const;

    /// An EQ doorbell written to UAR page `uar` at `offset` (kDoorbellArm or
    /// kDoorbellUpdate): value = (eqn << 24) | ci (ci's low 24 bits).
    /// Returns false, changing nothing, when the EQ does not exist or
    /// belongs to another UAR page.
    bool doorbell(std::uint32_t uar, std::uint32_t offset, std::uint32_t value);

    /// Writes an EQE (type, sub_type, the event data) to EQ eqn and raises
    /// its vector if armed. false if the EQ does not exist or the EQE was
    /// dropped (full, or its ring outside guest memory; both counted).
    bool post(std::uint32_t eqn, std::uint8_t type, std::uint8_t sub_type,
              std::span<const std::uint8_t, kEventDataBytes> data);
    /// post() to every EQ whose event_bitmask takes `type`; how many got it.
    unsigned post_event(std::uint8_t type, std::uint8_t sub_type, std::span<const std::uint8_t, kEventDataBytes> data);
    /// Does some EQ take events of `type`?
    bool subscribed(std::uint8_t type) const;

    /// Device reset: every EQ forgotten.
    void reset();

private:
    void fire(PrmEq& eq);

    Platform& platform_;
    std::array<std::optional<PrmEq>, kMaxEqs> eqs_{};
};

}  // namespace hcasim::device
