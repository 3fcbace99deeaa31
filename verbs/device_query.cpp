// Device and port attributes: ibv_query_device, ibv_query_device_ex
// (max_dm_size = the MEMIC pool), ibv_query_port (rdma-core
// ibv_query_device(3), ibv_query_device_ex(3), ibv_query_port(3)).
// Values come from the firmware's QUERY_HCA_CAP, read at open.
#include "verbs/provider.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
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
    a.atomic_cap = IBV_ATOMIC_NONE;
    a.max_pkeys = 1;
    a.local_ca_ack_delay = 16;
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

// hcasim has no fabric yet: its one port reports DOWN (no data path).
int query_port(ibv_context* context, uint8_t port_num, ibv_port_attr* port_attr,
               size_t attr_size) {
    (void)context;
    if (port_num != 1 || !port_attr) return EINVAL;
    ibv_port_attr a{};
    a.state = IBV_PORT_DOWN;
    a.max_mtu = IBV_MTU_4096;
    a.active_mtu = IBV_MTU_4096;
    a.gid_tbl_len = 1;
    a.max_msg_sz = 1u << 31;
    a.pkey_tbl_len = 1;
    a.phys_state = 3;  // disabled
    a.active_width = 2;
    a.active_speed = 32;
    a.link_layer = IBV_LINK_LAYER_INFINIBAND;
    std::memcpy(port_attr, &a, std::min(attr_size, sizeof(a)));
    return 0;
}

}  // namespace hcasim::verbs

using namespace hcasim::verbs;

HCASIM_EXPORT int ibv_query_device(ibv_context* context, ibv_device_attr* device_attr) {
    fill_device_attr(impl(context).caps, *device_attr);
    return 0;
}

// rdma-core's verbs.h turns ibv_query_port() into an inline that uses the
// query_port op (full struct) and falls back to this exported symbol with
// the legacy struct, which is a prefix of ibv_port_attr.
#undef ibv_query_port
HCASIM_EXPORT int ibv_query_port(ibv_context* context, uint8_t port_num,
                                 struct _compat_ibv_port_attr* port_attr) {
    return hcasim::verbs::query_port(context, port_num,
                                     reinterpret_cast<ibv_port_attr*>(port_attr),
                                     offsetof(ibv_port_attr, flags));
}
