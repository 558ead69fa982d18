// options.cpp - command-line parsing for kmodlab-load.
#include "options.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>

namespace kmodlab {

std::string usage()
{
	return R"(kmodlab-load - load generator for kmodlab devices (and any device node or file)

Usage: kmodlab-load --device PATH (--op OP | --mix OP=W,OP=W...) [options]

Target and work:
  -d, --device PATH     device node or file, e.g. /dev/scull-c0, /dev/counter-cxx,
                        /dev/lkp_enc-c, /dev/null, /tmp/file
  -o, --op OP           one operation (see below)
  -m, --mix LIST        weighted mix, e.g. read=70,write=30
  -s, --size BYTES      bytes per read/write (4096, 4k, 64KiB), default 4096;
                        lkp_enc: string length of encrypt, default 32
      --span BYTES      size of each thread's own region of a seekable device:
                        thread i uses [i*span, (i+1)*span); default 1 MiB
      --offsets seq|rand   offsets of pread/pwrite inside the region (default seq)
      --ioctl-arg N     argument value of value-taking ioctls (default: the
                        device's current value, so setters change nothing)
Load:
  -t, --threads N       worker threads, one file descriptor each (default 1)
  -D, --duration T      measured time: 10, 10s, 500ms, 1.5m (default 5s
                        unless --ops is given)
  -n, --ops N           measured operations over all threads (10000, 10k)
  -r, --rate R          open loop at R ops/s over all threads (10k); latency is
                        measured from each operation's intended start time, so
                        stalls are not hidden (coordinated omission)
  -w, --warmup T        warm-up before measuring, not counted (default 0.2s)
      --pin             pin thread i to CPU i mod ncpus
      --seed N          random seed for offsets and mixes (default 1)
      --clock C         auto, tsc or monotonic (default auto: the TSC when it is
                        invariant and agrees with CLOCK_MONOTONIC)
Output and checks:
  -c, --check           verify data (scull/file: each thread's region reads back
                        intact; counter: final value = increments made, reset
                        first; lkp_enc: read-back = Caesar reference); exit 1 on
                        any mismatch
  -j, --json FILE       write every figure, the raw histogram and the environment
                        (schema: loadgen/SCHEMA.md); "-" for stdout
      --bpf             trace the device's syscalls with the kmodlab BPF session
                        during the measured phase (needs root)
  -q, --quiet           no progress line on stderr
  -h, --help            this text
  -V, --version         version

Operations:
  any device node or file:  read write pread pwrite
  scull:    read write pread pwrite ioctl:SCULL_IOC*  (every ioctl of uapi/scull.h)
  counter:  read (the value, at offset 0) incr (write "1") ioctl:COUNTER_IOC_*
  lkp_enc:  encrypt (write seed, write string, read string) ioctl:LKP_ENC_IOC_*
The device kind comes from the node name /dev/<base>-<variant>[N].

Exit status: 0 ok, 1 operation errors or --check mismatch, 2 usage or set-up error.
)";
}

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

struct Arg {
	const char *lng;
	char shrt;
	bool takes_value;
};

const Arg kArgs[] = {
	{"device", 'd', true}, {"op", 'o', true}, {"mix", 'm', true}, {"size", 's', true},
	{"span", 0, true}, {"offsets", 0, true}, {"ioctl-arg", 0, true}, {"threads", 't', true},
	{"duration", 'D', true}, {"ops", 'n', true}, {"rate", 'r', true}, {"warmup", 'w', true},
	{"pin", 0, false}, {"seed", 0, true}, {"clock", 0, true}, {"check", 'c', false},
	{"json", 'j', true}, {"bpf", 0, false}, {"quiet", 'q', false}, {"help", 'h', false},
	{"version", 'V', false},
};

}  // namespace

bool parse_options(int argc, const char *const *argv, Options *out, std::string *error)
{
	Options o;
	bool have_op = false, have_mix = false, have_duration = false, have_ops = false;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		std::string value;
		bool has_inline = false;
		const Arg *spec = nullptr;
		if (a.rfind("--", 0) == 0 && a.size() > 2) {
			std::string name = a.substr(2);
			const auto eq = name.find('=');
			if (eq != std::string::npos) {
				value = name.substr(eq + 1);
				name = name.substr(0, eq);
				has_inline = true;
			}
			for (const auto &s : kArgs)
				if (name == s.lng)
					spec = &s;
		} else if (a.size() == 2 && a[0] == '-') {
			for (const auto &s : kArgs)
				if (s.shrt && a[1] == s.shrt)
					spec = &s;
		} else {
			*error = "unexpected argument '" + a + "' (see --help)";
			return false;
		}
		if (!spec) {
			*error = "unknown option '" + a + "' (see --help)";
			return false;
		}
		if (spec->takes_value && !has_inline) {
			if (i + 1 >= argc) {
				*error = "option --" + std::string(spec->lng) + " needs a value";
				return false;
			}
			value = argv[++i];
		} else if (!spec->takes_value && has_inline) {
			*error = "option --" + std::string(spec->lng) + " takes no value";
			return false;
		}
		const std::string n = spec->lng;
		auto bad = [&](const char *what) {
			*error = "--" + n + ": '" + value + "' is not " + what;
			return false;
		};
		if (n == "device") {
			o.device = value;
		} else if (n == "op") {
			if (value.empty())
				return bad("an operation");
			o.mix = {{value, 1}};
			have_op = true;
		} else if (n == "mix") {
			if (!parse_mix(value, &o.mix, error))
				return false;
			have_mix = true;
			o.mix_given = true;
		} else if (n == "size") {
			if (!parse_size(value, &o.size) || o.size == 0 || o.size > (64u << 20))
				return bad("a size in 1 byte..64 MiB (4096, 4k, 64KiB)");
		} else if (n == "span") {
			if (!parse_size(value, &o.span) || o.span == 0)
				return bad("a size (1M, 256k)");
		} else if (n == "offsets") {
			if (value == "seq")
				o.random_offsets = false;
			else if (value == "rand")
				o.random_offsets = true;
			else
				return bad("seq or rand");
		} else if (n == "ioctl-arg") {
			char *end = nullptr;
			errno = 0;
			long long v = std::strtoll(value.c_str(), &end, 0);
			if (errno || value.empty() || *end)
				return bad("an integer");
			o.ioctl_arg = v;
		} else if (n == "threads") {
			double v;
			if (!parse_count(value, &v) || v < 1 || v > 1024 || v != std::floor(v))
				return bad("a thread count in 1..1024");
			o.threads = static_cast<unsigned>(v);
		} else if (n == "duration") {
			if (!parse_duration(value, &o.duration_s) || o.duration_s <= 0)
				return bad("a duration > 0 (10, 10s, 500ms, 1.5m)");
			have_duration = true;
		} else if (n == "ops") {
			double v;
			if (!parse_count(value, &v) || v < 1 || v != std::floor(v) || v > 1e18)
				return bad("an operation count >= 1 (1000, 10k)");
			o.ops = static_cast<uint64_t>(v);
			have_ops = true;
		} else if (n == "rate") {
			if (!parse_count(value, &o.rate) || o.rate <= 0 || o.rate > 1e9)
				return bad("a rate in ops/s > 0 (1000, 10k)");
		} else if (n == "warmup") {
			if (!parse_duration(value, &o.warmup_s))
				return bad("a duration (0, 1s, 200ms)");
		} else if (n == "pin") {
			o.pin = true;
		} else if (n == "seed") {
			double v;
			if (!parse_count(value, &v) || v != std::floor(v))
				return bad("a non-negative integer");
			o.seed = static_cast<uint64_t>(v);
		} else if (n == "clock") {
			if (value != "auto" && value != "tsc" && value != "monotonic")
				return bad("auto, tsc or monotonic");
			o.clock = value;
		} else if (n == "check") {
			o.check = true;
		} else if (n == "json") {
			if (value.empty())
				return bad("a file name");
			o.json_path = value;
		} else if (n == "bpf") {
			o.bpf = true;
		} else if (n == "quiet") {
			o.progress = false;
		} else if (n == "help") {
			o.help = true;
		} else if (n == "version") {
			o.version = true;
		}
	}
	if (o.help || o.version) {
		*out = o;
		return true;
	}
	if (o.device.empty()) {
		*error = "--device is required (see --help)";
		return false;
	}
	if (have_op && have_mix) {
		*error = "give either --op or --mix, not both";
		return false;
	}
	if (!have_op && !have_mix) {
		*error = "--op or --mix is required (see --help)";
		return false;
	}
	if (have_ops && o.ops < o.threads) {
		*error = "--ops must be at least --threads (every thread does a share)";
		return false;
	}
	if (!have_duration && !have_ops)
		o.duration_s = 5.0;
	if (o.rate > 0 && o.rate < o.threads) {
		*error = "--rate must be at least one op/s per thread";
		return false;
	}
	*out = o;
	return true;
}

}  // namespace kmodlab
