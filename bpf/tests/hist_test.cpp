// hist_test.cpp - the log-linear bucket arithmetic of bpf/hist.h, the same
// code the BPF programs run (include/kmodlab/loglin.h), checked on the
// host, and that the programs, their decoder and kmodlab-load share one
// layout.
#include <linux/types.h>
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "hist.h"
#include "kmodlab/histogram.hpp"
#include "kmodlab_bpf.hpp"
#include "opslat.h"
#include "lockstat.h"
#include "funclat.h"
#include "opslat.skel.h"
#include "lockstat.skel.h"
#include "funclat.skel.h"
#include "encphase.h"
#include "encphase.skel.h"
#include "drvevents.h"
#include "drvevents.skel.h"
#include "wakelat.h"
#include "wakelat.skel.h"

TEST(Hist, EveryValueFallsInsideItsBucket)
{
	std::mt19937_64 rng(42);
	for (int i = 0; i < 200000; i++) {
		__u64 v = rng() >> (rng() % 64);
		__u32 b = hist_bucket(v);
		ASSERT_LT(b, HIST_NBUCKETS);
		if (b == HIST_NBUCKETS - 1 && v >= hist_hi(b))
			continue;  // overflow bucket
		ASSERT_LE(hist_lo(b), v) << v;
		ASSERT_LT(v, hist_hi(b)) << v;
	}
}

TEST(Hist, BucketsAreContiguousAndFine)
{
	for (__u32 b = 0; b + 1 < HIST_NBUCKETS; b++) {
		ASSERT_EQ(hist_hi(b), hist_lo(b + 1)) << b;
		// Relative width at most 1/32 (3.1%) once past the exact range.
		if (hist_lo(b) >= HIST_SUB)
			ASSERT_LE(double(hist_hi(b) - hist_lo(b)) / double(hist_lo(b)), 1.0 / 32 + 1e-12) << b;
	}
	EXPECT_EQ(hist_bucket(31), 31u);
	EXPECT_EQ(hist_bucket(32), 32u);
	EXPECT_EQ(hist_bucket(1ull << 39), hist_bucket((1ull << 39) + 1));
}

TEST(Hist, PercentilesFromBuckets)
{
	kmodlab::bpf::Histogram h;
	// 100 values: 1000 ns x 90, 5000 ns x 10
	__u32 a = hist_bucket(1000), c = hist_bucket(5000);
	h.buckets = {{hist_lo(a), hist_hi(a), 90}, {hist_lo(c), hist_hi(c), 10}};
	h.count = 100;
	h.min_ns = 1000;
	h.max_ns = 5000;
	EXPECT_EQ(h.percentile_floor(0.5), hist_lo(a));
	EXPECT_LE(h.percentile_floor(0.5), 1000u);
	EXPECT_EQ(h.percentile_floor(0.95), hist_lo(c));
	EXPECT_NEAR(h.percentile(0.5), 1000, 1000 * 0.032);
	EXPECT_NEAR(h.percentile(0.99), 5000, 5000 * 0.032);
	EXPECT_LE(h.percentile(1.0), 5000);
}

// ---- one layout for the programs, their decoder and kmodlab-load --------------

// The BPF programs find the msb by halving (no loop, no clz instruction);
// user space uses the CPU's clz.  Both must give the same bucket.
TEST(Hist, MsbByShiftsEqualsClz)
{
	std::mt19937_64 rng(3);
	std::vector<__u64> values;
	for (int k = 0; k < 64; k++) {
		const __u64 p = 1ull << k;
		values.insert(values.end(), {p, p + 1, p - 1 ? p - 1 : 1, p | (p - 1)});
	}
	for (int i = 0; i < 100000; i++)
		values.push_back((rng() >> (rng() % 64)) | 1);
	for (__u64 v : values) {
		ASSERT_EQ(loglin_msb_shifts(v), 63u - __builtin_clzll(v)) << v;
		ASSERT_EQ(loglin_msb_shifts(v), loglin_msb(v)) << v;
	}
}

// bpf/hist.h is kmodlab's histogram template with 32 sub-buckets capped at
// 2^40: the same index and bounds for every value and bucket, and the
// numbers pinned (a change of layout must be a deliberate one: the JSON
// says sub_buckets_per_power_of_two = 32).
TEST(Hist, BpfLayoutIsTheTemplateWith5SubBitsAnd40Powers)
{
	using Layout = kmodlab::LogLinearHistogram<HIST_SUB_BITS, HIST_MAX_POW>;
	static_assert(Layout::NBUCKETS == HIST_NBUCKETS);
	EXPECT_EQ(HIST_NBUCKETS, 1152u);
	EXPECT_EQ(HIST_SUB, 32u);
	// 1000 = 0b1111101000, msb 9: group 9 - 5 + 1 = 5, sub (1000 >> 4) - 32 = 30.
	EXPECT_EQ(hist_bucket(1000), 5u * 32 + 30);
	EXPECT_EQ(hist_lo(190), 992u);
	EXPECT_EQ(hist_hi(190), 1008u);  // width 2^(9 - 5) = 16
	EXPECT_EQ(hist_bucket(~0ull), HIST_NBUCKETS - 1);  // overflow bucket
	std::mt19937_64 rng(5);
	for (int i = 0; i < 100000; i++) {
		__u64 v = rng() >> (rng() % 64);
		ASSERT_EQ(hist_bucket(v), Layout::index(v)) << v;
	}
	for (__u32 b = 0; b < HIST_NBUCKETS; b++) {
		ASSERT_EQ(hist_lo(b), Layout::lower(b)) << b;
		ASSERT_EQ(hist_hi(b), Layout::upper(b)) << b;
	}
}

// kmodlab-load's histogram is the same template with 128 sub-buckets: at
// 7 sub-bits the formula gives its documented numbers (loadgen/SCHEMA.md).
TEST(Hist, LoadgenLayoutIsTheTemplateWith7SubBits)
{
	using H = kmodlab::Histogram;
	EXPECT_EQ(H::NBUCKETS, 7424u);
	EXPECT_EQ(H::index(127), 127u);
	EXPECT_EQ(H::index(128), 128u);
	// 1000: msb 9, shift 2, group 3, sub (1000 >> 2) - 128 = 122.
	EXPECT_EQ(H::index(1000), 128u + 2 * 128 + 122);
	EXPECT_EQ(H::lower(H::index(1000)), 1000u);
	EXPECT_EQ(H::upper(H::NBUCKETS - 1), ~0ull);  // saturates at 2^64
}

// The maps the compiled BPF objects create hold exactly the structs the
// decoder reads (opslat.h, lockstat.h, funclat.h with HIST_NBUCKETS slots):
// the objects' own BTF says their value sizes.  Opening an object parses
// it; nothing is loaded, no privileges needed.
TEST(Hist, BpfMapsHoldTheDecodersStructs)
{
	opslat_bpf *o = opslat_bpf__open();
	ASSERT_NE(o, nullptr);
	EXPECT_EQ(bpf_map__value_size(o->maps.hists), sizeof(opslat_hist));
	opslat_bpf__destroy(o);
	lockstat_bpf *l = lockstat_bpf__open();
	ASSERT_NE(l, nullptr);
	EXPECT_EQ(bpf_map__value_size(l->maps.locks), sizeof(lock_stat));
	lockstat_bpf__destroy(l);
	funclat_bpf *f = funclat_bpf__open();
	ASSERT_NE(f, nullptr);
	EXPECT_EQ(bpf_map__value_size(f->maps.funcs), sizeof(func_hist));
	funclat_bpf__destroy(f);
	encphase_bpf *e = encphase_bpf__open();
	ASSERT_NE(e, nullptr);
	EXPECT_EQ(bpf_map__value_size(e->maps.hists), sizeof(hist_rec));
	EXPECT_EQ(bpf_map__value_size(e->maps.counts), sizeof(encphase_counts));
	encphase_bpf__destroy(e);
	drvevents_bpf *d = drvevents_bpf__open();
	ASSERT_NE(d, nullptr);
	EXPECT_EQ(bpf_map__value_size(d->maps.counts), sizeof(uint64_t));
	EXPECT_EQ(bpf_map__max_entries(d->maps.counts), unsigned(DRVEV_NR_SLOTS));
	EXPECT_EQ(bpf_map__value_size(d->maps.pending), sizeof(drvev_pending));
	drvevents_bpf__destroy(d);
	// wakelat shares opslat's per-thread maps: both must see one struct inflight
	wakelat_bpf *w = wakelat_bpf__open();
	ASSERT_NE(w, nullptr);
	EXPECT_EQ(bpf_map__value_size(w->maps.wakes), sizeof(wakelat_hist));
	EXPECT_EQ(bpf_map__max_entries(w->maps.wakes), unsigned(OPSLAT_NSLOTS));
	EXPECT_EQ(bpf_map__value_size(w->maps.inflight), sizeof(inflight));
	wakelat_bpf__destroy(w);
}
