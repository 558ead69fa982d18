// histogram.cpp - percentiles of a histogram decoded from the BPF maps
// (kmodlab::bpf::Histogram: non-empty buckets [lo, hi) with counts).
#include "kmodlab_bpf.hpp"

#include <algorithm>
#include <cmath>

namespace kmodlab::bpf {

namespace {
// Index of the bucket holding the rank-th value (1-based), and how many
// values precede that bucket.
bool find_rank(const Histogram &h, double q, size_t *bi, uint64_t *before, uint64_t *rank)
{
	if (!h.count)
		return false;
	uint64_t total = 0;
	for (const auto &b : h.buckets)
		total += b.count;
	if (!total)
		return false;
	*rank = std::max<uint64_t>(1, uint64_t(std::ceil(q * double(total))));
	uint64_t cum = 0;
	for (size_t i = 0; i < h.buckets.size(); i++) {
		if (cum + h.buckets[i].count >= *rank) {
			*bi = i;
			*before = cum;
			return true;
		}
		cum += h.buckets[i].count;
	}
	*bi = h.buckets.size() - 1;
	*before = cum - h.buckets.back().count;
	return true;
}
} // namespace

double Histogram::percentile(double q) const
{
	size_t bi;
	uint64_t before, rank;
	if (!find_rank(*this, q, &bi, &before, &rank))
		return 0;
	const auto &b = buckets[bi];
	double frac = (double(rank - before) - 0.5) / double(b.count);
	double v = double(b.lo) + frac * double(b.hi - b.lo);
	if (max_ns && v > double(max_ns))
		v = double(max_ns);
	if (v < double(min_ns))
		v = double(min_ns);
	return v;
}

uint64_t Histogram::percentile_floor(double q) const
{
	size_t bi;
	uint64_t before, rank;
	if (!find_rank(*this, q, &bi, &before, &rank))
		return 0;
	return buckets[bi].lo;
}


} // namespace kmodlab::bpf
