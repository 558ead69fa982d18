/* SPDX-License-Identifier: GPL-2.0 */
/*
 * opslat.h - what opslat.bpf.c and its loader share: per (device,
 * operation) latency of the syscalls on the target devices' file
 * descriptors, and the per-thread "inside a target syscall" map that
 * lockstat.bpf.c reuses.
 */
#ifndef KMODLAB_BPF_OPSLAT_H
#define KMODLAB_BPF_OPSLAT_H

#include "hist.h"

/* Target devices: the loader fills map "targets" (rdev -> index). */
#define OPSLAT_MAX_DEVS		32
#define OPSLAT_MAX_THREADS	16384

enum opslat_op {
	KOP_READ,
	KOP_WRITE,
	KOP_PREAD64,
	KOP_PWRITE64,
	KOP_IOCTL,
	KOP_OPENAT,
	KOP_CLOSE,
	KOP_COUNT,
};

/* errno 1..ERRNO_SLOTS-2 counted one by one; larger ones in the last slot. */
#define ERRNO_SLOTS		136

/* Index into the per-CPU "hists" array. */
#define OPSLAT_SLOT(dev_idx, op)	((dev_idx) * KOP_COUNT + (op))
#define OPSLAT_NSLOTS			(OPSLAT_MAX_DEVS * KOP_COUNT)

struct opslat_hist {
	__u64 count;	/* every completed call, failed ones included */
	__u64 sum_ns;
	__u64 min_ns;
	__u64 max_ns;
	__u64 errors[ERRNO_SLOTS];
	__u64 slots[HIST_NBUCKETS];
};

/* Per-thread state between syscall entry and exit. */
struct inflight {
	__u64 start_ns;
	__u32 dev_idx;
	__u8 op;
	__u8 matched;	/* fd is on a target device (openat: not known before exit) */
	__u8 active;	/* task storage: between entry and exit (hash: always 1) */
	__u8 pad;
	__u32 generation;	/* attach period that wrote it (task storage) */
	__u32 pad2;
	/* wakelat: when the scheduler woke the thread while it slept inside
	 * this call (0: not woken since it last ran); entry clears it. */
	__u64 wake_ns;
};

/* Why events were not recorded; "drops" per-CPU array, reported as "dropped". */
enum drop_reason {
	KDROP_INFLIGHT_FULL,	/* too many threads inside syscalls at once */
	KDROP_STALE,		/* exit seen for a different syscall than the entry */
	KDROP_LOCK_START_FULL,	/* lockstat: per-thread wait map full */
	KDROP_LOCK_TABLE_FULL,	/* lockstat: (lock, device, op) table full */
	KDROP_FUNC_START_FULL,	/* funclat: per-thread entry map full */
	KDROP_SPIN_DEPTH,	/* lockstat: spin waits nested deeper than SPIN_DEPTH */
	KDROP_NO_PREEMPT_COUNT,	/* lockstat: this kernel's BTF has no per-CPU preempt count */
	KDROP_COUNT,
};

#endif
