/*
 * The demo's RDMA traffic between two processes of one guest (guest-only:
 * host-direct serves one client at a time).  Each scenario forks: process
 * A (the parent) and process B (the child) open their own context on the
 * first HCA, connect an RC QP each through port 1 (RoCE v2 GID index 1),
 * exchanging QP numbers, GIDs, addresses and rkeys over a socketpair, and
 * run in lockstep: A drives, B answers, whoever verifies prints the check.
 */
#ifndef HCASIM_GUEST_DEMO_TRAFFIC_H
#define HCASIM_GUEST_DEMO_TRAFFIC_H

#include <stdint.h>

/* Call first: the check tally both processes share, line-buffered output. */
int demo_init(void);

/* "ok   - ..." or "FAIL - ...", counted for both processes. */
void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "NAME: N checks, N passed, N failed"; returns the failure count. */
int demo_summary(const char *name);

/* MEMIC DM MR (zero-based) of B: the local SGE of SEND and RDMA WRITE, and
 * the remote target of RDMA WRITE, RDMA READ, FETCH_AND_ADD and
 * CMP_AND_SWP; B checks its contents with ibv_memcpy_from_dm. */
void demo_dm(void);

/* An MR of B registered with a DMA handle (PH 2, the first CPU B may run
 * on, volatile memory) as the target of A's RDMA WRITE.  With wait_host,
 * B then prints "HCASIM-DMAH-MR rkey=0x.. addr=0x.. length=N" and keeps
 * the MR until a line arrives on its stdin (the host reads the device's
 * counters for it meanwhile). */
void demo_dmah(int wait_host);

/* B's CQ (ibv_create_cq_ex with IBV_CQ_INIT_ATTR_MASK_PD), SRQ and QP on
 * a parent domain with a thread domain and counting allocators carry the
 * traffic; then an allocator returning NULL fails each create with ENOMEM. */
void demo_parent_domain(void);

#endif
