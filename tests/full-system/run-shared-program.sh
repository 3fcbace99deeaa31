#!/usr/bin/env bash
# Full system: C programs compiled on the host against rdma-core's headers
# and linked with -libverbs run unchanged in the guest, from a directory
# shared with --share, on hcasim's libibverbs.so.1: the DM error paths, and
# several processes at once with one of them killed (its objects must be
# reclaimed).
set -euo pipefail
src=${1:?source dir}
build=${2:?build dir}
cc=${CC:-cc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for prog in dm_errors multiprocess; do
    "$cc" -Wall -Wextra -O2 -I"$src/.deps/rdma-core/usr/include" \
        -o "$work/$prog" "$src/tests/programs/$prog.c" -L"$build/verbs" -libverbs
done
status=0
HCASIM_BUILD_DIR=$build "$src/scripts/run-vm" --device-arg=--memic-size=65536 \
    --share "$work" -- sh -c "$work/dm_errors && $work/multiprocess" >"$work/out.log" 2>&1 || status=$?
cat "$work/out.log"
[ "$status" -eq 0 ] || { echo "FAIL: run-vm exited $status"; exit 1; }
grep -q '^dm_errors: 17 passed, 0 failed' "$work/out.log" || { echo "FAIL: dm_errors report"; exit 1; }
grep -q '^multiprocess: 14 passed, 0 failed' "$work/out.log" || { echo "FAIL: multiprocess report"; exit 1; }
echo "full-system shared program: passed"
