// ALLOC_MEMIC (0x205) / DEALLOC_MEMIC (0x206): blocks of device memory in
// the BAR2 window, 64-byte units, 2^log_alignment start alignment.
#include "firmware/handlers.h"

#include <algorithm>

namespace hcasim::firmware {

namespace {

// First bytes of a MEMIC block as the device sees them, for the trace: the
// proof that data written by the host sits in device memory.
std::string head_hex(const uint8_t* p, uint64_t len) {
    std::string s;
    const uint64_t n = std::min<uint64_t>(len, 16);
    for (uint64_t i = 0; i < n; ++i) s += fmt::format("{:02x}", p[i]);
    return s;
}

}  // namespace

CmdStatus cmd_alloc_memic(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_alloc_memic_in>();
    ctx.note("length={} log_align={}", in.length, in.log_alignment);
    if (!(fw.caps.caps & HCASIM_CAP_MEMIC) || fw.caps.memic_size == 0)
        return fail(HCASIM_STATUS_BAD_OP, HCASIM_SYND_MEMIC_NOT_SUPPORTED);
    auto r = fw.memic.allocate(in.length, in.log_alignment, ctx.channel);
    using E = device::MemicAllocator::Error;
    switch (r.error) {
    case E::None: break;
    case E::BadLength: return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_MEMIC_BAD_LENGTH);
    case E::BadAlignment: return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_MEMIC_BAD_ALIGN);
    case E::Exhausted: return fail(HCASIM_STATUS_NO_RESOURCES, HCASIM_SYND_MEMIC_EXHAUSTED);
    case E::BadAddress: return fail(HCASIM_STATUS_INTERNAL_ERR, HCASIM_SYND_MEMIC_BAD_ADDR);
    }
    // Fresh device memory reads as zeroes, whatever an earlier owner left.
    std::fill_n(fw.memic_base + r.addr, in.length, uint8_t{0});
    hcasim_alloc_memic_out out{};
    out.memic_addr = fw.caps.memic_bar_offset + r.addr;
    ctx.output(out);
    ctx.note("memic_addr={:#x}", out.memic_addr);
    return kOk;
}

CmdStatus cmd_dealloc_memic(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_dealloc_memic_in>();
    ctx.note("memic_addr={:#x} length={}", in.memic_addr, in.length);
    const uint64_t rel = in.memic_addr - fw.caps.memic_bar_offset;
    auto owner = fw.memic.owner_of(rel);
    if (in.memic_addr < fw.caps.memic_bar_offset || !owner || *owner != ctx.channel)
        return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_MEMIC_BAD_ADDR);
    // A DM with a live MR cannot go (rdma-core: ibv_free_dm -> EBUSY).
    if (fw.mkeys.any([&](const device::Mkey& k) {
            return k.mode == HCASIM_MKEY_MODE_MEMIC && k.memic_block == in.memic_addr;
        }))
        return fail(HCASIM_STATUS_RESOURCE_BUSY, HCASIM_SYND_MEMIC_BUSY);
    if (fw.memic.release(rel, in.length) != device::MemicAllocator::Error::None)
        return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_MEMIC_BAD_ADDR);
    fw.memic_ops.erase(rel);
    if (ctx.tracing) ctx.note("device_bytes={}", head_hex(fw.memic_base + rel, in.length));
    return kOk;
}

CmdStatus cmd_modify_memic(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_modify_memic_in>();
    ctx.note("memic_addr={:#x} op={}", in.memic_addr, in.op);
    if (in.op >= HCASIM_MEMIC_NUM_OPS || fw.caps.memic_op_stride == 0)
        return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_MEMIC_BAD_OP);
    const uint64_t rel = in.memic_addr - fw.caps.memic_bar_offset;
    auto owner = fw.memic.owner_of(rel);
    if (in.memic_addr < fw.caps.memic_bar_offset || !owner || *owner != ctx.channel)
        return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_MEMIC_BAD_ADDR);
    fw.memic_ops[rel] |= 1u << in.op;
    hcasim_modify_memic_out out{};
    out.op_addr = fw.caps.memic_op_offset + in.op * fw.caps.memic_op_stride + rel;
    ctx.output(out);
    ctx.note("op_addr={:#x}", out.op_addr);
    return kOk;
}

}  // namespace hcasim::firmware
