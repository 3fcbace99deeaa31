// The ConnectX-5 model's PRM command handlers, one per opcode; the table in
// prm_command_table.cpp maps opcodes to them and checks, before a handler
// runs, that the input and output hold the command's layouts and that the
// HCA is in a state that accepts it. So a handler's views always fit.
#pragma once

#include "firmware/prm_state.h"
#include "prm/prm.h"
#include "prm/prm_layouts.h"

namespace hcasim::firmware {

namespace ifc = prm::ifc;

/// The command's input as layout L (the table checked its length).
template <class L>
prm::View<L> prm_input(const CmdContext& ctx)
{
    return prm::View<L>::over(ctx.in).value();
}
/// The command's output as layout L (the table checked its length).
template <class L>
prm::MutView<L> prm_output(CmdContext& ctx)
{
    return prm::MutView<L>::over(ctx.out).value();
}
/// A BAD_PARAM_ERR result.
inline PrmStatus prm_bad_param(std::uint32_t syndrome = kPrmSyndBadParam)
{
    return {static_cast<std::uint8_t>(prm::stat::BAD_PARAM_ERR), syndrome};
}

// prm_cmd_hca.cpp: the HCA's life cycle and identity.
PrmStatus prm_enable_hca(PrmState& s, CmdContext& ctx);
PrmStatus prm_disable_hca(PrmState& s, CmdContext& ctx);
PrmStatus prm_init_hca(PrmState& s, CmdContext& ctx);
PrmStatus prm_teardown_hca(PrmState& s, CmdContext& ctx);
PrmStatus prm_query_issi(PrmState& s, CmdContext& ctx);
PrmStatus prm_set_issi(PrmState& s, CmdContext& ctx);
PrmStatus prm_query_adapter(PrmState& s, CmdContext& ctx);
// prm_cmd_pages.cpp: pages for firmware memory.
PrmStatus prm_query_pages(PrmState& s, CmdContext& ctx);
PrmStatus prm_manage_pages(PrmState& s, CmdContext& ctx);
// prm_cmd_caps.cpp: capabilities.
PrmStatus prm_query_hca_cap(PrmState& s, CmdContext& ctx);
PrmStatus prm_set_hca_cap(PrmState& s, CmdContext& ctx);
// prm_cmd_reg.cpp: access registers.
PrmStatus prm_access_reg(PrmState& s, CmdContext& ctx);

}  // namespace hcasim::firmware
