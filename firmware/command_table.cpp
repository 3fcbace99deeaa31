// Firmware command dispatch table (see command_table.h).
#include "firmware/command_table.h"

#include "firmware/handlers.h"

#include <array>

namespace hcasim::firmware {

namespace {

constexpr size_t kHdr = sizeof(hcasim_cmd_in_hdr);

constexpr std::array kCommands = {
    CommandDesc{HCASIM_CMD_QUERY_HCA_CAP, "QUERY_HCA_CAP", kHdr,
                sizeof(hcasim_query_hca_cap_out), cmd_query_hca_cap},
    CommandDesc{HCASIM_CMD_ALLOC_MEMIC, "ALLOC_MEMIC", sizeof(hcasim_alloc_memic_in),
                sizeof(hcasim_alloc_memic_out), cmd_alloc_memic},
    CommandDesc{HCASIM_CMD_DEALLOC_MEMIC, "DEALLOC_MEMIC", sizeof(hcasim_dealloc_memic_in),
                sizeof(hcasim_dealloc_memic_out), cmd_dealloc_memic},
    CommandDesc{HCASIM_CMD_MODIFY_MEMIC, "MODIFY_MEMIC", sizeof(hcasim_modify_memic_in),
                sizeof(hcasim_modify_memic_out), cmd_modify_memic},
    CommandDesc{HCASIM_CMD_ALLOC_SW_ICM, "ALLOC_SW_ICM", sizeof(hcasim_alloc_sw_icm_in),
                sizeof(hcasim_alloc_sw_icm_out), cmd_alloc_sw_icm},
    CommandDesc{HCASIM_CMD_DEALLOC_SW_ICM, "DEALLOC_SW_ICM", sizeof(hcasim_dealloc_sw_icm_in),
                sizeof(hcasim_dealloc_sw_icm_out), cmd_dealloc_sw_icm},
    CommandDesc{HCASIM_CMD_ALLOC_PD, "ALLOC_PD", sizeof(hcasim_alloc_pd_in),
                sizeof(hcasim_alloc_pd_out), cmd_alloc_pd},
    CommandDesc{HCASIM_CMD_DEALLOC_PD, "DEALLOC_PD", sizeof(hcasim_dealloc_pd_in),
                sizeof(hcasim_dealloc_pd_out), cmd_dealloc_pd},
    CommandDesc{HCASIM_CMD_CREATE_MKEY, "CREATE_MKEY", sizeof(hcasim_create_mkey_in),
                sizeof(hcasim_create_mkey_out), cmd_create_mkey},
    CommandDesc{HCASIM_CMD_DESTROY_MKEY, "DESTROY_MKEY", sizeof(hcasim_destroy_mkey_in),
                sizeof(hcasim_destroy_mkey_out), cmd_destroy_mkey},
    CommandDesc{HCASIM_CMD_ALLOC_DMAH, "ALLOC_DMAH", sizeof(hcasim_alloc_dmah_in),
                sizeof(hcasim_alloc_dmah_out), cmd_alloc_dmah},
    CommandDesc{HCASIM_CMD_DEALLOC_DMAH, "DEALLOC_DMAH", sizeof(hcasim_dealloc_dmah_in),
                sizeof(hcasim_dealloc_dmah_out), cmd_dealloc_dmah},
    CommandDesc{HCASIM_CMD_ALLOC_UAR, "ALLOC_UAR", sizeof(hcasim_alloc_uar_in),
                sizeof(hcasim_alloc_uar_out), cmd_alloc_uar},
    CommandDesc{HCASIM_CMD_DEALLOC_UAR, "DEALLOC_UAR", sizeof(hcasim_dealloc_uar_in),
                sizeof(hcasim_dealloc_uar_out), cmd_dealloc_uar},
    CommandDesc{HCASIM_CMD_CREATE_EQ, "CREATE_EQ", sizeof(hcasim_create_eq_in),
                sizeof(hcasim_create_eq_out), cmd_create_eq},
    CommandDesc{HCASIM_CMD_DESTROY_EQ, "DESTROY_EQ", sizeof(hcasim_destroy_eq_in),
                sizeof(hcasim_destroy_eq_out), cmd_destroy_eq},
    CommandDesc{HCASIM_CMD_CREATE_CQ, "CREATE_CQ", sizeof(hcasim_create_cq_in),
                sizeof(hcasim_create_cq_out), cmd_create_cq},
    CommandDesc{HCASIM_CMD_DESTROY_CQ, "DESTROY_CQ", sizeof(hcasim_destroy_cq_in),
                sizeof(hcasim_destroy_cq_out), cmd_destroy_cq},
    CommandDesc{HCASIM_CMD_QUERY_CQ, "QUERY_CQ", sizeof(hcasim_query_cq_in),
                sizeof(hcasim_query_cq_out), cmd_query_cq},
    CommandDesc{HCASIM_CMD_MODIFY_CQ, "MODIFY_CQ", sizeof(hcasim_modify_cq_in),
                sizeof(hcasim_modify_cq_out), cmd_modify_cq},
    CommandDesc{HCASIM_CMD_CREATE_QP, "CREATE_QP", sizeof(hcasim_create_qp_in),
                sizeof(hcasim_create_qp_out), cmd_create_qp},
    CommandDesc{HCASIM_CMD_DESTROY_QP, "DESTROY_QP", sizeof(hcasim_destroy_qp_in),
                sizeof(hcasim_destroy_qp_out), cmd_destroy_qp},
    CommandDesc{HCASIM_CMD_MODIFY_QP, "MODIFY_QP", sizeof(hcasim_modify_qp_in),
                sizeof(hcasim_modify_qp_out), cmd_modify_qp},
    CommandDesc{HCASIM_CMD_QUERY_QP, "QUERY_QP", sizeof(hcasim_query_qp_in),
                sizeof(hcasim_query_qp_out), cmd_query_qp},
    CommandDesc{HCASIM_CMD_CREATE_SRQ, "CREATE_SRQ", sizeof(hcasim_create_srq_in),
                sizeof(hcasim_create_srq_out), cmd_create_srq},
    CommandDesc{HCASIM_CMD_DESTROY_SRQ, "DESTROY_SRQ", sizeof(hcasim_destroy_srq_in),
                sizeof(hcasim_destroy_srq_out), cmd_destroy_srq},
    CommandDesc{HCASIM_CMD_QUERY_SRQ, "QUERY_SRQ", sizeof(hcasim_query_srq_in),
                sizeof(hcasim_query_srq_out), cmd_query_srq},
    CommandDesc{HCASIM_CMD_MODIFY_SRQ, "MODIFY_SRQ", sizeof(hcasim_modify_srq_in),
                sizeof(hcasim_modify_srq_out), cmd_modify_srq},
    CommandDesc{HCASIM_CMD_QUERY_PORT, "QUERY_PORT", sizeof(hcasim_query_port_in),
                sizeof(hcasim_query_port_out), cmd_query_port},
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
