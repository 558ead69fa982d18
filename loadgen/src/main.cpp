// kmodlab-load - the lab's load generator.  See --help and loadgen/README.md;
// the JSON it writes is specified in loadgen/SCHEMA.md.
//
// Structure: parse options, classify the device (uapi names), open one file
// descriptor per thread, prefill each thread's region when reads or --check
// need data, then run the threads (closed or open loop) with a warm-up that
// is not recorded, merge the per-thread histograms, verify, and report.
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "clock.hpp"
#include "device.hpp"
#include "env.hpp"
#include "json.hpp"
#include "kmodlab/histogram.hpp"
#include "options.hpp"
#include "pacer.hpp"

extern "C" {
#include "counter.h"
#include "lkp_enc.h"
#include "scull.h"
}

#ifdef KMODLAB_HAVE_BPF
#include "kmodlab_bpf.hpp"
#endif

namespace kmodlab {
namespace {

constexpr int kVersion = 1;
constexpr uint64_t kDefaultSize = 4096;
constexpr uint64_t kDefaultLkpLen = 32;
constexpr uint64_t kDefaultSpan = 1 << 20;
constexpr int kMaxErrno = 512;

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop.store(true, std::memory_order_relaxed); }

uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

// The --check data pattern: byte at absolute offset off of generation gen
// (0: prefill, 1: written by the run).  Derived from the offset, so data
// landing at the wrong place is caught, not only data lost.
inline uint8_t pattern_byte(uint64_t seed, int gen, uint64_t off)
{
	return static_cast<uint8_t>(splitmix((off >> 3) ^ (seed << 1) ^ (uint64_t(gen) << 62)) >> ((off & 7) * 8));
}

struct OpStats {
	Histogram hist;     // latency (open loop: from the intended start)
	Histogram service;  // open loop only: from the actual start
	uint64_t ops = 0, bytes = 0;
	std::array<uint64_t, kMaxErrno> errors{};
};

struct Run;

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
	uint64_t first_start = UINT64_MAX, last_end = 0;  // measured window (ticks)
	uint64_t cpu_start_ns = 0, cpu_ns = 0;  // thread CPU time of the measured phase
	std::string error;
	// lkp_enc
	uint32_t seed = 0;
	std::string text;
	std::array<char, LKP_ENC_STRING_SIZE> out{};
};

struct Run {
	Options opt;
	DeviceInfo dev;
	bool is_regular = false;
	dev_t rdev = 0;
	std::vector<OpSpec> ops;
	std::vector<unsigned> cumulative;  // mix weights, cumulative
	unsigned total_weight = 0;
	bool seekable = false;  // scull or regular file: per-thread regions
	bool prefill = false;
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

uint64_t next_rand(uint64_t &s)
{
	// xorshift64*: fast and good enough for offsets and mixes.
	s ^= s >> 12;
	s ^= s << 25;
	s ^= s >> 27;
	return s * 0x2545f4914f6cdd1dull;
}

std::string random_text(uint64_t &rng, size_t len)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,!?-";
	std::string s(len, ' ');
	for (auto &c : s)
		c = alphabet[next_rand(rng) % (sizeof(alphabet) - 1)];
	return s;
}

// ---------------------------------------------------------------------------
// One operation.  Returns bytes moved (>= 0) or -errno.

// read/write/pread/pwrite go straight to the kernel: glibc's wrappers in a
// multi-threaded process switch asynchronous cancellation on and off around
// every call (7% of a /dev/zero read here), which the single-threaded
// reference loop never pays.  The kernel does exactly the same work.
#if defined(__x86_64__)
inline long raw_syscall4(long nr, long a, long b, long c, long d)
{
	long ret;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;  // -errno on failure
}
inline long sys_read(int fd, void *buf, size_t n) { return raw_syscall4(SYS_read, fd, reinterpret_cast<long>(buf), static_cast<long>(n), 0); }
inline long sys_write(int fd, const void *buf, size_t n) { return raw_syscall4(SYS_write, fd, reinterpret_cast<long>(buf), static_cast<long>(n), 0); }
inline long sys_pread(int fd, void *buf, size_t n, uint64_t off) { return raw_syscall4(SYS_pread64, fd, reinterpret_cast<long>(buf), static_cast<long>(n), static_cast<long>(off)); }
inline long sys_pwrite(int fd, const void *buf, size_t n, uint64_t off) { return raw_syscall4(SYS_pwrite64, fd, reinterpret_cast<long>(buf), static_cast<long>(n), static_cast<long>(off)); }
#else
inline long neg(long r) { return r < 0 ? -errno : r; }
inline long sys_read(int fd, void *buf, size_t n) { return neg(read(fd, buf, n)); }
inline long sys_write(int fd, const void *buf, size_t n) { return neg(write(fd, buf, n)); }
inline long sys_pread(int fd, void *buf, size_t n, uint64_t off) { return neg(pread(fd, buf, n, static_cast<off_t>(off))); }
inline long sys_pwrite(int fd, const void *buf, size_t n, uint64_t off) { return neg(pwrite(fd, buf, n, static_cast<off_t>(off))); }
#endif

inline long do_ioctl(Run &run, Worker &w, const IoctlSpec &io)
{
	int iv = 0;
	int64_t sv = 0;
	uint32_t uv = 0;
	const bool quantum = std::strstr(io.name, "QUANTUM") != nullptr;
	const int scull_val = run.opt.ioctl_arg ? static_cast<int>(*run.opt.ioctl_arg)
						: (quantum ? run.scull_quantum : run.scull_qset);
	long r;
	switch (io.arg) {
	case IoctlArg::none:
		r = ioctl(w.fd, io.cmd);
		break;
	case IoctlArg::value:
		r = ioctl(w.fd, io.cmd, static_cast<unsigned long>(scull_val));
		break;
	case IoctlArg::int_ptr:
		iv = scull_val;
		r = ioctl(w.fd, io.cmd, &iv);
		break;
	case IoctlArg::s64_ptr:
		sv = run.counter_set;
		r = ioctl(w.fd, io.cmd, &sv);
		break;
	case IoctlArg::u32_ptr:
		uv = run.lkp_seed_arg;
		r = ioctl(w.fd, io.cmd, &uv);
		break;
	case IoctlArg::str_in:
		r = ioctl(w.fd, io.cmd, w.text.c_str());
		break;
	case IoctlArg::str_out:
		r = ioctl(w.fd, io.cmd, w.out.data());
		break;
	default:
		r = -1;
		errno = EINVAL;
	}
	return r < 0 ? -errno : 0;
}

inline long exec_op(Run &run, Worker &w, const OpSpec &op)
{
	switch (op.kind) {
	case OpKind::read:
		if (run.dev.kind == DeviceKind::counter)
			return sys_pread(w.fd, w.buf.data(), COUNTER_TEXT_MAX, 0);
		return sys_read(w.fd, w.buf.data(), run.size);
	case OpKind::write:
		return sys_write(w.fd, w.buf.data(), run.size);
	case OpKind::pread:
		return sys_pread(w.fd, w.buf.data(), run.size, w.region_base + w.off);
	case OpKind::pwrite:
		return sys_pwrite(w.fd, w.buf.data(), run.size, w.region_base + w.off);
	case OpKind::incr:
		return sys_write(w.fd, "1", 1);
	case OpKind::encrypt: {
		uint32_t seed = w.seed;
		if (ioctl(w.fd, LKP_ENC_IOC_WRITE_SEED, &seed) < 0 ||
		    ioctl(w.fd, LKP_ENC_IOC_WRITE_STRING, w.text.c_str()) < 0 ||
		    ioctl(w.fd, LKP_ENC_IOC_READ_STRING, w.out.data()) < 0)
			return -errno;
		return static_cast<long>(w.text.size());
	}
	case OpKind::ioctl:
		return do_ioctl(run, w, *op.ioctl);
	}
	return -EINVAL;
}

void note_mismatch(Worker &w, const std::string &what)
{
	if (w.mismatches++ == 0)
		w.first_mismatch = what;
}

// Work before an operation that must not be timed: wrapping the file
// position, choosing pread/pwrite offsets, and --check data.  Returns true
// when it did something slow enough to need a fresh start timestamp.
inline bool prepare(Run &run, Worker &w, const OpSpec &op)
{
	bool slow = false;
	const bool check = run.opt.check;
	uint64_t rel = 0;
	switch (op.kind) {
	case OpKind::read:
	case OpKind::write:
		if (!run.seekable || run.dev.kind == DeviceKind::counter)
			return false;
		if (w.pos + run.size > run.span) {
			lseek(w.fd, static_cast<off_t>(w.region_base), SEEK_SET);
			w.pos = 0;
			slow = true;
		}
		rel = w.pos;
		break;
	case OpKind::pread:
	case OpKind::pwrite:
		if (run.opt.random_offsets) {
			w.off = (next_rand(w.rng) % (run.span / run.size)) * run.size;
		} else {
			// off is advanced after the op; wrap here.
			if (w.off + run.size > run.span)
				w.off = 0;
		}
		rel = w.off;
		break;
	case OpKind::encrypt:
		if (run.opt.threads == 1) {
			// Vary seed and text per cycle so a stale read-back is caught.
			w.seed = static_cast<uint32_t>(next_rand(w.rng));
			if (check) {
				w.text = random_text(w.rng, w.text.size());
				slow = true;
			}
		}
		if (check)
			std::fill(w.out.begin(), w.out.end(), '\0');
		return slow;
	default:
		return false;
	}
	if (check && (op.kind == OpKind::write || op.kind == OpKind::pwrite) && run.seekable) {
		for (uint64_t i = 0; i < run.size; i++)
			w.buf[i] = static_cast<char>(pattern_byte(run.opt.seed, 1, w.region_base + rel + i));
		slow = true;
	}
	return slow;
}

// Work after an operation: advance positions, --check verification.
// Returns true when it was slow (fresh timestamp needed).
inline bool finish(Run &run, Worker &w, const OpSpec &op, long r)
{
	const bool check = run.opt.check;
	uint64_t rel = 0;
	switch (op.kind) {
	case OpKind::read:
	case OpKind::write:
		if (!run.seekable || run.dev.kind == DeviceKind::counter)
			break;
		rel = w.pos;
		if (r > 0)
			w.pos += static_cast<uint64_t>(r);
		else if (r == 0)
			w.pos = run.span;  // EOF: wrap before the next one
		break;
	case OpKind::pread:
	case OpKind::pwrite:
		rel = w.off;
		if (!run.opt.random_offsets)
			w.off += run.size;
		break;
	case OpKind::incr:
		if (r > 0)
			w.incr_ok++;
		return false;
	default:
		break;
	}
	if (!check || r < 0)
		return false;
	if (op.kind == OpKind::encrypt) {
		const std::string want = caesar(w.text, w.seed);
		if (std::memcmp(w.out.data(), want.data(), want.size()) != 0 || w.out[want.size()] != '\0')
			note_mismatch(w, "encrypt(seed " + std::to_string(w.seed) + ", \"" + w.text + "\") read back \"" +
					 std::string(w.out.data(), strnlen(w.out.data(), w.out.size())) + "\", want \"" + want + "\"");
		return true;
	}
	if (op.kind == OpKind::read && run.dev.kind == DeviceKind::counter) {
		// The value moves under concurrent incr: check the text's form.
		std::string t(w.buf.data(), static_cast<size_t>(r));
		char *end = nullptr;
		errno = 0;
		strtoll(t.c_str(), &end, 10);
		if (t.empty() || errno || !end || std::string(end) != "\n")
			note_mismatch(w, "counter read returned \"" + t + "\", not a number and a newline");
		return true;
	}
	if (!run.seekable)
		return false;
	if (op.kind == OpKind::write || op.kind == OpKind::pwrite) {
		if (r > 0)
			std::fill(w.written.begin() + static_cast<long>(rel), w.written.begin() + static_cast<long>(rel + r), 1);
		return true;
	}
	if (op.kind == OpKind::read || op.kind == OpKind::pread) {
		if (r == 0)
			note_mismatch(w, "read at offset " + std::to_string(w.region_base + rel) +
						 " returned 0 (EOF) inside the prefilled region");
		for (long i = 0; i < r; i++) {
			const uint64_t abs = w.region_base + rel + static_cast<uint64_t>(i);
			const uint8_t want = pattern_byte(run.opt.seed, w.written[rel + static_cast<uint64_t>(i)], abs);
			if (static_cast<uint8_t>(w.buf[static_cast<size_t>(i)]) != want) {
				char msg[160];
				std::snprintf(msg, sizeof(msg), "byte at offset %" PRIu64 " read 0x%02x, want 0x%02x", abs,
					      static_cast<uint8_t>(w.buf[static_cast<size_t>(i)]), want);
				note_mismatch(w, msg);
				break;
			}
		}
		return true;
	}
	return false;
}

inline const OpSpec &pick(Run &run, Worker &w, unsigned *which)
{
	if (run.ops.size() == 1) {
		*which = 0;
		return run.ops[0];
	}
	const unsigned x = static_cast<unsigned>(next_rand(w.rng) % run.total_weight);
	unsigned i = 0;
	while (x >= run.cumulative[i])
		i++;
	*which = i;
	return run.ops[i];
}

inline void account(Worker &w, unsigned which, long r, uint64_t lat_ticks, const Clock &clk)
{
	OpStats &s = w.stats[which];
	s.hist.record(clk.to_ns(lat_ticks));
	s.ops++;
	if (r >= 0) {
		s.bytes += static_cast<uint64_t>(r);
	} else {
		const int e = static_cast<int>(-r);
		s.errors[e < kMaxErrno ? e : 0]++;
		w.progress_err.fetch_add(1, std::memory_order_relaxed);
	}
}

void wait_measure_go(Run &run)
{
	while (!run.measure_go.load(std::memory_order_acquire))
		std::this_thread::yield();
}

void verify_region(Run &run, Worker &w);

uint64_t thread_cpu_ns()
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

void closed_loop(Run &run, Worker &w)
{
	const Clock &clk = run.clock;
	const bool ops_mode = run.deadline == 0;
	uint64_t measured = 0;
	bool measuring = false;
	uint64_t t_start = clk.now();
	for (;;) {
		// Warm-up over but the BPF session not cleared yet: issue nothing
		// until it is, so that at most the one operation started before
		// the end of the warm-up is still in the kernel during the clear
		// (the exact-count rule: BPF - ops <= threads x calls per op).
		// Checked after prepare(), which may take long enough (--check
		// fills the write buffer) to carry t_start past the warm-up: an
		// op issued then, before the clear, was measured by kmodlab-load
		// and wiped from BPF (-75 in a scull pwrite run).
		unsigned which;
		const OpSpec &op = pick(run, w, &which);
		if (prepare(run, w, op))
			t_start = clk.now();
		if (!measuring && t_start >= run.warm_end && !run.measure_go.load(std::memory_order_acquire)) {
			wait_measure_go(run);
			t_start = clk.now();
		}
		const long r = exec_op(run, w, op);
		uint64_t t_end = clk.now();
		if (measuring) {
			account(w, which, r, t_end - t_start, clk);
			w.progress_ops.store(++measured, std::memory_order_relaxed);
			w.last_end = t_end;
		} else if (t_start >= run.warm_end) {
			// First op that started after the warm-up: it counts.
			measuring = true;
			w.measuring.store(true, std::memory_order_relaxed);
			w.first_start = t_start;
			w.cpu_start_ns = thread_cpu_ns();
			account(w, which, r, t_end - t_start, clk);
			w.progress_ops.store(++measured, std::memory_order_relaxed);
			w.last_end = t_end;
		}
		if (finish(run, w, op, r))
			t_end = clk.now();
		if (measuring && (ops_mode ? measured >= w.share : t_end >= run.deadline))
			break;
		if (g_stop.load(std::memory_order_relaxed))
			break;
		t_start = t_end;
	}
}

// The common benchmark case without any per-op choice: one plain
// read/write/pread/pwrite on a device without regions (/dev/null, /dev/zero,
// counter-less char devices), no --check.  Same measurement as closed_loop,
// with the dispatch resolved at compile time; it keeps kmodlab-load's cost
// per operation down to the clock read and the histogram update.
template <OpKind K>
void closed_loop_fast(Run &run, Worker &w)
{
	const Clock &clk = run.clock;
	const bool ops_mode = run.deadline == 0;
	const int fd = w.fd;
	char *const buf = w.buf.data();
	const size_t n = run.size;
	const uint64_t off = w.region_base;
	OpStats &s = w.stats[0];
	auto op = [&]() -> long {
		if constexpr (K == OpKind::read)
			return sys_read(fd, buf, n);
		else if constexpr (K == OpKind::write)
			return sys_write(fd, buf, n);
		else if constexpr (K == OpKind::pread)
			return sys_pread(fd, buf, n, off);
		else
			return sys_pwrite(fd, buf, n, off);
	};
	uint64_t t_start = clk.now();
	while (t_start < run.warm_end && !g_stop.load(std::memory_order_relaxed)) {
		op();
		t_start = clk.now();
	}
	if (!run.measure_go.load(std::memory_order_acquire)) {
		wait_measure_go(run);
		t_start = clk.now();
	}
	w.first_start = t_start;
	w.cpu_start_ns = thread_cpu_ns();
	w.measuring.store(true, std::memory_order_relaxed);
	uint64_t measured = 0, t_end = t_start;
	while (!g_stop.load(std::memory_order_relaxed)) {
		const long r = op();
		t_end = clk.now();
		s.hist.record(clk.to_ns(t_end - t_start));
		if (r >= 0) [[likely]] {
			s.bytes += static_cast<uint64_t>(r);
		} else {
			s.errors[-r < kMaxErrno ? -r : 0]++;
			w.progress_err.fetch_add(1, std::memory_order_relaxed);
		}
		w.progress_ops.store(++measured, std::memory_order_relaxed);
		if (ops_mode ? measured >= w.share : t_end >= run.deadline)
			break;
		t_start = t_end;
	}
	s.ops = measured;
	w.last_end = t_end;
}

void open_loop(Run &run, Worker &w)
{
	const Clock &clk = run.clock;
	const bool ops_mode = run.deadline == 0;
	Pacer pacer(run.t0, run.opt.rate, run.opt.threads, w.index, 1e9 * clk.ticks_per_ns());
	uint64_t measured = 0;
	for (uint64_t k = 0;; k++) {
		const uint64_t intended = pacer.intended(k);
		if (!ops_mode && intended >= run.deadline)
			break;
		unsigned which;
		const OpSpec &op = pick(run, w, &which);
		prepare(run, w, op);
		wait_until(clk, intended);
		if (intended >= run.warm_end && !measured)
			wait_measure_go(run);
		const uint64_t t_start = clk.now();
		const long r = exec_op(run, w, op);
		const uint64_t t_end = clk.now();
		if (intended >= run.warm_end) {
			if (!measured) {
				w.first_start = intended;
				w.cpu_start_ns = thread_cpu_ns();
				w.measuring.store(true, std::memory_order_relaxed);
			}
			account(w, which, r, Pacer::latency(intended, t_end), clk);
			w.stats[which].service.record(clk.to_ns(t_end - t_start));
			w.progress_ops.store(++measured, std::memory_order_relaxed);
			w.last_end = t_end;
		}
		finish(run, w, op, r);
		if (ops_mode && measured >= w.share)
			break;
		if (g_stop.load(std::memory_order_relaxed))
			break;
	}
}

void worker_main(Run &run, Worker &w)
{
	if (run.opt.pin) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(w.index % std::max(1u, std::thread::hardware_concurrency()), &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	// A private descriptor table: in a process whose threads share one,
	// every read/write pays an atomic get/put of the file in fdget (10-15%
	// of a /dev/zero read), which a single-threaded program never pays.
	// The table is a copy, so the descriptor opened for us stays valid;
	// the main thread closes its own copy once every worker is ready.
	if (unshare(CLONE_FILES) != 0)
		w.error = std::string("unshare(CLONE_FILES): ") + std::strerror(errno);
	run.ready.fetch_add(1);
	while (!run.go.load(std::memory_order_acquire))
		std::this_thread::yield();
	const bool fast = run.opt.rate == 0 && run.ops.size() == 1 && !run.opt.check && !run.seekable &&
			  run.dev.kind == DeviceKind::generic;
	if (run.opt.rate > 0)
		open_loop(run, w);
	else if (fast && run.ops[0].kind == OpKind::read)
		closed_loop_fast<OpKind::read>(run, w);
	else if (fast && run.ops[0].kind == OpKind::write)
		closed_loop_fast<OpKind::write>(run, w);
	else if (fast && run.ops[0].kind == OpKind::pread)
		closed_loop_fast<OpKind::pread>(run, w);
	else if (fast && run.ops[0].kind == OpKind::pwrite)
		closed_loop_fast<OpKind::pwrite>(run, w);
	else
		closed_loop(run, w);
	if (w.first_start != UINT64_MAX)
		w.cpu_ns = thread_cpu_ns() - w.cpu_start_ns;
	// Only this thread's table holds the descriptor now: verify here, once
	// BPF no longer counts (see Run::verify_go).
	if (run.opt.check && run.seekable) {
		run.loops_done.fetch_add(1, std::memory_order_acq_rel);
		while (!run.verify_go.load(std::memory_order_acquire))
			std::this_thread::sleep_for(std::chrono::milliseconds(1));
		verify_region(run, w);
	}
	close(w.fd);
}

// ---------------------------------------------------------------------------
// Set-up.

[[noreturn]] void die(const std::string &msg, int code = 2)
{
	std::cerr << "kmodlab-load: " << msg << "\n";
	std::exit(code);
}

std::string open_error(const Run &run, int e)
{
	const std::string &p = run.dev.path;
	if (e == ENOENT) {
		if (run.dev.kind != DeviceKind::generic)
			return p + " not found: is the module loaded? (module " + run.dev.module + ")";
		return p + " not found";
	}
	if (e == EACCES || e == EPERM) {
		struct stat st;
		std::string who;
		if (stat(p.c_str(), &st) == 0) {
			char mode[32];
			std::snprintf(mode, sizeof(mode), "%04o", st.st_mode & 07777);
			who = " (mode " + std::string(mode) + ", owner uid " + std::to_string(st.st_uid) + "; you are uid " +
			      std::to_string(getuid()) + ")";
		}
		return p + ": permission denied" + who + ": run as root or change the node's mode";
	}
	return p + ": " + std::strerror(e);
}

bool write_all_at(int fd, const char *data, uint64_t len, uint64_t off, std::string *err)
{
	while (len) {
		ssize_t r = pwrite(fd, data, len, static_cast<off_t>(off));
		if (r <= 0) {
			*err = "prefill pwrite at " + std::to_string(off) + ": " + (r < 0 ? std::strerror(errno) : "wrote 0 bytes");
			return false;
		}
		data += r;
		len -= static_cast<uint64_t>(r);
		off += static_cast<uint64_t>(r);
	}
	return true;
}

// Fill the thread's region with the generation-0 pattern (untimed).
bool prefill(Run &run, Worker &w, std::string *err)
{
	std::vector<char> chunk(64 * 1024);
	for (uint64_t done = 0; done < run.span; done += chunk.size()) {
		const uint64_t n = std::min<uint64_t>(chunk.size(), run.span - done);
		for (uint64_t i = 0; i < n; i++)
			chunk[i] = static_cast<char>(pattern_byte(run.opt.seed, 0, w.region_base + done + i));
		if (!write_all_at(w.fd, chunk.data(), n, w.region_base + done, err))
			return false;
	}
	return true;
}

// After the run: the whole region must read back as prefill or run data.
void verify_region(Run &run, Worker &w)
{
	std::vector<char> chunk(64 * 1024);
	for (uint64_t done = 0; done < run.span;) {
		const uint64_t n = std::min<uint64_t>(chunk.size(), run.span - done);
		ssize_t r = pread(w.fd, chunk.data(), n, static_cast<off_t>(w.region_base + done));
		if (r <= 0) {
			note_mismatch(w, "final read-back at offset " + std::to_string(w.region_base + done) + ": " +
						 (r < 0 ? std::strerror(errno) : "EOF inside the region"));
			return;
		}
		for (ssize_t i = 0; i < r; i++) {
			const uint64_t rel = done + static_cast<uint64_t>(i);
			const uint8_t want = pattern_byte(run.opt.seed, w.written[rel], w.region_base + rel);
			if (static_cast<uint8_t>(chunk[static_cast<size_t>(i)]) != want) {
				char msg[200];
				std::snprintf(msg, sizeof(msg),
					      "final read-back: byte at offset %" PRIu64 " is 0x%02x, want 0x%02x (%s)",
					      w.region_base + rel, static_cast<uint8_t>(chunk[static_cast<size_t>(i)]), want,
					      w.written[rel] ? "written by the run" : "prefill");
				note_mismatch(w, msg);
				return;
			}
		}
		done += static_cast<uint64_t>(r);
	}
}

std::string errno_name(int e)
{
	if (e == 0)
		return "EOTHER";
	const char *n = strerrorname_np(e);
	return n ? n : "E" + std::to_string(e);
}

struct Summary {
	Histogram hist, service;
	uint64_t ops = 0, bytes = 0;
	std::map<std::string, uint64_t> errors;
};

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

void json_latency(JsonWriter &j, const Histogram &h)
{
	j.begin_object();
	j.kv("min", static_cast<double>(h.min()));
	j.kv("mean", h.mean());
	j.kv("p50", h.percentile(0.50));
	j.kv("p90", h.percentile(0.90));
	j.kv("p99", h.percentile(0.99));
	j.kv("p999", h.percentile(0.999));
	j.kv("p9999", h.percentile(0.9999));
	j.kv("max", static_cast<double>(h.max()));
	j.end_object();
}

void json_histogram(JsonWriter &j, const Histogram &h)
{
	j.begin_array();
	for (const auto &b : h.buckets()) {
		j.begin_array();
		j.value(b.lo).value(b.hi).value(b.count);
		j.end_array();
	}
	j.end_array();
}

void json_errors(JsonWriter &j, const std::map<std::string, uint64_t> &errors)
{
	j.begin_object();
	for (const auto &[k, v] : errors)
		j.kv(k, v);
	j.end_object();
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

void print_row(FILE *tout, const std::string &name, const Histogram &h)
{
	std::fprintf(tout, "  %-22s %9s %9s %9s %9s %9s %9s %9s %9s\n", name.c_str(), fmt_ns(static_cast<double>(h.min())).c_str(),
		    fmt_ns(h.mean()).c_str(), fmt_ns(h.percentile(0.5)).c_str(), fmt_ns(h.percentile(0.9)).c_str(),
		    fmt_ns(h.percentile(0.99)).c_str(), fmt_ns(h.percentile(0.999)).c_str(),
		    fmt_ns(h.percentile(0.9999)).c_str(), fmt_ns(static_cast<double>(h.max())).c_str());
}

}  // namespace

int run_main(int argc, char **argv)
{
	Run run;
	std::string err;
	if (!parse_options(argc, argv, &run.opt, &err))
		die(err);
	const Options &opt = run.opt;
	if (opt.help) {
		std::cout << usage();
		return 0;
	}
	if (opt.version) {
		std::cout << "kmodlab-load " << kVersion << "\n";
		return 0;
	}
#ifndef KMODLAB_HAVE_BPF
	if (opt.bpf)
		die("--bpf: built without BPF support (the bpf/ library target kmodlab_bpf was not available at build time)");
#endif

	// Fail before a long run, not after it, when the JSON cannot be written.
	if (!opt.json_path.empty() && opt.json_path != "-") {
		std::ofstream probe(opt.json_path, std::ios::app);
		if (!probe)
			die("--json: cannot write " + opt.json_path + ": " + std::strerror(errno));
	}
	run.dev = classify_device(opt.device);
	struct stat st;
	if (stat(opt.device.c_str(), &st) != 0)
		die(open_error(run, errno));
	run.is_regular = S_ISREG(st.st_mode);
	run.rdev = st.st_rdev;
	if (!run.is_regular && !S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
		die(opt.device + " is neither a device node nor a regular file");

	// Resolve the mix against what this device supports.
	for (const auto &m : opt.mix) {
		OpSpec spec;
		if (!lookup_op(run.dev.kind, m.op, &spec, &err))
			die(opt.device + ": " + err);
		run.ops.push_back(spec);
		run.total_weight += m.weight;
		run.cumulative.push_back(run.total_weight);
		if (spec.ioctl && spec.ioctl->mutates)
			run.has_ioctl_mutation = true;
	}
	run.seekable = run.dev.kind == DeviceKind::scull || run.is_regular;
	bool has_read = false;
	for (const auto &o : run.ops)
		has_read |= o.kind == OpKind::read || o.kind == OpKind::pread;
	if (run.dev.kind == DeviceKind::lkp_enc) {
		run.size = opt.size ? opt.size : kDefaultLkpLen;
		if (run.size > LKP_ENC_STRING_MAX)
			die("--size: an lkp_enc string holds at most " + std::to_string(LKP_ENC_STRING_MAX) + " bytes");
	} else {
		run.size = opt.size ? opt.size : kDefaultSize;
	}
	run.span = opt.span ? opt.span : std::max<uint64_t>(kDefaultSpan, run.size);
	if (run.seekable && run.span < run.size)
		die("--span must be at least --size");

	if (opt.check) {
		switch (run.dev.kind) {
		case DeviceKind::generic:
			if (!run.is_regular)
				die("--check needs a device that keeps data (scull, counter, lkp_enc or a regular file); " +
				    opt.device + " is not one");
			break;
		case DeviceKind::counter:
			for (const auto &o : run.ops)
				if (o.ioctl && o.ioctl->mutates)
					die("--check on a counter counts increments; " + o.name + " changes the value behind its back");
			break;
		case DeviceKind::lkp_enc: {
			bool enc = false;
			for (const auto &o : run.ops) {
				enc |= o.kind == OpKind::encrypt;
				if (o.ioctl && o.ioctl->mutates)
					die("--check on lkp_enc verifies encrypt cycles; " + o.name + " would change the seed or string between their steps");
			}
			if (!enc)
				die("--check on lkp_enc verifies encrypt cycles; the mix has none");
			break;
		}
		case DeviceKind::scull:
			break;
		}
	}
	run.prefill = run.seekable && (has_read || opt.check);

	std::map<std::string, std::string> params = module_parameters(run.dev.module);
	if (run.dev.kind == DeviceKind::scull) {
		int64_t max_bytes = SCULL_MAX_BYTES_DEFAULT;
		if (params.count("max_bytes"))
			max_bytes = std::stoll(params["max_bytes"]);
		if (static_cast<int64_t>(run.span * opt.threads) > max_bytes)
			die("--threads x --span = " + std::to_string(run.span * opt.threads) + " bytes exceeds the device's max_bytes " +
			    std::to_string(max_bytes));
	}

	if (!run.clock.init(opt.clock, &err))
		die(err);

	// Open a control descriptor, then one per thread.
	const int ctl = open(opt.device.c_str(), O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		die(open_error(run, errno));
	if (run.dev.kind == DeviceKind::scull) {
		run.scull_quantum = ioctl(ctl, SCULL_IOCQQUANTUM);
		run.scull_qset = ioctl(ctl, SCULL_IOCQQSET);
	}
	if (run.dev.kind == DeviceKind::counter) {
		run.counter_set = opt.ioctl_arg.value_or(0);
		if (opt.check && ioctl(ctl, COUNTER_IOC_RESET) < 0)
			die(opt.device + ": COUNTER_IOC_RESET before --check failed: " + std::strerror(errno));
	}
	if (run.dev.kind == DeviceKind::lkp_enc) {
		uint32_t cur = 0;
		if (!opt.ioctl_arg && ioctl(ctl, LKP_ENC_IOC_READ_SEED, &cur) == 0)
			run.lkp_seed_arg = cur;
		else
			run.lkp_seed_arg = static_cast<uint32_t>(opt.ioctl_arg.value_or(0));
		uint64_t r = opt.seed * 7919 + 17;
		run.lkp_fixed_text = random_text(r, run.size);
		run.lkp_fixed_seed = static_cast<uint32_t>(next_rand(r));
	}

	uint64_t rng = splitmix(opt.seed);
	for (unsigned i = 0; i < opt.threads; i++) {
		auto w = std::make_unique<Worker>();
		w->index = i;
		w->fd = open(opt.device.c_str(), O_RDWR | O_CLOEXEC);
		if (w->fd < 0)
			die(open_error(run, errno));
		w->stats.resize(run.ops.size());
		w->share = opt.ops / opt.threads + (i < opt.ops % opt.threads ? 1 : 0);
		w->rng = splitmix(rng + i + 1) | 1;
		w->buf.assign(std::max<uint64_t>(run.size, COUNTER_WRITE_MAX), 'x');
		if (run.seekable) {
			w->region_base = i * run.span;
			if (lseek(w->fd, static_cast<off_t>(w->region_base), SEEK_SET) < 0)
				die(opt.device + ": lseek: " + std::strerror(errno));
			if (opt.check)
				w->written.assign(run.span, 0);
			if (run.prefill && !prefill(run, *w, &err))
				die(opt.device + ": " + err);
		}
		if (run.dev.kind == DeviceKind::lkp_enc) {
			w->text = run.lkp_fixed_text;
			w->seed = run.lkp_fixed_seed;
		}
		run.workers.push_back(std::move(w));
	}

	// Precise sleeps for open-loop pacing (the default slack is 50 us).
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

#ifdef KMODLAB_HAVE_BPF
	std::unique_ptr<kmodlab::bpf::Session> session;
	if (opt.bpf) {
		kmodlab::bpf::Options bo;
		bo.devices = {run.rdev};
		bo.tgid = getpid(); /* other processes on the same node are not ours */
		session = kmodlab::bpf::Session::open(bo, &err);
		if (!session)
			die("--bpf: " + err);
		if (!session->attach(&err))
			die("--bpf: attach: " + err);
	}
#endif

	std::vector<std::thread> threads;
	for (auto &w : run.workers)
		threads.emplace_back(worker_main, std::ref(run), std::ref(*w));
	while (run.ready.load() < opt.threads)
		std::this_thread::yield();
	for (auto &w : run.workers) {
		if (!w->error.empty())
			die(w->error);
		close(w->fd);  // the worker has its own copy (see worker_main)
	}
	const Clock &clk = run.clock;
	const double tpn = clk.ticks_per_ns();
	run.t0 = clk.now() + static_cast<uint64_t>(1e6 * tpn);  // 1 ms for everyone to see "go"
	run.warm_end = run.t0 + static_cast<uint64_t>(opt.warmup_s * 1e9 * tpn);
	run.deadline = opt.ops ? 0 : run.warm_end + static_cast<uint64_t>(opt.duration_s * 1e9 * tpn);
	if (opt.ops && opt.duration_s > 0)
		run.deadline = run.warm_end + static_cast<uint64_t>(opt.duration_s * 1e9 * tpn);
	run.measure_go.store(!opt.bpf, std::memory_order_relaxed);
	run.verify_go.store(!opt.bpf, std::memory_order_relaxed);
	wait_until(clk, run.t0);
	run.go.store(true, std::memory_order_release);
#ifdef KMODLAB_HAVE_BPF
	if (session) {
		wait_until(clk, run.warm_end);
		session->clear();
		run.measure_go.store(true, std::memory_order_release);
	}
#endif

	// Progress: one line a second on stderr.
	std::atomic<unsigned> finished{0};
	std::vector<std::thread> joiners;
	for (auto &t : threads)
		joiners.emplace_back([&t, &finished] {
			t.join();
			finished.fetch_add(1);
		});
	uint64_t last_ops = 0, last_t = clk.now(), next_report = run.t0 + static_cast<uint64_t>(1e9 * tpn);
	std::string bpf_json, bpf_text;	// --bpf --check: the figures before the read-back
	while (finished.load() < opt.threads) {
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
#ifdef KMODLAB_HAVE_BPF
		// --check under --bpf: every worker's measured loop is over, so stop
		// counting before they read their regions back.
		if (session && !run.verify_go.load() && run.loops_done.load() == opt.threads) {
			session->detach();
			// Read the figures now: in the guest, the read-back calls
			// that follow were still counted after detach returned.
			bpf_json = session->json();
			bpf_text = session->text();
			run.verify_go.store(true, std::memory_order_release);
		}
#endif
		const uint64_t now = clk.now();
		if (now < next_report)
			continue;
		next_report += static_cast<uint64_t>(1e9 * tpn);
		if (!opt.progress)
			continue;
		uint64_t ops = 0, errs = 0;
		bool measuring = true;
		for (auto &w : run.workers) {
			ops += w->progress_ops.load(std::memory_order_relaxed);
			errs += w->progress_err.load(std::memory_order_relaxed);
			measuring &= w->measuring.load(std::memory_order_relaxed);
		}
		const double dt = static_cast<double>(now - last_t) / tpn / 1e9;
		std::fprintf(stderr, "kmodlab-load: %6.1fs %s ops %" PRIu64 "  %sops/s  errors %" PRIu64 "\n",
			     static_cast<double>(now - run.t0) / tpn / 1e9, measuring ? "" : "(warm-up)", ops,
			     fmt_rate(static_cast<double>(ops - last_ops) / dt).c_str(), errs);
		last_ops = ops;
		last_t = now;
	}
	for (auto &j : joiners)
		j.join();
#ifdef KMODLAB_HAVE_BPF
	if (session && !run.verify_go.load())
		session->detach();
#endif
	const bool interrupted = g_stop.load();

	// --- verification -------------------------------------------------------
	std::string check_detail;
	bool check_ok = true;
	if (opt.check) {
		uint64_t mism = 0;
		std::string first;
		for (auto &w : run.workers) {
			if (w->mismatches && first.empty())
				first = "thread " + std::to_string(w->index) + ": " + w->first_mismatch;
			mism += w->mismatches;
		}
		if (run.dev.kind == DeviceKind::counter) {
			uint64_t incr = 0;
			for (auto &w : run.workers)
				incr += w->incr_ok;
			int64_t val = 0;
			char text[COUNTER_TEXT_MAX + 1] = {};
			if (ioctl(ctl, COUNTER_IOC_GET, &val) < 0) {
				mism++;
				first = first.empty() ? std::string("COUNTER_IOC_GET failed: ") + std::strerror(errno) : first;
			} else if (val != static_cast<int64_t>(incr)) {
				mism++;
				if (first.empty())
					first = "counter value " + std::to_string(val) + " after " + std::to_string(incr) + " increments";
			} else if (pread(ctl, text, COUNTER_TEXT_MAX, 0) < 0 || std::to_string(val) + "\n" != text) {
				mism++;
				if (first.empty())
					first = "counter read \"" + std::string(text) + "\" but COUNTER_IOC_GET says " + std::to_string(val);
			}
			if (!mism)
				check_detail = "counter value " + std::to_string(val) + " = increments made";
		} else if (run.seekable) {
			if (!mism)
				check_detail = std::to_string(opt.threads) + " region(s) of " + std::to_string(run.span) +
					       " bytes read back intact";
		} else if (run.dev.kind == DeviceKind::lkp_enc) {
			if (!mism)
				check_detail = "every encrypt read-back matched the Caesar reference";
		}
		if (mism) {
			check_ok = false;
			check_detail = std::to_string(mism) + " mismatch(es); first: " + first;
		}
	}
	close(ctl);

	// --- merge and report -----------------------------------------------------
	Summary total;
	std::vector<Summary> per_op(run.ops.size());
	uint64_t first_start = UINT64_MAX, last_end = 0, cpu_ns = 0;
	for (auto &w : run.workers) {
		cpu_ns += w->cpu_ns;
		for (size_t i = 0; i < run.ops.size(); i++) {
			add_stats(total, w->stats[i]);
			add_stats(per_op[i], w->stats[i]);
		}
		if (w->stats.size() && w->first_start != UINT64_MAX) {
			first_start = std::min(first_start, w->first_start);
			last_end = std::max(last_end, w->last_end);
		}
	}
	const double elapsed = last_end > first_start ? static_cast<double>(last_end - first_start) / tpn / 1e9 : 0.0;
	const double ops_s = elapsed > 0 ? static_cast<double>(total.ops) / elapsed : 0;
	// Operations per second of worker CPU time: what the load costs,
	// independent of how much CPU other processes took (overhead figures).
	const double cpu_s = static_cast<double>(cpu_ns) / 1e9;
	const double ops_cpu_s = cpu_s > 0 ? static_cast<double>(total.ops) / cpu_s : 0;
	const double bytes_s = elapsed > 0 ? static_cast<double>(total.bytes) / elapsed : 0;
	uint64_t nerr = 0;
	for (const auto &[k, v] : total.errors)
		nerr += v;
	const std::string mode = opt.rate > 0 ? "open" : "closed";
	std::string mix_str;
	for (const auto &m : opt.mix)
		mix_str += (mix_str.empty() ? "" : ",") + m.op + "=" + std::to_string(m.weight);
	const std::string op_str = opt.mix_given ? "mix" : opt.mix[0].op;

	// With --json - the JSON owns stdout and the table goes to stderr.
	FILE *tout = opt.json_path == "-" ? stderr : stdout;
	std::fprintf(tout, "kmodlab-load %s  %s", opt.device.c_str(), kind_name(run.dev.kind));
	if (!run.dev.variant.empty())
		std::fprintf(tout, " (variant %s, module %s)", run.dev.variant.c_str(), run.dev.module.c_str());
	std::fprintf(tout, "\n  op %s  threads %u  %s loop", opt.mix_given ? mix_str.c_str() : op_str.c_str(), opt.threads,
		    mode.c_str());
	if (opt.rate > 0)
		std::fprintf(tout, " at %s ops/s", fmt_rate(opt.rate).c_str());
	std::fprintf(tout, "  size %" PRIu64 "  clock %s%s\n", run.size, clk.name(), interrupted ? "  (interrupted)" : "");
	std::fprintf(tout, "  measured %.3f s  ops %" PRIu64 "  errors %" PRIu64 "  ops/s %s  bytes/s %sB\n", elapsed, total.ops,
		    nerr, fmt_rate(ops_s).c_str(), fmt_rate(bytes_s).c_str());
	std::fprintf(tout, "  latency (ns)                 min      mean       p50       p90       p99     p99.9    p99.99       max\n");
	print_row(tout, "all", total.hist);
	if (run.ops.size() > 1)
		for (size_t i = 0; i < run.ops.size(); i++)
			print_row(tout, run.ops[i].name, per_op[i].hist);
	if (opt.rate > 0)
		print_row(tout, "service (actual start)", total.service);
	for (const auto &[k, v] : total.errors)
		std::fprintf(tout, "  error %s: %" PRIu64 "\n", k.c_str(), v);
	if (opt.check)
		std::fprintf(tout, "  check: %s: %s\n", check_ok ? "ok" : "FAILED", check_detail.c_str());

	if (!opt.json_path.empty()) {
		const Environment env = collect_environment();
		JsonWriter j;
		j.begin_object();
		j.kv("tool", "kmodlab-load").kv("version", kVersion);
		j.key("env").begin_object();
		j.kv("kernel", env.kernel_release).kv("kernel_version", env.kernel_version).kv("machine", env.machine);
		j.kv("hostname", env.hostname).kv("accel", env.accel).kv("hypervisor", env.hypervisor);
		j.kv("cpus", env.cpus).kv("cmdline", env.cmdline).kv("clocksource", env.clocksource);
		j.kv("clock", clk.name()).kv("clock_note", clk.note()).kv("time_utc", env.time_utc);
		j.end_object();
		j.kv("device", opt.device).kv("driver", run.dev.kind == DeviceKind::generic ? "generic" : run.dev.base);
		if (run.dev.variant.empty())
			j.key("variant").null();
		else
			j.kv("variant", run.dev.variant);
		if (run.dev.module.empty())
			j.key("module").null();
		else
			j.kv("module", run.dev.module);
		j.key("module_params").begin_object();
		for (const auto &[k, v] : params)
			j.kv(k, v);
		j.end_object();
		j.kv("op", op_str);
		j.key("mix").begin_object();
		for (const auto &m : opt.mix)
			j.kv(m.op, m.weight);
		j.end_object();
		j.kv("threads", opt.threads).kv("mode", mode);
		if (opt.rate > 0)
			j.kv("rate", opt.rate);
		else
			j.key("rate").null();
		j.kv("size", run.size);
		if (run.seekable)
			j.kv("span", run.span).kv("offsets", opt.random_offsets ? "rand" : "seq");
		else
			j.key("span").null().key("offsets").null();
		j.kv("duration_s", elapsed).kv("warmup_s", opt.warmup_s);
		if (opt.ops)
			j.kv("ops_requested", opt.ops);
		else
			j.key("ops_requested").null();
		if (opt.ops == 0)
			j.kv("duration_requested_s", opt.duration_s);
		else if (opt.duration_s > 0)
			j.kv("duration_requested_s", opt.duration_s);
		else
			j.key("duration_requested_s").null();
		j.kv("interrupted", interrupted);
		j.kv("ops", total.ops);
		j.key("errors");
		json_errors(j, total.errors);
		j.kv("bytes", total.bytes).kv("ops_per_s", ops_s).kv("bytes_per_s", bytes_s);
		j.kv("cpu_s", cpu_s).kv("ops_per_cpu_s", ops_cpu_s);
		j.key("latency_ns");
		json_latency(j, total.hist);
		j.key("histogram");
		json_histogram(j, total.hist);
		if (opt.rate > 0) {
			j.key("service_latency_ns");
			json_latency(j, total.service);
			j.key("service_histogram");
			json_histogram(j, total.service);
		}
		j.key("per_op").begin_object();
		for (size_t i = 0; i < run.ops.size(); i++) {
			j.key(run.ops[i].name).begin_object();
			j.kv("weight", opt.mix[i].weight).kv("ops", per_op[i].ops).kv("bytes", per_op[i].bytes);
			j.key("errors");
			json_errors(j, per_op[i].errors);
			j.key("latency_ns");
			json_latency(j, per_op[i].hist);
			j.key("histogram");
			json_histogram(j, per_op[i].hist);
			j.end_object();
		}
		j.end_object();
		j.key("check").begin_object();
		j.kv("enabled", opt.check);
		if (opt.check)
			j.kv("ok", check_ok);
		else
			j.key("ok").null();
		j.kv("detail", check_detail);
		j.end_object();
#ifdef KMODLAB_HAVE_BPF
		if (session)
			j.key("bpf").raw(bpf_json.empty() ? session->json() : bpf_json);
		else
			j.key("bpf").null();
#else
		j.key("bpf").null();
#endif
		j.end_object();
		if (opt.json_path == "-") {
			std::cout << j.str() << "\n";
		} else {
			std::ofstream f(opt.json_path);
			f << j.str() << "\n";
			if (!f)
				die("--json: cannot write " + opt.json_path);
		}
	}
#ifdef KMODLAB_HAVE_BPF
	if (session)
		std::fprintf(tout, "\n%s", (bpf_text.empty() ? session->text() : bpf_text).c_str());
#endif
	std::fflush(stdout);
	if (opt.check && !check_ok) {
		std::fprintf(stderr, "kmodlab-load: --check FAILED: %s\n", check_detail.c_str());
		return 1;
	}
	if (nerr) {
		std::string list;
		for (const auto &[k, v] : total.errors)
			list += (list.empty() ? "" : ", ") + k + " x" + std::to_string(v);
		std::fprintf(stderr, "kmodlab-load: %" PRIu64 " of %" PRIu64 " operations failed (%s)\n", nerr, total.ops,
			     list.c_str());
		return 1;
	}
	return 0;
}

}  // namespace kmodlab

int main(int argc, char **argv) { return kmodlab::run_main(argc, argv); }
