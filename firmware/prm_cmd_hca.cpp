// The ConnectX-5 model's HCA life-cycle commands (Linux main.c
// mlx5_function_enable / mlx5_function_open / teardown): ENABLE_HCA,
// QUERY_ISSI, SET_ISSI, INIT_HCA, TEARDOWN_HCA, DISABLE_HCA, QUERY_ADAPTER.
#include "firmware/prm_handlers.h"

#include <algorithm>
#include <string_view>

namespace hcasim::firmware {

namespace {

// ISSI 0 and 1 (supported_issi_dw0 bit n = ISSI n). ISSI 1 makes TIR, TIS,
// RQ, SQ, RQT and RMP-based SRQs objects of their own.
constexpr std::uint32_t kSupportedIssi = 0x3;

// The PF itself: function 0, not the embedded CPU's (PRM; no SR-IOV).
bool own_function(std::uint64_t embedded_cpu_function, std::uint64_t function_id)
{
    return embedded_cpu_function == 0 && function_id == 0;
}

}  // namespace

PrmStatus prm_enable_hca(PrmState& s, CmdContext& ctx)
{
    auto in = prm_input<ifc::enable_hca_in>(ctx);
    if (!own_function(in[ifc::enable_hca_in::embedded_cpu_function], in[ifc::enable_hca_in::function_id]))
        return prm_bad_param();
    s.hca = PrmHcaState::enabled;
    return {};
}

PrmStatus prm_disable_hca(PrmState& s, CmdContext& ctx)
{
    auto in = prm_input<ifc::disable_hca_in>(ctx);
    if (!own_function(in[ifc::disable_hca_in::embedded_cpu_function], in[ifc::disable_hca_in::function_id]))
        return prm_bad_param();
    s.hca = PrmHcaState::disabled;
    return {};
}

PrmStatus prm_init_hca(PrmState& s, CmdContext&)
{
    s.hca = PrmHcaState::initialized;
    return {};
}

PrmStatus prm_teardown_hca(PrmState& s, CmdContext& ctx)
{
    auto in = prm_input<ifc::teardown_hca_in>(ctx);
    // Graceful close (0) only: the model advertises neither fast_teardown
    // nor force_teardown.
    if (in[ifc::teardown_hca_in::profile] != 0)
        return prm_bad_param();
    s.hca = PrmHcaState::enabled;
    return {};
}

PrmStatus prm_query_issi(PrmState& s, CmdContext& ctx)
{
    auto out = prm_output<ifc::query_issi_out>(ctx);
    out.set(ifc::query_issi_out::current_issi, s.issi);
    out.set(ifc::query_issi_out::supported_issi_dw0, kSupportedIssi);
    return {};
}

PrmStatus prm_set_issi(PrmState& s, CmdContext& ctx)
{
    auto issi = prm_input<ifc::set_issi_in>(ctx)[ifc::set_issi_in::current_issi];
    if (issi >= 32 || !(kSupportedIssi & (1u << issi)))
        return prm_bad_param();
    ctx.note("issi={}", issi);
    s.issi = static_cast<std::uint16_t>(issi);
    return {};
}

PrmStatus prm_query_adapter(PrmState&, CmdContext& ctx)
{
    using Block = ifc::query_adapter_param_block;
    auto a = prm_output<ifc::query_adapter_out>(ctx)[ifc::query_adapter_out::query_adapter_struct];
    // Mellanox's IEEE OUI: mlx5_ib reports it as the vendor id (0x02c9), and
    // rdma-core's tests take an mlx5 device by it.
    a.set(Block::ieee_vendor_id, 0x02c9);
    // The board id (PSID) that `devlink dev info` and ibv_devinfo show.
    constexpr std::string_view psid = "HCASIM0000000001";
    for (std::size_t i = 0; i < psid.size(); ++i)
        a.set(Block::vsd_contd_psid, static_cast<std::uint32_t>(i), static_cast<std::uint8_t>(psid[i]));
    return {};
}

}  // namespace hcasim::firmware
