// fuzz_scull.cpp - kmodlab-fuzz: the scull model (bytes of the first MiB, size,
// max_bytes, geometry ioctls, fault injection) and the deterministic
// allocation-failure test.
#include "fuzz.hpp"

namespace rel::fuzz {

namespace {

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
		// Full transfers: all of a wholly accessible buffer up to the end,
		// never past what the buffer can take.
		const long long want = std::min<long long>((long long)count, size - pos);
		if (p.writable >= count && r.ret != want)
			return fail("read returned " + std::to_string(r.ret) + ", want the whole " +
				    std::to_string(want) + " bytes up to the end");
		if ((size_t)r.ret > p.writable)
			return fail("read returned " + std::to_string(r.ret) + " into a buffer of " +
				    std::to_string(p.writable) + " writable bytes");
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
		// Full transfers: all of a wholly readable buffer up to max_bytes,
		// unless an armed allocation failure cut it short.
		const long long want = std::min<long long>((long long)count, max_bytes - pos);
		if (p.readable >= count && !armed && r.ret != want)
			return fail("write returned " + std::to_string(r.ret) + ", want the whole " +
				    std::to_string(want) + " bytes up to max_bytes");
		wrote(pos, p, count, r.ret);
	}

	// write() at f_pos or pwrite() at a drawn offset, from a drawn pointer
	// filled with random bytes.
	void step_write(bool positional)
	{
		Ptr p = buf.pick(rng);
		size_t n = size_arg();
		long long pos = positional ? offset() : fpos;
		fill(rng, p, std::min<size_t>(n, 70000));
		desc = std::string(positional ? "pwrite " : "write ") + std::to_string(n) + " from " + kind_name(p.kind) +
		       (positional ? " at " : " at f_pos ") + std::to_string(pos);
		vfs_check(p, n);
		Result r = sys([&] { return positional ? pwrite(fd, p.p, n, pos) : write(fd, p.p, n); });
		count(r);
		check_write(pos, p, n, r);
		if (!positional && !r.err)
			fpos += r.ret;
	}

	// read() at f_pos or pread() at a drawn offset, into a drawn pointer.
	void step_read(bool positional)
	{
		Ptr p = buf.pick(rng);
		size_t n = size_arg();
		long long pos = positional ? offset() : fpos;
		desc = std::string(positional ? "pread " : "read ") + std::to_string(n) + " into " + kind_name(p.kind) +
		       (positional ? " at " : " at f_pos ") + std::to_string(pos);
		vfs_check(p, n);
		Result r = sys([&] { return positional ? pread(fd, p.p, n, pos) : read(fd, p.p, n); });
		count(r);
		check_read(pos, p, n, r);
		if (!positional && !r.err)
			fpos += r.ret;
	}

	void step()
	{
		unsigned op = rng.below(100);
		if (op < 15) { // write at f_pos
			step_write(false);
		} else if (op < 35) { // pwrite
			step_write(true);
		} else if (op < 50) { // read at f_pos
			step_read(false);
		} else if (op < 70) { // pread
			step_read(true);
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

} // namespace

void fuzz_scull(const std::string &variant, uint64_t seed, uint64_t calls, Buffers &buf, Stats &st)
{
	fuzz_with<ScullFuzz>(SCULL_NAME, variant, seed, calls, buf, st);
}

// ------------------------------------------------------------ allocation test
// Deterministic: for N = 1, 2, ...: store known data, arm fail_alloc_nth=N,
// write where new allocations are needed.  While N is within the write's
// allocations the write fails with ENOMEM, the parameter is back to 0, the
// old data reads back intact and the same write then succeeds.
namespace {

struct AllocTest {
	const std::string variant, path, param;
	Stats &st;
	int fd = -1;
	int enomem = 0;
	std::vector<char> old, fresh;
	// Two quantum sets further: two new list nodes, a pointer array and a
	// quantum: four allocations for the geometry the module started with.
	const off_t far = (off_t)SCULL_QUANTUM_DEFAULT * SCULL_QSET_DEFAULT * 2;

	AllocTest(const std::string &v, Stats &stats)
		: variant(v), path(node(SCULL_NAME, v, 2)), param(param_path(module(SCULL_NAME, v), "fail_alloc_nth")),
		  st(stats), old(3 * SCULL_QUANTUM_DEFAULT), fresh(SCULL_QUANTUM_DEFAULT)
	{
		for (size_t i = 0; i < old.size(); i++)
			old[i] = static_cast<char>(i * 7 + 3);
		for (size_t i = 0; i < fresh.size(); i++)
			fresh[i] = static_cast<char>(i * 13 + 1);
	}

	void failure(const std::string &why)
	{
		std::string m = variant + "/scull alloc-test: " + why;
		fprintf(stderr, "FAIL %s\n", m.c_str());
		st.failures.push_back(m);
		st.failed++;
	}

	// Trim, reset the geometry and store `old` (three quanta) from offset
	// 0 in one write.
	bool store_reference()
	{
		int w = open(path.c_str(), O_WRONLY); // trim
		close(w);
		ioctl(fd, SCULL_IOCRESET);
		ssize_t k = pwrite(fd, old.data(), old.size(), 0);
		if (k != (ssize_t)old.size())
			return failure("storing the reference data: " +
				       (k < 0 ? errno_name(errno) : std::to_string(k) + " bytes")),
			       false;
		return true;
	}

	// After the armed write: the reference still reads back, a failed write
	// succeeds when repeated, and the quantum it wrote reads back.
	bool data_intact(const std::string &tag, ssize_t r)
	{
		bool ok = true;
		std::vector<char> back(old.size());
		if (pread(fd, back.data(), back.size(), 0) != (ssize_t)back.size() || back != old) {
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
		return ok;
	}

	// One N.  NEXT: the write failed as armed, try N + 1; DONE: N was past
	// the write's allocations; ABORT: the set-up failed (said why).
	enum Step { NEXT, DONE, ABORT };
	Step round(int n, std::vector<std::string> &lines, uint64_t &passed)
	{
		if (!store_reference())
			return ABORT;
		if (int e = sysfs_write(param, std::to_string(n)))
			return failure("setting " + param + ": " + strerror(e)), ABORT;
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
		ok = data_intact(tag, r) && ok;
		lines.push_back(tag + (r < 0 ? "ENOMEM" : "write succeeded (N beyond its allocations)") +
				(ok ? ", ok" : ", FAILED"));
		if (ok)
			passed++;
		return r < 0 ? NEXT : DONE;
	}

	// A write whose second quantum cannot be allocated: the 100 bytes
	// into the stored third quantum are kept and returned (a transfer
	// across quanta stops at the failure), the size does not grow.
	void partial(std::vector<std::string> &lines, uint64_t &passed)
	{
		const off_t pos = (off_t)old.size() - 100;
		const std::string tag = variant + "/scull fail_alloc_nth=1, write across quanta: ";
		if (!store_reference())
			return;
		if (int e = sysfs_write(param, "1"))
			return failure("setting " + param + ": " + strerror(e));
		ssize_t r = pwrite(fd, fresh.data(), 200, pos);
		int err = errno;
		sysfs_write(param, "0");
		bool ok = r == 100;
		if (!ok)
			failure(tag + "returned " + (r < 0 ? errno_name(err) : std::to_string(r)) +
				", want the 100 bytes before the failed allocation");
		std::vector<char> expect = old, back(old.size());
		std::copy(fresh.begin(), fresh.begin() + 100, expect.begin() + pos);
		if (pread(fd, back.data(), back.size(), 0) != (ssize_t)back.size() || back != expect) {
			failure(tag + "the stored data is not the reference with the 100 bytes written");
			ok = false;
		}
		if (lseek(fd, 0, SEEK_END) != (off_t)old.size()) {
			failure(tag + "the size changed");
			ok = false;
		}
		lines.push_back(tag + (ok ? "100 of 200 bytes, ok" : "FAILED"));
		if (ok)
			passed++;
	}
};

} // namespace

void alloc_test(const std::string &variant, Stats &st, std::vector<std::string> &lines, uint64_t &passed)
{
	AllocTest t(variant, st);
	t.fd = open(t.path.c_str(), O_RDWR);
	if (t.fd < 0)
		return t.failure(t.path + ": " + strerror(errno));
	for (int n = 1; n <= 6; n++) {
		AllocTest::Step next = t.round(n, lines, passed);
		if (next == AllocTest::ABORT)
			return (void)close(t.fd);
		if (next == AllocTest::DONE)
			break;
	}
	if (t.enomem == 0)
		t.failure("no allocation failure was ever injected (is fail_alloc_nth wired to the write path?)");
	t.partial(lines, passed);
	int w = open(t.path.c_str(), O_WRONLY);
	close(w);
	close(t.fd);
}

} // namespace rel::fuzz
