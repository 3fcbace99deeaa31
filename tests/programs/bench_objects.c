/*
 * bench_objects: two host-direct figures of scripts/bench.
 *
 *   bench_objects objects N   open the device, print "opened", wait for a
 *                             line on stdin; create N CQs (256 CQEs) and N
 *                             RC QPs (128 send and 128 receive WQEs, one
 *                             CQ each), each QP moved to RTS connected to
 *                             itself over GID 1; print "created N", wait
 *                             for a line; destroy everything, print
 *                             "destroyed".  scripts/bench reads the device
 *                             process's VmRSS at "opened" and "created".
 *   bench_objects fwcmds N    N rounds of ibv_alloc_pd + ibv_dealloc_pd
 *                             (two firmware commands each), three times;
 *                             prints "fwcmds <commands per second>" for
 *                             the fastest of the three.
 * Exit status 0, or 1 with a reason on stderr.
 */
#include <infiniband/verbs.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_NAME "bench_objects"
#include "bench_common.h"

static void wait_line(void)
{
	char line[64];

	if (!fgets(line, sizeof(line), stdin))
		exit(1);
}

/* RESET -> INIT -> RTR -> RTS, the remote end being the QP itself. */
static int to_rts(struct ibv_qp *qp)
{
	union ibv_gid gid;

	if (ibv_query_gid(qp->context, 1, 1, &gid))
		return -1;
	return bench_connect(qp, &gid, qp->qp_num, IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ);
}

static int objects(struct ibv_context *ctx, struct ibv_pd *pd, int n)
{
	struct ibv_cq **cq = calloc(n, sizeof(*cq));
	struct ibv_qp **qp = calloc(n, sizeof(*qp));

	if (!cq || !qp)
		return die("calloc");
	printf("opened\n");
	fflush(stdout);
	wait_line();
	for (int i = 0; i < n; i++) {
		struct ibv_qp_init_attr init = {
			.qp_type = IBV_QPT_RC,
			.cap = { .max_send_wr = 128, .max_recv_wr = 128,
				 .max_send_sge = 1, .max_recv_sge = 1 },
		};

		cq[i] = ibv_create_cq(ctx, 256, NULL, NULL, 0);
		if (!cq[i])
			return die("ibv_create_cq");
		init.send_cq = init.recv_cq = cq[i];
		qp[i] = ibv_create_qp(pd, &init);
		if (!qp[i])
			return die("ibv_create_qp");
		if (to_rts(qp[i]))
			return die("ibv_modify_qp");
	}
	printf("created %d\n", n);
	fflush(stdout);
	wait_line();
	for (int i = 0; i < n; i++)
		if (ibv_destroy_qp(qp[i]) || ibv_destroy_cq(cq[i]))
			return die("destroy");
	free(qp);
	free(cq);
	printf("destroyed\n");
	return 0;
}

static int fwcmds(struct ibv_context *ctx, int n)
{
	double best = 0;

	for (int round = 0; round < 3; round++) {
		double t0 = now();

		for (int i = 0; i < n; i++) {
			struct ibv_pd *pd = ibv_alloc_pd(ctx);

			if (!pd)
				return die("ibv_alloc_pd");
			if (ibv_dealloc_pd(pd))
				return die("ibv_dealloc_pd");
		}
		double rate = 2.0 * n / (now() - t0);
		if (rate > best)
			best = rate;
	}
	printf("fwcmds %.0f\n", best);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[1], "objects") && strcmp(argv[1], "fwcmds"))) {
		fprintf(stderr, "usage: bench_objects objects|fwcmds N\n");
		return 2;
	}
	int n = atoi(argv[2]);
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_context *ctx = list && list[0] ? ibv_open_device(list[0]) : NULL;

	if (!ctx)
		return die("no device");
	struct ibv_pd *pd = ibv_alloc_pd(ctx);
	if (!pd)
		return die("ibv_alloc_pd");
	int rc = strcmp(argv[1], "objects") ? fwcmds(ctx, n) : objects(ctx, pd, n);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	ibv_free_device_list(list);
	return rc;
}
