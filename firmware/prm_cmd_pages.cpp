// The ConnectX-5 model's page commands (Linux pagealloc.c): QUERY_PAGES and
// MANAGE_PAGES. On hardware the driver's pages back the firmware's ICM; the
// model keeps its state in its own memory, so it asks for none (0 boot, 0
// init, 0 regular pages; page_request_disable). Pages a driver gives anyway
// are device-owned, never written, and all come back on take.
#include "firmware/prm_handlers.h"

namespace hcasim::firmware {

namespace {

// MANAGE_PAGES op_mod (Linux pagealloc.c): give, take; QUERY_PAGES op_mod:
// boot, init, regular.
constexpr std::uint32_t kGive = 1, kTake = 2;
constexpr std::uint32_t kBootPages = 1, kRegularPages = 3;
constexpr std::size_t kMaxPages = 1 << 20;  // pages the model will hold (4 GiB)

}  // namespace

PrmStatus prm_query_pages(PrmState&, CmdContext& ctx)
{
    auto in = prm_input<ifc::query_pages_in>(ctx);
    auto op_mod = in[ifc::query_pages_in::op_mod];
    if (op_mod < kBootPages || op_mod > kRegularPages || in[ifc::query_pages_in::function_id] != 0)
        return prm_bad_param(kPrmSyndBadOpMod);
    auto out = prm_output<ifc::query_pages_out>(ctx);
    out.set(ifc::query_pages_out::function_id, 0);
    out.set(ifc::query_pages_out::num_pages, 0);
    return {};
}

PrmStatus prm_manage_pages(PrmState& s, CmdContext& ctx)
{
    auto in = prm_input<ifc::manage_pages_in>(ctx);
    auto op_mod = in[ifc::manage_pages_in::op_mod];
    std::uint64_t n = in[ifc::manage_pages_in::input_num_entries];
    ctx.note("op={} npages={}", op_mod == kGive ? "give" : op_mod == kTake ? "take" : "?", n);
    if (op_mod == kGive) {
        if (in.available(ifc::manage_pages_in::pas) < n || s.pages.size() + n > kMaxPages)
            return prm_bad_param(kPrmSyndPages);
        for (std::uint32_t i = 0; i < n; ++i)  // all or nothing
            if (*in.at(ifc::manage_pages_in::pas, i) % 4096)
                return prm_bad_param(kPrmSyndPages);
        for (std::uint32_t i = 0; i < n; ++i)
            s.pages.push_back(*in.at(ifc::manage_pages_in::pas, i));
        return {};
    }
    if (op_mod == kTake) {
        auto out = prm_output<ifc::manage_pages_out>(ctx);
        std::uint64_t room = out.available(ifc::manage_pages_out::pas);
        std::uint64_t k = std::min<std::uint64_t>({n, room, s.pages.size()});
        for (std::uint32_t i = 0; i < k; ++i) {
            out.set(ifc::manage_pages_out::pas, i, s.pages.back());
            s.pages.pop_back();
        }
        out.set(ifc::manage_pages_out::output_num_entries, k);
        return {};
    }
    return prm_bad_param(kPrmSyndBadOpMod);
}

}  // namespace hcasim::firmware
