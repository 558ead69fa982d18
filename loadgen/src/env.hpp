// env.hpp - the environment a run happened in, for the JSON output.
#pragma once

#include <map>
#include <string>

namespace kmodlab {

struct Environment {
	std::string kernel_release, kernel_version, machine, hostname;
	std::string cmdline;       // /proc/cmdline
	unsigned cpus = 0;         // online CPUs
	bool hypervisor = false;   // /proc/cpuinfo has the "hypervisor" flag
	std::string accel;         // KMODLAB_ACCEL (tcg|kvm) or "unknown"
	std::string clocksource;   // the kernel's current clocksource
	std::string time_utc;      // ISO 8601 start time
};

Environment collect_environment();

// /sys/module/<module>/parameters/*: name -> value (trailing newline cut).
// Empty when the module is not loaded or has no parameters.
std::map<std::string, std::string> module_parameters(const std::string &module);

std::string read_first_line(const std::string &path);

}  // namespace kmodlab
