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
