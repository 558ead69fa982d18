// histogram.hpp - kmodlab's log-linear (HDR-style) histogram template,
// header-only: LogLinearHistogram<SubBits, MaxPow>.
//
// The bucket arithmetic is include/kmodlab/loglin.h, the same text the BPF
// programs compile (bpf/hist.h: LogLinearHistogram<5, 40>'s layout); this
// template adds the counts, exact sum/min/max, merging and percentiles.
// kmodlab-load records nanoseconds in Histogram = LogLinearHistogram<7>:
// 2^7 = 128 linear sub-buckets per power of two over the whole 64-bit
// range, documented in loadgen/SCHEMA.md:
//
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
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "kmodlab/loglin.h"

namespace kmodlab {

// SubBits: 2^SubBits sub-buckets per power of two; MaxPow: values of
// 2^MaxPow and more share the last bucket (64: none do).
template <unsigned SubBits, unsigned MaxPow = 64> class LogLinearHistogram {
	static_assert(SubBits >= 1 && SubBits < MaxPow && MaxPow <= 64, "log-linear layout out of range");

public:
	static constexpr unsigned SUB_BITS = SubBits;
	static constexpr uint64_t SUB = uint64_t{1} << SUB_BITS;
	static constexpr size_t NBUCKETS = LOGLIN_NBUCKETS(SubBits, MaxPow);

	struct Bucket {
		uint64_t lo, hi, count;  // [lo, hi)
	};

	LogLinearHistogram() : counts_(NBUCKETS, 0) {}

	static constexpr size_t index(uint64_t v) { return loglin_index(v, SubBits, MaxPow); }
	static constexpr uint64_t lower(size_t i) { return loglin_lower(static_cast<__u32>(i), SubBits); }
	// Exclusive upper bound; saturates to UINT64_MAX for the last bucket
	// of the 64-bit layout (loglin.h).
	static constexpr uint64_t upper(size_t i) { return loglin_upper(static_cast<__u32>(i), SubBits); }

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

	void merge(const LogLinearHistogram &o)
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

// kmodlab-load's histogram (loadgen/SCHEMA.md).
using Histogram = LogLinearHistogram<7>;

}  // namespace kmodlab
