/*
 * hcasim's librdmacm.so.1: hcasim has no RDMA CM (no fabric addresses
 * yet).  Every entry point of rdma-core 65's librdmacm that
 * python3-pyverbs and perftest link BIND_NOW exists with rdma-core's symbol version
 * (librdmacm.map) and fails as librdmacm does: -1 or NULL with errno =
 * EOPNOTSUPP.  Arguments are ignored, so the generic prototypes here are
 * ABI-compatible with rdma-core's.  See docs/verbs.md.
 */
#include <errno.h>
#include <stddef.h>

#define EXPORT __attribute__((visibility("default")))

EXPORT int rdma_accept(void) { errno = EOPNOTSUPP; return -1; }
EXPORT int rdma_ack_cm_event(void) { errno = EOPNOTSUPP; return -1; }
EXPORT int rdma_bind_addr(void) { errno = EOPNOTSUPP; return -1; }
EXPORT int rdma_connect(void) { errno = EOPNOTSUPP; return -1; }
EXPORT int rdma_create_ep(void) { errno = EOPNOTSUPP; return -1; }
EXPORT void *rdma_create_event_channel(void) { errno = EOPNOTSUPP; return NULL; }
EXPORT int rdma_create_id(void) { errno = EOPNOTSUPP; return -1; }
EXPORT int rdma_create_qp(void) { errno = EOPNOTSUPP; return -1; }
EXPORT int rdma_create_qp_ex(void) { errno = EOPNOTSUPP; return -1; }
EXPORT void rdma_destroy_ep(void) {}
EXPORT void rdma_destroy_event_channel(void) {}
EXPORT int rdma_destroy_id(void) { errno = EOPNOTSUPP; return -1; }
EXPORT void rdma_destroy_qp(void) {}
EXPORT int rdma_disconnect(void) { errno = EOPNOTSUPP; return -1; }
EXPORT int rdma_establish(void) { errno = EOPNOTSUPP; return -1; }
EXPORT const char *rdma_event_str(void) { return "UNKNOWN"; }
EXPORT void rdma_free_devices(void) {}
EXPORT void rdma_freeaddrinfo(void) {}
EXPORT int rdma_get_cm_event(void) { errno = EOPNOTSUPP; return -1; }
EXPORT void *rdma_get_devices(void) { errno = EOPNOTSUPP; return NULL; }
EXPORT int rdma_get_remote_ece(void) { errno = EOPNOTSUPP; return -1; }
EXPORT int rdma_get_request(void) { errno = EOPNOTSUPP; return -1; }
EXPORT int rdma_getaddrinfo(void) { errno = EOPNOTSUPP; return -1; }
EXPORT int rdma_init_qp_attr(void) { errno = EOPNOTSUPP; return -1; }
EXPORT int rdma_join_multicast(void) { errno = EOPNOTSUPP; return -1; }
EXPORT int rdma_join_multicast_ex(void) { errno = EOPNOTSUPP; return -1; }
EXPORT int rdma_leave_multicast(void) { errno = EOPNOTSUPP; return -1; }
EXPORT int rdma_listen(void) { errno = EOPNOTSUPP; return -1; }
EXPORT int rdma_query_addrinfo(void) { errno = EOPNOTSUPP; return -1; }
EXPORT int rdma_reject(void) { errno = EOPNOTSUPP; return -1; }
EXPORT int rdma_resolve_addr(void) { errno = EOPNOTSUPP; return -1; }
EXPORT int rdma_resolve_addrinfo(void) { errno = EOPNOTSUPP; return -1; }
EXPORT int rdma_resolve_route(void) { errno = EOPNOTSUPP; return -1; }
EXPORT int rdma_set_local_ece(void) { errno = EOPNOTSUPP; return -1; }
EXPORT int rdma_set_option(void) { errno = EOPNOTSUPP; return -1; }
