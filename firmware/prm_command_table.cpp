// The ConnectX-5 model's PRM command table (see prm_command_table.h).
#include "firmware/prm_command_table.h"

#include "firmware/prm_handlers.h"

#include <array>

namespace hcasim::firmware {

namespace {

// A row: the command's input and output layouts give the sizes it checks.
template <class In, class Out>
constexpr PrmCommandDesc row(std::uint32_t opcode, PrmHcaState needs, PrmHandler handler)
{
    return {static_cast<std::uint16_t>(opcode), In::kBits / 8, Out::kBits / 8, needs, handler};
}

namespace op = prm::op;
constexpr auto kAny = PrmHcaState::disabled;
constexpr auto kEnabled = PrmHcaState::enabled;
constexpr auto kInit = PrmHcaState::initialized;

constexpr std::array kCommands = {
    row<ifc::enable_hca_in, ifc::enable_hca_out>(op::ENABLE_HCA, kAny, prm_enable_hca),
    row<ifc::disable_hca_in, ifc::disable_hca_out>(op::DISABLE_HCA, kEnabled, prm_disable_hca),
    row<ifc::query_issi_in, ifc::query_issi_out>(op::QUERY_ISSI, kEnabled, prm_query_issi),
    row<ifc::set_issi_in, ifc::set_issi_out>(op::SET_ISSI, kEnabled, prm_set_issi),
    row<ifc::query_pages_in, ifc::query_pages_out>(op::QUERY_PAGES, kEnabled, prm_query_pages),
    row<ifc::manage_pages_in, ifc::manage_pages_out>(op::MANAGE_PAGES, kEnabled, prm_manage_pages),
    row<ifc::query_hca_cap_in, ifc::query_hca_cap_out>(op::QUERY_HCA_CAP, kEnabled, prm_query_hca_cap),
    row<ifc::set_hca_cap_in, ifc::set_hca_cap_out>(op::SET_HCA_CAP, kEnabled, prm_set_hca_cap),
    row<ifc::access_register_in, ifc::access_register_out>(op::ACCESS_REG, kEnabled, prm_access_reg),
    row<ifc::init_hca_in, ifc::init_hca_out>(op::INIT_HCA, kEnabled, prm_init_hca),
    row<ifc::teardown_hca_in, ifc::teardown_hca_out>(op::TEARDOWN_HCA, kInit, prm_teardown_hca),
    row<ifc::query_adapter_in, ifc::query_adapter_out>(op::QUERY_ADAPTER, kInit, prm_query_adapter),
    row<ifc::alloc_uar_in, ifc::alloc_uar_out>(op::ALLOC_UAR, kInit, prm_alloc_uar),
    row<ifc::dealloc_uar_in, ifc::dealloc_uar_out>(op::DEALLOC_UAR, kInit, prm_dealloc_uar),
    row<ifc::create_eq_in, ifc::create_eq_out>(op::CREATE_EQ, kInit, prm_create_eq),
    row<ifc::destroy_eq_in, ifc::destroy_eq_out>(op::DESTROY_EQ, kInit, prm_destroy_eq),
    row<ifc::query_eq_in, ifc::query_eq_out>(op::QUERY_EQ, kInit, prm_query_eq),
    row<ifc::alloc_pd_in, ifc::alloc_pd_out>(op::ALLOC_PD, kInit, prm_alloc_pd),
    row<ifc::dealloc_pd_in, ifc::dealloc_pd_out>(op::DEALLOC_PD, kInit, prm_dealloc_pd),
    row<ifc::alloc_transport_domain_in, ifc::alloc_transport_domain_out>(op::ALLOC_TRANSPORT_DOMAIN, kInit,
                                                                          prm_alloc_transport_domain),
    row<ifc::dealloc_transport_domain_in, ifc::dealloc_transport_domain_out>(op::DEALLOC_TRANSPORT_DOMAIN, kInit,
                                                                              prm_dealloc_transport_domain),
    row<ifc::create_mkey_in, ifc::create_mkey_out>(op::CREATE_MKEY, kInit, prm_create_mkey),
    row<ifc::destroy_mkey_in, ifc::destroy_mkey_out>(op::DESTROY_MKEY, kInit, prm_destroy_mkey),
    row<ifc::query_mkey_in, ifc::query_mkey_out>(op::QUERY_MKEY, kInit, prm_query_mkey),
    row<ifc::create_cq_in, ifc::create_cq_out>(op::CREATE_CQ, kInit, prm_create_cq),
    row<ifc::destroy_cq_in, ifc::destroy_cq_out>(op::DESTROY_CQ, kInit, prm_destroy_cq),
    row<ifc::modify_cq_in, ifc::modify_cq_out>(op::MODIFY_CQ, kInit, prm_modify_cq),
    row<ifc::query_cq_in, ifc::query_cq_out>(op::QUERY_CQ, kInit, prm_query_cq),
    row<ifc::create_sq_in, ifc::create_sq_out>(op::CREATE_SQ, kInit, prm_create_sq),
    row<ifc::modify_sq_in, ifc::modify_sq_out>(op::MODIFY_SQ, kInit, prm_modify_sq),
    row<ifc::destroy_sq_in, ifc::destroy_sq_out>(op::DESTROY_SQ, kInit, prm_destroy_sq),
    row<ifc::query_sq_in, ifc::query_sq_out>(op::QUERY_SQ, kInit, prm_query_sq),
    row<ifc::create_rq_in, ifc::create_rq_out>(op::CREATE_RQ, kInit, prm_create_rq),
    row<ifc::modify_rq_in, ifc::modify_rq_out>(op::MODIFY_RQ, kInit, prm_modify_rq),
    row<ifc::destroy_rq_in, ifc::destroy_rq_out>(op::DESTROY_RQ, kInit, prm_destroy_rq),
    row<ifc::query_rq_in, ifc::query_rq_out>(op::QUERY_RQ, kInit, prm_query_rq),
    row<ifc::create_tis_in, ifc::create_tis_out>(op::CREATE_TIS, kInit, prm_create_tis),
    row<ifc::modify_tis_in, ifc::modify_tis_out>(op::MODIFY_TIS, kInit, prm_modify_tis),
    row<ifc::destroy_tis_in, ifc::destroy_tis_out>(op::DESTROY_TIS, kInit, prm_destroy_tis),
    row<ifc::create_rqt_in, ifc::create_rqt_out>(op::CREATE_RQT, kInit, prm_create_rqt),
    row<ifc::modify_rqt_in, ifc::modify_rqt_out>(op::MODIFY_RQT, kInit, prm_modify_rqt),
    row<ifc::destroy_rqt_in, ifc::destroy_rqt_out>(op::DESTROY_RQT, kInit, prm_destroy_rqt),
    row<ifc::create_tir_in, ifc::create_tir_out>(op::CREATE_TIR, kInit, prm_create_tir),
    row<ifc::modify_tir_in, ifc::modify_tir_out>(op::MODIFY_TIR, kInit, prm_modify_tir),
    row<ifc::destroy_tir_in, ifc::destroy_tir_out>(op::DESTROY_TIR, kInit, prm_destroy_tir),
    row<ifc::create_flow_table_in, ifc::create_flow_table_out>(op::CREATE_FLOW_TABLE, kInit, prm_create_flow_table),
    row<ifc::modify_flow_table_in, ifc::modify_flow_table_out>(op::MODIFY_FLOW_TABLE, kInit, prm_modify_flow_table),
    row<ifc::destroy_flow_table_in, ifc::destroy_flow_table_out>(op::DESTROY_FLOW_TABLE, kInit,
                                                                  prm_destroy_flow_table),
    row<ifc::set_flow_table_root_in, ifc::set_flow_table_root_out>(op::SET_FLOW_TABLE_ROOT, kInit,
                                                                    prm_set_flow_table_root),
    row<ifc::create_flow_group_in, ifc::create_flow_group_out>(op::CREATE_FLOW_GROUP, kInit, prm_create_flow_group),
    row<ifc::destroy_flow_group_in, ifc::destroy_flow_group_out>(op::DESTROY_FLOW_GROUP, kInit,
                                                                  prm_destroy_flow_group),
    row<ifc::set_fte_in, ifc::set_fte_out>(op::SET_FLOW_TABLE_ENTRY, kInit, prm_set_flow_table_entry),
    row<ifc::delete_fte_in, ifc::delete_fte_out>(op::DELETE_FLOW_TABLE_ENTRY, kInit, prm_delete_flow_table_entry),
    row<ifc::query_nic_vport_context_in, ifc::query_nic_vport_context_out>(op::QUERY_NIC_VPORT_CONTEXT, kInit,
                                                                            prm_query_nic_vport_context),
    row<ifc::modify_nic_vport_context_in, ifc::modify_nic_vport_context_out>(op::MODIFY_NIC_VPORT_CONTEXT, kInit,
                                                                              prm_modify_nic_vport_context),
    row<ifc::query_vport_state_in, ifc::query_vport_state_out>(op::QUERY_VPORT_STATE, kInit, prm_query_vport_state),
    row<ifc::query_vport_counter_in, ifc::query_vport_counter_out>(op::QUERY_VPORT_COUNTER, kInit,
                                                                    prm_query_vport_counter),
    row<ifc::alloc_q_counter_in, ifc::alloc_q_counter_out>(op::ALLOC_Q_COUNTER, kInit, prm_alloc_q_counter),
    row<ifc::dealloc_q_counter_in, ifc::dealloc_q_counter_out>(op::DEALLOC_Q_COUNTER, kInit, prm_dealloc_q_counter),
    row<ifc::query_q_counter_in, ifc::query_q_counter_out>(op::QUERY_Q_COUNTER, kInit, prm_query_q_counter),
};

}  // namespace

std::span<const PrmCommandDesc> prm_command_table() { return kCommands; }

const PrmCommandDesc* find_prm_command(std::uint16_t opcode)
{
    for (const auto& c : kCommands)
        if (c.opcode == opcode)
            return &c;
    return nullptr;
}

}  // namespace hcasim::firmware
