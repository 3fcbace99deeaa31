// The ConnectX-5 model's capability commands: QUERY_HCA_CAP and SET_HCA_CAP
// (op_mod = capability type << 1, | 1 for the current values when
// querying; Linux fw.c / main.c). The pages come from the policy
// (prm_caps.h).
#include "firmware/prm_handlers.h"

#include <algorithm>

namespace hcasim::firmware {

PrmStatus prm_query_hca_cap(PrmState& s, CmdContext& ctx)
{
    auto op_mod = prm_input<ifc::query_hca_cap_in>(ctx)[ifc::query_hca_cap_in::op_mod];
    std::uint32_t type = static_cast<std::uint32_t>(op_mod >> 1);
    bool current = op_mod & 1;
    ctx.note("type={:#x} {}", type, current ? "cur" : "max");
    const auto* page = s.caps.page(type, current);
    if (!page)
        return prm_bad_param(kPrmSyndBadOpMod);
    auto cap = prm_output<ifc::query_hca_cap_out>(ctx)[ifc::query_hca_cap_out::capability].raw();
    std::copy_n(page->begin(), std::min(page->size(), cap.size()), cap.begin());
    return {};
}

PrmStatus prm_set_hca_cap(PrmState& s, CmdContext& ctx)
{
    auto in = prm_input<ifc::set_hca_cap_in>(ctx);
    std::uint32_t type = static_cast<std::uint32_t>(in[ifc::set_hca_cap_in::op_mod] >> 1);
    ctx.note("type={:#x}", type);
    if (!s.caps.has(type))
        return prm_bad_param(kPrmSyndBadOpMod);
    if (!s.caps.set_current(type, in[ifc::set_hca_cap_in::capability].raw().data()))
        return prm_bad_param();
    return {};
}

}  // namespace hcasim::firmware
