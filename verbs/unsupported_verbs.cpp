// The rest of rdma-core 65's libibverbs API that hcasim does not implement
// yet (completion counters, multicast, ECE, imports, dma-buf, rereg):
// each exists so that programs linked BIND_NOW
// against rdma-core (python3-pyverbs) load, and fails the way rdma-core
// reports an unsupported operation:
//  - pointer results: NULL with errno = EOPNOTSUPP;
//  - int results: EOPNOTSUPP (and errno), or -1 with errno = EOPNOTSUPP for
//    the calls whose failure value is -1 (get_*_event, indexes, fds);
//  - void results: nothing to do (no such object can exist).
// Prototypes are rdma-core's (the header is included, so the compiler
// checks them).  See docs/verbs.md.
#include "verbs/provider.h"

#include <cerrno>

#pragma GCC diagnostic ignored "-Wunused-parameter"

// Failure bodies, as rdma-core reports an unsupported operation.
#define UNSUPPORTED_PTR { errno = EOPNOTSUPP; return nullptr; }
#define UNSUPPORTED_INT { errno = EOPNOTSUPP; return EOPNOTSUPP; }
#define UNSUPPORTED_MINUS1 { errno = EOPNOTSUPP; return -1; }

HCASIM_EXPORT int _ibv_query_comp_cntr_caps(struct ibv_context *context, struct ibv_comp_cntr_caps *caps, size_t caps_size) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_attach_mcast(struct ibv_qp *qp, const union ibv_gid *gid, uint16_t lid) UNSUPPORTED_INT
HCASIM_EXPORT struct ibv_comp_cntr *ibv_create_comp_cntr(struct ibv_context *context, struct ibv_comp_cntr_init_attr *cc_attr) UNSUPPORTED_PTR
HCASIM_EXPORT int ibv_destroy_comp_cntr(struct ibv_comp_cntr *comp_cntr) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_detach_mcast(struct ibv_qp *qp, const union ibv_gid *gid, uint16_t lid) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_dm_export_dmabuf_fd(struct ibv_dm *dm) UNSUPPORTED_MINUS1
HCASIM_EXPORT struct ibv_context *ibv_import_device(int cmd_fd) UNSUPPORTED_PTR
HCASIM_EXPORT struct ibv_dm *ibv_import_dm(struct ibv_context *context, uint32_t dm_handle) UNSUPPORTED_PTR
HCASIM_EXPORT struct ibv_mr *ibv_import_mr(struct ibv_pd *pd, uint32_t mr_handle) UNSUPPORTED_PTR
HCASIM_EXPORT struct ibv_pd *ibv_import_pd(struct ibv_context *context, uint32_t pd_handle) UNSUPPORTED_PTR
HCASIM_EXPORT int ibv_inc_comp_cntr(struct ibv_comp_cntr *comp_cntr, uint64_t amount) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_inc_err_comp_cntr(struct ibv_comp_cntr *comp_cntr, uint64_t amount) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_qp_attach_comp_cntr(struct ibv_qp *qp, struct ibv_comp_cntr *comp_cntr, struct ibv_qp_attach_comp_cntr_attr *attr) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_query_ece(struct ibv_qp *qp, struct ibv_ece *ece) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_read_comp_cntr(struct ibv_comp_cntr *comp_cntr, uint64_t *value) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_read_err_comp_cntr(struct ibv_comp_cntr *comp_cntr, uint64_t *value) UNSUPPORTED_INT
HCASIM_EXPORT struct ibv_mr *ibv_reg_dmabuf_mr(struct ibv_pd *pd, uint64_t offset, size_t length, uint64_t iova, int fd, int access) UNSUPPORTED_PTR
HCASIM_EXPORT int ibv_rereg_mr(struct ibv_mr *mr, int flags, struct ibv_pd *pd, void *addr, size_t length, int access) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_set_comp_cntr(struct ibv_comp_cntr *comp_cntr, uint64_t value) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_set_ece(struct ibv_qp *qp, struct ibv_ece *ece) UNSUPPORTED_INT
HCASIM_EXPORT int ibv_set_err_comp_cntr(struct ibv_comp_cntr *comp_cntr, uint64_t value) UNSUPPORTED_INT
HCASIM_EXPORT void ibv_unimport_dm(struct ibv_dm *dm) {}
HCASIM_EXPORT void ibv_unimport_mr(struct ibv_mr *mr) {}
HCASIM_EXPORT void ibv_unimport_pd(struct ibv_pd *pd) {}
