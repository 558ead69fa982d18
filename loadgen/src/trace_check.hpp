// trace_check.hpp - kmodlab-load --bpf-trace --check: the drivers' own
// tracepoint counts (bpf/ Report::trace_events) against the operations the
// run measured.  Each profile (profile.cpp) says which figures a run of its
// device must show; check_trace compares.  No BPF here: the figures come in
// as names and counts, so the rules are unit-tested on the host.
//
// The set-up (--bpf-trace attaches BPF before it: scull's trim and prefill)
// is counted apart from the measured phase and checked exactly: nothing
// runs concurrently with it, so every figure is an equality there.
//
// Why ranges and not equalities in the measured phase: BPF is cleared at the end of the warm-up
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

// What the set-up did, for its plan (main.cpp fills it from the Run).
struct SetupFacts {
	bool emptied = false;          // the device was emptied first (scull: trim)
	uint64_t quantum = 0, qset = 0;  // scull: the geometry after the trim (ioctl Q*)
	// Prefilled byte ranges [first, first + second), one per worker.
	std::vector<std::pair<uint64_t, uint64_t>> regions;
	uint64_t writes = 0;           // successful write calls of the prefill
};

// Figures outside their range become findings of v; returns how many.
uint64_t check_trace(const std::map<std::string, uint64_t> &figures, const TracePlan &plan, Verdict &v);

// The profiles' plans (profile.cpp's table points at these).
TracePlan scull_trace_plan(const std::vector<OpSpec> &ops, const OkOps &ok, unsigned threads);
TracePlan counter_trace_plan(const std::vector<OpSpec> &ops, const OkOps &ok, unsigned threads);
TracePlan lkp_enc_trace_plan(const std::vector<OpSpec> &ops, const OkOps &ok, unsigned threads);
TracePlan no_trace_plan(const std::vector<OpSpec> &ops, const OkOps &ok, unsigned threads);

// scull: the quantum sets (quantum x qset bytes each) that writing every
// byte of the regions stores into, i.e. the sets a prefill allocates on an
// empty device; 0 when the geometry is unknown (quantum or qset 0).
uint64_t scull_sets_written(uint64_t quantum, uint64_t qset,
			    const std::vector<std::pair<uint64_t, uint64_t>> &regions);

// The set-up's plans (every figure exact).
TracePlan scull_setup_plan(const SetupFacts &f);
TracePlan counter_setup_plan(const SetupFacts &f);
TracePlan lkp_enc_setup_plan(const SetupFacts &f);
TracePlan no_setup_plan(const SetupFacts &f);

}  // namespace kmodlab
