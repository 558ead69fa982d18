/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wakelat.h - what wakelat.bpf.c and its loader share: the wakeup latency
 * of threads that slept inside a call on a target device, from the
 * scheduler's wakeup (sched_wakeup) to the thread running again
 * (sched_switch to it), per (device, operation) like opslat.
 */
#ifndef KMODLAB_BPF_WAKELAT_H
#define KMODLAB_BPF_WAKELAT_H

#include "opslat.h"	/* OPSLAT_SLOT, OPSLAT_NSLOTS, the histogram */

struct wakelat_hist {
	__u64 count;	/* wakeups followed by the thread running again */
	__u64 sum_ns;
	__u64 min_ns;
	__u64 max_ns;
	/* the thread went to sleep inside the call (sched_switch away from
	 * it, not preempted): each sleep should end in one wakeup */
	__u64 sleeps;
	/* woken while it still ran (it had not switched away yet): the wakeup
	 * found no sleep to end and is not timed */
	__u64 woke_running;
	__u64 slots[HIST_NBUCKETS];
};

#endif
