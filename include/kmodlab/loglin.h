/* SPDX-License-Identifier: GPL-2.0 */
/*
 * loglin.h - the bucket arithmetic of kmodlab's log-linear histograms, one
 * text compiled three ways: as BPF C by the programs in bpf/ (hist.h), as
 * C++ constexpr by their loaders, and by kmodlab-load's histogram
 * (histogram.hpp).  So the bucket a BPF program counts into is, by
 * construction, the bucket user space decodes.
 *
 * With S = 2^sub_bits sub-buckets per power of two:
 *   v <  S                  bucket v, width 1 (exact)
 *   v >= S, k = msb(v)      bucket S + (k - sub_bits) * S + ((v >> (k - sub_bits)) - S),
 *                           lower bound (v >> (k - sub_bits)) << (k - sub_bits),
 *                           width 2^(k - sub_bits), i.e. at most 1/S of the lower bound
 *   k >= max_pow            the last bucket (values of 2^max_pow and more);
 *                           max_pow = 64 has none
 * LOGLIN_NBUCKETS(sub_bits, max_pow) = S + (max_pow - sub_bits) * S.
 *
 * Only shifts and compares on the BPF side, no loops: the 6.1 verifier
 * accepts it without walking a bounded loop on every event (hence
 * loglin_msb_shifts; user space uses the CPU's count-leading-zeros, and
 * bpf/tests/hist_test.cpp checks that both agree).
 */
#ifndef KMODLAB_LOGLIN_H
#define KMODLAB_LOGLIN_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#ifdef __cplusplus
#define LOGLIN_FN constexpr inline
#else
#define LOGLIN_FN static inline __attribute__((always_inline))
#endif

#define LOGLIN_SUB(sub_bits)	(1u << (sub_bits))
#define LOGLIN_NBUCKETS(sub_bits, max_pow) \
	(LOGLIN_SUB(sub_bits) + ((max_pow) - (sub_bits)) * LOGLIN_SUB(sub_bits))

/* Index of the most significant set bit of v (v > 0), by halving. */
LOGLIN_FN __u32 loglin_msb_shifts(__u64 v)
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

LOGLIN_FN __u32 loglin_msb(__u64 v)
{
#ifdef __bpf__
	return loglin_msb_shifts(v);
#else
	return 63u - (__u32)__builtin_clzll(v);
#endif
}

/* Bucket of value v. */
LOGLIN_FN __u32 loglin_index(__u64 v, __u32 sub_bits, __u32 max_pow)
{
	__u64 sub = (__u64)1 << sub_bits;
	__u32 k;

	if (v < sub)
		return (__u32)v;
	k = loglin_msb(v);
	if (k >= max_pow)
		return LOGLIN_NBUCKETS(sub_bits, max_pow) - 1;
	return (k - sub_bits + 1) * (__u32)sub + (__u32)((v >> (k - sub_bits)) - sub);
}

/* Lower bound (inclusive) of bucket idx. */
LOGLIN_FN __u64 loglin_lower(__u32 idx, __u32 sub_bits)
{
	__u32 g = idx >> sub_bits, sub = idx & ((1u << sub_bits) - 1);

	if (g == 0)
		return idx;
	return ((__u64)(1u << sub_bits) + sub) << (g - 1);
}

/* Upper bound (exclusive) of bucket idx.  The last bucket of a 64-bit
 * layout ends at 2^64, which does not fit: it saturates to the largest
 * value (still above every value in the bucket but that one). */
LOGLIN_FN __u64 loglin_upper(__u32 idx, __u32 sub_bits)
{
	__u32 g = idx >> sub_bits;
	__u64 lo, w;

	if (g == 0)
		return (__u64)idx + 1;
	lo = loglin_lower(idx, sub_bits);
	w = (__u64)1 << (g - 1);
	return lo > ~(__u64)0 - w ? ~(__u64)0 : lo + w;
}

#endif
