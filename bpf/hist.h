/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hist.h - the log-linear latency histogram of the BPF programs and their
 * loaders: the layout kmodlab's one histogram template
 * (include/kmodlab/loglin.h, histogram.hpp) takes with 32 sub-buckets per
 * power of two, capped at 2^40 ns.
 *
 * Values below 32 get one bucket each.  Above, every power of two [2^k,
 * 2^(k+1)) is split into HIST_SUB = 32 equal sub-buckets, so a bucket is at
 * most 1/32 = 3.1% of its lower bound wide (a log2 histogram, as in the
 * libbpf-tools, is 100% wide).  Bucket of v >= 32 with msb k:
 *   idx = (k - 4) * 32 + ((v >> (k - 5)) - 32)
 * Values of 2^HIST_MAX_POW ns (18 minutes) and more land in the last bucket.
 * 32 rather than user space's 128 sub-buckets keeps the per-CPU maps small
 * (1152 buckets).
 */
#ifndef KMODLAB_BPF_HIST_H
#define KMODLAB_BPF_HIST_H

#include "kmodlab/loglin.h"

#define HIST_SUB_BITS	5
#define HIST_SUB	LOGLIN_SUB(HIST_SUB_BITS)
#define HIST_MAX_POW	40
#define HIST_NBUCKETS	LOGLIN_NBUCKETS(HIST_SUB_BITS, HIST_MAX_POW)

static inline __attribute__((always_inline)) __u32 hist_bucket(__u64 v)
{
	return loglin_index(v, HIST_SUB_BITS, HIST_MAX_POW);
}

#ifdef __bpf__
/* slots[hist_bucket(v)]++ in a form the verifier can bound: the compiler
 * would drop a plain range check it can prove redundant, barrier_var()
 * makes it keep the compare the verifier needs to see. */
static __always_inline void hist_add(__u64 *slots, __u64 v)
{
	__u32 idx = hist_bucket(v);

	barrier_var(idx);
	if (idx < HIST_NBUCKETS)
		slots[idx]++;
}

/* One latency into a per-CPU record with count, sum_ns, min_ns, max_ns
 * and slots[] (struct opslat_hist, struct func_hist).  Per-CPU values and
 * programs that run with preemption off: no other writer can interleave,
 * plain increments are exact. */
#define HIST_RECORD(h, lat)						\
	do {								\
		if ((h)->count == 0 || (lat) < (h)->min_ns)		\
			(h)->min_ns = (lat);				\
		if ((lat) > (h)->max_ns)				\
			(h)->max_ns = (lat);				\
		(h)->count++;						\
		(h)->sum_ns += (lat);					\
		hist_add((h)->slots, (lat));				\
	} while (0)
#endif

/* A phase's latencies, per-CPU map value filled by HIST_RECORD (encphase's
 * MMIO phases, drvevents' scullpipe waits): the loader sums the CPUs and
 * takes min/max across them (drvtrace.cpp read_phase). */
struct hist_rec {
	__u64 count;
	__u64 sum_ns;
	__u64 min_ns;
	__u64 max_ns;
	__u64 slots[HIST_NBUCKETS];
};

/* Lower bound (inclusive) and upper bound (exclusive) of bucket idx. */
static inline __u64 hist_lo(__u32 idx)
{
	return loglin_lower(idx, HIST_SUB_BITS);
}

static inline __u64 hist_hi(__u32 idx)
{
	return loglin_upper(idx, HIST_SUB_BITS);
}

#endif
