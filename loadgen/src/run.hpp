// run.hpp - one kmodlab-load run: its settings resolved against the device
// (Run), the per-thread state (Worker), the per-driver profile, and the
// functions of the stages that main.cpp chains:
//
//   resolve (main.cpp)  options + device -> Run, the profile's rules checked
//   open    (main.cpp)  control descriptor, profile set-up, one fd per worker
//   run     (main.cpp, worker.cpp)  threads, warm-up, measured loop, progress
//   verify  (profile.cpp)  --check verdict: workers' findings + the device's
//   emit    (report.cpp)   table, JSON, exit status
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <array>
#include <atomic>
#include <csignal>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "clock.hpp"
#include "device.hpp"
#include "kmodlab/histogram.hpp"
#include "options.hpp"
#include "trace_check.hpp"

extern "C" {
#include "lkp_enc.h"
}

namespace kmodlab {

constexpr int kVersion = 1;  // of the tool and its JSON ("version")
constexpr uint64_t kDefaultSize = 4096;
constexpr uint64_t kDefaultSpan = 1 << 20;
constexpr int kMaxErrno = 512;

// SIGINT/SIGTERM: workers stop at their next operation.
extern std::atomic<bool> g_stop;

[[noreturn]] void die(const std::string &msg, int code = 2);

struct OpStats {
	Histogram hist;     // latency (open loop: from the intended start)
	Histogram service;  // open loop only: from the actual start
	uint64_t ops = 0, bytes = 0;
	std::array<uint64_t, kMaxErrno> errors{};
};

struct alignas(64) Worker {
	unsigned index = 0;
	int fd = -1;
	std::vector<OpStats> stats;
	std::atomic<uint64_t> progress_ops{0};  // measured ops so far
	std::atomic<uint64_t> progress_err{0};
	std::atomic<bool> measuring{false};
	uint64_t share = 0;           // ops to measure (ops mode)
	uint64_t region_base = 0;     // absolute offset of the thread's region
	uint64_t pos = 0;             // relative offset for read/write
	uint64_t off = 0;             // relative offset for pread/pwrite (sequential)
	uint64_t rng = 0;
	std::vector<char> buf;
	std::vector<uint8_t> written;  // --check: byte written by the run
	uint64_t mismatches = 0;
	std::string first_mismatch;
	uint64_t incr_ok = 0;          // counter: every successful incr, warm-up included
	uint64_t prefill_writes = 0;   // successful write calls of the prefill
	uint64_t first_start = UINT64_MAX, last_end = 0;  // measured window (ticks)
	uint64_t cpu_start_ns = 0, cpu_ns = 0;  // thread CPU time of the measured phase
	std::string error;
	// scullpipe (paired loops): the pingpong return pipe; done and tid let
	// the partner of a thread blocked in the driver release it
	int fd2 = -1;
	std::atomic<bool> done{false};
	pthread_t tid{};
	// lkp_enc
	uint32_t seed = 0;
	std::string text;
	std::array<char, LKP_ENC_STRING_SIZE> out{};
};

struct Run;

// A --check verdict in the making: the first finding is kept, all counted.
struct Verdict {
	uint64_t mismatches = 0;
	std::string first;
	std::string ok_detail;  // what a clean check says

	void note(const std::string &what)
	{
		mismatches++;
		if (first.empty())
			first = what;
	}
};

// What kmodlab-load does differently for each kind of device.  One entry per
// DeviceKind (profile.cpp); nothing else in the tool asks which driver it is.
struct DeviceProfile {
	DeviceKind kind;
	uint64_t default_size;  // --size when not given
	uint64_t max_size;      // largest --size the device takes (0: --size's own limit)
	const char *max_size_of;  // what --size measures there, for the error: "an lkp_enc string"
	bool regions;           // per-thread regions, prefilled and read back (regular files too)
	bool value_read;        // "read" reads the device's value at offset 0 (counter)
	// Dies when --check cannot verify this mix on this device.
	void (*refuse_check)(const Run &run);
	// Dies when the run does not fit the loaded module's parameters.
	void (*check_params)(const Run &run);
	// Reads or resets device state on the control descriptor before the run
	// (before the prefill); under --bpf-trace with a prefill, scull empties
	// the device first so that the prefill's allocations are all new
	// (Run::emptied).
	void (*setup)(Run &run, int ctl);
	// Per-thread state the device's operations need.
	void (*init_worker)(const Run &run, Worker &w);
	// After the run: device-level --check findings and the clean verdict's text.
	void (*verify)(const Run &run, int ctl, Verdict &v);
	// --bpf-trace --check: what the driver's tracepoints must count
	// (trace_check.hpp).
	TracePlan (*trace_plan)(const std::vector<OpSpec> &ops, const OkOps &ok, unsigned threads);
	// --bpf-trace --check: what they must count during the set-up (exact).
	TracePlan (*setup_plan)(const SetupFacts &f);
};

const DeviceProfile &profile_of(DeviceKind kind);

struct Run {
	Options opt;
	DeviceInfo dev;
	const DeviceProfile *profile = nullptr;
	std::map<std::string, std::string> params;  // /sys/module/<module>/parameters
	bool is_regular = false;
	dev_t rdev = 0;
	std::vector<OpSpec> ops;
	std::vector<unsigned> cumulative;  // mix weights, cumulative
	unsigned total_weight = 0;
	bool seekable = false;    // per-thread regions (profile, or a regular file)
	bool value_read = false;  // profile: read = the value at offset 0
	bool prefill = false;
	bool emptied = false;     // the set-up emptied the device before the prefill (profile setup)
	bool has_ioctl_mutation = false;
	uint64_t size = 0, span = 0;
	Clock clock;
	uint64_t t0 = 0, warm_end = 0, deadline = 0;  // ticks; deadline 0: ops mode
	std::atomic<unsigned> ready{0};
	std::atomic<bool> go{false};
	// --bpf: the main thread clears the BPF figures at the end of the
	// warm-up and only then lets the workers measure, so the two agree.
	std::atomic<bool> measure_go{true};
	// --bpf with --check: the verification reads are not operations of the
	// run, so the workers read their regions back only after the main
	// thread has detached BPF (loops_done counts workers waiting for it).
	std::atomic<unsigned> loops_done{0};
	std::atomic<bool> verify_go{true};
	int scull_quantum = 0, scull_qset = 0;
	int64_t counter_set = 0;
	uint32_t lkp_seed_arg = 0;
	std::string lkp_fixed_text;
	uint32_t lkp_fixed_seed = 0;
	std::vector<std::unique_ptr<Worker>> workers;
};

// worker.cpp
uint64_t splitmix(uint64_t x);
uint64_t next_rand(uint64_t &s);
std::string random_text(uint64_t &rng, size_t len);
bool prefill(Run &run, Worker &w, std::string *err);  // the region's generation-0 pattern
void worker_main(Run &run, Worker &w);                 // a thread's whole run
bool paired_op(const Run &run);  // pipe or pingpong: threads in pairs
// The signal a paired thread sends its partner to end a call blocked in
// the driver; installed without SA_RESTART (the call returns EINTR).
constexpr int kReleaseSignal = SIGUSR1;
void install_release_signal();

}  // namespace kmodlab
