// The ConnectX-5 model's capability policy (see prm_caps.h).
//
// Stage 1: the HCA's bring-up and mlx5e's Ethernet NIC. The general page
// says what a ConnectX-5 PF on Ethernet is (port type, one port, page size,
// CQE version) and sizes its objects; the Ethernet offloads page and the
// NIC flow table page say what mlx5_eth_supported() insists on (Linux
// dev.c: eth_net_offloads, nic_flow_table, csum_cap, max_lso_cap,
// vlan_cap, rss_ind_tbl_cap, NIC RX max_ft_level >= 3) and what fs_core
// needs for its tree (max_ft_level >= 59 on Linux 7.3). Everything the
// model does not implement stays 0. Bits join the policy with the feature
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
    // The Ethernet NIC (mlx5_eth_supported, mlx5e).
    {Gen::eth_net_offloads, 1},
    {Gen::nic_flow_table, 1},
    {Gen::cq_moderation, 1},                     // MODIFY_CQ moderation accepted
    // UAR pages are 4 KiB (PrmDevice), the system page of an x86 guest:
    // no uar_4k (which only 64 KiB-page hosts set, with num_of_uars_per_page).
    {Gen::bf, 1},
    {Gen::log_bf_reg_size, 9},                   // SQ doorbells at UAR + 0x800 + n * 512
    {Gen::log_max_rq, 10},
    {Gen::log_max_sq, 10},
    {Gen::log_max_tir, 10},
    {Gen::log_max_tis, 10},
    {Gen::log_max_rqt, 10},
    {Gen::log_max_rqt_size, 8},
    {Gen::log_max_wq_sz, 16},
    {Gen::max_wqe_sz_sq, 1024},                  // bytes: 16 WQEBBs (mlx5e needs 16 for LSO headers)
    {Gen::max_wqe_sz_rq, 1024},
    {Gen::log_max_stride_sz_rq, 13},
    {Gen::log_min_stride_sz_rq, 4},
    {Gen::log_max_stride_sz_sq, 6},
    {Gen::log_min_stride_sz_sq, 6},
    {Gen::log_max_current_uc_list, 4},
    {Gen::log_max_current_mc_list, 6},
    // The internal timer (init segment) counts the platform clock's ns.
    {Gen::device_frequency_khz, 1000000},
};

using Eth = ifc::per_protocol_networking_offload_caps;
const std::pair<prm::Field<Eth>, std::uint64_t> kEthernet[] = {
    {Eth::csum_cap, 1},               // IPv4 header, TCP/UDP checksums filled on TX
    {Eth::vlan_cap, 1},               // C-tag stripped on RX
    {Eth::max_lso_cap, 16},           // LSO up to 64 KiB
    {Eth::rss_ind_tbl_cap, 8},        // RQTs up to 256 entries
    {Eth::wqe_inline_mode, 2},        // no inline headers required
    {Eth::self_lb_en_modifiable, 1},  // TIR self_lb_block
    {Eth::cqe_checksum_full, 1},      // CHECKSUM_COMPLETE sums over the whole packet
};

using Ft = ifc::flow_table_nic_cap;
using FtProp = ifc::flow_table_prop_layout;
using FtFields = ifc::flow_table_fields_supported;
const std::pair<prm::Field<FtProp>, std::uint64_t> kNicRxTables[] = {
    {FtProp::ft_support, 1},
    {FtProp::flow_modify_en, 1},             // MODIFY_FLOW_TABLE miss chaining
    {FtProp::modify_root, 1},                // SET_FLOW_TABLE_ROOT again
    {FtProp::identified_miss_table_mode, 1},
    {FtProp::flow_table_modify, 1},
    {FtProp::log_max_ft_size, 20},
    {FtProp::max_ft_level, 63},              // >= 59 (Linux 7.3 fs_core); levels above are accepted
    {FtProp::log_max_ft_num, 10},
    {FtProp::log_max_destination, 8},
    {FtProp::log_max_flow, 20},
};
// The match fields steering evaluates (mlx5e's VLAN, L2 and TTC tables).
const prm::Field<FtFields> kNicRxMatchFields[] = {
    FtFields::outer_dmac,      FtFields::outer_smac,      FtFields::outer_ether_type,
    FtFields::outer_ip_version, FtFields::outer_first_prio, FtFields::outer_first_cfi,
    FtFields::outer_first_vid, FtFields::outer_sip,       FtFields::outer_dip,
    FtFields::outer_ip_protocol, FtFields::outer_udp_sport, FtFields::outer_udp_dport,
    FtFields::outer_tcp_sport, FtFields::outer_tcp_dport,
};

std::vector<std::uint8_t> general_page()
{
    std::vector<std::uint8_t> page(PrmCaps::kPageBytes);
    auto v = prm::mut_view<Gen>(page).value();
    for (auto [field, value] : kGeneral)
        v.set(field, value);
    return page;
}

std::vector<std::uint8_t> ethernet_page()
{
    std::vector<std::uint8_t> page(PrmCaps::kPageBytes);
    auto v = prm::mut_view<Eth>(page).value();
    for (auto [field, value] : kEthernet)
        v.set(field, value);
    return page;
}

std::vector<std::uint8_t> flow_table_page()
{
    std::vector<std::uint8_t> page(PrmCaps::kPageBytes);
    auto rx = prm::mut_view<Ft>(page).value()[Ft::flow_table_properties_nic_receive];
    for (auto [field, value] : kNicRxTables)
        rx.set(field, value);
    auto fields = rx[FtProp::ft_field_support];
    for (auto field : kNicRxMatchFields)
        fields.set(field, 1);
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
    max_[prm::cap::ETHERNET_OFFLOADS] = ethernet_page();
    max_[prm::cap::FLOW_TABLE] = flow_table_page();
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
