// The ConnectX-5 model's domain commands: ALLOC_PD / DEALLOC_PD (Linux
// mlx5_core_alloc_pd; mlx5e's one PD for its mkey) and
// ALLOC_TRANSPORT_DOMAIN / DEALLOC_TRANSPORT_DOMAIN (the domain a
// function's TIRs and TISes share: self-loopback is blocked within it).
// Objects belong to the command's uid; a PD an mkey uses, or a transport
// domain a TIS or TIR uses, cannot be freed (BAD_RES_STATE_ERR).
#include "firmware/prm_handlers.h"

namespace hcasim::firmware {

PrmStatus prm_alloc_pd(PrmState& s, CmdContext& ctx)
{
    auto uid = static_cast<std::uint32_t>(prm_input<ifc::alloc_pd_in>(ctx)[ifc::alloc_pd_in::uid]);
    auto pd = s.device->objects().pds.insert({}, uid);
    if (!pd)
        return prm_fail(prm::stat::NO_RES_ERR, kPrmSyndNoObject);
    ctx.note("pd={:#x}", *pd);
    prm_output<ifc::alloc_pd_out>(ctx).set(ifc::alloc_pd_out::pd, *pd);
    return {};
}

PrmStatus prm_dealloc_pd(PrmState& s, CmdContext& ctx)
{
    return prm_destroy_object(s.device->objects().pds, ctx, ifc::dealloc_pd_in::pd);
}

PrmStatus prm_alloc_transport_domain(PrmState& s, CmdContext& ctx)
{
    using In = ifc::alloc_transport_domain_in;
    using Out = ifc::alloc_transport_domain_out;
    auto uid = static_cast<std::uint32_t>(prm_input<In>(ctx)[In::uid]);
    auto td = s.device->objects().tds.insert({}, uid);
    if (!td)
        return prm_fail(prm::stat::NO_RES_ERR, kPrmSyndNoObject);
    ctx.note("transport_domain={:#x}", *td);
    prm_output<Out>(ctx).set(Out::transport_domain, *td);
    return {};
}

PrmStatus prm_dealloc_transport_domain(PrmState& s, CmdContext& ctx)
{
    return prm_destroy_object(s.device->objects().tds, ctx, ifc::dealloc_transport_domain_in::transport_domain);
}

}  // namespace hcasim::firmware
