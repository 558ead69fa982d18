// clock.cpp - TSC calibration against CLOCK_MONOTONIC.
#include "clock.hpp"

#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

namespace kmodlab {

static bool cpu_has_invariant_tsc()
{
	std::ifstream f("/proc/cpuinfo");
	std::string line;
	while (std::getline(f, line)) {
		if (line.rfind("flags", 0) != 0)
			continue;
		std::istringstream words(line.substr(line.find(':') + 1));
		bool constant = false, nonstop = false;
		std::string w;
		while (words >> w) {
			constant |= w == "constant_tsc";
			nonstop |= w == "nonstop_tsc";
		}
		return constant && nonstop;
	}
	return false;
}

#if KMODLAB_HAVE_TSC
// ns per TSC tick over one window of about ms milliseconds.
static double calibrate_window(int ms)
{
	const uint64_t n0 = mono_ns();
	const uint64_t t0 = __rdtsc();
	std::this_thread::sleep_for(std::chrono::milliseconds(ms));
	const uint64_t n1 = mono_ns();
	const uint64_t t1 = __rdtsc();
	if (t1 <= t0)
		return 0;
	return static_cast<double>(n1 - n0) / static_cast<double>(t1 - t0);
}
#endif

bool Clock::init(const std::string &mode, std::string *error)
{
	tsc_ = false;
	if (mode == "monotonic") {
		note_ = "asked for";
		return true;
	}
#if KMODLAB_HAVE_TSC
	const bool invariant = cpu_has_invariant_tsc();
	// Without a TSC clocksource the kernel has no vDSO fast path and every
	// clock_gettime is a system call (with hpet under QEMU TCG, an emulated
	// MMIO read of microseconds).  The TSC is then worth trying even
	// without the invariant flags: TCG derives it from one host clock for
	// all vCPUs; calibration below still has to agree.
	std::string cs;
	{
		std::ifstream f("/sys/devices/system/clocksource/clocksource0/current_clocksource");
		std::getline(f, cs);
	}
	const bool slow_mono = !cs.empty() && cs != "tsc" && cs != "kvm-clock" && cs != "hyperv_clocksource_tsc_page";
	if (mode == "auto" && !invariant && !slow_mono) {
		note_ = "TSC not invariant (no constant_tsc/nonstop_tsc)";
		return true;
	}
	const double a = calibrate_window(25), b = calibrate_window(25);
	const bool agree = a > 0 && b > 0 && std::fabs(a - b) / a < 0.005;
	if (!agree) {
		if (mode == "tsc") {
			*error = "--clock tsc: the TSC does not tick steadily against CLOCK_MONOTONIC";
			return false;
		}
		note_ = "TSC calibration windows disagree";
		return true;
	}
	// Average of the two windows; one more long window would not matter
	// next to the 1% bucket width.
	ns_per_tick_ = (a + b) / 2;
	mult_ = static_cast<uint64_t>(std::llround(ns_per_tick_ * 4294967296.0));
	tsc_ = true;
	note_ = invariant ? "invariant TSC"
			  : mode == "tsc" ? "asked for (TSC not flagged invariant)"
					  : "clocksource " + cs + " has no vDSO; TSC calibrated steady";
	return true;
#else
	if (mode == "tsc") {
		*error = "--clock tsc: no TSC on this architecture";
		return false;
	}
	note_ = "no TSC on this architecture";
	return true;
#endif
}

}  // namespace kmodlab
