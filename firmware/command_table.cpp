// Firmware command dispatch table (see command_table.h).
#include "firmware/command_table.h"

#include "abi/hcasim_commands.hpp"
#include "firmware/handlers.h"

#include <array>

namespace hcasim::firmware {

namespace {

// A row whose mailbox sizes are the sizes of the command's own input and
// output types (abi/hcasim_commands.hpp): a row cannot pair an opcode with
// another command's layout.
template <uint16_t Opcode>
constexpr CommandDesc row(Handler handler) {
    using C = abi::Command<Opcode>;
    return {Opcode, C::kName, sizeof(typename C::In), sizeof(typename C::Out), handler};
}

constexpr std::array kCommands = {
    row<HCASIM_CMD_QUERY_HCA_CAP>(cmd_query_hca_cap),
    row<HCASIM_CMD_ALLOC_MEMIC>(cmd_alloc_memic),
    row<HCASIM_CMD_DEALLOC_MEMIC>(cmd_dealloc_memic),
    row<HCASIM_CMD_MODIFY_MEMIC>(cmd_modify_memic),
    row<HCASIM_CMD_ALLOC_SW_ICM>(cmd_alloc_sw_icm),
    row<HCASIM_CMD_DEALLOC_SW_ICM>(cmd_dealloc_sw_icm),
    row<HCASIM_CMD_ALLOC_PD>(cmd_alloc_pd),
    row<HCASIM_CMD_DEALLOC_PD>(cmd_dealloc_pd),
    row<HCASIM_CMD_CREATE_MKEY>(cmd_create_mkey),
    row<HCASIM_CMD_DESTROY_MKEY>(cmd_destroy_mkey),
    row<HCASIM_CMD_ALLOC_DMAH>(cmd_alloc_dmah),
    row<HCASIM_CMD_DEALLOC_DMAH>(cmd_dealloc_dmah),
    row<HCASIM_CMD_ALLOC_UAR>(cmd_alloc_uar),
    row<HCASIM_CMD_DEALLOC_UAR>(cmd_dealloc_uar),
    row<HCASIM_CMD_CREATE_EQ>(cmd_create_eq),
    row<HCASIM_CMD_DESTROY_EQ>(cmd_destroy_eq),
    row<HCASIM_CMD_CREATE_CQ>(cmd_create_cq),
    row<HCASIM_CMD_DESTROY_CQ>(cmd_destroy_cq),
    row<HCASIM_CMD_QUERY_CQ>(cmd_query_cq),
    row<HCASIM_CMD_MODIFY_CQ>(cmd_modify_cq),
    row<HCASIM_CMD_CREATE_QP>(cmd_create_qp),
    row<HCASIM_CMD_DESTROY_QP>(cmd_destroy_qp),
    row<HCASIM_CMD_MODIFY_QP>(cmd_modify_qp),
    row<HCASIM_CMD_QUERY_QP>(cmd_query_qp),
    row<HCASIM_CMD_CREATE_SRQ>(cmd_create_srq),
    row<HCASIM_CMD_DESTROY_SRQ>(cmd_destroy_srq),
    row<HCASIM_CMD_QUERY_SRQ>(cmd_query_srq),
    row<HCASIM_CMD_MODIFY_SRQ>(cmd_modify_srq),
    row<HCASIM_CMD_QUERY_PORT>(cmd_query_port),
};

}  // namespace

std::span<const CommandDesc> command_table() { return kCommands; }

const CommandDesc* find_command(uint16_t opcode) {
    for (const auto& c : kCommands)
        if (c.opcode == opcode) return &c;
    return nullptr;
}

const CommandDesc* find_command(std::string_view name) {
    for (const auto& c : kCommands)
        if (name == c.name) return &c;
    return nullptr;
}

const char* opcode_name(uint16_t opcode) {
    const CommandDesc* c = find_command(opcode);
    return c ? c->name : "UNKNOWN";
}

const char* status_name(uint8_t status) {
    switch (status) {
    case HCASIM_STATUS_OK: return "OK";
    case HCASIM_STATUS_INTERNAL_ERR: return "INTERNAL_ERR";
    case HCASIM_STATUS_BAD_OP: return "BAD_OP";
    case HCASIM_STATUS_BAD_PARAM: return "BAD_PARAM";
    case HCASIM_STATUS_BAD_SYS_STATE: return "BAD_SYS_STATE";
    case HCASIM_STATUS_BAD_RESOURCE: return "BAD_RESOURCE";
    case HCASIM_STATUS_RESOURCE_BUSY: return "RESOURCE_BUSY";
    case HCASIM_STATUS_EXCEED_LIM: return "EXCEED_LIM";
    case HCASIM_STATUS_BAD_RES_STATE: return "BAD_RES_STATE";
    case HCASIM_STATUS_NO_RESOURCES: return "NO_RESOURCES";
    case HCASIM_STATUS_BAD_INPUT_LEN: return "BAD_INPUT_LEN";
    case HCASIM_STATUS_BAD_OUTPUT_LEN: return "BAD_OUTPUT_LEN";
    default: return "UNKNOWN";
    }
}

}  // namespace hcasim::firmware
