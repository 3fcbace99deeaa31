// ALLOC_SW_ICM (0xa00) / DEALLOC_SW_ICM (0xa03): the SW ICM device-memory
// types of mlx5dv_alloc_dm(3).  Privileged functions only; power-of-two
// lengths in granularity multiples, aligned to their length (as the mlx5
// kernel driver requests them).
#include "firmware/handlers.h"

#include <bit>

namespace hcasim::firmware {

namespace {

IcmPool* pool_for(FwState& fw, uint32_t type) {
    return type >= HCASIM_SW_ICM_STEERING && type <= HCASIM_SW_ICM_ENCAP ? fw.icm[type].get()
                                                                        : nullptr;
}

}  // namespace

CmdStatus cmd_alloc_sw_icm(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_alloc_sw_icm_in>();
    ctx.note("type={} length={}", in.type, in.length);
    if (!fw.caps.privileged) return fail(HCASIM_STATUS_BAD_SYS_STATE, HCASIM_SYND_NOT_PRIVILEGED);
    IcmPool* pool = pool_for(fw, in.type);
    if (!pool || pool->mem.empty()) return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_SW_ICM_BAD_TYPE);
    const uint64_t gran = uint64_t{1} << fw.caps.log_sw_icm_granularity;
    if (in.length == 0 || !std::has_single_bit(in.length) || in.length % gran)
        return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_SW_ICM_BAD_LENGTH);
    const auto r = pool->alloc.allocate(in.length, static_cast<uint32_t>(std::countr_zero(in.length)),
                                        ctx.channel);
    if (r.error == device::MemicAllocator::Error::BadLength ||
        r.error == device::MemicAllocator::Error::Exhausted ||
        r.error == device::MemicAllocator::Error::BadAlignment)
        return fail(HCASIM_STATUS_NO_RESOURCES, HCASIM_SYND_SW_ICM_EXHAUSTED);
    std::fill_n(pool->mem.data() + r.addr, in.length, uint8_t{0});
    hcasim_alloc_sw_icm_out out{};
    out.icm_addr = HcaCaps::sw_icm_base(in.type) + r.addr;
    ctx.output(out);
    ctx.note("icm_addr={:#x}", out.icm_addr);
    return kOk;
}

CmdStatus cmd_dealloc_sw_icm(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_dealloc_sw_icm_in>();
    ctx.note("type={} icm_addr={:#x} length={}", in.type, in.icm_addr, in.length);
    IcmPool* pool = pool_for(fw, in.type);
    const uint64_t base = HcaCaps::sw_icm_base(in.type);
    if (!pool || in.icm_addr < base)
        return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_SW_ICM_BAD_ADDR);
    auto owner = pool->alloc.owner_of(in.icm_addr - base);
    if (!owner || *owner != ctx.channel)
        return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_SW_ICM_BAD_ADDR);
    if (fw.mkeys.any([&](const device::Mkey& m) {
            return m.mode == HCASIM_MKEY_MODE_SW_ICM && m.memic_block == in.icm_addr;
        }))
        return fail(HCASIM_STATUS_RESOURCE_BUSY, HCASIM_SYND_SW_ICM_BUSY);
    if (pool->alloc.release(in.icm_addr - base, in.length) != device::MemicAllocator::Error::None)
        return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_SW_ICM_BAD_ADDR);
    return kOk;
}

}  // namespace hcasim::firmware
