#!/usr/bin/env bash
# Full system: boot the guest with the HCA, run the demo, and assert its
# exit status, its report, and that the device itself saw the bytes the
# guest wrote into MEMIC (the DEALLOC_MEMIC trace line).
set -euo pipefail
src=${1:?source dir}
build=${2:?build dir}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
HCASIM_BUILD_DIR=$build "$src/scripts/run-vm" --trace-file "$work/trace.log" \
    >"$work/out.log" 2>&1 || status=$?
cat "$work/out.log"
fail() { echo "FAIL: $*"; exit 1; }
[ "$status" -eq 0 ] || fail "run-vm exited $status"
grep -q '^device 0: hcasim0 (/sys/bus/pci/devices/' "$work/out.log" || fail "HCA not found on the guest's PCI bus"
grep -q 'max_dm_size 262144 bytes' "$work/out.log" || fail "max_dm_size not reported"
grep -q '^hcasim-demo: 19 checks, 19 passed, 0 failed' "$work/out.log" || fail "demo report"
! grep -q '^FAIL' "$work/out.log" || fail "a demo check failed"
# "HCASIM-MEMIC-OK!" as the device read it from its own MEMIC.
grep -q 'op=DEALLOC_MEMIC.*device_bytes=48434153494d2d4d454d49432d4f4b21' "$work/trace.log" \
    || fail "device trace does not show the guest's bytes in MEMIC"
grep -q 'op=ALLOC_MEMIC.*status=NO_RESOURCES' "$work/trace.log" || fail "exhaustion not traced"
echo "full-system demo: passed"
