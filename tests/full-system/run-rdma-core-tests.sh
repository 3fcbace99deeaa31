#!/usr/bin/env bash
# Full system: rdma-core 65's own python tests (python3-pyverbs, Debian sid
# guest) for the seed APIs, against hcasim's libraries and HCA:
# DMTest + SharedDMTest (ibv_alloc_dm family), DeviceMemoryAPITest
# (ibv_reg_dm_mr), DMAHandleTest (ibv_alloc_dmah), and the traffic classes
# ParentDomainTrafficTest / DmaHandleTrafficTest, which now carry RC and UD
# traffic through the HCA's data path (only the 2 MiB hugepage case skips:
# the guest reserves none yet).  Asserts the unittest result and each test
# that must pass.
set -euo pipefail
src=${1:?source dir}
build=${2:?build dir}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
HCASIM_BUILD_DIR=$build "$src/scripts/run-vm" --guest pyverbs -- rdma-core-tests -v \
    -k DMTest -k DeviceMemoryAPITest -k DMAHandleTest -k ParentDomainTrafficTest \
    -k DmaHandleTrafficTest >"$out" 2>&1 || status=$?
cat "$out"
fail() { echo "FAIL: $*"; exit 1; }
[ "$status" -eq 0 ] || fail "rdma-core's tests exited $status"
grep -Eq '^Ran 2[0-9] tests' "$out" || fail "unexpected number of tests"
grep -Eq '^OK \(skipped=[0-9]+\)' "$out" || fail "unittest did not report OK"
for t in 'test ibv_alloc_dm() ... ok' 'test ibv_alloc_dm() with an illegal size and comp mask ... ok' \
         'Test writing to the device memory with bad offset and length ... ok' \
         'Several processes try to allocate device memory simultaneously. ... ok' \
         'test_create_dm_mr (tests.test_mr.DeviceMemoryAPITest.test_create_dm_mr) ... ok' \
         'Test multiple types of bad access to the Device Memory. Device memory ... ok' \
         'test_dmah_with_mrex (tests.test_dmah.DMAHandleTest.test_dmah_with_mrex) ... ok' \
         'test_dmah_invalid_ph (tests.test_dmah.DMAHandleTest.test_dmah_invalid_ph) ... ok' \
         'test_dmah_inval_cpu_id (tests.test_dmah.DMAHandleTest.test_dmah_inval_cpu_id) ... ok' \
         'test_dmah_persistent_memory (tests.test_dmah.DMAHandleTest.test_dmah_persistent_memory) ... ok' \
         'Tests RC atomic fetch&add using a DMAHandle-backed MREx. ... ok' \
         'Validates RC RDMA Write traffic with DMAHandle & MREx. ... ok' \
         'Checks basic RC send/recv traffic with DMAHandle-registered MREx. ... ok' \
         'test_default_allocators_rc_traffic (tests.test_parent_domain.ParentDomainTrafficTest.test_default_allocators_rc_traffic) ... ok' \
         'test_mem_align_rc_traffic (tests.test_parent_domain.ParentDomainTrafficTest.test_mem_align_rc_traffic) ... ok' \
         'test_mem_align_srq_excq_rc_traffic (tests.test_parent_domain.ParentDomainTrafficTest.test_mem_align_srq_excq_rc_traffic) ... ok' \
         'test_mem_align_ud_traffic (tests.test_parent_domain.ParentDomainTrafficTest.test_mem_align_ud_traffic) ... ok' \
         'test_without_allocators_rc_traffic (tests.test_parent_domain.ParentDomainTrafficTest.test_without_allocators_rc_traffic) ... ok'; do
    grep -qF -- "$t" "$out" || fail "expected: $t"
done
echo "full-system rdma-core tests: passed"
