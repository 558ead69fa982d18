// clock.hpp - the time source of the measured loop.
//
// kmodlab-load reads the clock once per operation in a closed loop, so the
// clock's own cost is most of the tool's overhead: CLOCK_MONOTONIC through
// the vDSO costs about 23 ns here, RDTSC about 11 ns, against a 180-220 ns
// read of /dev/zero.  The TSC is used when the CPU says it is invariant
// (constant_tsc and nonstop_tsc) and two calibration windows against
// CLOCK_MONOTONIC agree; otherwise, or with --clock monotonic, the vDSO
// clock.  Ticks convert to ns with a 32.32 fixed-point multiply.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define KMODLAB_HAVE_TSC 1
#else
#define KMODLAB_HAVE_TSC 0
#endif

namespace kmodlab {

inline uint64_t mono_ns()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

class Clock {
public:
	// mode: "auto", "tsc" or "monotonic".  Returns false with a message if
	// "tsc" was asked for and cannot be used.
	bool init(const std::string &mode, std::string *error);

	inline uint64_t now() const
	{
#if KMODLAB_HAVE_TSC
		if (tsc_)
			return __rdtsc();
#endif
		return mono_ns();
	}
	inline uint64_t to_ns(uint64_t ticks) const
	{
		if (!tsc_)
			return ticks;
		return static_cast<uint64_t>((static_cast<unsigned __int128>(ticks) * mult_) >> 32);
	}
	uint64_t from_ns(double ns) const
	{
		return tsc_ ? static_cast<uint64_t>(ns / ns_per_tick_) : static_cast<uint64_t>(ns);
	}
	double ticks_per_ns() const { return tsc_ ? 1.0 / ns_per_tick_ : 1.0; }
	bool tsc() const { return tsc_; }
	const char *name() const { return tsc_ ? "tsc" : "monotonic"; }
	// Why auto chose what it chose (for the JSON env).
	const std::string &note() const { return note_; }

private:
	bool tsc_ = false;
	double ns_per_tick_ = 1.0;
	uint64_t mult_ = uint64_t{1} << 32;
	std::string note_;
};

}  // namespace kmodlab
