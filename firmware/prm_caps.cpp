// The ConnectX-5 model's capability policy (see prm_caps.h).
//
// Stage 1, first step: the command interface and the HCA's bring-up. The
// general page says what a ConnectX-5 PF on Ethernet is (port type, one
// port, page size, CQE version) and sizes its objects; everything the model
// does not implement yet stays 0. Bits join the policy with the feature
// that backs them.
#include "firmware/prm_caps.h"

#include "prm/prm.h"
#include "prm/prm_layouts.h"

#include <cstring>
#include <utility>

namespace hcasim::firmware {

namespace ifc = prm::ifc;
using Gen = ifc::cmd_hca_cap;

const std::size_t PrmCaps::kPageBytes = ifc::hca_cap_union::kBits / 8;

namespace {

// The general capabilities (mlx5_ifc.h cmd_hca_cap), max = current.
// The Ethernet-only values mlx5_core reads at probe, from the PRM map's
// section 4.2; object sizes are the model's limits (log2 of counts).
const std::pair<prm::Field<Gen>, std::uint64_t> kGeneral[] = {
    {Gen::port_type, 1},                         // Ethernet
    {Gen::num_ports, 1},
    {Gen::log_pg_sz, 12},                        // 4 KiB pages
    {Gen::cqe_version, 1},
    {Gen::page_request_disable, 1},              // no page-request EQ: the model needs no host pages
    {Gen::umr_modify_entity_size_disabled, 1},   // MRs by CREATE_MKEY, not UMR
    {Gen::log_max_eq, 5},                        // 32 EQs (the driver needs > 4 async EQs)
    {Gen::log_max_eq_sz, 16},
    {Gen::log_max_cq, 16},
    {Gen::log_max_cq_sz, 22},
    {Gen::log_max_qp, 16},
    {Gen::log_max_qp_sz, 15},
    {Gen::log_max_pd, 16},
    {Gen::log_max_mkey, 16},
    {Gen::log_max_transport_domain, 10},
    {Gen::log_max_msg, 31},
};

std::vector<std::uint8_t> general_page()
{
    std::vector<std::uint8_t> page(PrmCaps::kPageBytes);
    auto v = prm::mut_view<Gen>(page).value();
    for (auto [field, value] : kGeneral)
        v.set(field, value);
    return page;
}

// A field the driver may set only up to what max offers: a 1-bit feature
// flag, or a log_max_* size.
bool bounded_by_max(const prm::FieldInfo& f)
{
    return f.count == 1 && (f.bits == 1 || std::strncmp(f.name, "log_max_", 8) == 0);
}

}  // namespace

PrmCaps::PrmCaps()
{
    max_[prm::cap::GENERAL] = general_page();
    cur_ = max_;
}

const std::vector<std::uint8_t>* PrmCaps::page(std::uint32_t type, bool current) const
{
    const auto& m = current ? cur_ : max_;
    auto it = m.find(type);
    return it == m.end() ? nullptr : &it->second;
}

bool PrmCaps::set_current(std::uint32_t type, const std::uint8_t* page)
{
    auto it = max_.find(type);
    if (it == max_.end())
        return false;
    std::span<const std::uint8_t> next(page, kPageBytes), max(it->second);
    if (type == prm::cap::GENERAL) {
        for (const auto& f : Gen::kFields)
            if (bounded_by_max(f) && prm::read_bits(next, f.bit_off, f.bits) > prm::read_bits(max, f.bit_off, f.bits))
                return false;
    }
    cur_[type].assign(next.begin(), next.end());
    return true;
}

}  // namespace hcasim::firmware
