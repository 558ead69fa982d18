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

#include <chrono>
#include <cmath>
#include <cstdint>
#include <thread>

#include "clock.hpp"

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

// Return no earlier than clock tick t (the pacer's intended start).  Sleeps
// through most of a long wait and spins the rest: a sleep overshoots by tens
// of microseconds (more in a guest), and a sched_yield on a busy machine can
// give the CPU away for a whole time slice, which would show up as a latency
// stall.  Here, not in main.cpp, so that test_pacer.cpp tests the real wait.
inline void wait_until(const Clock &clk, uint64_t t)
{
	for (;;) {
		const uint64_t now = clk.now();
		if (now >= t)
			return;
		const double ns = static_cast<double>(t - now) / clk.ticks_per_ns();
		if (ns > 300e3)
			std::this_thread::sleep_for(std::chrono::nanoseconds(static_cast<int64_t>(ns - 150e3)));
#if KMODLAB_HAVE_TSC
		else
			_mm_pause();
#endif
	}
}

}  // namespace kmodlab
