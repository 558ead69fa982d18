/* SPDX-License-Identifier: GPL-2.0 */
/*
 * funclat.h - kprobe/kretprobe latency of the drivers' own functions; each
 * attachment carries the function's index as its BPF cookie.
 */
#ifndef KMODLAB_BPF_FUNCLAT_H
#define KMODLAB_BPF_FUNCLAT_H

#include "hist.h"

#define FUNCLAT_MAX_FUNCS	64
#define FUNCLAT_MAX_THREADS	8192

struct func_hist {
	__u64 count;
	__u64 sum_ns;
	__u64 min_ns;
	__u64 max_ns;
	__u64 slots[HIST_NBUCKETS];
};

struct func_key {
	__u32 tid;
	__u32 idx;
};

#endif
