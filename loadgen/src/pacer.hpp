// pacer.hpp - open-loop pacing (wrk2's approach).
//
// Each of T threads runs at rate/T ops/s on its own schedule: operation k
// of thread i is meant to start at
//     start + offset_i + k * interval,  interval = T / rate,
//     offset_i = i * interval / T      (threads interleave evenly).
// A thread that falls behind does not skip or re-base its schedule: the
// next operation starts at once and its latency is counted from the
// intended start, so a stall shows up in every operation it delayed
// instead of in one (coordinated omission).
#pragma once

#include <cmath>
#include <cstdint>

namespace kmodlab {

class Pacer {
public:
	// All times in clock ticks; ticks_per_s converts the rate.
	Pacer(uint64_t start, double rate, unsigned threads, unsigned index, double ticks_per_s)
		: start_(start)
	{
		interval_ = ticks_per_s * threads / rate;
		offset_ = interval_ * index / threads;
	}
	uint64_t intended(uint64_t k) const
	{
		return start_ + static_cast<uint64_t>(std::llround(offset_ + interval_ * static_cast<double>(k)));
	}
	double interval() const { return interval_; }

	// Latency of an operation that ended at `end`, counted from its intended
	// start; an operation that started late is charged for the wait.
	static uint64_t latency(uint64_t intended, uint64_t end) { return end > intended ? end - intended : 0; }

private:
	uint64_t start_;
	double interval_;
	double offset_;
};

}  // namespace kmodlab
