// options.hpp - kmodlab-load's command line, parsed without side effects so
// that the host unit tests can cover every rule.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kmodlab {

struct MixEntry {
	std::string op;
	unsigned weight;
};

struct Options {
	std::string device;
	std::vector<MixEntry> mix;   // --op X is a mix of one: {X, 1}
	bool mix_given = false;      // --mix (not --op) was used
	unsigned threads = 1;
	double duration_s = 0;       // 0: not given
	uint64_t ops = 0;            // 0: not given (total over all threads)
	double rate = 0;             // ops/s over all threads; 0: closed loop
	double warmup_s = 0.2;
	uint64_t size = 0;           // bytes per read/write; 0: per-device default
	uint64_t span = 0;           // bytes per thread region; 0: default
	bool random_offsets = false; // --offsets rand
	bool check = false;
	std::string json_path;
	bool bpf = false;
	bool bpf_trace = false;  // --bpf-trace: the driver's own tracepoints too (implies bpf)
	std::string bpf_attach = "auto";  // --bpf-attach: the BPF session's hook (bpf/README.md "Hooks")
	bool progress = true;
	bool pin = false;
	uint64_t seed = 1;
	std::optional<int64_t> ioctl_arg;
	std::string clock = "auto";  // auto, tsc, monotonic
	bool help = false;
	bool version = false;
};

// Parse argv.  Returns false with a one-line message on any error.
bool parse_options(int argc, const char *const *argv, Options *out, std::string *error);

// Pieces, exposed for the tests.
bool parse_size(const std::string &s, uint64_t *out);        // 4096, 4k, 4KiB, 1M, 1MiB
bool parse_duration(const std::string &s, double *seconds);  // 2, 2s, 500ms, 1.5m
bool parse_count(const std::string &s, double *out);         // 1000, 10k, 2.5M
bool parse_mix(const std::string &s, std::vector<MixEntry> *out, std::string *error);

std::string usage();

}  // namespace kmodlab
