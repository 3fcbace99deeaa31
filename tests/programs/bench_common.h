/*
 * What scripts/bench's host-direct programs share: BENCH_NAME (defined by
 * the includer) prefixes every error.
 */
#ifndef HCASIM_BENCH_COMMON_H
#define HCASIM_BENCH_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Prints "BENCH_NAME: what: strerror(errno)"; returns 1 (the exit status). */
static inline int die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", BENCH_NAME, what, strerror(errno));
	return 1;
}

/* CLOCK_MONOTONIC, seconds. */
static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif
