// The ConnectX-5 model's mkey commands: CREATE_MKEY, DESTROY_MKEY and
// QUERY_MKEY. Stage 1 takes what mlx5e makes: a physical-address mkey
// (mkc access_mode PA, length64: every address, the lkey of all its SQ and
// RQ data segments) on one of the command's PDs. Other access modes (MTT,
// KLM, memic) answer BAD_PARAM_ERR until the model implements them.
#include "firmware/prm_handlers.h"

namespace hcasim::firmware {

namespace {
using Mkc = ifc::mkc;
}  // namespace

PrmStatus prm_create_mkey(PrmState& s, CmdContext& ctx)
{
    using In = ifc::create_mkey_in;
    auto in = prm_input<In>(ctx);
    auto mkc = in[In::memory_key_mkey_entry];
    auto uid = static_cast<std::uint32_t>(in[In::uid]);
    device::PrmMkey m{prm_bytes(mkc), static_cast<std::uint32_t>(mkc[Mkc::pd])};
    auto mode = mkc[Mkc::access_mode_1_0] | mkc[Mkc::access_mode_4_2] << 2;
    ctx.note("access_mode={} pd={:#x} length64={}", mode, m.pd, mkc[Mkc::length64]);
    auto& o = s.device->objects();
    if (!o.pds.find_owned(m.pd, uid))
        return prm_bad_param(kPrmSyndBadHandle);
    if (mode != prm::mkey_access::PA)
        return prm_bad_param(kPrmSyndUnsupported);
    std::uint32_t pd = m.pd;
    auto idx = o.mkeys.insert(std::move(m), uid);
    if (!idx)
        return prm_fail(prm::stat::NO_RES_ERR, kPrmSyndNoObject);
    o.pds.get(pd);
    ctx.note("mkey_index={:#x}", *idx);
    prm_output<ifc::create_mkey_out>(ctx).set(ifc::create_mkey_out::mkey_index, *idx);
    return {};
}

PrmStatus prm_destroy_mkey(PrmState& s, CmdContext& ctx)
{
    return prm_destroy_object(s.device->objects().mkeys, ctx, ifc::destroy_mkey_in::mkey_index);
}

PrmStatus prm_query_mkey(PrmState& s, CmdContext& ctx)
{
    auto idx = static_cast<std::uint32_t>(prm_input<ifc::query_mkey_in>(ctx)[ifc::query_mkey_in::mkey_index]);
    ctx.note("mkey_index={:#x}", idx);
    const device::PrmMkey* m = s.device->objects().mkeys.find(idx);
    if (!m)
        return prm_bad_param(kPrmSyndBadHandle);
    prm_put_bytes(prm_output<ifc::query_mkey_out>(ctx)[ifc::query_mkey_out::memory_key_mkey_entry], m->mkc);
    return {};
}

}  // namespace hcasim::firmware
