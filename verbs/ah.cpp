// Address handles: ibv_create_ah, ibv_destroy_ah, ibv_init_ah_from_wc,
// ibv_create_ah_from_wc (rdma-core ibv_create_ah(3),
// ibv_create_ah_from_wc(3)).  An AH is the UD address vector the library
// copies into each WQE.  The port is RoCE: is_global is required (EINVAL
// otherwise, as mlx5), the port must be 1 and the sgid index in the GID
// table (EINVAL).  An AH holds its PD (ibv_dealloc_pd -> EBUSY).
//
// From a work completion with IBV_WC_GRH, the 40 bytes in front of the
// data are the GRH; for RoCE v2 over IPv4 they hold 20 zero bytes and the
// IPv4 header.  As libibverbs does: a valid IPv4 header (version 4,
// IHL 5, good checksum) means RoCE v2 over IPv4 (dgid = ::ffff:saddr, the
// sgid is our ::ffff:daddr of type RoCE v2); otherwise the GRH is an IPv6
// header / IB GRH (next header UDP = RoCE v2, 0x1b = RoCE v1).
#include "verbs/provider.h"

#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <new>

namespace hcasim::verbs {

namespace {

constexpr uint8_t kIbNextHdr = 0x1b;

uint16_t ipv4_checksum(const uint8_t* h) {
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        if (i != 10) sum += static_cast<uint32_t>(h[i]) << 8 | h[i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

// 4: the GRH area holds an IPv4 header at byte 20; 6: an IPv6/IB GRH.
int grh_version(const uint8_t* grh) {
    const uint8_t* ip4 = grh + 20;
    if ((grh[0] >> 4) != 6) return (ip4[0] >> 4) == 4 ? 4 : -1;
    if ((ip4[0] & 0xf) != 5) return 6;
    const uint16_t stored = static_cast<uint16_t>(ip4[10] << 8 | ip4[11]);
    return ipv4_checksum(ip4) == stored ? 4 : 6;
}

// The index of our GID `gid` of type `type` (HCASIM_GID_TYPE_*).
int find_gid(ibv_context* ctx, uint8_t port, const uint8_t* gid, uint32_t type) {
    for (uint32_t i = 0;; ++i) {
        ibv_gid g{};
        uint32_t t = 0;
        if (int e = query_gid(impl(ctx), port, i, g, t)) {
            errno = e;
            return -1;
        }
        if (t == type && std::memcmp(g.raw, gid, 16) == 0) return static_cast<int>(i);
    }
}

void v4_mapped(uint8_t* gid, const uint8_t* addr) {
    std::memset(gid, 0, 10);
    gid[10] = gid[11] = 0xff;
    std::memcpy(gid + 12, addr, 4);
}

}  // namespace

}  // namespace hcasim::verbs

using namespace hcasim::verbs;

HCASIM_EXPORT ibv_ah* ibv_create_ah(ibv_pd* pd, ibv_ah_attr* attr) {
    ibv_gid sgid{};
    uint32_t type = 0;
    if (attr->port_num != 1 || !attr->is_global ||
        query_gid(impl(pd->context), 1, attr->grh.sgid_index, sgid, type)) {
        errno = EINVAL;
        return nullptr;
    }
    auto* ah = new (std::nothrow) AhShell();
    if (!ah) {
        errno = ENOMEM;
        return nullptr;
    }
    hcasim_wqe_ud& av = ah->av;
    std::memcpy(av.dgid, attr->grh.dgid.raw, sizeof(av.dgid));
    av.flow_label = attr->grh.flow_label;
    av.traffic_class = attr->grh.traffic_class;
    av.hop_limit = attr->grh.hop_limit;
    av.sl = attr->sl;
    av.is_global = attr->is_global;
    av.dlid = attr->dlid;
    av.sgid_index = attr->grh.sgid_index;
    av.port_num = attr->port_num;
    ah->pd = to_pd(pd);
    ++ah->pd->refcount;
    ah->ah.context = pd->context;
    ah->ah.pd = pd;
    return &ah->ah;
}

HCASIM_EXPORT int ibv_destroy_ah(ibv_ah* ibah) {
    AhShell* ah = to_ah(ibah);
    --ah->pd->refcount;
    delete ah;
    return 0;
}

HCASIM_EXPORT int ibv_init_ah_from_wc(ibv_context* context, uint8_t port_num, ibv_wc* wc,
                                      ibv_grh* grh, ibv_ah_attr* ah_attr) {
    std::memset(ah_attr, 0, sizeof(*ah_attr));
    const auto* g = reinterpret_cast<const uint8_t*>(grh);
    const uint32_t vtf = ntohl(grh->version_tclass_flow);
    ah_attr->grh.flow_label = vtf & 0xfffff;
    ah_attr->dlid = wc->slid;
    ah_attr->sl = wc->sl;
    ah_attr->src_path_bits = wc->dlid_path_bits;
    ah_attr->port_num = port_num;
    if (!(wc->wc_flags & IBV_WC_GRH)) return 0;
    ah_attr->is_global = 1;
    int sgid = -1;
    switch (grh_version(g)) {
    case 4: {
        const uint8_t* ip4 = g + 20;
        if ((ip4[16] & 0xf0) == 0xe0) {  // multicast destination
            errno = EINVAL;
            return -1;
        }
        uint8_t ours[16];
        v4_mapped(ours, ip4 + 16);
        sgid = find_gid(context, port_num, ours, HCASIM_GID_TYPE_ROCE_V2);
        v4_mapped(ah_attr->grh.dgid.raw, ip4 + 12);
        ah_attr->grh.hop_limit = ip4[8];
        ah_attr->grh.traffic_class = ip4[1];
        break;
    }
    case 6: {
        if (grh->dgid.raw[0] == 0xff) {
            errno = EINVAL;
            return -1;
        }
        uint32_t type;
        if (grh->next_hdr == IPPROTO_UDP) type = HCASIM_GID_TYPE_ROCE_V2;
        else if (grh->next_hdr == kIbNextHdr) type = HCASIM_GID_TYPE_ROCE_V1;
        else {
            errno = EPROTONOSUPPORT;
            return -1;
        }
        ah_attr->grh.dgid = grh->sgid;
        sgid = find_gid(context, port_num, grh->dgid.raw, type);
        ah_attr->grh.hop_limit = grh->hop_limit;
        ah_attr->grh.traffic_class = static_cast<uint8_t>(vtf >> 20);
        break;
    }
    default:
        errno = EPROTONOSUPPORT;
        return -1;
    }
    if (sgid < 0) return -1;
    ah_attr->grh.sgid_index = static_cast<uint8_t>(sgid);
    return 0;
}

HCASIM_EXPORT ibv_ah* ibv_create_ah_from_wc(ibv_pd* pd, ibv_wc* wc, ibv_grh* grh,
                                            uint8_t port_num) {
    ibv_ah_attr a;
    if (ibv_init_ah_from_wc(pd->context, port_num, wc, grh, &a)) return nullptr;
    return ibv_create_ah(pd, &a);
}
