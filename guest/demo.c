/*
 * hcasim-demo: the main job's guest program (scripts/demo).  Two processes
 * of the guest connect RC QPs on the one HCA and show the seed objects
 * carrying RDMA traffic between them, checking every byte that moved
 * (guest/demo_traffic.c):
 *  - a MEMIC DM MR as local SGE and remote target of send, write, read and
 *    atomics;
 *  - an MR with a DMA handle as the target of an RDMA WRITE;
 *  - a parent domain whose allocators back the CQ, SRQ and QP in use.
 * Written only against rdma-core's headers.  Guest-only: host-direct, the
 * device serves one process at a time.
 * Exit status 0 when every check passed, 1 otherwise.
 */
#include "demo_traffic.h"

#include <infiniband/verbs.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The HCA and its device-memory size, from a context of its own. */
static int show_device(void)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_context *ctx = list && list[0] ? ibv_open_device(list[0]) : NULL;
	struct ibv_device_attr_ex attr;
	int e = ctx ? ibv_query_device_ex(ctx, NULL, &attr) : errno ? errno : ENODEV;

	if (!e)
		printf("hcasim-demo: %s (%s), firmware %s, max_dm_size %llu bytes\n",
		       ibv_get_device_name(list[0]), list[0]->dev_path, attr.orig_attr.fw_ver,
		       (unsigned long long)attr.max_dm_size);
	else
		fprintf(stderr, "hcasim-demo: no usable RDMA device: %s\n", strerror(e));
	if (ctx)
		ibv_close_device(ctx);
	if (list)
		ibv_free_device_list(list);
	return e;
}

int main(void)
{
	if (demo_init() || show_device())
		return 1;
	demo_dm();
	demo_dmah(0);
	demo_parent_domain();
	printf("\n");
	return demo_summary("hcasim-demo") ? 1 : 0;
}
