// kmodlab-hostspeed - how steady is this machine's CPU?  The cause of the
// "slow mode" of TCG runs (issue 14): the host itself.
//
// Runs the same fixed chunk of ALU work (a dependent add chain, no memory, no
// syscalls) back to back for --seconds and reports each chunk's time against
// the fastest chunk.  On a steady CPU every chunk takes the same time (ratio
// 1.00-1.05); on a shared cloud host whole phases run 1.4-2x slower, and
// everything measured during them (a guest's kmodlab-load run under TCG
// included) is slowed as a whole.  The bench's disturbed-run rule exists for
// those phases (kmodlab.conf STATS_DISTURBED_FLOOR_*).
//
// Output: one human-readable summary, or with --json one JSON object.
// Exit 0; 2 on bad options or when the chunk cannot be sized.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <sched.h>
#include <vector>

namespace {

double now_ns()
{
	timespec ts{};
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

// The work: n dependent adds.  The empty asm keeps the compiler from folding
// the loop into a formula; it emits no instruction.
double chunk_ns(uint64_t n)
{
	uint64_t x = 0;
	const double t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		x += i;
		asm volatile("" : "+r"(x));
	}
	return now_ns() - t0;
}

// Iterations for a chunk of about want_ms at this machine's fastest, from the
// best of a few doubling probes (a slow phase during sizing only makes the
// chunks shorter than asked, never wrong).
uint64_t size_chunk(double want_ms)
{
	uint64_t n = 1 << 16;
	double best = 0;
	for (int i = 0; i < 40 && n < (uint64_t{1} << 40); i++) {
		double t = chunk_ns(n);
		for (int r = 0; r < 2; r++)
			t = std::min(t, chunk_ns(n));
		best = t;
		if (t >= want_ms * 1e6 / 4)
			break;
		n *= 2;
	}
	return best > 0 ? static_cast<uint64_t>(n * want_ms * 1e6 / best) : 0;
}

double quantile(std::vector<double> v, double q)
{
	std::sort(v.begin(), v.end());
	const double pos = q * (v.size() - 1);
	const size_t lo = static_cast<size_t>(pos);
	const size_t hi = std::min(lo + 1, v.size() - 1);
	return v[lo] + (pos - lo) * (v[hi] - v[lo]);
}

nlohmann::json summarize(const std::vector<double> &ns, uint64_t iters, double chunk_ms, int cpu)
{
	const double fastest = *std::min_element(ns.begin(), ns.end());
	std::vector<double> ratio;
	for (double t : ns)
		ratio.push_back(t / fastest);
	nlohmann::json above;
	for (double f : {1.1, 1.25, 1.5, 2.0}) {
		const auto k = std::count_if(ratio.begin(), ratio.end(), [f](double r) { return r > f; });
		char key[16];
		std::snprintf(key, sizeof(key), "%.2f", f);
		above[key] = static_cast<double>(k) / ratio.size();
	}
	return {{"tool", "kmodlab-hostspeed"},
		{"cpu", cpu < 0 ? nlohmann::json(nullptr) : nlohmann::json(cpu)},
		{"chunk_ms_requested", chunk_ms},
		{"chunk_iterations", iters},
		{"chunks", ns.size()},
		{"fastest_chunk_ns", fastest},
		{"slowdown", {{"p50", quantile(ratio, 0.5)}, {"p90", quantile(ratio, 0.9)},
			      {"p99", quantile(ratio, 0.99)}, {"max", quantile(ratio, 1.0)}}},
		{"fraction_slower_than", above},
		{"chunk_ns", ns}};  // in order: when the slow phases came and how long they lasted
}

void print_human(const nlohmann::json &j)
{
	const auto &s = j["slowdown"];
	const auto &a = j["fraction_slower_than"];
	std::printf("kmodlab-hostspeed: %zu chunks of %.1f ms (fastest), cpu %s\n",
		    j["chunks"].get<size_t>(), j["fastest_chunk_ns"].get<double>() / 1e6,
		    j["cpu"].is_null() ? "any" : std::to_string(j["cpu"].get<int>()).c_str());
	std::printf("  chunk time / fastest: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", s["p50"].get<double>(),
		    s["p90"].get<double>(), s["p99"].get<double>(), s["max"].get<double>());
	std::printf("  chunks slower than 1.1x %.0f%%, 1.25x %.0f%%, 1.5x %.0f%%, 2x %.0f%%\n",
		    100 * a["1.10"].get<double>(), 100 * a["1.25"].get<double>(), 100 * a["1.50"].get<double>(),
		    100 * a["2.00"].get<double>());
	std::printf("  (a steady CPU: p90 below 1.05 and nothing above 1.25x; above that, runs of the\n"
		    "   bench are slowed as a whole now and then, and its disturbed-run rule excludes them)\n");
}

} // namespace

int main(int argc, char **argv)
{
	CLI::App app{"kmodlab-hostspeed: chunks of fixed ALU work timed back to back; how much slower than "
		     "the fastest chunk the others ran (the host's own slow phases)"};
	double seconds = 10, chunk_ms = 25;
	int cpu = -1;
	bool json = false;
	app.add_option("--seconds", seconds, "how long to measure")->check(CLI::Range(0.1, 3600.0));
	app.add_option("--chunk-ms", chunk_ms, "one chunk's length at the fastest")->check(CLI::Range(0.1, 1000.0));
	app.add_option("--cpu", cpu, "pin to this CPU (default: not pinned)")->check(CLI::NonNegativeNumber);
	app.add_flag("--json", json, "one JSON object instead of the summary");
	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		const int rc = app.exit(e);  // prints the help or the error
		return rc == 0 ? 0 : 2;
	}

	if (cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			std::fprintf(stderr, "kmodlab-hostspeed: cannot pin to CPU %d: %s\n", cpu, std::strerror(errno));
			return 2;
		}
	}
	const uint64_t iters = size_chunk(chunk_ms);
	if (iters == 0) {
		std::fprintf(stderr, "kmodlab-hostspeed: could not size a chunk of %.1f ms\n", chunk_ms);
		return 2;
	}
	std::vector<double> ns;
	for (const double end = now_ns() + seconds * 1e9; now_ns() < end;)
		ns.push_back(chunk_ns(iters));
	const nlohmann::json j = summarize(ns, iters, chunk_ms, cpu);
	if (json)
		std::printf("%s\n", j.dump(1).c_str());
	else
		print_human(j);
	return 0;
}
