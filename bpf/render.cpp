// render.cpp - a Report as JSON (schema in bpf/README.md) and as text
// tables with bars, the way the libbpf-tools print histograms.
#include <cinttypes>
#include <cstdio>
#include <sstream>

#include "session_internal.hpp"

namespace kmodlab::bpf {

namespace {

const double kQuantiles[] = {0.5, 0.9, 0.99, 0.999, 0.9999};
const char *const kQuantileNames[] = {"p50", "p90", "p99", "p99.9", "p99.99"};

std::string esc(const std::string &s)
{
	std::string o = "\"";
	for (unsigned char c : s) {
		if (c == '"' || c == '\\') {
			o += '\\';
			o += char(c);
		} else if (c < 0x20) {
			char b[8];
			snprintf(b, sizeof(b), "\\u%04x", c);
			o += b;
		} else {
			o += char(c);
		}
	}
	return o + "\"";
}

std::string num(double v)
{
	char b[64];
	snprintf(b, sizeof(b), "%.1f", v);
	return b;
}

void hist_json(std::ostringstream &o, const Histogram &h)
{
	o << "\"histogram\":[";
	for (size_t i = 0; i < h.buckets.size(); i++)
		o << (i ? "," : "") << "[" << h.buckets[i].lo << "," << h.buckets[i].hi << "," << h.buckets[i].count
		  << "]";
	o << "],\"percentiles\":{";
	for (size_t i = 0; i < std::size(kQuantiles); i++)
		o << (i ? "," : "") << esc(kQuantileNames[i]) << ":" << num(h.percentile(kQuantiles[i]));
	o << "}";
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

std::string render_json(const Report &r)
{
	std::ostringstream o;
	o << "{\"attach_mode\":" << esc(r.attach_mode) << ",\"duration_ns\":" << r.duration_ns;
	o << ",\"histogram_format\":{\"sub_buckets_per_power_of_two\":32,\"max_relative_width\":0.03125}";
	o << ",\"opslat\":[";
	for (size_t i = 0; i < r.opslat.size(); i++) {
		const auto &s = r.opslat[i];
		o << (i ? "," : "") << "{\"device\":" << esc(s.device) << ",\"rdev\":\"" << s.major << ":" << s.minor
		  << "\",\"op\":" << esc(s.op) << ",\"count\":" << s.hist.count << ",\"sum_ns\":" << s.hist.sum_ns
		  << ",\"min_ns\":" << s.hist.min_ns << ",\"max_ns\":" << s.hist.max_ns << ",";
		hist_json(o, s.hist);
		o << ",\"errors\":{";
		size_t j = 0;
		for (const auto &[name, n] : s.errors)
			o << (j++ ? "," : "") << esc(name) << ":" << n;
		o << "}}";
	}
	o << "],\"lockstat\":[";
	for (size_t i = 0; i < r.lockstat.size(); i++) {
		const auto &l = r.lockstat[i];
		o << (i ? "," : "") << "{\"lock\":" << esc(l.lock) << ",\"kind\":" << esc(l.kind)
		  << ",\"context\":" << esc(l.context) << ",\"device\":" << esc(l.device) << ",\"op\":" << esc(l.op) << ",\"count\":" << l.count
		  << ",\"total_ns\":" << l.total_ns << ",\"max_ns\":" << l.max_ns << ",";
		hist_json(o, l.hist);
		o << "}";
	}
	o << "],\"funclat\":[";
	for (size_t i = 0; i < r.funclat.size(); i++) {
		const auto &f = r.funclat[i];
		o << (i ? "," : "") << "{\"function\":" << esc(f.func) << ",\"module\":" << esc(f.module)
		  << ",\"count\":" << f.hist.count << ",\"sum_ns\":" << f.hist.sum_ns << ",\"min_ns\":" << f.hist.min_ns
		  << ",\"max_ns\":" << f.hist.max_ns << ",";
		hist_json(o, f.hist);
		o << "}";
	}
	o << "],\"dropped\":" << r.dropped << ",\"drops\":{";
	size_t j = 0;
	for (const auto &[name, n] : r.drops)
		o << (j++ ? "," : "") << esc(name) << ":" << n;
	o << "},\"prog_stats_enabled\":" << (r.prog_stats_enabled ? "true" : "false") << ",\"prog_stats\":[";
	for (size_t i = 0; i < r.prog_stats.size(); i++) {
		const auto &p = r.prog_stats[i];
		o << (i ? "," : "") << "{\"name\":" << esc(p.name) << ",\"run_cnt\":" << p.run_cnt
		  << ",\"run_time_ns\":" << p.run_time_ns << ",\"ns_per_event\":" << num(p.ns_per_event)
		  << ",\"recursion_misses\":" << p.recursion_misses << "}";
	}
	o << "],\"notes\":[";
	for (size_t i = 0; i < r.notes.size(); i++)
		o << (i ? "," : "") << esc(r.notes[i]);
	o << "]}";
	return o.str();
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
