// Firmware command execution (see firmware.h).
#include "firmware/firmware.h"

#include "firmware/command_table.h"

#include <algorithm>
#include <chrono>

namespace hcasim::firmware {

namespace {

CmdStatus validate_and_run(FwState& fw, FaultInjector& faults, CmdContext& ctx,
                           const CommandDesc* desc) {
    if (ctx.in.size() < sizeof(hcasim_cmd_in_hdr))
        return fail(HCASIM_STATUS_BAD_INPUT_LEN, HCASIM_SYND_IN_TOO_SHORT);
    if (ctx.out.size() < sizeof(hcasim_cmd_out_hdr))
        return fail(HCASIM_STATUS_BAD_OUTPUT_LEN, HCASIM_SYND_OUT_TOO_SHORT);
    if (!desc) return fail(HCASIM_STATUS_BAD_OP, HCASIM_SYND_UNKNOWN_OPCODE);
    if (ctx.in.size() < desc->in_size)
        return fail(HCASIM_STATUS_BAD_INPUT_LEN, HCASIM_SYND_IN_TOO_SHORT);
    if (ctx.out.size() < desc->out_size)
        return fail(HCASIM_STATUS_BAD_OUTPUT_LEN, HCASIM_SYND_OUT_TOO_SHORT);
    if (auto st = faults.check(desc->opcode))
        return fail(*st, HCASIM_SYND_FAULT_INJECTED);
    return desc->handler(fw, ctx);
}

}  // namespace

CmdStatus Firmware::execute(uint32_t channel, std::span<const uint8_t> in,
                            std::span<uint8_t> out) {
    const auto t0 = std::chrono::steady_clock::now();
    std::fill(out.begin(), out.end(), uint8_t{0});
    hcasim_cmd_in_hdr hdr{};
    std::memcpy(&hdr, in.data(), std::min(sizeof(hdr), in.size()));
    const CommandDesc* desc = find_command(hdr.opcode);

    CmdContext ctx{channel, in, out, state_.trace.enabled(), {}};
    const CmdStatus st = validate_and_run(state_, faults_, ctx, desc);

    if (out.size() >= sizeof(hcasim_cmd_out_hdr)) {
        if (st.status != HCASIM_STATUS_OK)  // no partial output on failure
            std::fill(out.begin(), out.end(), uint8_t{0});
        hcasim_cmd_out_hdr oh{};
        oh.status = st.status;
        oh.syndrome = st.syndrome;
        std::memcpy(out.data(), &oh, sizeof(oh));
    }
    const double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    if (state_.trace.enabled())
        trace::fw_cmd(state_.trace, channel, fmt::format("{}({:#x})", opcode_name(hdr.opcode), hdr.opcode),
                      hdr.op_mod, ctx.detail, fmt::format("{}({:#x})", status_name(st.status), st.status),
                      st.syndrome, us);
    return st;
}

void Firmware::release_channel(uint32_t channel) {
    // Dependents first: queues hold PDs, CQs, SRQs, EQs; MRs hold PDs,
    // DMs and DMA handles.
    // (Each object's cleanup hook gives back what it holds.)
    if (state_.engine) state_.engine->release_owner(channel);
    const size_t mkeys = state_.mkeys.release_owner(channel);
    const size_t dmahs = state_.dmahs.release_owner(channel);
    const size_t pds = state_.pds.release_owner(channel);
    const size_t memic = state_.memic.release_owner(channel);
    size_t icm = 0;
    for (auto& pool : state_.icm)
        if (pool) icm += pool->alloc.release_owner(channel);
    for (auto it = state_.memic_ops.begin(); it != state_.memic_ops.end();)
        it = state_.memic.owner_of(it->first) ? std::next(it) : state_.memic_ops.erase(it);
    trace::fw_reclaim(state_.trace, channel, pds, memic, mkeys, dmahs, icm);
}

void Firmware::reset() {
    if (state_.engine) state_.engine->reset();
    state_.mkeys.clear();
    state_.dmahs.clear();
    state_.memic_ops.clear();
    for (auto& pool : state_.icm)
        if (pool) pool->alloc.clear();
    state_.pds.clear();
    state_.memic.clear();
    trace::fw_reset(state_.trace);
}

}  // namespace hcasim::firmware
