// The ConnectX-5 model's PRM command table: opcode -> input and output
// layouts (their sizes are the least inlen/outlen the command accepts), the
// HCA state it needs, handler. Names are mlx5_ifc.h's (prm::cmd_name).
// Adding a command = one handler + one row.
#pragma once

#include "firmware/prm_state.h"

#include <cstddef>
#include <cstdint>
#include <span>

namespace hcasim::firmware {

using PrmHandler = PrmStatus (*)(PrmState&, CmdContext&);

struct PrmCommandDesc {
    std::uint16_t opcode;
    std::size_t in_bytes;    // the input layout's bytes: a shorter inlen is BAD_INP_LEN_ERR
    std::size_t out_bytes;   // the output layout's bytes: a shorter outlen is BAD_OUTP_LEN_ERR
    PrmHcaState needs;       // least HCA state: an earlier one is BAD_SYS_STATE_ERR
    PrmHandler handler;
};

std::span<const PrmCommandDesc> prm_command_table();
/// The row of `opcode`, or nullptr (the command answers BAD_OP_ERR).
const PrmCommandDesc* find_prm_command(std::uint16_t opcode);

}  // namespace hcasim::firmware
