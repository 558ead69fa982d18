/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lockstat.h - lock:contention_begin/end aggregated per (lock address,
 * target device, operation), only while the waiting thread is inside a
 * syscall on a target device (opslat's "inflight" map, shared by fd).
 */
#ifndef KMODLAB_BPF_LOCKSTAT_H
#define KMODLAB_BPF_LOCKSTAT_H

#include "hist.h"

#define LOCKSTAT_MAX_LOCKS	256
#define LOCKSTAT_MAX_WAITS	8192

/* contention_begin flags, as in the kernel's include/trace/events/lock.h
 * (macros, so they are not in the BTF).  Semaphores pass 0. */
#define LCB_F_SPIN	(1U << 0)
#define LCB_F_READ	(1U << 1)
#define LCB_F_WRITE	(1U << 2)
#define LCB_F_RT	(1U << 3)
#define LCB_F_PERCPU	(1U << 4)
#define LCB_F_MUTEX	(1U << 5)

/* Where the wait happened: in the thread itself, or in an interrupt
 * (hard or soft) that arrived while the thread was inside a target syscall
 * (reported apart: the syscall did not ask for that lock). */
enum lock_ctx {
	LCTX_TASK,
	LCTX_IRQ,
};

struct lock_key {
	__u64 lock;
	__u32 dev_idx;
	__u16 op;
	__u16 ctx;	/* enum lock_ctx */
};

struct lock_stat {
	__u64 count;
	__u64 total_ns;
	__u64 max_ns;
	__u64 flags;	/* OR of the contention_begin flags seen */
	__u64 slots[HIST_NBUCKETS];
};

struct wait_key {
	__u64 lock;
	__u32 tid;
	__u32 pad;
};

struct wait_start {
	__u64 start_ns;
	__u32 flags;	/* OR of the contention_begin flags of this acquisition */
	__u32 ctx;
};

/* queued_spin_lock_slowpath, timed by fentry/fexit: the spinning CPU
 * cannot be preempted, so its waits nest like a stack (task, then softirq,
 * hardirq, NMI on top) and a per-CPU stack holds them without a hash
 * lookup or a lock in the program itself. */
#define SPIN_DEPTH	4

struct spin_frame {
	__u64 lock;
	__u64 start_ns;
	__u32 dev_idx;
	__u16 op;
	__u16 ctx;
};

struct spin_stack {
	__u32 depth;
	__u32 pad;
	struct spin_frame f[SPIN_DEPTH];
};

#endif
