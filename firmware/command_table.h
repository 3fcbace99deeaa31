// The firmware's command dispatch table: opcode -> name, minimum mailbox
// sizes, handler.  Adding a command = one handler + one row.
#pragma once

#include "firmware/firmware_state.h"

#include <span>
#include <string_view>

namespace hcasim::firmware {

using Handler = CmdStatus (*)(FwState&, CmdContext&);

struct CommandDesc {
    uint16_t opcode;
    const char* name;
    size_t in_size;   // minimum input mailbox bytes (header included)
    size_t out_size;  // minimum output mailbox bytes (header included)
    Handler handler;
};

std::span<const CommandDesc> command_table();
const CommandDesc* find_command(uint16_t opcode);
const CommandDesc* find_command(std::string_view name);
const char* opcode_name(uint16_t opcode);
const char* status_name(uint8_t status);

}  // namespace hcasim::firmware
