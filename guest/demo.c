/*
 * hcasim-demo: the main job's guest program.  Written only against
 * rdma-core's <infiniband/verbs.h>, it lists the HCA, queries max_dm_size,
 * allocates MEMIC device memory, moves a pattern through it, and shows
 * each documented error of ibv_alloc_dm(3) / ibv_memcpy_to_dm(3):
 *   unaligned offset or length -> EINVAL, beyond the DM -> EFAULT,
 *   length > max_dm_size -> EINVAL, device memory exhausted -> ENOMEM.
 * Exit status 0 when every check passed, 1 otherwise.
 */
#include <infiniband/verbs.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks, failures;

static void check(int ok, const char *what, const char *detail)
{
	checks++;
	if (!ok)
		failures++;
	printf("%s - %s%s%s\n", ok ? "ok  " : "FAIL", what, detail ? ": " : "", detail ? detail : "");
}

static void check_err(int got, int want, const char *what)
{
	char d[96];

	snprintf(d, sizeof(d), "got %s (%d), want %s (%d)", got ? strerror(got) : "success", got,
		 strerror(want), want);
	check(got == want, what, d);
}

#define DM_LEN 4096

int main(void)
{
	struct ibv_device **list;
	struct ibv_context *ctx;
	struct ibv_device_attr_ex attr;
	struct ibv_pd *pd;
	struct ibv_dm *dm;
	int n, i;

	list = ibv_get_device_list(&n);
	if (!list || n == 0) {
		fprintf(stderr, "hcasim-demo: no RDMA device found\n");
		return 1;
	}
	for (i = 0; i < n; i++)
		printf("device %d: %s (%s)\n", i, ibv_get_device_name(list[i]), list[i]->dev_path);
	ctx = ibv_open_device(list[0]);
	if (!ctx) {
		fprintf(stderr, "hcasim-demo: ibv_open_device: %s\n", strerror(errno));
		return 1;
	}
	if (ibv_query_device_ex(ctx, NULL, &attr)) {
		fprintf(stderr, "hcasim-demo: ibv_query_device_ex failed\n");
		return 1;
	}
	printf("firmware %s, vendor 0x%x part 0x%x, max_dm_size %llu bytes\n", attr.orig_attr.fw_ver,
	       attr.orig_attr.vendor_id, attr.orig_attr.vendor_part_id,
	       (unsigned long long)attr.max_dm_size);
	check(attr.max_dm_size >= 2 * DM_LEN, "max_dm_size reported", NULL);

	pd = ibv_alloc_pd(ctx);
	check(pd != NULL, "ibv_alloc_pd", NULL);

	/* Round trip through device memory. */
	struct ibv_alloc_dm_attr da = { .length = DM_LEN, .log_align_req = 6 };
	dm = ibv_alloc_dm(ctx, &da);
	check(dm != NULL, "ibv_alloc_dm 4096 bytes", dm ? NULL : strerror(errno));
	if (!dm)
		return 1;
	uint32_t out[DM_LEN / 4], in[DM_LEN / 4];
	for (i = 0; i < DM_LEN / 4; i++)
		out[i] = 0xC0DE0000u + (uint32_t)i;
	check_err(ibv_memcpy_to_dm(dm, 0, out, DM_LEN), 0, "ibv_memcpy_to_dm 4096 bytes");
	memset(in, 0, sizeof(in));
	check_err(ibv_memcpy_from_dm(in, dm, 0, DM_LEN), 0, "ibv_memcpy_from_dm 4096 bytes");
	check(memcmp(in, out, DM_LEN) == 0, "pattern read back intact", NULL);

	/* Documented errors. */
	check_err(ibv_memcpy_to_dm(dm, 2, out, 8), EINVAL, "unaligned offset");
	check_err(ibv_memcpy_to_dm(dm, 0, out, 6), EINVAL, "unaligned length");
	check_err(ibv_memcpy_from_dm(in, dm, 1, 4), EINVAL, "unaligned offset (read)");
	check_err(ibv_memcpy_to_dm(dm, DM_LEN - 4, out, 8), EFAULT, "write beyond the DM");
	check_err(ibv_memcpy_from_dm(in, dm, DM_LEN, 4), EFAULT, "read beyond the DM");

	struct ibv_alloc_dm_attr big = { .length = attr.max_dm_size + 64 };
	errno = 0;
	check(ibv_alloc_dm(ctx, &big) == NULL, "length > max_dm_size fails", NULL);
	check_err(errno, EINVAL, "length > max_dm_size");

	/* Exhaust the MEMIC pool, then give it back. */
	struct ibv_dm **held = calloc(attr.max_dm_size / DM_LEN + 1, sizeof(*held));
	int nheld = 0, err = 0;
	for (;;) {
		struct ibv_alloc_dm_attr a = { .length = DM_LEN };
		struct ibv_dm *d = ibv_alloc_dm(ctx, &a);
		if (!d) {
			err = errno;
			break;
		}
		held[nheld++] = d;
		if ((uint64_t)nheld > attr.max_dm_size / DM_LEN)
			break;
	}
	printf("allocated %d more blocks of %d bytes before the pool ran out\n", nheld, DM_LEN);
	check_err(err, ENOMEM, "device memory exhausted");
	check((uint64_t)(nheld + 1) * DM_LEN == attr.max_dm_size, "whole pool was usable", NULL);
	for (i = 0; i < nheld; i++)
		ibv_free_dm(held[i]);
	free(held);

	/* Leave a marker the device shows in its trace when the DM is freed. */
	static const char marker[16] = "HCASIM-MEMIC-OK!";
	check_err(ibv_memcpy_to_dm(dm, 0, marker, sizeof(marker)), 0, "marker written to DM");
	check_err(ibv_free_dm(dm), 0, "ibv_free_dm");
	check_err(ibv_dealloc_pd(pd), 0, "ibv_dealloc_pd");
	check_err(ibv_close_device(ctx), 0, "ibv_close_device");
	ibv_free_device_list(list);

	printf("hcasim-demo: %d checks, %d passed, %d failed\n", checks, checks - failures, failures);
	return failures ? 1 : 0;
}
