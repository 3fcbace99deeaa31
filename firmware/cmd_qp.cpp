// CREATE_QP (0x500) / DESTROY_QP (0x501) / MODIFY_QP (0x50d) /
// QUERY_QP (0x50b): queue pairs.  Transitions and attribute masks are
// checked against the IB state machine (qp_transitions.h), attribute
// values against the caps, as the mlx5 kernel driver does
// (mlx5_ib_modify_qp: port, pkey index, rd_atomic limits, path MTU,
// GID index, RoCE AVs need a GRH).
#include "firmware/handlers.h"
#include "firmware/page_list.h"
#include "firmware/qp_transitions.h"

namespace hcasim::firmware {

namespace {

constexpr CmdStatus bad(uint32_t synd) { return fail(HCASIM_STATUS_BAD_PARAM, synd); }

CmdStatus check_create(FwState& fw, CmdContext& ctx, const hcasim_create_qp_in& in) {
    const auto& lim = fw.caps.limits;
    const auto& eng = *fw.engine;
    if (in.type != qpt::kRc && in.type != qpt::kUc && in.type != qpt::kUd) return bad(HCASIM_SYND_QP_BAD_TYPE);
    if (!fw.pds.find_owned(in.pdn, ctx.channel))
        return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_PD_BAD_HANDLE);
    if (!eng.cq_table().find_owned(in.send_cqn, ctx.channel) || !eng.cq_table().find_owned(in.recv_cqn, ctx.channel))
        return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_CQ_BAD_HANDLE);
    if (in.srqn && !eng.srq_table().find_owned(in.srqn, ctx.channel))
        return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_SRQ_BAD_HANDLE);
    if (!uar_usable(fw, in.uar, ctx.channel))
        return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_UAR_BAD_HANDLE);
    if (!eq_usable(fw, in.async_eqn, ctx.channel))
        return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_EQ_BAD_HANDLE);
    const uint64_t sq_wqes = 1ull << std::min<uint32_t>(in.log_sq_size, 40);
    const uint64_t rq_wqes = 1ull << std::min<uint32_t>(in.log_rq_size, 40);
    if (sq_wqes > lim.max_qp_wr || (!in.srqn && rq_wqes > lim.max_qp_wr) ||
        in.max_send_sge > lim.max_sge || in.max_recv_sge > lim.max_sge ||
        in.max_inline_data > lim.max_inline || in.log_sq_stride < 7 || in.log_sq_stride > 13 ||
        in.log_rq_stride < 5 || in.log_rq_stride > 13)
        return bad(HCASIM_SYND_QUEUE_BAD_SIZE);
    if (HCASIM_WQE_DATA_OFF + std::max(16u * in.max_send_sge, in.max_inline_data) > (1u << in.log_sq_stride) ||
        (!in.srqn && sizeof(hcasim_recv_wqe) + 16u * in.max_recv_sge > (1u << in.log_rq_stride)))
        return bad(HCASIM_SYND_QUEUE_BAD_SIZE);
    if (!in.srqn && (rq_wqes << in.log_rq_stride) > in.sq_offset) return bad(HCASIM_SYND_QUEUE_BAD_BUF);
    return kOk;
}

// Attribute values (mlx5_ib_modify_qp / mlx5_set_path range checks).
CmdStatus check_attrs(FwState& fw, uint32_t mask, const hcasim_qp_attr& a) {
    const auto& lim = fw.caps.limits;
    if ((mask & qpa::kPort) && a.port_num != 1) return bad(HCASIM_SYND_QP_BAD_ATTR);
    if ((mask & qpa::kPkeyIndex) && a.pkey_index != 0) return bad(HCASIM_SYND_QP_BAD_ATTR);
    if ((mask & qpa::kMaxQpRdAtomic) && a.max_rd_atomic > lim.max_rd_atom) return bad(HCASIM_SYND_QP_BAD_ATTR);
    if ((mask & qpa::kMaxDestRdAtomic) && a.max_dest_rd_atomic > lim.max_rd_atom)
        return bad(HCASIM_SYND_QP_BAD_ATTR);
    if ((mask & qpa::kPathMtu) && (a.path_mtu < 1 || a.path_mtu > 5)) return bad(HCASIM_SYND_QP_BAD_ATTR);
    if ((mask & qpa::kAv) && (a.ah.sgid_index >= HCASIM_GID_TABLE_LEN || !a.ah.is_global))
        return bad(HCASIM_SYND_QP_BAD_ATTR);
    if ((mask & qpa::kTimeout) && a.timeout > 31) return bad(HCASIM_SYND_QP_BAD_ATTR);
    if ((mask & qpa::kRetryCnt) && a.retry_cnt > 7) return bad(HCASIM_SYND_QP_BAD_ATTR);
    if ((mask & qpa::kRnrRetry) && a.rnr_retry > 7) return bad(HCASIM_SYND_QP_BAD_ATTR);
    if ((mask & qpa::kMinRnrTimer) && a.min_rnr_timer > 31) return bad(HCASIM_SYND_QP_BAD_ATTR);
    if ((mask & qpa::kAccessFlags) &&
        (a.qp_access_flags & ~(HCASIM_ACCESS_LOCAL_WRITE | HCASIM_ACCESS_REMOTE_WRITE |
                               HCASIM_ACCESS_REMOTE_READ | HCASIM_ACCESS_REMOTE_ATOMIC)))
        return bad(HCASIM_SYND_QP_BAD_ATTR);
    return kOk;
}

}  // namespace

CmdStatus cmd_create_qp(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_create_qp_in>();
    ctx.note("type={} pdn={:#x} scq={:#x} rcq={:#x} srqn={:#x} uar={} sq={}x{} rq={}x{}",
                             in.type, in.pdn, in.send_cqn, in.recv_cqn, in.srqn, in.uar,
                             1u << std::min<uint32_t>(in.log_sq_size, 31), 1u << std::min<uint32_t>(in.log_sq_stride, 31),
                             1u << std::min<uint32_t>(in.log_rq_size, 31), 1u << std::min<uint32_t>(in.log_rq_stride, 31));
    if (auto st = check_create(fw, ctx, in); st.status) return st;
    device::Qp qp;
    qp.type = in.type;
    qp.pdn = in.pdn;
    qp.send_cqn = in.send_cqn;
    qp.recv_cqn = in.recv_cqn;
    qp.srqn = in.srqn;
    qp.uar = in.uar;
    qp.async_eqn = in.async_eqn;
    qp.log_sq_size = in.log_sq_size;
    qp.log_sq_stride = in.log_sq_stride;
    qp.log_rq_size = in.srqn ? 0 : in.log_rq_size;
    qp.log_rq_stride = in.log_rq_stride;
    qp.sq_offset = in.sq_offset;
    qp.max_send_sge = in.max_send_sge;
    qp.max_recv_sge = in.max_recv_sge;
    qp.max_inline = in.max_inline_data;
    qp.sq_sig_all = in.sq_sig_all != 0;
    const uint64_t need = uint64_t{in.sq_offset} + (uint64_t{1} << in.log_sq_size << in.log_sq_stride);
    if (auto st = read_queue_buf(fw, ctx, sizeof(in), in.buf, need, qp.buf); st.status) return st;
    return created(ctx, fw.engine->create_qp(std::move(qp), ctx.channel), HCASIM_SYND_QP_EXHAUSTED,
                   &hcasim_create_qp_out::qpn, "qpn");
}

CmdStatus cmd_destroy_qp(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_destroy_qp_in>();
    ctx.note("qpn={:#x}", in.qpn);
    // Nothing uses a QP: it is never busy.
    return destroyed(fw.engine->destroy_qp(in.qpn, ctx.channel), HCASIM_SYND_QP_BAD_HANDLE, 0);
}

CmdStatus cmd_modify_qp(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_modify_qp_in>();
    auto& eng = *fw.engine;
    const device::Qp* qp = eng.qp_table().find_owned(in.qpn, ctx.channel);
    ctx.note("qpn={:#x} mask={:#x}", in.qpn, in.attr_mask);
    if (!qp) return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_QP_BAD_HANDLE);
    if ((in.attr_mask & qpa::kCurState) && in.attr.cur_qp_state != qp->state)
        return bad(HCASIM_SYND_QP_BAD_CUR_STATE);
    const uint32_t cur = qp->state;
    const uint32_t next = (in.attr_mask & qpa::kState) ? in.attr.qp_state : cur;
    switch (check_qp_transition(qp->type, cur, next, in.attr_mask)) {
    case QpTransitionError::None: break;
    case QpTransitionError::BadTransition: return bad(HCASIM_SYND_QP_BAD_TRANSITION);
    case QpTransitionError::BadAttrMask: return bad(HCASIM_SYND_QP_BAD_ATTR_MASK);
    }
    if (auto st = check_attrs(fw, in.attr_mask, in.attr); st.status) return st;
    ctx.note("from={} to={}", qp_state_name(cur), qp_state_name(next));
    eng.modify_qp(in.qpn, in.attr_mask, in.attr);
    return kOk;
}

CmdStatus cmd_query_qp(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_query_qp_in>();
    ctx.note("qpn={:#x}", in.qpn);
    const device::Qp* qp = fw.engine->qp_table().find_owned(in.qpn, ctx.channel);
    if (!qp) return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_QP_BAD_HANDLE);
    hcasim_query_qp_out out{};
    out.attr = qp->attr;
    out.attr.qp_state = qp->state;
    out.attr.cur_qp_state = qp->state;
    out.attr.sq_draining = 0;
    ctx.output(out);
    return kOk;
}

}  // namespace hcasim::firmware
