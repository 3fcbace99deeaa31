#!/bin/sh
# rdma (iproute2) stand-in for the pyverbs guest: rdma-core's test setUp
# runs `rdma link show -j` and only needs it to succeed.  The guest has no
# kernel RDMA devices (hcasim is driven from userspace), so the list of
# kernel RDMA links is empty.  Anything else is refused.
case "$*" in
    "link show -j"|"link show -j -p"|"-j link show"|"link -j show"|"link show")
        [ "$*" = "link show" ] || echo "[]"
        exit 0 ;;
esac
echo "rdma: only 'rdma link show' is available in this guest (no kernel RDMA devices)" >&2
exit 1
