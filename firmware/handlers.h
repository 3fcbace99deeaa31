// Firmware command handlers, one per opcode; the dispatch table in
// command_table.cpp maps opcodes to them.  Each handler reads its input
// struct from ctx.in, acts on FwState, writes its output struct to ctx.out
// and returns status + syndrome (mlx5 PRM semantics).
#pragma once

#include "firmware/firmware_state.h"

namespace hcasim::firmware {

CmdStatus cmd_query_hca_cap(FwState& fw, CmdContext& ctx);
CmdStatus cmd_alloc_pd(FwState& fw, CmdContext& ctx);
CmdStatus cmd_dealloc_pd(FwState& fw, CmdContext& ctx);
CmdStatus cmd_alloc_memic(FwState& fw, CmdContext& ctx);
CmdStatus cmd_dealloc_memic(FwState& fw, CmdContext& ctx);
CmdStatus cmd_modify_memic(FwState& fw, CmdContext& ctx);
CmdStatus cmd_alloc_sw_icm(FwState& fw, CmdContext& ctx);
CmdStatus cmd_dealloc_sw_icm(FwState& fw, CmdContext& ctx);
CmdStatus cmd_create_mkey(FwState& fw, CmdContext& ctx);
CmdStatus cmd_destroy_mkey(FwState& fw, CmdContext& ctx);
CmdStatus cmd_alloc_dmah(FwState& fw, CmdContext& ctx);
CmdStatus cmd_dealloc_dmah(FwState& fw, CmdContext& ctx);
CmdStatus cmd_alloc_uar(FwState& fw, CmdContext& ctx);
CmdStatus cmd_dealloc_uar(FwState& fw, CmdContext& ctx);
CmdStatus cmd_create_eq(FwState& fw, CmdContext& ctx);
CmdStatus cmd_destroy_eq(FwState& fw, CmdContext& ctx);
CmdStatus cmd_create_cq(FwState& fw, CmdContext& ctx);
CmdStatus cmd_destroy_cq(FwState& fw, CmdContext& ctx);
CmdStatus cmd_query_cq(FwState& fw, CmdContext& ctx);
CmdStatus cmd_modify_cq(FwState& fw, CmdContext& ctx);
CmdStatus cmd_create_qp(FwState& fw, CmdContext& ctx);
CmdStatus cmd_destroy_qp(FwState& fw, CmdContext& ctx);
CmdStatus cmd_modify_qp(FwState& fw, CmdContext& ctx);
CmdStatus cmd_query_qp(FwState& fw, CmdContext& ctx);
CmdStatus cmd_create_srq(FwState& fw, CmdContext& ctx);
CmdStatus cmd_destroy_srq(FwState& fw, CmdContext& ctx);
CmdStatus cmd_query_srq(FwState& fw, CmdContext& ctx);
CmdStatus cmd_modify_srq(FwState& fw, CmdContext& ctx);
CmdStatus cmd_query_port(FwState& fw, CmdContext& ctx);

// The end of a create command: the new handle in `out.*field` (traced
// as `name`), or NO_RESOURCES with syndrome `exhausted` when its table is
// full.
template <class Out>
CmdStatus created(CmdContext& ctx, std::optional<uint32_t> handle, uint32_t exhausted, uint32_t Out::*field,
                  const char* name) {
    if (!handle) return fail(HCASIM_STATUS_NO_RESOURCES, exhausted);
    Out out{};
    out.*field = *handle;
    ctx.output(out);
    ctx.note("{}={:#x}", name, *handle);
    return kOk;
}

// The end of a destroy command: BAD_RESOURCE with `bad_handle` for a
// handle the channel does not own, RESOURCE_BUSY with `busy` for an
// object others use.
constexpr CmdStatus destroyed(device::DestroyResult r, uint32_t bad_handle, uint32_t busy) {
    switch (r) {
    case device::DestroyResult::Done: return kOk;
    case device::DestroyResult::NotFound: return fail(HCASIM_STATUS_BAD_RESOURCE, bad_handle);
    case device::DestroyResult::Busy: return fail(HCASIM_STATUS_RESOURCE_BUSY, busy);
    }
    return fail(HCASIM_STATUS_INTERNAL_ERR, 0);
}

// Checks shared by the queue commands.
bool uar_usable(FwState& fw, uint32_t uar, uint32_t channel);  // channel's own or allocated by it
bool eq_usable(FwState& fw, uint32_t eqn, uint32_t channel);   // HCASIM_EQN_NONE or the channel's

}  // namespace hcasim::firmware
