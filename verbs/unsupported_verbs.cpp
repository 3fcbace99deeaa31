// The rest of rdma-core 65's libibverbs API that hcasim does not implement
// yet (queues, completion channels and counters, address handles, ECE,
// imports, dma-buf, rereg, fork): each exists so that programs linked
// BIND_NOW against rdma-core (python3-pyverbs) load, and fails the way
// rdma-core reports an unsupported operation:
//  - pointer results: NULL with errno = EOPNOTSUPP;
//  - int results: EOPNOTSUPP (and errno), or -1 with errno = EOPNOTSUPP for
//    the calls whose failure value is -1 (get_*_event, indexes, fds);
//  - void results: nothing to do (no such object can exist).
// Prototypes are rdma-core's (the header is included, so the compiler
// checks them).  The GID/P_Key queries at the end are real.  See
// docs/verbs.md.
#include "verbs/provider.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#pragma GCC diagnostic ignored "-Wunused-parameter"

// Failure bodies, as rdma-core reports an unsupported operation.
#define UNSUPPORTED_PTR { errno = EOPNOTSUPP; return nullptr; }
#define UNSUPPORTED_INT { errno = EOPNOTSUPP; return EOPNOTSUPP; }
#define UNSUPPORTED_MINUS1 { errno = EOPNOTSUPP; return -1; }

HCASIM_EXPORT int _ibv_query_comp_cntr_caps(struct ibv_context *context, struct ibv_comp_cntr_caps *caps, size_t caps_size) UNSUPPORTED_INT
HCASIM_EXPORT void ibv_ack_async_event(struct ibv_async_event *event) {}
HCASIM_EXPORT void ibv_ack_cq_events(struct ibv_cq *cq, unsigned int nevents) {}
HCASIM_EXPORT void *ibv_alloc_buf(struct ibv_pd *pd, size_t size, struct ibv_buf **buf) UNSUPPORTED_PTR
HCASIM_EXPORT struct ibv_ah *ibv_create_ah(struct ibv_pd *pd, struct ibv_ah_attr *attr) UNSUPPORTED_PTR
HCASIM_EXPORT struct ibv_ah *ibv_create_ah_from_wc(struct ibv_pd *pd, struct ibv_wc *wc, struct ibv_grh *grh, uint8_t port_num) UNSUPPORTED_PTR
HCASIM_EXPORT struct ibv_comp_channel *ibv_create_comp_channel(struct ibv_context *context) UNSUPPORTED_PTR
HCASIM_EXPORT struct ibv_comp_cntr *ibv_create_comp_cntr(struct ibv_context *context, struct ibv_comp_cntr_init_attr *cc_attr) UNSUPPORTED_PTR
HCASIM_EXPORT struct ibv_cq *ibv_create_cq(struct ibv_context *context, int cqe, void *cq_context, struct ibv_comp_channel *channel, int comp_vector) UNSUPPORTED_PTR
HCASIM_EXPORT struct ibv_qp *ibv_create_qp(struct ibv_pd *pd, struct ibv_qp_init_attr *qp_init_attr) UNSUPPORTED_PTR
HCASIM_EXPORT struct ibv_srq *ibv_create_srq(struct ibv_pd *pd, struct ibv_srq_init_attr *srq_init_attr) UNSUPPORTED_PTR
HCASIM_EXPORT int ibv_destroy_ah(struct ibv_ah *ah) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_destroy_comp_channel(struct ibv_comp_channel *channel) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_destroy_comp_cntr(struct ibv_comp_cntr *comp_cntr) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_destroy_cq(struct ibv_cq *cq) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_destroy_qp(struct ibv_qp *qp) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_destroy_srq(struct ibv_srq *srq) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_dm_export_dmabuf_fd(struct ibv_dm *dm) UNSUPPORTED_MINUS1
HCASIM_EXPORT int ibv_export_buf_dmabuf_fd(struct ibv_buf *buf) UNSUPPORTED_MINUS1
HCASIM_EXPORT int ibv_fork_init(void) UNSUPPORTED_INT
HCASIM_EXPORT void ibv_free_buf(struct ibv_buf *buf) {}
HCASIM_EXPORT int ibv_get_async_event(struct ibv_context *context, struct ibv_async_event *event) UNSUPPORTED_MINUS1
HCASIM_EXPORT int ibv_get_cq_event(struct ibv_comp_channel *channel, struct ibv_cq **cq, void **cq_context) UNSUPPORTED_MINUS1
HCASIM_EXPORT int ibv_get_pkey_index(struct ibv_context *context, uint8_t port_num, __be16 pkey) UNSUPPORTED_MINUS1
HCASIM_EXPORT struct ibv_context *ibv_import_device(int cmd_fd) UNSUPPORTED_PTR
HCASIM_EXPORT struct ibv_dm *ibv_import_dm(struct ibv_context *context, uint32_t dm_handle) UNSUPPORTED_PTR
HCASIM_EXPORT struct ibv_mr *ibv_import_mr(struct ibv_pd *pd, uint32_t mr_handle) UNSUPPORTED_PTR
HCASIM_EXPORT struct ibv_pd *ibv_import_pd(struct ibv_context *context, uint32_t pd_handle) UNSUPPORTED_PTR
HCASIM_EXPORT int ibv_inc_comp_cntr(struct ibv_comp_cntr *comp_cntr, uint64_t amount) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_inc_err_comp_cntr(struct ibv_comp_cntr *comp_cntr, uint64_t amount) UNSUPPORTED_INT
HCASIM_EXPORT enum ibv_fork_status ibv_is_fork_initialized(void)
{ return IBV_FORK_DISABLED; }
HCASIM_EXPORT int ibv_modify_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int attr_mask) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_modify_srq(struct ibv_srq *srq, struct ibv_srq_attr *srq_attr, int srq_attr_mask) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_qp_attach_comp_cntr(struct ibv_qp *qp, struct ibv_comp_cntr *comp_cntr, struct ibv_qp_attach_comp_cntr_attr *attr) UNSUPPORTED_INT
HCASIM_EXPORT struct ibv_qp_ex *ibv_qp_to_qp_ex(struct ibv_qp *qp) UNSUPPORTED_PTR
HCASIM_EXPORT int ibv_query_ece(struct ibv_qp *qp, struct ibv_ece *ece) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_query_port_speed(struct ibv_context *context, uint32_t port_num, uint64_t *port_speed) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_query_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int attr_mask, struct ibv_qp_init_attr *init_attr) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_query_qp_data_in_order(struct ibv_qp *qp, enum ibv_wr_opcode op, uint32_t flags) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_query_srq(struct ibv_srq *srq, struct ibv_srq_attr *srq_attr) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_read_comp_cntr(struct ibv_comp_cntr *comp_cntr, uint64_t *value) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_read_err_comp_cntr(struct ibv_comp_cntr *comp_cntr, uint64_t *value) UNSUPPORTED_INT
HCASIM_EXPORT struct ibv_mr *ibv_reg_buf_mr(struct ibv_pd *pd, struct ibv_buf *buf, void *addr, size_t length, int access) UNSUPPORTED_PTR
HCASIM_EXPORT struct ibv_mr *ibv_reg_dmabuf_mr(struct ibv_pd *pd, uint64_t offset, size_t length, uint64_t iova, int fd, int access) UNSUPPORTED_PTR
HCASIM_EXPORT int ibv_rereg_mr(struct ibv_mr *mr, int flags, struct ibv_pd *pd, void *addr, size_t length, int access) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_resize_cq(struct ibv_cq *cq, int cqe) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_set_comp_cntr(struct ibv_comp_cntr *comp_cntr, uint64_t value) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_set_ece(struct ibv_qp *qp, struct ibv_ece *ece) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_set_err_comp_cntr(struct ibv_comp_cntr *comp_cntr, uint64_t value) UNSUPPORTED_INT
HCASIM_EXPORT void ibv_unimport_dm(struct ibv_dm *dm) {}
HCASIM_EXPORT void ibv_unimport_mr(struct ibv_mr *mr) {}
HCASIM_EXPORT void ibv_unimport_pd(struct ibv_pd *pd) {}

// ---- GIDs and P_Keys: one port, one IB GID (fe80::<node GUID>), the
// default P_Key (rdma-core ibv_query_gid(3), ibv_query_gid_ex(3),
// ibv_query_pkey(3)).

namespace {

ibv_gid port_gid(ibv_context* ctx) {
    ibv_gid g{};
    g.raw[0] = 0xfe;
    g.raw[1] = 0x80;
    const uint64_t guid = __builtin_bswap64(hcasim::verbs::impl(ctx).caps.node_guid);
    std::memcpy(&g.raw[8], &guid, 8);
    return g;
}

}  // namespace

HCASIM_EXPORT int ibv_query_gid(struct ibv_context *context, uint8_t port_num, int index,
                                union ibv_gid *gid)
{
    if (port_num != 1 || index != 0) {
        errno = EINVAL;
        return -1;
    }
    *gid = port_gid(context);
    return 0;
}

HCASIM_EXPORT int ibv_query_pkey(struct ibv_context *context, uint8_t port_num, int index,
                                 __be16 *pkey)
{
    if (port_num != 1 || index != 0) {
        errno = EINVAL;
        return -1;
    }
    *pkey = __builtin_bswap16(0xffff);
    return 0;
}

HCASIM_EXPORT int _ibv_query_gid_ex(struct ibv_context *context, uint32_t port_num,
                                    uint32_t gid_index, struct ibv_gid_entry *entry,
                                    uint32_t flags, size_t entry_size)
{
    if (flags || entry_size < sizeof(*entry)) return EINVAL;
    if (port_num != 1) return EINVAL;
    if (gid_index != 0) return ENODATA;
    std::memset(entry, 0, entry_size);
    entry->gid = port_gid(context);
    entry->gid_index = 0;
    entry->port_num = 1;
    entry->gid_type = IBV_GID_TYPE_IB;
    entry->ndev_ifindex = 0;
    return 0;
}

HCASIM_EXPORT ssize_t _ibv_query_gid_table(struct ibv_context *context,
                                           struct ibv_gid_entry *entries, size_t max_entries,
                                           uint32_t flags, size_t entry_size)
{
    if (flags || entry_size < sizeof(*entries)) return -EINVAL;
    if (max_entries < 1) return -EINVAL;
    return _ibv_query_gid_ex(context, 1, 0, entries, 0, entry_size) ? -EINVAL : 1;
}

// Not in rdma-core's public headers (driver.h, IBVERBS_PRIVATE_65): the
// sysfs GID type, IB/RoCE v1 = 0.

HCASIM_EXPORT int ibv_query_gid_type(struct ibv_context *context, uint8_t port_num,
                                     unsigned int index, int *type)
{
    if (port_num != 1 || index != 0) return EINVAL;
    *type = 0;
    return 0;
}

HCASIM_EXPORT int ibv_get_device_index(struct ibv_device *device)
{
    unsigned idx = 0;
    return std::sscanf(device->name, "hcasim%u", &idx) == 1 ? static_cast<int>(idx) : -1;
}
