// fuzz.hpp - what kmodlab-fuzz's per-driver fuzzers share: the run's
// statistics, the pointers a call may get (from the catalog in
// tests/lib/bad_pointers.hpp), the Fuzzer base with its op loop helpers and
// failure reporting, and the text-device read check of counter and lkp_enc.
// The drivers' models: fuzz_scull.cpp, fuzz_counter.cpp, fuzz_lkp_enc.cpp,
// fuzz_scullpipe.cpp;
// options and the summary: fuzz.cpp.
#pragma once

#include <algorithm>
#include <climits>
#include <functional>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bad_pointers.hpp"
#include "common.hpp"

namespace rel::fuzz {

inline constexpr size_t GOOD_SIZE = (1u << 20) + 8192;
inline constexpr size_t MAX_FAILURES_PER_DEVICE = 20;

struct Stats {
	std::map<std::string, uint64_t> calls; // "c/scull" -> n
	std::map<std::string, uint64_t> errnos; // "EFAULT" -> n
	uint64_t faults_injected = 0; // allocation failures observed (ENOMEM while armed)
	uint64_t fault_arms = 0; // times fail_alloc_nth was set
	std::vector<std::string> failures;
	uint64_t failed = 0;
};

// The pointers a call may get.  readable/writable: bytes from the pointer
// on that the kernel can copy without a fault.
enum class PtrKind { good, null, unmapped, kernel, readonly, tail, noncanon };
inline const char *kind_name(PtrKind k)
{
	switch (k) {
	case PtrKind::good: return "good";
	case PtrKind::null: return "NULL";
	case PtrKind::unmapped: return "unmapped";
	case PtrKind::kernel: return "kernel";
	case PtrKind::readonly: return "read-only";
	case PtrKind::tail: return "ends-in-unmapped";
	case PtrKind::noncanon: return "non-canonical";
	}
	return "?";
}

struct Ptr {
	PtrKind kind;
	char *p;
	size_t readable, writable;
};

// The pointers of one run: a large good buffer (a guard page after it: a
// count beyond it must fault, never write into the next mapping; scull
// reads and writes move whole requests) and the catalog's bad and edge
// pointers (tests/lib/bad_pointers.hpp).
struct Buffers {
	char *good, *ro, *tail_page, *unmapped;
	long page;
	kmodlab::badptr::EdgePages edges;
	// The read-only page holds a number and spaces, so that counter and
	// lkp_enc writes from it can succeed too.  The unmapped page is taken
	// last: no later mapping of this process may land on it.
	Buffers()
		: good(kmodlab::badptr::map_guarded(GOOD_SIZE)), ro(nullptr), tail_page(nullptr), unmapped(nullptr),
		  page(kmodlab::badptr::page_size()), edges("17 Read Only")
	{
		ro = edges.readonly;
		tail_page = edges.tail;
		unmapped = kmodlab::badptr::unmapped_page();
	}

	Ptr pick(Rng &r)
	{
		using namespace kmodlab::badptr;
		switch (r.below(16)) {
		case 0: return { PtrKind::null, nullptr, 0, 0 };
		case 1: return { PtrKind::unmapped, unmapped + r.below(page), 0, 0 };
		case 2:
			return { PtrKind::kernel, reinterpret_cast<char *>(r.chance(50) ? kKernelText : kKernelDirectMap),
				 0, 0 };
		case 3: {
			size_t off = r.below(page);
			return { PtrKind::readonly, ro + off, static_cast<size_t>(page - off), 0 };
		}
		case 4:
		case 5: {
			size_t k = r.chance(30) ? r.below(4) + 1 : r.below(page) + 1;
			return { PtrKind::tail, tail_page + page - k, k, k };
		}
		case 6: return { PtrKind::noncanon, reinterpret_cast<char *>(kNonCanonical), 0, 0 };
		default: {
			size_t off = r.below(4096);
			return { PtrKind::good, good + off, GOOD_SIZE - off, GOOD_SIZE - off };
		}
		}
	}
	Ptr good_ptr(Rng &r)
	{
		size_t off = r.below(4096);
		return { PtrKind::good, good + off, GOOD_SIZE - off, GOOD_SIZE - off };
	}
};

// Fill what the kernel can read at p with random bytes drawn from alphabet
// (or any byte when alphabet is empty).
inline void fill(Rng &r, const Ptr &p, size_t n, const std::string &alphabet = "")
{
	n = std::min(n, p.writable);
	for (size_t i = 0; i < n; i++)
		p.p[i] = alphabet.empty() ? static_cast<char>(r.next())
					  : alphabet[r.below(alphabet.size())];
}

struct Result {
	long ret;
	int err;
};

template <class F> Result sys(F f)
{
	errno = 0;
	long r = f();
	return { r, r < 0 ? errno : 0 };
}

// One device's fuzzing: the op loop and the reporting.
struct Fuzzer {
	std::string variant, driver, path, tag;
	uint64_t seed;
	Rng rng;
	Buffers &buf;
	Stats &st;
	int fd = -1;
	uint64_t call = 0;
	size_t fails = 0;
	std::string desc; // what the current call is, for failure messages
	bool aborted = false; // the device cannot be fuzzed further (a failure said why)
	// The VFS checks access_ok() on the whole count before the driver runs:
	// a pointer outside user space may get EFAULT instead of the driver's answer.
	bool vfs_efault_ok = false;
	void vfs_check(const Ptr &p, size_t n)
	{
		vfs_efault_ok = p.kind == PtrKind::kernel || p.kind == PtrKind::noncanon || n > (1u << 20);
	}

	Fuzzer(const std::string &v, const std::string &d, uint64_t s, Buffers &b, Stats &stats)
		: variant(v), driver(d), tag(v + "/" + d), seed(s), rng(s ^ std::hash<std::string>{}(v + "/" + d)),
		  buf(b), st(stats)
	{
	}

	void fail(const std::string &why)
	{
		st.failed++;
		if (fails++ < MAX_FAILURES_PER_DEVICE) {
			std::string msg = tag + " call " + std::to_string(call) + " (" + desc + "): " + why +
					  " [replay: kmodlab-fuzz --seed " + std::to_string(seed) +
					  " --variant " + variant + " --driver " + driver + " --calls " +
					  std::to_string(call + 1) + "]";
			fprintf(stderr, "FAIL %s\n", msg.c_str());
			st.failures.push_back(msg);
		}
	}
	void count(const Result &r) { st.errnos[errno_name(r.err)]++; }

	// r must be one of the allowed errnos (or success when ok_success).
	bool allowed(const Result &r, std::initializer_list<int> errs)
	{
		if (r.err == 0)
			return true;
		for (int e : errs)
			if (r.err == e)
				return true;
		fail("undocumented errno " + errno_name(r.err));
		return false;
	}
	void expect_err(const Result &r, int e)
	{
		if (vfs_efault_ok && r.err == EFAULT)
			return;
		if (r.err != e)
			fail("expected " + errno_name(e) + ", got " +
			     (r.err ? errno_name(r.err) : "success " + std::to_string(r.ret)));
	}
	void expect_ok(const Result &r, long want)
	{
		if (vfs_efault_ok && r.err == EFAULT)
			return;
		if (r.err)
			fail("expected success " + std::to_string(want) + ", got " + errno_name(r.err));
		else if (r.ret != want)
			fail("expected " + std::to_string(want) + ", got " + std::to_string(r.ret));
	}

	// rw_verify_area(): pos + count must not overflow loff_t (-EINVAL).
	static bool pos_overflow(long long pos, size_t count)
	{
		long long end;
		return count > (size_t)LLONG_MAX || __builtin_add_overflow(pos, (long long)count, &end);
	}

	size_t size_from(const std::vector<size_t> &boundary, size_t random_max)
	{
		switch (rng.below(10)) {
		case 0: return SIZE_MAX;
		case 1: return static_cast<size_t>(SSIZE_MAX);
		case 2: return static_cast<size_t>(INT_MAX) + 1;
		case 3:
		case 4:
		case 5: return rng.pick(boundary);
		default: return rng.below(random_max + 1);
		}
	}

	int whence() { return rng.pick(std::vector<int>{ SEEK_SET, SEEK_SET, SEEK_CUR, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE, 7, -1 }); }

	// ioctl numbers of the driver's magic: defined ones, every nr in and
	// just past the range with every direction and a few sizes, random ones.
	unsigned ioc_number(char magic, int maxnr, const std::vector<unsigned> &defined)
	{
		switch (rng.below(8)) {
		case 0:
			return _IOC(rng.below(4), static_cast<unsigned char>(magic), rng.below(maxnr + 4),
				    rng.pick(std::vector<unsigned>{ 0, 1, 4, 8, 256, 16383 }));
		case 1: return static_cast<unsigned>(rng.next());
		case 2: return _IOC(rng.below(4), rng.below(256), rng.below(256), rng.below(1 << 14));
		default: return rng.pick(defined);
		}
	}
};

struct TextDevFuzz : Fuzzer {
	long long fpos = 0;
	using Fuzzer::Fuzzer;

	// One read() at f_pos or, positional_pct % of the time, pread() at one
	// of `positions`; its size from `sizes` or up to random_max; checked
	// against `text`, the device's content.
	void step_read(const std::vector<size_t> &sizes, size_t random_max, unsigned positional_pct,
		       const std::vector<long long> &positions, const std::string &text)
	{
		Ptr p = buf.pick(rng);
		size_t n = size_from(sizes, random_max);
		bool positional = rng.chance(positional_pct);
		long long pos = positional ? rng.pick(positions) : fpos;
		desc = std::string(positional ? "pread " : "read ") + std::to_string(n) + " into " + kind_name(p.kind) +
		       " at " + std::to_string(pos);
		vfs_check(p, n);
		Result r = sys([&] { return positional ? pread(fd, p.p, n, pos) : read(fd, p.p, n); });
		count(r);
		check_text_read(pos, p, n, r, text);
		if (!positional && !r.err)
			fpos += r.ret;
	}

	// lseek to one of `offsets` with any whence: default_llseek, its
	// errors only.
	void step_lseek(const std::vector<long long> &offsets)
	{
		long long off = rng.pick(offsets);
		int wh = whence();
		desc = "lseek " + std::to_string(off) + " whence " + std::to_string(wh);
		vfs_efault_ok = false;
		Result r = sys([&] { return lseek(fd, off, wh); });
		count(r);
		if (allowed(r, { EINVAL, ENXIO }) && !r.err)
			fpos = r.ret;
	}

	// read()/pread() of a text device whose content is text.
	void check_text_read(long long pos, const Ptr &p, size_t count, const Result &r, const std::string &text)
	{
		if (pos < 0 || pos_overflow(pos, count))
			return expect_err(r, EINVAL);
		size_t avail = pos >= (long long)text.size() ? 0 : text.size() - pos;
		size_t want = std::min(avail, count);
		if (want == 0) {
			if (!r.err && r.ret == 0)
				return;
			if (r.err && p.kind == PtrKind::good && count <= (1u << 20))
				return fail("read of nothing: expected 0, got " + errno_name(r.err));
			if (r.err == EFAULT || r.err == EINVAL) // VFS checks of the whole count
				return;
			return fail("read of nothing: expected 0, got " + (r.err ? errno_name(r.err) : std::to_string(r.ret)));
		}
		if (!allowed(r, { EFAULT, EINVAL }))
			return;
		if (p.writable >= want) {
			if (r.err) {
				if (count <= (1u << 20))
					fail("read into a writable buffer failed: " + errno_name(r.err));
				return;
			}
			if ((size_t)r.ret != want)
				return fail("read returned " + std::to_string(r.ret) + ", expected " + std::to_string(want));
			if (memcmp(p.p, text.data() + pos, want) != 0)
				return fail("read content differs from the model: expected " + json_str(text.substr(pos, want)));
		} else if (!r.err && (size_t)r.ret > p.writable) {
			fail("read wrote past a writable region");
		}
	}
};

template <class F> void run_device(F &f, uint64_t calls)
{
	if (!f.setup())
		return;
	for (f.call = 0; f.call < calls && !f.aborted; f.call++)
		f.step();
	f.finish();
	f.st.calls[f.tag] += f.call;
}

// A driver's fuzzer F over `calls` calls of one variant.
template <class F>
void fuzz_with(const char *driver, const std::string &variant, uint64_t seed, uint64_t calls, Buffers &buf, Stats &st)
{
	F f(variant, driver, seed, buf, st);
	run_device(f, calls);
}

// One driver's fuzzing of one variant: `calls` seeded calls against its
// model, failures into st.
void fuzz_scull(const std::string &variant, uint64_t seed, uint64_t calls, Buffers &buf, Stats &st);
void fuzz_counter(const std::string &variant, uint64_t seed, uint64_t calls, Buffers &buf, Stats &st);
void fuzz_lkp_enc(const std::string &variant, uint64_t seed, uint64_t calls, Buffers &buf, Stats &st);
void fuzz_scullpipe(const std::string &variant, uint64_t seed, uint64_t calls, Buffers &buf, Stats &st);
// The deterministic scull allocation-failure sequence (--alloc-test).
void alloc_test(const std::string &variant, Stats &st, std::vector<std::string> &lines, uint64_t &passed);

} // namespace rel::fuzz
