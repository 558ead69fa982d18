// Open-loop pacing: schedule arithmetic, latency from the intended start,
// and a real paced run that neither runs ahead nor drifts.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "clock.hpp"
#include "pacer.hpp"

using kmodlab::Clock;
using kmodlab::Pacer;

TEST(Pacer, ScheduleSpacingAndThreadInterleave)
{
	// 1000 ops/s over 4 threads at 1 tick per ns: each thread every 4 ms,
	// threads 1 ms apart.
	const uint64_t start = 1000;
	Pacer p0(start, 1000, 4, 0, 1e9), p1(start, 1000, 4, 1, 1e9), p3(start, 1000, 4, 3, 1e9);
	EXPECT_EQ(p0.intended(0), start);
	EXPECT_EQ(p0.intended(1), start + 4000000);
	EXPECT_EQ(p0.intended(250), start + 1000000000);
	EXPECT_EQ(p1.intended(0), start + 1000000);
	EXPECT_EQ(p3.intended(2), start + 3000000 + 8000000);
}

TEST(Pacer, NoDriftOverLongSchedules)
{
	// 3 ops/s at 1e9 ticks/s: a fractional interval must not accumulate
	// rounding error (k * interval, not a running sum).
	Pacer p(0, 3, 1, 0, 1e9);
	EXPECT_EQ(p.intended(3000000), 1000000ull * 1000000000ull);
}

TEST(Pacer, LatencyCountsFromIntendedStart)
{
	// An op meant for t=100 that could only start at t=900 (a stall) and
	// ended at t=1000 has latency 900, not 100: coordinated omission.
	EXPECT_EQ(Pacer::latency(100, 1000), 900u);
	EXPECT_EQ(Pacer::latency(1000, 1000), 0u);
}

// The wait kmodlab-load's open loop really uses (kmodlab::wait_until) must
// never return before the intended start: the clock is read after it
// returns, so an early return (say, after the coarse sleep without the spin)
// is counted here.
TEST(Pacer, RealRunNeverEarlyAndKeepsRate)
{
	Clock clk;
	std::string err;
	ASSERT_TRUE(clk.init("auto", &err)) << err;
	const double rate = 2000;  // 500 us apart: both the sleep and the spin path
	const uint64_t start = clk.now();
	Pacer p(start, rate, 1, 0, 1e9 * clk.ticks_per_ns());
	const int n = 200;
	int early = 0;
	uint64_t worst_early = 0;
	for (int k = 0; k < n; k++) {
		const uint64_t t = p.intended(static_cast<uint64_t>(k));
		kmodlab::wait_until(clk, t);
		const uint64_t now = clk.now();
		if (now < t) {
			early++;
			worst_early = std::max(worst_early, clk.to_ns(t - now));
		}
	}
	const double elapsed_s = static_cast<double>(clk.now() - start) / clk.ticks_per_ns() / 1e9;
	EXPECT_EQ(early, 0) << early << " of " << n << " waits returned before the intended start, up to "
			    << worst_early << " ns early";
	// 199 intervals of 0.5 ms = 99.5 ms: never faster than the schedule.
	// No tight upper bound: on a shared 2-core machine a paced loop may be
	// descheduled for long; the schedule arithmetic is tested above.
	EXPECT_GT(elapsed_s, 0.0995);
	EXPECT_LT(elapsed_s, 10.0);
}

TEST(Pacer, WaitUntilLongWaitAndPast)
{
	Clock clk;
	std::string err;
	ASSERT_TRUE(clk.init("auto", &err)) << err;
	// 20 ms ahead: mostly the sleep path, which must still not return early.
	const uint64_t t = clk.now() + clk.from_ns(20e6);
	kmodlab::wait_until(clk, t);
	const uint64_t now = clk.now();
	EXPECT_GE(now, t) << "returned " << clk.to_ns(t - now) << " ns before a 20 ms deadline";
	// A start already past (a thread that fell behind) returns at once.
	const uint64_t m0 = kmodlab::mono_ns();
	kmodlab::wait_until(clk, clk.now() - clk.from_ns(1e6));
	EXPECT_LT(kmodlab::mono_ns() - m0, 5000000u) << "waited for a start that had passed";
}

TEST(Clock, TicksConvertToNanoseconds)
{
	Clock clk;
	std::string err;
	ASSERT_TRUE(clk.init("auto", &err)) << err;
	const uint64_t n0 = kmodlab::mono_ns(), t0 = clk.now();
	std::this_thread::sleep_for(std::chrono::milliseconds(50));
	const uint64_t n1 = kmodlab::mono_ns(), t1 = clk.now();
	const double ns = static_cast<double>(clk.to_ns(t1 - t0));
	EXPECT_NEAR(ns, static_cast<double>(n1 - n0), 0.01 * static_cast<double>(n1 - n0) + 20000);
	Clock mono;
	ASSERT_TRUE(mono.init("monotonic", &err));
	EXPECT_FALSE(mono.tsc());
	EXPECT_EQ(mono.to_ns(12345), 12345u);
}
