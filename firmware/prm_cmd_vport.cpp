// The ConnectX-5 model's NIC vport commands (Linux vport.c) and queue
// counters: QUERY_NIC_VPORT_CONTEXT (the permanent MAC, MTU, system image
// GUID, promiscuous modes, the UC/MC address lists), MODIFY_NIC_VPORT_CONTEXT
// (the fields its field_select names: mtu, promisc, addresses_list),
// QUERY_VPORT_STATE (up when the port is: device::PrmPort),
// QUERY_VPORT_COUNTER, and ALLOC/DEALLOC/QUERY_Q_COUNTER. Only the
// function's own vport exists (other_vport answers BAD_PARAM_ERR). Nothing
// counts until frames move: the vport and queue counters read zeros.
#include "firmware/prm_handlers.h"

namespace hcasim::firmware {

namespace {

using Nvc = ifc::nic_vport_context;
using MacL = ifc::mac_address_layout;
constexpr std::uint32_t kListUc = 0, kListMc = 1;  // allowed_list_type: MLX5_NVPRT_LIST_TYPE_UC, _MC
constexpr std::size_t kMaxUcList = 1u << 4, kMaxMcList = 1u << 6;  // log_max_current_uc/mc_list

std::uint64_t mac_value(const device::PrmPort::Mac& m)
{
    std::uint64_t v = 0;
    for (auto b : m)
        v = v << 8 | b;
    return v;
}

device::PrmPort::Mac mac_of(std::uint64_t v)
{
    device::PrmPort::Mac m{};
    for (int i = 5; i >= 0; --i, v >>= 8)
        m[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
    return m;
}

}  // namespace

PrmStatus prm_query_nic_vport_context(PrmState& s, CmdContext& ctx)
{
    using In = ifc::query_nic_vport_context_in;
    using Out = ifc::query_nic_vport_context_out;
    auto in = prm_input<In>(ctx);
    auto list = static_cast<std::uint32_t>(in[In::allowed_list_type]);
    ctx.note("allowed_list_type={}", list);
    if (in[In::other_vport])
        return prm_bad_param(kPrmSyndUnsupported);
    if (list != kListUc && list != kListMc)
        return prm_bad_param();
    const device::PrmPort& p = s.device->port();
    auto out = prm_output<Out>(ctx);
    auto nvc = out[Out::nic_vport_context];
    nvc.set(Nvc::mtu, p.mtu);
    nvc.set(Nvc::system_image_guid, p.system_image_guid);
    nvc.set(Nvc::promisc_uc, p.promisc_uc);
    nvc.set(Nvc::promisc_mc, p.promisc_mc);
    nvc.set(Nvc::promisc_all, p.promisc_all);
    auto mac = mac_value(p.mac);
    nvc[Nvc::permanent_address].set(MacL::mac_addr_47_32, mac >> 32);
    nvc[Nvc::permanent_address].set(MacL::mac_addr_31_0, mac & 0xffffffff);
    // The list asked for, as far as the output holds it.
    const auto& macs = list == kListUc ? p.uc_list : p.mc_list;
    std::uint32_t n = 0;
    for (const auto& m : macs)
        if (nvc.set(Nvc::current_uc_mac_address, n, mac_value(m)))
            ++n;
    nvc.set(Nvc::allowed_list_type, list);
    nvc.set(Nvc::allowed_list_size, n);
    return {};
}

PrmStatus prm_modify_nic_vport_context(PrmState& s, CmdContext& ctx)
{
    using In = ifc::modify_nic_vport_context_in;
    using Sel = ifc::modify_nic_vport_field_select;
    auto in = prm_input<In>(ctx);
    auto sel = in[In::field_select];
    auto nvc = in[In::nic_vport_context];
    ctx.note("mtu={} promisc={} addresses_list={}", sel[Sel::mtu] ? nvc[Nvc::mtu] : 0, sel[Sel::promisc],
             sel[Sel::addresses_list]);
    if (in[In::other_vport])
        return prm_bad_param(kPrmSyndUnsupported);
    if (sel[Sel::permanent_address] || sel[Sel::roce_en] || sel[Sel::node_guid] || sel[Sel::port_guid] ||
        sel[Sel::affiliation] || sel[Sel::disable_uc_local_lb] || sel[Sel::disable_mc_local_lb] || sel[Sel::min_inline])
        return prm_bad_param(kPrmSyndUnsupported);
    device::PrmPort& p = s.device->port();
    // Everything checked before anything changes.
    std::uint64_t mtu = nvc[Nvc::mtu];
    if (sel[Sel::mtu] && (mtu < device::PrmPort::kMinMtu || mtu > device::PrmPort::kMaxMtu))
        return prm_bad_param();
    std::vector<device::PrmPort::Mac> macs;
    auto list = nvc[Nvc::allowed_list_type];
    if (sel[Sel::addresses_list]) {
        auto n = nvc[Nvc::allowed_list_size];
        if ((list != kListUc && list != kListMc) || n > (list == kListUc ? kMaxUcList : kMaxMcList) ||
            nvc.available(Nvc::current_uc_mac_address) < n)
            return prm_bad_param();
        for (std::uint32_t i = 0; i < n; ++i)
            macs.push_back(mac_of(*nvc.at(Nvc::current_uc_mac_address, i)));
    }
    if (sel[Sel::mtu])
        p.mtu = static_cast<std::uint32_t>(mtu);
    if (sel[Sel::promisc]) {
        p.promisc_uc = nvc[Nvc::promisc_uc];
        p.promisc_mc = nvc[Nvc::promisc_mc];
        p.promisc_all = nvc[Nvc::promisc_all];
    }
    if (sel[Sel::addresses_list])
        (list == kListUc ? p.uc_list : p.mc_list) = std::move(macs);
    return {};
}

PrmStatus prm_query_vport_state(PrmState& s, CmdContext& ctx)
{
    using In = ifc::query_vport_state_in;
    using Out = ifc::query_vport_state_out;
    auto in = prm_input<In>(ctx);
    if (in[In::other_vport])
        return prm_bad_param(kPrmSyndUnsupported);
    const device::PrmPort& p = s.device->port();
    // vport states (Linux MLX5_VPORT_STATE_DOWN 0, _UP 1).
    std::uint32_t state = p.oper_status() == device::PrmPort::kUp ? 1 : 0;
    ctx.note("state={}", state);
    auto out = prm_output<Out>(ctx);
    out.set(Out::state, state);
    out.set(Out::admin_state, state);
    return {};
}

PrmStatus prm_query_vport_counter(PrmState&, CmdContext& ctx)
{
    using In = ifc::query_vport_counter_in;
    auto in = prm_input<In>(ctx);
    if (in[In::other_vport] || in[In::port_num] > 1)
        return prm_bad_param(kPrmSyndUnsupported);
    return {};  // every counter 0
}

PrmStatus prm_alloc_q_counter(PrmState& s, CmdContext& ctx)
{
    auto id = s.device->objects().q_counters.alloc();
    if (!id)
        return prm_fail(prm::stat::NO_RES_ERR, kPrmSyndNoObject);
    ctx.note("counter_set_id={:#x}", *id);
    prm_output<ifc::alloc_q_counter_out>(ctx).set(ifc::alloc_q_counter_out::counter_set_id, *id);
    return {};
}

PrmStatus prm_dealloc_q_counter(PrmState& s, CmdContext& ctx)
{
    using In = ifc::dealloc_q_counter_in;
    auto id = static_cast<std::uint32_t>(prm_input<In>(ctx)[In::counter_set_id]);
    ctx.note("counter_set_id={:#x}", id);
    bool used = false;  // an RQ counts into it
    s.device->objects().rqs.for_each([&](std::uint32_t, const device::PrmWq& q) {
        used |= prm::view<ifc::rqc>(q.ctx).value()[ifc::rqc::counter_set_id] == id;
    });
    if (used)
        return prm_fail(prm::stat::BAD_RES_STATE_ERR, kPrmSyndBusy);
    if (!s.device->objects().q_counters.free(id))
        return prm_bad_param(kPrmSyndBadHandle);
    return {};
}

PrmStatus prm_query_q_counter(PrmState& s, CmdContext& ctx)
{
    using In = ifc::query_q_counter_in;
    auto in = prm_input<In>(ctx);
    auto id = static_cast<std::uint32_t>(in[In::counter_set_id]);
    ctx.note("counter_set_id={:#x}", id);
    if (in[In::other_vport] || in[In::aggregate])
        return prm_bad_param(kPrmSyndUnsupported);
    if (!s.device->objects().q_counters.allocated(id))
        return prm_bad_param(kPrmSyndBadHandle);
    return {};  // every counter 0
}

}  // namespace hcasim::firmware
