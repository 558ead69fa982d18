// trace_check.cpp - the tracepoint cross-checks of kmodlab-load --bpf-trace
// --check (trace_check.hpp): per driver, the figures its tracepoints must
// show for the operations measured.
#include "trace_check.hpp"

#include <algorithm>

#include "run.hpp"

namespace kmodlab {
namespace {

uint64_t ok_of(const OkOps &ok, std::initializer_list<OpKind> kinds)
{
	uint64_t n = 0;
	for (OpKind k : kinds) {
		auto it = ok.find(k);
		n += it == ok.end() ? 0 : it->second;
	}
	return n;
}

// Only these kinds of operation in the mix (the others' events are not
// modelled): otherwise the plan does not apply and says which op.
bool mix_only(const std::vector<OpSpec> &ops, std::initializer_list<OpKind> kinds, TracePlan *plan)
{
	for (const auto &o : ops) {
		bool known = false;
		for (OpKind k : kinds)
			known |= o.kind == k;
		if (!known) {
			plan->not_checked = "the tracepoint cross-check does not model operation " + o.name;
			return false;
		}
	}
	plan->applies = true;
	return true;
}

// One event per operation: [n, n + threads] (see trace_check.hpp).
TraceExpect per_op(const std::string &figure, uint64_t n, unsigned threads, const std::string &ops)
{
	return {figure, n, n + threads, "one per successful " + ops + " (" + std::to_string(n) + ")"};
}

TraceExpect none(const std::string &figure, const std::string &why) { return {figure, 0, 0, why}; }

TraceExpect exactly(const std::string &figure, uint64_t n, const std::string &why) { return {figure, n, n, why}; }

// The set-up of an emptied scull: one trim, then the prefill's writes, each
// new quantum set allocated once by the write that first stores into it.
TracePlan scull_fresh_prefill_plan(const SetupFacts &f)
{
	TracePlan p;
	const uint64_t sets = scull_sets_written(f.quantum, f.qset, f.regions);
	if (!sets) {
		p.not_checked = "scull geometry unknown (quantum " + std::to_string(f.quantum) + ", qset " +
				std::to_string(f.qset) + "): the prefill's quantum sets cannot be computed";
		return p;
	}
	p.applies = true;
	const std::string geometry = std::to_string(f.quantum) + " x " + std::to_string(f.qset) + " bytes";
	p.expect = {exactly("scull_trim", 1, "the set-up's own trim (open O_WRONLY) emptied the device"),
		    exactly("scull_qset_alloc", sets,
			    "one per quantum set of " + geometry + " the prefill stores into (" + std::to_string(sets) + ")"),
		    exactly("alloc_then_write", sets, "every allocation followed by the write into its set"),
		    none("alloc_no_write", "a set allocated is one written"),
		    exactly("scull_write", f.writes, "one per prefill write call (" + std::to_string(f.writes) + ")"),
		    none("scull_read", "the set-up reads nothing"),
		    none("no_slot", "the BPF thread table never full")};
	return p;
}

}  // namespace

uint64_t check_trace(const std::map<std::string, uint64_t> &figures, const TracePlan &plan, Verdict &v)
{
	uint64_t bad = 0;
	for (const auto &e : plan.expect) {
		auto it = figures.find(e.figure);
		if (it == figures.end()) {
			v.note("tracepoints: no figure " + e.figure + " in the BPF report");
			bad++;
		} else if (it->second < e.lo || it->second > e.hi) {
			v.note("tracepoints: " + e.figure + " = " + std::to_string(it->second) + ", expected [" +
			       std::to_string(e.lo) + ", " + std::to_string(e.hi) + "]: " + e.why);
			bad++;
		}
	}
	return bad;
}

// scull: a read/write event per transfer; --check prefilled every region in
// the set-up (counted apart, scull_setup_plan), so the measured run
// allocates no quantum set, frees none and trims nothing (open O_RDWR does
// not trim).
TracePlan scull_trace_plan(const std::vector<OpSpec> &ops, const OkOps &ok, unsigned threads)
{
	TracePlan p;
	if (!mix_only(ops, {OpKind::read, OpKind::pread, OpKind::write, OpKind::pwrite, OpKind::ioctl}, &p))
		return p;
	const std::string prefilled = "regions prefilled in the set-up: every quantum set existed";
	p.expect = {per_op("scull_read", ok_of(ok, {OpKind::read, OpKind::pread}), threads, "read/pread"),
		    per_op("scull_write", ok_of(ok, {OpKind::write, OpKind::pwrite}), threads, "write/pwrite"),
		    none("scull_qset_alloc", prefilled),
		    none("scull_qset_free", "nothing trimmed"),
		    none("scull_trim", "nothing trimmed"),
		    none("alloc_no_write", "a set allocated is one written"),
		    none("no_slot", "the BPF thread table never full")};
	return p;
}

// counter: one counter_change per increment (reads and ioctls fire none).
TracePlan counter_trace_plan(const std::vector<OpSpec> &ops, const OkOps &ok, unsigned threads)
{
	TracePlan p;
	if (!mix_only(ops, {OpKind::incr, OpKind::read, OpKind::ioctl}, &p))
		return p;
	p.expect = {per_op("counter_change", ok_of(ok, {OpKind::incr}), threads, "incr")};
	return p;
}

// lkp_enc: every encrypt is one cycle of seed write, string write and
// readback on one thread: one of each event, one of each phase, counted
// once as an encryption, nothing out of order.
TracePlan lkp_enc_trace_plan(const std::vector<OpSpec> &ops, const OkOps &ok, unsigned threads)
{
	TracePlan p;
	if (!mix_only(ops, {OpKind::encrypt}, &p))
		return p;
	uint64_t n = ok_of(ok, {OpKind::encrypt});
	for (const char *f : {"lkp_enc_seed_write", "lkp_enc_string_write", "lkp_enc_string_read",
			      "phase:seed_to_write", "phase:write_to_read", "encrypts"})
		p.expect.push_back(per_op(f, n, threads, "encrypt"));
	p.expect.push_back(none("out_of_order", "every readback follows its string write"));
	p.expect.push_back(none("no_slot", "the BPF thread table never full"));
	return p;
}

TracePlan no_trace_plan(const std::vector<OpSpec> &, const OkOps &, unsigned)
{
	TracePlan p;
	p.not_checked = "not a lab driver: no tracepoints";
	return p;
}

uint64_t scull_sets_written(uint64_t quantum, uint64_t qset, const std::vector<std::pair<uint64_t, uint64_t>> &regions)
{
	const uint64_t set_bytes = quantum * qset;
	if (!set_bytes)
		return 0;
	std::vector<std::pair<uint64_t, uint64_t>> items;  // [first, last] set of each region
	for (const auto &[first, len] : regions)
		if (len)
			items.emplace_back(first / set_bytes, (first + len - 1) / set_bytes);
	std::sort(items.begin(), items.end());
	uint64_t sets = 0, next = 0;  // next: the first set not yet counted
	for (const auto &[lo, hi] : items) {
		const uint64_t from = std::max(lo, next);
		if (hi >= from) {
			sets += hi - from + 1;
			next = hi + 1;
		}
	}
	return sets;
}

// scull's set-up: emptied and prefilled under --bpf-trace, or (no prefill)
// nothing stored at all.
TracePlan scull_setup_plan(const SetupFacts &f)
{
	if (f.emptied)
		return scull_fresh_prefill_plan(f);
	TracePlan p;
	if (!f.regions.empty()) {
		p.not_checked = "prefilled without emptying the device first: its allocations depend on what it held";
		return p;
	}
	p.applies = true;
	for (const char *e : {"scull_trim", "scull_qset_alloc", "scull_qset_free", "scull_write", "scull_read"})
		p.expect.push_back(none(e, "no prefill: the set-up stores nothing"));
	return p;
}

// counter's set-up resets the value by ioctl (not traced) and writes nothing.
TracePlan counter_setup_plan(const SetupFacts &)
{
	TracePlan p;
	p.applies = true;
	p.expect = {none("counter_change", "the set-up changes the value only by ioctl (RESET is not traced)")};
	return p;
}

// lkp_enc's set-up reads the seed (READ_SEED, not traced) and nothing else.
TracePlan lkp_enc_setup_plan(const SetupFacts &)
{
	TracePlan p;
	p.applies = true;
	for (const char *e : {"lkp_enc_seed_write", "lkp_enc_string_write", "lkp_enc_string_read"})
		p.expect.push_back(none(e, "the set-up only reads the seed"));
	return p;
}

TracePlan no_setup_plan(const SetupFacts &)
{
	TracePlan p;
	p.not_checked = "not a lab driver: no tracepoints";
	return p;
}

}  // namespace kmodlab
