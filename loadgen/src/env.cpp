// env.cpp - environment collection.
#include "env.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace kmodlab {

std::string read_first_line(const std::string &path)
{
	std::ifstream f(path);
	std::string line;
	std::getline(f, line);
	return line;
}

Environment collect_environment()
{
	Environment e;
	struct utsname u;
	if (uname(&u) == 0) {
		e.kernel_release = u.release;
		e.kernel_version = u.version;
		e.machine = u.machine;
		e.hostname = u.nodename;
	}
	e.cmdline = read_first_line("/proc/cmdline");
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	e.cpus = n > 0 ? static_cast<unsigned>(n) : 0;
	std::ifstream ci("/proc/cpuinfo");
	std::string line;
	while (std::getline(ci, line)) {
		if (line.rfind("flags", 0) != 0)
			continue;
		std::istringstream words(line.substr(line.find(':') + 1));
		std::string w;
		while (words >> w)
			e.hypervisor |= w == "hypervisor";
		break;
	}
	const char *accel = getenv("KMODLAB_ACCEL");
	e.accel = accel && *accel ? accel : "unknown";
	e.clocksource = read_first_line("/sys/devices/system/clocksource/clocksource0/current_clocksource");
	char buf[64];
	std::time_t t = std::time(nullptr);
	std::tm tm;
	gmtime_r(&t, &tm);
	std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	e.time_utc = buf;
	return e;
}

std::map<std::string, std::string> module_parameters(const std::string &module)
{
	std::map<std::string, std::string> out;
	if (module.empty())
		return out;
	std::error_code ec;
	const std::filesystem::path dir = "/sys/module/" + module + "/parameters";
	for (const auto &ent : std::filesystem::directory_iterator(dir, ec)) {
		std::ifstream f(ent.path());
		std::stringstream ss;
		ss << f.rdbuf();
		std::string v = ss.str();
		while (!v.empty() && (v.back() == '\n' || v.back() == ' '))
			v.pop_back();
		out[ent.path().filename().string()] = v;
	}
	return out;
}

}  // namespace kmodlab
