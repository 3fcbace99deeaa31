// Device attributes: ibv_query_device, ibv_query_device_ex (max_dm_size =
// the MEMIC pool), rdma-core ibv_query_device(3), ibv_query_device_ex(3).
// Values come from the firmware's QUERY_HCA_CAP, read at open, reported
// the way the mlx5 kernel driver does: max_cqe and max_srq_wr one below
// the ring sizes (a ring keeps one entry back), max_res_rd_atom =
// max_qp_rd_atom * max_qp, atomics HCA-wide (IBV_ATOMIC_HCA), and the
// capability flags of what hcasim implements (RNR NAKs, a system image
// GUID, modify with the current state).
#include "verbs/provider.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdint>
#include <cstring>

namespace hcasim::verbs {

namespace {

void fill_device_attr(const hcasim_query_hca_cap_out& caps, ibv_device_attr& a) {
    std::memset(&a, 0, sizeof(a));
    std::snprintf(a.fw_ver, sizeof(a.fw_ver), "%u.%u.%u", caps.fw_rev >> 16,
                  caps.fw_rev & 0xffff, caps.fw_rev_sub);
    a.node_guid = __builtin_bswap64(caps.node_guid);
    a.sys_image_guid = __builtin_bswap64(caps.sys_image_guid);
    a.max_mr_size = caps.max_mr_size;
    a.page_size_cap = 4096;
    a.vendor_id = HCASIM_PCI_VENDOR_ID;
    a.vendor_part_id = caps.vendor_part_id;
    a.hw_ver = caps.hw_ver;
    a.max_pd = static_cast<int>(caps.max_pd);
    a.max_mr = static_cast<int>(caps.max_mr);
    a.phys_port_cnt = static_cast<uint8_t>(caps.phys_port_cnt);
    a.max_qp = static_cast<int>(caps.max_qp);
    a.max_qp_wr = static_cast<int>(caps.max_qp_wr);
    a.device_cap_flags =
        IBV_DEVICE_SYS_IMAGE_GUID | IBV_DEVICE_RC_RNR_NAK_GEN | IBV_DEVICE_CURR_QP_STATE_MOD;
    a.max_sge = static_cast<int>(caps.max_sge);
    a.max_sge_rd = static_cast<int>(caps.max_sge);
    a.max_cq = static_cast<int>(caps.max_cq);
    a.max_cqe = caps.max_cqe ? static_cast<int>(caps.max_cqe - 1) : 0;
    a.max_qp_rd_atom = static_cast<int>(caps.max_qp_rd_atom);
    a.max_qp_init_rd_atom = static_cast<int>(caps.max_qp_init_rd_atom);
    a.max_res_rd_atom = static_cast<int>(
        std::min<uint64_t>(uint64_t{caps.max_qp_rd_atom} * caps.max_qp, INT32_MAX));
    a.atomic_cap = caps.max_qp_rd_atom ? IBV_ATOMIC_HCA : IBV_ATOMIC_NONE;
    a.max_ah = INT32_MAX;  // address handles are the library's own
    a.max_srq = static_cast<int>(caps.max_srq);
    a.max_srq_wr = caps.max_srq_wr ? static_cast<int>(caps.max_srq_wr - 1) : 0;
    a.max_srq_sge = static_cast<int>(caps.max_srq_sge);
    a.max_pkeys = 1;
    a.local_ca_ack_delay = static_cast<uint8_t>(caps.local_ca_ack_delay);
}

}  // namespace

int query_device_ex(ibv_context* ctx, const ibv_query_device_ex_input* input,
                    ibv_device_attr_ex* attr, size_t attr_size) {
    if (input && input->comp_mask) return EINVAL;
    if (attr_size < sizeof(attr->orig_attr)) return EINVAL;
    ibv_device_attr_ex full{};
    fill_device_attr(impl(ctx).caps, full.orig_attr);
    full.max_dm_size = impl(ctx).caps.memic_bar_size;
    full.phys_port_cnt_ex = impl(ctx).caps.phys_port_cnt;
    // Callers built against older headers pass a smaller struct.
    std::memcpy(attr, &full, std::min(attr_size, sizeof(full)));
    return 0;
}

}  // namespace hcasim::verbs

using namespace hcasim::verbs;

HCASIM_EXPORT int ibv_query_device(ibv_context* context, ibv_device_attr* device_attr) {
    fill_device_attr(impl(context).caps, *device_attr);
    return 0;
}

