// ALLOC_DMAH (0xb00) / DEALLOC_DMAH (0xb01): TPH DMA handles.  The
// steering tag of (cpu, memory type) comes from the platform map the
// device was started with; handles with the same tag share an ST index.
#include "firmware/handlers.h"

namespace hcasim::firmware {

CmdStatus cmd_alloc_dmah(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_alloc_dmah_in>();
    ctx.note("flags={:#x} cpu={} ph={} mem_type={}", in.flags, in.cpu_id, in.ph,
                             in.mem_type);
    if (!(fw.caps.caps & HCASIM_CAP_TPH))
        return fail(HCASIM_STATUS_BAD_OP, HCASIM_SYND_DMAH_NOT_SUPPORTED);
    if (in.flags & ~HCASIM_DMAH_FLAG_ST)
        return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_RESERVED_NOT_ZERO);
    if (in.ph > 3) return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_DMAH_BAD_PH);
    device::Dmah d;
    d.ph = in.ph;
    d.owner = ctx.channel;
    if (in.flags & HCASIM_DMAH_FLAG_ST) {
        if (in.mem_type > HCASIM_TPH_MEM_PERSISTENT)
            return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_DMAH_BAD_MEM_TYPE);
        if (in.cpu_id >= 4096) return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_DMAH_BAD_CPU);
        d.has_st = true;
        d.cpu_id = in.cpu_id;
        d.mem_type = in.mem_type;
        d.st_value = fw.st_map.lookup(in.mem_type, in.cpu_id);
    }
    auto h = fw.dmahs.allocate(d);
    if (!h) return fail(HCASIM_STATUS_NO_RESOURCES, HCASIM_SYND_DMAH_NO_ST_INDEX);
    const device::Dmah* got = fw.dmahs.find(*h);
    hcasim_alloc_dmah_out out{};
    out.dmah = *h;
    out.st_index = got->st_index;
    out.st_value = got->st_value;
    ctx.output(out);
    ctx.note("dmah={:#x} st_index={:#x} st={:#x}", *h, out.st_index, out.st_value);
    return kOk;
}

CmdStatus cmd_dealloc_dmah(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_dealloc_dmah_in>();
    ctx.note("dmah={:#x}", in.dmah);
    const device::Dmah* d = fw.dmahs.find(in.dmah);
    if (!d || d->owner != ctx.channel)
        return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_DMAH_BAD_HANDLE);
    if (fw.dmahs.busy(in.dmah))  // an MR carries it
        return fail(HCASIM_STATUS_RESOURCE_BUSY, HCASIM_SYND_DMAH_BUSY);
    fw.dmahs.release(in.dmah);
    return kOk;
}

}  // namespace hcasim::firmware
