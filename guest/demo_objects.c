/*
 * hcasim-demo-objects: the main job's second guest program
 * (scripts/demo-objects), written against rdma-core's <infiniband/verbs.h>
 * and <infiniband/mlx5dv.h>:
 *  - parent and thread domains: the references they hold (EBUSY);
 *  - a DM MR: zero-based only, ibv_free_dm -> EBUSY while it lives;
 *  - DMA handles: their checks and EBUSY, then an MR with one as the target
 *    of an RDMA WRITE between two processes (guest/demo_traffic.c); with
 *    --wait-host the MR's owner announces it ("HCASIM-DMAH-MR ...") and
 *    keeps it until the host, which meanwhile reads the device's counters
 *    and TPH tag for it through the inspection socket, sends a line on the
 *    console;
 *  - every mlx5dv device-memory type, including EPERM on an unprivileged
 *    function, and the MEMIC operation addresses.
 * Usage: hcasim-demo-objects [--unprivileged] [--wait-host]
 * Exit status 0 when every check passed.
 */
#include "demo_traffic.h"

#include <infiniband/mlx5dv.h>
#include <infiniband/verbs.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static void domains(struct ibv_context *ctx, struct ibv_pd *pd)
{
	struct ibv_td_init_attr ta = { 0 };
	struct ibv_td *td = ibv_alloc_td(ctx, &ta);
	struct ibv_parent_domain_init_attr pa = { .pd = pd, .td = td };
	struct ibv_pd *pad;

	printf("\n-- parent and thread domains --\n");
	check(td != NULL, "ibv_alloc_td");
	pad = ibv_alloc_parent_domain(ctx, &pa);
	check(pad != NULL, "ibv_alloc_parent_domain (PD + thread domain)");
	if (!pad)
		return;
	check(ibv_dealloc_td(td) == EBUSY, "ibv_dealloc_td while the parent domain holds it -> EBUSY");
	check(ibv_dealloc_pd(pd) == EBUSY, "ibv_dealloc_pd of its PD -> EBUSY");
	check(ibv_dealloc_pd(pad) == 0, "ibv_dealloc_pd(parent domain)");
	check(ibv_dealloc_td(td) == 0, "ibv_dealloc_td");
}

static void dm_mr(struct ibv_context *ctx, struct ibv_pd *pd)
{
	struct ibv_alloc_dm_attr da = { .length = 4096 };
	struct ibv_dm *dm = ibv_alloc_dm(ctx, &da);
	struct ibv_mr *mr;

	printf("\n-- DM MR --\n");
	check(dm != NULL, "ibv_alloc_dm 4096");
	if (!dm)
		return;
	errno = 0;
	check(!ibv_reg_dm_mr(pd, dm, 0, 4096, IBV_ACCESS_LOCAL_WRITE) && errno == EINVAL,
	      "ibv_reg_dm_mr without IBV_ACCESS_ZERO_BASED -> EINVAL");
	mr = ibv_reg_dm_mr(pd, dm, 0, 4096,
			   IBV_ACCESS_ZERO_BASED | IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
			   IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC);
	check(mr && mr->addr == NULL, "ibv_reg_dm_mr zero-based, addr NULL");
	if (mr)
		printf("   DM MR lkey 0x%x rkey 0x%x length %zu\n", mr->lkey, mr->rkey, mr->length);
	check(ibv_free_dm(dm) == EBUSY, "ibv_free_dm with a live MR -> EBUSY");
	check(mr && ibv_dereg_mr(mr) == 0, "ibv_dereg_mr");
	check(ibv_free_dm(dm) == 0, "ibv_free_dm");
}

static void dmah_rules(struct ibv_context *ctx, struct ibv_pd *pd)
{
	struct ibv_dmah_init_attr ha = {
		.comp_mask = IBV_DMAH_INIT_ATTR_MASK_PH | IBV_DMAH_INIT_ATTR_MASK_CPU_ID |
			     IBV_DMAH_INIT_ATTR_MASK_TPH_MEM_TYPE,
		.cpu_id = 0, .ph = 2, .tph_mem_type = IBV_TPH_MEM_TYPE_VM,
	};
	struct ibv_dmah *dmah;
	struct ibv_mr *mr;
	static char buf[4096];

	printf("\n-- DMA handle (PCIe TPH) --\n");
	dmah = ibv_alloc_dmah(ctx, &ha);
	check(dmah != NULL, "ibv_alloc_dmah(ph 2, cpu 0, volatile memory)");
	ha.ph = 4;
	errno = 0;
	check(!ibv_alloc_dmah(ctx, &ha) && errno == EINVAL, "ph 4 -> EINVAL");
	if (!dmah)
		return;
	struct ibv_mr_init_attr ma = {
		.length = sizeof(buf), .access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE,
		.comp_mask = IBV_REG_MR_MASK_ADDR | IBV_REG_MR_MASK_DMAH, .addr = buf, .dmah = dmah,
	};
	mr = ibv_reg_mr_ex(pd, &ma);
	check(mr != NULL, "ibv_reg_mr_ex with the DMA handle");
	if (!mr)
		return;
	check(ibv_dealloc_dmah(dmah) == EBUSY, "ibv_dealloc_dmah while an MR uses it -> EBUSY");
	check(ibv_dereg_mr(mr) == 0, "ibv_dereg_mr");
	check(ibv_dealloc_dmah(dmah) == 0, "ibv_dealloc_dmah");
}

static void mlx5dv_types(struct ibv_context *ctx, struct ibv_pd *pd, int privileged)
{
	static const char *names[] = { "MEMIC", "STEERING_SW_ICM", "HEADER_MODIFY_SW_ICM",
				       "HEADER_MODIFY_PATTERN_SW_ICM", "ENCAP_SW_ICM" };
	char what[128];

	printf("\n-- mlx5dv device memory (%s function) --\n", privileged ? "privileged" : "unprivileged");
	check(mlx5dv_is_supported(ctx->device), "mlx5dv_is_supported");
	for (int t = 0; t <= 4; t++) {
		struct ibv_alloc_dm_attr a = { .length = 5000 };
		struct mlx5dv_alloc_dm_attr m = { .type = t };
		struct ibv_dm *dm;

		errno = 0;
		dm = mlx5dv_alloc_dm(ctx, &a, &m);
		if (t > 0 && !privileged) {
			snprintf(what, sizeof(what), "%s on an unprivileged function -> EPERM", names[t]);
			check(!dm && errno == EPERM, "%s", what);
			continue;
		}
		snprintf(what, sizeof(what), "mlx5dv_alloc_dm %s 5000 bytes", names[t]);
		check(dm != NULL, "%s", what);
		if (!dm)
			continue;
		struct mlx5dv_dm out = { .comp_mask = MLX5DV_DM_MASK_REMOTE_VA };
		struct mlx5dv_obj obj = { .dm = { .in = dm, .out = &out } };
		mlx5dv_init_obj(&obj, MLX5DV_OBJ_DM);
		printf("   %-28s buf %p length %llu remote_va 0x%llx\n", names[t], out.buf,
		       (unsigned long long)out.length, (unsigned long long)out.remote_va);
		if (t > 0) {
			struct ibv_mr *mr = ibv_reg_dm_mr(pd, dm, 0, 4096,
							  IBV_ACCESS_ZERO_BASED | IBV_ACCESS_LOCAL_WRITE |
							  IBV_ACCESS_REMOTE_WRITE);
			check(out.buf == NULL && out.remote_va != 0 && !dm->memcpy_to_dm,
			      "SW ICM: remote_va, not CPU-mapped");
			check(mr != NULL, "SW ICM DM MR");
			if (mr)
				ibv_dereg_mr(mr);
		} else {
			volatile uint64_t *inc = mlx5dv_dm_map_op_addr(dm, 0);
			volatile uint32_t *tas = mlx5dv_dm_map_op_addr(dm, 1);
			uint64_t v = 0;
			uint32_t first, second;

			check(inc && tas, "mlx5dv_dm_map_op_addr ops 0 and 1");
			if (inc && tas) {
				inc[1] = 40; /* atomic increment: each write adds */
				inc[1] = 2;
				ibv_memcpy_from_dm(&v, dm, 8, 8);
				printf("   op 0 (atomic increment): wrote 40 and 2, DM holds %llu\n",
				       (unsigned long long)v);
				check(v == 42, "atomic increment adds");
				first = tas[8];
				second = tas[8];
				printf("   op 1 (test-and-set): reads %u then %u\n", first, second);
				check(first == 0 && second == 1, "test-and-set returns the old value and sets 1");
			}
			errno = 0;
			check(!mlx5dv_dm_map_op_addr(dm, 9) && errno == EOPNOTSUPP, "unsupported op -> EOPNOTSUPP");
		}
		ibv_free_dm(dm);
	}
}

/* With --wait-host the host writes a line to the console: no echo of it
 * (and plain "\n" line ends, as without a terminal on stdin). */
static struct termios saved_tty;
static int tty_changed;

static void quiet_console(void)
{
	struct termios t;

	if (!isatty(0) || tcgetattr(0, &saved_tty))
		return;
	t = saved_tty;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	t.c_oflag &= ~(tcflag_t)ONLCR;
	tty_changed = !tcsetattr(0, TCSANOW, &t);
}

int main(int argc, char **argv)
{
	int privileged = 1, wait_host = 0, failures;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--unprivileged")) {
			privileged = 0;
		} else if (!strcmp(argv[i], "--wait-host")) {
			wait_host = 1;
		} else {
			fprintf(stderr, "usage: hcasim-demo-objects [--unprivileged] [--wait-host]\n");
			return 2;
		}
	}
	if (demo_init())
		return 1;
	if (wait_host)
		quiet_console();
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_context *ctx = list && list[0] ? ibv_open_device(list[0]) : NULL;
	if (list)
		ibv_free_device_list(list);
	if (!ctx) {
		fprintf(stderr, "hcasim-demo-objects: no device: %s\n", strerror(errno));
		return 1;
	}
	struct ibv_pd *pd = ibv_alloc_pd(ctx);
	struct ibv_pd *pd2 = ibv_alloc_pd(ctx);

	if (privileged) {
		domains(ctx, pd2);
		dm_mr(ctx, pd);
		dmah_rules(ctx, pd);
	}
	mlx5dv_types(ctx, pd, privileged);
	check(ibv_dealloc_pd(pd) == 0, "ibv_dealloc_pd");
	if (pd2)
		ibv_dealloc_pd(pd2);
	ibv_close_device(ctx);
	if (privileged)
		demo_dmah(wait_host);
	printf("\n");
	failures = demo_summary("hcasim-demo-objects");
	if (tty_changed)
		tcsetattr(0, TCSANOW, &saved_tty);
	return failures ? 1 : 0;
}
