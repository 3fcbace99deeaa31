// The ConnectX-5 model's flow steering commands (Linux fs_cmd.c): flow
// tables, flow groups and entries (FTEs) of the NIC RX and NIC TX types,
// the root each type starts at, and miss chaining. Each command checks what
// it names before changing anything: the table and its type, a group's
// index range inside the table and clear of other groups, an entry's index
// inside the group it names, its actions (ALLOW, DROP, FWD_DEST) and each
// destination (a TIR, or a table of the same type at a deeper level).
// Flow counters, packet reformat, header rewrite and other vports are not
// modelled: BAD_PARAM_ERR. device::PrmSteering keeps the state; evaluating
// a frame against it is the data path's.
#include "firmware/prm_handlers.h"

#include <iterator>

namespace hcasim::firmware {

namespace {

using FtCtx = ifc::flow_table_context;
using FlowCtx = ifc::flow_context;
using Dest = ifc::dest_format_struct;
constexpr std::uint32_t kLogMaxFtSize = 20;                        // flow_table_properties log_max_ft_size
constexpr std::uint32_t kMissGotoTable = 1;                        // table_miss_action: MLX5_FLOW_TABLE_MISS_ACTION_FWD
constexpr std::uint32_t kSelectMissTableId = 1;                    // MLX5_MODIFY_FLOW_TABLE_MISS_TABLE_ID
constexpr std::uint32_t kSetFteNew = 0, kSetFteModify = 1;         // SET_FLOW_TABLE_ENTRY op_mod
constexpr std::uint32_t kMaxDestinations = 1u << 8;                // log_max_destination

bool supported_type(std::uint64_t type)
{
    return type == prm::ft_type::NIC_RX || type == prm::ft_type::NIC_TX;
}

// The table a command names, of the type it names.
device::PrmFlowTable* named_table(PrmState& s, std::uint64_t type, std::uint64_t id)
{
    device::PrmFlowTable* t = s.device->steering().table(static_cast<std::uint32_t>(id));
    return t && t->type == type ? t : nullptr;
}

// The miss target a table context names: none, or a deeper table of `type`.
PrmStatus check_miss(PrmState& s, prm::View<FtCtx> c, std::uint32_t type, std::uint32_t level)
{
    auto action = c[FtCtx::table_miss_action];
    if (action == 0)
        return {};
    if (action != kMissGotoTable)
        return prm_bad_param(kPrmSyndUnsupported);
    const device::PrmFlowTable* miss = named_table(s, type, c[FtCtx::table_miss_id]);
    if (!miss || miss->level <= level)
        return prm_bad_param(kPrmSyndBadHandle);
    return {};
}

// Bytes of one destination in an FTE's list: dest_format_struct (Linux
// fs_cmd.c: extended_dest_format only with extended_destination, which the
// model refuses).
constexpr std::size_t kDestBytes = Dest::kBits / 8;
constexpr std::size_t kDestOff = FlowCtx::destination.bit_off / 8;

// An FTE's actions and destinations (destination_list_size entries after
// the flow context's fixed part).
PrmStatus check_fte(PrmState& s, const device::PrmFlowTable& t, prm::View<FlowCtx> fc, bool ignore_level)
{
    constexpr std::uint64_t kActions =
        prm::flow_action::ALLOW | prm::flow_action::DROP | prm::flow_action::FWD_DEST;
    auto action = fc[FlowCtx::action];
    if (action & ~kActions)
        return prm_bad_param(kPrmSyndUnsupported);
    auto ndest = fc[FlowCtx::destination_list_size];
    if (fc[FlowCtx::flow_counter_list_size] || fc[FlowCtx::extended_destination] || ndest > kMaxDestinations)
        return prm_bad_param(kPrmSyndUnsupported);
    if (((action & prm::flow_action::FWD_DEST) != 0) != (ndest != 0))
        return prm_bad_param();
    auto raw = fc.raw();
    if (raw.size() < kDestOff + ndest * kDestBytes)
        return prm_bad_param(kPrmSyndShortInput);
    for (std::uint32_t i = 0; i < ndest; ++i) {
        auto d = prm::view<Dest>(raw.subspan(kDestOff + i * kDestBytes)).value();
        auto type = d[Dest::destination_type], id = d[Dest::destination_id];
        if (type == prm::flow_dest::TIR) {
            if (!s.device->objects().tirs.find(static_cast<std::uint32_t>(id)))
                return prm_bad_param(kPrmSyndBadHandle);
        } else if (type == prm::flow_dest::FLOW_TABLE) {
            const device::PrmFlowTable* to = named_table(s, t.type, id);
            if (!to || (!ignore_level && to->level <= t.level))
                return prm_bad_param(kPrmSyndBadHandle);
        } else {
            return prm_bad_param(kPrmSyndUnsupported);
        }
    }
    return {};
}

}  // namespace

PrmStatus prm_create_flow_table(PrmState& s, CmdContext& ctx)
{
    using In = ifc::create_flow_table_in;
    auto in = prm_input<In>(ctx);
    auto c = in[In::flow_table_context];
    device::PrmFlowTable t;
    t.type = static_cast<std::uint32_t>(in[In::table_type]);
    t.level = static_cast<std::uint32_t>(c[FtCtx::level]);
    t.log_size = static_cast<std::uint32_t>(c[FtCtx::log_size]);
    t.miss_action = static_cast<std::uint32_t>(c[FtCtx::table_miss_action]);
    t.miss_table_id = static_cast<std::uint32_t>(c[FtCtx::table_miss_id]);
    ctx.note("table_type={} level={} log_size={} miss_action={} miss_table_id={:#x}", t.type, t.level, t.log_size,
             t.miss_action, t.miss_table_id);
    if (!supported_type(t.type) || in[In::other_vport] || in[In::other_eswitch])
        return prm_bad_param(kPrmSyndUnsupported);
    if (c[FtCtx::reformat_en] || c[FtCtx::decap_en] || c[FtCtx::sw_owner] || c[FtCtx::termination_table])
        return prm_bad_param(kPrmSyndUnsupported);
    if (t.log_size > kLogMaxFtSize)
        return prm_bad_param(kPrmSyndQueueSize);
    if (auto st = check_miss(s, c, t.type, t.level); st.status)
        return st;
    auto id = s.device->steering().create_table(std::move(t));
    if (!id)
        return prm_fail(prm::stat::NO_RES_ERR, kPrmSyndNoObject);
    ctx.note("table_id={:#x}", *id);
    prm_output<ifc::create_flow_table_out>(ctx).set(ifc::create_flow_table_out::table_id, *id);
    return {};
}

PrmStatus prm_modify_flow_table(PrmState& s, CmdContext& ctx)
{
    using In = ifc::modify_flow_table_in;
    auto in = prm_input<In>(ctx);
    auto select = in[In::modify_field_select];
    auto c = in[In::flow_table_context];
    ctx.note("table_id={:#x} field_select={:#x} miss_action={} miss_table_id={:#x}", in[In::table_id], select,
             c[FtCtx::table_miss_action], c[FtCtx::table_miss_id]);
    device::PrmFlowTable* t = named_table(s, in[In::table_type], in[In::table_id]);
    if (!t)
        return prm_bad_param(kPrmSyndBadHandle);
    if (select & ~std::uint64_t{kSelectMissTableId})
        return prm_bad_param(kPrmSyndUnsupported);
    if (select & kSelectMissTableId) {
        if (auto st = check_miss(s, c, t->type, t->level); st.status)
            return st;
        t->miss_action = static_cast<std::uint32_t>(c[FtCtx::table_miss_action]);
        t->miss_table_id = static_cast<std::uint32_t>(c[FtCtx::table_miss_id]);
    }
    return {};
}

PrmStatus prm_destroy_flow_table(PrmState& s, CmdContext& ctx)
{
    using In = ifc::destroy_flow_table_in;
    auto in = prm_input<In>(ctx);
    ctx.note("table_id={:#x}", in[In::table_id]);
    if (!named_table(s, in[In::table_type], in[In::table_id]))
        return prm_bad_param(kPrmSyndBadHandle);
    switch (s.device->steering().destroy_table(static_cast<std::uint32_t>(in[In::table_id]))) {
    case device::PrmSteering::DestroyTable::done: return {};
    case device::PrmSteering::DestroyTable::not_found: return prm_bad_param(kPrmSyndBadHandle);
    case device::PrmSteering::DestroyTable::busy: break;
    }
    return prm_fail(prm::stat::BAD_RES_STATE_ERR, kPrmSyndBusy);
}

PrmStatus prm_set_flow_table_root(PrmState& s, CmdContext& ctx)
{
    using In = ifc::set_flow_table_root_in;
    auto in = prm_input<In>(ctx);
    auto type = in[In::table_type], id = in[In::table_id];
    ctx.note("table_type={} table_id={:#x}", type, id);
    if (!supported_type(type) || in[In::other_vport] || in[In::table_of_other_vport] || in[In::underlay_qpn])
        return prm_bad_param(kPrmSyndUnsupported);
    if (!s.device->steering().set_root(static_cast<std::uint32_t>(type), static_cast<std::uint32_t>(id)))
        return prm_bad_param(kPrmSyndBadHandle);
    return {};
}

PrmStatus prm_create_flow_group(PrmState& s, CmdContext& ctx)
{
    using In = ifc::create_flow_group_in;
    auto in = prm_input<In>(ctx);
    device::PrmFlowGroup g;
    g.start = static_cast<std::uint32_t>(in[In::start_flow_index]);
    g.end = static_cast<std::uint32_t>(in[In::end_flow_index]);
    g.match_criteria_enable = static_cast<std::uint32_t>(in[In::match_criteria_enable]);
    g.match_criteria = prm_bytes(in[In::match_criteria]);
    ctx.note("table_id={:#x} start={} end={} match_criteria_enable={:#x}", in[In::table_id], g.start, g.end,
             g.match_criteria_enable);
    device::PrmFlowTable* t = named_table(s, in[In::table_type], in[In::table_id]);
    if (!t)
        return prm_bad_param(kPrmSyndBadHandle);
    if (in[In::group_type] != 0 || in[In::other_vport])
        return prm_bad_param(kPrmSyndUnsupported);
    if (g.start > g.end || (std::uint64_t{g.end} >> t->log_size) != 0)
        return prm_bad_param(kPrmSyndQueueSize);
    for (const auto& [id, other] : t->groups)
        if (g.start <= other.end && other.start <= g.end)
            return prm_bad_param(kPrmSyndQueueSize);
    std::uint32_t id = s.device->steering().next_group_id();
    t->groups.emplace(id, std::move(g));
    ctx.note("group_id={:#x}", id);
    prm_output<ifc::create_flow_group_out>(ctx).set(ifc::create_flow_group_out::group_id, id);
    return {};
}

PrmStatus prm_destroy_flow_group(PrmState& s, CmdContext& ctx)
{
    using In = ifc::destroy_flow_group_in;
    auto in = prm_input<In>(ctx);
    auto gid = static_cast<std::uint32_t>(in[In::group_id]);
    ctx.note("table_id={:#x} group_id={:#x}", in[In::table_id], gid);
    device::PrmFlowTable* t = named_table(s, in[In::table_type], in[In::table_id]);
    if (!t || !t->groups.count(gid))
        return prm_bad_param(kPrmSyndBadHandle);
    for (const auto& [index, e] : t->entries)
        if (e.group_id == gid)
            return prm_fail(prm::stat::BAD_RES_STATE_ERR, kPrmSyndBusy);
    t->groups.erase(gid);
    return {};
}

PrmStatus prm_set_flow_table_entry(PrmState& s, CmdContext& ctx)
{
    using In = ifc::set_fte_in;
    auto in = prm_input<In>(ctx);
    auto fc = in[In::flow_context];
    auto index = static_cast<std::uint32_t>(in[In::flow_index]);
    auto op_mod = in[In::op_mod];
    auto gid = static_cast<std::uint32_t>(fc[FlowCtx::group_id]);
    ctx.note("table_id={:#x} flow_index={:#x} group_id={:#x} action={:#x} destinations={}", in[In::table_id], index,
             gid, fc[FlowCtx::action], fc[FlowCtx::destination_list_size]);
    device::PrmFlowTable* t = named_table(s, in[In::table_type], in[In::table_id]);
    if (!t)
        return prm_bad_param(kPrmSyndBadHandle);
    if (op_mod != kSetFteNew && op_mod != kSetFteModify)
        return prm_bad_param(kPrmSyndBadOpMod);
    if (t->group_of(index) != gid)
        return prm_bad_param(kPrmSyndBadHandle);
    bool exists = t->entries.count(index) != 0;
    if (exists != (op_mod == kSetFteModify))
        return prm_fail(prm::stat::BAD_RES_STATE_ERR, kPrmSyndBadState);
    if (auto st = check_fte(s, *t, fc, in[In::ignore_flow_level] != 0); st.status)
        return st;
    // The context with its destinations, as given.
    std::size_t bytes = kDestOff + static_cast<std::size_t>(fc[FlowCtx::destination_list_size]) * kDestBytes;
    auto raw = fc.raw();
    t->entries[index] = {gid, std::vector<std::uint8_t>(raw.begin(), raw.begin() + bytes)};
    return {};
}

PrmStatus prm_delete_flow_table_entry(PrmState& s, CmdContext& ctx)
{
    using In = ifc::delete_fte_in;
    auto in = prm_input<In>(ctx);
    auto index = static_cast<std::uint32_t>(in[In::flow_index]);
    ctx.note("table_id={:#x} flow_index={:#x}", in[In::table_id], index);
    device::PrmFlowTable* t = named_table(s, in[In::table_type], in[In::table_id]);
    if (!t || !t->entries.erase(index))
        return prm_bad_param(kPrmSyndBadHandle);
    return {};
}

}  // namespace hcasim::firmware
