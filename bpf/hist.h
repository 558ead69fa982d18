/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hist.h - the log-linear latency histogram shared by the BPF programs and
 * their loaders.
 *
 * Values below 32 get one bucket each.  Above, every power of two [2^k,
 * 2^(k+1)) is split into HIST_SUB = 32 equal sub-buckets, so a bucket is at
 * most 1/32 = 3.1% of its lower bound wide (a log2 histogram, as in the
 * libbpf-tools, is 100% wide).  Bucket of v >= 32 with msb k:
 *   idx = (k - 4) * 32 + ((v >> (k - 5)) - 32)
 * Values of 2^HIST_MAX_POW ns (18 minutes) and more land in the last bucket.
 *
 * Only shifts and compares, no loops: the 6.1 verifier accepts it without
 * having to walk a bounded loop on every event.
 */
#ifndef KMODLAB_BPF_HIST_H
#define KMODLAB_BPF_HIST_H

#define HIST_SUB_BITS	5
#define HIST_SUB	(1u << HIST_SUB_BITS)
#define HIST_MAX_POW	40
#define HIST_NBUCKETS	((HIST_MAX_POW - HIST_SUB_BITS) * HIST_SUB + HIST_SUB)

/* Index of the most significant set bit of v (v > 0). */
static inline __attribute__((always_inline)) __u32 hist_msb(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { r += 1; }
	return r;
}

static inline __attribute__((always_inline)) __u32 hist_bucket(__u64 v)
{
	__u32 k, idx;

	if (v < HIST_SUB)
		return (__u32)v;
	k = hist_msb(v);
	if (k >= HIST_MAX_POW)
		return HIST_NBUCKETS - 1;
	idx = (k - HIST_SUB_BITS + 1) * HIST_SUB + (__u32)((v >> (k - HIST_SUB_BITS)) - HIST_SUB);
	return idx;
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

/* Lower bound (inclusive) of bucket idx. */
static inline __u64 hist_lo(__u32 idx)
{
	__u32 g = idx / HIST_SUB, sub = idx % HIST_SUB;

	if (g == 0)
		return idx;
	return (__u64)(HIST_SUB + sub) << (g - 1);
}

/* Upper bound (exclusive) of bucket idx. */
static inline __u64 hist_hi(__u32 idx)
{
	__u32 g = idx / HIST_SUB;

	if (g == 0)
		return idx + 1;
	return hist_lo(idx) + (1ull << (g - 1));
}

#endif
