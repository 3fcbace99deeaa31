// The ConnectX-5 model's CQ commands (Linux cq.c mlx5_create_cq): CREATE_CQ
// checks the context before anything is made: 64-byte CQEs, the ring
// within log_max_cq_sz, its pages in pas[], an 8-byte aligned doorbell
// record, an allocated UAR, an existing completion EQ. MODIFY_CQ takes
// moderation (cq_period, cq_max_count: kept, the model completes at once);
// a CQ that an SQ or RQ uses cannot be destroyed.
#include "firmware/prm_handlers.h"

namespace hcasim::firmware {

namespace {
using Cqc = ifc::cqc;
constexpr std::uint32_t kLogMaxCqSize = 22;  // cmd_hca_cap log_max_cq_sz
constexpr std::uint32_t kCqe64 = 0;          // cqe_sz: MLX5_CQE_SIZE_64
constexpr std::uint64_t kCqeBytes = 64;
// modify_cq_in op_mod (Linux MLX5_CQ_OPMOD_RESIZE) and the field_select bits
// (MLX5_CQ_MODIFY_PERIOD, _COUNT) the model takes.
constexpr std::uint32_t kModifyResize = 1;
constexpr std::uint32_t kSelectPeriod = 1 << 0, kSelectCount = 1 << 1;
}  // namespace

PrmStatus prm_create_cq(PrmState& s, CmdContext& ctx)
{
    using In = ifc::create_cq_in;
    auto in = prm_input<In>(ctx);
    auto cqc = in[In::cq_context];
    device::PrmCq cq;
    cq.cqc = prm_bytes(cqc);
    cq.log_size = static_cast<std::uint32_t>(cqc[Cqc::log_cq_size]);
    cq.eqn = static_cast<std::uint32_t>(cqc[Cqc::c_eqn_or_apu_element]);
    cq.uar = static_cast<std::uint32_t>(cqc[Cqc::uar_page]);
    std::uint64_t dbr = cqc[Cqc::dbr_addr];
    ctx.note("log_cq_size={} eqn={:#x} uar={:#x}", cq.log_size, cq.eqn, cq.uar);
    if (cqc[Cqc::cqe_sz] != kCqe64 || cq.log_size > kLogMaxCqSize || cqc[Cqc::page_offset] != 0)
        return prm_bad_param(kPrmSyndQueueSize);
    if (cqc[Cqc::cqe_comp_en] || cqc[Cqc::apu_cq] || in[In::cq_umem_valid] || cqc[Cqc::dbr_umem_valid])
        return prm_bad_param(kPrmSyndUnsupported);
    if (dbr % 8)
        return prm_bad_param(kPrmSyndBadAddr);
    if (!s.device->uar_allocated(cq.uar))
        return prm_bad_param(kPrmSyndBadUar);
    if (!s.device->eqs().find(cq.eqn))
        return prm_bad_param(kPrmSyndBadHandle);
    const std::uint64_t bytes = kCqeBytes << cq.log_size;
    std::vector<std::uint64_t> pages;
    if (auto st = prm_queue_pages(in, In::pas, bytes, static_cast<std::uint32_t>(cqc[Cqc::log_page_size]), pages);
        st.status)
        return st;
    cq.ring = device::QueueRing(std::move(pages), 0, bytes, dbr);
    auto cqn = s.device->objects().cqs.insert(std::move(cq), static_cast<std::uint32_t>(in[In::uid]));
    if (!cqn)
        return prm_fail(prm::stat::NO_RES_ERR, kPrmSyndNoObject);
    ctx.note("cqn={:#x}", *cqn);
    prm_output<ifc::create_cq_out>(ctx).set(ifc::create_cq_out::cqn, *cqn);
    return {};
}

PrmStatus prm_destroy_cq(PrmState& s, CmdContext& ctx)
{
    return prm_destroy_object(s.device->objects().cqs, ctx, ifc::destroy_cq_in::cqn);
}

PrmStatus prm_modify_cq(PrmState& s, CmdContext& ctx)
{
    using In = ifc::modify_cq_in;
    auto in = prm_input<In>(ctx);
    auto cqn = static_cast<std::uint32_t>(in[In::cqn]);
    auto select = static_cast<std::uint32_t>(
        in[In::modify_field_select_resize_field_select][ifc::modify_field_select_resize_field_select_auto::modify_field_select]
                                                     [ifc::modify_field_select::modify_field_select_]);
    ctx.note("cqn={:#x} field_select={:#x}", cqn, select);
    device::PrmCq* cq = s.device->objects().cqs.find(cqn);
    if (!cq)
        return prm_bad_param(kPrmSyndBadHandle);
    if (in[In::op_mod] == kModifyResize || (select & ~(kSelectPeriod | kSelectCount)))
        return prm_bad_param(kPrmSyndUnsupported);
    auto next = in[In::cq_context];
    auto kept = prm::mut_view<Cqc>(cq->cqc).value();
    if (select & kSelectPeriod)
        kept.set(Cqc::cq_period, next[Cqc::cq_period]);
    if (select & kSelectCount)
        kept.set(Cqc::cq_max_count, next[Cqc::cq_max_count]);
    return {};
}

PrmStatus prm_query_cq(PrmState& s, CmdContext& ctx)
{
    auto cqn = static_cast<std::uint32_t>(prm_input<ifc::query_cq_in>(ctx)[ifc::query_cq_in::cqn]);
    ctx.note("cqn={:#x}", cqn);
    const device::PrmCq* cq = s.device->objects().cqs.find(cqn);
    if (!cq)
        return prm_bad_param(kPrmSyndBadHandle);
    auto cqc = prm_output<ifc::query_cq_out>(ctx)[ifc::query_cq_out::cq_context];
    prm_put_bytes(cqc, cq->cqc);
    cqc.set(Cqc::producer_counter, cq->pi);
    return {};
}

}  // namespace hcasim::firmware
