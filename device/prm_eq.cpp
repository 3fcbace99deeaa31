// The ConnectX-5 model's event queues (see prm_eq.h).
#include "device/prm_eq.h"

#include "prm/prm.h"
#include "prm/prm_layouts.h"

#include <algorithm>

namespace hcasim::device {

namespace {
using Eqe = prm::dev::eqe;
static_assert(Eqe::kBits / 8 == PrmEqTable::kEqeBytes);
static_assert(prm::dev::ev_data::kBits / 8 == PrmEqTable::kEventDataBytes);
constexpr std::uint32_t kCounterMask = 0xffffff;  // eqc's 24-bit counters, the doorbell's ci
}  // namespace

std::optional<std::uint32_t> PrmEqTable::create(PrmEq eq)
{
    auto it = std::find_if(eqs_.begin(), eqs_.end(), [](const auto& e) { return !e.has_value(); });
    if (it == eqs_.end())
        return std::nullopt;
    eq.pi = eq.ci = 0;
    eq.armed = false;
    *it = std::move(eq);
    return static_cast<std::uint32_t>(it - eqs_.begin());
}

bool PrmEqTable::destroy(std::uint32_t eqn)
{
    if (eqn >= kMaxEqs || !eqs_[eqn])
        return false;
    eqs_[eqn].reset();
    return true;
}

const PrmEq* PrmEqTable::find(std::uint32_t eqn) const
{
    return eqn < kMaxEqs && eqs_[eqn] ? &*eqs_[eqn] : nullptr;
}

std::uint32_t PrmEqTable::count() const
{
    return static_cast<std::uint32_t>(std::count_if(eqs_.begin(), eqs_.end(), [](const auto& e) { return e.has_value(); }));
}

bool PrmEqTable::doorbell(std::uint32_t uar, std::uint32_t offset, std::uint32_t value)
{
    std::uint32_t eqn = value >> 24;
    if (eqn >= kMaxEqs || !eqs_[eqn] || eqs_[eqn]->uar_page != uar)
        return false;
    PrmEq& eq = *eqs_[eqn];
    eq.ci = value & kCounterMask;
    if (offset == kDoorbellArm) {
        eq.armed = true;
        if (((eq.pi - eq.ci) & kCounterMask) != 0)
            fire(eq);  // EQEs already waiting
    }
    return true;
}

void PrmEqTable::fire(PrmEq& eq)
{
    eq.armed = false;
    platform_.raise_msix(eq.intr);
}

bool PrmEqTable::post(std::uint32_t eqn, std::uint8_t type, std::uint8_t sub_type,
                      std::span<const std::uint8_t, kEventDataBytes> data)
{
    if (eqn >= kMaxEqs || !eqs_[eqn])
        return false;
    PrmEq& eq = *eqs_[eqn];
    // The driver's ci is a free-running counter like pi (Linux eq->cons_index,
    // 24 bits in the doorbell): pi - ci EQEs are waiting.
    if (((eq.pi - eq.ci) & kCounterMask) >= eq.entries()) {
        ++eq.overruns;
        return false;
    }
    std::array<std::uint8_t, kEqeBytes> eqe{};
    auto v = prm::mut_view<Eqe>(eqe).value();
    v.set(Eqe::type, type);
    v.set(Eqe::sub_type, sub_type);
    std::copy(data.begin(), data.end(), v[Eqe::data].raw().begin());
    v.set(Eqe::owner, (eq.pi >> eq.log_size) & 1);
    std::uint64_t off = std::uint64_t{eq.pi & (eq.entries() - 1)} * kEqeBytes;
    if (eq.ring.write_owned_entry(platform_.dma(), off, eqe.data(), eqe.size()) != 0) {
        ++eq.dma_faults;
        return false;
    }
    eq.pi = (eq.pi + 1) & kCounterMask;
    if (eq.armed)
        fire(eq);
    return true;
}

unsigned PrmEqTable::post_event(std::uint8_t type, std::uint8_t sub_type,
                                std::span<const std::uint8_t, kEventDataBytes> data)
{
    unsigned n = 0;
    for (std::uint32_t eqn = 0; eqn < kMaxEqs; ++eqn)
        if (eqs_[eqn] && eqs_[eqn]->takes(type) && post(eqn, type, sub_type, data))
            ++n;
    return n;
}

bool PrmEqTable::subscribed(std::uint8_t type) const
{
    return std::any_of(eqs_.begin(), eqs_.end(), [type](const auto& e) { return e && e->takes(type); });
}

void PrmEqTable::reset()
{
    for (auto& e : eqs_)
        e.reset();
}

}  // namespace hcasim::device
