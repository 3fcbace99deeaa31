// The ConnectX-5 model's UAR commands (Linux uar.c): ALLOC_UAR and
// DEALLOC_UAR. A UAR is a 4 KiB page of BAR0 (device::PrmDevice): indexes
// from 3, never the init segment's pages.
#include "firmware/prm_handlers.h"

#include "device/prm_device.h"

namespace hcasim::firmware {

PrmStatus prm_alloc_uar(PrmState& s, CmdContext& ctx)
{
    auto uar = s.device->alloc_uar();
    if (!uar)
        return {static_cast<std::uint8_t>(prm::stat::NO_RES_ERR), kPrmSyndNoUar};
    ctx.note("uar={:#x}", *uar);
    prm_output<ifc::alloc_uar_out>(ctx).set(ifc::alloc_uar_out::uar, *uar);
    return {};
}

PrmStatus prm_dealloc_uar(PrmState& s, CmdContext& ctx)
{
    auto uar = static_cast<std::uint32_t>(prm_input<ifc::dealloc_uar_in>(ctx)[ifc::dealloc_uar_in::uar]);
    ctx.note("uar={:#x}", uar);
    for (std::uint32_t eqn = 0; eqn < device::PrmEqTable::kMaxEqs; ++eqn)
        if (const auto* eq = s.device->eqs().find(eqn); eq && eq->uar_page == uar)
            return {static_cast<std::uint8_t>(prm::stat::BAD_RES_STATE_ERR), kPrmSyndBusy};
    if (!s.device->dealloc_uar(uar))
        return prm_bad_param(kPrmSyndBadUar);
    return {};
}

}  // namespace hcasim::firmware
