// ALLOC_PD (0x800) / DEALLOC_PD (0x801): protection domains.
#include "firmware/handlers.h"

namespace hcasim::firmware {

CmdStatus cmd_alloc_pd(FwState& fw, CmdContext& ctx) {
    auto pdn = fw.pds.insert(Pd{}, ctx.channel);
    if (!pdn) return fail(HCASIM_STATUS_NO_RESOURCES, HCASIM_SYND_PD_EXHAUSTED);
    hcasim_alloc_pd_out out{};
    out.pdn = *pdn;
    ctx.output(out);
    ctx.detail = fmt::format("pdn={}", *pdn);
    return kOk;
}

CmdStatus cmd_dealloc_pd(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_dealloc_pd_in>();
    ctx.detail = fmt::format("pdn={}", in.pdn);
    // A channel may only destroy its own objects.
    auto owner = fw.pds.owner_of(in.pdn);
    if (!owner || *owner != ctx.channel)
        return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_PD_BAD_HANDLE);
    if (fw.pds.busy(in.pdn))  // MRs, QPs or SRQs use it
        return fail(HCASIM_STATUS_RESOURCE_BUSY, HCASIM_SYND_PD_BUSY);
    fw.pds.erase(in.pdn);
    return kOk;
}

}  // namespace hcasim::firmware
