// worker.cpp - what a worker thread does: one operation (raw syscalls,
// ioctls, the encrypt cycle), the untimed work around it (positions,
// --check data), the closed and open loops, and the region prefill and
// read-back of --check.  The hot path lives in this one file so that the
// compiler sees it whole (exec_op, prepare and finish inline into the loops).
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "pacer.hpp"
#include "run.hpp"

extern "C" {
#include "counter.h"
#include "lkp_enc.h"
#include "scull.h"
}

namespace kmodlab {

std::atomic<bool> g_stop{false};

[[noreturn]] void die(const std::string &msg, int code)
{
	std::fprintf(stderr, "kmodlab-load: %s\n", msg.c_str());
	std::exit(code);
}

uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

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

namespace {

// The --check data pattern: byte at absolute offset off of generation gen
// (0: prefill, 1: written by the run).  Derived from the offset, so data
// landing at the wrong place is caught, not only data lost.
inline uint8_t pattern_byte(uint64_t seed, int gen, uint64_t off)
{
	return static_cast<uint8_t>(splitmix((off >> 3) ^ (seed << 1) ^ (uint64_t(gen) << 62)) >> ((off & 7) * 8));
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
		if (run.value_read)
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
	case OpKind::pipe:
	case OpKind::pingpong:
		break;  // paired_loop's, never mixed
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
		if (!run.seekable)
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

// --check of one operation's result (rel: the region offset it used).
// Returns true when it did any work (fresh timestamp needed).
inline bool check_result(Run &run, Worker &w, const OpSpec &op, long r, uint64_t rel)
{
	if (op.kind == OpKind::encrypt) {
		const std::string want = caesar(w.text, w.seed);
		if (std::memcmp(w.out.data(), want.data(), want.size()) != 0 || w.out[want.size()] != '\0')
			note_mismatch(w, "encrypt(seed " + std::to_string(w.seed) + ", \"" + w.text + "\") read back \"" +
					 std::string(w.out.data(), strnlen(w.out.data(), w.out.size())) + "\", want \"" + want + "\"");
		return true;
	}
	if (op.kind == OpKind::read && run.value_read) {
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

// Work after an operation: advance positions, --check verification.
// Returns true when it was slow (fresh timestamp needed).
inline bool finish(Run &run, Worker &w, const OpSpec &op, long r)
{
	uint64_t rel = 0;
	switch (op.kind) {
	case OpKind::read:
	case OpKind::write:
		if (!run.seekable)
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
	if (!run.opt.check || r < 0)
		return false;
	return check_result(run, w, op, r, rel);
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

// ---------------------------------------------------------------------------
// Paired loops (scullpipe): threads 2k and 2k+1 are a pair.  pipe: the odd
// thread writes --size bytes per call into the device, the even one reads
// (the measured operation: its latency, the bytes it got, so throughput is
// the pipe's); pingpong: the even thread writes --size bytes into its
// pair's first pipe and reads them back from the second (the measured round
// trip), the odd thread echoes them from the first to the second.  The odd
// thread is not measured.
//
// A pipe blocks: when one thread of a pair stops (deadline, --ops share, a
// failure), the other may sleep in the driver for ever (an empty pipe and
// no writer left).  So a thread that stops releases its partner: it sends
// kReleaseSignal (no SA_RESTART: the blocked call returns EINTR) until the
// partner says it is done.  A call that ended in EINTR is not counted.

// Move exactly n bytes (a pipe returns short reads, and a write above the
// atomic size may be split); n, or -errno.
inline long read_full(int fd, char *buf, size_t n)
{
	for (size_t got = 0; got < n;) {
		const long r = sys_read(fd, buf + got, n - got);
		if (r <= 0)
			return r < 0 ? r : -EIO;
		got += static_cast<size_t>(r);
	}
	return static_cast<long>(n);
}

inline long write_full(int fd, const char *buf, size_t n)
{
	for (size_t put = 0; put < n;) {
		const long r = sys_write(fd, buf + put, n - put);
		if (r <= 0)
			return r < 0 ? r : -EIO;
		put += static_cast<size_t>(r);
	}
	return static_cast<long>(n);
}

// One call of a paired thread: bytes moved or -errno.
inline long paired_call(const Run &run, Worker &w, bool helper)
{
	char *const buf = w.buf.data();
	const size_t n = run.size;
	if (run.ops[0].kind == OpKind::pipe)
		return helper ? sys_write(w.fd, buf, n) : sys_read(w.fd, buf, n);
	const long r = helper ? read_full(w.fd, buf, n) : write_full(w.fd, buf, n);
	if (r < 0)
		return r;
	return helper ? write_full(w.fd2, buf, n) : read_full(w.fd2, buf, n);
}

void release_partner(Run &run, Worker &w)
{
	w.done.store(true, std::memory_order_release);
	const Worker &p = *run.workers[w.index ^ 1u];
	while (!p.done.load(std::memory_order_acquire)) {
		pthread_kill(p.tid, kReleaseSignal);
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	}
}

void paired_loop(Run &run, Worker &w)
{
	const Clock &clk = run.clock;
	const bool helper = w.index & 1u, ops_mode = run.deadline == 0;
	const Worker &partner = *run.workers[w.index ^ 1u];
	uint64_t measured = 0, t_start = clk.now();
	while (!g_stop.load(std::memory_order_relaxed) && !partner.done.load(std::memory_order_acquire)) {
		if (!w.measuring.load(std::memory_order_relaxed) && t_start >= run.warm_end) {
			if (!run.measure_go.load(std::memory_order_acquire)) {
				wait_measure_go(run);
				t_start = clk.now();
			}
			w.measuring.store(true, std::memory_order_relaxed);
			if (!helper) {
				w.first_start = t_start;
				w.cpu_start_ns = thread_cpu_ns();
			}
		}
		const long r = paired_call(run, w, helper);
		const uint64_t t_end = clk.now();
		if (r == -EINTR)
			break;  // released by the partner, or the run was stopped
		const bool counts = !helper && w.measuring.load(std::memory_order_relaxed);
		if (counts) {
			account(w, 0, r, t_end - t_start, clk);
			w.progress_ops.store(++measured, std::memory_order_relaxed);
			w.last_end = t_end;
		}
		if (r < 0 && !counts) {
			// the helper's failure fails the run too (counted, no latency)
			w.stats[0].errors[-r < kMaxErrno ? -r : 0]++;
			w.progress_err.fetch_add(1, std::memory_order_relaxed);
			break;
		}
		if (counts && ops_mode && measured >= w.share)
			break;
		if (!ops_mode && t_end >= run.deadline)
			break;
		t_start = t_end;
	}
	release_partner(run, w);
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

bool write_all_at(int fd, const char *data, uint64_t len, uint64_t off, uint64_t *calls, std::string *err)
{
	while (len) {
		ssize_t r = pwrite(fd, data, len, static_cast<off_t>(off));
		if (r <= 0) {
			*err = "prefill pwrite at " + std::to_string(off) + ": " + (r < 0 ? std::strerror(errno) : "wrote 0 bytes");
			return false;
		}
		++*calls;
		data += r;
		len -= static_cast<uint64_t>(r);
		off += static_cast<uint64_t>(r);
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

}  // namespace

// Fill the thread's region with the generation-0 pattern (untimed);
// w.prefill_writes counts the write calls (one scull_write event each).
bool prefill(Run &run, Worker &w, std::string *err)
{
	std::vector<char> chunk(64 * 1024);
	for (uint64_t done = 0; done < run.span; done += chunk.size()) {
		const uint64_t n = std::min<uint64_t>(chunk.size(), run.span - done);
		for (uint64_t i = 0; i < n; i++)
			chunk[i] = static_cast<char>(pattern_byte(run.opt.seed, 0, w.region_base + done + i));
		if (!write_all_at(w.fd, chunk.data(), n, w.region_base + done, &w.prefill_writes, err))
			return false;
	}
	return true;
}

bool paired_op(const Run &run)
{
	return run.ops.size() == 1 && (run.ops[0].kind == OpKind::pipe || run.ops[0].kind == OpKind::pingpong);
}

void install_release_signal()
{
	struct sigaction sa = {};
	sa.sa_handler = [](int) {};  // only to interrupt the blocked call
	sigemptyset(&sa.sa_mask);
	sigaction(kReleaseSignal, &sa, nullptr);
}

void worker_main(Run &run, Worker &w)
{
	w.tid = pthread_self();
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
	// (Plain read/write/pread/pwrite without regions or a value read: a
	// generic device.)
	const bool fast = run.opt.rate == 0 && run.ops.size() == 1 && !run.opt.check && !run.seekable &&
			  !run.value_read;
	if (paired_op(run))
		paired_loop(run, w);
	else if (run.opt.rate > 0)
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
	if (w.fd2 >= 0)
		close(w.fd2);
}

}  // namespace kmodlab
