// CREATE_CQ (0x400) / DESTROY_CQ (0x401) / QUERY_CQ (0x402) /
// MODIFY_CQ (0x403, resize): completion queues.
#include "firmware/handlers.h"
#include "firmware/page_list.h"

#include <bit>

namespace hcasim::firmware {

CmdStatus cmd_create_cq(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_create_cq_in>();
    ctx.note("log_size={} uar={} eqn={:#x}", in.log_size, in.uar, in.eqn);
    if ((1ull << std::min(in.log_size, 40u)) > fw.caps.limits.max_cqe)
        return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_QUEUE_BAD_SIZE);
    if (!uar_usable(fw, in.uar, ctx.channel))
        return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_UAR_BAD_HANDLE);
    if (!eq_usable(fw, in.eqn, ctx.channel) || !eq_usable(fw, in.async_eqn, ctx.channel))
        return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_EQ_BAD_HANDLE);
    device::Cq cq;
    cq.log_size = in.log_size;
    cq.uar = in.uar;
    cq.eqn = in.eqn;
    cq.async_eqn = in.async_eqn;
    if (auto st = read_queue_buf(fw, ctx, sizeof(in), in.buf, uint64_t{HCASIM_CQE_SIZE} << in.log_size, cq.ring);
        st.status)
        return st;
    return created(ctx, fw.engine->create_cq(std::move(cq), ctx.channel), HCASIM_SYND_CQ_EXHAUSTED,
                   &hcasim_create_cq_out::cqn, "cqn");
}

CmdStatus cmd_destroy_cq(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_destroy_cq_in>();
    ctx.note("cqn={:#x}", in.cqn);
    return destroyed(fw.engine->destroy_cq(in.cqn, ctx.channel), HCASIM_SYND_CQ_BAD_HANDLE, HCASIM_SYND_CQ_BUSY);
}

CmdStatus cmd_query_cq(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_query_cq_in>();
    ctx.note("cqn={:#x}", in.cqn);
    const device::Cq* cq = fw.engine->cq_table().find_owned(in.cqn, ctx.channel);
    if (!cq) return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_CQ_BAD_HANDLE);
    hcasim_query_cq_out out{};
    out.log_size = cq->log_size;
    out.pi = cq->pi;
    out.overflowed = cq->overflowed ? 1 : 0;
    ctx.output(out);
    return kOk;
}

CmdStatus cmd_modify_cq(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_modify_cq_in>();
    ctx.note("cqn={:#x} log_size={}", in.cqn, in.log_size);
    auto& eng = *fw.engine;
    if (!eng.cq_table().find_owned(in.cqn, ctx.channel))
        return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_CQ_BAD_HANDLE);
    if ((1ull << std::min(in.log_size, 40u)) > fw.caps.limits.max_cqe)
        return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_QUEUE_BAD_SIZE);
    device::QueueRing ring;
    if (auto st = read_queue_buf(fw, ctx, sizeof(in), in.buf, uint64_t{HCASIM_CQE_SIZE} << in.log_size, ring);
        st.status)
        return st;
    const int moved = eng.resize_cq(in.cqn, in.log_size, std::move(ring));
    if (moved == -1) return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_CQ_RESIZE_TOO_SMALL);
    if (moved < 0) return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_QUEUE_BAD_BUF);
    hcasim_modify_cq_out out{};
    out.moved = static_cast<uint32_t>(moved);
    ctx.output(out);
    ctx.note("moved={}", moved);
    return kOk;
}

}  // namespace hcasim::firmware
