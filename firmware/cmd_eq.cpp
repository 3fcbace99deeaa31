// CREATE_EQ (0x301) / DESTROY_EQ (0x302): event queues (one per
// completion channel, one per context for async events).
#include "firmware/handlers.h"
#include "firmware/page_list.h"

namespace hcasim::firmware {

CmdStatus cmd_create_eq(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_create_eq_in>();
    ctx.note("log_size={} msix_vector={:#x} {}", in.log_size, in.msix_vector,
                             in.hdr.op_mod == HCASIM_EQ_OPMOD_ASYNC ? "async" : "completion");
    if (in.hdr.op_mod != HCASIM_EQ_OPMOD_COMPLETION && in.hdr.op_mod != HCASIM_EQ_OPMOD_ASYNC)
        return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_BAD_OP_MOD);
    if (in.log_size > 16) return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_QUEUE_BAD_SIZE);
    if (in.msix_vector != HCASIM_MSIX_VECTOR_NONE && in.msix_vector >= HCASIM_MSIX_VECTORS)
        return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_RESERVED_NOT_ZERO);
    device::Eq eq;
    eq.log_size = in.log_size;
    eq.msix_vector = in.msix_vector;
    eq.async = in.hdr.op_mod == HCASIM_EQ_OPMOD_ASYNC;
    if (auto st = read_queue_buf(fw, ctx, sizeof(in), in.buf, sizeof(hcasim_eqe) << in.log_size, eq.ring);
        st.status)
        return st;
    return created(ctx, fw.engine->create_eq(std::move(eq), ctx.channel), HCASIM_SYND_EQ_EXHAUSTED,
                   &hcasim_create_eq_out::eqn, "eqn");
}

CmdStatus cmd_destroy_eq(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_destroy_eq_in>();
    ctx.note("eqn={:#x}", in.eqn);
    return destroyed(fw.engine->destroy_eq(in.eqn, ctx.channel), HCASIM_SYND_EQ_BAD_HANDLE, HCASIM_SYND_EQ_BUSY);
}

// An EQ handle in a create command: none, or one of the channel's EQs.
bool eq_usable(FwState& fw, uint32_t eqn, uint32_t channel) {
    return eqn == HCASIM_EQN_NONE || fw.engine->eq_table().find_owned(eqn, channel) != nullptr;
}

}  // namespace hcasim::firmware
