// scull_test.cpp - conformance of the scull drivers (LDD3 chapter 3 plus
// correct file semantics), one instance per variant.  Runs as root in the
// guest with the modules loaded; see tests/conformance/README.md.
#include "devices.hpp"

#include <algorithm>
#include <atomic>
#include <climits>
#include <random>
#include <thread>

#include <sys/ioctl.h>

extern "C" {
#include <uapi/scull.h>
}

namespace {

using kmodlab::bad_pointers;
using kmodlab::in_child;

std::vector<char> pattern(size_t n, unsigned seed)
{
	std::vector<char> v(n);
	std::mt19937 rng(seed);
	for (auto &c : v)
		c = static_cast<char>(rng());
	return v;
}

class Scull : public testing::TestWithParam<std::string> {
protected:
	std::string module;
	std::string path; // minor 0
	int quantum = SCULL_QUANTUM_DEFAULT;

	void SetUp() override
	{
		module = kmodlab::module_name(SCULL_NAME, GetParam());
		path = kmodlab::node(SCULL_NAME, GetParam(), 0);
		ASSERT_TRUE(kmodlab::exists(path)) << kmodlab::missing(path, SCULL_NAME, GetParam());
		// Default geometry, empty device (open O_WRONLY trims).
		int fd = open(path.c_str(), O_WRONLY);
		ASSERT_GE(fd, 0) << path << ": " << strerror(errno);
		ASSERT_EQ(ioctl(fd, SCULL_IOCRESET), 0) << strerror(errno);
		close(fd);
		truncate_dev(path);
	}

	void TearDown() override
	{
		set_short_io(false);
		int fd = open(path.c_str(), O_WRONLY);
		if (fd < 0)
			return;
		ioctl(fd, SCULL_IOCRESET);
		close(fd);
		truncate_dev(path); // free the memory with the default geometry
	}

	static void truncate_dev(const std::string &p)
	{
		int fd = open(p.c_str(), O_WRONLY);
		ASSERT_GE(fd, 0) << p << ": " << strerror(errno);
		close(fd);
	}

	int open_rw() const
	{
		int fd = open(path.c_str(), O_RDWR);
		EXPECT_GE(fd, 0) << path << ": " << strerror(errno);
		return fd;
	}

	// scull's ldd3_short_io parameter (LDD3's one quantum per call).
	void set_short_io(bool on) const
	{
		EXPECT_EQ(kmodlab::write_sysfs("/sys/module/" + module + "/parameters/ldd3_short_io",
					       on ? "1" : "0"),
			  0);
	}

	// Write all of buf at pos, looping over short writes (a test that
	// is not about transfer sizes must pass with ldd3_short_io too).
	static void pwrite_all(int fd, const char *buf, size_t n, off_t pos)
	{
		while (n > 0) {
			ssize_t w = pwrite(fd, buf, n, pos);
			ASSERT_GT(w, 0) << "pwrite at " << pos << ": " << strerror(errno);
			buf += w;
			n -= w;
			pos += w;
		}
	}

	static std::vector<char> pread_all(int fd, size_t n, off_t pos)
	{
		std::vector<char> out(n);
		size_t got = 0;
		while (got < n) {
			ssize_t r = pread(fd, out.data() + got, n - got, pos + got);
			if (r <= 0) {
				ADD_FAILURE() << "pread at " << pos + got << " returned " << r << ": "
					      << strerror(errno);
				break;
			}
			got += r;
		}
		out.resize(got);
		return out;
	}

	// The device's whole content, read to EOF with read().
	std::vector<char> contents() const
	{
		std::vector<char> out;
		int fd = open(path.c_str(), O_RDONLY);
		EXPECT_GE(fd, 0);
		char buf[8192];
		ssize_t r;
		while ((r = read(fd, buf, sizeof(buf))) > 0)
			out.insert(out.end(), buf, buf + r);
		EXPECT_EQ(r, 0) << "read did not end in EOF: " << strerror(errno);
		close(fd);
		return out;
	}

	long max_bytes() const
	{
		return std::stol(kmodlab::param(module, "max_bytes"));
	}
};

TEST_P(Scull, NodesExistAsCharDevicesWithMode)
{
	int nr = std::stoi(kmodlab::param(module, "nr_devs"));
	EXPECT_GE(nr, 1);
	for (int i = 0; i < nr; i++) {
		std::string p = kmodlab::node(SCULL_NAME, GetParam(), i);
		struct stat st;
		ASSERT_EQ(stat(p.c_str(), &st), 0) << kmodlab::missing(p, SCULL_NAME, GetParam());
		EXPECT_TRUE(S_ISCHR(st.st_mode)) << p;
		EXPECT_EQ(st.st_mode & 07777, static_cast<unsigned>(KMODLAB_DEV_MODE)) << p;
	}
	EXPECT_FALSE(kmodlab::exists(kmodlab::node(SCULL_NAME, GetParam(), nr)))
		<< "more nodes than nr_devs=" << nr;
}

TEST_P(Scull, ParametersInSysfs)
{
	EXPECT_EQ(kmodlab::param(module, "quantum"), std::to_string(SCULL_QUANTUM_DEFAULT));
	EXPECT_EQ(kmodlab::param(module, "qset"), std::to_string(SCULL_QSET_DEFAULT));
	EXPECT_EQ(kmodlab::param(module, "max_bytes"), std::to_string(SCULL_MAX_BYTES_DEFAULT));
	EXPECT_EQ(kmodlab::param(module, "ldd3_short_io"), "N") << "full transfers by default";
	EXPECT_FALSE(kmodlab::param(module, "nr_devs").empty());
}

TEST_P(Scull, NonRootCannotOpen)
{
	std::string p = path;
	int rc = in_child([&] {
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			return 2;
		int fd = open(p.c_str(), O_RDWR);
		return fd < 0 && errno == EACCES ? 0 : 1;
	});
	EXPECT_EQ(rc, 0) << "uid 65534 could open " << path << " (mode must be 0600)";
}

TEST_P(Scull, WriteThenReadBack)
{
	int fd = open_rw();
	const char msg[] = "hello, scull";
	EXPECT_EQ(write(fd, msg, sizeof(msg)), static_cast<ssize_t>(sizeof(msg)));
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), static_cast<off_t>(sizeof(msg)));
	ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
	char buf[64] = {};
	EXPECT_EQ(read(fd, buf, sizeof(buf)), static_cast<ssize_t>(sizeof(msg)));
	EXPECT_STREQ(buf, msg);
	EXPECT_EQ(read(fd, buf, sizeof(buf)), 0) << "read at the end must return 0";
	close(fd);
}

TEST_P(Scull, OpenWriteOnlyTruncatesReadWriteDoesNot)
{
	int fd = open_rw();
	pwrite_all(fd, "abcdef", 6, 0);
	close(fd);
	fd = open_rw(); // O_RDWR keeps the data
	close(fd);
	EXPECT_EQ(contents().size(), 6u);
	fd = open(path.c_str(), O_RDONLY);
	close(fd);
	EXPECT_EQ(contents().size(), 6u);
	fd = open(path.c_str(), O_WRONLY);
	ASSERT_GE(fd, 0);
	close(fd);
	EXPECT_EQ(contents().size(), 0u) << "open(O_WRONLY) must truncate";
}

TEST_P(Scull, ReadAtAndAfterEndReturnsZero)
{
	int fd = open_rw();
	char buf[16];
	EXPECT_EQ(read(fd, buf, sizeof(buf)), 0) << "empty device";
	pwrite_all(fd, "12345", 5, 0);
	EXPECT_EQ(pread(fd, buf, sizeof(buf), 5), 0);
	EXPECT_EQ(pread(fd, buf, sizeof(buf), 6), 0);
	EXPECT_EQ(pread(fd, buf, sizeof(buf), 1L << 40), 0);
	EXPECT_EQ(pread(fd, buf, sizeof(buf), 3), 2) << "read crossing the end is short";
	close(fd);
}

// One read or write moves the whole request across quanta (and quantum
// sets), so fio, dd and cp work at any block size: 4 KiB and 64 KiB at
// offset 0, at 3000 (the request crosses the 4000-byte quantum) and just
// before the first quantum set's end.
TEST_P(Scull, FullTransfersAcrossQuanta)
{
	const off_t set_end = static_cast<off_t>(quantum) * SCULL_QSET_DEFAULT;
	for (size_t n : { size_t(4096), size_t(65536) }) {
		for (off_t pos : { off_t(0), off_t(3000), set_end - 3000 }) {
			SCOPED_TRACE("size " + std::to_string(n) + " at " + std::to_string(pos));
			truncate_dev(path);
			int fd = open_rw();
			auto data = pattern(n, n + pos);
			EXPECT_EQ(pwrite(fd, data.data(), n, pos), static_cast<ssize_t>(n));
			std::vector<char> buf(n);
			EXPECT_EQ(pread(fd, buf.data(), n, pos), static_cast<ssize_t>(n));
			EXPECT_EQ(buf, data);
			// read()/write() at the file position: the same, position moved.
			ASSERT_EQ(lseek(fd, pos, SEEK_SET), pos);
			EXPECT_EQ(read(fd, buf.data(), n), static_cast<ssize_t>(n));
			EXPECT_EQ(lseek(fd, 0, SEEK_CUR), pos + static_cast<off_t>(n));
			EXPECT_EQ(buf, data);
			ASSERT_EQ(lseek(fd, pos, SEEK_SET), pos);
			EXPECT_EQ(write(fd, data.data(), n), static_cast<ssize_t>(n));
			EXPECT_EQ(lseek(fd, 0, SEEK_CUR), pos + static_cast<off_t>(n));
			close(fd);
		}
	}
	// One read from 0 of a device written at 3000: the hole, then the data.
	truncate_dev(path);
	int fd = open_rw();
	auto data = pattern(4096, 9);
	EXPECT_EQ(pwrite(fd, data.data(), data.size(), 3000), 4096);
	std::vector<char> all(3000 + 4096, 'x');
	EXPECT_EQ(pread(fd, all.data(), all.size(), 0), static_cast<ssize_t>(all.size()));
	EXPECT_EQ(std::count(all.begin(), all.begin() + 3000, 0), 3000) << "the hole reads as zeros";
	EXPECT_TRUE(std::equal(data.begin(), data.end(), all.begin() + 3000));
	close(fd);
}

// A fault after some bytes gives the bytes done; they crossed a quantum
// edge.  The user buffer is the last 1500 bytes of a page followed by an
// inaccessible one; the transfer starts 1000 bytes before a quantum edge.
TEST_P(Scull, FaultAfterSomeBytesReturnsTheBytesDone)
{
	kmodlab::badptr::EdgePages edge("");
	const long page = sysconf(_SC_PAGESIZE);
	const size_t usable = 1500;
	char *ubuf = edge.tail + page - usable;
	const off_t pos = quantum - 1000;
	auto old = pattern(3 * quantum, 7);
	int fd = open_rw();
	pwrite_all(fd, old.data(), old.size(), 0);

	ssize_t r = pread(fd, ubuf, 2 * quantum, pos);
	EXPECT_GT(r, 1000) << "the read stopped at the quantum edge: " << strerror(errno);
	EXPECT_LE(r, static_cast<ssize_t>(usable));
	if (r > 0) {
		EXPECT_EQ(memcmp(ubuf, old.data() + pos, r), 0);
	}

	auto fresh = pattern(usable, 8);
	memcpy(ubuf, fresh.data(), usable);
	r = pwrite(fd, ubuf, 2 * quantum, pos);
	EXPECT_GT(r, 1000) << "the write stopped at the quantum edge: " << strerror(errno);
	EXPECT_LE(r, static_cast<ssize_t>(usable));
	if (r > 0) {
		auto expect = old;
		std::copy(fresh.begin(), fresh.begin() + r, expect.begin() + pos);
		EXPECT_EQ(pread_all(fd, old.size(), 0), expect) << "bytes past the fault changed";
	}
	EXPECT_EQ(lseek(fd, 0, SEEK_END), static_cast<off_t>(old.size()));
	close(fd);
}

// ldd3_short_io=1 (sysfs, at run time) restores LDD3: a read or write
// moves at most the rest of the current quantum.
TEST_P(Scull, Ldd3ShortIoStopsAtTheQuantum)
{
	int fd = open_rw();
	auto data = pattern(quantum + 100, 1);
	set_short_io(true);
	EXPECT_EQ(write(fd, data.data(), data.size()), quantum)
		<< "a write is bounded by the current quantum";
	EXPECT_EQ(write(fd, data.data() + quantum, 100), 100);
	EXPECT_EQ(pwrite(fd, data.data(), 100, quantum - 10), 10)
		<< "a write crossing a quantum boundary stops at it";
	std::vector<char> buf(quantum + 100);
	EXPECT_EQ(pread(fd, buf.data(), buf.size(), 0), quantum);
	EXPECT_EQ(pread(fd, buf.data(), 100, quantum - 10), 10);
	EXPECT_EQ(pread(fd, buf.data(), 100, quantum), 100);
	set_short_io(false);
	EXPECT_EQ(pread(fd, buf.data(), buf.size(), 0), quantum + 100) << "full transfers again";
	close(fd);
}

TEST_P(Scull, PreadPwriteHonourOffsetAndKeepFilePosition)
{
	int fd = open_rw();
	auto data = pattern(3 * quantum + 77, 2);
	pwrite_all(fd, data.data(), data.size(), 0);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 0) << "pwrite must not move the file position";
	for (off_t pos : { off_t(0), off_t(1), off_t(quantum - 1), off_t(quantum), off_t(2 * quantum + 5) }) {
		auto got = pread_all(fd, 50, pos);
		ASSERT_EQ(got.size(), 50u);
		EXPECT_EQ(0, memcmp(got.data(), data.data() + pos, 50)) << "at " << pos;
	}
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 0) << "pread must not move the file position";
	EXPECT_EQ(pwrite(fd, "XY", 2, quantum + 3), 2);
	auto got = pread_all(fd, 4, quantum + 2);
	ASSERT_EQ(got.size(), 4u);
	EXPECT_EQ(got[0], data[quantum + 2]);
	EXPECT_EQ(got[1], 'X');
	EXPECT_EQ(got[2], 'Y');
	EXPECT_EQ(got[3], data[quantum + 5]);
	close(fd);
}

TEST_P(Scull, HolesReadAsZeros)
{
	int fd = open_rw();
	// A hole inside one quantum and holes of whole quanta and quantum sets.
	off_t far = static_cast<off_t>(quantum) * SCULL_QSET_DEFAULT + 3 * quantum + 7;
	EXPECT_EQ(pwrite(fd, "A", 1, 100), 1);
	EXPECT_EQ(pwrite(fd, "B", 1, far), 1);
	struct stat st;
	EXPECT_EQ(lseek(fd, 0, SEEK_END), far + 1);
	(void)st;
	auto head = pread_all(fd, 101, 0);
	ASSERT_EQ(head.size(), 101u);
	for (int i = 0; i < 100; i++)
		ASSERT_EQ(head[i], 0) << "byte " << i << " of a hole inside a quantum";
	EXPECT_EQ(head[100], 'A');
	for (off_t pos : { off_t(quantum), off_t(2 * quantum + 1), far - 10 }) {
		auto mid = pread_all(fd, 10, pos);
		ASSERT_EQ(mid.size(), 10u);
		for (char c : mid)
			ASSERT_EQ(c, 0) << "hole at " << pos;
	}
	auto tail = pread_all(fd, 1, far);
	ASSERT_EQ(tail.size(), 1u);
	EXPECT_EQ(tail[0], 'B');
	close(fd);
}

TEST_P(Scull, Llseek)
{
	int fd = open_rw();
	pwrite_all(fd, "0123456789", 10, 0);
	EXPECT_EQ(lseek(fd, 3, SEEK_SET), 3);
	EXPECT_EQ(lseek(fd, 2, SEEK_CUR), 5);
	EXPECT_EQ(lseek(fd, -1, SEEK_CUR), 4);
	EXPECT_EQ(lseek(fd, 0, SEEK_END), 10);
	EXPECT_EQ(lseek(fd, -4, SEEK_END), 6);
	char c;
	EXPECT_EQ(read(fd, &c, 1), 1);
	EXPECT_EQ(c, '6');
	EXPECT_EQ(lseek(fd, 100, SEEK_END), 110) << "seeking past the end is allowed";
	EXPECT_EQ(read(fd, &c, 1), 0);
	EXPECT_EQ(lseek(fd, 4, SEEK_SET), 4);
	EXPECT_ERRNO(EINVAL, lseek(fd, -1, SEEK_SET));
	EXPECT_ERRNO(EINVAL, lseek(fd, -5, SEEK_CUR));
	EXPECT_ERRNO(EINVAL, lseek(fd, -11, SEEK_END));
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 4) << "a failed lseek must not move the position";
	EXPECT_EQ(lseek(fd, LLONG_MAX, SEEK_SET), LLONG_MAX);
	EXPECT_ERRNO(EINVAL, lseek(fd, 1, SEEK_CUR)); // would wrap
	EXPECT_ERRNO(EINVAL, lseek(fd, 0, 42));       // bad whence
	close(fd);
}

TEST_P(Scull, SizeCapGivesENOSPC)
{
	long cap = max_bytes();
	ASSERT_GT(cap, 100);
	int fd = open_rw();
	pwrite_all(fd, "keep", 4, 0);
	EXPECT_EQ(pwrite(fd, "0123456789abcdefghij", 20, cap - 10), 10)
		<< "a write crossing max_bytes is short";
	EXPECT_ERRNO(ENOSPC, pwrite(fd, "x", 1, cap));
	EXPECT_ERRNO(ENOSPC, pwrite(fd, "x", 1, cap + 12345));
	EXPECT_EQ(lseek(fd, 0, SEEK_END), cap);
	ASSERT_EQ(lseek(fd, cap, SEEK_SET), cap);
	EXPECT_ERRNO(ENOSPC, write(fd, "x", 1));
	auto head = pread_all(fd, 4, 0);
	EXPECT_EQ(std::string(head.begin(), head.end()), "keep");
	close(fd);
}

TEST_P(Scull, HugeAndNegativeOffsetsGiveEINVAL)
{
	int fd = open_rw();
	pwrite_all(fd, "data", 4, 0);
	char buf[16];
	EXPECT_ERRNO(EINVAL, pwrite(fd, "x", 1, -1));
	EXPECT_ERRNO(EINVAL, pread(fd, buf, 1, -1));
	EXPECT_ERRNO(EINVAL, pwrite(fd, buf, 16, LLONG_MAX - 5)); // pos + count wraps
	EXPECT_ERRNO(EINVAL, pread(fd, buf, 16, LLONG_MAX - 5));
	ASSERT_EQ(lseek(fd, LLONG_MAX, SEEK_SET), LLONG_MAX);
	EXPECT_ERRNO(EINVAL, write(fd, "x", 1));
	EXPECT_EQ(read(fd, buf, 0), 0);
	auto head = pread_all(fd, 4, 0);
	EXPECT_EQ(std::string(head.begin(), head.end()), "data");
	close(fd);
}

TEST_P(Scull, BadUserBuffersGiveEFAULTAndKeepContents)
{
	int fd = open_rw();
	pwrite_all(fd, "intact", 6, 0);
	pwrite_all(fd, "end", 3, 4 * quantum); // quanta 1..3 are a hole
	for (auto &bad : bad_pointers()) {
		SCOPED_TRACE(bad.what);
		EXPECT_ERRNO(EFAULT, pwrite(fd, bad.ptr, 6, 0));
		EXPECT_ERRNO(EFAULT, pwrite(fd, bad.ptr, 6, 3 * quantum)); // new quantum
		EXPECT_ERRNO(EFAULT, pread(fd, bad.ptr, 6, 0));
		EXPECT_ERRNO(EFAULT, pread(fd, bad.ptr, 6, 2 * quantum)); // a hole
	}
	auto head = pread_all(fd, 6, 0);
	EXPECT_EQ(std::string(head.begin(), head.end()), "intact");
	EXPECT_EQ(lseek(fd, 0, SEEK_END), 4 * quantum + 3) << "failed writes must not grow the size";
	close(fd);
}

TEST_P(Scull, FsyncSucceeds)
{
	int fd = open_rw();
	pwrite_all(fd, "sync", 4, 0);
	EXPECT_EQ(fsync(fd), 0) << strerror(errno);
	EXPECT_EQ(fdatasync(fd), 0) << strerror(errno);
	close(fd);
}

TEST_P(Scull, DevicesAreIndependent)
{
	std::string p1 = kmodlab::node(SCULL_NAME, GetParam(), 1);
	ASSERT_TRUE(kmodlab::exists(p1)) << kmodlab::missing(p1, SCULL_NAME, GetParam());
	int fd0 = open_rw();
	int fd1 = open(p1.c_str(), O_WRONLY); // truncates minor 1
	ASSERT_GE(fd1, 0);
	EXPECT_EQ(write(fd0, "zero", 4), 4);
	EXPECT_EQ(write(fd1, "one!!", 5), 5);
	close(fd1);
	fd1 = open(p1.c_str(), O_RDONLY);
	char buf[16] = {};
	EXPECT_EQ(read(fd1, buf, sizeof(buf)), 5);
	EXPECT_STREQ(buf, "one!!");
	close(fd1);
	auto head = pread_all(fd0, 4, 0);
	EXPECT_EQ(std::string(head.begin(), head.end()), "zero");
	close(fd0);
	truncate_dev(p1);
}

// --- ioctl ---------------------------------------------------------------

TEST_P(Scull, IoctlQueryAndGetDefaults)
{
	int fd = open_rw();
	EXPECT_EQ(ioctl(fd, SCULL_IOCQQUANTUM), SCULL_QUANTUM_DEFAULT);
	EXPECT_EQ(ioctl(fd, SCULL_IOCQQSET), SCULL_QSET_DEFAULT);
	int v = -1;
	EXPECT_EQ(ioctl(fd, SCULL_IOCGQUANTUM, &v), 0);
	EXPECT_EQ(v, SCULL_QUANTUM_DEFAULT);
	EXPECT_EQ(ioctl(fd, SCULL_IOCGQSET, &v), 0);
	EXPECT_EQ(v, SCULL_QSET_DEFAULT);
	close(fd);
}

TEST_P(Scull, IoctlSetTellExchangeShiftReset)
{
	int fd = open_rw();
	int v = 1234;
	EXPECT_EQ(ioctl(fd, SCULL_IOCSQUANTUM, &v), 0);
	EXPECT_EQ(ioctl(fd, SCULL_IOCQQUANTUM), 1234);
	EXPECT_EQ(kmodlab::param(module, "quantum"), "1234") << "the parameter is the live value";
	EXPECT_EQ(ioctl(fd, SCULL_IOCTQUANTUM, 2000), 0);
	EXPECT_EQ(ioctl(fd, SCULL_IOCQQUANTUM), 2000);
	v = 3000;
	EXPECT_EQ(ioctl(fd, SCULL_IOCXQUANTUM, &v), 0);
	EXPECT_EQ(v, 2000) << "exchange returns the old value through the pointer";
	EXPECT_EQ(ioctl(fd, SCULL_IOCQQUANTUM), 3000);
	EXPECT_EQ(ioctl(fd, SCULL_IOCHQUANTUM, 500), 3000) << "shift returns the old value";
	EXPECT_EQ(ioctl(fd, SCULL_IOCQQUANTUM), 500);

	v = 7;
	EXPECT_EQ(ioctl(fd, SCULL_IOCSQSET, &v), 0);
	EXPECT_EQ(ioctl(fd, SCULL_IOCQQSET), 7);
	EXPECT_EQ(ioctl(fd, SCULL_IOCTQSET, 8), 0);
	v = -1;
	EXPECT_EQ(ioctl(fd, SCULL_IOCGQSET, &v), 0);
	EXPECT_EQ(v, 8);
	v = 9;
	EXPECT_EQ(ioctl(fd, SCULL_IOCXQSET, &v), 0);
	EXPECT_EQ(v, 8);
	EXPECT_EQ(ioctl(fd, SCULL_IOCHQSET, 10), 9);
	EXPECT_EQ(ioctl(fd, SCULL_IOCQQSET), 10);

	EXPECT_EQ(ioctl(fd, SCULL_IOCRESET), 0);
	EXPECT_EQ(ioctl(fd, SCULL_IOCQQUANTUM), SCULL_QUANTUM_DEFAULT);
	EXPECT_EQ(ioctl(fd, SCULL_IOCQQSET), SCULL_QSET_DEFAULT);
	close(fd);
}

TEST_P(Scull, NewGeometryAppliesAfterTrim)
{
	int fd = open_rw();
	ASSERT_EQ(ioctl(fd, SCULL_IOCTQUANTUM, 100), 0);
	ASSERT_EQ(ioctl(fd, SCULL_IOCTQSET, 3), 0);
	close(fd);
	fd = open(path.c_str(), O_WRONLY); // trim: adopts quantum 100, qset 3
	ASSERT_GE(fd, 0);
	auto data = pattern(1000, 3);
	EXPECT_EQ(write(fd, data.data(), 150), 150) << "a write crosses the new 100-byte quanta";
	close(fd);
	fd = open_rw();
	pwrite_all(fd, data.data(), data.size(), 0); // spans several 300-byte qsets
	auto got = pread_all(fd, data.size(), 0);
	EXPECT_EQ(got, data);
	std::vector<char> buf(300);
	EXPECT_EQ(pread(fd, buf.data(), buf.size(), 250), 300) << "a read crosses quanta and qsets";
	EXPECT_TRUE(std::equal(buf.begin(), buf.end(), data.begin() + 250));
	close(fd);
}

TEST_P(Scull, IoctlBadValuesGiveEINVALAndChangeNothing)
{
	int fd = open_rw();
	for (int bad : { 0, -1, INT_MIN }) {
		SCOPED_TRACE(bad);
		int v = bad;
		EXPECT_ERRNO(EINVAL, ioctl(fd, SCULL_IOCSQUANTUM, &v));
		EXPECT_ERRNO(EINVAL, ioctl(fd, SCULL_IOCSQSET, &v));
		EXPECT_ERRNO(EINVAL, ioctl(fd, SCULL_IOCXQUANTUM, &v));
		EXPECT_EQ(v, bad) << "a failed exchange must not write back";
		EXPECT_ERRNO(EINVAL, ioctl(fd, SCULL_IOCXQSET, &v));
		EXPECT_ERRNO(EINVAL, ioctl(fd, SCULL_IOCTQUANTUM, static_cast<unsigned long>(bad)));
		EXPECT_ERRNO(EINVAL, ioctl(fd, SCULL_IOCTQSET, static_cast<unsigned long>(bad)));
		EXPECT_ERRNO(EINVAL, ioctl(fd, SCULL_IOCHQUANTUM, static_cast<unsigned long>(bad)));
		EXPECT_ERRNO(EINVAL, ioctl(fd, SCULL_IOCHQSET, static_cast<unsigned long>(bad)));
	}
	EXPECT_EQ(ioctl(fd, SCULL_IOCQQUANTUM), SCULL_QUANTUM_DEFAULT);
	EXPECT_EQ(ioctl(fd, SCULL_IOCQQSET), SCULL_QSET_DEFAULT);
	close(fd);
}

TEST_P(Scull, IoctlBadPointersGiveEFAULTAndChangeNothing)
{
	int fd = open_rw();
	for (auto &bad : bad_pointers()) {
		SCOPED_TRACE(bad.what);
		EXPECT_ERRNO(EFAULT, ioctl(fd, SCULL_IOCSQUANTUM, bad.ptr));
		EXPECT_ERRNO(EFAULT, ioctl(fd, SCULL_IOCSQSET, bad.ptr));
		EXPECT_ERRNO(EFAULT, ioctl(fd, SCULL_IOCGQUANTUM, bad.ptr));
		EXPECT_ERRNO(EFAULT, ioctl(fd, SCULL_IOCGQSET, bad.ptr));
		EXPECT_ERRNO(EFAULT, ioctl(fd, SCULL_IOCXQUANTUM, bad.ptr));
		EXPECT_ERRNO(EFAULT, ioctl(fd, SCULL_IOCXQSET, bad.ptr));
	}
	EXPECT_EQ(ioctl(fd, SCULL_IOCQQUANTUM), SCULL_QUANTUM_DEFAULT);
	EXPECT_EQ(ioctl(fd, SCULL_IOCQQSET), SCULL_QSET_DEFAULT);
	close(fd);
}

TEST_P(Scull, UnknownIoctlsGiveENOTTY)
{
	int fd = open_rw();
	int v = 0;
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IO(SCULL_IOC_MAGIC, SCULL_IOC_MAXNR + 1)));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IOR(SCULL_IOC_MAGIC, SCULL_IOC_MAXNR + 1, int), &v));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IO(SCULL_IOC_MAGIC + 1, 0)));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IOR(SCULL_IOC_MAGIC + 1, 5, int), &v));
	// Right type and number, wrong direction or size: still not ours.
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IOR(SCULL_IOC_MAGIC, 0, int), &v));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IOW(SCULL_IOC_MAGIC, 1, long), &v));
	EXPECT_FALSE(isatty(fd));
	EXPECT_EQ(ioctl(fd, SCULL_IOCQQUANTUM), SCULL_QUANTUM_DEFAULT);
	close(fd);
}

// Without CAP_SYS_ADMIN: S, T, X and H fail with EPERM, G, Q and RESET work
// (LDD3 checks the capability on setters and exchangers only).
TEST_P(Scull, SettersNeedCapSysAdmin)
{
	std::string p = path;
	int rc = in_child([&] {
		if (!kmodlab::drop_cap_sys_admin())
			return 10;
		int fd = open(p.c_str(), O_RDWR);
		if (fd < 0)
			return 11;
		int v = 100;
		struct {
			unsigned long cmd;
			unsigned long arg;
		} setters[] = {
			{ SCULL_IOCSQUANTUM, reinterpret_cast<unsigned long>(&v) },
			{ SCULL_IOCSQSET, reinterpret_cast<unsigned long>(&v) },
			{ SCULL_IOCTQUANTUM, 100 },
			{ SCULL_IOCTQSET, 100 },
			{ SCULL_IOCXQUANTUM, reinterpret_cast<unsigned long>(&v) },
			{ SCULL_IOCXQSET, reinterpret_cast<unsigned long>(&v) },
			{ SCULL_IOCHQUANTUM, 100 },
			{ SCULL_IOCHQSET, 100 },
		};
		int i = 0;
		for (auto &s : setters) {
			i++;
			if (ioctl(fd, s.cmd, s.arg) != -1 || errno != EPERM)
				return 20 + i;
		}
		if (v != 100)
			return 30;
		if (ioctl(fd, SCULL_IOCQQUANTUM) != SCULL_QUANTUM_DEFAULT)
			return 31;
		if (ioctl(fd, SCULL_IOCGQSET, &v) != 0 || v != SCULL_QSET_DEFAULT)
			return 32;
		if (ioctl(fd, SCULL_IOCRESET) != 0)
			return 33;
		return 0;
	});
	EXPECT_EQ(rc, 0) << "child without CAP_SYS_ADMIN: 10/11 set-up failed, 21..28 the n-th "
			    "setter (S,S,T,T,X,X,H,H) did not give EPERM, 30..33 a getter or "
			    "reset misbehaved";
	int fd = open_rw();
	EXPECT_EQ(ioctl(fd, SCULL_IOCQQUANTUM), SCULL_QUANTUM_DEFAULT);
	EXPECT_EQ(ioctl(fd, SCULL_IOCQQSET), SCULL_QSET_DEFAULT);
	close(fd);
}

// --- concurrency and plain tools ------------------------------------------

TEST_P(Scull, ConcurrentWritersOfDisjointRegions)
{
	const int threads = 4, chunk = 3 * quantum + 123;
	std::vector<std::vector<char>> data;
	for (int t = 0; t < threads; t++)
		data.push_back(pattern(chunk, 10 + t));
	std::vector<std::thread> pool;
	std::atomic<int> failures{ 0 };
	for (int t = 0; t < threads; t++) {
		pool.emplace_back([&, t] {
			int fd = open(path.c_str(), O_RDWR);
			for (int round = 0; round < 20; round++) {
				off_t pos = static_cast<off_t>(t) * chunk;
				const char *b = data[t].data();
				size_t n = chunk;
				while (n > 0) {
					ssize_t w = pwrite(fd, b, n, pos);
					if (w <= 0) {
						failures++;
						break;
					}
					b += w, n -= w, pos += w;
				}
			}
			close(fd);
		});
	}
	for (auto &th : pool)
		th.join();
	EXPECT_EQ(failures.load(), 0);
	auto all = contents();
	ASSERT_EQ(all.size(), static_cast<size_t>(threads) * chunk);
	for (int t = 0; t < threads; t++)
		EXPECT_EQ(0, memcmp(all.data() + t * chunk, data[t].data(), chunk)) << "region " << t;
}

// Truncating opens race with readers and writers: every call either works
// or returns a short count, and the kernel stays clean (slub_debug and the
// guest's kernel-log check catch use-after-free).
TEST_P(Scull, TrimRacesWithReadersAndWriters)
{
	std::atomic<bool> stop{ false };
	std::atomic<int> errors{ 0 }, ops{ 0 };
	auto data = pattern(2 * quantum, 5);
	std::vector<std::thread> pool;
	pool.emplace_back([&] {
		while (!stop) {
			int f = open(path.c_str(), O_WRONLY);
			if (f < 0)
				errors++;
			else
				close(f);
			ops++;
		}
	});
	for (int t = 0; t < 2; t++) {
		pool.emplace_back([&, t] {
			int f = open(path.c_str(), O_RDWR);
			std::vector<char> buf(2 * quantum);
			while (!stop) {
				ssize_t r = t ? pwrite(f, data.data(), data.size(), quantum / 2)
					      : pread(f, buf.data(), buf.size(), quantum / 2);
				if (r < 0)
					errors++;
				ops++;
			}
			close(f);
		});
	}
	while (ops < 30000)
		usleep(10000);
	stop = true;
	for (auto &th : pool)
		th.join();
	EXPECT_EQ(errors.load(), 0);
}

// dd, cmp, cat and cp work on the device (1 MiB, block sizes that do and do
// not divide the quantum).
TEST_P(Scull, PlainToolsRoundTrip)
{
	char dir[] = "/tmp/scull-conf-XXXXXX";
	ASSERT_NE(mkdtemp(dir), nullptr);
	std::string d = dir, dev = path;
	auto sh = [](const std::string &cmd) {
		int rc = system(cmd.c_str());
		return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
	};
	ASSERT_EQ(sh("head -c 1048576 /dev/urandom > " + d + "/in"), 0);
	for (const char *bs : { "4000", "4096", "65536" }) {
		SCOPED_TRACE(std::string("bs=") + bs);
		EXPECT_EQ(sh("dd if=" + d + "/in of=" + dev + " bs=" + bs + " status=none"), 0);
		EXPECT_EQ(sh("dd if=" + dev + " of=" + d + "/out bs=" + bs + " status=none"), 0);
		EXPECT_EQ(sh("cmp " + d + "/in " + d + "/out"), 0);
		EXPECT_EQ(sh("cmp " + d + "/in " + dev), 0);
	}
	EXPECT_EQ(sh("cat " + d + "/in > " + dev), 0);
	EXPECT_EQ(sh("cat " + dev + " > " + d + "/cat"), 0);
	EXPECT_EQ(sh("cmp " + d + "/in " + d + "/cat"), 0);
	EXPECT_EQ(sh("cp " + dev + " " + d + "/cp && cmp " + d + "/in " + d + "/cp"), 0);
	EXPECT_EQ(sh("echo hello > " + dev + " && test \"$(cat " + dev + ")\" = hello"), 0);
	sh("rm -rf " + d);
}

// fio writes with verification, then reads the device back (psync).
TEST_P(Scull, FioWriteVerify)
{
	ASSERT_EQ(system("command -v fio >/dev/null"), 0) << "fio is not installed";
	std::string cmd = "fio --name=scull --filename=" + path +
			  " --rw=write --bs=4k --size=1m --ioengine=psync --verify=crc32c"
			  " --do_verify=1 --verify_fatal=1 --output=/dev/null";
	EXPECT_EQ(system(cmd.c_str()), 0) << cmd;
	cmd = "fio --name=scullr --filename=" + path +
	      " --rw=read --bs=4096 --size=1m --ioengine=psync --output=/dev/null";
	EXPECT_EQ(system(cmd.c_str()), 0) << cmd;
}

INSTANTIATE_TEST_SUITE_P(Variants, Scull, testing::ValuesIn(kmodlab::variants()),
			 kmodlab::VariantName());

} // namespace
