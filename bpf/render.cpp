// render.cpp - a Report as JSON (schema in bpf/README.md, written with
// nlohmann-json) and as text tables with bars, the way the libbpf-tools
// print histograms.
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include <linux/types.h>
#include <nlohmann/json.hpp>

#include "hist.h"
#include "session_internal.hpp"

namespace kmodlab::bpf {

// What "%.<decimals>f" prints, read back: the JSON holds exactly the
// number the printf-based writer before nlohmann-json printed.
double rounded(double v, int decimals)
{
	char b[64];
	snprintf(b, sizeof(b), "%.*f", decimals, v);
	return strtod(b, nullptr);
}

namespace {

const double kQuantiles[] = {0.5, 0.9, 0.99, 0.999, 0.9999};
const char *const kQuantileNames[] = {"p50", "p90", "p99", "p99.9", "p99.99"};

// Keys in the schema's order (bpf/README.md), as the hand-written writer
// this replaces printed them.
using Json = nlohmann::ordered_json;

// "histogram": [[lo, hi, count], ...] and "percentiles" into object o.
void hist_json(Json &o, const Histogram &h)
{
	Json buckets = Json::array();
	for (const auto &b : h.buckets)
		buckets.push_back({b.lo, b.hi, b.count});
	o["histogram"] = std::move(buckets);
	Json p = Json::object();
	for (size_t i = 0; i < std::size(kQuantiles); i++)
		p[kQuantileNames[i]] = rounded(h.percentile(kQuantiles[i]), 1);
	o["percentiles"] = std::move(p);
}

std::string dur(double ns)
{
	char b[32];
	if (ns < 1e3)
		snprintf(b, sizeof(b), "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(b, sizeof(b), "%.2fus", ns / 1e3);
	else if (ns < 1e9)
		snprintf(b, sizeof(b), "%.2fms", ns / 1e6);
	else
		snprintf(b, sizeof(b), "%.2fs", ns / 1e9);
	return b;
}

// The fine buckets summed per power of two: the table stays readable;
// the percentile line above it keeps the fine resolution.
void hist_text(std::ostringstream &o, const Histogram &h, const char *unit)
{
	uint64_t rows[64] = {};
	int lo = 64, hi = -1;
	for (const auto &b : h.buckets) {
		int k = b.lo ? 63 - __builtin_clzll(b.lo) : 0;
		rows[k] += b.count;
		lo = std::min(lo, k);
		hi = std::max(hi, k);
	}
	if (hi < 0)
		return;
	uint64_t top = 0;
	for (int k = lo; k <= hi; k++)
		top = std::max(top, rows[k]);
	char line[160];
	snprintf(line, sizeof(line), "%24s : %-10s distribution\n", unit, "count");
	o << line;
	const int width = 40;
	for (int k = lo; k <= hi; k++) {
		uint64_t a = k ? (1ull << k) : 0, z = (1ull << (k + 1)) - 1;
		int bar = top ? int((rows[k] * width + top - 1) / top) : 0;
		snprintf(line, sizeof(line), "%11" PRIu64 " -> %-10" PRIu64 " : %-10" PRIu64 " |%-*s|\n", a, z, rows[k],
			 width, std::string(bar, '*').c_str());
		o << line;
	}
}

void summary_text(std::ostringstream &o, const Histogram &h)
{
	o << "count " << h.count << "  avg " << dur(h.count ? double(h.sum_ns) / double(h.count) : 0) << "  min "
	  << dur(double(h.min_ns)) << "  max " << dur(double(h.max_ns));
	for (size_t i = 0; i < std::size(kQuantiles); i++)
		o << "  " << kQuantileNames[i] << " " << dur(h.percentile(kQuantiles[i]));
	o << "\n";
}

} // namespace

namespace {

Json opslat_json(const OpStat &s)
{
	Json o = {{"device", s.device}, {"rdev", std::to_string(s.major) + ":" + std::to_string(s.minor)},
		  {"op", s.op}, {"count", s.hist.count}, {"sum_ns", s.hist.sum_ns},
		  {"min_ns", s.hist.min_ns}, {"max_ns", s.hist.max_ns}};
	hist_json(o, s.hist);
	o["errors"] = Json::object();
	for (const auto &[name, n] : s.errors)
		o["errors"][name] = n;
	return o;
}

Json lockstat_json(const LockStat &l)
{
	Json o = {{"lock", l.lock}, {"kind", l.kind}, {"context", l.context}, {"device", l.device},
		  {"op", l.op}, {"count", l.count}, {"total_ns", l.total_ns}, {"max_ns", l.max_ns}};
	hist_json(o, l.hist);
	return o;
}

Json funclat_json(const FuncStat &f)
{
	Json o = {{"function", f.func}, {"module", f.module}, {"count", f.hist.count},
		  {"sum_ns", f.hist.sum_ns}, {"min_ns", f.hist.min_ns}, {"max_ns", f.hist.max_ns}};
	hist_json(o, f.hist);
	return o;
}

Json wakeup_json(const WakeStat &w)
{
	Json o = {{"device", w.device}, {"rdev", std::to_string(w.major) + ":" + std::to_string(w.minor)},
		  {"op", w.op}, {"count", w.hist.count}, {"sleeps", w.sleeps}, {"woke_running", w.woke_running},
		  {"sum_ns", w.hist.sum_ns}, {"min_ns", w.hist.min_ns}, {"max_ns", w.hist.max_ns}};
	hist_json(o, w.hist);
	return o;
}

// {"name": n, ...} of (name, n) pairs, in their order.
Json pairs_json(const std::vector<std::pair<std::string, uint64_t>> &v)
{
	Json o = Json::object();
	for (const auto &[k, n] : v)
		o[k] = n;
	return o;
}

// A module's events; a phase as opslat's figures (count, sum, min, max,
// histogram, percentiles).
Json trace_json(const TraceModule &m)
{
	Json o = {{"module", m.module}, {"driver", m.driver}, {"variant", m.variant}, {"events", pairs_json(m.events)}};
	o["phases"] = Json::object();
	for (const auto &[name, h] : m.phases) {
		Json p = {{"count", h.count}, {"sum_ns", h.sum_ns}, {"min_ns", h.min_ns}, {"max_ns", h.max_ns}};
		hist_json(p, h);
		o["phases"][name] = std::move(p);
	}
	o["sequence"] = pairs_json(m.sequence);
	return o;
}

Json prog_stat_json(const ProgStat &p)
{
	return {{"name", p.name}, {"run_cnt", p.run_cnt}, {"run_time_ns", p.run_time_ns},
		{"ns_per_event", rounded(p.ns_per_event, 1)}, {"recursion_misses", p.recursion_misses}};
}

} // namespace

std::string render_json(const Report &r)
{
	Json j = {{"attach_mode", r.attach_mode}, {"duration_ns", r.duration_ns}};
	j["histogram_format"] = {{"sub_buckets_per_power_of_two", HIST_SUB},
				 {"max_relative_width", 1.0 / HIST_SUB}};
	auto list = [](const auto &items, Json (*one)(const std::decay_t<decltype(items[0])> &)) {
		Json a = Json::array();
		for (const auto &x : items)
			a.push_back(one(x));
		return a;
	};
	j["opslat"] = list(r.opslat, opslat_json);
	j["lockstat"] = list(r.lockstat, lockstat_json);
	j["funclat"] = list(r.funclat, funclat_json);
	if (r.wakeup_traced)  // only with Options::wakelat: older reports unchanged
		j["wakeup"] = list(r.wakeup, wakeup_json);
	if (!r.trace_events.empty())  // only with Options::trace_events: older reports unchanged
		j["trace_events"] = list(r.trace_events, trace_json);
	j["dropped"] = r.dropped;
	j["drops"] = Json::object();
	for (const auto &[name, n] : r.drops)
		j["drops"][name] = n;
	j["prog_stats_enabled"] = r.prog_stats_enabled;
	j["prog_stats"] = list(r.prog_stats, prog_stat_json);
	j["notes"] = r.notes;
	// Compact, as before; a byte that is not UTF-8 (none of our names has
	// one) becomes U+FFFD instead of an exception.
	return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string render_text(const Report &r)
{
	std::ostringstream o;
	for (const auto &s : r.opslat) {
		o << "\n" << s.device << " (" << s.major << ":" << s.minor << ") " << s.op << ": ";
		summary_text(o, s.hist);
		if (!s.errors.empty()) {
			o << "  errors:";
			for (const auto &[name, n] : s.errors)
				o << " " << name << "=" << n;
			o << "\n";
		}
		hist_text(o, s.hist, "nsecs");
	}
	if (!r.lockstat.empty()) {
		char line[256];
		o << "\nlock contention inside target-device syscalls (by total wait):\n";
		snprintf(line, sizeof(line), "%-40s %-12s %-5s %-18s %-8s %10s %12s %12s %12s\n", "lock", "kind", "ctx",
			 "device", "op", "count", "total", "max", "avg");
		o << line;
		for (const auto &l : r.lockstat) {
			snprintf(line, sizeof(line), "%-40s %-12s %-5s %-18s %-8s %10" PRIu64 " %12s %12s %12s\n",
				 l.lock.c_str(), l.kind.c_str(), l.context.c_str(), l.device.c_str(), l.op.c_str(), l.count,
				 dur(double(l.total_ns)).c_str(), dur(double(l.max_ns)).c_str(),
				 dur(l.count ? double(l.total_ns) / double(l.count) : 0).c_str());
			o << line;
		}
		for (const auto &l : r.lockstat) {
			o << "\n" << l.lock << " (" << l.kind << (l.context == "irq" ? ", in interrupts" : "")
			  << ") waits in " << l.op << " on " << l.device << ":\n";
			hist_text(o, l.hist, "nsecs");
		}
	}
	for (const auto &f : r.funclat) {
		o << "\n" << f.func << " [" << f.module << "]: ";
		summary_text(o, f.hist);
		hist_text(o, f.hist, "nsecs");
	}
	for (const auto &w : r.wakeup) {
		o << "\nwakeups of " << w.op << " on " << w.device << " (" << w.sleeps << " sleeps, " << w.woke_running
		  << " woken while running): ";
		summary_text(o, w.hist);
		hist_text(o, w.hist, "nsecs");
	}
	for (const auto &m : r.trace_events) {
		o << "\ntracepoints of " << m.module << ":";
		for (const auto &[name, n] : m.events)
			o << " " << name << " " << n;
		for (const auto &[name, n] : m.sequence)
			o << (&name == &m.sequence.front().first ? "\n  sequence:" : "") << " " << name << " " << n;
		o << "\n";
		for (const auto &[name, h] : m.phases) {
			o << "  phase " << name << ": ";
			summary_text(o, h);
			hist_text(o, h, "nsecs");
		}
	}
	if (r.dropped) {
		o << "\nDROPPED " << r.dropped << " events:";
		for (const auto &[name, n] : r.drops)
			if (n)
				o << " " << name << "=" << n;
		o << "\n";
	}
	if (!r.prog_stats.empty() && r.prog_stats_enabled) {
		o << "\nBPF program cost (bpf_stats):\n";
		for (const auto &p : r.prog_stats) {
			char line[200];
			snprintf(line, sizeof(line), "  %-24s %12" PRIu64 " runs %14" PRIu64 " ns %8.1f ns/event%s\n",
				 p.name.c_str(), p.run_cnt, p.run_time_ns, p.ns_per_event,
				 p.recursion_misses ? " (recursion misses!)" : "");
			o << line;
		}
	}
	for (const auto &n : r.notes)
		o << "note: " << n << "\n";
	return o.str();
}

} // namespace kmodlab::bpf
