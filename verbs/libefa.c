/*
 * hcasim's libefa.so.1: hcasim is not an EFA device.  The entry points of
 * rdma-core 65's libefa that python3-pyverbs links BIND_NOW exist with
 * rdma-core's symbol versions (libefa.map) and fail with EOPNOTSUPP (NULL
 * + errno for objects).  Arguments are ignored, so the generic prototypes
 * are ABI-compatible.  See docs/verbs.md.
 */
#include <errno.h>
#include <stddef.h>

#define EXPORT __attribute__((visibility("default")))

EXPORT void *efadv_cq_from_ibv_cq_ex(void) { errno = EOPNOTSUPP; return NULL; }
EXPORT void *efadv_create_comp_cntr(void) { errno = EOPNOTSUPP; return NULL; }
EXPORT void *efadv_create_cq(void) { errno = EOPNOTSUPP; return NULL; }
EXPORT void *efadv_create_driver_qp(void) { errno = EOPNOTSUPP; return NULL; }
EXPORT void *efadv_create_qp_ex(void) { errno = EOPNOTSUPP; return NULL; }
EXPORT void *efadv_qp_from_ibv_qp_ex(void) { errno = EOPNOTSUPP; return NULL; }
EXPORT int efadv_query_ah(void) { errno = EOPNOTSUPP; return EOPNOTSUPP; }
EXPORT int efadv_query_device(void) { errno = EOPNOTSUPP; return EOPNOTSUPP; }
EXPORT int efadv_query_mr(void) { errno = EOPNOTSUPP; return EOPNOTSUPP; }
