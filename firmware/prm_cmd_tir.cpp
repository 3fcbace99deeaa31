// The ConnectX-5 model's transport objects (Linux en_common.c, en/tir.c,
// en/rqt.c): TISes (the send side: a transport domain and a priority; an SQ
// names one), RQTs (RQ lists that RSS indexes) and TIRs (the receive side:
// one RQ, or an RQT with a hash over the header fields its selectors name,
// in a transport domain whose own packets self_lb_block keeps out).
// Creation checks every object named exists, and takes a reference on it,
// so an RQ an RQT lists or an RQT a TIR uses cannot go first.
// MODIFY_TIR takes self_lb_en, hash and packet_merge as its bitmask
// selects them (mlx5e refreshes every TIR's self_lb_block on each open);
// MODIFY_RQT replaces the RQ list.
#include "firmware/prm_handlers.h"

namespace hcasim::firmware {

namespace {

using Tisc = ifc::tisc;
using Tirc = ifc::tirc;
using Rqtc = ifc::rqtc;
constexpr std::uint32_t kMaxRqtSize = 1u << 8;  // rss_ind_tbl_cap / log_max_rqt_size

// The RQ list of an rqtc (rqt_actual_size entries of rq_num[]), each an RQ.
PrmStatus rqt_list(PrmState& s, prm::View<Rqtc> rqtc, std::vector<std::uint32_t>& rqns)
{
    auto n = rqtc[Rqtc::rqt_actual_size];
    if (n == 0 || n > rqtc[Rqtc::rqt_max_size] || n > kMaxRqtSize || rqtc.available(Rqtc::rq_num) < n)
        return prm_bad_param(kPrmSyndQueueSize);
    if (rqtc[Rqtc::list_q_type] != 0 || rqtc[Rqtc::rq_vhca_id_format])
        return prm_bad_param(kPrmSyndUnsupported);
    rqns.clear();
    for (std::uint32_t i = 0; i < n; ++i) {
        auto rqn = static_cast<std::uint32_t>((*rqtc.at(Rqtc::rq_num, i))[ifc::rq_num::rq_num_]);
        if (!s.device->objects().rqs.find(rqn))
            return prm_bad_param(kPrmSyndBadHandle);
        rqns.push_back(rqn);
    }
    return {};
}

}  // namespace

PrmStatus prm_create_tis(PrmState& s, CmdContext& ctx)
{
    using In = ifc::create_tis_in;
    auto in = prm_input<In>(ctx);
    auto tisc = in[In::ctx];
    device::PrmTis t{prm_bytes(tisc), static_cast<std::uint32_t>(tisc[Tisc::transport_domain])};
    ctx.note("transport_domain={:#x} prio={}", t.tdn, tisc[Tisc::prio]);
    auto& o = s.device->objects();
    if (!o.tds.find(t.tdn))
        return prm_bad_param(kPrmSyndBadHandle);
    if (tisc[Tisc::tls_en] || tisc[Tisc::underlay_qpn] || tisc[Tisc::strict_lag_tx_port_affinity])
        return prm_bad_param(kPrmSyndUnsupported);
    std::uint32_t td = t.tdn;
    auto tisn = o.tises.insert(std::move(t), static_cast<std::uint32_t>(in[In::uid]));
    if (!tisn)
        return prm_fail(prm::stat::NO_RES_ERR, kPrmSyndNoObject);
    o.tds.get(td);
    ctx.note("tisn={:#x}", *tisn);
    prm_output<ifc::create_tis_out>(ctx).set(ifc::create_tis_out::tisn, *tisn);
    return {};
}

PrmStatus prm_modify_tis(PrmState& s, CmdContext& ctx)
{
    using In = ifc::modify_tis_in;
    auto in = prm_input<In>(ctx);
    auto tisn = static_cast<std::uint32_t>(in[In::tisn]);
    ctx.note("tisn={:#x}", tisn);
    device::PrmTis* t = s.device->objects().tises.find(tisn);
    if (!t)
        return prm_bad_param(kPrmSyndBadHandle);
    // The bitmask's fields (prio, LAG affinity) steer nothing in a one-port
    // model: kept as given.
    prm::mut_view<Tisc>(t->ctx).value().set(Tisc::prio, in[In::ctx][Tisc::prio]);
    return {};
}

PrmStatus prm_destroy_tis(PrmState& s, CmdContext& ctx)
{
    return prm_destroy_object(s.device->objects().tises, ctx, ifc::destroy_tis_in::tisn);
}

PrmStatus prm_create_rqt(PrmState& s, CmdContext& ctx)
{
    using In = ifc::create_rqt_in;
    auto in = prm_input<In>(ctx);
    auto rqtc = in[In::rqt_context];
    device::PrmRqt t;
    ctx.note("rqt_actual_size={}", rqtc[Rqtc::rqt_actual_size]);
    if (auto st = rqt_list(s, rqtc, t.rqns); st.status)
        return st;
    t.ctx = prm_bytes(rqtc);
    auto& o = s.device->objects();
    std::vector<std::uint32_t> rqns = t.rqns;
    auto rqtn = o.rqts.insert(std::move(t), static_cast<std::uint32_t>(in[In::uid]));
    if (!rqtn)
        return prm_fail(prm::stat::NO_RES_ERR, kPrmSyndNoObject);
    for (std::uint32_t rqn : rqns)
        o.rqs.get(rqn);
    ctx.note("rqtn={:#x}", *rqtn);
    prm_output<ifc::create_rqt_out>(ctx).set(ifc::create_rqt_out::rqtn, *rqtn);
    return {};
}

PrmStatus prm_modify_rqt(PrmState& s, CmdContext& ctx)
{
    using In = ifc::modify_rqt_in;
    auto in = prm_input<In>(ctx);
    auto rqtn = static_cast<std::uint32_t>(in[In::rqtn]);
    ctx.note("rqtn={:#x} rqt_actual_size={}", rqtn, in[In::ctx][Rqtc::rqt_actual_size]);
    auto& o = s.device->objects();
    device::PrmRqt* t = o.rqts.find(rqtn);
    if (!t)
        return prm_bad_param(kPrmSyndBadHandle);
    if (!in[In::bitmask][ifc::rqt_bitmask::rqn_list])
        return {};
    std::vector<std::uint32_t> rqns;
    if (auto st = rqt_list(s, in[In::ctx], rqns); st.status)
        return st;
    for (std::uint32_t rqn : rqns)
        o.rqs.get(rqn);
    for (std::uint32_t rqn : t->rqns)
        o.rqs.put(rqn);
    t->rqns = std::move(rqns);
    auto kept = prm::mut_view<Rqtc>(t->ctx).value();
    kept.set(Rqtc::rqt_actual_size, t->rqns.size());
    return {};
}

PrmStatus prm_destroy_rqt(PrmState& s, CmdContext& ctx)
{
    return prm_destroy_object(s.device->objects().rqts, ctx, ifc::destroy_rqt_in::rqtn);
}

PrmStatus prm_create_tir(PrmState& s, CmdContext& ctx)
{
    using In = ifc::create_tir_in;
    auto in = prm_input<In>(ctx);
    auto tirc = in[In::ctx];
    device::PrmTir t;
    t.ctx = prm_bytes(tirc);
    t.tdn = static_cast<std::uint32_t>(tirc[Tirc::transport_domain]);
    auto disp = tirc[Tirc::disp_type];
    ctx.note("disp_type={} inline_rqn={:#x} indirect_table={:#x} transport_domain={:#x}", disp, tirc[Tirc::inline_rqn],
             tirc[Tirc::indirect_table], t.tdn);
    auto& o = s.device->objects();
    if (!o.tds.find(t.tdn))
        return prm_bad_param(kPrmSyndBadHandle);
    if (tirc[Tirc::tls_en] || tirc[Tirc::packet_merge_mask] || tirc[Tirc::tunneled_offload_en])
        return prm_bad_param(kPrmSyndUnsupported);
    if (disp == prm::tir_disp::DIRECT) {
        t.inline_rqn = static_cast<std::uint32_t>(tirc[Tirc::inline_rqn]);
        if (!o.rqs.find(t.inline_rqn))
            return prm_bad_param(kPrmSyndBadHandle);
    } else if (disp == prm::tir_disp::INDIRECT) {
        t.rqtn = static_cast<std::uint32_t>(tirc[Tirc::indirect_table]);
        if (!o.rqts.find(t.rqtn))
            return prm_bad_param(kPrmSyndBadHandle);
    } else {
        return prm_bad_param();
    }
    std::uint32_t td = t.tdn, rqn = t.inline_rqn, rqtn = t.rqtn;
    auto tirn = o.tirs.insert(std::move(t), static_cast<std::uint32_t>(in[In::uid]));
    if (!tirn)
        return prm_fail(prm::stat::NO_RES_ERR, kPrmSyndNoObject);
    o.tds.get(td);
    if (rqn)
        o.rqs.get(rqn);
    if (rqtn)
        o.rqts.get(rqtn);
    ctx.note("tirn={:#x}", *tirn);
    prm_output<ifc::create_tir_out>(ctx).set(ifc::create_tir_out::tirn, *tirn);
    return {};
}

PrmStatus prm_modify_tir(PrmState& s, CmdContext& ctx)
{
    using In = ifc::modify_tir_in;
    using Bits = ifc::modify_tir_bitmask;
    auto in = prm_input<In>(ctx);
    auto tirn = static_cast<std::uint32_t>(in[In::tirn]);
    auto bits = in[In::bitmask];
    auto next = in[In::ctx];
    ctx.note("tirn={:#x} self_lb_en={} hash={} packet_merge={}", tirn, bits[Bits::self_lb_en], bits[Bits::hash],
             bits[Bits::packet_merge]);
    device::PrmTir* t = s.device->objects().tirs.find(tirn);
    if (!t)
        return prm_bad_param(kPrmSyndBadHandle);
    if (bits[Bits::packet_merge] && next[Tirc::packet_merge_mask])
        return prm_bad_param(kPrmSyndUnsupported);
    auto kept = prm::mut_view<Tirc>(t->ctx).value();
    if (bits[Bits::self_lb_en])
        kept.set(Tirc::self_lb_block, next[Tirc::self_lb_block]);
    if (bits[Bits::hash]) {
        kept.set(Tirc::rx_hash_fn, next[Tirc::rx_hash_fn]);
        kept.set(Tirc::rx_hash_symmetric, next[Tirc::rx_hash_symmetric]);
        for (std::uint32_t i = 0; i < Tirc::rx_hash_toeplitz_key.count; ++i)
            kept.set(Tirc::rx_hash_toeplitz_key, i, *next.at(Tirc::rx_hash_toeplitz_key, i));
        for (auto sel : {Tirc::rx_hash_field_selector_outer, Tirc::rx_hash_field_selector_inner}) {
            auto from = next[sel].raw();
            auto to = kept[sel].raw();
            std::copy_n(from.begin(), ifc::rx_hash_field_select::kBits / 8, to.begin());
        }
    }
    return {};
}

PrmStatus prm_destroy_tir(PrmState& s, CmdContext& ctx)
{
    return prm_destroy_object(s.device->objects().tirs, ctx, ifc::destroy_tir_in::tirn);
}

}  // namespace hcasim::firmware
