// The ConnectX-5 model's PRM command handlers, one per opcode; the table in
// prm_command_table.cpp maps opcodes to them and checks, before a handler
// runs, that the input and output hold the command's layouts and that the
// HCA is in a state that accepts it. So a handler's views always fit.
#pragma once

#include "device/object_table.h"
#include "firmware/prm_state.h"
#include "prm/prm.h"
#include "prm/prm_layouts.h"

#include <vector>

namespace hcasim::firmware {

namespace ifc = prm::ifc;

/// The command's input as layout L (the table checked its length).
template <class L>
prm::View<L> prm_input(const CmdContext& ctx)
{
    return prm::View<L>::over(ctx.in).value();
}
/// The command's output as layout L (the table checked its length).
template <class L>
prm::MutView<L> prm_output(CmdContext& ctx)
{
    return prm::MutView<L>::over(ctx.out).value();
}
/// A BAD_PARAM_ERR result.
inline PrmStatus prm_bad_param(std::uint32_t syndrome = kPrmSyndBadParam)
{
    return {static_cast<std::uint8_t>(prm::stat::BAD_PARAM_ERR), syndrome};
}

/// A status from a command's own status and syndrome.
inline PrmStatus prm_fail(std::uint32_t status, std::uint32_t syndrome)
{
    return {static_cast<std::uint8_t>(status), syndrome};
}
/// A DESTROY_* / DEALLOC_* result: no such object (BAD_PARAM_ERR), still in
/// use by others (BAD_RES_STATE_ERR).
inline PrmStatus prm_destroyed(device::DestroyResult r)
{
    switch (r) {
    case device::DestroyResult::Done: return {};
    case device::DestroyResult::NotFound: return prm_bad_param(kPrmSyndBadHandle);
    case device::DestroyResult::Busy: break;
    }
    return prm_fail(prm::stat::BAD_RES_STATE_ERR, kPrmSyndBusy);
}
/// A DESTROY_* / DEALLOC_* of an object in `table` named by the input's
/// `handle` field, by the command's uid (the objects' owner).
template <class In, class T>
PrmStatus prm_destroy_object(device::ObjectTable<T>& table, CmdContext& ctx, prm::Field<In> handle)
{
    auto in = prm_input<In>(ctx);
    auto h = static_cast<std::uint32_t>(in[handle]);
    ctx.note("{}={:#x}", table.name(), h);
    return prm_destroyed(table.destroy(h, static_cast<std::uint32_t>(in[In::uid])));
}
/// The bytes of a layout inside a view (a context to keep).
template <class L, class B>
std::vector<std::uint8_t> prm_bytes(prm::View<L, B> v)
{
    auto raw = v.raw();
    return {raw.begin(), raw.begin() + L::kBits / 8};
}
/// Copies a kept context into the output view.
template <class L>
void prm_put_bytes(prm::MutView<L> v, const std::vector<std::uint8_t>& ctx)
{
    std::copy_n(ctx.begin(), std::min<std::size_t>(ctx.size(), L::kBits / 8), v.raw().begin());
}
/// The 4 KiB pages of a queue buffer of `bytes` bytes from a pas[] list of
/// `available` entries, entry i's address `pa(i)`, whose entries are pages
/// of 4 KiB << log_page_size, each aligned to its size (Linux
/// mlx5_fill_page_array). BAD_PARAM_ERR if the list holds fewer entries
/// than the buffer needs or one is unaligned.
template <class Pa>
PrmStatus prm_queue_pages(std::size_t available, Pa&& pa, std::uint64_t bytes, std::uint32_t log_page_size,
                          std::vector<std::uint64_t>& pages)
{
    constexpr std::uint32_t kMaxLogPageSize = 8;  // 1 MiB pages at most
    if (log_page_size > kMaxLogPageSize)
        return prm_bad_param(kPrmSyndQueueSize);
    const std::uint64_t page = std::uint64_t{4096} << log_page_size;
    const std::uint64_t n = (bytes + page - 1) / page;
    if (available < n)
        return prm_bad_param(kPrmSyndPageList);
    pages.clear();
    for (std::uint32_t i = 0; i < n; ++i) {
        std::uint64_t addr = pa(i);
        if (addr % page)
            return prm_bad_param(kPrmSyndPageList);
        for (std::uint64_t off = 0; off < page && pages.size() * 4096 < bytes; off += 4096)
            pages.push_back(addr + off);
    }
    return {};
}
/// ... from a pas[] of 64-bit addresses (CREATE_EQ, CREATE_CQ).
template <class L>
PrmStatus prm_queue_pages(prm::View<L> v, prm::FieldArray<L> pas, std::uint64_t bytes, std::uint32_t log_page_size,
                          std::vector<std::uint64_t>& pages)
{
    return prm_queue_pages(v.available(pas), [&](std::uint32_t i) { return *v.at(pas, i); }, bytes, log_page_size,
                           pages);
}
/// ... from a pas[] of cmd_pas entries (a wq's).
template <class L>
PrmStatus prm_queue_pages(prm::View<L> v, prm::Array<L, ifc::cmd_pas> pas, std::uint64_t bytes,
                          std::uint32_t log_page_size, std::vector<std::uint64_t>& pages)
{
    auto pa = [&](std::uint32_t i) {
        auto e = *v.at(pas, i);
        return e[ifc::cmd_pas::pa_h] << 32 | e[ifc::cmd_pas::pa_l] << 12;
    };
    return prm_queue_pages(v.available(pas), pa, bytes, log_page_size, pages);
}

// prm_cmd_hca.cpp: the HCA's life cycle and identity.
PrmStatus prm_enable_hca(PrmState& s, CmdContext& ctx);
PrmStatus prm_disable_hca(PrmState& s, CmdContext& ctx);
PrmStatus prm_init_hca(PrmState& s, CmdContext& ctx);
PrmStatus prm_teardown_hca(PrmState& s, CmdContext& ctx);
PrmStatus prm_query_issi(PrmState& s, CmdContext& ctx);
PrmStatus prm_set_issi(PrmState& s, CmdContext& ctx);
PrmStatus prm_query_adapter(PrmState& s, CmdContext& ctx);
// prm_cmd_pages.cpp: pages for firmware memory.
PrmStatus prm_query_pages(PrmState& s, CmdContext& ctx);
PrmStatus prm_manage_pages(PrmState& s, CmdContext& ctx);
// prm_cmd_caps.cpp: capabilities.
PrmStatus prm_query_hca_cap(PrmState& s, CmdContext& ctx);
PrmStatus prm_set_hca_cap(PrmState& s, CmdContext& ctx);
// prm_cmd_reg.cpp: access registers.
PrmStatus prm_access_reg(PrmState& s, CmdContext& ctx);
// prm_cmd_uar.cpp: doorbell pages.
PrmStatus prm_alloc_uar(PrmState& s, CmdContext& ctx);
PrmStatus prm_dealloc_uar(PrmState& s, CmdContext& ctx);
// prm_cmd_eq.cpp: event queues.
PrmStatus prm_create_eq(PrmState& s, CmdContext& ctx);
PrmStatus prm_destroy_eq(PrmState& s, CmdContext& ctx);
PrmStatus prm_query_eq(PrmState& s, CmdContext& ctx);
// prm_cmd_pd.cpp: protection and transport domains.
PrmStatus prm_alloc_pd(PrmState& s, CmdContext& ctx);
PrmStatus prm_dealloc_pd(PrmState& s, CmdContext& ctx);
PrmStatus prm_alloc_transport_domain(PrmState& s, CmdContext& ctx);
PrmStatus prm_dealloc_transport_domain(PrmState& s, CmdContext& ctx);
// prm_cmd_mkey.cpp: memory keys.
PrmStatus prm_create_mkey(PrmState& s, CmdContext& ctx);
PrmStatus prm_destroy_mkey(PrmState& s, CmdContext& ctx);
PrmStatus prm_query_mkey(PrmState& s, CmdContext& ctx);
// prm_cmd_cq.cpp: completion queues.
PrmStatus prm_create_cq(PrmState& s, CmdContext& ctx);
PrmStatus prm_destroy_cq(PrmState& s, CmdContext& ctx);
PrmStatus prm_modify_cq(PrmState& s, CmdContext& ctx);
PrmStatus prm_query_cq(PrmState& s, CmdContext& ctx);
// prm_cmd_wq.cpp: send and receive queues.
PrmStatus prm_create_sq(PrmState& s, CmdContext& ctx);
PrmStatus prm_modify_sq(PrmState& s, CmdContext& ctx);
PrmStatus prm_destroy_sq(PrmState& s, CmdContext& ctx);
PrmStatus prm_query_sq(PrmState& s, CmdContext& ctx);
PrmStatus prm_create_rq(PrmState& s, CmdContext& ctx);
PrmStatus prm_modify_rq(PrmState& s, CmdContext& ctx);
PrmStatus prm_destroy_rq(PrmState& s, CmdContext& ctx);
PrmStatus prm_query_rq(PrmState& s, CmdContext& ctx);
// prm_cmd_tir.cpp: transport interfaces and RQ tables.
PrmStatus prm_create_tis(PrmState& s, CmdContext& ctx);
PrmStatus prm_modify_tis(PrmState& s, CmdContext& ctx);
PrmStatus prm_destroy_tis(PrmState& s, CmdContext& ctx);
PrmStatus prm_create_rqt(PrmState& s, CmdContext& ctx);
PrmStatus prm_modify_rqt(PrmState& s, CmdContext& ctx);
PrmStatus prm_destroy_rqt(PrmState& s, CmdContext& ctx);
PrmStatus prm_create_tir(PrmState& s, CmdContext& ctx);
PrmStatus prm_modify_tir(PrmState& s, CmdContext& ctx);
PrmStatus prm_destroy_tir(PrmState& s, CmdContext& ctx);
// prm_cmd_flow.cpp: flow steering.
PrmStatus prm_create_flow_table(PrmState& s, CmdContext& ctx);
PrmStatus prm_modify_flow_table(PrmState& s, CmdContext& ctx);
PrmStatus prm_destroy_flow_table(PrmState& s, CmdContext& ctx);
PrmStatus prm_set_flow_table_root(PrmState& s, CmdContext& ctx);
PrmStatus prm_create_flow_group(PrmState& s, CmdContext& ctx);
PrmStatus prm_destroy_flow_group(PrmState& s, CmdContext& ctx);
PrmStatus prm_set_flow_table_entry(PrmState& s, CmdContext& ctx);
PrmStatus prm_delete_flow_table_entry(PrmState& s, CmdContext& ctx);
// prm_cmd_vport.cpp: the NIC vport and queue counters.
PrmStatus prm_query_nic_vport_context(PrmState& s, CmdContext& ctx);
PrmStatus prm_modify_nic_vport_context(PrmState& s, CmdContext& ctx);
PrmStatus prm_query_vport_state(PrmState& s, CmdContext& ctx);
PrmStatus prm_query_vport_counter(PrmState& s, CmdContext& ctx);
PrmStatus prm_alloc_q_counter(PrmState& s, CmdContext& ctx);
PrmStatus prm_dealloc_q_counter(PrmState& s, CmdContext& ctx);
PrmStatus prm_query_q_counter(PrmState& s, CmdContext& ctx);

}  // namespace hcasim::firmware
