// The ConnectX-5 model's HCA core (see cx5_hca.h).
#include "pcie/cx5_hca.h"

#include "common/trace_events.h"
#include "firmware/prm_cmdq.h"
#include "prm/prm_layouts.h"

#include <array>
#include <bit>

namespace hcasim::pcie {

namespace {

using Seg = prm::dev::init_seg;
constexpr std::uint32_t off(prm::Field<Seg> f) { return f.bit_off / 8; }

constexpr std::uint32_t kFwRev = off(Seg::fw_rev);
constexpr std::uint32_t kCmdifRevFwSub = off(Seg::cmdif_rev_fw_sub);
constexpr std::uint32_t kCmdqAddrH = off(Seg::cmdq_addr_h);
constexpr std::uint32_t kCmdqAddrLSz = off(Seg::cmdq_addr_l_sz);
constexpr std::uint32_t kCmdDbell = off(Seg::cmd_dbell);
constexpr std::uint32_t kInitializing = off(Seg::initializing);
constexpr std::uint32_t kHealthCounter = off(Seg::health_counter);
constexpr std::uint32_t kTimerH = off(Seg::internal_timer_h);
constexpr std::uint32_t kTimerL = off(Seg::internal_timer_l);
static_assert(kCmdDbell == 0x18 && kInitializing == 0x1fc && kHealthCounter == 0x1010);

// cmdq_addr_l_sz: [31:12] address, [10:8] nic_interface, [7:4] log size,
// [3:0] log stride (Linux cmd.c mlx5_cmd_init, MLX5_NIC_IFC_OFFSET).
constexpr std::uint32_t kNicIfcShift = 8, kNicIfcMask = 0x7;
// One doorbell bit per command slot.
constexpr std::uint32_t kSlotMask = static_cast<std::uint32_t>((std::uint64_t{1} << (1u << Cx5Hca::kLogCmdqSize)) - 1);

// UAR pages in BAR0 (PrmDevice): byte offsets.
constexpr std::uint64_t kUarStart = std::uint64_t{device::PrmDevice::kFirstUar} * device::PrmDevice::kUarPageBytes;
constexpr std::uint64_t kUarEnd = std::uint64_t{device::PrmDevice::kUarLimit} * device::PrmDevice::kUarPageBytes;
static_assert(kUarStart >= off(Seg::health_counter) + 4 && kUarEnd <= Cx5Hca::kBar0Size);

}  // namespace

Cx5Hca::Cx5Hca(Tracer& trace, Clock clock) : trace_(trace), clock_(std::move(clock)), fw_(trace, dev_) {}

void Cx5Hca::raise_msix(unsigned vector)
{
    if (irq_)
        irq_(vector);
}

std::uint32_t Cx5Hca::read_reg(std::uint32_t offset) const
{
    switch (offset) {
    case kFwRev:
        return std::uint32_t{kFwMinor} << 16 | kFwMajor;
    case kCmdifRevFwSub:
        return std::uint32_t{kCmdIfRev} << 16 | kFwSubMinor;
    case kCmdqAddrH:
        return static_cast<std::uint32_t>(cmdq_addr_ >> 32);
    case kCmdqAddrLSz:
        return (static_cast<std::uint32_t>(cmdq_addr_) & ~0xfffu) | nic_interface_ << kNicIfcShift |
               kLogCmdqSize << 4 | kLogCmdqStride;
    case kInitializing:
        return 0;  // bit 31 clear: initialised; no firmware reset support
    case kHealthCounter:
        // Must keep changing between mlx5_core's 2 s health polls: the
        // platform clock in ms.
        return static_cast<std::uint32_t>(now_ns() / 1000000);
    case kTimerH:
        return static_cast<std::uint32_t>(now_ns() >> 32);
    case kTimerL:
        return static_cast<std::uint32_t>(now_ns());
    default:
        return 0;  // reserved, the health buffer (no assert, syndrome 0), timeouts 0
    }
}

void Cx5Hca::write_reg(std::uint32_t offset, std::uint32_t value)
{
    switch (offset) {
    case kCmdqAddrH:
        cmdq_addr_ = std::uint64_t{value} << 32 | (cmdq_addr_ & 0xffffffffu);
        return;
    case kCmdqAddrLSz:
        cmdq_addr_ = (cmdq_addr_ & ~std::uint64_t{0xffffffffu}) | (value & ~0xfffu);
        nic_interface_ = (value >> kNicIfcShift) & kNicIfcMask;
        return;
    case kCmdDbell: {
        std::uint32_t slots = value & kSlotMask;
        bool idle = pending_ == 0;
        pending_ |= slots;
        if (dev_.eqs().subscribed(prm::event::CMD))
            event_slots_ |= slots;
        if (idle && slots && post_)
            post_([this] { poll(); });
        return;
    }
    default:
        if (offset >= kUarStart && offset < kUarEnd)
            dev_.uar_write(offset / device::PrmDevice::kUarPageBytes, offset % device::PrmDevice::kUarPageBytes,
                           value);
        return;  // otherwise read-only or reserved
    }
}

bool Cx5Hca::poll()
{
    std::uint32_t slots = pending_;
    pending_ = 0;
    for (std::uint32_t left = slots; left; left &= left - 1)
        run_slot(static_cast<std::uint32_t>(std::countr_zero(left)));
    return slots != 0;
}

void Cx5Hca::run_slot(std::uint32_t slot)
{
    std::uint64_t entry = cmdq_addr_ + (std::uint64_t{slot} << kLogCmdqStride);
    auto r = firmware::run_prm_cmd_entry(dma_, entry, [&](auto in, auto out) { fw_.execute(slot, in, out); });
    if (r.delivery != firmware::PrmDelivery::ok || !r.handed_back)
        trace::prm_cmd_delivery(trace_, slot, firmware::prm_delivery_name(r.delivery), r.reason,
                                r.handed_back ? "yes" : "no");
    const std::uint32_t bit = 1u << slot;
    if (event_slots_ & bit) {
        event_slots_ &= ~bit;
        if (r.handed_back) {
            // EQE data.cmd.vector (Linux mlx5_eq_async_int: MLX5_EVENT_TYPE_CMD)
            std::array<std::uint8_t, device::PrmEqTable::kEventDataBytes> data{};
            auto v = prm::mut_view<prm::dev::ev_data>(data).value();
            v[prm::dev::ev_data::cmd].set(prm::dev::eqe_cmd::vector, bit);
            dev_.eqs().post_event(prm::event::CMD, 0, data);
        }
    }
}

void Cx5Hca::reset()
{
    fw_.reset();
    cmdq_addr_ = 0;
    nic_interface_ = 0;
    pending_ = 0;
    event_slots_ = 0;
}

}  // namespace hcasim::pcie
