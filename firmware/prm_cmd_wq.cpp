// The ConnectX-5 model's send and receive queue commands (Linux en_main.c
// mlx5e_create_sq / mlx5e_create_rq, transobj.c): CREATE_SQ, MODIFY_SQ,
// DESTROY_SQ, QUERY_SQ and the same for RQs. A queue is created in RST on
// an existing CQ, as a cyclic work queue (wq_type CYCLIC) with its pages in
// pas[], an 8-byte aligned doorbell record and, for an SQ, an allocated UAR
// for its doorbell and an existing TIS. MODIFY_* moves the state (RST, RDY,
// ERR) only from the state the command names (sq_state / rq_state, else
// BAD_RES_STATE_ERR) and takes an RQ's vsd, scatter_fcs and counter set as
// modify_bitmask selects them. The queues' WQEs are the data path's.
#include "firmware/prm_handlers.h"

namespace hcasim::firmware {

namespace {

using Wq = ifc::wq;
using Sqc = ifc::sqc;
using Rqc = ifc::rqc;
constexpr std::uint32_t kLogMaxWqSize = 16;  // cmd_hca_cap log_max_wq_sz
constexpr std::uint32_t kLogSqStride = 6;    // 64-byte WQEBBs
constexpr std::uint32_t kLogMinRqStride = 4, kLogMaxRqStride = 13;

bool known_state(std::uint64_t st)
{
    return st == prm::sq_state::RST || st == prm::sq_state::RDY || st == prm::sq_state::ERR;
}

// The wq context's checks and ring; sets q.log_size, q.log_stride, q.ring.
PrmStatus make_ring(prm::View<Wq> wq, device::PrmWq& q)
{
    q.log_size = static_cast<std::uint32_t>(wq[Wq::log_wq_sz]);
    q.log_stride = static_cast<std::uint32_t>(wq[Wq::log_wq_stride]);
    if (wq[Wq::wq_type] != prm::wq_type::CYCLIC)
        return prm_bad_param(kPrmSyndUnsupported);
    if (wq[Wq::wq_umem_valid] || wq[Wq::dbr_umem_valid] || wq[Wq::wq_signature] || wq[Wq::shampo_enable])
        return prm_bad_param(kPrmSyndUnsupported);
    if (q.log_size > kLogMaxWqSize || wq[Wq::page_offset] != 0)
        return prm_bad_param(kPrmSyndQueueSize);
    std::uint64_t dbr = wq[Wq::dbr_addr];
    if (dbr % 8)
        return prm_bad_param(kPrmSyndBadAddr);
    const std::uint64_t bytes = std::uint64_t{1} << (q.log_size + q.log_stride);
    std::vector<std::uint64_t> pages;
    if (auto st = prm_queue_pages(wq, Wq::pas, bytes, static_cast<std::uint32_t>(wq[Wq::log_wq_pg_sz]), pages);
        st.status)
        return st;
    q.ring = device::QueueRing(std::move(pages), 0, bytes, dbr);
    return {};
}

// MODIFY_*: the state named must be the queue's; the next one a known one.
PrmStatus move_state(device::PrmWq& q, std::uint64_t current, std::uint64_t next)
{
    if (current != q.state)
        return prm_fail(prm::stat::BAD_RES_STATE_ERR, kPrmSyndBadState);
    if (!known_state(next))
        return prm_bad_param();
    q.state = static_cast<std::uint32_t>(next);
    return {};
}

}  // namespace

PrmStatus prm_create_sq(PrmState& s, CmdContext& ctx)
{
    using In = ifc::create_sq_in;
    auto in = prm_input<In>(ctx);
    auto sqc = in[In::ctx];
    auto wq = sqc[Sqc::wq];
    device::PrmWq q;
    q.ctx = prm_bytes(sqc);
    q.cqn = static_cast<std::uint32_t>(sqc[Sqc::cqn]);
    q.tisn = static_cast<std::uint32_t>(sqc[Sqc::tis_num_0]);
    auto uar = static_cast<std::uint32_t>(wq[Wq::uar_page]);
    ctx.note("cqn={:#x} tisn={:#x} uar={:#x} log_wq_sz={}", q.cqn, q.tisn, uar, wq[Wq::log_wq_sz]);
    auto& o = s.device->objects();
    if (sqc[Sqc::state] != prm::sq_state::RST)
        return prm_bad_param();
    if (sqc[Sqc::hairpin] || sqc[Sqc::non_wire] || sqc[Sqc::reg_umr] || sqc[Sqc::allow_swp] || sqc[Sqc::tis_lst_sz] != 1)
        return prm_bad_param(kPrmSyndUnsupported);
    if (!o.cqs.find(q.cqn) || !o.tises.find(q.tisn))
        return prm_bad_param(kPrmSyndBadHandle);
    if (!s.device->uar_allocated(uar))
        return prm_bad_param(kPrmSyndBadUar);
    if (wq[Wq::log_wq_stride] != kLogSqStride)
        return prm_bad_param(kPrmSyndQueueSize);
    if (auto st = make_ring(wq, q); st.status)
        return st;
    std::uint32_t cqn = q.cqn, tisn = q.tisn;
    auto sqn = o.sqs.insert(std::move(q), static_cast<std::uint32_t>(in[In::uid]));
    if (!sqn)
        return prm_fail(prm::stat::NO_RES_ERR, kPrmSyndNoObject);
    o.cqs.get(cqn);
    o.tises.get(tisn);
    ctx.note("sqn={:#x}", *sqn);
    prm_output<ifc::create_sq_out>(ctx).set(ifc::create_sq_out::sqn, *sqn);
    return {};
}

PrmStatus prm_modify_sq(PrmState& s, CmdContext& ctx)
{
    using In = ifc::modify_sq_in;
    auto in = prm_input<In>(ctx);
    auto sqn = static_cast<std::uint32_t>(in[In::sqn]);
    auto next = in[In::ctx][Sqc::state];
    ctx.note("sqn={:#x} state={}->{}", sqn, in[In::sq_state], next);
    device::PrmWq* q = s.device->objects().sqs.find(sqn);
    if (!q)
        return prm_bad_param(kPrmSyndBadHandle);
    if (auto st = move_state(*q, in[In::sq_state], next); st.status)
        return st;
    prm::mut_view<Sqc>(q->ctx).value().set(Sqc::state, next);
    return {};
}

PrmStatus prm_destroy_sq(PrmState& s, CmdContext& ctx)
{
    return prm_destroy_object(s.device->objects().sqs, ctx, ifc::destroy_sq_in::sqn);
}

PrmStatus prm_query_sq(PrmState& s, CmdContext& ctx)
{
    auto sqn = static_cast<std::uint32_t>(prm_input<ifc::query_sq_in>(ctx)[ifc::query_sq_in::sqn]);
    ctx.note("sqn={:#x}", sqn);
    const device::PrmWq* q = s.device->objects().sqs.find(sqn);
    if (!q)
        return prm_bad_param(kPrmSyndBadHandle);
    prm_put_bytes(prm_output<ifc::query_sq_out>(ctx)[ifc::query_sq_out::sq_context], q->ctx);
    return {};
}

PrmStatus prm_create_rq(PrmState& s, CmdContext& ctx)
{
    using In = ifc::create_rq_in;
    auto in = prm_input<In>(ctx);
    auto rqc = in[In::ctx];
    device::PrmWq q;
    q.ctx = prm_bytes(rqc);
    q.cqn = static_cast<std::uint32_t>(rqc[Rqc::cqn]);
    auto counter = static_cast<std::uint32_t>(rqc[Rqc::counter_set_id]);
    ctx.note("cqn={:#x} log_wq_sz={} log_wq_stride={}", q.cqn, rqc[Rqc::wq][Wq::log_wq_sz],
             rqc[Rqc::wq][Wq::log_wq_stride]);
    auto& o = s.device->objects();
    if (rqc[Rqc::state] != prm::rq_state::RST)
        return prm_bad_param();
    if (rqc[Rqc::mem_rq_type] != 0 || rqc[Rqc::hairpin] || rqc[Rqc::delay_drop_en])
        return prm_bad_param(kPrmSyndUnsupported);
    if (!o.cqs.find(q.cqn) || (counter && !o.q_counters.allocated(counter)))
        return prm_bad_param(kPrmSyndBadHandle);
    auto stride = rqc[Rqc::wq][Wq::log_wq_stride];
    if (stride < kLogMinRqStride || stride > kLogMaxRqStride)
        return prm_bad_param(kPrmSyndQueueSize);
    if (auto st = make_ring(rqc[Rqc::wq], q); st.status)
        return st;
    std::uint32_t cqn = q.cqn;
    auto rqn = o.rqs.insert(std::move(q), static_cast<std::uint32_t>(in[In::uid]));
    if (!rqn)
        return prm_fail(prm::stat::NO_RES_ERR, kPrmSyndNoObject);
    o.cqs.get(cqn);
    ctx.note("rqn={:#x}", *rqn);
    prm_output<ifc::create_rq_out>(ctx).set(ifc::create_rq_out::rqn, *rqn);
    return {};
}

PrmStatus prm_modify_rq(PrmState& s, CmdContext& ctx)
{
    using In = ifc::modify_rq_in;
    auto in = prm_input<In>(ctx);
    auto rqn = static_cast<std::uint32_t>(in[In::rqn]);
    auto next = in[In::ctx];
    auto bitmask = in[In::modify_bitmask];
    ctx.note("rqn={:#x} state={}->{} modify_bitmask={:#x}", rqn, in[In::rq_state], next[Rqc::state], bitmask);
    auto& o = s.device->objects();
    device::PrmWq* q = o.rqs.find(rqn);
    if (!q)
        return prm_bad_param(kPrmSyndBadHandle);
    auto counter = static_cast<std::uint32_t>(next[Rqc::counter_set_id]);
    if ((bitmask & prm::rq_modify::RQ_COUNTER_SET_ID) && counter && !o.q_counters.allocated(counter))
        return prm_bad_param(kPrmSyndBadHandle);
    if (auto st = move_state(*q, in[In::rq_state], next[Rqc::state]); st.status)
        return st;
    auto kept = prm::mut_view<Rqc>(q->ctx).value();
    kept.set(Rqc::state, next[Rqc::state]);
    if (bitmask & prm::rq_modify::VSD)
        kept.set(Rqc::vsd, next[Rqc::vsd]);
    if (bitmask & prm::rq_modify::SCATTER_FCS)
        kept.set(Rqc::scatter_fcs, next[Rqc::scatter_fcs]);
    if (bitmask & prm::rq_modify::RQ_COUNTER_SET_ID)
        kept.set(Rqc::counter_set_id, counter);
    return {};
}

PrmStatus prm_destroy_rq(PrmState& s, CmdContext& ctx)
{
    return prm_destroy_object(s.device->objects().rqs, ctx, ifc::destroy_rq_in::rqn);
}

PrmStatus prm_query_rq(PrmState& s, CmdContext& ctx)
{
    auto rqn = static_cast<std::uint32_t>(prm_input<ifc::query_rq_in>(ctx)[ifc::query_rq_in::rqn]);
    ctx.note("rqn={:#x}", rqn);
    const device::PrmWq* q = s.device->objects().rqs.find(rqn);
    if (!q)
        return prm_bad_param(kPrmSyndBadHandle);
    prm_put_bytes(prm_output<ifc::query_rq_out>(ctx)[ifc::query_rq_out::rq_context], q->ctx);
    return {};
}

}  // namespace hcasim::firmware
