/*
 * nullloop.c - the reference for kmodlab-load's overhead: the smallest loop
 * that issues the same syscall N times, with nothing else in it (no clock
 * reads, no histogram, no threads).  kmodlab-load --op read|write --size 1
 * on the same node must come within 5% of its ops/s (see run.sh).
 *
 *   nullloop read|write|pread|pwrite PATH N [SIZE]
 *
 * Prints one line:
 *   "<op> <path> <n> ops <seconds> s <ops/s> ops/s <cpu seconds> cpu_s <ops per cpu s> ops/cpu_s".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	static char buf[65536];
	const char *op, *path;
	long long n, i, errors = 0;
	size_t size = 1;
	double t0, t1, c0, c1;
	int fd, kind;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: %s read|write|pread|pwrite PATH N [SIZE]\n", argv[0]);
		return 2;
	}
	op = argv[1];
	path = argv[2];
	n = atoll(argv[3]);
	if (argc == 5)
		size = (size_t)atol(argv[4]);
	if (n <= 0 || size == 0 || size > sizeof(buf)) {
		fprintf(stderr, "nullloop: N must be > 0 and SIZE in 1..%zu\n", sizeof(buf));
		return 2;
	}
	if (!strcmp(op, "read"))
		kind = 0;
	else if (!strcmp(op, "write"))
		kind = 1;
	else if (!strcmp(op, "pread"))
		kind = 2;
	else if (!strcmp(op, "pwrite"))
		kind = 3;
	else {
		fprintf(stderr, "nullloop: unknown op '%s' (read, write, pread, pwrite)\n", op);
		return 2;
	}
	fd = open(path, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "nullloop: %s: %s\n", path, strerror(errno));
		return 1;
	}
	c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	t0 = now(CLOCK_MONOTONIC);
	/* The switch is inside the loop on purpose: kmodlab-load dispatches
	 * on the op per iteration too, and the branch is perfectly predicted. */
	for (i = 0; i < n; i++) {
		ssize_t r;

		switch (kind) {
		case 0: r = read(fd, buf, size); break;
		case 1: r = write(fd, buf, size); break;
		case 2: r = pread(fd, buf, size, 0); break;
		default: r = pwrite(fd, buf, size, 0); break;
		}
		if (r < 0)
			errors++;
	}
	t1 = now(CLOCK_MONOTONIC);
	c1 = now(CLOCK_PROCESS_CPUTIME_ID);
	close(fd);
	/* ops per CPU second too: on a shared machine the wall-clock rate
	 * measures the neighbours as much as the loop. */
	printf("%s %s %lld ops %.6f s %.0f ops/s %.6f cpu_s %.0f ops/cpu_s\n", op, path, n, t1 - t0,
	       n / (t1 - t0), c1 - c0, n / (c1 - c0));
	if (errors) {
		fprintf(stderr, "nullloop: %lld of %lld ops failed\n", errors, n);
		return 1;
	}
	return 0;
}
