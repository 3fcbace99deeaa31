#!/usr/bin/env bash
# Full system: scripts/demo-objects (domain, DM MR and DMA-handle rules,
# every mlx5dv DM type, EPERM on an unprivileged HCA, and an RDMA WRITE
# between two guest processes into a DMA-handle MR whose device counters
# and TPH tag the host reads through the inspection socket while the MR
# lives), with its reports and the tag asserted.
set -euo pipefail
src=${1:?source dir}
build=${2:?build dir}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
HCASIM_BUILD_DIR=$build "$src/scripts/demo-objects" >"$out" 2>&1 || status=$?
cat "$out"
fail() { echo "FAIL: $*"; exit 1; }
has() { grep -qF -- "$1" "$out" || fail "missing: $1"; }
[ "$status" -eq 0 ] || fail "demo-objects exited $status"
grep -q '^hcasim-demo-objects: 39 checks, 39 passed, 0 failed' "$out" || fail "privileged report"
grep -q '^hcasim-demo-objects: 11 checks, 11 passed, 0 failed' "$out" || fail "unprivileged report"
has 'ok   - A RDMA WRITE 64 bytes -> B'"'"'s DMA-handle MR: B reads "TPH-tagged RDMA WRITE from A"'
grep -qE '^HCASIM-DMAH-MR rkey=0x[0-9a-f]+ addr=0x[0-9a-f]+ length=4096$' "$out" || fail "MR announcement"
has '"dma_writes":1,'
has '"tagged_writes":1'
has '"last_tag":{"mem_type":"volatile","ph":2,"st":42}'
has "host: 1 DMA write through it, tagged: PH 2, steering tag 0x2a (CPU 0), volatile memory"
has "ok   - B kept its MR registered until the host had read the device's counters for it"
! grep -q '^FAIL' "$out" || fail "a check failed"
echo "full-system objects demo: passed"
