// trace_check.hpp - kmodlab-load --bpf-trace --check: the drivers' own
// tracepoint counts (bpf/ Report::trace_events) against the operations the
// run measured.  Each profile (profile.cpp) says which figures a run of its
// device must show; check_trace compares.  No BPF here: the figures come in
// as names and counts, so the rules are unit-tested on the host.
//
// Why ranges and not equalities: BPF is cleared at the end of the warm-up
// while each worker may still have the one operation it started before in
// the kernel (Run::measure_go); that operation's events can land after the
// clear.  So a figure that counts one event per measured operation lies in
// [ops, ops + threads] (the exact-count rule of bpf/README.md and
// validate.py --bpf), and no more.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "device.hpp"

namespace kmodlab {

struct Verdict;

// Successful measured operations per kind (failed ones fire no event).
using OkOps = std::map<OpKind, uint64_t>;

struct TraceExpect {
	std::string figure;   // an event ("scull_read"), "phase:<name>" (its count), or a sequence figure
	uint64_t lo = 0, hi = 0;
	std::string why;      // what the range stands for, for the message
};

struct TracePlan {
	bool applies = false;
	std::string not_checked;  // why not, when !applies
	std::vector<TraceExpect> expect;
};

// Figures outside their range become findings of v; returns how many.
uint64_t check_trace(const std::map<std::string, uint64_t> &figures, const TracePlan &plan, Verdict &v);

// The profiles' plans (profile.cpp's table points at these).
TracePlan scull_trace_plan(const std::vector<OpSpec> &ops, const OkOps &ok, unsigned threads);
TracePlan counter_trace_plan(const std::vector<OpSpec> &ops, const OkOps &ok, unsigned threads);
TracePlan lkp_enc_trace_plan(const std::vector<OpSpec> &ops, const OkOps &ok, unsigned threads);
TracePlan no_trace_plan(const std::vector<OpSpec> &ops, const OkOps &ok, unsigned threads);

}  // namespace kmodlab
