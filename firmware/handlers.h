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

}  // namespace hcasim::firmware
