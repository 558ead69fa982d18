// report.hpp - the emit stage of kmodlab-load: per-thread figures merged,
// the table for people and the JSON document (loadgen/SCHEMA.md).
#pragma once

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "run.hpp"

namespace kmodlab {

struct Summary {
	Histogram hist, service;
	uint64_t ops = 0, bytes = 0;
	std::map<std::string, uint64_t> errors;  // errno name -> count
};

// Everything the workers measured, over all threads.
struct Results {
	Summary total;
	std::vector<Summary> per_op;  // in the order of the mix
	double elapsed = 0;           // measured window, seconds
	double ops_s = 0, bytes_s = 0;
	// Operations per second of worker CPU time: what the load costs,
	// independent of how much CPU other processes took (overhead figures).
	double cpu_s = 0, ops_cpu_s = 0;
	uint64_t errors = 0;
	bool interrupted = false;
};

// One tracepoint cross-check (trace_check.hpp): whether it ran, its verdict,
// and what it found or why it did not run.
struct TraceOutcome {
	bool checked = false, ok = true;
	std::string detail;
};

struct CheckOutcome {
	bool ok = true;
	std::string detail;
	// --bpf-trace --check, both part of ok: the measured phase's counts
	// against the operations, and the set-up's against what it did.
	TraceOutcome trace, setup;
};

// --bpf-trace: the set-up's tracepoint figures (BPF attached before it, read
// and cleared when it ended) and the exact figures it must show.
struct SetupTrace {
	std::map<std::string, uint64_t> figures;
	SetupFacts facts;
	TracePlan plan;
};

Results merge_results(const Run &run, bool interrupted);

// The table (stdout, or stderr when the JSON goes to stdout).
void print_table(FILE *out, const Run &run, const Results &r, const CheckOutcome &check,
		 const SetupTrace *setup = nullptr);

// The JSON document; bpf is the BPF session's own JSON text when --bpf ran,
// setup the set-up's figures under --bpf-trace.
nlohmann::ordered_json json_document(const Run &run, const Results &r, const CheckOutcome &check,
				     const std::optional<std::string> &bpf, const SetupTrace *setup = nullptr);

std::string fmt_rate(double v);  // 1.23 M, 4.5 k

}  // namespace kmodlab
