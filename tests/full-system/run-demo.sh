#!/usr/bin/env bash
# Full system: scripts/demo's main part (no setup, no objects part): two
# guest processes move data through a MEMIC DM MR, a DMA-handle MR and
# queues on a parent domain; asserts the exit status, every check line, the
# report, and the device side scripts/demo reads from the trace (A's bytes
# in B's MEMIC, the TPH-tagged write through the DMA-handle MR).
set -euo pipefail
src=${1:?source dir}
build=${2:?build dir}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

status=0
HCASIM_BUILD_DIR=$build "$src/scripts/demo" --no-setup --no-objects >"$out" 2>&1 || status=$?
cat "$out"
fail() { echo "FAIL: $*"; exit 1; }
has() { grep -qF -- "$1" "$out" || fail "missing: $1"; }
[ "$status" -eq 0 ] || fail "scripts/demo exited $status"
grep -q '^hcasim-demo: hcasim0 (/sys/bus/pci/devices/' "$out" || fail "HCA not found on the guest's PCI bus"
# device memory
has "ok   - A RDMA WRITE 256 bytes -> B's DM MR: B reads them back with ibv_memcpy_from_dm"
has "ok   - A RDMA READ 256 bytes <- B's DM MR: what A wrote"
has "ok   - A FETCH_AND_ADD +2 on B's DM MR: returned 40, then B's ibv_memcpy_from_dm reads 42"
has "ok   - A CMP_AND_SWP 42 -> 7 on B's DM MR: returned 42, then B's ibv_memcpy_from_dm reads 7"
has "ok   - A SEND 256 bytes -> B's receive WQE on its DM MR: B reads them with ibv_memcpy_from_dm"
has "ok   - B SEND 256 bytes from its DM MR (local SGE) -> A's receive: intact"
has "ok   - B RDMA WRITE 256 bytes from its DM MR (local SGE) -> A's MR: intact"
# DMA handle
has 'ok   - A RDMA WRITE 64 bytes -> B'"'"'s DMA-handle MR: B reads "TPH-tagged RDMA WRITE from A"'
# parent domain
has "B: its allocator handed out 1 QP, 1 CQ and 1 SRQ buffers and 3 doorbell records (MLX5DV_RES_TYPE_QP/CQ/SRQ/DBR)"
has "ok   - A SEND 4 messages -> B's QP: B took them from its SRQ, polled 4 CQEs, data intact"
has "ok   - B SEND 512 bytes from its parent-domain QP -> A's receive: intact"
has "ok   - B destroyed QP, SRQ and CQ: the allocator got all 6 buffers back"
has "ok   - B's allocator returning NULL: ibv_create_cq_ex, ibv_create_srq and ibv_create_qp fail with ENOMEM"
[ "$(grep -c '): RC, connected through port 1 (GID ' "$out")" -eq 3 ] || fail "three connections between A and B"
grep -q '^hcasim-demo: 13 checks, 13 passed, 0 failed' "$out" || fail "demo report"
! grep -q '^FAIL' "$out" || fail "a demo check failed"
# the device side
has "B's MEMIC as the device read it when B freed its DM: \"RDMA WRITE by A.\""
grep -qE "^B's DMA-handle MR \(mkey 0x[0-9a-f]+\) when B deregistered it: dma_writes=1 tagged_writes=1$" "$out" ||
    fail "the device's counters for the DMA-handle MR"
has "device side: A's RDMA WRITE is in B's MEMIC; the write into the DMA-handle MR was TPH-tagged"
echo "full-system demo: passed"
