// CREATE_SRQ (0x700) / DESTROY_SRQ (0x701) / QUERY_SRQ (0x702) /
// MODIFY_SRQ (0x703, ARM_RQ: the SRQ limit): shared receive queues.
#include "firmware/handlers.h"
#include "firmware/page_list.h"

namespace hcasim::firmware {

CmdStatus cmd_create_srq(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_create_srq_in>();
    ctx.note("pdn={:#x} size={} stride={} max_sge={} limit={}", in.pdn,
                             1u << std::min<uint32_t>(in.log_size, 31), 1u << std::min<uint32_t>(in.log_stride, 31),
                             in.max_sge, in.srq_limit);
    const auto& lim = fw.caps.limits;
    if (!fw.pds.find_owned(in.pdn, ctx.channel))
        return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_PD_BAD_HANDLE);
    if (!uar_usable(fw, in.uar, ctx.channel))
        return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_UAR_BAD_HANDLE);
    if (!eq_usable(fw, in.async_eqn, ctx.channel))
        return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_EQ_BAD_HANDLE);
    if ((1ull << std::min<uint32_t>(in.log_size, 40)) > lim.max_srq_wr || in.max_sge > lim.max_sge ||
        in.log_stride < 5 || in.log_stride > 13 ||
        sizeof(hcasim_recv_wqe) + 16u * in.max_sge > (1u << in.log_stride))
        return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_QUEUE_BAD_SIZE);
    if (in.srq_limit > (1u << in.log_size)) return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_SRQ_BAD_LIMIT);
    device::Srq s;
    s.pdn = in.pdn;
    s.uar = in.uar;
    s.async_eqn = in.async_eqn;
    s.log_size = in.log_size;
    s.log_stride = in.log_stride;
    s.max_sge = in.max_sge;
    s.limit = in.srq_limit;
    if (auto st = read_queue_buf(fw, ctx, sizeof(in), in.buf, uint64_t{1} << in.log_size << in.log_stride, s.buf);
        st.status)
        return st;
    return created(ctx, fw.engine->create_srq(std::move(s), ctx.channel), HCASIM_SYND_SRQ_EXHAUSTED,
                   &hcasim_create_srq_out::srqn, "srqn");
}

CmdStatus cmd_destroy_srq(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_destroy_srq_in>();
    ctx.note("srqn={:#x}", in.srqn);
    return destroyed(fw.engine->destroy_srq(in.srqn, ctx.channel), HCASIM_SYND_SRQ_BAD_HANDLE,
                     HCASIM_SYND_SRQ_BUSY);
}

CmdStatus cmd_query_srq(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_query_srq_in>();
    ctx.note("srqn={:#x}", in.srqn);
    const device::Srq* s = fw.engine->srq_table().find_owned(in.srqn, ctx.channel);
    if (!s) return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_SRQ_BAD_HANDLE);
    hcasim_query_srq_out out{};
    out.srq_limit = s->limit;
    out.log_size = s->log_size;
    out.max_sge = s->max_sge;
    ctx.output(out);
    return kOk;
}

CmdStatus cmd_modify_srq(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_modify_srq_in>();
    ctx.note("srqn={:#x} limit={}", in.srqn, in.srq_limit);
    const device::Srq* s = fw.engine->srq_table().find_owned(in.srqn, ctx.channel);
    if (!s) return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_SRQ_BAD_HANDLE);
    if (in.srq_limit > s->entries()) return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_SRQ_BAD_LIMIT);
    fw.engine->set_srq_limit(in.srqn, in.srq_limit);
    return kOk;
}

}  // namespace hcasim::firmware
