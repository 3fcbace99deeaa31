// Page lists (see page_list.h).
#include "firmware/page_list.h"

namespace hcasim::firmware {

namespace {
constexpr uint64_t kPage = 4096;
}

CmdStatus read_page_list(FwState& fw, CmdContext& ctx, size_t fixed, uint64_t start, uint64_t length,
                         uint32_t num_pages, uint32_t num_mtt_pages, std::vector<uint64_t>& out,
                         uint32_t bad_syndrome, uint32_t fault_syndrome) {
    if (start >= kPage || length == 0 || start + length < start)
        return fail(HCASIM_STATUS_BAD_PARAM, bad_syndrome);
    const uint64_t pages = (start + length + kPage - 1) / kPage;
    if (num_pages != pages ||
        num_mtt_pages != (num_pages + HCASIM_MTT_PER_PAGE - 1) / HCASIM_MTT_PER_PAGE ||
        num_mtt_pages > (HCASIM_CMD_MAX_MAILBOX - fixed) / 8)
        return fail(HCASIM_STATUS_BAD_PARAM, bad_syndrome);
    if (ctx.in.size() < fixed + 8ull * num_mtt_pages)
        return fail(HCASIM_STATUS_BAD_INPUT_LEN, HCASIM_SYND_IN_TOO_SHORT);
    if (!fw.dma) return fail(HCASIM_STATUS_INTERNAL_ERR, fault_syndrome);
    out.resize(num_pages);
    for (uint32_t p = 0; p < num_mtt_pages; ++p) {
        uint64_t page_addr = 0;
        std::memcpy(&page_addr, ctx.in.data() + fixed + 8 * p, 8);
        const uint32_t first = p * HCASIM_MTT_PER_PAGE;
        const uint32_t n = std::min(HCASIM_MTT_PER_PAGE, num_pages - first);
        if (fw.dma->read(page_addr, out.data() + first, 8ull * n) != 0)
            return fail(HCASIM_STATUS_BAD_PARAM, fault_syndrome);
    }
    for (uint64_t a : out)
        if (a % kPage) return fail(HCASIM_STATUS_BAD_PARAM, bad_syndrome);
    return kOk;
}

CmdStatus read_queue_buf(FwState& fw, CmdContext& ctx, size_t fixed, const hcasim_queue_buf& qb,
                         uint64_t need, device::QueueRing& out) {
    if (qb.length < need) return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_QUEUE_BAD_BUF);
    if (qb.dbrec % 8 || !fw.dma || !fw.dma->host_ptr(qb.dbrec, 8, 3)) {
        // Message-carried memory (host-direct registered memory) is fine
        // too, as long as the device can read it.
        uint64_t probe = 0;
        if (qb.dbrec % 8 || !fw.dma || fw.dma->read(qb.dbrec, &probe, 8) != 0)
            return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_QUEUE_BAD_DBREC);
    }
    std::vector<uint64_t> pages;
    if (auto st = read_page_list(fw, ctx, fixed, qb.page_offset, qb.length, qb.num_pages,
                                 qb.num_mtt_pages, pages, HCASIM_SYND_QUEUE_BAD_BUF,
                                 HCASIM_SYND_QUEUE_BAD_BUF);
        st.status)
        return st;
    out = device::QueueRing(std::move(pages), qb.page_offset, qb.length, qb.dbrec);
    return kOk;
}

}  // namespace hcasim::firmware
