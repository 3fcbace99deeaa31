/* Every firmware command of the device ABI with its input and output
 * mailbox types, listed once (C++ only: the ABI itself, hcasim_abi.h, is
 * plain C).  The firmware's command table takes each row's mailbox sizes
 * from here, and the verbs library's command channel the opcode of each
 * input type, so a command cannot be sent or served with another
 * command's layout.
 */
#pragma once

#include "abi/hcasim_abi.h"

#include <cstdint>
#include <type_traits>

namespace hcasim::abi {

// X(NAME, input type, output type).  QUERY_HCA_CAP's input is the header alone.
#define HCASIM_COMMANDS(X)                                                        \
    X(QUERY_HCA_CAP, hcasim_cmd_in_hdr, hcasim_query_hca_cap_out)                 \
    X(ALLOC_MEMIC, hcasim_alloc_memic_in, hcasim_alloc_memic_out)                 \
    X(DEALLOC_MEMIC, hcasim_dealloc_memic_in, hcasim_dealloc_memic_out)           \
    X(MODIFY_MEMIC, hcasim_modify_memic_in, hcasim_modify_memic_out)              \
    X(ALLOC_SW_ICM, hcasim_alloc_sw_icm_in, hcasim_alloc_sw_icm_out)              \
    X(DEALLOC_SW_ICM, hcasim_dealloc_sw_icm_in, hcasim_dealloc_sw_icm_out)        \
    X(ALLOC_PD, hcasim_alloc_pd_in, hcasim_alloc_pd_out)                          \
    X(DEALLOC_PD, hcasim_dealloc_pd_in, hcasim_dealloc_pd_out)                    \
    X(CREATE_MKEY, hcasim_create_mkey_in, hcasim_create_mkey_out)                 \
    X(DESTROY_MKEY, hcasim_destroy_mkey_in, hcasim_destroy_mkey_out)              \
    X(ALLOC_DMAH, hcasim_alloc_dmah_in, hcasim_alloc_dmah_out)                    \
    X(DEALLOC_DMAH, hcasim_dealloc_dmah_in, hcasim_dealloc_dmah_out)              \
    X(ALLOC_UAR, hcasim_alloc_uar_in, hcasim_alloc_uar_out)                       \
    X(DEALLOC_UAR, hcasim_dealloc_uar_in, hcasim_dealloc_uar_out)                 \
    X(CREATE_EQ, hcasim_create_eq_in, hcasim_create_eq_out)                       \
    X(DESTROY_EQ, hcasim_destroy_eq_in, hcasim_destroy_eq_out)                    \
    X(CREATE_CQ, hcasim_create_cq_in, hcasim_create_cq_out)                       \
    X(DESTROY_CQ, hcasim_destroy_cq_in, hcasim_destroy_cq_out)                    \
    X(QUERY_CQ, hcasim_query_cq_in, hcasim_query_cq_out)                          \
    X(MODIFY_CQ, hcasim_modify_cq_in, hcasim_modify_cq_out)                       \
    X(CREATE_QP, hcasim_create_qp_in, hcasim_create_qp_out)                       \
    X(DESTROY_QP, hcasim_destroy_qp_in, hcasim_destroy_qp_out)                    \
    X(MODIFY_QP, hcasim_modify_qp_in, hcasim_modify_qp_out)                       \
    X(QUERY_QP, hcasim_query_qp_in, hcasim_query_qp_out)                          \
    X(CREATE_SRQ, hcasim_create_srq_in, hcasim_create_srq_out)                    \
    X(DESTROY_SRQ, hcasim_destroy_srq_in, hcasim_destroy_srq_out)                 \
    X(QUERY_SRQ, hcasim_query_srq_in, hcasim_query_srq_out)                       \
    X(MODIFY_SRQ, hcasim_modify_srq_in, hcasim_modify_srq_out)                    \
    X(QUERY_PORT, hcasim_query_port_in, hcasim_query_port_out)

// Command<HCASIM_CMD_X>: In, Out and kName of command X.
template <uint16_t Opcode>
struct Command;
// The opcode whose input mailbox is In (0: no command has that input type).
template <class In>
inline constexpr uint16_t kOpcodeOf = 0;

#define HCASIM_COMMAND_TRAITS(name, in, out)                         \
    template <>                                                      \
    struct Command<HCASIM_CMD_##name> {                              \
        using In = in;                                               \
        using Out = out;                                             \
        static constexpr const char* kName = #name;                  \
    };                                                               \
    template <>                                                      \
    inline constexpr uint16_t kOpcodeOf<in> = HCASIM_CMD_##name;
HCASIM_COMMANDS(HCASIM_COMMAND_TRAITS)
#undef HCASIM_COMMAND_TRAITS

// Writes In's opcode into its header (the header is the input of
// QUERY_HCA_CAP, the first member of every other input).
template <class In>
constexpr void set_opcode(In& in) {
    static_assert(kOpcodeOf<In> != 0, "not a command's input mailbox");
    if constexpr (std::is_same_v<In, hcasim_cmd_in_hdr>)
        in.opcode = kOpcodeOf<In>;
    else
        in.hdr.opcode = kOpcodeOf<In>;
}

// set_opcode, for a command whose output mailbox is Out: another
// command's output does not compile.
template <class In, class Out>
constexpr void prepare(In& in) {
    static_assert(std::is_same_v<typename Command<kOpcodeOf<In>>::Out, Out>, "another command's output");
    set_opcode(in);
}

}  // namespace hcasim::abi
