// ALLOC_PD (0x800) / DEALLOC_PD (0x801): protection domains.
#include "firmware/handlers.h"

namespace hcasim::firmware {

CmdStatus cmd_alloc_pd(FwState& fw, CmdContext& ctx) {
    return created(ctx, fw.pds.insert(device::Pd{}, ctx.channel), HCASIM_SYND_PD_EXHAUSTED,
                   &hcasim_alloc_pd_out::pdn, "pdn");
}

CmdStatus cmd_dealloc_pd(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_dealloc_pd_in>();
    ctx.note("pdn={:#x}", in.pdn);
    // A channel destroys only its own PDs, and none that MRs, QPs or SRQs use.
    return destroyed(fw.pds.destroy(in.pdn, ctx.channel), HCASIM_SYND_PD_BAD_HANDLE, HCASIM_SYND_PD_BUSY);
}

}  // namespace hcasim::firmware
