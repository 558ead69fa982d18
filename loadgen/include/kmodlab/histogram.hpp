// histogram.hpp - log-linear (HDR-style) latency histogram, header-only.
//
// Values are unsigned 64-bit integers (nanoseconds in kmodlab-load).  The
// bucket layout, documented in loadgen/SCHEMA.md, is:
//
//   SUB = 2^SUB_BITS = 128 linear sub-buckets per power of two.
//   v <  SUB          : bucket v, width 1 (exact)
//   v >= SUB, e = floor(log2 v), shift = e - SUB_BITS:
//                       bucket SUB + (e - SUB_BITS) * SUB + ((v >> shift) - SUB)
//                       lower = (v >> shift) << shift, width = 2^shift
//
// so width / lower <= 2^shift / (SUB * 2^shift) = 1/128 = 0.78%: any value
// reported from a bucket is within 0.78% of every sample in it, and the
// midpoint we report is within 0.39%.  A log2 histogram (as in the
// libbpf-tools) has 100%; the BPF side uses 32 sub-buckets (3%) to keep its
// maps small.  The whole 64-bit range takes 7424 buckets (58 KiB): one array
// per thread and operation, no allocation on the hot path.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

namespace kmodlab {

class Histogram {
public:
	static constexpr unsigned SUB_BITS = 7;
	static constexpr uint64_t SUB = uint64_t{1} << SUB_BITS;
	static constexpr size_t NBUCKETS = SUB + (64 - SUB_BITS) * SUB;

	struct Bucket {
		uint64_t lo, hi, count;  // [lo, hi)
	};

	Histogram() : counts_(NBUCKETS, 0) {}

	static constexpr size_t index(uint64_t v)
	{
		if (v < SUB)
			return static_cast<size_t>(v);
		const unsigned e = 63 - static_cast<unsigned>(std::countl_zero(v));
		const unsigned shift = e - SUB_BITS;
		return static_cast<size_t>(SUB + uint64_t{shift} * SUB + ((v >> shift) - SUB));
	}
	static constexpr uint64_t lower(size_t i)
	{
		if (i < SUB)
			return i;
		const uint64_t shift = (i - SUB) / SUB;
		const uint64_t sub = (i - SUB) % SUB;
		return (SUB + sub) << shift;
	}
	// Exclusive upper bound; the last bucket ends at 2^64, which does not
	// fit, so it saturates to UINT64_MAX (still a correct "greater than
	// every value in the bucket but the maximum").
	static constexpr uint64_t upper(size_t i)
	{
		if (i < SUB)
			return i + 1;
		const uint64_t shift = (i - SUB) / SUB;
		const uint64_t lo = lower(i);
		const uint64_t w = uint64_t{1} << shift;
		return lo > std::numeric_limits<uint64_t>::max() - w ? std::numeric_limits<uint64_t>::max()
								      : lo + w;
	}

	void record(uint64_t v)
	{
		counts_[index(v)]++;
		count_++;
		sum_ += v;
		if (v < min_)
			min_ = v;
		if (v > max_)
			max_ = v;
	}

	void merge(const Histogram &o)
	{
		for (size_t i = 0; i < NBUCKETS; i++)
			counts_[i] += o.counts_[i];
		count_ += o.count_;
		sum_ += o.sum_;
		min_ = std::min(min_, o.min_);
		max_ = std::max(max_, o.max_);
	}

	void reset()
	{
		std::fill(counts_.begin(), counts_.end(), 0);
		count_ = 0;
		sum_ = 0;
		min_ = std::numeric_limits<uint64_t>::max();
		max_ = 0;
	}

	uint64_t count() const { return count_; }
	uint64_t min() const { return count_ ? min_ : 0; }
	uint64_t max() const { return max_; }
	// Exact: the sum is kept beside the buckets (128 bits cannot overflow).
	double mean() const
	{
		return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0;
	}

	// Nearest-rank percentile, q in [0, 1]: the smallest recorded value v
	// such that at least ceil(q * count) samples are <= v, approximated by
	// the midpoint of v's bucket and clamped to the exact [min, max].
	// q = 0 gives min, q = 1 gives max.
	double percentile(double q) const
	{
		if (count_ == 0)
			return 0.0;
		if (!(q >= 0.0 && q <= 1.0))
			throw std::invalid_argument("percentile: q must be in [0, 1]");
		if (q == 0.0)
			return static_cast<double>(min_);
		uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
		rank = std::clamp<uint64_t>(rank, 1, count_);
		// The extreme ranks are the exact min and max we keep.
		if (rank == 1)
			return static_cast<double>(min_);
		if (rank == count_)
			return static_cast<double>(max_);
		uint64_t seen = 0;
		for (size_t i = 0; i < NBUCKETS; i++) {
			seen += counts_[i];
			if (seen >= rank) {
				const double lo = static_cast<double>(lower(i));
				const double hi = static_cast<double>(upper(i));
				// Width-1 buckets hold exactly one value: no midpoint.
				const double mid = (i < SUB) ? lo : lo + (hi - lo) / 2.0;
				return std::clamp(mid, static_cast<double>(min()), static_cast<double>(max_));
			}
		}
		return static_cast<double>(max_);
	}

	// Non-empty buckets, in value order.
	std::vector<Bucket> buckets() const
	{
		std::vector<Bucket> out;
		for (size_t i = 0; i < NBUCKETS; i++)
			if (counts_[i])
				out.push_back({lower(i), upper(i), counts_[i]});
		return out;
	}

private:
	std::vector<uint64_t> counts_;
	uint64_t count_ = 0;
	unsigned __int128 sum_ = 0;
	uint64_t min_ = std::numeric_limits<uint64_t>::max();
	uint64_t max_ = 0;
};

}  // namespace kmodlab
