// lkp_enc_test.cpp - conformance of the lkp_enc PCI drivers, one instance per
// variant.  Needs the guest's two emulated lkp_enc devices (our QEMU), one
// bound to each variant's driver (make load).
#include "devices.hpp"
#include "kmodlab/caesar.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <dirent.h>
#include <thread>

#include <sys/ioctl.h>

extern "C" {
#include <uapi/lkp_enc.h>
}

namespace {

using kmodlab::bad_pointers;

using kmodlab::caesar;

std::string hex4(unsigned v)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "0x%04x", v);
	return buf;
}

// PCI addresses of every lkp_enc device in the machine.
std::vector<std::string> lkp_enc_devices()
{
	std::vector<std::string> out;
	const std::string base = "/sys/bus/pci/devices/";
	DIR *d = opendir(base.c_str());
	if (!d)
		return out;
	while (auto *e = readdir(d)) {
		std::string bdf = e->d_name;
		if (bdf[0] == '.')
			continue;
		if (kmodlab::trim(kmodlab::read_text(base + bdf + "/vendor")) ==
			    hex4(LKP_ENC_PCI_VENDOR) &&
		    kmodlab::trim(kmodlab::read_text(base + bdf + "/device")) == hex4(LKP_ENC_PCI_DEVICE))
			out.push_back(bdf);
	}
	closedir(d);
	std::sort(out.begin(), out.end());
	return out;
}

// The driver a PCI device is bound to, "" if none.
std::string driver_of(const std::string &bdf)
{
	char buf[PATH_MAX];
	std::string link = "/sys/bus/pci/devices/" + bdf + "/driver";
	ssize_t n = readlink(link.c_str(), buf, sizeof(buf) - 1);
	if (n < 0)
		return "";
	buf[n] = '\0';
	std::string s = buf;
	return s.substr(s.rfind('/') + 1);
}

class LkpEnc : public testing::TestWithParam<std::string> {
protected:
	std::string module;
	std::string path;
	std::string bdf; // our device
	int fd = -1;

	void SetUp() override
	{
		module = kmodlab::module_name(LKP_ENC_NAME, GetParam());
		path = kmodlab::node(LKP_ENC_NAME, GetParam());
		ASSERT_TRUE(kmodlab::exists(path)) << kmodlab::missing(path, LKP_ENC_NAME, GetParam());
		for (auto &d : lkp_enc_devices())
			if (driver_of(d) == module)
				bdf = d;
		ASSERT_FALSE(bdf.empty()) << "no lkp_enc PCI device is bound to " << module;
		fd = open(path.c_str(), O_RDWR);
		ASSERT_GE(fd, 0) << path << ": " << strerror(errno);
	}

	void TearDown() override
	{
		if (fd >= 0)
			close(fd);
	}

	void set_seed(uint32_t seed)
	{
		ASSERT_EQ(ioctl(fd, LKP_ENC_IOC_WRITE_SEED, &seed), 0) << strerror(errno);
	}

	uint32_t seed()
	{
		uint32_t s = 0xdeadbeef;
		EXPECT_EQ(ioctl(fd, LKP_ENC_IOC_READ_SEED, &s), 0) << strerror(errno);
		return s;
	}

	void ioc_write(const std::string &s)
	{
		ASSERT_EQ(ioctl(fd, LKP_ENC_IOC_WRITE_STRING, s.c_str()), 0) << strerror(errno);
	}

	std::string ioc_read()
	{
		char buf[LKP_ENC_STRING_SIZE];
		memset(buf, 'X', sizeof(buf));
		EXPECT_EQ(ioctl(fd, LKP_ENC_IOC_READ_STRING, buf), 0) << strerror(errno);
		EXPECT_NE(memchr(buf, '\0', sizeof(buf)), nullptr) << "READ_STRING must NUL-terminate";
		return std::string(buf, strnlen(buf, sizeof(buf)));
	}

	// read() from offset 0 to EOF on a fresh file.
	std::string read_all()
	{
		return kmodlab::read_to_eof(path, 100);
	}
};

TEST_P(LkpEnc, NodeAndPciBinding)
{
	struct stat st;
	ASSERT_EQ(stat(path.c_str(), &st), 0);
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(st.st_mode & 07777, static_cast<unsigned>(KMODLAB_DEV_MODE));
	EXPECT_TRUE(kmodlab::exists("/sys/bus/pci/drivers/" + module + "/" + bdf));
	EXPECT_EQ(lkp_enc_devices().size(), 2u) << "the guest has two lkp_enc devices";
}

TEST_P(LkpEnc, HelloWorldThroughIoctls)
{
	set_seed(2);
	EXPECT_EQ(seed(), 2u);
	ioc_write("Hello World");
	EXPECT_EQ(ioc_read(), "Jgnnq Yqtnf");
}

TEST_P(LkpEnc, HelloWorldThroughWriteAndRead)
{
	set_seed(2);
	const std::string hello = "Hello World";
	EXPECT_EQ(write(fd, hello.data(), hello.size()), static_cast<ssize_t>(hello.size()));
	char buf[64] = {};
	EXPECT_EQ(pread(fd, buf, sizeof(buf), 0), 11);
	EXPECT_EQ(std::string(buf), "Jgnnq Yqtnf");
	EXPECT_EQ(pread(fd, buf, sizeof(buf), 11), 0) << "EOF after the string";
	EXPECT_EQ(read_all(), "Jgnnq Yqtnf");
	EXPECT_EQ(ioc_read(), "Jgnnq Yqtnf");
	std::string cmd = "printf 'Hello World' > " + path + " && test \"$(cat " + path +
			  ")\" = 'Jgnnq Yqtnf'";
	EXPECT_EQ(system(cmd.c_str()), 0) << cmd;
}

TEST_P(LkpEnc, SeedRoundTrip)
{
	for (uint32_t s : { 0u, 1u, 2u, 25u, 26u, 0x12345678u, 0xffffffffu }) {
		set_seed(s);
		EXPECT_EQ(seed(), s);
	}
}

TEST_P(LkpEnc, CipherForManySeeds)
{
	const std::string text = "The quick brown fox jumps over the lazy dog! AZaz 0123456789 ~[`{@";
	for (uint32_t s : { 0u, 1u, 2u, 13u, 25u, 26u, 27u, 51u, 52u, 1000u, 0x7fffffffu, 0xffffffffu }) {
		SCOPED_TRACE("seed " + std::to_string(s));
		set_seed(s);
		ioc_write(text);
		EXPECT_EQ(ioc_read(), caesar(text, s));
		EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
		EXPECT_EQ(read_all(), caesar(text, s));
	}
}

TEST_P(LkpEnc, SeedAppliesAtWriteTime)
{
	set_seed(1);
	ioc_write("abc");
	set_seed(5);
	EXPECT_EQ(ioc_read(), "bcd") << "the device encrypts when the string is written";
}

TEST_P(LkpEnc, LengthLimits)
{
	set_seed(1);
	std::string max(LKP_ENC_STRING_MAX, 'a');
	ioc_write(max);
	EXPECT_EQ(ioc_read(), std::string(LKP_ENC_STRING_MAX, 'b'));
	EXPECT_EQ(read_all(), std::string(LKP_ENC_STRING_MAX, 'b'));

	ioc_write("keep");
	std::string too_long(LKP_ENC_STRING_SIZE, 'z');
	EXPECT_ERRNO(EINVAL, ioctl(fd, LKP_ENC_IOC_WRITE_STRING, too_long.c_str()));
	std::string way_too_long(10000, 'z');
	EXPECT_ERRNO(EINVAL, ioctl(fd, LKP_ENC_IOC_WRITE_STRING, way_too_long.c_str()));
	EXPECT_EQ(ioc_read(), "lffq") << "a rejected string leaves the previous one";

	std::string big(300, 'y');
	EXPECT_EQ(write(fd, big.data(), big.size()), LKP_ENC_STRING_MAX)
		<< "write() takes at most LKP_ENC_STRING_MAX bytes";
	EXPECT_EQ(read_all(), std::string(LKP_ENC_STRING_MAX, 'z'));

	ioc_write("");
	EXPECT_EQ(ioc_read(), "");
	EXPECT_EQ(read_all(), "");
}

TEST_P(LkpEnc, PartialReads)
{
	set_seed(3);
	ioc_write("abcdefghij");
	ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
	std::string got;
	char buf[3];
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		got.append(buf, r);
	EXPECT_EQ(r, 0);
	EXPECT_EQ(got, "defghijklm");
	char tail[16] = {};
	EXPECT_EQ(pread(fd, tail, sizeof(tail), 7), 3);
	EXPECT_EQ(std::string(tail), "klm");
}

TEST_P(LkpEnc, BadPointersGiveEFAULTAndKeepState)
{
	set_seed(4);
	ioc_write("state");
	for (auto &bad : bad_pointers()) {
		SCOPED_TRACE(bad.what);
		EXPECT_ERRNO(EFAULT, ioctl(fd, LKP_ENC_IOC_WRITE_SEED, bad.ptr));
		EXPECT_ERRNO(EFAULT, ioctl(fd, LKP_ENC_IOC_READ_SEED, bad.ptr));
		EXPECT_ERRNO(EFAULT, ioctl(fd, LKP_ENC_IOC_WRITE_STRING, bad.ptr));
		EXPECT_ERRNO(EFAULT, ioctl(fd, LKP_ENC_IOC_READ_STRING, bad.ptr));
		EXPECT_ERRNO(EFAULT, write(fd, bad.ptr, 5));
		EXPECT_ERRNO(EFAULT, pread(fd, bad.ptr, 5, 0));
	}
	EXPECT_EQ(seed(), 4u);
	EXPECT_EQ(ioc_read(), caesar("state", 4));
}

// A string that runs into an unmapped page before its NUL: -EFAULT
// (strncpy_from_user semantics), nothing stored.
TEST_P(LkpEnc, UnterminatedStringAtPageEndGivesEFAULT)
{
	set_seed(0);
	ioc_write("before");
	kmodlab::badptr::EdgePages pages("");
	const long page = kmodlab::badptr::page_size();
	char *p = pages.tail; // writable page, then an inaccessible one
	memset(p + page - 10, 'q', 10); // no NUL before the hole
	EXPECT_ERRNO(EFAULT, ioctl(fd, LKP_ENC_IOC_WRITE_STRING, p + page - 10));
	p[page - 1] = '\0';
	EXPECT_EQ(ioctl(fd, LKP_ENC_IOC_WRITE_STRING, p + page - 10), 0) << strerror(errno);
	EXPECT_EQ(ioc_read(), "qqqqqqqqq");
}

TEST_P(LkpEnc, UnknownIoctlsGiveENOTTY)
{
	uint64_t v = 0;
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IO(LKP_ENC_IOC_MAGIC, 5)));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IOW(LKP_ENC_IOC_MAGIC, 5, uint32_t), &v));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IOW(LKP_ENC_IOC_MAGIC, 1, uint64_t), &v)); // wrong size
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IOR(LKP_ENC_IOC_MAGIC, 1, uint32_t), &v)); // wrong dir
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IO(LKP_ENC_IOC_MAGIC + 1, 1)));
	EXPECT_FALSE(isatty(fd));
}

TEST_P(LkpEnc, IoctlNumbersAreTheHW9Ones)
{
	EXPECT_EQ(LKP_ENC_IOC_WRITE_SEED, 0x40047101u);
	EXPECT_EQ(LKP_ENC_IOC_READ_SEED, 0x80047102u);
	EXPECT_EQ(LKP_ENC_IOC_WRITE_STRING, 0x40087103u);
	EXPECT_EQ(LKP_ENC_IOC_READ_STRING, 0x80087104u);
}

// The mutex makes each string write and read one sequence: a reader never
// sees a mix of two writers' strings.
TEST_P(LkpEnc, ConcurrentWritersNeverMix)
{
	set_seed(1);
	const std::string a(200, 'a'), b = "bbb";
	const std::string ea = caesar(a, 1), eb = caesar(b, 1);
	ioc_write(b); // what a read sees before the writers start
	std::atomic<bool> stop{ false };
	std::atomic<int> failures{ 0 }, writes{ 0 };
	std::vector<std::thread> writers;
	for (const std::string *s : { &a, &b }) {
		writers.emplace_back([&, s] {
			int f = open(path.c_str(), O_WRONLY);
			while (!stop) {
				if (write(f, s->data(), s->size()) != static_cast<ssize_t>(s->size()))
					failures++;
				writes++;
			}
			close(f);
		});
	}
	int mixed = 0, reads = 0, long_ones = 0;
	std::string example;
	// Read until the writers have interleaved for a while.  The bound is
	// time, not a read count: under TCG on a busy host the writer threads
	// may not be scheduled for a long while, and a fast reader would end
	// a count-bounded loop before they ever ran.
	const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
	for (; std::chrono::steady_clock::now() < deadline &&
	       (reads < 300 || writes < 300 || long_ones < 20);
	     reads++) {
		std::string got = ioc_read();
		if (got == ea)
			long_ones++;
		else if (got != eb) {
			mixed++;
			example = got;
		}
	}
	stop = true;
	for (auto &t : writers)
		t.join();
	EXPECT_EQ(failures.load(), 0);
	EXPECT_GE(writes.load(), 300) << "the writers hardly ran";
	EXPECT_GT(long_ones, 0) << "never saw the long string in " << reads << " reads";
	EXPECT_EQ(mixed, 0) << "reads saw a partly written string, e.g. \"" << example << "\"";
}

// Unbinding the PCI device while a file is open: every operation on the
// open file gives -ENODEV, nothing crashes; rebinding brings the node back.
TEST_P(LkpEnc, UnbindWithOpenFileGivesENODEV)
{
	const std::string drv = "/sys/bus/pci/drivers/" + module;
	set_seed(2);
	ioc_write("alive");
	ASSERT_EQ(kmodlab::write_sysfs(drv + "/unbind", bdf), 0);
	EXPECT_FALSE(kmodlab::exists(path)) << "the node must go with the device";
	uint32_t s = 7;
	char buf[LKP_ENC_STRING_SIZE];
	EXPECT_ERRNO(ENODEV, ioctl(fd, LKP_ENC_IOC_WRITE_SEED, &s));
	EXPECT_ERRNO(ENODEV, ioctl(fd, LKP_ENC_IOC_READ_SEED, &s));
	EXPECT_ERRNO(ENODEV, ioctl(fd, LKP_ENC_IOC_WRITE_STRING, "x"));
	EXPECT_ERRNO(ENODEV, ioctl(fd, LKP_ENC_IOC_READ_STRING, buf));
	EXPECT_ERRNO(ENODEV, write(fd, "x", 1));
	EXPECT_ERRNO(ENODEV, pread(fd, buf, sizeof(buf), 0));
	close(fd);
	fd = -1;

	EXPECT_EQ(kmodlab::write_sysfs(drv + "/bind", bdf), 0);
	ASSERT_EQ(driver_of(bdf), module) << "rebinding " << bdf << " failed";
	for (int i = 0; i < 50 && !kmodlab::exists(path); i++)
		usleep(20000); // devtmpfs creates the node asynchronously
	ASSERT_TRUE(kmodlab::exists(path));
	fd = open(path.c_str(), O_RDWR);
	ASSERT_GE(fd, 0) << strerror(errno);
	set_seed(2);
	ioc_write("Hello World");
	EXPECT_EQ(ioc_read(), "Jgnnq Yqtnf");
}

// Whether /proc/iomem lists a region claimed under `name` (pci_request_region*).
bool iomem_claims(const std::string &name)
{
	std::string text = kmodlab::read_text("/proc/iomem");
	std::string needle = " : " + name + "\n";
	return text.find(needle) != std::string::npos;
}

// Unbinding while threads are inside operations on an open file: access to
// the BAR is revoked at unbind (kcxx: its Devres; C: remove() under the
// mutex), not when the last file closes.  Every operation gives success or
// ENODEV, nothing else; once a thread saw ENODEV it never succeeds again;
// after the unbind, with the file still open, the BAR's region is released
// (/proc/iomem) and the device disabled (sysfs enable = 0); the kernel log
// stays clean (vm/run fails the run on an oops or warning).
TEST_P(LkpEnc, UnbindDuringOperationsRevokesTheBar)
{
	const std::string drv = "/sys/bus/pci/drivers/" + module;
	const std::string sysdev = "/sys/bus/pci/devices/" + bdf;
	ASSERT_TRUE(iomem_claims(module)) << "/proc/iomem has no region of " << module;
	ASSERT_EQ(kmodlab::trim(kmodlab::read_text(sysdev + "/enable")), "1");

	std::atomic<bool> stop{ false };
	std::atomic<int> ok_ops{ 0 }, nodev_ops{ 0 }, bad{ 0 }, revived{ 0 };
	std::vector<std::thread> threads;
	auto join = [&] {
		stop = true;
		for (auto &th : threads)
			th.join();
		threads.clear();
	};
	for (int t = 0; t < 3; t++)
		threads.emplace_back([&, t] {
			bool gone = false;
			char buf[LKP_ENC_STRING_SIZE];
			for (unsigned i = 0; !stop; i++) {
				uint32_t s = i;
				long r = t == 0 ? ioctl(fd, LKP_ENC_IOC_READ_SEED, &s) :
				         t == 1 ? ioctl(fd, LKP_ENC_IOC_WRITE_STRING, "revoke me") :
				                  pread(fd, buf, sizeof(buf), 0);
				if (r >= 0) {
					ok_ops++;
					revived += gone;
				} else if (errno == ENODEV) {
					nodev_ops++;
					gone = true;
				} else {
					bad++;
				}
			}
		});
	// wait (at most 20 s each) for operations before and after the unbind
	auto wait_for = [](const std::atomic<int> &n, int target) {
		for (int i = 0; i < 20000 && n < target; i++)
			usleep(1000);
		return n >= target;
	};
	bool ran = wait_for(ok_ops, 50);
	int unbind_err = ran ? kmodlab::write_sysfs(drv + "/unbind", bdf) : -1;
	bool ran_after = unbind_err == 0 && wait_for(nodev_ops, nodev_ops + 30);
	bool claimed = iomem_claims(module);
	std::string enabled = kmodlab::trim(kmodlab::read_text(sysdev + "/enable"));
	join();
	ASSERT_TRUE(ran) << "the operations did not run before the unbind (" << ok_ops << " ok)";
	ASSERT_EQ(unbind_err, 0) << "unbind failed";
	EXPECT_TRUE(ran_after) << "the operations did not run on after the unbind";
	EXPECT_FALSE(claimed) << "BAR0 is still claimed with the file open";
	EXPECT_EQ(enabled, "0") << "the device is still enabled with the file open";
	EXPECT_EQ(bad.load(), 0) << "operations failed with an errno other than ENODEV";
	EXPECT_EQ(revived.load(), 0) << "an operation succeeded after ENODEV";
	uint32_t s = 1;
	EXPECT_ERRNO(ENODEV, ioctl(fd, LKP_ENC_IOC_READ_SEED, &s));
	close(fd);
	fd = -1;

	ASSERT_EQ(kmodlab::write_sysfs(drv + "/bind", bdf), 0);
	ASSERT_EQ(driver_of(bdf), module) << "rebinding " << bdf << " failed";
	EXPECT_TRUE(iomem_claims(module));
	for (int i = 0; i < 50 && !kmodlab::exists(path); i++)
		usleep(20000); // devtmpfs creates the node asynchronously
	fd = open(path.c_str(), O_RDWR);
	ASSERT_GE(fd, 0) << strerror(errno);
	set_seed(2);
	ioc_write("Hello World");
	EXPECT_EQ(ioc_read(), "Jgnnq Yqtnf");
}

// One device per driver: binding the other lkp_enc device to this driver is
// refused (probe returns -EBUSY); the other device is given back after.
TEST_P(LkpEnc, SecondDeviceIsRefused)
{
	std::string other;
	for (auto &d : lkp_enc_devices())
		if (d != bdf)
			other = d;
	ASSERT_FALSE(other.empty()) << "needs a second lkp_enc device";
	const std::string dev = "/sys/bus/pci/devices/" + other;
	std::string old_driver = driver_of(other);
	std::string old_override = kmodlab::trim(kmodlab::read_text(dev + "/driver_override"));
	if (old_override == "(null)")
		old_override = "";
	if (!old_driver.empty()) {
		ASSERT_EQ(kmodlab::write_sysfs(dev + "/driver/unbind", other), 0);
	}
	ASSERT_EQ(kmodlab::write_sysfs(dev + "/driver_override", module), 0);
	int err = kmodlab::write_sysfs("/sys/bus/pci/drivers/" + module + "/bind", other);
	std::string bound = driver_of(other);

	// Give the device back before judging.
	kmodlab::write_sysfs(dev + "/driver_override", old_override.empty() ? "\n" : old_override);
	if (bound == module)
		kmodlab::write_sysfs("/sys/bus/pci/drivers/" + module + "/unbind", other);
	if (!old_driver.empty()) {
		EXPECT_EQ(kmodlab::write_sysfs("/sys/bus/pci/drivers/" + old_driver + "/bind", other), 0);
	}

	EXPECT_NE(bound, module) << "a second device was bound to " << module;
	EXPECT_EQ(err, EBUSY) << "binding a second device must fail with EBUSY, got "
			      << kmodlab::err_name(err);
	EXPECT_EQ(driver_of(other), old_driver) << other << " was not given back";
	EXPECT_EQ(driver_of(bdf), module);
	set_seed(2);
	ioc_write("Hello World");
	EXPECT_EQ(ioc_read(), "Jgnnq Yqtnf") << "our device still works";
}

INSTANTIATE_TEST_SUITE_P(Variants, LkpEnc, testing::ValuesIn(kmodlab::variants()),
			 kmodlab::VariantName());

} // namespace
