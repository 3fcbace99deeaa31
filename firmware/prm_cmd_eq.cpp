// The ConnectX-5 model's event-queue commands (Linux eq.c): CREATE_EQ,
// DESTROY_EQ and QUERY_EQ (debugfs). CREATE_EQ checks the context before
// anything is made: the ring's size within log_max_eq_sz, its pages (pas[],
// 4 KiB << log_page_size each, aligned) all in the input, the UAR allocated,
// the MSI-X vector one the function has. The EQs themselves, their EQEs and
// doorbells are device::PrmEqTable's.
#include "firmware/prm_handlers.h"

#include "device/prm_device.h"

namespace hcasim::firmware {

namespace {

using Eqc = ifc::eqc;
constexpr std::uint32_t kLogMaxEqSize = 16;  // cmd_hca_cap log_max_eq_sz

}  // namespace

PrmStatus prm_create_eq(PrmState& s, CmdContext& ctx)
{
    using In = ifc::create_eq_in;
    auto in = prm_input<In>(ctx);
    auto eqc = in[In::eq_context_entry];
    device::PrmEq eq;
    eq.log_size = static_cast<std::uint32_t>(eqc[Eqc::log_eq_size]);
    eq.uar_page = static_cast<std::uint32_t>(eqc[Eqc::uar_page]);
    eq.intr = static_cast<std::uint32_t>(eqc[Eqc::intr]);
    for (std::uint32_t i = 0; i < eq.event_mask.size(); ++i)
        eq.event_mask[i] = *in.at(In::event_bitmask, i);
    auto log_page = static_cast<std::uint32_t>(eqc[Eqc::log_page_size]);
    ctx.note("log_eq_size={} uar={:#x} intr={} event_bitmask={:#x}", eq.log_size, eq.uar_page, eq.intr,
             eq.event_mask[0]);
    if (eq.log_size > kLogMaxEqSize || eqc[Eqc::page_offset] != 0)
        return prm_bad_param(kPrmSyndQueueSize);
    if (!s.device->uar_allocated(eq.uar_page))
        return prm_bad_param(kPrmSyndBadUar);
    if (eq.intr >= device::PrmDevice::kMsixVectors)
        return prm_bad_param(kPrmSyndBadVector);
    const std::uint64_t bytes = std::uint64_t{device::PrmEqTable::kEqeBytes} << eq.log_size;
    std::vector<std::uint64_t> pages;
    if (auto st = prm_queue_pages(in, In::pas, bytes, log_page, pages); st.status)
        return st;
    eq.ring = device::QueueRing(std::move(pages), 0, bytes, 0);
    auto eqn = s.device->eqs().create(std::move(eq));
    if (!eqn)
        return {static_cast<std::uint8_t>(prm::stat::LIM_ERR), kPrmSyndNoEq};
    ctx.note("eqn={:#x}", *eqn);
    prm_output<ifc::create_eq_out>(ctx).set(ifc::create_eq_out::eq_number, *eqn);
    return {};
}

PrmStatus prm_destroy_eq(PrmState& s, CmdContext& ctx)
{
    auto eqn = static_cast<std::uint32_t>(prm_input<ifc::destroy_eq_in>(ctx)[ifc::destroy_eq_in::eq_number]);
    ctx.note("eqn={:#x}", eqn);
    if (!s.device->eqs().find(eqn))
        return prm_bad_param(kPrmSyndBadHandle);
    bool used = false;  // a CQ's completion EQ stays until the CQ goes
    s.device->objects().cqs.for_each([&](std::uint32_t, const device::PrmCq& cq) { used |= cq.eqn == eqn; });
    if (used)
        return prm_fail(prm::stat::BAD_RES_STATE_ERR, kPrmSyndBusy);
    s.device->eqs().destroy(eqn);
    return {};
}

PrmStatus prm_query_eq(PrmState& s, CmdContext& ctx)
{
    auto eqn = static_cast<std::uint32_t>(prm_input<ifc::query_eq_in>(ctx)[ifc::query_eq_in::eq_number]);
    ctx.note("eqn={:#x}", eqn);
    const device::PrmEq* eq = s.device->eqs().find(eqn);
    if (!eq)
        return prm_bad_param(kPrmSyndBadHandle);
    using Out = ifc::query_eq_out;
    auto out = prm_output<Out>(ctx);
    auto eqc = out[Out::eq_context_entry];
    eqc.set(Eqc::log_eq_size, eq->log_size);
    eqc.set(Eqc::uar_page, eq->uar_page);
    eqc.set(Eqc::intr, eq->intr);
    eqc.set(Eqc::consumer_counter, eq->ci);
    eqc.set(Eqc::producer_counter, eq->pi);
    eqc.set(Eqc::st, eq->armed ? prm::eqc_st::ARMED : prm::eqc_st::FIRED);
    out.set(Out::event_bitmask, eq->event_mask[0]);
    return {};
}

}  // namespace hcasim::firmware
