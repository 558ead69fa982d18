// counter_test.cpp - conformance of the counter misc devices, one instance
// per variant.  The suite script also reruns it under each sync= mode.
#include "devices.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <thread>

#include <sys/ioctl.h>
#include <sys/sysmacros.h>

extern "C" {
#include <uapi/counter.h>
}

namespace {

using kmodlab::bad_pointers;

class Counter : public testing::TestWithParam<std::string> {
protected:
	std::string module;
	std::string path;
	int fd = -1;

	void SetUp() override
	{
		module = kmodlab::module_name(COUNTER_NAME, GetParam());
		path = kmodlab::node(COUNTER_NAME, GetParam());
		ASSERT_TRUE(kmodlab::exists(path)) << kmodlab::missing(path, COUNTER_NAME, GetParam());
		fd = open(path.c_str(), O_RDWR);
		ASSERT_GE(fd, 0) << path << ": " << strerror(errno);
		ASSERT_EQ(ioctl(fd, COUNTER_IOC_RESET), 0) << strerror(errno);
	}

	void TearDown() override
	{
		if (fd >= 0)
			close(fd);
	}

	int64_t get()
	{
		int64_t v = 0x5a5a5a5a;
		EXPECT_EQ(ioctl(fd, COUNTER_IOC_GET, &v), 0) << strerror(errno);
		return v;
	}

	void set(int64_t v)
	{
		ASSERT_EQ(ioctl(fd, COUNTER_IOC_SET, &v), 0) << strerror(errno);
	}

	// The whole text a fresh open reads, up to EOF.
	std::string text()
	{
		return kmodlab::read_to_eof(path, 64);
	}

	ssize_t write_str(const std::string &s)
	{
		return write(fd, s.data(), s.size());
	}
};

TEST_P(Counter, NodeIsMiscDeviceWithMode)
{
	struct stat st;
	ASSERT_EQ(stat(path.c_str(), &st), 0);
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(major(st.st_rdev), 10u) << "a misc device has major 10";
	EXPECT_EQ(st.st_mode & 07777, static_cast<unsigned>(KMODLAB_DEV_MODE));
}

TEST_P(Counter, SyncParameterInSysfs)
{
	std::string sync = kmodlab::param(module, "sync");
	const std::array<std::string, 3> modes = COUNTER_SYNC_MODES;
	EXPECT_NE(std::find(modes.begin(), modes.end(), sync), modes.end())
		<< "sync=" << sync << " is not one of the uapi modes";
}

TEST_P(Counter, ResetReadsZeroThenEOF)
{
	char buf[64];
	EXPECT_EQ(read(fd, buf, sizeof(buf)), 2);
	EXPECT_EQ(std::string(buf, 2), "0\n");
	EXPECT_EQ(read(fd, buf, sizeof(buf)), 0) << "EOF after the value";
	EXPECT_EQ(get(), 0);
}

TEST_P(Counter, ReadFormatsEveryValue)
{
	for (int64_t v : { int64_t(0), int64_t(1), int64_t(-1), int64_t(42), int64_t(-1234567890123),
			   INT64_MAX, INT64_MIN }) {
		set(v);
		EXPECT_EQ(get(), v);
		std::string want = std::to_string(v) + "\n";
		EXPECT_EQ(text(), want);
		ASSERT_LE(want.size(), static_cast<size_t>(COUNTER_TEXT_MAX));
	}
}

TEST_P(Counter, PartialReadsContinueFromTheOffset)
{
	set(-9876543210);
	std::string got;
	char c;
	ssize_t r;
	while ((r = read(fd, &c, 1)) == 1)
		got += c;
	EXPECT_EQ(r, 0);
	EXPECT_EQ(got, "-9876543210\n");
	char buf[32] = {};
	EXPECT_EQ(pread(fd, buf, sizeof(buf), 3), 9);
	EXPECT_EQ(std::string(buf), "76543210\n");
	EXPECT_EQ(pread(fd, buf, sizeof(buf), 12), 0);
	EXPECT_EQ(pread(fd, buf, sizeof(buf), 1000), 0);
	set(7);
	ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
	EXPECT_EQ(read(fd, buf, sizeof(buf)), 2) << "rewinding reads the new value";
	EXPECT_EQ(std::string(buf, 2), "7\n");
}

TEST_P(Counter, WriteAddsAndReturnsCount)
{
	EXPECT_EQ(write_str("5"), 1);
	EXPECT_EQ(get(), 5);
	EXPECT_EQ(write_str("-3\n"), 3);
	EXPECT_EQ(get(), 2);
	EXPECT_EQ(write_str("  +7  \n"), 7);
	EXPECT_EQ(get(), 9);
	EXPECT_EQ(write_str("\t-10\r\n"), 6);
	EXPECT_EQ(get(), -1);
	EXPECT_EQ(write_str("0"), 1);
	EXPECT_EQ(get(), -1);
	EXPECT_EQ(write_str("0010"), 4) << "leading zeros are decimal, not octal";
	EXPECT_EQ(get(), 9);
	EXPECT_EQ(text(), "9\n");
}

TEST_P(Counter, BadTextGivesEINVALAndKeepsValue)
{
	set(100);
	const std::vector<std::string> bads = { "", " ", "\n", "abc", "5x", "x5", "1 2", "0x10", "--5", "+-5",
				       "-", "+", "1.5", "1e3", std::string("5\0", 2),
				       std::string("\0" "5", 2) };
	for (const std::string &bad : bads) {
		SCOPED_TRACE("text \"" + bad + "\" (" + std::to_string(bad.size()) + " bytes)");
		EXPECT_ERRNO(EINVAL, write_str(bad));
		EXPECT_EQ(get(), 100);
	}
}

TEST_P(Counter, WriteLengthLimit)
{
	std::string longest = std::string(COUNTER_WRITE_MAX - 1, ' ') + "1";
	EXPECT_EQ(write_str(longest), COUNTER_WRITE_MAX) << "COUNTER_WRITE_MAX bytes are allowed";
	EXPECT_EQ(get(), 1);
	EXPECT_ERRNO(EINVAL, write_str(" " + longest));
	EXPECT_ERRNO(EINVAL, write_str(std::string(4096, '1')));
	EXPECT_EQ(get(), 1);
}

TEST_P(Counter, OverflowGivesERANGEAndKeepsValue)
{
	EXPECT_ERRNO(ERANGE, write_str("9223372036854775808"));
	EXPECT_ERRNO(ERANGE, write_str("-9223372036854775809"));
	EXPECT_ERRNO(ERANGE, write_str("99999999999999999999999999"));
	EXPECT_EQ(get(), 0);
	EXPECT_EQ(write_str("9223372036854775807"), 19);
	EXPECT_EQ(get(), INT64_MAX);
	EXPECT_ERRNO(ERANGE, write_str("1"));
	EXPECT_EQ(get(), INT64_MAX);
	EXPECT_EQ(write_str("-9223372036854775807"), 20);
	EXPECT_EQ(get(), 0);
	set(INT64_MIN);
	EXPECT_ERRNO(ERANGE, write_str("-1"));
	EXPECT_EQ(get(), INT64_MIN);
	EXPECT_EQ(write_str("9223372036854775807"), 19);
	EXPECT_EQ(get(), -1);
}

TEST_P(Counter, IoctlSetGetReset)
{
	set(123456789);
	EXPECT_EQ(get(), 123456789);
	set(-5);
	EXPECT_EQ(write_str("5"), 1);
	EXPECT_EQ(get(), 0);
	set(77);
	EXPECT_EQ(ioctl(fd, COUNTER_IOC_RESET), 0);
	EXPECT_EQ(get(), 0);
}

TEST_P(Counter, BadPointersGiveEFAULTAndKeepValue)
{
	set(31337);
	for (auto &bad : bad_pointers()) {
		SCOPED_TRACE(bad.what);
		EXPECT_ERRNO(EFAULT, ioctl(fd, COUNTER_IOC_GET, bad.ptr));
		EXPECT_ERRNO(EFAULT, ioctl(fd, COUNTER_IOC_SET, bad.ptr));
		EXPECT_ERRNO(EFAULT, write(fd, bad.ptr, 3));
		EXPECT_ERRNO(EFAULT, pread(fd, bad.ptr, 10, 0));
		EXPECT_EQ(get(), 31337);
	}
}

TEST_P(Counter, UnknownIoctlsGiveENOTTY)
{
	int64_t v = 0;
	set(9);
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IO(COUNTER_IOC_MAGIC, COUNTER_IOC_MAXNR + 1)));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IOW(COUNTER_IOC_MAGIC, COUNTER_IOC_MAXNR + 1, int64_t), &v));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IOR(COUNTER_IOC_MAGIC, 1, int32_t), &v)); // wrong size
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IOW(COUNTER_IOC_MAGIC, 1, int64_t), &v)); // wrong dir
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IO(COUNTER_IOC_MAGIC + 1, 0)));
	EXPECT_FALSE(isatty(fd));
	EXPECT_EQ(get(), 9);
}

TEST_P(Counter, ConcurrentAddsAreNotLost)
{
	const int threads = 4, adds = 2000;
	std::vector<std::thread> pool;
	std::atomic<int> failures{ 0 };
	for (int t = 0; t < threads; t++) {
		pool.emplace_back([&, t] {
			int f = open(path.c_str(), O_WRONLY);
			const char *text = t % 2 ? "1" : " +2\n";
			for (int i = 0; i < adds; i++)
				if (write(f, text, strlen(text)) != static_cast<ssize_t>(strlen(text)))
					failures++;
			close(f);
		});
	}
	// A reader and an ioctl getter run meanwhile; values only grow.
	int64_t last = 0;
	for (int i = 0; i < 500; i++) {
		int64_t v = get();
		EXPECT_GE(v, last);
		last = v;
	}
	for (auto &th : pool)
		th.join();
	EXPECT_EQ(failures.load(), 0);
	EXPECT_EQ(get(), static_cast<int64_t>(adds) * (threads / 2) * (1 + 2));
}

// The classic shell exercise.
TEST_P(Counter, EchoAndCat)
{
	std::string cmd = "echo 5 > " + path + " && test \"$(cat " + path + ")\" = 5" +
			  " && echo -2 > " + path + " && test \"$(cat " + path + ")\" = 3" +
			  " && ! echo x > " + path + " 2>/dev/null && test \"$(cat " + path +
			  ")\" = 3";
	EXPECT_EQ(system(cmd.c_str()), 0) << cmd;
	EXPECT_EQ(get(), 3);
}

INSTANTIATE_TEST_SUITE_P(Variants, Counter, testing::ValuesIn(kmodlab::variants()),
			 kmodlab::VariantName());

} // namespace
