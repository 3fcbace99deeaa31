// Port 1: ibv_query_port (the query_port op and the legacy symbol),
// ibv_query_port_speed, the GID table (ibv_query_gid, ibv_query_gid_ex,
// ibv_query_gid_table, the private ibv_query_gid_type) and the P_Key
// table (ibv_query_pkey, ibv_get_pkey_index); rdma-core
// ibv_query_port(3), ibv_query_port_speed(3), ibv_query_gid(3),
// ibv_query_gid_ex(3), ibv_query_pkey(3), ibv_get_pkey_index(3).
//
// The port is RoCE as the device reports it (QUERY_PORT): state, MTUs,
// width/speed, link layer Ethernet, GRH required, IP-based GIDs; the GID
// table holds the link-local RoCE v1 GID (index 0) and the IPv4-mapped
// RoCE v2 GID (index 1).  One P_Key, the default 0xffff.
#include "verbs/provider.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace hcasim::verbs {

namespace {

int query_port_cmd(ContextImpl& c, uint32_t port, hcasim_query_port_out& out) {
    if (port != 1) return EINVAL;
    hcasim_query_port_in in{};
    in.port = port;
    return c.cmd->run(in, out);
}

}  // namespace

int query_port(ibv_context* ctx, uint8_t port_num, ibv_port_attr* port_attr, size_t attr_size) {
    if (!port_attr) return EINVAL;
    hcasim_query_port_out p{};
    if (int e = query_port_cmd(impl(ctx), port_num, p)) return e;
    ibv_port_attr a{};
    a.state = static_cast<ibv_port_state>(p.state);
    a.max_mtu = static_cast<ibv_mtu>(p.max_mtu);
    a.active_mtu = static_cast<ibv_mtu>(p.active_mtu);
    a.gid_tbl_len = p.num_gids;
    a.port_cap_flags = IBV_PORT_CM_SUP | IBV_PORT_IP_BASED_GIDS;
    a.max_msg_sz = p.max_msg_sz;
    a.pkey_tbl_len = 1;
    a.active_width = p.active_width;
    a.active_speed = p.active_speed;
    a.phys_state = static_cast<uint8_t>(p.phys_state);
    a.link_layer = p.link_layer;
    a.flags = IBV_QPF_GRH_REQUIRED;
    std::memcpy(port_attr, &a, std::min(attr_size, sizeof(a)));
    return 0;
}

int query_gid(ContextImpl& c, uint32_t port, uint32_t index, ibv_gid& gid, uint32_t& type) {
    hcasim_query_port_out p{};
    if (int e = query_port_cmd(c, port, p)) return e;
    if (index >= std::min<uint32_t>(p.num_gids, HCASIM_GID_TABLE_LEN)) return EINVAL;
    std::memcpy(gid.raw, p.gids[index].gid, sizeof(gid.raw));
    type = p.gids[index].type;
    return 0;
}

}  // namespace hcasim::verbs

using namespace hcasim::verbs;

// rdma-core's verbs.h turns ibv_query_port() into an inline that uses the
// query_port op (full struct) and falls back to this exported symbol with
// the legacy struct, which is a prefix of ibv_port_attr.
#undef ibv_query_port
HCASIM_EXPORT int ibv_query_port(ibv_context* context, uint8_t port_num,
                                 struct _compat_ibv_port_attr* port_attr) {
    return query_port(context, port_num, reinterpret_cast<ibv_port_attr*>(port_attr),
                      offsetof(ibv_port_attr, flags));
}

// Units of 100 Mb/s (ibv_devinfo prints it / 10 as Gb/s).
HCASIM_EXPORT int ibv_query_port_speed(ibv_context* context, uint32_t port_num,
                                       uint64_t* port_speed) {
    hcasim_query_port_out p{};
    if (int e = query_port_cmd(impl(context), port_num, p)) return e;
    *port_speed = p.port_speed_mbps / 100;
    return 0;
}

HCASIM_EXPORT int ibv_query_gid(ibv_context* context, uint8_t port_num, int index,
                                ibv_gid* gid) {
    uint32_t type = 0;
    if (index < 0 || query_gid(impl(context), port_num, static_cast<uint32_t>(index), *gid, type)) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

HCASIM_EXPORT int _ibv_query_gid_ex(ibv_context* context, uint32_t port_num, uint32_t gid_index,
                                    ibv_gid_entry* entry, uint32_t flags, size_t entry_size) {
    if (flags) return EOPNOTSUPP;
    if (entry_size < sizeof(*entry)) return EINVAL;
    ibv_gid_entry e{};
    if (int err = query_gid(impl(context), port_num, gid_index, e.gid, e.gid_type)) return err;
    e.gid_index = gid_index;
    e.port_num = port_num;
    std::memset(entry, 0, entry_size);
    std::memcpy(entry, &e, sizeof(e));
    return 0;
}

HCASIM_EXPORT ssize_t _ibv_query_gid_table(ibv_context* context, ibv_gid_entry* entries,
                                           size_t max_entries, uint32_t flags,
                                           size_t entry_size) {
    if (flags) return -EOPNOTSUPP;
    if (entry_size < sizeof(*entries)) return -EINVAL;
    ibv_port_attr pa{};
    if (int e = query_port(context, 1, &pa, sizeof(pa))) return -e;
    const size_t n = static_cast<size_t>(pa.gid_tbl_len);
    if (max_entries < n) return -EINVAL;
    auto* out = reinterpret_cast<uint8_t*>(entries);
    for (size_t i = 0; i < n; ++i)
        if (int e = _ibv_query_gid_ex(context, 1, static_cast<uint32_t>(i),
                                      reinterpret_cast<ibv_gid_entry*>(out + i * entry_size), 0,
                                      entry_size))
            return -e;
    return static_cast<ssize_t>(n);
}

// Not in rdma-core's public headers (driver.h, IBVERBS_PRIVATE_65): the
// sysfs GID type, IB/RoCE v1 = 0, RoCE v2 = 1; -1 with errno on error.
HCASIM_EXPORT int ibv_query_gid_type(ibv_context* context, uint8_t port_num, unsigned int index,
                                     int* type) {
    ibv_gid gid{};
    uint32_t t = 0;
    if (int e = query_gid(impl(context), port_num, index, gid, t)) {
        errno = e;
        return -1;
    }
    *type = t == HCASIM_GID_TYPE_ROCE_V2 ? 1 : 0;
    return 0;
}

HCASIM_EXPORT int ibv_query_pkey(ibv_context* context, uint8_t port_num, int index,
                                 __be16* pkey) {
    (void)context;
    if (port_num != 1 || index != 0) {
        errno = EINVAL;
        return -1;
    }
    *pkey = __builtin_bswap16(0xffff);
    return 0;
}

HCASIM_EXPORT int ibv_get_pkey_index(ibv_context* context, uint8_t port_num, __be16 pkey) {
    __be16 p = 0;
    if (ibv_query_pkey(context, port_num, 0, &p)) return -1;
    if (p != pkey) {
        errno = ENOENT;
        return -1;
    }
    return 0;
}
