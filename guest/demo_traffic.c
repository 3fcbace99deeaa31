/*
 * The demo's RDMA traffic between two processes (see demo_traffic.h),
 * written against rdma-core's <infiniband/verbs.h> (and mlx5dv.h for the
 * allocator's resource types).
 */
#define _GNU_SOURCE
#include "demo_traffic.h"

#include <infiniband/mlx5dv.h>
#include <infiniband/verbs.h>

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF_LEN (16 * 1024) /* each process's registered host buffer */
#define GID_INDEX 1	    /* the port's RoCE v2 GID */
#define CQE_DEADLINE_S 60   /* a completion that takes longer is a failure */
#define ALL_ACCESS                                                                        \
	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |      \
	 IBV_ACCESS_REMOTE_ATOMIC)

/* ---- the shared tally and the report lines ---- */

static struct tally {
	int checks, failures;
} *tally;

int demo_init(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	tally = mmap(NULL, sizeof(*tally), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (tally == MAP_FAILED) {
		perror("mmap");
		return -1;
	}
	return 0;
}

void check(int ok, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	__atomic_fetch_add(&tally->checks, 1, __ATOMIC_SEQ_CST);
	if (!ok)
		__atomic_fetch_add(&tally->failures, 1, __ATOMIC_SEQ_CST);
	printf("%s - %s\n", ok ? "ok  " : "FAIL", line);
	fflush(stdout);
}

int demo_summary(const char *name)
{
	printf("%s: %d checks, %d passed, %d failed\n", name, tally->checks,
	       tally->checks - tally->failures, tally->failures);
	fflush(stdout);
	return tally->failures;
}

/* ---- one process's side of a connection ---- */

/* What the processes tell each other: connection details, the memory one
 * offers the other, a value, a status. */
struct msg {
	uint32_t qpn, psn, rkey;
	int32_t status;
	uint64_t addr, value;
	uint8_t gid[16];
};

struct side {
	char name; /* 'A' (parent, drives) or 'B' (child, answers) */
	int sock;
	struct ibv_context *ctx;
	struct ibv_pd *pd, *parent; /* parent: a parent domain, if any */
	struct ibv_td *td;
	struct ibv_cq *cq;
	struct ibv_srq *srq;
	struct ibv_qp *qp;
	uint8_t *buf; /* BUF_LEN bytes, registered as mr */
	struct ibv_mr *mr;
	struct msg peer; /* the other process's QP, GID, PSN and offer */
};

/* Reports a failed call (err: its errno) and returns -1. */
static int failed(struct side *s, const char *what, int err)
{
	check(0, "%c: %s: %s", s->name, what, strerror(err));
	return -1;
}

static int tell(struct side *s, const struct msg *m)
{
	if (send(s->sock, m, sizeof(*m), 0) != (ssize_t)sizeof(*m))
		return failed(s, "send to the other process", errno);
	return 0;
}

/* Waits for the other process.  A reports it if B went away; B just stops
 * (A has reported why it did). */
static int hear(struct side *s, struct msg *m)
{
	if (recv(s->sock, m, sizeof(*m), 0) == (ssize_t)sizeof(*m))
		return 0;
	if (s->name == 'A')
		check(0, "A: B stopped answering");
	return -1;
}

/* A: B does the next step; m carries the request and then B's answer. */
static int ask(struct side *s, struct msg *m)
{
	return tell(s, m) || hear(s, m) ? -1 : 0;
}

static int answer(struct side *s, int status)
{
	struct msg m = { .status = status };

	return tell(s, &m);
}

static int open_side(struct side *s)
{
	struct ibv_device **list = ibv_get_device_list(NULL);

	s->ctx = list && list[0] ? ibv_open_device(list[0]) : NULL;
	if (list)
		ibv_free_device_list(list);
	if (!s->ctx)
		return failed(s, "ibv_open_device", errno ? errno : ENODEV);
	s->pd = ibv_alloc_pd(s->ctx);
	if (!s->pd)
		return failed(s, "ibv_alloc_pd", errno);
	return 0;
}

/* The host buffer, registered on pd. */
static int reg_buffer(struct side *s, struct ibv_pd *pd)
{
	s->buf = aligned_alloc(4096, BUF_LEN);
	if (!s->buf)
		return failed(s, "aligned_alloc", ENOMEM);
	memset(s->buf, 0, BUF_LEN);
	s->mr = ibv_reg_mr(pd, s->buf, BUF_LEN, ALL_ACCESS);
	if (!s->mr)
		return failed(s, "ibv_reg_mr", errno);
	return 0;
}

/* An RC QP on pd (on srq if set), completing into cq; NULL with errno. */
static struct ibv_qp *rc_qp(struct ibv_pd *pd, struct ibv_cq *cq, struct ibv_srq *srq)
{
	struct ibv_qp_init_attr a = {
		.send_cq = cq, .recv_cq = cq, .srq = srq, .qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 16, .max_recv_wr = 16, .max_send_sge = 1, .max_recv_sge = 1 },
	};

	return ibv_create_qp(pd, &a);
}

static int make_qp(struct side *s, struct ibv_pd *pd)
{
	s->qp = rc_qp(pd, s->cq, s->srq);
	return s->qp ? 0 : failed(s, "ibv_create_qp", errno);
}

/* Context, PD, CQ, RC QP and registered buffer: a plain side. */
static int plain_side(struct side *s)
{
	if (open_side(s) || reg_buffer(s, s->pd))
		return -1;
	s->cq = ibv_create_cq(s->ctx, 32, NULL, NULL, 0);
	if (!s->cq)
		return failed(s, "ibv_create_cq", errno);
	return make_qp(s, s->pd);
}

static void close_side(struct side *s)
{
	int e;

#define DESTROY(field, call)                                              \
	do {                                                              \
		if (s->field && (e = call(s->field)))                     \
			failed(s, #call, e);                              \
		s->field = NULL;                                          \
	} while (0)
	DESTROY(qp, ibv_destroy_qp);
	DESTROY(srq, ibv_destroy_srq);
	DESTROY(cq, ibv_destroy_cq);
	DESTROY(mr, ibv_dereg_mr);
	DESTROY(parent, ibv_dealloc_pd);
	DESTROY(td, ibv_dealloc_td);
	DESTROY(pd, ibv_dealloc_pd);
	DESTROY(ctx, ibv_close_device);
#undef DESTROY
	free(s->buf);
	s->buf = NULL;
}

/* What this side tells the other about its QP. */
static int own_info(struct side *s, struct msg *m)
{
	union ibv_gid gid;
	int e = ibv_query_gid(s->ctx, 1, GID_INDEX, &gid);

	if (e)
		return failed(s, "ibv_query_gid", e);
	m->qpn = s->qp->qp_num;
	m->psn = (uint32_t)(getpid() * 2654435761u) & 0xffffff;
	memcpy(m->gid, gid.raw, 16);
	return 0;
}

/* RESET -> INIT -> RTR -> RTS towards s->peer. */
static int connect_qp(struct side *s, uint32_t own_psn)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT, .port_num = 1, .qp_access_flags = ALL_ACCESS,
	};
	int e;

	e = ibv_modify_qp(s->qp, &a,
			  IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS);
	if (e)
		return failed(s, "ibv_modify_qp to INIT", e);
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = IBV_MTU_1024;
	a.dest_qp_num = s->peer.qpn;
	a.rq_psn = s->peer.psn;
	a.max_dest_rd_atomic = 4;
	a.min_rnr_timer = 12;
	a.ah_attr.is_global = 1;
	a.ah_attr.port_num = 1;
	a.ah_attr.grh.sgid_index = GID_INDEX;
	a.ah_attr.grh.hop_limit = 64;
	memcpy(a.ah_attr.grh.dgid.raw, s->peer.gid, 16);
	e = ibv_modify_qp(s->qp, &a,
			  IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
				  IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER);
	if (e)
		return failed(s, "ibv_modify_qp to RTR", e);
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = own_psn;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.max_rd_atomic = 4;
	e = ibv_modify_qp(s->qp, &a,
			  IBV_QP_STATE | IBV_QP_SQ_PSN | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
				  IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC);
	return e ? failed(s, "ibv_modify_qp to RTS", e) : 0;
}

/* B: tells its QP (and offer) to A, hears A's, connects.  It then posts
 * what receives it wants and calls ready(). */
static int handshake_b(struct side *s, struct msg *offer)
{
	if (own_info(s, offer) || tell(s, offer) || hear(s, &s->peer))
		return -1;
	return connect_qp(s, offer->psn);
}

static int ready(struct side *s)
{
	return answer(s, 0);
}

/* A: hears B's QP and offer (in s->peer), tells its own, connects, and
 * waits until B is ready. */
static int handshake_a(struct side *s)
{
	struct msg own = { 0 }, r;
	char gid[40];

	if (hear(s, &s->peer) || own_info(s, &own) || tell(s, &own) || connect_qp(s, own.psn) ||
	    hear(s, &r))
		return -1;
	static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
	const uint8_t *g = s->peer.gid;

	if (!memcmp(g, v4_mapped, 12))
		sprintf(gid, "::ffff:%u.%u.%u.%u", g[12], g[13], g[14], g[15]);
	else
		for (int i = 0; i < 8; i++)
			sprintf(gid + 5 * i, "%02x%02x%s", g[2 * i], g[2 * i + 1], i < 7 ? ":" : "");
	printf("A (pid %d, QP %#x) and B (pid %d, QP %#x): RC, connected through port 1 (GID %s)\n",
	       (int)getpid(), s->qp->qp_num, (int)s->peer.value, s->peer.qpn, gid);
	return 0;
}

static int post_recv(struct side *s, uint64_t addr, uint32_t len, uint32_t lkey, uint64_t wr_id)
{
	struct ibv_sge sge = { .addr = addr, .length = len, .lkey = lkey };
	struct ibv_recv_wr wr = { .wr_id = wr_id, .sg_list = &sge, .num_sge = 1 }, *bad;
	int e = s->srq ? ibv_post_srq_recv(s->srq, &wr, &bad) : ibv_post_recv(s->qp, &wr, &bad);

	return e ? failed(s, s->srq ? "ibv_post_srq_recv" : "ibv_post_recv", e) : 0;
}

/* One completion within the deadline, successful.  what names the work. */
static int complete(struct side *s, const char *what, struct ibv_wc *out)
{
	struct timespec start, now;
	struct ibv_wc wc;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		n = ibv_poll_cq(s->cq, 1, &wc);
		if (n)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > CQE_DEADLINE_S) {
			check(0, "%c: no completion for %s within %d s", s->name, what, CQE_DEADLINE_S);
			return -1;
		}
		sched_yield();
	}
	if (n < 0)
		return failed(s, "ibv_poll_cq", EIO);
	if (wc.status != IBV_WC_SUCCESS) {
		check(0, "%c: %s completed with %s", s->name, what, ibv_wc_status_str(wc.status));
		return -1;
	}
	if (out)
		*out = wc;
	return 0;
}

/* Posts one signaled send-queue WQE and waits for its completion. */
static int run_wqe(struct side *s, const char *what, enum ibv_wr_opcode op, uint64_t laddr,
		   uint32_t len, uint32_t lkey, uint64_t raddr, uint32_t rkey, uint64_t add,
		   uint64_t swap)
{
	struct ibv_sge sge = { .addr = laddr, .length = len, .lkey = lkey };
	struct ibv_send_wr wr = {
		.wr_id = op, .sg_list = &sge, .num_sge = 1, .opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
	}, *bad;
	int e;

	if (op == IBV_WR_ATOMIC_FETCH_AND_ADD || op == IBV_WR_ATOMIC_CMP_AND_SWP) {
		wr.wr.atomic.remote_addr = raddr;
		wr.wr.atomic.rkey = rkey;
		wr.wr.atomic.compare_add = add;
		wr.wr.atomic.swap = swap;
	} else {
		wr.wr.rdma.remote_addr = raddr;
		wr.wr.rdma.rkey = rkey;
	}
	e = ibv_post_send(s->qp, &wr, &bad);
	if (e)
		return failed(s, what, e);
	return complete(s, what, NULL);
}

static uint64_t va(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* Recognisable bytes for a seed. */
static void pattern(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 37 + i * 7 + (i >> 8));
}

/* Runs role_a here and role_b in a forked child, connected by a socketpair. */
static void run_pair(const char *title, void (*role_a)(struct side *),
		     void (*role_b)(struct side *, void *), void *arg)
{
	int sv[2], st = 0;
	pid_t pid;

	printf("\n-- %s --\n", title);
	fflush(stdout);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		check(0, "socketpair: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid < 0) {
		check(0, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return;
	}
	if (pid == 0) {
		struct side b = { .name = 'B', .sock = sv[1] };

		close(sv[0]);
		role_b(&b, arg);
		close_side(&b);
		fflush(stdout);
		_exit(0);
	}
	close(sv[1]);
	struct side a = { .name = 'A', .sock = sv[0] };
	role_a(&a);
	close_side(&a);
	close(sv[0]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		check(0, "B (pid %d) ended abnormally (wait status %#x)", (int)pid, st);
}

/* B's offer carries its pid in value, for A's connection line. */
static int offer_b(struct side *s, struct msg *offer)
{
	offer->value = (uint64_t)getpid();
	return handshake_b(s, offer);
}

/* ---- device memory ---- */

#define DM_LEN 4096
#define DM_STEP 256	  /* bytes each transfer moves */
#define DM_ATOMIC_OFF 1024 /* the 64-bit word the atomics work on */
#define DM_RECV_OFF 2048   /* B's receive WQE on its DM */
#define DM_ACCESS (IBV_ACCESS_ZERO_BASED | ALL_ACCESS)
/* The first bytes of A's RDMA WRITE, which the device's trace shows when
 * B frees its DM (scripts/demo). */
static const char dm_marker[16] = "RDMA WRITE by A.";

static const struct dm_atomic {
	const char *what;
	enum ibv_wr_opcode op;
	uint64_t compare_add, swap, before, after;
} dm_atomics[2] = {
	{ "FETCH_AND_ADD +2", IBV_WR_ATOMIC_FETCH_AND_ADD, 2, 0, 40, 42 },
	{ "CMP_AND_SWP 42 -> 7", IBV_WR_ATOMIC_CMP_AND_SWP, 42, 7, 42, 7 },
};

static void dm_write_bytes(uint8_t *p)
{
	pattern(p, DM_STEP, 1);
	memcpy(p, dm_marker, sizeof(dm_marker));
}

static void dm_b(struct side *s, void *arg)
{
	struct ibv_alloc_dm_attr da = { .length = DM_LEN };
	struct ibv_dm *dm = NULL;
	struct ibv_mr *dmr = NULL;
	uint8_t want[DM_STEP], got[DM_STEP];
	struct ibv_wc wc;
	struct msg m = { 0 };
	uint64_t forty = 40;
	int e, ok;

	(void)arg;
	if (plain_side(s))
		return;
	dm = ibv_alloc_dm(s->ctx, &da);
	if (!dm) {
		failed(s, "ibv_alloc_dm", errno);
		return;
	}
	dmr = ibv_reg_dm_mr(s->pd, dm, 0, DM_LEN, DM_ACCESS);
	if (!dmr) {
		failed(s, "ibv_reg_dm_mr", errno);
		goto out;
	}
	if ((e = ibv_memcpy_to_dm(dm, DM_ATOMIC_OFF, &forty, 8))) {
		failed(s, "ibv_memcpy_to_dm", e);
		goto out;
	}
	printf("B: %d bytes of MEMIC (ibv_alloc_dm), a zero-based DM MR on them (rkey %#x), "
	       "40 at offset %d\n", DM_LEN, dmr->rkey, DM_ATOMIC_OFF);
	m.rkey = dmr->rkey;
	if (offer_b(s, &m) || post_recv(s, DM_RECV_OFF, DM_STEP, dmr->lkey, 1) || ready(s))
		goto out;

	/* A's RDMA WRITE at offset 0 */
	if (hear(s, &m))
		goto out;
	dm_write_bytes(want);
	e = ibv_memcpy_from_dm(got, dm, 0, DM_STEP);
	check(!e && !memcmp(got, want, DM_STEP),
	      "A RDMA WRITE %d bytes -> B's DM MR: B reads them back with ibv_memcpy_from_dm",
	      DM_STEP);
	if (answer(s, 0))
		goto out;
	/* the word the atomics changed, read by B: after FETCH_AND_ADD, CMP_AND_SWP */
	for (int i = 0; i < 2; i++) {
		if (hear(s, &m))
			goto out;
		m.value = 0;
		m.status = ibv_memcpy_from_dm(&m.value, dm, DM_ATOMIC_OFF, 8);
		if (tell(s, &m))
			goto out;
	}
	/* A's SEND into the receive WQE on the DM */
	if (hear(s, &m))
		goto out;
	pattern(want, DM_STEP, 2);
	ok = !complete(s, "B's receive into its DM MR", &wc);
	e = ibv_memcpy_from_dm(got, dm, DM_RECV_OFF, DM_STEP);
	check(ok && wc.byte_len == DM_STEP && !e && !memcmp(got, want, DM_STEP),
	      "A SEND %d bytes -> B's receive WQE on its DM MR: B reads them with ibv_memcpy_from_dm",
	      DM_STEP);
	if (answer(s, 0))
		goto out;
	/* SEND with the DM MR as local SGE */
	if (hear(s, &m) ||
	    answer(s, run_wqe(s, "B's SEND from its DM MR", IBV_WR_SEND, 0, DM_STEP, dmr->lkey, 0,
			      0, 0, 0)))
		goto out;
	/* RDMA WRITE with the DM MR as local SGE, to where A says */
	if (hear(s, &m) ||
	    answer(s, run_wqe(s, "B's RDMA WRITE from its DM MR", IBV_WR_RDMA_WRITE, 0, DM_STEP,
			      dmr->lkey, m.addr, m.rkey, 0, 0)))
		goto out;
	hear(s, &m); /* done */
out:
	if (dmr && (e = ibv_dereg_mr(dmr)))
		failed(s, "ibv_dereg_mr (DM MR)", e);
	if (dm && (e = ibv_free_dm(dm)))
		failed(s, "ibv_free_dm", e);
}

static void dm_a(struct side *s)
{
	uint8_t *src, *back, *from_b;
	uint64_t *result;
	struct msg m = { 0 };
	uint8_t want[DM_STEP];
	uint32_t rkey;

	if (plain_side(s) || handshake_a(s))
		return;
	src = s->buf;
	back = s->buf + 4096;
	from_b = s->buf + 12288;
	result = (uint64_t *)(s->buf + 8192);
	rkey = s->peer.rkey;
	dm_write_bytes(want);

	/* RDMA WRITE into B's DM (zero-based: the remote address is the offset) */
	dm_write_bytes(src);
	if (run_wqe(s, "A's RDMA WRITE", IBV_WR_RDMA_WRITE, va(src), DM_STEP, s->mr->lkey, 0, rkey,
		    0, 0) ||
	    ask(s, &m))
		return;
	/* RDMA READ back */
	if (run_wqe(s, "A's RDMA READ", IBV_WR_RDMA_READ, va(back), DM_STEP, s->mr->lkey, 0, rkey,
		    0, 0))
		return;
	check(!memcmp(back, want, DM_STEP), "A RDMA READ %d bytes <- B's DM MR: what A wrote",
	      DM_STEP);
	/* the atomics, on the word B set to 40 */
	for (int i = 0; i < 2; i++) {
		const struct dm_atomic *x = &dm_atomics[i];

		if (run_wqe(s, x->what, x->op, va(&result[i]), 8, s->mr->lkey, DM_ATOMIC_OFF, rkey,
			    x->compare_add, x->swap) ||
		    ask(s, &m))
			return;
		check(result[i] == x->before && m.status == 0 && m.value == x->after,
		      "A %s on B's DM MR: returned %llu, then B's ibv_memcpy_from_dm reads %llu",
		      x->what, (unsigned long long)result[i], (unsigned long long)m.value);
	}
	/* SEND into B's receive WQE on its DM */
	pattern(src, DM_STEP, 2);
	if (run_wqe(s, "A's SEND", IBV_WR_SEND, va(src), DM_STEP, s->mr->lkey, 0, 0, 0, 0) ||
	    ask(s, &m))
		return;
	/* B's SEND from its DM */
	if (post_recv(s, va(from_b), DM_STEP, s->mr->lkey, 2) || ask(s, &m) || m.status ||
	    complete(s, "A's receive of B's SEND", NULL))
		return;
	check(!memcmp(from_b, want, DM_STEP),
	      "B SEND %d bytes from its DM MR (local SGE) -> A's receive: intact", DM_STEP);
	/* B's RDMA WRITE from its DM */
	memset(from_b, 0, DM_STEP);
	m.addr = va(from_b);
	m.rkey = s->mr->rkey;
	if (ask(s, &m) || m.status)
		return;
	check(!memcmp(from_b, want, DM_STEP),
	      "B RDMA WRITE %d bytes from its DM MR (local SGE) -> A's MR: intact", DM_STEP);
	tell(s, &m); /* done */
}

void demo_dm(void)
{
	run_pair("device memory: a MEMIC DM MR as RDMA source and target", dm_a, dm_b, NULL);
}

/* ---- DMA handle ---- */

#define DMAH_LEN 4096
#define DMAH_WRITE 64
static const char dmah_text[] = "TPH-tagged RDMA WRITE from A";

static void dmah_write_bytes(uint8_t *p)
{
	pattern(p, DMAH_WRITE, 3);
	memcpy(p, dmah_text, sizeof(dmah_text));
}

static uint32_t first_cpu(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (uint32_t c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				return c;
	return 0;
}

/* A line from stdin (the host, through the guest's console): its length. */
static int read_line(void)
{
	int n = 0;
	char c;

	while (read(0, &c, 1) == 1 && c != '\n')
		n++;
	return n;
}

static void dmah_b(struct side *s, void *arg)
{
	const int wait_host = *(int *)arg;
	const uint32_t cpu = first_cpu();
	struct ibv_dmah_init_attr ha = {
		.comp_mask = IBV_DMAH_INIT_ATTR_MASK_PH | IBV_DMAH_INIT_ATTR_MASK_CPU_ID |
			     IBV_DMAH_INIT_ATTR_MASK_TPH_MEM_TYPE,
		.cpu_id = cpu, .ph = 2, .tph_mem_type = IBV_TPH_MEM_TYPE_VM,
	};
	struct ibv_dmah *dmah;
	struct ibv_mr *mr = NULL;
	uint8_t *mem = NULL, want[DMAH_WRITE];
	struct msg m = { 0 };
	int e;

	if (plain_side(s))
		return;
	dmah = ibv_alloc_dmah(s->ctx, &ha);
	if (!dmah) {
		failed(s, "ibv_alloc_dmah", errno);
		return;
	}
	mem = aligned_alloc(4096, DMAH_LEN);
	if (!mem) {
		failed(s, "aligned_alloc", ENOMEM);
		goto out;
	}
	memset(mem, 0, DMAH_LEN);
	struct ibv_mr_init_attr ma = {
		.length = DMAH_LEN, .access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE,
		.comp_mask = IBV_REG_MR_MASK_ADDR | IBV_REG_MR_MASK_DMAH, .addr = mem, .dmah = dmah,
	};
	mr = ibv_reg_mr_ex(s->pd, &ma);
	if (!mr) {
		failed(s, "ibv_reg_mr_ex with a DMA handle", errno);
		goto out;
	}
	printf("B: a DMA handle (ibv_alloc_dmah: PH 2, CPU %u, volatile memory), "
	       "an MR with it (ibv_reg_mr_ex, rkey %#x)\n", cpu, mr->rkey);
	m.addr = va(mem);
	m.rkey = mr->rkey;
	if (offer_b(s, &m) || ready(s) || hear(s, &m))
		goto out;
	dmah_write_bytes(want);
	check(!memcmp(mem, want, DMAH_WRITE) && mem[DMAH_WRITE] == 0,
	      "A RDMA WRITE %d bytes -> B's DMA-handle MR: B reads \"%s\"", DMAH_WRITE,
	      (const char *)mem);
	if (wait_host) {
		printf("HCASIM-DMAH-MR rkey=%#x addr=%#llx length=%d\n", mr->rkey,
		       (unsigned long long)va(mem), DMAH_LEN);
		fflush(stdout);
		check(read_line() > 0,
		      "B kept its MR registered until the host had read the device's counters for it");
	}
	if (answer(s, 0))
		goto out;
	hear(s, &m); /* done */
out:
	if (mr && (e = ibv_dereg_mr(mr)))
		failed(s, "ibv_dereg_mr (DMA-handle MR)", e);
	if ((e = ibv_dealloc_dmah(dmah)))
		failed(s, "ibv_dealloc_dmah", e);
	free(mem);
}

static void dmah_a(struct side *s)
{
	struct msg m = { 0 };

	if (plain_side(s) || handshake_a(s))
		return;
	dmah_write_bytes(s->buf);
	if (run_wqe(s, "A's RDMA WRITE", IBV_WR_RDMA_WRITE, va(s->buf), DMAH_WRITE, s->mr->lkey,
		    s->peer.addr, s->peer.rkey, 0, 0) ||
	    ask(s, &m))
		return;
	tell(s, &m); /* done */
}

void demo_dmah(int wait_host)
{
	run_pair("DMA handle: an MR with PCIe TPH hints as an RDMA WRITE target", dmah_a, dmah_b,
		 &wait_host);
}

/* ---- parent domain ---- */

#define PD_MSGS 4
static const uint32_t pd_sizes[PD_MSGS] = { 1024, 700, 300, 64 };
#define PD_BACK 512 /* B's SEND back */

/* Counts what the allocator handed out and got back, per resource type. */
struct pd_alloc {
	int given[4], back[4]; /* QP, CQ, SRQ, DBR */
	uint64_t fail;	       /* this type gets NULL */
};

static int res_index(uint64_t type)
{
	switch (type) {
	case MLX5DV_RES_TYPE_QP: return 0;
	case MLX5DV_RES_TYPE_CQ: return 1;
	case MLX5DV_RES_TYPE_SRQ: return 2;
	case MLX5DV_RES_TYPE_DBR: return 3;
	default: return -1;
	}
}

static void *pd_alloc(struct ibv_pd *pd, void *ctx, size_t size, size_t align, uint64_t type)
{
	struct pd_alloc *a = ctx;
	const int i = res_index(type);
	void *p = NULL;

	(void)pd;
	if (type == a->fail)
		return NULL;
	if (i < 0)
		return IBV_ALLOCATOR_USE_DEFAULT;
	if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size))
		return NULL;
	a->given[i]++;
	return p;
}

static void pd_free(struct ibv_pd *pd, void *ctx, void *ptr, uint64_t type)
{
	struct pd_alloc *a = ctx;
	const int i = res_index(type);

	(void)pd;
	if (i >= 0)
		a->back[i]++;
	free(ptr);
}

static struct ibv_cq *cq_on(struct side *s)
{
	struct ibv_cq_init_attr_ex a = {
		.cqe = 32, .wc_flags = IBV_WC_STANDARD_FLAGS,
		.comp_mask = IBV_CQ_INIT_ATTR_MASK_PD, .parent_domain = s->parent,
	};
	struct ibv_cq_ex *cq = ibv_create_cq_ex(s->ctx, &a);

	return cq ? ibv_cq_ex_to_cq(cq) : NULL;
}

static struct ibv_srq *srq_on(struct side *s)
{
	struct ibv_srq_init_attr a = { .attr = { .max_wr = 16, .max_sge = 1 } };

	return ibv_create_srq(s->parent, &a);
}

/* The allocator-backed CQ, SRQ and QP of B, and what NULL from it does. */
static void pd_b(struct side *s, void *arg)
{
	struct pd_alloc al = { { 0 } };
	struct ibv_td_init_attr ta = { 0 };
	struct ibv_wc wc;
	struct msg m = { 0 };
	uint8_t want[1024];
	int e, ok = 1, n = 0;

	(void)arg;
	if (open_side(s))
		return;
	s->td = ibv_alloc_td(s->ctx, &ta);
	if (!s->td) {
		failed(s, "ibv_alloc_td", errno);
		return;
	}
	struct ibv_parent_domain_init_attr pa = {
		.pd = s->pd, .td = s->td,
		.comp_mask = IBV_PARENT_DOMAIN_INIT_ATTR_ALLOCATORS |
			     IBV_PARENT_DOMAIN_INIT_ATTR_PD_CONTEXT,
		.alloc = pd_alloc, .free = pd_free, .pd_context = &al,
	};
	s->parent = ibv_alloc_parent_domain(s->ctx, &pa);
	if (!s->parent) {
		failed(s, "ibv_alloc_parent_domain", errno);
		return;
	}
	s->cq = cq_on(s);
	if (!s->cq) {
		failed(s, "ibv_create_cq_ex on the parent domain", errno);
		return;
	}
	s->srq = srq_on(s);
	if (!s->srq) {
		failed(s, "ibv_create_srq on the parent domain", errno);
		return;
	}
	if (make_qp(s, s->parent) || reg_buffer(s, s->parent))
		return;
	for (int i = 0; i < PD_MSGS; i++)
		if (post_recv(s, va(s->buf + 1024 * i), 1024, s->mr->lkey, (uint64_t)i))
			return;
	printf("B: a parent domain (PD, thread domain, alloc/free callbacks) with a CQ "
	       "(ibv_create_cq_ex), an SRQ, an RC QP on that SRQ and an MR on it\n");
	printf("B: its allocator handed out %d QP, %d CQ and %d SRQ buffers and %d doorbell records "
	       "(MLX5DV_RES_TYPE_QP/CQ/SRQ/DBR)\n", al.given[0], al.given[1], al.given[2],
	       al.given[3]);
	check(al.given[0] == 1 && al.given[1] == 1 && al.given[2] == 1 && al.given[3] == 3,
	      "B: every ring and doorbell record of its QP, CQ and SRQ came from the allocator");
	if (offer_b(s, &m) || ready(s))
		return;

	/* A's SENDs, received through the SRQ */
	if (hear(s, &m))
		return;
	for (n = 0; n < PD_MSGS && ok; n++) {
		ok = !complete(s, "B's receive through its SRQ", &wc) && wc.opcode == IBV_WC_RECV &&
		     wc.wr_id < PD_MSGS && wc.byte_len == pd_sizes[wc.wr_id];
		if (ok) {
			pattern(want, wc.byte_len, 10 + (unsigned)wc.wr_id);
			ok = !memcmp(s->buf + 1024 * wc.wr_id, want, wc.byte_len);
		}
	}
	check(ok, "A SEND %d messages -> B's QP: B took them from its SRQ, polled %d CQEs, data intact",
	      PD_MSGS, n);
	if (answer(s, 0) || hear(s, &m))
		return;
	/* B's SEND back, from its allocator-backed send queue */
	pattern(s->buf + 8192, PD_BACK, 20);
	if (answer(s, run_wqe(s, "B's SEND", IBV_WR_SEND, va(s->buf + 8192), PD_BACK, s->mr->lkey,
			      0, 0, 0, 0)) ||
	    hear(s, &m))
		return;

	/* done: everything goes back to the allocator */
	e = ibv_destroy_qp(s->qp);
	s->qp = NULL;
	e = e ? e : ibv_destroy_srq(s->srq);
	s->srq = NULL;
	e = e ? e : ibv_destroy_cq(s->cq);
	s->cq = NULL;
	if (e) {
		failed(s, "destroying the QP, SRQ and CQ", e);
		return;
	}
	check(!memcmp(al.given, al.back, sizeof(al.given)),
	      "B destroyed QP, SRQ and CQ: the allocator got all %d buffers back",
	      al.given[0] + al.given[1] + al.given[2] + al.given[3]);

	/* an allocator that returns NULL */
	struct ibv_cq *cq;
	struct ibv_srq *srq;
	int cq_err, srq_err, qp_err = 0;

	al.fail = MLX5DV_RES_TYPE_CQ;
	errno = 0;
	cq = cq_on(s);
	cq_err = cq ? 0 : errno;
	al.fail = MLX5DV_RES_TYPE_SRQ;
	errno = 0;
	srq = srq_on(s);
	srq_err = srq ? 0 : errno;
	al.fail = 0;
	s->cq = cq ? cq : cq_on(s);
	al.fail = MLX5DV_RES_TYPE_QP;
	errno = 0;
	if (s->cq) {
		s->qp = rc_qp(s->parent, s->cq, NULL); /* destroyed by close_side if it was made */
		qp_err = s->qp ? 0 : errno;
	}
	ok = cq_err == ENOMEM && srq_err == ENOMEM && qp_err == ENOMEM;
	check(ok, "B's allocator returning NULL: ibv_create_cq_ex, ibv_create_srq and ibv_create_qp "
		  "fail with ENOMEM%s%s%s%s%s%s%s", ok ? "" : " (got: ", ok ? "" : strerror(cq_err),
	      ok ? "" : ", ", ok ? "" : strerror(srq_err), ok ? "" : ", ",
	      ok ? "" : strerror(qp_err), ok ? "" : ")");
	if (srq && (e = ibv_destroy_srq(srq)))
		failed(s, "ibv_destroy_srq", e);
}

static void pd_a(struct side *s)
{
	uint8_t *back, want[PD_BACK];
	struct msg m = { 0 };

	if (plain_side(s) || handshake_a(s))
		return;
	back = s->buf + 8192;
	for (int i = 0; i < PD_MSGS; i++) {
		pattern(s->buf + 1024 * i, pd_sizes[i], 10 + (unsigned)i);
		if (run_wqe(s, "A's SEND", IBV_WR_SEND, va(s->buf + 1024 * i), pd_sizes[i],
			    s->mr->lkey, 0, 0, 0, 0))
			return;
	}
	if (ask(s, &m) || post_recv(s, va(back), PD_BACK, s->mr->lkey, 9) || ask(s, &m) ||
	    m.status || complete(s, "A's receive of B's SEND", NULL))
		return;
	pattern(want, PD_BACK, 20);
	check(!memcmp(back, want, PD_BACK),
	      "B SEND %d bytes from its parent-domain QP -> A's receive: intact", PD_BACK);
	tell(s, &m); /* done */
}

void demo_parent_domain(void)
{
	run_pair("parent domain: custom allocators behind the queues that carry the traffic", pd_a,
		 pd_b, NULL);
}
