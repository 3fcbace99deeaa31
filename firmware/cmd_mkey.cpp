// CREATE_MKEY (0x200) / DESTROY_MKEY (0x202): memory regions.  The MTT
// (page list) is read by DMA from the pages the driver names; DM regions
// must lie inside one live MEMIC block of the same channel.
#include "firmware/handlers.h"
#include "firmware/page_list.h"

#include <vector>

namespace hcasim::firmware {

namespace {


bool owned_pd(FwState& fw, uint32_t pdn, uint32_t channel) {
    auto owner = fw.pds.owner_of(pdn);
    return owner && *owner == channel;
}

CmdStatus check_access(uint32_t access) {
    if (access & ~HCASIM_ACCESS_ALL) return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_MKEY_BAD_ACCESS);
    // IB spec: remote write and remote atomic need local write.
    if ((access & (HCASIM_ACCESS_REMOTE_WRITE | HCASIM_ACCESS_REMOTE_ATOMIC)) &&
        !(access & HCASIM_ACCESS_LOCAL_WRITE))
        return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_MKEY_BAD_ACCESS);
    return kOk;
}

// Reads the page list through DMA into m.pages.
CmdStatus read_mtt(FwState& fw, CmdContext& ctx, const hcasim_create_mkey_in& in,
                   device::Mkey& m) {
    return read_page_list(fw, ctx, sizeof(in), in.start, in.length, in.num_mtt, in.num_mtt_pages,
                          m.pages, HCASIM_SYND_MKEY_BAD_MTT, HCASIM_SYND_MKEY_MTT_DMA_FAULT);
}

// The DM range must be inside one live block of this channel.
CmdStatus check_memic(FwState& fw, CmdContext& ctx, const hcasim_create_mkey_in& in,
                      device::Mkey& m) {
    const uint64_t rel = in.start - fw.caps.memic_bar_offset;
    auto b = fw.memic.block_containing(rel);
    if (in.start < fw.caps.memic_bar_offset || !b || b->owner != ctx.channel ||
        in.length > b->start + b->length - rel)
        return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_MKEY_BAD_DM_RANGE);
    m.memic_block = b->start + fw.caps.memic_bar_offset;
    return kOk;
}

// The ICM range must be inside one live SW ICM block of this channel.
CmdStatus check_icm(FwState& fw, CmdContext& ctx, const hcasim_create_mkey_in& in,
                    device::Mkey& m) {
    for (uint32_t t = HCASIM_SW_ICM_STEERING; t <= HCASIM_SW_ICM_ENCAP; ++t) {
        const uint64_t base = HcaCaps::sw_icm_base(t);
        if (in.start < base) continue;
        auto b = fw.icm[t]->alloc.block_containing(in.start - base);
        if (!b) continue;
        if (b->owner != ctx.channel || in.length > b->start + b->length - (in.start - base))
            break;
        m.memic_block = base + b->start;
        return kOk;
    }
    return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_MKEY_BAD_DM_RANGE);
}

}  // namespace

CmdStatus cmd_create_mkey(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_create_mkey_in>();
    ctx.note("pdn={:#x} access={:#x} iova={:#x} length={} mode={} start={:#x} dmah={:#x} num_mtt={}",
                             in.pdn, in.access, in.iova, in.length, in.mode, in.start, in.dmah,
                             in.num_mtt);
    if (!owned_pd(fw, in.pdn, ctx.channel))
        return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_PD_BAD_HANDLE);
    if (auto st = check_access(in.access); st.status) return st;
    // Host memory needs at least a byte (the kernel's umem does); a DM
    // region may be empty (mlx5 registers zero-length DM MRs).
    if ((in.length == 0 && in.mode == HCASIM_MKEY_MODE_MTT) || in.iova + in.length < in.iova)
        return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_MKEY_BAD_LENGTH);
    if (in.dmah) {
        const device::Dmah* d = fw.dmahs.find(in.dmah);
        if (!d || d->owner != ctx.channel)
            return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_DMAH_BAD_HANDLE);
    }
    device::Mkey m;
    m.pdn = in.pdn;
    m.access = in.access;
    m.iova = in.iova;
    m.length = in.length;
    m.mode = in.mode;
    m.start = in.start;
    m.dmah = in.dmah;
    m.owner = ctx.channel;
    CmdStatus st = kOk;
    switch (in.mode) {
    case HCASIM_MKEY_MODE_MTT: st = read_mtt(fw, ctx, in, m); break;
    case HCASIM_MKEY_MODE_MEMIC:
        if (!(in.access & HCASIM_ACCESS_ZERO_BASED) || in.iova != 0)
            return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_MKEY_BAD_ACCESS);
        st = check_memic(fw, ctx, in, m);
        break;
    case HCASIM_MKEY_MODE_SW_ICM:
        if (!(in.access & HCASIM_ACCESS_ZERO_BASED) || in.iova != 0 ||
            (in.access & HCASIM_ACCESS_REMOTE_ATOMIC))  // mlx5: no atomics on SW ICM
            return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_MKEY_BAD_ACCESS);
        st = check_icm(fw, ctx, in, m);
        break;
    default: return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_MKEY_BAD_MODE);
    }
    if (st.status) return st;
    return created(ctx, fw.create_mkey(std::move(m)), HCASIM_SYND_MKEY_EXHAUSTED, &hcasim_create_mkey_out::mkey,
                   "mkey");
}

CmdStatus cmd_destroy_mkey(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_destroy_mkey_in>();
    const device::Mkey* m = fw.mkeys.find(in.mkey);
    ctx.note("mkey={:#x}", in.mkey);
    if (!m || m->owner != ctx.channel)
        return fail(HCASIM_STATUS_BAD_RESOURCE, HCASIM_SYND_MKEY_BAD_HANDLE);
    ctx.note("dma_writes={} tagged_writes={}", m->counters.dma_writes,
                              m->counters.tagged_writes);
    fw.mkeys.erase(in.mkey);  // its cleanup gives back its PD and DMA handle
    return kOk;
}

}  // namespace hcasim::firmware
