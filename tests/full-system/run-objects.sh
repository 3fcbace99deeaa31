#!/usr/bin/env bash
# Full system: scripts/demo-objects (parent domain + TD + allocators, DM MR,
# DMA-handle MR written by the device with a TPH tag, every mlx5dv DM type,
# EPERM on an unprivileged HCA), with its report and the tag asserted.
set -euo pipefail
src=${1:?source dir}
build=${2:?build dir}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
HCASIM_BUILD_DIR=$build "$src/scripts/demo-objects" >"$out" 2>&1 || status=$?
cat "$out"
fail() { echo "FAIL: $*"; exit 1; }
[ "$status" -eq 0 ] || fail "demo-objects exited $status"
grep -q '^hcasim-demo-objects: 40 checks, 40 passed, 0 failed' "$out" || fail "privileged report"
grep -q '^hcasim-demo-objects: 11 checks, 11 passed, 0 failed' "$out" || fail "unprivileged report"
grep -q 'the device wrote: "TPH-tagged DMA write"' "$out" || fail "device write did not reach the guest MR"
grep -q '"tag":{"mem_type":"volatile","ph":2,"st":42}' "$out" || fail "TPH tag"
grep -q '"tagged_writes":1' "$out" || fail "per-MR tagged-write counter"
! grep -q '^FAIL' "$out" || fail "a check failed"
echo "full-system objects demo: passed"
