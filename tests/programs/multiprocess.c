/*
 * multiprocess: several processes use the HCA at once, each through its
 * own context (command channel); a process killed while holding device
 * memory, an MR and a PD gets them reclaimed.  Guest-only (host-direct
 * serves one client at a time).  Prints ok/FAIL lines and a summary.
 */
#include <infiniband/verbs.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORKERS 4

static int fails, total;

static void expect(int ok, const char *what)
{
	total++;
	fails += !ok;
	printf("%s %s\n", ok ? "ok  " : "FAIL", what);
	fflush(stdout);
}

static struct ibv_context *open_first(void)
{
	struct ibv_device **l = ibv_get_device_list(NULL);
	struct ibv_context *c = l && l[0] ? ibv_open_device(l[0]) : NULL;

	ibv_free_device_list(l);
	return c;
}

/* A worker: its own context, PD, MR and DM; checks nobody else's bytes
 * show up in its DM while the others run. */
static int worker(int id)
{
	struct ibv_context *ctx = open_first();
	struct ibv_alloc_dm_attr a = { .length = 4096 };
	uint32_t pat[1024], back[1024];
	char buf[8192];

	if (!ctx)
		return 10;
	struct ibv_pd *pd = ibv_alloc_pd(ctx);
	struct ibv_dm *dm = ibv_alloc_dm(ctx, &a);
	struct ibv_mr *mr = pd ? ibv_reg_mr(pd, buf, sizeof(buf), IBV_ACCESS_LOCAL_WRITE) : NULL;
	if (!pd || !dm || !mr)
		return 11;
	for (int i = 0; i < 1024; i++)
		pat[i] = (uint32_t)(id << 24 | getpid() << 8 | (i & 0xff));
	for (int round = 0; round < 20; round++) {
		if (ibv_memcpy_to_dm(dm, 0, pat, sizeof(pat)) || ibv_memcpy_from_dm(back, dm, 0, sizeof(back)))
			return 12;
		if (memcmp(pat, back, sizeof(pat)))
			return 13;
		usleep(1000);
	}
	if (ibv_dereg_mr(mr) || ibv_free_dm(dm) || ibv_dealloc_pd(pd) || ibv_close_device(ctx))
		return 14;
	return 0;
}

int main(void)
{
	pid_t pids[WORKERS];
	struct ibv_context *ctx;
	struct ibv_device_attr_ex attr;
	char what[96];

	for (int i = 0; i < WORKERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(worker(i));
	}
	for (int i = 0; i < WORKERS; i++) {
		int st = 0;
		waitpid(pids[i], &st, 0);
		snprintf(what, sizeof(what), "worker %d ran concurrently (exit %d)", i,
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, what);
	}

	/* Forked children using their parent's context (as pyverbs' tests
	 * do): each gets its own command channel transparently. */
	ctx = open_first();
	struct ibv_pd *ppd = ctx ? ibv_alloc_pd(ctx) : NULL;
	expect(ppd != NULL, "parent context and PD");
	for (int i = 0; i < 3; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			struct ibv_alloc_dm_attr a = { .length = 1024 };
			struct ibv_dm *dm = ibv_alloc_dm(ctx, &a);
			uint32_t v = 0x5a5a0000u + (uint32_t)i, back = 0;
			if (!dm || ibv_memcpy_to_dm(dm, 0, &v, 4) || ibv_memcpy_from_dm(&back, dm, 0, 4) ||
			    back != v || ibv_free_dm(dm))
				_exit(20);
			struct ibv_pd *cpd = ibv_alloc_pd(ctx);
			_exit(cpd && ibv_dealloc_pd(cpd) == 0 ? 0 : 21);
		}
	}
	for (int i = 0; i < 3; i++) {
		int st = 0;
		waitpid(pids[i], &st, 0);
		snprintf(what, sizeof(what), "forked child %d used the parent's context (exit %d)", i,
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, what);
	}
	struct ibv_alloc_dm_attr pa = { .length = 256 };
	struct ibv_dm *pdm = ibv_alloc_dm(ctx, &pa);
	expect(pdm && ibv_free_dm(pdm) == 0 && ibv_dealloc_pd(ppd) == 0,
	       "the parent's context still works after its children");
	ibv_close_device(ctx);

	/* A process that dies holding the whole MEMIC pool, an MR and a PD. */
	ctx = open_first();
	expect(ctx && ibv_query_device_ex(ctx, NULL, &attr) == 0, "query max_dm_size");
	ibv_close_device(ctx);
	int ready[2];
	if (pipe(ready))
		return 1;
	pid_t victim = fork();
	if (victim == 0) {
		struct ibv_context *c = open_first();
		struct ibv_alloc_dm_attr a = { .length = attr.max_dm_size };
		struct ibv_pd *pd = c ? ibv_alloc_pd(c) : NULL;
		struct ibv_dm *dm = c ? ibv_alloc_dm(c, &a) : NULL;
		static char buf[4096];
		struct ibv_mr *mr = pd ? ibv_reg_mr(pd, buf, sizeof(buf), IBV_ACCESS_LOCAL_WRITE) : NULL;
		uint32_t ones[256];
		memset(ones, 0xff, sizeof(ones));
		char ok = dm && mr && ibv_memcpy_to_dm(dm, 0, ones, sizeof(ones)) == 0;
		if (write(ready[1], &ok, 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	char ok = 0;
	if (read(ready[0], &ok, 1) != 1)
		ok = 0;
	expect(ok, "victim holds the whole MEMIC pool, an MR and a PD");
	ctx = open_first();
	struct ibv_alloc_dm_attr one = { .length = 64 };
	errno = 0;
	expect(ctx && !ibv_alloc_dm(ctx, &one) && errno == ENOMEM, "pool exhausted while the victim lives");
	ibv_close_device(ctx);
	kill(victim, SIGKILL);
	waitpid(victim, NULL, 0);
	/* The next open finds the dead owner's channel and releases it. */
	ctx = open_first();
	struct ibv_alloc_dm_attr all = { .length = attr.max_dm_size };
	struct ibv_dm *dm = ctx ? ibv_alloc_dm(ctx, &all) : NULL;
	expect(dm != NULL, "after SIGKILL the whole pool is back");
	uint32_t first = 1;
	expect(dm && ibv_memcpy_from_dm(&first, dm, 0, 4) == 0 && first == 0, "reclaimed DM reads as zeroes");
	if (dm)
		ibv_free_dm(dm);
	ibv_close_device(ctx);
	printf("multiprocess: %d passed, %d failed\n", total - fails, fails);
	return fails ? 1 : 0;
}
