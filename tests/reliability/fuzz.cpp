// kmodlab-fuzz - seeded, reproducible random operation sequences against
// the kmodlab drivers, with a user-space model as the oracle.
//
// Every call draws its operation, size, offset, ioctl number and buffer
// pointer (good, NULL, unmapped, kernel address, read-only page, buffer
// ending in an unmapped page, non-canonical) from a splitmix64 stream seeded
// by --seed and the device name, so `--seed S --calls N` replays a failing
// call exactly.  A call passes when it returns what the model predicts:
// success with the right bytes/values, or the documented errno (success or
// an errno from the allowed set where the outcome depends on the kernel's
// copy routines).  scull additionally gets allocation faults injected through
// the fail_alloc_nth module parameter; --alloc-test runs the deterministic
// allocation-failure sequence (ENOMEM, data intact, next write succeeds).
#include <algorithm>
#include <chrono>
#include <climits>
#include <functional>
#include <getopt.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.hpp"

using namespace rel;

namespace {

constexpr size_t GOOD_SIZE = (1u << 20) + 8192;
constexpr size_t MAX_FAILURES_PER_DEVICE = 20;

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
const char *kind_name(PtrKind k)
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

struct Buffers {
	char *good, *ro, *tail_page, *unmapped;
	long page;
	Buffers()
	{
		page = sysconf(_SC_PAGESIZE);
		good = static_cast<char *>(mmap(nullptr, GOOD_SIZE, PROT_READ | PROT_WRITE,
						 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
		// a read-only page followed by an inaccessible one, so that what
		// the kernel can read from it is exact (the replay stays exact)
		ro = static_cast<char *>(mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE,
					      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
		// two pages, the second made inaccessible: a buffer ending there
		tail_page = static_cast<char *>(mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE,
						     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
		unmapped = static_cast<char *>(mmap(nullptr, page, PROT_READ | PROT_WRITE,
						    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
		if (good == MAP_FAILED || ro == MAP_FAILED || tail_page == MAP_FAILED ||
		    unmapped == MAP_FAILED) {
			perror("kmodlab-fuzz: mmap");
			exit(2);
		}
		// The read-only page holds a number and spaces, so that counter
		// and lkp_enc writes from it can succeed too.
		memset(ro, ' ', page);
		memcpy(ro, "17 Read Only", 12);
		mprotect(ro, page, PROT_READ);
		mprotect(ro + page, page, PROT_NONE);
		mprotect(tail_page + page, page, PROT_NONE);
		munmap(unmapped, page);
	}

	Ptr pick(Rng &r)
	{
		switch (r.below(16)) {
		case 0: return { PtrKind::null, nullptr, 0, 0 };
		case 1: return { PtrKind::unmapped, unmapped + r.below(page), 0, 0 };
		case 2:
			return { PtrKind::kernel,
				 reinterpret_cast<char *>(r.chance(50) ? 0xffffffff81000000ULL
									: 0xffff888000001000ULL),
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
		case 6: return { PtrKind::noncanon, reinterpret_cast<char *>(0x0000800000000000ULL), 0, 0 };
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
void fill(Rng &r, const Ptr &p, size_t n, const std::string &alphabet = "")
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

// --------------------------------------------------------------------- scull
struct ScullFuzz : Fuzzer {
	static constexpr size_t W = 1 << 20; // the modelled window of the device
	std::vector<uint8_t> data, known;
	long long size = 0, fpos = 0, max_bytes = SCULL_MAX_BYTES_DEFAULT;
	std::string mod;
	bool armed = false;

	using Fuzzer::Fuzzer;

	void trim()
	{
		// LDD3: open O_WRONLY truncates the device and adopts the geometry
		int w = open(path.c_str(), O_WRONLY);
		if (w < 0) {
			fail(std::string("open O_WRONLY: ") + strerror(errno));
			return;
		}
		close(w);
		data.assign(W, 0);
		known.assign(W, 1);
		size = 0;
	}

	bool setup()
	{
		path = node(SCULL_NAME, variant, 0);
		mod = module(SCULL_NAME, variant);
		long mb;
		if (sysfs_read_long(param_path(mod, "max_bytes"), &mb))
			max_bytes = mb;
		fd = open(path.c_str(), O_RDWR);
		if (fd < 0) {
			desc = "open";
			fail(path + ": " + strerror(errno) + " (is " + mod + " loaded?)");
			return false;
		}
		sysfs_write(param_path(mod, "fail_alloc_nth"), "0");
		ioctl(fd, SCULL_IOCRESET);
		trim();
		fpos = 0;
		lseek(fd, 0, SEEK_SET);
		return true;
	}

	void finish()
	{
		sysfs_write(param_path(mod, "fail_alloc_nth"), "0");
		ioctl(fd, SCULL_IOCRESET);
		trim();
		close(fd);
	}

	long long offset()
	{
		const long long q = SCULL_QUANTUM_DEFAULT, qs = (long long)SCULL_QUANTUM_DEFAULT * SCULL_QSET_DEFAULT;
		switch (rng.below(12)) {
		case 0: return rng.pick(std::vector<long long>{ -1, LLONG_MIN, LLONG_MAX, LLONG_MAX - 1, LLONG_MAX - 4096 });
		case 1: return rng.pick(std::vector<long long>{ max_bytes - 1, max_bytes, max_bytes + 1, max_bytes - 4000 });
		case 2: return rng.pick(std::vector<long long>{ 0, 1, q - 1, q, q + 1, qs - 1, qs, qs + 1 });
		case 3: return static_cast<long long>(rng.below(max_bytes > 0 ? max_bytes : 1));
		default: return static_cast<long long>(rng.below(W));
		}
	}
	size_t size_arg()
	{
		return size_from({ 0, 1, 2, 511, 512, 999, 1000, 3999, 4000, 4001, 4095, 4096, 4097, 8192, 65536, 65537, 1 << 20 },
				 9000);
	}

	// Model update after a write of n bytes at pos from p (attempted count).
	void wrote(long long pos, const Ptr &p, size_t attempted, long n)
	{
		for (long i = 0; i < n; i++)
			if (pos + i < (long long)W) {
				data[pos + i] = static_cast<uint8_t>(p.p[i]);
				known[pos + i] = 1;
			}
		if (n > 0)
			size = std::max(size, pos + n);
		// A faulting raw copy may have stored bytes past what it reported.
		if (static_cast<size_t>(n) < attempted)
			for (long long i = pos + std::max(n, 0L); i < pos + 70000 && i < (long long)W; i++)
				if (i >= 0)
					known[i] = 0;
	}

	void check_read(long long pos, const Ptr &p, size_t count, const Result &r)
	{
		if (pos < 0 || pos_overflow(pos, count)) {
			expect_err(r, EINVAL);
			return;
		}
		if (count == 0 || pos >= size) {
			if (r.err && p.kind == PtrKind::good && count <= (1u << 20))
				fail("read of nothing: expected 0, got " + errno_name(r.err));
			else if (r.err)
				allowed(r, { EFAULT, EINVAL });
			else if (r.ret != 0)
				fail("read at/after the end (" + std::to_string(size) + ") returned " + std::to_string(r.ret));
			return;
		}
		if (!allowed(r, { EFAULT, EINVAL }))
			return;
		if (r.err) {
			if (p.kind == PtrKind::good && count <= (1u << 20))
				fail("read into a good buffer failed: " + errno_name(r.err));
			return;
		}
		if (r.ret < 0 || (size_t)r.ret > count || pos + r.ret > size)
			return fail("read returned " + std::to_string(r.ret) + " for count " + std::to_string(count) +
				    " at " + std::to_string(pos) + ", size " + std::to_string(size));
		if (r.ret == 0)
			return fail("read before the end returned 0");
		if (p.kind != PtrKind::good)
			return;
		for (long i = 0; i < r.ret && pos + i < (long long)W; i++)
			if (known[pos + i] && static_cast<uint8_t>(p.p[i]) != data[pos + i])
				return fail("data mismatch at byte " + std::to_string(pos + i) + ": read " +
					    std::to_string(static_cast<uint8_t>(p.p[i])) + ", stored " +
					    std::to_string(data[pos + i]));
	}

	void check_write(long long pos, const Ptr &p, size_t count, const Result &r)
	{
		long long end;
		if (pos < 0 || count > (size_t)LLONG_MAX || __builtin_add_overflow(pos, (long long)count, &end)) {
			if (!r.err)
				fail("write with a bad offset/size succeeded");
			else
				allowed(r, { EINVAL, EFAULT });
			return;
		}
		if (count == 0) {
			if (r.err && !(p.kind != PtrKind::good && r.err == EFAULT))
				fail("write of 0 bytes: expected 0, got " + errno_name(r.err));
			else if (!r.err && r.ret != 0)
				fail("write of 0 bytes returned " + std::to_string(r.ret));
			return;
		}
		if (!allowed(r, { EFAULT, EINVAL, ENOSPC, ENOMEM }))
			return;
		if (r.err == ENOMEM && armed) {
			st.faults_injected++;
			armed = false;
		}
		if (r.err == ENOSPC && pos < max_bytes)
			return fail("ENOSPC below max_bytes");
		if (!r.err && pos >= max_bytes)
			return fail("write at/after max_bytes succeeded");
		if (r.err == EFAULT && p.readable >= std::min<size_t>(count, 65536) && count <= (1u << 20))
			return fail("EFAULT from a readable buffer");
		if (r.err == EFAULT)
			wrote(pos, p, count, 0);
		if (r.err)
			return;
		if (r.ret <= 0 || (size_t)r.ret > count || pos + r.ret > max_bytes)
			return fail("write returned " + std::to_string(r.ret) + " for count " + std::to_string(count));
		wrote(pos, p, count, r.ret);
	}

	void step()
	{
		unsigned op = rng.below(100);
		if (op < 15) { // write at f_pos
			Ptr p = buf.pick(rng);
			size_t n = size_arg();
			fill(rng, p, std::min<size_t>(n, 70000));
			desc = std::string("write ") + std::to_string(n) + " from " + kind_name(p.kind) + " at f_pos " + std::to_string(fpos);
			vfs_check(p, n);
			Result r = sys([&] { return write(fd, p.p, n); });
			count(r);
			check_write(fpos, p, n, r);
			if (!r.err)
				fpos += r.ret;
		} else if (op < 35) { // pwrite
			Ptr p = buf.pick(rng);
			size_t n = size_arg();
			long long pos = offset();
			fill(rng, p, std::min<size_t>(n, 70000));
			desc = std::string("pwrite ") + std::to_string(n) + " from " + kind_name(p.kind) + " at " + std::to_string(pos);
			vfs_check(p, n);
			Result r = sys([&] { return pwrite(fd, p.p, n, pos); });
			count(r);
			check_write(pos, p, n, r);
		} else if (op < 50) { // read at f_pos
			Ptr p = buf.pick(rng);
			size_t n = size_arg();
			desc = std::string("read ") + std::to_string(n) + " into " + kind_name(p.kind) + " at f_pos " + std::to_string(fpos);
			vfs_check(p, n);
			Result r = sys([&] { return read(fd, p.p, n); });
			count(r);
			check_read(fpos, p, n, r);
			if (!r.err)
				fpos += r.ret;
		} else if (op < 70) { // pread
			Ptr p = buf.pick(rng);
			size_t n = size_arg();
			long long pos = offset();
			desc = std::string("pread ") + std::to_string(n) + " into " + kind_name(p.kind) + " at " + std::to_string(pos);
			vfs_check(p, n);
			Result r = sys([&] { return pread(fd, p.p, n, pos); });
			count(r);
			check_read(pos, p, n, r);
		} else if (op < 80) { // lseek
			long long off = rng.chance(50) ? offset() : (long long)rng.below(W) - (long long)(W / 2);
			int wh = whence();
			desc = "lseek " + std::to_string(off) + " whence " + std::to_string(wh);
			vfs_efault_ok = false;
			Result r = sys([&] { return lseek(fd, off, wh); });
			count(r);
			long long base = wh == SEEK_SET ? 0 : wh == SEEK_CUR ? fpos : size, want;
			if (wh != SEEK_SET && wh != SEEK_CUR && wh != SEEK_END)
				expect_err(r, EINVAL);
			else if (__builtin_add_overflow(base, off, &want) || want < 0)
				expect_err(r, EINVAL);
			else
				expect_ok(r, want);
			if (!r.err)
				fpos = r.ret;
		} else if (op < 97) {
			do_ioctl();
		} else if (op < 98) {
			desc = "trim (open O_WRONLY)";
			trim();
		} else if (op < 99) {
			// Arm an allocation fault: one of the next few allocations fails.
			unsigned n = rng.below(4) + 1;
			desc = "fail_alloc_nth=" + std::to_string(n);
			int e = sysfs_write(param_path(mod, "fail_alloc_nth"), std::to_string(n));
			if (e)
				fail(std::string("cannot set fail_alloc_nth: ") + strerror(e));
			else {
				st.fault_arms++;
				armed = true;
			}
		} else {
			// Re-synchronise: the model's size must be the device's.
			desc = "lseek SEEK_END (size check)";
			Result r = sys([&] { return lseek(fd, 0, SEEK_END); });
			count(r);
			expect_ok(r, size);
			if (!r.err)
				fpos = r.ret;
		}
	}

	void do_ioctl()
	{
		static const std::vector<unsigned> defined = {
			SCULL_IOCRESET, SCULL_IOCSQUANTUM, SCULL_IOCSQSET, SCULL_IOCTQUANTUM, SCULL_IOCTQSET,
			SCULL_IOCGQUANTUM, SCULL_IOCGQSET, SCULL_IOCQQUANTUM, SCULL_IOCQQSET, SCULL_IOCXQUANTUM,
			SCULL_IOCXQSET, SCULL_IOCHQUANTUM, SCULL_IOCHQSET
		};
		unsigned cmd = ioc_number(SCULL_IOC_MAGIC, SCULL_IOC_MAXNR, defined);
		// Geometry values stay sane so that no later write builds a list of
		// millions of nodes; the invalid ones test the -EINVAL paths.
		static const std::vector<int> quanta = { 512, 1000, 4000, 4096, 8192, 65536, 0, -1, INT_MIN };
		static const std::vector<int> qsets = { 16, 100, 1000, 4096, 0, -1, INT_MIN };
		bool is_q = _IOC_NR(cmd) % 2 == 1;
		int val = is_q ? rng.pick(quanta) : rng.pick(qsets);
		Ptr p = buf.pick(rng);
		unsigned long arg = reinterpret_cast<unsigned long>(p.p);
		if (p.writable >= sizeof(int))
			memcpy(p.p, &val, sizeof(int));
		if (cmd == SCULL_IOCTQUANTUM || cmd == SCULL_IOCTQSET || cmd == SCULL_IOCHQUANTUM ||
		    cmd == SCULL_IOCHQSET)
			arg = rng.chance(20) ? rng.pick(std::vector<unsigned long>{ 0, (unsigned long)INT_MAX + 1, ULONG_MAX })
					     : (unsigned long)(unsigned)std::max(val, 0); // never 1: a 1-byte quantum
				// would turn the next far write into millions of allocations
		char d[96];
		snprintf(d, sizeof(d), "ioctl %#x arg %#lx (%s)", cmd, arg, kind_name(p.kind));
		desc = d;
		vfs_efault_ok = false;
		Result r = sys([&] { return ioctl(fd, cmd, arg); });
		count(r);
		if (_IOC_TYPE(cmd) != SCULL_IOC_MAGIC ||
		    std::find(defined.begin(), defined.end(), cmd) == defined.end()) {
			expect_err(r, ENOTTY);
			return;
		}
		allowed(r, { EFAULT, EINVAL });
		bool ptr_cmd = _IOC_DIR(cmd) != _IOC_NONE;
		if (ptr_cmd && r.err == EFAULT && p.readable >= sizeof(int) &&
		    (p.writable >= sizeof(int) || _IOC_DIR(cmd) == _IOC_WRITE))
			fail("EFAULT with a usable pointer");
		if (ptr_cmd && !r.err && p.readable < sizeof(int))
			fail("pointer ioctl succeeded with an unusable pointer");
	}
};

// --------------------------------------------------------------------- counter
// The kernel's strim() + kstrtoll(s, 10): the counter's write() grammar.
int parse_counter(const std::string &raw, long long *out)
{
	if (raw.find('\0') != std::string::npos)
		return EINVAL;
	auto sp = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; };
	size_t b = 0, e = raw.size();
	while (b < e && sp(raw[b]))
		b++;
	while (e > b && sp(raw[e - 1]))
		e--;
	std::string s = raw.substr(b, e - b);
	bool neg = false;
	size_t i = 0;
	if (i < s.size() && s[i] == '-') {
		neg = true;
		i++;
	} else if (i < s.size() && s[i] == '+') {
		i++;
	}
	if (i >= s.size())
		return EINVAL;
	// _parse_integer() takes the digits and flags overflow; _kstrtoull()
	// reports the overflow before it looks at what follows the digits.
	unsigned __int128 v = 0;
	bool overflow = false;
	size_t digits = 0;
	for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
		v = v * 10 + (s[i] - '0');
		if (v > (unsigned __int128)ULLONG_MAX)
			overflow = true, v = (unsigned __int128)ULLONG_MAX + 1;
	}
	if (overflow)
		return ERANGE;
	if (digits == 0 || i != s.size())
		return EINVAL;
	if (neg) {
		if (v > (unsigned __int128)LLONG_MAX + 1)
			return ERANGE;
		*out = v == (unsigned __int128)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
	} else {
		if (v > (unsigned __int128)LLONG_MAX)
			return ERANGE;
		*out = (long long)v;
	}
	return 0;
}

struct TextDevFuzz : Fuzzer {
	long long fpos = 0;
	using Fuzzer::Fuzzer;

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

struct CounterFuzz : TextDevFuzz {
	long long value = 0;
	using TextDevFuzz::TextDevFuzz;

	bool setup()
	{
		path = node(COUNTER_NAME, variant);
		fd = open(path.c_str(), O_RDWR);
		if (fd < 0) {
			desc = "open";
			fail(path + ": " + strerror(errno));
			return false;
		}
		ioctl(fd, COUNTER_IOC_RESET);
		value = 0;
		return true;
	}
	void finish()
	{
		ioctl(fd, COUNTER_IOC_RESET);
		close(fd);
	}
	std::string text() const { return std::to_string(value) + "\n"; }

	std::string number_text()
	{
		static const std::vector<std::string> specials = {
			"9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
			"99999999999999999999999", "+", "-", "", "  ", "+-1", "-+1", "0x10", "1 2", "1\n\n", "\t7\v",
			"00000000000000000000000000000000000000000000000000000000000005", "1a", "--1", " +42 "
		};
		if (rng.chance(25))
			return rng.pick(specials);
		long long d = rng.chance(80) ? (long long)rng.below(2001) - 1000 : (long long)rng.next();
		std::string s = std::to_string(d);
		if (rng.chance(20))
			s = "+" + s;
		if (rng.chance(30))
			s += "\n";
		if (rng.chance(10))
			s = " " + s;
		if (rng.chance(5))
			s[rng.below(s.size())] = rng.chance(50) ? '\0' : 'x';
		return s;
	}

	void apply_write(const std::string &s, const Result &r, size_t count)
	{
		long long delta = 0, sum;
		int e = count == 0 || count > COUNTER_WRITE_MAX ? EINVAL : parse_counter(s, &delta);
		if (!e && __builtin_add_overflow(value, delta, &sum))
			e = ERANGE;
		if (e)
			return expect_err(r, e);
		expect_ok(r, (long)count);
		if (!r.err)
			value = sum;
	}

	void step()
	{
		unsigned op = rng.below(100);
		if (op < 35) { // write
			Ptr p = buf.pick(rng);
			std::string s = number_text();
			size_t n = s.size();
			if (rng.chance(5))
				n = rng.pick(std::vector<size_t>{ 0, COUNTER_WRITE_MAX, COUNTER_WRITE_MAX + 1, 4096, SIZE_MAX });
			if (p.writable >= s.size())
				memcpy(p.p, s.data(), s.size());
			desc = "write " + std::to_string(n) + " from " + kind_name(p.kind) + " " + json_str(s);
			vfs_check(p, n);
			Result r = sys([&] { return write(fd, p.p, n); });
			count(r);
			if (n > (1u << 20)) {
				allowed(r, { EFAULT, EINVAL });
				if (!r.err)
					fail("write of a huge count succeeded");
			} else if (pos_overflow(fpos, n)) {
				expect_err(r, EINVAL);
			} else if (n == 0 || n > COUNTER_WRITE_MAX) {
				expect_err(r, EINVAL);
			} else if (p.readable < n && !(p.kind == PtrKind::readonly && r.err != EFAULT)) {
				expect_err(r, EFAULT); // (a read-only page may be followed by a mapped one)
			} else {
				apply_write(std::string(p.p, n), r, n);
			}
		} else if (op < 60) { // read / pread
			Ptr p = buf.pick(rng);
			size_t n = size_from({ 0, 1, 2, COUNTER_TEXT_MAX - 1, COUNTER_TEXT_MAX, COUNTER_TEXT_MAX + 1, 4096 }, 64);
			bool positional = rng.chance(50);
			long long pos = positional ? rng.pick(std::vector<long long>{ 0, 0, 0, 1, 5, 20, 21, 22, -1, LLONG_MAX }) : fpos;
			desc = std::string(positional ? "pread " : "read ") + std::to_string(n) + " into " + kind_name(p.kind) + " at " + std::to_string(pos);
			vfs_check(p, n);
			Result r = sys([&] { return positional ? pread(fd, p.p, n, pos) : read(fd, p.p, n); });
			count(r);
			check_text_read(pos, p, n, r, text());
			if (!positional && !r.err)
				fpos += r.ret;
		} else if (op < 70) { // lseek: default_llseek, its errors only
			long long off = rng.pick(std::vector<long long>{ 0, 0, 1, 5, -1, LLONG_MAX, LLONG_MIN, 21 });
			int wh = whence();
			desc = "lseek " + std::to_string(off) + " whence " + std::to_string(wh);
			vfs_efault_ok = false;
			Result r = sys([&] { return lseek(fd, off, wh); });
			count(r);
			if (allowed(r, { EINVAL, ENXIO }) && !r.err)
				fpos = r.ret;
		} else { // ioctl
			static const std::vector<unsigned> defined = { COUNTER_IOC_RESET, COUNTER_IOC_GET, COUNTER_IOC_SET };
			unsigned cmd = ioc_number(COUNTER_IOC_MAGIC, COUNTER_IOC_MAXNR, defined);
			Ptr p = buf.pick(rng);
			long long v = rng.chance(30) ? rng.pick(std::vector<long long>{ 0, 1, -1, LLONG_MAX, LLONG_MIN, LLONG_MAX - 5, LLONG_MIN + 5 })
						     : (long long)rng.below(100000) - 50000;
			if (p.writable >= sizeof(v))
				memcpy(p.p, &v, sizeof(v));
			char d[96];
			snprintf(d, sizeof(d), "ioctl %#x (%s)", cmd, kind_name(p.kind));
			desc = d;
			vfs_efault_ok = false;
			Result r = sys([&] { return ioctl(fd, cmd, p.p); });
			count(r);
			if (cmd == COUNTER_IOC_RESET) {
				expect_ok(r, 0);
				value = 0;
			} else if (cmd == COUNTER_IOC_SET) {
				// (a read-only page may be followed by a mapped one)
				if (p.readable < sizeof(v) && !(p.kind == PtrKind::readonly && !r.err))
					return expect_err(r, EFAULT);
				long long nv;
				memcpy(&nv, p.p, sizeof(nv));
				expect_ok(r, 0);
				if (!r.err)
					value = nv;
			} else if (cmd == COUNTER_IOC_GET) {
				if (p.writable < sizeof(v))
					return expect_err(r, EFAULT);
				expect_ok(r, 0);
				long long got;
				memcpy(&got, p.p, sizeof(got));
				if (!r.err && got != value)
					fail("GET returned " + std::to_string(got) + ", model " + std::to_string(value));
			} else {
				expect_err(r, ENOTTY);
			}
		}
	}
};

// --------------------------------------------------------------------- lkp_enc
struct LkpEncFuzz : TextDevFuzz {
	uint32_t seed_reg = 0;
	// The device encrypts when the string is written, with the seed of
	// that moment: the model keeps the ciphertext.
	std::string enc;
	using TextDevFuzz::TextDevFuzz;

	std::string cipher() const { return enc; }
	void stored(const char *p, size_t n) { enc = caesar(std::string(p, strnlen(p, n)), seed_reg); }

	bool setup()
	{
		path = node(LKP_ENC_NAME, variant);
		fd = open(path.c_str(), O_RDWR);
		if (fd < 0) {
			desc = "open";
			fail(path + ": " + strerror(errno));
			return false;
		}
		uint32_t s = 0;
		ioctl(fd, LKP_ENC_IOC_WRITE_SEED, &s);
		ioctl(fd, LKP_ENC_IOC_WRITE_STRING, "");
		seed_reg = 0;
		enc.clear();
		return true;
	}
	void finish() { close(fd); }

	std::string random_text(size_t n)
	{
		static const std::string letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,!-";
		std::string s(n, 'a');
		for (auto &c : s)
			c = rng.chance(2) ? static_cast<char>(rng.below(255) + 1) : letters[rng.below(letters.size())];
		return s;
	}

	void step()
	{
		unsigned op = rng.below(100);
		if (op < 25) { // write(): stores min(count, 255) bytes
			Ptr p = buf.pick(rng);
			size_t n = size_from({ 0, 1, LKP_ENC_STRING_MAX - 1, LKP_ENC_STRING_MAX, LKP_ENC_STRING_SIZE, 4096 }, 300);
			std::string s = random_text(std::min<size_t>(n, 300));
			if (rng.chance(3) && !s.empty())
				s[rng.below(s.size())] = '\0';
			if (p.writable >= s.size())
				memcpy(p.p, s.data(), s.size());
			desc = "write " + std::to_string(n) + " from " + kind_name(p.kind);
			vfs_check(p, n);
			Result r = sys([&] { return write(fd, p.p, n); });
			count(r);
			size_t eff = std::min<size_t>(n, LKP_ENC_STRING_MAX);
			if (n > (1u << 20)) {
				if (!allowed(r, { EFAULT, EINVAL }))
					return;
				if (r.err)
					return;
			} else if (pos_overflow(fpos, n)) {
				return expect_err(r, EINVAL);
			} else if (p.readable < eff) {
				// A read-only page may be followed by a mapped one.
				if (p.kind == PtrKind::readonly && !r.err)
					expect_ok(r, (long)eff);
				else
					return expect_err(r, EFAULT);
			} else {
				expect_ok(r, (long)eff);
			}
			if (!r.err)
				stored(p.p, eff);
		} else if (op < 45) { // read / pread
			Ptr p = buf.pick(rng);
			size_t n = size_from({ 0, 1, LKP_ENC_STRING_MAX, LKP_ENC_STRING_SIZE, 4096 }, 300);
			bool positional = rng.chance(60);
			long long pos = positional ? rng.pick(std::vector<long long>{ 0, 0, 0, 1, 100, 254, 255, 256, -1, LLONG_MAX }) : fpos;
			desc = std::string(positional ? "pread " : "read ") + std::to_string(n) + " into " + kind_name(p.kind) + " at " + std::to_string(pos);
			vfs_check(p, n);
			Result r = sys([&] { return positional ? pread(fd, p.p, n, pos) : read(fd, p.p, n); });
			count(r);
			check_text_read(pos, p, n, r, cipher());
			if (!positional && !r.err)
				fpos += r.ret;
		} else if (op < 50) {
			long long off = rng.pick(std::vector<long long>{ 0, 0, 1, 255, -1, LLONG_MAX, LLONG_MIN });
			int wh = whence();
			desc = "lseek " + std::to_string(off) + " whence " + std::to_string(wh);
			vfs_efault_ok = false;
			Result r = sys([&] { return lseek(fd, off, wh); });
			count(r);
			if (allowed(r, { EINVAL, ENXIO }) && !r.err)
				fpos = r.ret;
		} else {
			do_ioctl();
		}
	}

	void do_ioctl()
	{
		static const std::vector<unsigned> defined = { LKP_ENC_IOC_WRITE_SEED, LKP_ENC_IOC_READ_SEED,
								LKP_ENC_IOC_WRITE_STRING, LKP_ENC_IOC_READ_STRING };
		unsigned cmd = ioc_number(LKP_ENC_IOC_MAGIC, 4, defined);
		Ptr p = buf.pick(rng);
		char d[96];
		snprintf(d, sizeof(d), "ioctl %#x (%s)", cmd, kind_name(p.kind));
		desc = d;
		vfs_efault_ok = false;
		if (cmd == LKP_ENC_IOC_WRITE_SEED) {
			uint32_t s = rng.chance(30) ? rng.pick(std::vector<uint32_t>{ 0, 1, 25, 26, 27, UINT32_MAX }) : (uint32_t)rng.next();
			if (p.writable >= 4)
				memcpy(p.p, &s, 4);
			Result r = sys([&] { return ioctl(fd, cmd, p.p); });
			count(r);
			if (p.readable < 4 && !(p.kind == PtrKind::readonly && !r.err))
				return expect_err(r, EFAULT);
			expect_ok(r, 0);
			if (!r.err)
				memcpy(&seed_reg, p.p, 4);
		} else if (cmd == LKP_ENC_IOC_READ_SEED) {
			Result r = sys([&] { return ioctl(fd, cmd, p.p); });
			count(r);
			if (p.writable < 4)
				return expect_err(r, EFAULT);
			expect_ok(r, 0);
			uint32_t got;
			memcpy(&got, p.p, 4);
			if (!r.err && got != seed_reg)
				fail("READ_SEED gave " + std::to_string(got) + ", model " + std::to_string(seed_reg));
		} else if (cmd == LKP_ENC_IOC_WRITE_STRING) {
			// A NUL somewhere in (or past) 256 bytes, or none.
			size_t len = rng.chance(10) ? LKP_ENC_STRING_SIZE + rng.below(10) : rng.below(LKP_ENC_STRING_SIZE);
			std::string s = random_text(len);
			for (auto &c : s)
				if (!c)
					c = 'z';
			if (p.writable > 0) {
				size_t n = std::min(p.writable, s.size());
				memcpy(p.p, s.data(), n);
				if (p.writable > s.size())
					p.p[s.size()] = '\0';
			}
			Result r = sys([&] { return ioctl(fd, cmd, p.p); });
			count(r);
			// What strncpy_from_user sees: bytes up to a NUL, a fault or 256.
			size_t room = std::min<size_t>(p.readable, LKP_ENC_STRING_SIZE);
			const char *nul = room ? static_cast<const char *>(memchr(p.p, 0, room)) : nullptr;
			if (nul) {
				expect_ok(r, 0);
				if (!r.err)
					stored(p.p, nul - p.p);
			} else if (room == LKP_ENC_STRING_SIZE) {
				expect_err(r, EINVAL);
			} else if (p.kind == PtrKind::readonly) {
				// the page after may be mapped: any of the three, and a
				// success stored what the kernel could read
				if (allowed(r, { EFAULT, EINVAL }) && !r.err)
					stored(p.p, LKP_ENC_STRING_SIZE);
			} else {
				expect_err(r, EFAULT);
			}
		} else if (cmd == LKP_ENC_IOC_READ_STRING) {
			Result r = sys([&] { return ioctl(fd, cmd, p.p); });
			count(r);
			std::string want = cipher();
			if (p.writable < want.size() + 1)
				return expect_err(r, EFAULT);
			expect_ok(r, 0);
			if (!r.err && std::string(p.p) != want)
				fail("READ_STRING gave " + json_str(std::string(p.p)) + ", Caesar reference " + json_str(want));
		} else {
			Result r = sys([&] { return ioctl(fd, cmd, p.p); });
			count(r);
			expect_err(r, ENOTTY);
		}
	}
};

template <class F> void run_device(F &f, uint64_t calls)
{
	if (!f.setup())
		return;
	for (f.call = 0; f.call < calls; f.call++)
		f.step();
	f.finish();
	f.st.calls[f.tag] += calls;
}

// ------------------------------------------------------------ allocation test
// Deterministic: for N = 1, 2, ...: store known data, arm fail_alloc_nth=N,
// write where new allocations are needed.  While N is within the write's
// allocations the write fails with ENOMEM, the parameter is back to 0, the
// old data reads back intact and the same write then succeeds.
void alloc_test(const std::string &variant, Stats &st, std::vector<std::string> &lines, uint64_t &passed)
{
	std::string path = node(SCULL_NAME, variant, 2), mod = module(SCULL_NAME, variant);
	std::string param = param_path(mod, "fail_alloc_nth");
	auto failure = [&](const std::string &why) {
		std::string m = variant + "/scull alloc-test: " + why;
		fprintf(stderr, "FAIL %s\n", m.c_str());
		st.failures.push_back(m);
		st.failed++;
	};
	int fd = open(path.c_str(), O_RDWR);
	if (fd < 0)
		return failure(path + ": " + strerror(errno));
	std::vector<char> old(3 * SCULL_QUANTUM_DEFAULT), fresh(SCULL_QUANTUM_DEFAULT), back(old.size());
	for (size_t i = 0; i < old.size(); i++)
		old[i] = static_cast<char>(i * 7 + 3);
	for (size_t i = 0; i < fresh.size(); i++)
		fresh[i] = static_cast<char>(i * 13 + 1);
	// Two quantum sets further: two new list nodes, a pointer array and a
	// quantum: four allocations for the geometry the module started with.
	const off_t far = (off_t)SCULL_QUANTUM_DEFAULT * SCULL_QSET_DEFAULT * 2;
	int enomem = 0;
	for (int n = 1; n <= 6; n++) {
		int w = open(path.c_str(), O_WRONLY); // trim
		close(w);
		ioctl(fd, SCULL_IOCRESET);
		if (pwrite(fd, old.data(), old.size(), 0) <= 0) {
			// short writes stop at a quantum: write the rest in a loop
		}
		for (size_t done = 0; done < old.size();) {
			ssize_t k = pwrite(fd, old.data() + done, old.size() - done, done);
			if (k <= 0)
				return failure(std::string("storing the reference data: ") + strerror(errno)), (void)close(fd);
			done += k;
		}
		if (int e = sysfs_write(param, std::to_string(n)))
			return failure("setting " + param + ": " + strerror(e)), (void)close(fd);
		ssize_t r = pwrite(fd, fresh.data(), fresh.size(), far);
		int err = r < 0 ? errno : 0;
		long left = -1;
		sysfs_read_long(param, &left);
		std::string tag = variant + "/scull fail_alloc_nth=" + std::to_string(n) + ": ";
		bool ok = true;
		if (r < 0) {
			st.errnos[errno_name(err)]++;
			if (err != ENOMEM) {
				failure(tag + "write failed with " + errno_name(err) + ", not ENOMEM");
				ok = false;
			} else {
				enomem++;
				st.faults_injected++;
			}
			if (left != 0) {
				failure(tag + "parameter reads " + std::to_string(left) + " after the failure, not 0");
				ok = false;
			}
		} else {
			sysfs_write(param, "0");
		}
		ssize_t k = 0;
		for (size_t done = 0; done < back.size(); done += k) {
			k = pread(fd, back.data() + done, back.size() - done, done);
			if (k <= 0)
				break;
		}
		if (k <= 0 || memcmp(back.data(), old.data(), old.size()) != 0) {
			failure(tag + "stored data changed after the failed allocation");
			ok = false;
		}
		if (r < 0) {
			ssize_t again = pwrite(fd, fresh.data(), fresh.size(), far);
			if (again != (ssize_t)fresh.size()) {
				failure(tag + "the next write did not succeed: " +
					(again < 0 ? errno_name(errno) : std::to_string(again)));
				ok = false;
			}
		}
		std::vector<char> chk(fresh.size());
		if (pread(fd, chk.data(), chk.size(), far) != (ssize_t)chk.size() || chk != fresh) {
			failure(tag + "the written quantum does not read back");
			ok = false;
		}
		lines.push_back(tag + (r < 0 ? "ENOMEM" : "write succeeded (N beyond its allocations)") +
				(ok ? ", ok" : ", FAILED"));
		if (ok)
			passed++;
		if (r >= 0)
			break; // N is past the allocations this write makes
	}
	if (enomem == 0)
		failure("no allocation failure was ever injected (is fail_alloc_nth wired to the write path?)");
	int w = open(path.c_str(), O_WRONLY);
	close(w);
	close(fd);
}

void usage(FILE *out)
{
	fprintf(out,
		"Usage: kmodlab-fuzz [options]\n"
		"  --variant LIST   c,cxx (default both)\n"
		"  --driver LIST    scull,counter,lkp_enc (default all)\n"
		"  --calls N        calls per variant/driver (default 20000)\n"
		"  --seed S         PRNG seed (default: time); printed, and in every failure\n"
		"  --alloc-test     also run the deterministic scull allocation-failure test\n"
		"  --json FILE      write the result JSON there\n"
		"  -h, --help       this text\n"
		"Every call must return success or a documented errno, with the data the\n"
		"model predicts.  Exit 0 when nothing failed, 1 on failures, 2 on usage errors.\n");
}

} // namespace

int main(int argc, char **argv)
{
	std::vector<std::string> variants = { KMODLAB_VARIANT_C, KMODLAB_VARIANT_CXX };
	std::vector<std::string> drivers = { SCULL_NAME, COUNTER_NAME, LKP_ENC_NAME };
	uint64_t calls = 20000;
	uint64_t seed = std::chrono::system_clock::now().time_since_epoch().count();
	bool do_alloc = false;
	std::string json;
	static const option opts[] = { { "variant", required_argument, nullptr, 'v' },
				       { "driver", required_argument, nullptr, 'd' },
				       { "calls", required_argument, nullptr, 'n' },
				       { "seed", required_argument, nullptr, 's' },
				       { "alloc-test", no_argument, nullptr, 'a' },
				       { "json", required_argument, nullptr, 'j' },
				       { "help", no_argument, nullptr, 'h' },
				       {} };
	for (int c; (c = getopt_long(argc, argv, "h", opts, nullptr)) != -1;) {
		switch (c) {
		case 'v': variants = split_words(optarg); break;
		case 'd': drivers = split_words(optarg); break;
		case 'n': calls = strtoull(optarg, nullptr, 0); break;
		case 's': seed = strtoull(optarg, nullptr, 0); break;
		case 'a': do_alloc = true; break;
		case 'j': json = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	for (auto &d : drivers)
		if (d != SCULL_NAME && d != COUNTER_NAME && d != LKP_ENC_NAME) {
			fprintf(stderr, "kmodlab-fuzz: unknown driver '%s'\n", d.c_str());
			return 2;
		}
	printf("kmodlab-fuzz: seed %llu, %llu calls per variant/driver\n", (unsigned long long)seed,
	       (unsigned long long)calls);
	fflush(stdout);
	Buffers buf;
	Stats st;
	std::vector<std::string> alloc_lines;
	uint64_t alloc_passed = 0;
	auto t0 = std::chrono::steady_clock::now();
	for (auto &v : variants) {
		for (auto &d : drivers) {
			auto t = std::chrono::steady_clock::now();
			uint64_t before = st.failed;
			if (d == SCULL_NAME) {
				ScullFuzz f(v, d, seed, buf, st);
				run_device(f, calls);
			} else if (d == COUNTER_NAME) {
				CounterFuzz f(v, d, seed, buf, st);
				run_device(f, calls);
			} else {
				LkpEncFuzz f(v, d, seed, buf, st);
				run_device(f, calls);
			}
			double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
			printf("%s/%s: %llu calls in %.1f s, %llu failures\n", v.c_str(), d.c_str(),
			       (unsigned long long)st.calls[v + "/" + d], s, (unsigned long long)(st.failed - before));
			fflush(stdout);
		}
		if (do_alloc)
			alloc_test(v, st, alloc_lines, alloc_passed);
	}
	for (auto &l : alloc_lines)
		printf("%s\n", l.c_str());
	double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	printf("errnos:");
	for (auto &[k, n] : st.errnos)
		printf(" %s=%llu", k.c_str(), (unsigned long long)n);
	printf("\nallocation faults: %llu armed, %llu observed; %llu failures; %.1f s\n",
	       (unsigned long long)st.fault_arms, (unsigned long long)st.faults_injected,
	       (unsigned long long)st.failed, secs);
	if (!json.empty()) {
		FILE *f = fopen(json.c_str(), "w");
		if (!f) {
			fprintf(stderr, "kmodlab-fuzz: cannot write %s: %s\n", json.c_str(), strerror(errno));
			return 2;
		}
		fprintf(f,
			"{\"tool\": \"kmodlab-fuzz\", \"seed\": %llu, \"seconds\": %.2f, \"calls_fuzzed\": %s,\n"
			" \"errors_by_errno\": %s, \"fault_arms\": %llu, \"faults_injected\": %llu,\n"
			" \"alloc_test_passed\": %llu, \"failed\": %llu, \"failures\": %s}\n",
			(unsigned long long)seed, secs, json_counts(st.calls).c_str(), json_counts(st.errnos).c_str(),
			(unsigned long long)st.fault_arms, (unsigned long long)st.faults_injected,
			(unsigned long long)alloc_passed, (unsigned long long)st.failed, json_list(st.failures).c_str());
		fclose(f);
	}
	return st.failed ? 1 : 0;
}
