// options.cpp - kmodlab-load's command line: the grammar (long and short
// names, --name=value, help) is CLI11's; the value forms (4k, 500ms, 10k,
// read=70,write=30) and the rules between options are the lab's, below.
#include "options.hpp"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>

namespace kmodlab {

bool parse_count(const std::string &s, double *out)
{
	if (s.empty())
		return false;
	errno = 0;
	char *end = nullptr;
	double v = std::strtod(s.c_str(), &end);
	if (errno || end == s.c_str())
		return false;
	std::string suffix(end);
	if (suffix == "k" || suffix == "K")
		v *= 1e3;
	else if (suffix == "m" || suffix == "M")
		v *= 1e6;
	else if (suffix == "g" || suffix == "G")
		v *= 1e9;
	else if (!suffix.empty())
		return false;
	if (!std::isfinite(v) || v < 0)
		return false;
	*out = v;
	return true;
}

bool parse_size(const std::string &s, uint64_t *out)
{
	if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0])))
		return false;
	errno = 0;
	char *end = nullptr;
	unsigned long long v = std::strtoull(s.c_str(), &end, 10);
	if (errno)
		return false;
	std::string suffix(end);
	uint64_t mult = 1;
	if (suffix.empty() || suffix == "B")
		mult = 1;
	else if (suffix == "k" || suffix == "K" || suffix == "KiB" || suffix == "KB")
		mult = uint64_t{1} << 10;
	else if (suffix == "m" || suffix == "M" || suffix == "MiB" || suffix == "MB")
		mult = uint64_t{1} << 20;
	else if (suffix == "g" || suffix == "G" || suffix == "GiB" || suffix == "GB")
		mult = uint64_t{1} << 30;
	else
		return false;
	if (v > UINT64_MAX / mult)
		return false;
	*out = v * mult;
	return true;
}

bool parse_duration(const std::string &s, double *seconds)
{
	if (s.empty())
		return false;
	errno = 0;
	char *end = nullptr;
	double v = std::strtod(s.c_str(), &end);
	if (errno || end == s.c_str() || !std::isfinite(v) || v < 0)
		return false;
	std::string suffix(end);
	if (suffix.empty() || suffix == "s")
		*seconds = v;
	else if (suffix == "ms")
		*seconds = v / 1e3;
	else if (suffix == "us")
		*seconds = v / 1e6;
	else if (suffix == "m" || suffix == "min")
		*seconds = v * 60;
	else
		return false;
	return true;
}

bool parse_mix(const std::string &s, std::vector<MixEntry> *out, std::string *error)
{
	std::vector<MixEntry> mix;
	std::set<std::string> seen;
	size_t start = 0;
	while (start <= s.size()) {
		size_t comma = s.find(',', start);
		if (comma == std::string::npos)
			comma = s.size();
		const std::string item = s.substr(start, comma - start);
		const size_t eq = item.rfind('=');
		if (item.empty() || eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
			*error = "--mix: '" + item + "' is not OP=WEIGHT (e.g. read=70,write=30)";
			return false;
		}
		const std::string op = item.substr(0, eq), w = item.substr(eq + 1);
		char *end = nullptr;
		errno = 0;
		unsigned long weight = std::strtoul(w.c_str(), &end, 10);
		if (errno || *end || weight == 0 || weight > 1000000 || w[0] == '-') {
			*error = "--mix: weight of '" + op + "' must be an integer in 1..1000000, not '" + w + "'";
			return false;
		}
		if (!seen.insert(op).second) {
			*error = "--mix: operation '" + op + "' appears twice";
			return false;
		}
		mix.push_back({op, static_cast<unsigned>(weight)});
		start = comma + 1;
	}
	*out = std::move(mix);
	return true;
}

namespace {

// Help layout: "-d, --device PATH" in a 24-column left side, and the lab's
// usage line (which says which options go together).
class Help : public CLI::Formatter {
public:
	Help() { column_width(24); }
	std::string make_usage(const CLI::App *, std::string) const override
	{
		return "Usage: kmodlab-load --device PATH (--op OP | --mix OP=W,OP=W...) [options]\n\n";
	}
	// One blank line between groups (CLI11 adds one of its own).
	std::string make_group(std::string group, bool positional, std::vector<const CLI::Option *> opts) const override
	{
		return CLI::Formatter::make_group(std::move(group), positional, std::move(opts)).substr(1);
	}
	std::string make_option_name(const CLI::Option *opt, bool) const override
	{
		const auto &s = opt->get_snames(), &l = opt->get_lnames();
		std::string out = s.empty() ? "    " : "-" + s[0] + ", ";
		return out + (l.empty() ? "" : "--" + l[0]);
	}
};

const char *const kDescription = "kmodlab-load - load generator for kmodlab devices (and any device node or file)\n";

const char *const kFooter = R"(Operations:
  any device node or file:  read write pread pwrite
  scull:    read write pread pwrite ioctl:SCULL_IOC*  (every ioctl of uapi/scull.h)
  counter:  read (the value, at offset 0) incr (write "1") ioctl:COUNTER_IOC_*
  lkp_enc:  encrypt (write seed, write string, read string) ioctl:LKP_ENC_IOC_*
  scullpipe: pipe (odd threads write, even ones read: measured) pingpong (round
            trip through minors m+2k, m+2k+1); threads in pairs, closed loop
The device kind comes from the node name /dev/<base>-<variant>[N] (uapi/kmodlab_dev.h).

Exit status: 0 ok, 1 operation errors or --check mismatch, 2 usage or set-up error.)";

// A value the lab's parsers refuse: "--size: '4x' is not a size ...".
[[noreturn]] void bad(const std::string &name, const std::string &value, const char *what)
{
	throw CLI::ValidationError("--" + name + ": '" + value + "' is not " + what);
}

// One option taking a value: NAMES as CLI11 spells them ("-s,--size"),
// TEXT for the help's left column, and the conversion into Options.
using Setter = std::function<void(const std::string &)>;
CLI::Option *value(CLI::App &app, const char *names, const char *text, const char *help, Setter set)
{
	return app.add_option_function<std::string>(names, std::move(set), help)->option_text(text);
}

CLI::Option *flag(CLI::App &app, const char *names, bool *target, bool set_to, const char *help)
{
	return app.add_flag_callback(names, [target, set_to] { *target = set_to; }, help)->disable_flag_override();
}

void target_options(CLI::App &app, Options &o)
{
	value(app, "-d,--device", "PATH", "device node or file, e.g. /dev/scull-c0, /dev/counter-cxx,\n"
					   "/dev/lkp_enc-c, /dev/null, /tmp/file",
	      [&](const std::string &v) { o.device = v; });
	value(app, "-o,--op", "OP", "one operation (see below)", [&](const std::string &v) {
		if (v.empty())
			bad("op", v, "an operation");
		o.mix = {{v, 1}};
	});
	value(app, "-m,--mix", "LIST", "weighted mix, e.g. read=70,write=30", [&](const std::string &v) {
		std::string err;
		if (!parse_mix(v, &o.mix, &err))
			throw CLI::ValidationError(err);
		o.mix_given = true;
	});
	value(app, "-s,--size", "BYTES", "bytes per read/write (4096, 4k, 64KiB), default 4096;\n"
					  "lkp_enc: string length of encrypt, default 32",
	      [&](const std::string &v) {
		      if (!parse_size(v, &o.size) || o.size == 0 || o.size > (64u << 20))
			      bad("size", v, "a size in 1 byte..64 MiB (4096, 4k, 64KiB)");
	      });
	value(app, "--span", "BYTES", "size of each thread's own region of a seekable device:\n"
				       "thread i uses [i*span, (i+1)*span); default 1 MiB",
	      [&](const std::string &v) {
		      if (!parse_size(v, &o.span) || o.span == 0)
			      bad("span", v, "a size (1M, 256k)");
	      });
	value(app, "--offsets", "seq|rand", "offsets of pread/pwrite inside the region (default seq)",
	      [&](const std::string &v) {
		      if (v != "seq" && v != "rand")
			      bad("offsets", v, "seq or rand");
		      o.random_offsets = v == "rand";
	      });
	value(app, "--ioctl-arg", "N", "argument value of value-taking ioctls (default: the\n"
					"device's current value, so setters change nothing)",
	      [&](const std::string &v) {
		      char *end = nullptr;
		      errno = 0;
		      const long long n = std::strtoll(v.c_str(), &end, 0);
		      if (errno || v.empty() || *end)
			      bad("ioctl-arg", v, "an integer");
		      o.ioctl_arg = n;
	      });
}

void load_options(CLI::App &app, Options &o)
{
	value(app, "-t,--threads", "N", "worker threads, one file descriptor each (default 1)", [&](const std::string &v) {
		double n;
		if (!parse_count(v, &n) || n < 1 || n > 1024 || n != std::floor(n))
			bad("threads", v, "a thread count in 1..1024");
		o.threads = static_cast<unsigned>(n);
	});
	value(app, "-D,--duration", "T", "measured time: 10, 10s, 500ms, 1.5m (default 5s\n"
					  "unless --ops is given)",
	      [&](const std::string &v) {
		      if (!parse_duration(v, &o.duration_s) || o.duration_s <= 0)
			      bad("duration", v, "a duration > 0 (10, 10s, 500ms, 1.5m)");
	      });
	value(app, "-n,--ops", "N", "measured operations over all threads (10000, 10k)", [&](const std::string &v) {
		double n;
		if (!parse_count(v, &n) || n < 1 || n != std::floor(n) || n > 1e18)
			bad("ops", v, "an operation count >= 1 (1000, 10k)");
		o.ops = static_cast<uint64_t>(n);
	});
	value(app, "-r,--rate", "R", "open loop at R ops/s over all threads (10k); latency is\n"
				     "measured from each operation's intended start time, so\n"
				     "stalls are not hidden (coordinated omission)",
	      [&](const std::string &v) {
		      if (!parse_count(v, &o.rate) || o.rate <= 0 || o.rate > 1e9)
			      bad("rate", v, "a rate in ops/s > 0 (1000, 10k)");
	      });
	value(app, "-w,--warmup", "T", "warm-up before measuring, not counted (default 0.2s)", [&](const std::string &v) {
		if (!parse_duration(v, &o.warmup_s))
			bad("warmup", v, "a duration (0, 1s, 200ms)");
	});
	flag(app, "--pin", &o.pin, true, "pin thread i to CPU i mod ncpus");
	value(app, "--seed", "N", "random seed for offsets and mixes (default 1)", [&](const std::string &v) {
		double n;
		if (!parse_count(v, &n) || n != std::floor(n))
			bad("seed", v, "a non-negative integer");
		o.seed = static_cast<uint64_t>(n);
	});
	value(app, "--clock", "C", "auto, tsc or monotonic (default auto: the TSC when it is\n"
				   "invariant and agrees with CLOCK_MONOTONIC)",
	      [&](const std::string &v) {
		      if (v != "auto" && v != "tsc" && v != "monotonic")
			      bad("clock", v, "auto, tsc or monotonic");
		      o.clock = v;
	      });
}

void output_options(CLI::App &app, Options &o)
{
	flag(app, "-c,--check", &o.check, true,
	     "verify data (scull/file: each thread's region reads back\n"
	     "intact; counter: final value = increments made, reset\n"
	     "first; lkp_enc: read-back = Caesar reference); exit 1 on\n"
	     "any mismatch");
	value(app, "-j,--json", "FILE", "write every figure, the raw histogram and the environment\n"
					 "(schema: loadgen/SCHEMA.md); \"-\" for stdout",
	      [&](const std::string &v) {
		      if (v.empty())
			      bad("json", v, "a file name");
		      o.json_path = v;
	      });
	flag(app, "--bpf", &o.bpf, true, "trace the device's syscalls with the kmodlab BPF session\n"
					 "during the measured phase (needs root)");
	flag(app, "--bpf-trace", &o.bpf_trace, true,
	     "--bpf and the driver's own tracepoints: scull and counter\n"
	     "event counts, lkp_enc's per-phase latency; with --check\n"
	     "also the counts against the operations (loadgen/README.md)");
	// The session checks the name against its modes (bpf/session.cpp kModes):
	// one list, and its message names them all.
	value(app, "--bpf-attach", "MODE", "how --bpf hooks the calls: auto (default: fentry on the\n"
					       "driver's functions, else the first mode that loads),\n"
					       "fentry, kprobe, tp_btf, raw_tp, tracepoint (bpf/README.md)",
	      [&](const std::string &v) {
		      if (v.empty())
			      bad("bpf-attach", v, "an attach mode");
		      o.bpf_attach = v;
	      });
	flag(app, "-q,--quiet", &o.progress, false, "no progress line on stderr");
	flag(app, "-h,--help", &o.help, true, "this text");
	flag(app, "-V,--version", &o.version, true, "version");
}

// Every option, grouped as the help shows them.
void define(CLI::App &app, Options &o)
{
	app.set_help_flag();  // --help is ours: it must not exit, and it sets Options::help
	app.formatter(std::make_shared<Help>());
	app.description(kDescription);
	app.footer(kFooter);
	app.allow_extras();  // reported below in the tool's words
	app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)->group("Target and work");
	target_options(app, o);
	app.option_defaults()->group("Load");
	load_options(app, o);
	app.option_defaults()->group("Output and checks");
	output_options(app, o);
}

// CLI11's grammar errors in the tool's words (what option, what to do).
std::string explain(const CLI::ParseError &e)
{
	const std::string m = e.what();
	if (dynamic_cast<const CLI::ValidationError *>(&e))
		return m;
	if (dynamic_cast<const CLI::ArgumentMismatch *>(&e)) {
		std::string name = m.substr(0, m.find_first_of(": "));
		if (name.rfind('-', 0) != 0)  // a flag's name comes without its dashes
			name = "--" + name;
		if (m.find("flag override") != std::string::npos)
			return "option " + name + " takes no value";
		if (m.size() > 8 && m.compare(m.size() - 8, 8, " missing") == 0)
			return "option " + name + " needs a value";
	}
	return m + " (see --help)";
}

// The rules between options, once every value is known.
bool check_combination(const CLI::App &app, Options &o, std::string *error)
{
	const bool have_op = app.count("--op") > 0, have_mix = app.count("--mix") > 0;
	if (o.device.empty())
		*error = "--device is required (see --help)";
	else if (have_op && have_mix)
		*error = "give either --op or --mix, not both";
	else if (!have_op && !have_mix)
		*error = "--op or --mix is required (see --help)";
	else if (app.count("--ops") && o.ops < o.threads)
		*error = "--ops must be at least --threads (every thread does a share)";
	else if (o.rate > 0 && o.rate < o.threads)
		*error = "--rate must be at least one op/s per thread";
	else if (app.count("--bpf-attach") && !o.bpf && !o.bpf_trace)
		*error = "--bpf-attach needs --bpf or --bpf-trace";
	else
		error->clear();
	if (!app.count("--duration") && !app.count("--ops"))
		o.duration_s = 5.0;
	return error->empty();
}

}  // namespace

std::string usage()
{
	Options o;
	CLI::App app{"", "kmodlab-load"};
	define(app, o);
	return app.help();
}

bool parse_options(int argc, const char *const *argv, Options *out, std::string *error)
{
	Options o;
	CLI::App app{"", "kmodlab-load"};
	define(app, o);
	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		*error = explain(e);
		return false;
	}
	const std::vector<std::string> extra = app.remaining();
	if (!extra.empty()) {
		const std::string &a = extra.front();
		*error = (a.size() > 1 && a[0] == '-' ? "unknown option '" : "unexpected argument '") + a + "' (see --help)";
		return false;
	}
	if (!o.help && !o.version && !check_combination(app, o, error))
		return false;
	o.bpf |= o.bpf_trace;
	*out = o;
	return true;
}

}  // namespace kmodlab
