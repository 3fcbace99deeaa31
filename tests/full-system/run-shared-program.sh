#!/usr/bin/env bash
# Full system: a C program compiled on the host against rdma-core's
# headers and linked with -libverbs runs unchanged in the guest, from a
# directory shared with --share, on hcasim's libibverbs.so.1.
set -euo pipefail
src=${1:?source dir}
build=${2:?build dir}
cc=${CC:-cc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$cc" -Wall -Wextra -O2 -I"$src/.deps/rdma-core/usr/include" \
    -o "$work/dm_errors" "$src/tests/programs/dm_errors.c" -L"$build/verbs" -libverbs
status=0
HCASIM_BUILD_DIR=$build "$src/scripts/run-vm" --device-arg=--memic-size=65536 \
    --share "$work" -- "$work/dm_errors" >"$work/out.log" 2>&1 || status=$?
cat "$work/out.log"
[ "$status" -eq 0 ] || { echo "FAIL: run-vm exited $status"; exit 1; }
grep -q '^dm_errors: 17 passed, 0 failed' "$work/out.log" || { echo "FAIL: report"; exit 1; }
echo "full-system shared program: passed"
