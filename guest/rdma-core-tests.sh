#!/bin/sh
# guest/rdma-core-tests.sh: installed as /usr/local/bin/rdma-core-tests in the
# pyverbs guest (guest/mkinitramfs --flavour pyverbs). Runs rdma-core's own
# python tests (python3-pyverbs 65's suite, gunzipped into
# /opt/rdma-core-tests by scripts/setup) against the hcasim HCA:
#
#   rdma-core-tests [RUN_TESTS_ARGS...]     e.g. -v -k DMTest
#                                           --list-tests
#
# What it adds to a plain "python3 run_tests.py":
#   - --dev hcasim0, unless the arguments name a --dev;
#   - multiprocessing's "fork" start method: Python 3.14 defaults to
#     forkserver, under which the suite's multi-process tests (e.g.
#     DMTest.test_multi_process_alloc_dm) fail to pickle their targets;
#   - run_tests.py by its absolute path: it finds its package through
#     __file__, and a relative path breaks that (os.listdir('')).
#   - the P_Key tables in sysfs: with a kernel driver, the kernel publishes
#     /sys/class/infiniband/<dev>/ports/<port>/pkeys/<index>, and
#     test_device.test_get_pkey_index reads index 0 there (then checks
#     ibv_get_pkey_index against it).  hcasim is driven from userspace, so
#     the suite runs in a private mount namespace (unshare -m) where a
#     tmpfs on /sys/class/infiniband (the kernel's ib_core, loaded from
#     /hcasim/modules/rxe.list, makes the directory) holds those files,
#     written from what each device answers to ibv_query_pkey, in the
#     kernel's format ("0xffff").  Nothing else of sysfs changes, and the
#     view goes away with the suite.
# The exit status is run_tests.py's (unittest: 0 all passed, 1 otherwise).
# hcasim's libraries come first through LD_LIBRARY_PATH=/usr/lib/hcasim,
# which guest/init sets.
TESTS=/opt/rdma-core-tests

[ -f "$TESTS/run_tests.py" ] || { echo "rdma-core-tests: no $TESTS/run_tests.py" >&2; exit 125; }
dev=""
for a in "$@"; do
    case $a in
        --dev | --dev=*) dev=given ;;
    esac
done
[ -n "$dev" ] || set -- --dev hcasim0 "$@"

# sysfs_view: load ib_core (for /sys/class/infiniband), then re-run this
# script in a private mount namespace that sees the P_Key files.
sysfs_view() {
    list=/hcasim/modules/rxe.list
    [ -f $list ] || return 1
    while read -r m; do
        [ -n "$m" ] || continue
        name=${m##*/}
        name=$(echo "${name%.ko}" | tr - _)
        grep -q "^$name " /proc/modules || insmod "$m" || return 1
        [ "$name" = ib_core ] && break
    done <$list
    [ -d /sys/class/infiniband ] || return 1
    HCASIM_SYSFS_VIEW=1 exec unshare -m --propagation private "$0" "$@"
}
if [ -z "$HCASIM_SYSFS_VIEW" ]; then
    sysfs_view "$@" || echo "rdma-core-tests: no P_Key files in sysfs (test_get_pkey_index will fail)" >&2
elif mount -t tmpfs -o mode=0755 hcasim-sysfs /sys/class/infiniband; then
    python3 -c '
import os
import pyverbs.device as d
for dev in d.get_device_list():
    name = dev.name.decode()
    with d.Context(name=name) as ctx:
        for port in range(1, ctx.query_device().phys_port_cnt + 1):
            path = f"/sys/class/infiniband/{name}/ports/{port}/pkeys"
            os.makedirs(path)
            for i in range(ctx.query_port(port).pkey_tbl_len):
                with open(f"{path}/{i}", "w") as f:
                    f.write(f"{ctx.query_pkey(port, i):#06x}\n")
' || echo "rdma-core-tests: cannot write the P_Key files" >&2
fi
cd "$TESTS" || exit 125
exec python3 -c '
import multiprocessing, os, runpy, sys
multiprocessing.set_start_method("fork")
script = sys.argv[1]
sys.path.insert(0, os.path.dirname(script))
sys.argv = ["run_tests.py"] + sys.argv[2:]
runpy.run_path(script, run_name="__main__")
' "$TESTS/run_tests.py" "$@"
