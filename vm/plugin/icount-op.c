// SPDX-License-Identifier: GPL-2.0
/*
 * icount-op - run exactly N operations of one workload on one kmodlab device,
 * bracketed by the markers the icount TCG plugin (vm/plugin/icount.c) reads.
 *
 *   icount-op [--warmup W] DRIVER VARIANT WORKLOAD N   one window of N ops
 *   icount-op --arm                                    tell the plugin to
 *                                                      read its irqs= file
 *                                                      and start counting
 *   icount-op --list                                   the workloads: DRIVER
 *                                                      WORKLOAD FOPS<TAB>what
 *                                                      (FOPS: driver file
 *                                                      operations per op)
 *
 * DRIVER is scull, counter, lkp_enc or "kernel" (reference workloads that do
 * not touch a driver: null = the loop alone, getppid = the cheapest syscall).
 * Device paths and ioctl numbers come from kmod/include/uapi/ headers.
 *
 * Window layout: DETAIL ON (the plugin's memory and cache callbacks, caches
 * emptied), set-up (open, prefill), W warm-up ops (first-touch page
 * faults and lazy set-up stay out of the window), BEGIN, then N times
 * { op; OP }, then END, DETAIL OFF.  So the i-th OP record holds exactly the i-th
 * operation plus the loop's few user instructions, and whatever interrupt
 * hit it.  Every operation's result is checked; a failed op makes the exit
 * status 1 (the window is still closed so the plugin's output stays
 * consistent, and the caller marks it failed).  Exit 3: set-up or warm-up
 * failed, no window was opened.  Exit 2: usage.
 *
 * Run it only under the plugin or for a dry check: the markers are NOPs
 * everywhere else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "counter.h"
#include "kmodlab_dev.h"
#include "lkp_enc.h"
#include "scull.h"
#include "scullpipe.h"

/* nopl 0x4b4dCC00(%rax): see icount.c.  The "memory" clobber keeps the
 * compiler from moving the operation's memory accesses across a marker. */
#define MARK(cmd) asm volatile(".byte 0x0f, 0x1f, 0x80, 0x00, " #cmd ", 0x4d, 0x4b" ::: "memory")
#define MARK_BEGIN() MARK(1)
#define MARK_OP() MARK(2)
#define MARK_END() MARK(3)
#define MARK_ARM() MARK(4)
#define MARK_DETAIL_ON() MARK(5)
#define MARK_DETAIL_OFF() MARK(6)

struct ctx {
	char buf[4096]; /* first: page aligned */
	char text[LKP_ENC_STRING_SIZE];
	int fd;
};

typedef int (*op_fn)(struct ctx *c); /* 0 = ok */
typedef int (*setup_fn)(struct ctx *c, const char *dev);

struct workload {
	const char *driver, *name, *what;
	setup_fn setup;
	op_fn op;
	int fops; /* driver file operations one op calls (the planted-work test multiplies by it) */
};

static int open_rdwr(struct ctx *c, const char *dev)
{
	/* O_RDWR: scull truncates only on O_WRONLY opens (LDD3). */
	c->fd = open(dev, O_RDWR);
	if (c->fd < 0) {
		fprintf(stderr, "icount-op: open %s: %s\n", dev, strerror(errno));
		return -1;
	}
	return 0;
}

static int setup_none(struct ctx *c, const char *dev)
{
	(void)dev;
	c->fd = -1;
	return 0;
}

static int op_null(struct ctx *c)
{
	(void)c;
	return 0;
}

static int op_getppid(struct ctx *c)
{
	(void)c;
	return syscall(SYS_getppid) > 0 ? 0 : -1;
}

/* scull: 4096 bytes at offset 0, so every op moves the same bytes: the
 * whole 4000-byte first quantum and 96 bytes of the second (scull moves
 * the whole request across quanta; an op that moves less fails). */
static int setup_scull(struct ctx *c, const char *dev)
{
	if (open_rdwr(c, dev))
		return -1;
	memset(c->buf, 'k', sizeof(c->buf));
	if (pwrite(c->fd, c->buf, sizeof(c->buf), 0) != (ssize_t)sizeof(c->buf)) {
		fprintf(stderr, "icount-op: prefill %s: %s\n", dev, strerror(errno));
		return -1;
	}
	return 0;
}

static int op_scull_read(struct ctx *c)
{
	return pread(c->fd, c->buf, sizeof(c->buf), 0) == (ssize_t)sizeof(c->buf) ? 0 : -1;
}

static int op_scull_write(struct ctx *c)
{
	return pwrite(c->fd, c->buf, sizeof(c->buf), 0) == (ssize_t)sizeof(c->buf) ? 0 : -1;
}

static int op_scull_ioctl(struct ctx *c)
{
	return ioctl(c->fd, SCULL_IOCQQUANTUM) > 0 ? 0 : -1;
}

/* scullpipe: non-blocking, drained, so each write finds room and each read
 * finds the bytes just written (the paths when data is ready: no sleep). */
static int setup_scullpipe(struct ctx *c, const char *dev)
{
	c->fd = open(dev, O_RDWR | O_NONBLOCK);
	if (c->fd < 0) {
		fprintf(stderr, "icount-op: open %s: %s\n", dev, strerror(errno));
		return -1;
	}
	while (read(c->fd, c->buf, sizeof(c->buf)) > 0)
		;
	memset(c->buf, 'p', sizeof(c->buf));
	return 0;
}

static int op_scullpipe_rw64(struct ctx *c)
{
	if (write(c->fd, c->buf, 64) != 64)
		return -1;
	return read(c->fd, c->buf, 64) == 64 ? 0 : -1;
}

static int op_counter_write(struct ctx *c)
{
	return write(c->fd, "1", 1) == 1 ? 0 : -1;
}

static int op_counter_read(struct ctx *c)
{
	return pread(c->fd, c->buf, COUNTER_TEXT_MAX, 0) > 0 ? 0 : -1;
}

static int op_counter_ioctl(struct ctx *c)
{
	__s64 v;

	return ioctl(c->fd, COUNTER_IOC_GET, &v);
}

static int setup_lkp_enc(struct ctx *c, const char *dev)
{
	if (open_rdwr(c, dev))
		return -1;
	/* 32 letters: the cipher path runs per byte, so the length matters
	 * and is fixed here for every variant. */
	strcpy(c->text, "HelloWorldFromTheInstructionLab.");
	return 0;
}

/* One encryption: set the seed, write the plain text, read the cipher. */
static int op_lkp_enc_cycle(struct ctx *c)
{
	__u32 seed = 3;
	static char out[LKP_ENC_STRING_SIZE] __attribute__((aligned(256)));

	if (ioctl(c->fd, LKP_ENC_IOC_WRITE_SEED, &seed))
		return -1;
	if (ioctl(c->fd, LKP_ENC_IOC_WRITE_STRING, c->text))
		return -1;
	if (ioctl(c->fd, LKP_ENC_IOC_READ_STRING, out))
		return -1;
	return out[0] == 'K' ? 0 : -1; /* 'H' + 3 */
}

static int op_lkp_enc_read_seed(struct ctx *c)
{
	__u32 seed;

	return ioctl(c->fd, LKP_ENC_IOC_READ_SEED, &seed);
}

static const struct workload workloads[] = {
	{ "kernel", "null", "the loop alone, no syscall (baseline: 0 kernel insns)", setup_none, op_null, 0 },
	{ "kernel", "getppid", "getppid(): syscall entry and exit alone", setup_none, op_getppid, 0 },
	{ "scull", "read4k", "pread 4096 at offset 0 (two quanta: 4000 + 96 bytes)", setup_scull, op_scull_read, 1 },
	{ "scull", "write4k", "pwrite 4096 at offset 0 (two quanta, already allocated)", setup_scull, op_scull_write, 1 },
	{ "scull", "ioctl_qquantum", "ioctl SCULL_IOCQQUANTUM", setup_scull, op_scull_ioctl, 1 },
	{ "scullpipe", "rw64", "write 64 bytes, read them back (O_NONBLOCK, drained pipe)", setup_scullpipe,
	  op_scullpipe_rw64, 2 },
	{ "counter", "write1", "write \"1\" (add 1)", open_rdwr, op_counter_write, 1 },
	{ "counter", "read", "pread the value as text at offset 0", open_rdwr, op_counter_read, 1 },
	{ "counter", "ioctl_get", "ioctl COUNTER_IOC_GET", open_rdwr, op_counter_ioctl, 1 },
	{ "lkp_enc", "cycle", "ioctl WRITE_SEED + WRITE_STRING (32 letters) + READ_STRING", setup_lkp_enc, op_lkp_enc_cycle, 3 },
	{ "lkp_enc", "ioctl_read_seed", "ioctl READ_SEED", setup_lkp_enc, op_lkp_enc_read_seed, 1 },
};

/* The device a workload runs on: the driver's first node (uapi/kmodlab_dev.h),
 * "" for the kernel workloads, NULL (with a message) for an unknown driver
 * or variant. */
static const char *dev_path(const char *driver, const char *variant, char *buf, size_t n)
{
	if (!strcmp(driver, "kernel"))
		return "";
	if (kmodlab_dev_first_path(buf, n, driver, variant) < 0) {
		fprintf(stderr, "icount-op: no device for driver '%s', variant '%s' (uapi/kmodlab_dev.h)\n",
			driver, variant);
		return NULL;
	}
	return buf;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: icount-op [--warmup W] DRIVER VARIANT WORKLOAD N\n"
		   "       icount-op --arm | --list | --path DRIVER VARIANT\n"
		   "Runs N operations between the icount plugin's BEGIN and END markers.\n");
}

/* Static and page-aligned, not on the stack: the kernel's user-copy
 * routines take a different number of instructions for a differently
 * aligned user buffer, and the stack's alignment changes with ASLR. */
static struct ctx c __attribute__((aligned(4096)));

int main(int argc, char **argv)
{
	const struct workload *w = NULL;
	char path[128];
	const char *dev;
	long n, warm = 16, i, failed = 0;
	size_t k;

	if (argc == 2 && !strcmp(argv[1], "--arm")) {
		MARK_ARM();
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (k = 0; k < sizeof(workloads) / sizeof(workloads[0]); k++)
			printf("%s %s %d\t%s\n", workloads[k].driver, workloads[k].name,
			       workloads[k].fops, workloads[k].what);
		return 0;
	}
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "--path")) {
		dev = dev_path(argv[2], argv[3], path, sizeof(path));
		if (!dev)
			return 2;
		printf("%s\n", dev);
		return 0;
	}
	if (argc == 7 && !strcmp(argv[1], "--warmup")) {
		warm = strtol(argv[2], NULL, 10);
		argv += 2;
		argc -= 2;
	}
	if (argc != 5) {
		usage(stderr);
		return 2;
	}
	for (k = 0; k < sizeof(workloads) / sizeof(workloads[0]); k++)
		if (!strcmp(workloads[k].driver, argv[1]) && !strcmp(workloads[k].name, argv[3]))
			w = &workloads[k];
	n = strtol(argv[4], NULL, 10);
	if (!w || n <= 0 || warm < 0) {
		fprintf(stderr, "icount-op: unknown driver/workload '%s %s' or bad count (see --list)\n",
			argv[1], argv[3]);
		return 2;
	}
	dev = dev_path(argv[1], argv[2], path, sizeof(path));
	if (!dev)
		return 2;
	/* memory and cache callbacks for this process only: the caches start
	 * empty here and are warm after set-up and warm-up */
	MARK_DETAIL_ON();
	if (w->setup(&c, dev)) {
		MARK_DETAIL_OFF();
		return 3;
	}
	for (i = 0; i < warm; i++) {
		if (w->op(&c)) {
			fprintf(stderr, "icount-op: %s %s %s: warm-up op failed: %s\n", argv[1],
				argv[2], argv[3], strerror(errno));
			MARK_DETAIL_OFF();
			return 3;
		}
	}
	MARK_BEGIN();
	for (i = 0; i < n; i++) {
		failed += w->op(&c) != 0;
		MARK_OP();
	}
	MARK_END();
	MARK_DETAIL_OFF();
	if (failed) {
		fprintf(stderr, "icount-op: %s %s %s: %ld of %ld ops failed\n", argv[1], argv[2],
			argv[3], failed, n);
		return 1;
	}
	return 0;
}
