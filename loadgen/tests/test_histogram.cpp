// Histogram accuracy: every bucket's width is at most 1/128 of its lower
// bound, percentiles agree with exact sorted-sample percentiles within 1%,
// merge equals recording everything in one histogram.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "kmodlab/histogram.hpp"

using kmodlab::Histogram;

TEST(Histogram, BucketsContainTheirValuesAndAreNarrow)
{
	std::mt19937_64 rng(42);
	std::vector<uint64_t> values;
	for (uint64_t v = 0; v < 5000; v++)
		values.push_back(v);
	for (int e = 7; e < 64; e++) {
		const uint64_t p = uint64_t{1} << e;
		values.push_back(p - 1);
		values.push_back(p);
		values.push_back(p + 1);
	}
	for (int i = 0; i < 200000; i++)
		values.push_back(rng() >> (rng() % 64));
	values.push_back(UINT64_MAX);
	for (uint64_t v : values) {
		const size_t i = Histogram::index(v);
		ASSERT_LT(i, Histogram::NBUCKETS) << v;
		const uint64_t lo = Histogram::lower(i), hi = Histogram::upper(i);
		ASSERT_LE(lo, v) << v;
		// The last bucket's upper bound saturates at UINT64_MAX.
		if (hi != UINT64_MAX) {
			ASSERT_LT(v, hi) << v;
		}
		if (lo >= Histogram::SUB)
			ASSERT_LE(static_cast<double>(hi - lo) / static_cast<double>(lo), 1.0 / 128 + 1e-12) << v;
		else
			ASSERT_EQ(hi - lo, 1u) << v;
	}
}

TEST(Histogram, BucketsTileTheRangeWithoutGaps)
{
	for (size_t i = 0; i + 1 < Histogram::index(UINT64_MAX); i++) {
		ASSERT_EQ(Histogram::upper(i), Histogram::lower(i + 1)) << i;
		ASSERT_EQ(Histogram::index(Histogram::lower(i)), i);
		ASSERT_EQ(Histogram::index(Histogram::upper(i) - 1), i);
	}
}

// Exact nearest-rank percentile of a sample.
static double exact_percentile(std::vector<uint64_t> v, double q)
{
	std::sort(v.begin(), v.end());
	if (q == 0)
		return static_cast<double>(v.front());
	size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
	rank = std::clamp<size_t>(rank, 1, v.size());
	return static_cast<double>(v[rank - 1]);
}

TEST(Histogram, PercentilesWithinOnePercentOfExact)
{
	std::mt19937_64 rng(7);
	// Latency-like data: lognormal around 2 us with a heavy tail, plus
	// a cluster of stalls, over 6 decades.
	std::lognormal_distribution<double> body(std::log(2000.0), 0.6);
	std::lognormal_distribution<double> tail(std::log(5e6), 1.0);
	std::vector<uint64_t> v;
	Histogram h;
	for (int i = 0; i < 300000; i++) {
		double x = (i % 500 == 0) ? tail(rng) : body(rng);
		uint64_t u = static_cast<uint64_t>(x) + 1;
		v.push_back(u);
		h.record(u);
	}
	for (double q : {0.0, 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0}) {
		const double want = exact_percentile(v, q), got = h.percentile(q);
		EXPECT_LE(std::fabs(got - want) / want, 0.01) << "q=" << q << " want " << want << " got " << got;
	}
	EXPECT_EQ(h.count(), v.size());
	EXPECT_EQ(h.min(), *std::min_element(v.begin(), v.end()));
	EXPECT_EQ(h.max(), *std::max_element(v.begin(), v.end()));
	long double sum = 0;
	for (auto x : v)
		sum += x;
	EXPECT_NEAR(h.mean(), static_cast<double>(sum / v.size()), 1e-6 * h.mean());
}

TEST(Histogram, ExactBelowSubBucketCount)
{
	Histogram h;
	for (uint64_t x = 1; x <= 100; x++)
		h.record(x);
	EXPECT_EQ(h.percentile(0.5), 50.0);
	EXPECT_EQ(h.percentile(0.99), 99.0);
	EXPECT_EQ(h.percentile(1.0), 100.0);
	EXPECT_EQ(h.percentile(0.0), 1.0);
	EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(Histogram, PercentileMathOnKnownDistribution)
{
	// 1000 samples: 990 at 1000 ns, 9 at 100000, 1 at 10000000.
	Histogram h;
	for (int i = 0; i < 990; i++)
		h.record(1000);
	for (int i = 0; i < 9; i++)
		h.record(100000);
	h.record(10000000);
	EXPECT_NEAR(h.percentile(0.5), 1000, 10);
	EXPECT_NEAR(h.percentile(0.99), 1000, 10);      // rank 990 is the last 1000
	EXPECT_NEAR(h.percentile(0.991), 100000, 1000);  // rank 991
	EXPECT_NEAR(h.percentile(0.999), 100000, 1000);  // rank 999
	EXPECT_EQ(h.percentile(1.0), 10000000.0);
	EXPECT_EQ(h.percentile(0.9999), 10000000.0);     // rank ceil(999.9) = 1000
	EXPECT_THROW(h.percentile(1.5), std::invalid_argument);
	// Percentiles never decrease with q.
	double last = 0;
	for (int i = 0; i <= 1000; i++) {
		double p = h.percentile(i / 1000.0);
		EXPECT_GE(p, last);
		last = p;
	}
}

TEST(Histogram, MergeEqualsSingleHistogram)
{
	std::mt19937_64 rng(3);
	Histogram a, b, all;
	for (int i = 0; i < 50000; i++) {
		uint64_t x = rng() % 10000000;
		(i % 3 ? a : b).record(x);
		all.record(x);
	}
	a.merge(b);
	EXPECT_EQ(a.count(), all.count());
	EXPECT_EQ(a.min(), all.min());
	EXPECT_EQ(a.max(), all.max());
	EXPECT_DOUBLE_EQ(a.mean(), all.mean());
	auto ba = a.buckets(), bb = all.buckets();
	ASSERT_EQ(ba.size(), bb.size());
	for (size_t i = 0; i < ba.size(); i++) {
		EXPECT_EQ(ba[i].lo, bb[i].lo);
		EXPECT_EQ(ba[i].count, bb[i].count);
	}
}

TEST(Histogram, SerializedBucketsSumToCountAndAreOrdered)
{
	Histogram h;
	for (uint64_t x : {5u, 5u, 130u, 131u, 1000000u})
		h.record(x);
	auto b = h.buckets();
	uint64_t total = 0;
	for (size_t i = 0; i < b.size(); i++) {
		total += b[i].count;
		EXPECT_LT(b[i].lo, b[i].hi);
		if (i) {
			EXPECT_LE(b[i - 1].hi, b[i].lo);
		}
	}
	EXPECT_EQ(total, 5u);
	EXPECT_EQ(b.front().lo, 5u);
	EXPECT_EQ(b.front().count, 2u);
}

TEST(Histogram, EmptyIsZero)
{
	Histogram h;
	EXPECT_EQ(h.count(), 0u);
	EXPECT_EQ(h.min(), 0u);
	EXPECT_EQ(h.percentile(0.99), 0.0);
	EXPECT_TRUE(h.buckets().empty());
}
