// kmodlab_bpf.hpp - the C++ interface between the BPF tools (bpf/) and their
// users (kmodlab-load --bpf, kmodlab-trace).  bpf/ implements it in the
// static library target `kmodlab_bpf`; loadgen/ links that target.
//
// A Session loads and attaches the per-operation latency (opslat) and lock
// contention (lockstat) programs for a set of target devices, and renders
// what they collected as JSON and as text tables.
//
// Extensions beyond the first contract (all optional, defaults keep the
// original behaviour): Options::funcs/attach/prog_stats/trace_openat/tgid/wakelat,
// Session::report()/clear(), device_number().
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace kmodlab::bpf {

struct Options {
	// Device numbers (st_rdev) whose file descriptors are traced.
	std::vector<dev_t> devices;
	bool opslat = true;    // per (device, operation) latency histograms
	bool lockstat = true;  // lock:contention_begin/end inside target syscalls
	// Wakeup latency of threads sleeping inside a target call
	// (sched_wakeup -> sched_switch to the thread), Report::wakeup.  Off
	// by default: its sched_switch program runs on every context switch.
	bool wakelat = false;

	// Glob patterns (fnmatch) of functions of loaded modules to time with
	// kprobe/kretprobe, e.g. "scull_c_*".  Empty: no kprobes.
	std::vector<std::string> funcs;
	// How to hook the calls: "auto" (first that loads of fentry on the
	// drivers' own functions, tp_btf, raw_tp, tracepoint), or one of
	// those, or "kprobe" (bpf/README.md says what each sees).
	std::string attach = "auto";
	// Kernel BPF run-time statistics (run_cnt, run_time_ns per program);
	// they cost two clock reads per event, switch off for the lowest
	// probe effect.
	bool prog_stats = true;
	// Time openat too (needs every openat in the system remembered).
	bool trace_openat = true;
	// Only calls made by this process (0: every process).
	pid_t tgid = 0;
	// The drivers' own tracepoints (kmod/include/kmodlab/trace/): event
	// counts of scull and counter, lkp_enc's per-phase latency, in
	// Report::trace_events.  Modules: trace_modules, or when that is empty
	// the modules of the lab's devices among `devices`.
	bool trace_events = false;
	std::vector<std::string> trace_modules;  // "scull_c", "lkp_enc_cxx", ...
};

// A log-linear histogram (bpf/hist.h): buckets [lo, hi) with their counts,
// non-empty ones only.
struct Histogram {
	struct Bucket {
		uint64_t lo, hi, count;
	};
	std::vector<Bucket> buckets;
	uint64_t count = 0, sum_ns = 0, min_ns = 0, max_ns = 0;

	// Value at quantile q (0..1), interpolated inside its bucket and
	// clamped to [min, max].
	double percentile(double q) const;
	// Lower bound of the bucket holding quantile q: never above the true
	// value (use it to compare against exact user-side figures).
	uint64_t percentile_floor(double q) const;
};

// A histogram from a BPF record's slots[HIST_NBUCKETS] (bpf/hist.h layout)
// and its count, sum, min and max: the one decoder of the programs' buckets.
Histogram make_hist(const unsigned long long *slots, uint64_t count, uint64_t sum, uint64_t min,
		    uint64_t max);

struct OpStat {
	std::string device;  // path, e.g. /dev/scull-c0 (or "maj:min")
	unsigned major = 0, minor = 0;
	std::string op;      // read, write, pread64, pwrite64, ioctl, openat, close
	Histogram hist;
	std::map<std::string, uint64_t> errors;  // "EFAULT" -> count
};

struct LockStat {
	std::string lock;    // "symbol+0xoff [module]" or "<heap>#hash"
	std::string kind;    // mutex, spinlock, rwsem-read, rwsem-write, semaphore, ...
	std::string context; // "task", or "irq": waited in an interrupt that hit the syscall
	std::string device;  // device of the syscall that waited
	std::string op;      // its operation
	uint64_t count = 0, total_ns = 0, max_ns = 0;
	Histogram hist;
};

// Wakeups of threads that slept inside a call on a target device, per
// (device, operation of that call): the time from sched_wakeup to the
// thread running again, and the sleeps they ended (bpf/wakelat.bpf.c).
struct WakeStat {
	std::string device;  // path of the device the sleeping call was on
	unsigned major = 0, minor = 0;
	std::string op;      // read, write, ...
	Histogram hist;      // wakeup -> running again, one per timed wakeup
	uint64_t sleeps = 0;       // the thread switched away asleep inside the call
	uint64_t woke_running = 0; // woken before it had switched away (not timed)
};

struct FuncStat {
	std::string func, module;
	Histogram hist;
};

// One module's own tracepoints over the attached time (bpf/README.md,
// "Driver tracepoints").  Names are the events' (scull_read, ...).
struct TraceModule {
	std::string module;  // scull_c: the event system
	std::string driver;  // scull
	std::string variant; // c
	std::vector<std::pair<std::string, uint64_t>> events;  // every traced event, count
	// lkp_enc: seed_to_write, write_to_read (time between the events on one thread)
	std::vector<std::pair<std::string, Histogram>> phases;
	// The event order checks: lkp_enc encrypts (seed, string write, readback
	// on one thread), out_of_order, no_slot; scull alloc_then_write,
	// alloc_no_write, no_slot.
	std::vector<std::pair<std::string, uint64_t>> sequence;
};

struct ProgStat {
	std::string name;
	uint64_t run_cnt = 0, run_time_ns = 0, recursion_misses = 0;
	double ns_per_event = 0;
};

struct Report {
	std::string attach_mode;  // tp_btf, raw_tp or tracepoint
	uint64_t duration_ns = 0; // attached time
	std::vector<OpStat> opslat;
	std::vector<LockStat> lockstat;
	std::vector<FuncStat> funclat;
	bool wakeup_traced = false;    // Options::wakelat: "wakeup" in the JSON, empty or not
	std::vector<WakeStat> wakeup;
	std::vector<TraceModule> trace_events;  // Options::trace_events
	uint64_t dropped = 0;     // sum of drops
	std::map<std::string, uint64_t> drops;
	bool prog_stats_enabled = false;
	std::vector<ProgStat> prog_stats;
	std::vector<std::string> notes;
};

class Session {
public:
	// Loads and verifies the programs; nothing is attached yet.  On failure
	// returns nullptr and puts a message that says what to do into *error.
	static std::unique_ptr<Session> open(const Options &opts, std::string *error);
	virtual ~Session() = default;

	// attach() before the measured phase, detach() after it; returns false
	// and fills *error on failure.
	virtual bool attach(std::string *error) = 0;
	virtual void detach() = 0;

	// Everything collected, as one JSON object (see bpf/README.md for the
	// fields), and as human-readable tables.
	virtual std::string json() const = 0;
	virtual std::string text() const = 0;

	// The same as data; and zeroing of everything collected so far
	// (kmodlab-trace --interval prints and clears, like the libbpf-tools).
	virtual Report report() const = 0;
	virtual void clear() = 0;
};

// The tools that trace while a command runs (kmodlab-encphase,
// kmodlab-trace ... -- COMMAND): runs argv (execvp) and waits; its exit
// status, 128 when a signal ended it, -1 when it could not be started.
int run_command(char *const *argv);

// st_rdev of a character device node; false and *error if it is not one.
bool device_number(const std::string &path, dev_t *out, std::string *error);

}  // namespace kmodlab::bpf
