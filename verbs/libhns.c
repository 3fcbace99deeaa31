/*
 * hcasim's libhns.so.1: hcasim is not a HiSilicon RoCE device.  perftest
 * links hnsdv_create_qp BIND_NOW; Debian's own libhns.so.1 cannot load
 * over hcasim's libibverbs (it is a provider: its constructor registers
 * with libibverbs through IBVERBS_PRIVATE_65 entry points hcasim does not
 * have).  The entry points of rdma-core 65's libhns exist with its symbol
 * version (libhns.map): no device is an HNS device, objects are NULL with
 * errno = EOPNOTSUPP.  Arguments are ignored, so the generic prototypes
 * are ABI-compatible.  See docs/verbs.md.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#define EXPORT __attribute__((visibility("default")))

EXPORT bool hnsdv_is_supported(void) { return false; }
EXPORT void *hnsdv_create_qp(void) { errno = EOPNOTSUPP; return NULL; }
EXPORT int hnsdv_query_device(void) { errno = EOPNOTSUPP; return EOPNOTSUPP; }
