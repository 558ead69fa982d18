// hist_test.cpp - the log-linear bucket arithmetic of bpf/hist.h, the same
// code the BPF programs run, checked on the host.
#include <linux/types.h>
#include <gtest/gtest.h>

#include <random>

#include "hist.h"
#include "kmodlab_bpf.hpp"

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
