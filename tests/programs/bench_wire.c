/*
 * bench_wire: the host-direct wire figure of scripts/bench.
 *
 *   HCASIM_SOCKET=A:B bench_wire N
 *
 * Two hcasim devices whose ports share one link (hcasim-device --port
 * ptp://PATH --ipv4 ...).  An RC QP on each, connected over their RoCE v2
 * IPv4 GIDs (index 1); N RDMA WRITEs of 1 MiB from device 0 into device 1
 * (16 outstanding; every byte crosses the link as RoCEv2 frames), then N
 * memcpy()s of 1 MiB between the same buffers.  Prints
 *   write_gbps <10^9 bytes per second of WRITE payload>
 *   memcpy_gbps <10^9 bytes per second of memcpy>
 * and checks that the last WRITE's bytes arrived.  Exit status 0, or 1
 * with a reason on stderr.
 */
#include <infiniband/verbs.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIB (1u << 20)
#define DEPTH 16

#define BENCH_NAME "bench_wire"
#include "bench_common.h"

struct side {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_mr *mr;
	uint8_t *buf;
	union ibv_gid gid;
};

static int open_side(struct ibv_device *dev, struct side *s)
{
	struct ibv_qp_init_attr qa;

	s->ctx = ibv_open_device(dev);
	if (!s->ctx)
		return die("ibv_open_device");
	s->pd = ibv_alloc_pd(s->ctx);
	s->cq = ibv_create_cq(s->ctx, 2 * DEPTH, NULL, NULL, 0);
	if (!s->pd || !s->cq)
		return die("ibv_alloc_pd/ibv_create_cq");
	memset(&qa, 0, sizeof(qa));
	qa.send_cq = qa.recv_cq = s->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = DEPTH;
	qa.cap.max_recv_wr = 1;
	qa.cap.max_send_sge = qa.cap.max_recv_sge = 1;
	s->qp = ibv_create_qp(s->pd, &qa);
	s->buf = malloc(DEPTH * MIB);
	if (!s->qp || !s->buf)
		return die("ibv_create_qp/malloc");
	memset(s->buf, 0, DEPTH * MIB);
	s->mr = ibv_reg_mr(s->pd, s->buf, DEPTH * MIB, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	if (!s->mr)
		return die("ibv_reg_mr");
	if (ibv_query_gid(s->ctx, 1, 1, &s->gid))
		return die("ibv_query_gid");
	return 0;
}

int main(int argc, char **argv)
{
	struct ibv_device **list;
	struct side s[2];
	int n = 0, posted = 0, done = 0, total = argc > 1 ? atoi(argv[1]) : 256;
	double t0, t1;

	if (total < 1)
		total = 256;
	list = ibv_get_device_list(&n);
	if (!list || n < 2) {
		fprintf(stderr, "bench_wire: need two devices (HCASIM_SOCKET=A:B), found %d\n", n);
		return 1;
	}
	memset(s, 0, sizeof(s));
	if (open_side(list[0], &s[0]) || open_side(list[1], &s[1]))
		return 1;
	if (bench_connect(s[0].qp, &s[1].gid, s[1].qp->qp_num, IBV_ACCESS_REMOTE_WRITE) ||
	    bench_connect(s[1].qp, &s[0].gid, s[0].qp->qp_num, IBV_ACCESS_REMOTE_WRITE))
		return die("ibv_modify_qp");
	for (unsigned i = 0; i < DEPTH * MIB; i++)
		s[0].buf[i] = (uint8_t)(i * 7 + i / MIB);

	t0 = now();
	while (done < total) {
		struct ibv_wc wc[DEPTH];
		int got;

		while (posted < total && posted - done < DEPTH) {
			unsigned slot = posted % DEPTH;
			struct ibv_sge sge = { (uintptr_t)s[0].buf + slot * MIB, MIB, s[0].mr->lkey };
			struct ibv_send_wr wr, *bad;

			memset(&wr, 0, sizeof(wr));
			wr.wr_id = posted;
			wr.sg_list = &sge;
			wr.num_sge = 1;
			wr.opcode = IBV_WR_RDMA_WRITE;
			wr.send_flags = IBV_SEND_SIGNALED;
			wr.wr.rdma.remote_addr = (uintptr_t)s[1].buf + slot * MIB;
			wr.wr.rdma.rkey = s[1].mr->rkey;
			if (ibv_post_send(s[0].qp, &wr, &bad))
				return die("ibv_post_send");
			posted++;
		}
		got = ibv_poll_cq(s[0].cq, DEPTH, wc);
		if (got < 0)
			return die("ibv_poll_cq");
		for (int i = 0; i < got; i++) {
			if (wc[i].status != IBV_WC_SUCCESS) {
				fprintf(stderr, "bench_wire: WRITE %llu: %s\n",
					(unsigned long long)wc[i].wr_id, ibv_wc_status_str(wc[i].status));
				return 1;
			}
		}
		done += got;
	}
	t1 = now();
	if (memcmp(s[0].buf, s[1].buf, DEPTH * MIB)) {
		fprintf(stderr, "bench_wire: the written bytes differ\n");
		return 1;
	}
	printf("write_gbps %.4f\n", (double)total * MIB / (t1 - t0) / 1e9);

	t0 = now();
	for (int i = 0; i < total; i++) {
		unsigned slot = i % DEPTH;

		memcpy(s[1].buf + slot * MIB, s[0].buf + ((slot + 1) % DEPTH) * MIB, MIB);
		__asm__ __volatile__("" : : "r"(s[1].buf) : "memory");
	}
	t1 = now();
	printf("memcpy_gbps %.4f\n", (double)total * MIB / (t1 - t0) / 1e9);

	for (int i = 0; i < 2; i++) {
		ibv_destroy_qp(s[i].qp);
		ibv_dereg_mr(s[i].mr);
		ibv_destroy_cq(s[i].cq);
		ibv_dealloc_pd(s[i].pd);
		ibv_close_device(s[i].ctx);
		free(s[i].buf);
	}
	ibv_free_device_list(list);
	return 0;
}
