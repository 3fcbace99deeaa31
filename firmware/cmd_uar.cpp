// ALLOC_UAR (0x802) / DEALLOC_UAR (0x803): doorbell pages beyond the
// channel's own (a thread domain gets a dedicated one, as on mlx5).
#include "firmware/handlers.h"

namespace hcasim::firmware {

CmdStatus cmd_alloc_uar(FwState& fw, CmdContext& ctx) {
    auto uar = fw.engine->alloc_uar(ctx.channel);
    if (!uar) return fail(HCASIM_STATUS_NO_RESOURCES, HCASIM_SYND_UAR_EXHAUSTED);
    hcasim_alloc_uar_out out{};
    out.uar = *uar;
    ctx.output(out);
    ctx.note("uar={}", *uar);
    return kOk;
}

CmdStatus cmd_dealloc_uar(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_dealloc_uar_in>();
    ctx.note("uar={}", in.uar);
    auto* u = fw.engine->uar(in.uar);
    if (!u || u->owner != ctx.channel || in.uar < HCASIM_CHANNEL_UAR(HCASIM_NUM_CHANNELS))
        return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_UAR_BAD_HANDLE);
    if (!u->qps.empty() || !u->cqs.empty() || !u->srqs.empty())
        return fail(HCASIM_STATUS_RESOURCE_BUSY, HCASIM_SYND_UAR_BUSY);
    fw.engine->close_uar(in.uar);
    return kOk;
}

// A UAR the channel may put queues on: its own, or one it allocated.
bool uar_usable(FwState& fw, uint32_t uar, uint32_t channel) {
    if (uar == HCASIM_CHANNEL_UAR(channel)) return fw.engine->uar(uar) != nullptr;
    auto* u = fw.engine->uar(uar);
    return u && u->owner == channel && uar >= HCASIM_CHANNEL_UAR(HCASIM_NUM_CHANNELS);
}

}  // namespace hcasim::firmware
