/*
 * dm_errors: the DM error paths of rdma-core ibv_alloc_dm(3) as a plain
 * verbs program.  Built on the host with `cc ... -libverbs` against
 * rdma-core's headers and run unchanged in the guest (tests/full-system).
 * Prints one "ok"/"FAIL" line per check and a summary; exit 0 iff all pass.
 */
#include <infiniband/verbs.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int fails, total;

#define EXPECT(cond, what) expect(!!(cond), what)

static void expect(int ok, const char *what)
{
	total++;
	if (!ok)
		fails++;
	printf("%s %s\n", ok ? "ok  " : "FAIL", what);
}

static struct ibv_dm *alloc(struct ibv_context *ctx, size_t len, unsigned align, unsigned mask)
{
	struct ibv_alloc_dm_attr a = { .length = len, .log_align_req = align, .comp_mask = mask };

	errno = 0;
	return ibv_alloc_dm(ctx, &a);
}

int main(void)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_device_attr_ex attr;
	struct ibv_context *ctx;
	struct ibv_dm *dm;
	unsigned char buf[256];

	if (!list || !list[0] || !(ctx = ibv_open_device(list[0]))) {
		printf("FAIL no hcasim device\n");
		return 1;
	}
	EXPECT(ibv_query_device_ex(ctx, NULL, &attr) == 0, "query_device_ex");
	EXPECT(alloc(ctx, 64, 0, 1) == NULL && errno == EINVAL, "unknown comp_mask -> EINVAL");
	EXPECT(alloc(ctx, attr.max_dm_size + 1, 0, 0) == NULL && errno == EINVAL,
	       "length > max_dm_size -> EINVAL");
	EXPECT(alloc(ctx, 64, 63, 0) == NULL && errno == EINVAL,
	       "log_align_req above the device maximum -> EINVAL");
	EXPECT(alloc(ctx, 0, 0, 0) == NULL && errno == EINVAL, "zero length -> EINVAL");

	dm = alloc(ctx, 100, 0, 0);
	EXPECT(dm != NULL, "alloc 100 bytes");
	if (!dm)
		return 1;
	memset(buf, 0x5a, sizeof(buf));
	EXPECT(ibv_memcpy_to_dm(dm, 0, buf, 100) == 0, "write the whole DM");
	EXPECT(ibv_memcpy_to_dm(dm, 3, buf, 4) == EINVAL, "unaligned offset -> EINVAL");
	EXPECT(ibv_memcpy_to_dm(dm, 0, buf, 5) == EINVAL, "unaligned length -> EINVAL");
	EXPECT(ibv_memcpy_to_dm(dm, 100, buf, 4) == EFAULT, "offset at the end -> EFAULT");
	EXPECT(ibv_memcpy_from_dm(buf, dm, 0, 104) == EFAULT, "read past the end -> EFAULT");
	EXPECT(ibv_memcpy_from_dm(buf, dm, ~0ULL - 3, 8) == EFAULT, "wrapping offset -> EFAULT");
	EXPECT(ibv_free_dm(dm) == 0, "free");

	/* Exhaustion: ENOMEM, and everything comes back afterwards. */
	struct ibv_dm *all = alloc(ctx, attr.max_dm_size, 0, 0);
	EXPECT(all != NULL, "allocate the whole pool");
	EXPECT(alloc(ctx, 64, 0, 0) == NULL && errno == ENOMEM, "pool exhausted -> ENOMEM");
	EXPECT(all && ibv_free_dm(all) == 0, "free the pool");
	dm = alloc(ctx, 64, 0, 0);
	EXPECT(dm != NULL, "allocation works again");
	if (dm)
		ibv_free_dm(dm);

	ibv_close_device(ctx);
	ibv_free_device_list(list);
	printf("dm_errors: %d passed, %d failed\n", total - fails, fails);
	return fails ? 1 : 0;
}
