// report.cpp - the emit stage: merge the workers' figures, print the table,
// build the JSON document (loadgen/SCHEMA.md) with nlohmann::json.
#include "report.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstring>

#include "env.hpp"

namespace kmodlab {

std::string fmt_rate(double v)
{
	char b[32];
	if (v >= 1e9)
		std::snprintf(b, sizeof(b), "%.2f G", v / 1e9);
	else if (v >= 1e6)
		std::snprintf(b, sizeof(b), "%.2f M", v / 1e6);
	else if (v >= 1e3)
		std::snprintf(b, sizeof(b), "%.2f k", v / 1e3);
	else
		std::snprintf(b, sizeof(b), "%.1f ", v);
	return b;
}

namespace {

using json = nlohmann::ordered_json;

std::string errno_name(int e)
{
	if (e == 0)
		return "EOTHER";
	const char *n = strerrorname_np(e);
	return n ? n : "E" + std::to_string(e);
}


void add_stats(Summary &s, const OpStats &o)
{
	s.hist.merge(o.hist);
	s.service.merge(o.service);
	s.ops += o.ops;
	s.bytes += o.bytes;
	for (int e = 0; e < kMaxErrno; e++)
		if (o.errors[e])
			s.errors[errno_name(e)] += o.errors[e];
}

json latency_json(const Histogram &h)
{
	return json{{"min", static_cast<double>(h.min())}, {"mean", h.mean()},
		    {"p50", h.percentile(0.50)},            {"p90", h.percentile(0.90)},
		    {"p99", h.percentile(0.99)},            {"p999", h.percentile(0.999)},
		    {"p9999", h.percentile(0.9999)},        {"max", static_cast<double>(h.max())}};
}

// [[lo, hi, count], ...] of the non-empty buckets.
json histogram_json(const Histogram &h)
{
	json out = json::array();
	for (const auto &b : h.buckets())
		out.push_back(json::array({b.lo, b.hi, b.count}));
	return out;
}

std::string fmt_ns(double ns)
{
	char b[32];
	if (ns < 10e3)
		std::snprintf(b, sizeof(b), "%.0f", ns);
	else if (ns < 10e6)
		std::snprintf(b, sizeof(b), "%.1fus", ns / 1e3);
	else
		std::snprintf(b, sizeof(b), "%.2fms", ns / 1e6);
	return b;
}

void print_row(FILE *tout, const std::string &name, const Histogram &h)
{
	std::fprintf(tout, "  %-22s %9s %9s %9s %9s %9s %9s %9s %9s\n", name.c_str(), fmt_ns(static_cast<double>(h.min())).c_str(),
		    fmt_ns(h.mean()).c_str(), fmt_ns(h.percentile(0.5)).c_str(), fmt_ns(h.percentile(0.9)).c_str(),
		    fmt_ns(h.percentile(0.99)).c_str(), fmt_ns(h.percentile(0.999)).c_str(),
		    fmt_ns(h.percentile(0.9999)).c_str(), fmt_ns(static_cast<double>(h.max())).c_str());
}

std::string mix_string(const Options &opt)
{
	std::string s;
	for (const auto &m : opt.mix)
		s += (s.empty() ? "" : ",") + m.op + "=" + std::to_string(m.weight);
	return s;
}

std::string op_string(const Options &opt) { return opt.mix_given ? "mix" : opt.mix[0].op; }

// A value, or null where it does not apply to this run (SCHEMA.md).
template <typename T> json value_or_null(bool applies, const T &v) { return applies ? json(v) : json(nullptr); }

json env_json(const Run &run)
{
	const Environment env = collect_environment();
	return json{{"kernel", env.kernel_release}, {"kernel_version", env.kernel_version},
		    {"machine", env.machine},       {"hostname", env.hostname},
		    {"accel", env.accel},           {"hypervisor", env.hypervisor},
		    {"cpus", env.cpus},             {"cmdline", env.cmdline},
		    {"clocksource", env.clocksource}, {"clock", run.clock.name()},
		    {"clock_note", run.clock.note()}, {"time_utc", env.time_utc}};
}

// What was asked for: device, module, operations, load shape.
void settings_json(json &j, const Run &run, const Results &r)
{
	const Options &opt = run.opt;
	const DeviceInfo &dev = run.dev;
	j["device"] = opt.device;
	j["driver"] = kind_name(dev.kind);
	j["variant"] = value_or_null(!dev.variant.empty(), dev.variant);
	j["module"] = value_or_null(!dev.module.empty(), dev.module);
	j["module_params"] = json::object();
	for (const auto &[k, v] : run.params)
		j["module_params"][k] = v;
	j["op"] = op_string(opt);
	j["mix"] = json::object();
	for (const auto &m : opt.mix)
		j["mix"][m.op] = m.weight;
	j["threads"] = opt.threads;
	j["mode"] = opt.rate > 0 ? "open" : "closed";
	j["rate"] = value_or_null(opt.rate > 0, opt.rate);
	j["size"] = run.size;
	j["span"] = value_or_null(run.seekable, run.span);
	j["offsets"] = value_or_null(run.seekable, opt.random_offsets ? "rand" : "seq");
	j["duration_s"] = r.elapsed;
	j["warmup_s"] = opt.warmup_s;
	j["ops_requested"] = value_or_null(opt.ops != 0, opt.ops);
	// ops mode with no --duration: no requested duration
	j["duration_requested_s"] = value_or_null(opt.ops == 0 || opt.duration_s > 0, opt.duration_s);
	j["interrupted"] = r.interrupted;
}

json errors_json(const std::map<std::string, uint64_t> &errors)
{
	json out = json::object();
	for (const auto &[k, v] : errors)
		out[k] = v;
	return out;
}

// What was measured: totals, latency, histograms, per operation.
void figures_json(json &j, const Run &run, const Results &r)
{
	j["ops"] = r.total.ops;
	j["errors"] = errors_json(r.total.errors);
	j["bytes"] = r.total.bytes;
	j["ops_per_s"] = r.ops_s;
	j["bytes_per_s"] = r.bytes_s;
	j["cpu_s"] = r.cpu_s;
	j["ops_per_cpu_s"] = r.ops_cpu_s;
	j["latency_ns"] = latency_json(r.total.hist);
	j["histogram"] = histogram_json(r.total.hist);
	if (run.opt.rate > 0) {
		j["service_latency_ns"] = latency_json(r.total.service);
		j["service_histogram"] = histogram_json(r.total.service);
	}
	json per_op = json::object();
	for (size_t i = 0; i < run.ops.size(); i++) {
		const Summary &s = r.per_op[i];
		per_op[run.ops[i].name] = json{{"weight", run.opt.mix[i].weight}, {"ops", s.ops},
					       {"bytes", s.bytes},                  {"errors", errors_json(s.errors)},
					       {"latency_ns", latency_json(s.hist)}, {"histogram", histogram_json(s.hist)}};
	}
	j["per_op"] = per_op;
}

const char *outcome_word(const TraceOutcome &t) { return !t.checked ? "not run" : t.ok ? "ok" : "FAILED"; }

// "scull_qset_alloc 1 (expected 1), scull_qset_free 3, ...": the set-up's
// figures, each with its expected value when the plan has one.
std::string setup_line(const SetupTrace &s)
{
	std::string out;
	for (const auto &[name, n] : s.figures) {
		out += (out.empty() ? "" : ", ") + name + " " + std::to_string(n);
		for (const auto &e : s.plan.expect)
			if (e.figure == name)
				out += " (expected " + std::to_string(e.lo) +
				       (e.hi == e.lo ? "" : "-" + std::to_string(e.hi)) + ")";
	}
	return out.empty() ? "no events" : out;
}

json expect_json(const TracePlan &plan)
{
	json out = json::array();
	for (const auto &e : plan.expect)
		out.push_back(json{{"figure", e.figure}, {"lo", e.lo}, {"hi", e.hi}, {"why", e.why}});
	return out;
}

json setup_json(const SetupTrace &s)
{
	json figures = json::object();
	for (const auto &[name, n] : s.figures)
		figures[name] = n;
	const SetupFacts &f = s.facts;
	uint64_t bytes = 0;
	for (const auto &reg : f.regions)
		bytes += reg.second;
	return json{{"emptied", f.emptied},
		    {"prefill_bytes", bytes},
		    {"prefill_writes", f.writes},
		    {"geometry", f.quantum ? json{{"quantum", f.quantum}, {"qset", f.qset}} : json(nullptr)},
		    {"trace_events", figures},
		    {"expected", expect_json(s.plan)},
		    {"not_modelled", s.plan.applies ? json(nullptr) : json(s.plan.not_checked)}};
}

json outcome_json(const TraceOutcome &t)
{
	return json{{"checked", t.checked}, {"ok", value_or_null(t.checked, t.ok)}, {"detail", t.detail}};
}

}  // namespace

Results merge_results(const Run &run, bool interrupted)
{
	Results r;
	r.per_op.resize(run.ops.size());
	r.interrupted = interrupted;
	uint64_t first_start = UINT64_MAX, last_end = 0, cpu_ns = 0;
	for (auto &w : run.workers) {
		cpu_ns += w->cpu_ns;
		for (size_t i = 0; i < run.ops.size(); i++) {
			add_stats(r.total, w->stats[i]);
			add_stats(r.per_op[i], w->stats[i]);
		}
		if (w->stats.size() && w->first_start != UINT64_MAX) {
			first_start = std::min(first_start, w->first_start);
			last_end = std::max(last_end, w->last_end);
		}
	}
	const double tpn = run.clock.ticks_per_ns();
	r.elapsed = last_end > first_start ? static_cast<double>(last_end - first_start) / tpn / 1e9 : 0.0;
	r.ops_s = r.elapsed > 0 ? static_cast<double>(r.total.ops) / r.elapsed : 0;
	r.cpu_s = static_cast<double>(cpu_ns) / 1e9;
	r.ops_cpu_s = r.cpu_s > 0 ? static_cast<double>(r.total.ops) / r.cpu_s : 0;
	r.bytes_s = r.elapsed > 0 ? static_cast<double>(r.total.bytes) / r.elapsed : 0;
	for (const auto &[k, v] : r.total.errors)
		r.errors += v;
	return r;
}

void print_table(FILE *tout, const Run &run, const Results &r, const CheckOutcome &check, const SetupTrace *setup)
{
	const Options &opt = run.opt;
	std::fprintf(tout, "kmodlab-load %s  %s", opt.device.c_str(), kind_name(run.dev.kind));
	if (!run.dev.variant.empty())
		std::fprintf(tout, " (variant %s, module %s)", run.dev.variant.c_str(), run.dev.module.c_str());
	std::fprintf(tout, "\n  op %s  threads %u  %s loop", opt.mix_given ? mix_string(opt).c_str() : op_string(opt).c_str(),
		    opt.threads, opt.rate > 0 ? "open" : "closed");
	if (opt.rate > 0)
		std::fprintf(tout, " at %s ops/s", fmt_rate(opt.rate).c_str());
	std::fprintf(tout, "  size %" PRIu64 "  clock %s%s\n", run.size, run.clock.name(),
		    r.interrupted ? "  (interrupted)" : "");
	std::fprintf(tout, "  measured %.3f s  ops %" PRIu64 "  errors %" PRIu64 "  ops/s %s  bytes/s %sB\n", r.elapsed,
		    r.total.ops, r.errors, fmt_rate(r.ops_s).c_str(), fmt_rate(r.bytes_s).c_str());
	std::fprintf(tout, "  latency (ns)                 min      mean       p50       p90       p99     p99.9    p99.99       max\n");
	print_row(tout, "all", r.total.hist);
	if (run.ops.size() > 1)
		for (size_t i = 0; i < run.ops.size(); i++)
			print_row(tout, run.ops[i].name, r.per_op[i].hist);
	if (opt.rate > 0)
		print_row(tout, "service (actual start)", r.total.service);
	for (const auto &[k, v] : r.total.errors)
		std::fprintf(tout, "  error %s: %" PRIu64 "\n", k.c_str(), v);
	if (opt.check)
		std::fprintf(tout, "  check: %s: %s\n", check.ok ? "ok" : "FAILED", check.detail.c_str());
	if (setup)
		std::fprintf(tout, "  set-up tracepoints (before the run, not measured): %s\n", setup_line(*setup).c_str());
	if (opt.check && opt.bpf_trace) {
		std::fprintf(tout, "  tracepoint check: %s: %s\n", outcome_word(check.trace), check.trace.detail.c_str());
		std::fprintf(tout, "  set-up tracepoint check: %s: %s\n", outcome_word(check.setup),
			     check.setup.detail.c_str());
	}
}

json json_document(const Run &run, const Results &r, const CheckOutcome &check, const std::optional<std::string> &bpf,
		   const SetupTrace *setup)
{
	json j = {{"tool", "kmodlab-load"}, {"version", kVersion}, {"env", env_json(run)}};
	settings_json(j, run, r);
	figures_json(j, run, r);
	j["check"] = json{{"enabled", run.opt.check}, {"ok", value_or_null(run.opt.check, check.ok)},
			  {"detail", check.detail}};
	const bool traced_check = run.opt.check && run.opt.bpf_trace;
	j["check"]["trace_events"] = traced_check ? outcome_json(check.trace) : json(nullptr);
	j["check"]["setup_trace_events"] = traced_check ? outcome_json(check.setup) : json(nullptr);
	j["bpf"] = bpf ? json::parse(*bpf) : json(nullptr);
	j["setup"] = setup ? setup_json(*setup) : json(nullptr);
	return j;
}

}  // namespace kmodlab
