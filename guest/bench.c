/*
 * hcasim-bench: device-memory bandwidth as ratios measured in one run.
 *   write ratio = ibv_memcpy_to_dm bandwidth   / memcpy-to-RAM bandwidth
 *   read ratio  = ibv_memcpy_from_dm bandwidth / memcpy-from-RAM bandwidth
 * Each figure is the best of several rounds of a fixed byte count, so the
 * ratio compares like with like on whatever machine runs it.
 * Output: "bench <name> <MB/s>" lines and "ratio <name> <value>" lines.
 */
#include <infiniband/verbs.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUF (64 * 1024)
#define ROUNDS 7
#define TOTAL (32u * 1024 * 1024) /* bytes per round */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef int (*copy_fn)(void *ctx, void *buf);

static double best_mbps(copy_fn fn, void *ctx, void *buf)
{
	double best = 0;

	for (int r = 0; r < ROUNDS; r++) {
		double t0 = now();
		for (unsigned done = 0; done < TOTAL; done += BUF)
			if (fn(ctx, buf))
				return -1;
		double mbps = TOTAL / (now() - t0) / 1e6;
		if (mbps > best)
			best = mbps;
	}
	return best;
}

static volatile uint8_t sink;
static uint8_t *ram;

static int ram_write(void *ctx, void *buf) { (void)ctx; memcpy(ram, buf, BUF); sink = ram[BUF - 1]; return 0; }
static int ram_read(void *ctx, void *buf) { (void)ctx; memcpy(buf, ram, BUF); sink = ((uint8_t *)buf)[7]; return 0; }
static int dm_write(void *ctx, void *buf) { return ibv_memcpy_to_dm(ctx, 0, buf, BUF); }
static int dm_read(void *ctx, void *buf) { return ibv_memcpy_from_dm(buf, ctx, 0, BUF); }

int main(void)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_context *ctx = list && list[0] ? ibv_open_device(list[0]) : NULL;
	struct ibv_alloc_dm_attr a = { .length = BUF };
	struct ibv_dm *dm;
	uint8_t *buf = aligned_alloc(4096, BUF);

	ram = aligned_alloc(4096, BUF);
	if (!ctx || !buf || !ram || !(dm = ibv_alloc_dm(ctx, &a))) {
		fprintf(stderr, "hcasim-bench: setup failed: %s\n", strerror(errno));
		return 1;
	}
	memset(buf, 0xa5, BUF);
	memset(ram, 0x5a, BUF);
	double rw = best_mbps(ram_write, NULL, buf), rr = best_mbps(ram_read, NULL, buf);
	double dw = best_mbps(dm_write, dm, buf), dr = best_mbps(dm_read, dm, buf);
	printf("bench ram_write_MBps %.0f\nbench ram_read_MBps %.0f\n", rw, rr);
	printf("bench dm_write_MBps %.0f\nbench dm_read_MBps %.0f\n", dw, dr);
	printf("ratio dm_write_over_memcpy %.3f\nratio dm_read_over_memcpy %.3f\n", dw / rw, dr / rr);
	ibv_free_dm(dm);
	ibv_close_device(ctx);
	ibv_free_device_list(list);
	return dw > 0 && dr > 0 ? 0 : 1;
}
