// lkp_enc_mmio_test - tests the emulated lkp_enc PCI device itself, with no
// driver in between: maps BAR0 through /sys/bus/pci/devices/<bdf>/resource0
// and checks the register map of kmod/include/uapi/lkp_enc.h byte by byte.
//
// Runs as root inside the guest (tests/guest/suites/10-lkp-enc-device), once
// per lkp_enc device found (vendor/device from the uapi header).  Set
// LKP_ENC_BDF=0000:00:04.0 to test one device only.  Each test saves the
// device's seed and buffer first and restores them afterwards, so a driver
// bound to the device finds its state as it left it.
//
// Independent of the device model on purpose: the expected cipher text comes
// from an alphabet table here, not from the model's arithmetic.
#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "kmodlab/caesar.hpp"

#include "lkp_enc.h"

namespace {

const std::string kSysPci = "/sys/bus/pci/devices/";

// First line of a sysfs attribute, "" if unreadable.
std::string ReadAttr(const std::string &bdf, const std::string &attr)
{
	std::ifstream f(kSysPci + bdf + "/" + attr);
	std::string line;
	std::getline(f, line);
	return line;
}

unsigned long ReadHexAttr(const std::string &bdf, const std::string &attr)
{
	std::string s = ReadAttr(bdf, attr);
	return s.empty() ? ~0UL : std::strtoul(s.c_str(), nullptr, 16);
}

// Every PCI device with the lkp_enc vendor/device IDs, sorted by address.
std::vector<std::string> FindDevices()
{
	std::vector<std::string> found;
	if (const char *only = std::getenv("LKP_ENC_BDF"); only && *only) {
		found.push_back(only);
		return found;
	}
	DIR *d = opendir(kSysPci.c_str());
	if (!d)
		return found;
	while (struct dirent *e = readdir(d)) {
		std::string bdf = e->d_name;
		if (bdf[0] == '.')
			continue;
		if (ReadHexAttr(bdf, "vendor") == LKP_ENC_PCI_VENDOR &&
		    ReadHexAttr(bdf, "device") == LKP_ENC_PCI_DEVICE)
			found.push_back(bdf);
	}
	closedir(d);
	std::sort(found.begin(), found.end());
	return found;
}

class LkpEncDevice : public ::testing::TestWithParam<std::string> {
protected:
	void SetUp() override
	{
		bdf_ = GetParam();
		path_ = kSysPci + bdf_ + "/resource0";
		fd_ = open(path_.c_str(), O_RDWR | O_SYNC);
		ASSERT_GE(fd_, 0) << "open " << path_ << ": " << std::strerror(errno)
				  << " (run as root, in the guest)";
		void *p = mmap(nullptr, LKP_ENC_BAR_SIZE, PROT_READ | PROT_WRITE,
			       MAP_SHARED, fd_, 0);
		if (p == MAP_FAILED) {
			int err = errno;
			char drv[256] = "";
			ssize_t n = readlink((kSysPci + bdf_ + "/driver").c_str(), drv, sizeof(drv) - 1);
			FAIL() << "mmap " << path_ << ": " << std::strerror(err)
			       << (n > 0 ? " (driver " + std::string(std::strrchr(drv, '/') ? std::strrchr(drv, '/') + 1 : drv)
						 + " holds the BAR; with CONFIG_IO_STRICT_DEVMEM unbind it first)"
					 : std::string());
		}
		bar_ = static_cast<volatile uint8_t *>(p);
		saved_seed_ = Seed();
		for (unsigned i = 0; i < LKP_ENC_STRING_SIZE; i++)
			saved_buf_[i] = Get(i);
		saved_ = true;
	}

	void TearDown() override
	{
		if (saved_) {
			// Seed 0 stores bytes unchanged: put the old buffer back
			// verbatim, then the old seed.
			SetSeed(0);
			for (unsigned i = 0; i < LKP_ENC_STRING_SIZE; i++)
				Put(i, saved_buf_[i]);
			SetSeed(saved_seed_);
		}
		if (bar_)
			munmap(const_cast<uint8_t *>(bar_), LKP_ENC_BAR_SIZE);
		if (fd_ >= 0)
			close(fd_);
	}

	// Raw accesses of a given width at a BAR offset.
	uint8_t R8(unsigned off) { return bar_[off]; }
	uint16_t R16(unsigned off) { return *reinterpret_cast<volatile uint16_t *>(bar_ + off); }
	uint32_t R32(unsigned off) { return *reinterpret_cast<volatile uint32_t *>(bar_ + off); }
	void W8(unsigned off, uint8_t v) { bar_[off] = v; }
	void W16(unsigned off, uint16_t v) { *reinterpret_cast<volatile uint16_t *>(bar_ + off) = v; }
	void W32(unsigned off, uint32_t v) { *reinterpret_cast<volatile uint32_t *>(bar_ + off) = v; }

	uint32_t Seed() { return R32(LKP_ENC_REG_SEED); }
	void SetSeed(uint32_t s) { W32(LKP_ENC_REG_SEED, s); }
	// Buffer position i (0..255).
	uint8_t Get(unsigned i) { return R8(LKP_ENC_REG_STRING + i); }
	void Put(unsigned i, uint8_t c) { W8(LKP_ENC_REG_STRING + i, c); }

	std::string Encode(const std::string &s)
	{
		for (unsigned i = 0; i < s.size(); i++)
			Put(i, static_cast<uint8_t>(s[i]));
		std::string out;
		for (unsigned i = 0; i < s.size(); i++)
			out.push_back(static_cast<char>(Get(i)));
		return out;
	}

	std::string bdf_, path_;
	int fd_ = -1;
	volatile uint8_t *bar_ = nullptr;
	bool saved_ = false;
	uint32_t saved_seed_ = 0;
	uint8_t saved_buf_[LKP_ENC_STRING_SIZE] = {};
};

// The two -device lkp_enc of vm/run, or at least one when run elsewhere.
TEST(LkpEncPresence, DeviceFound)
{
	std::vector<std::string> devs = FindDevices();
	ASSERT_FALSE(devs.empty())
		<< "no PCI device " << std::hex << LKP_ENC_PCI_VENDOR << ":" << LKP_ENC_PCI_DEVICE
		<< " in " << kSysPci << " (is QEMU ours, started with -device lkp_enc?)";
	for (const auto &d : devs)
		RecordProperty("device", d);
}

TEST_P(LkpEncDevice, PciIdentity)
{
	EXPECT_EQ(ReadHexAttr(bdf_, "vendor"), (unsigned long)LKP_ENC_PCI_VENDOR);
	EXPECT_EQ(ReadHexAttr(bdf_, "device"), (unsigned long)LKP_ENC_PCI_DEVICE);
	EXPECT_EQ(ReadHexAttr(bdf_, "revision"), (unsigned long)LKP_ENC_PCI_REVISION);
	// sysfs "class" is the 24-bit class code: class/subclass, then prog-if 0.
	EXPECT_EQ(ReadHexAttr(bdf_, "class"), (unsigned long)LKP_ENC_PCI_CLASS << 8);
}

TEST_P(LkpEncDevice, Bar0IsOne4KiBMemoryRegion)
{
	struct stat st;
	ASSERT_EQ(fstat(fd_, &st), 0);
	EXPECT_EQ(st.st_size, LKP_ENC_BAR_SIZE);
	// Line 0 of "resource": start end flags; flags bit 0x200 = IORESOURCE_MEM.
	std::string line = ReadAttr(bdf_, "resource");
	unsigned long long start = 0, end = 0, flags = 0;
	ASSERT_EQ(std::sscanf(line.c_str(), "%llx %llx %llx", &start, &end, &flags), 3) << line;
	EXPECT_EQ(end - start + 1, (unsigned long long)LKP_ENC_BAR_SIZE);
	EXPECT_TRUE(flags & 0x200) << "BAR0 is not a memory BAR: " << line;
	EXPECT_FALSE(std::ifstream(kSysPci + bdf_ + "/resource1").good()) << "unexpected BAR1";
}

TEST_P(LkpEncDevice, SeedReadWrite32)
{
	for (uint32_t v : {0u, 1u, 25u, 26u, 0xdeadbeefu, 0xffffffffu, 0x80000001u}) {
		W32(LKP_ENC_REG_SEED, v);
		EXPECT_EQ(R32(LKP_ENC_REG_SEED), v);
	}
}

TEST_P(LkpEncDevice, SeedByteAndHalfwordReads)
{
	W32(LKP_ENC_REG_SEED, 0x11223344u);
	// Little endian: byte 0 is the least significant.
	EXPECT_EQ(R8(0), 0x44);
	EXPECT_EQ(R8(1), 0x33);
	EXPECT_EQ(R8(2), 0x22);
	EXPECT_EQ(R8(3), 0x11);
	EXPECT_EQ(R16(0), 0x3344);
	EXPECT_EQ(R16(2), 0x1122);
}

TEST_P(LkpEncDevice, SeedPartialWritesChangeOnlyTheirBytes)
{
	W32(LKP_ENC_REG_SEED, 0xa1b2c3d4u);
	W8(1, 0x55);
	EXPECT_EQ(R32(0), 0xa1b255d4u);
	W8(3, 0x00);
	EXPECT_EQ(R32(0), 0x00b255d4u);
	W16(2, 0xbeef);
	EXPECT_EQ(R32(0), 0xbeef55d4u);
	W16(0, 0x0102);
	EXPECT_EQ(R32(0), 0xbeef0102u);
	W8(0, 0xff);
	EXPECT_EQ(R32(0), 0xbeef01ffu);
}

// Every letter of both cases, at seeds that hit the edges of "% 26".
TEST_P(LkpEncDevice, CaesarShiftOfLetters)
{
	const std::string letters =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	for (uint32_t seed : {0u, 1u, 2u, 3u, 13u, 25u, 26u, 27u, 51u, 52u, 1000u, 123456789u,
			      0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu}) {
		SetSeed(seed);
		ASSERT_EQ(Seed(), seed);
		std::string want;
		for (char c : letters)
			want.push_back(kmodlab::caesar_char(c, seed));
		EXPECT_EQ(Encode(letters), want) << "seed " << seed << " (mod 26 = " << seed % 26 << ")";
	}
}

TEST_P(LkpEncDevice, SeedZeroAndMultiplesOf26AreIdentity)
{
	const std::string s = "The Quick Brown Fox Jumps Over The Lazy Dog";
	for (uint32_t seed : {0u, 26u, 52u, 26u * 1000u, 26u * 165191049u /* 4294967274 */}) {
		SetSeed(seed);
		EXPECT_EQ(Encode(s), s) << "seed " << seed;
	}
}

TEST_P(LkpEncDevice, NonLettersUnchanged)
{
	SetSeed(7);
	// All 256 byte values, one per buffer position (the buffer is 256 long).
	for (unsigned i = 0; i < LKP_ENC_STRING_SIZE; i++)
		Put(i, static_cast<uint8_t>(i));
	for (unsigned i = 0; i < LKP_ENC_STRING_SIZE; i++) {
		bool letter = (i >= 'A' && i <= 'Z') || (i >= 'a' && i <= 'z');
		uint8_t want = letter ? static_cast<uint8_t>(kmodlab::caesar_char(static_cast<char>(i), 7)) : static_cast<uint8_t>(i);
		EXPECT_EQ(Get(i), want) << "byte value " << i;
	}
}

TEST_P(LkpEncDevice, HelloWorldSeed2)
{
	SetSeed(2);
	EXPECT_EQ(Encode("Hello World"), "Jgnnq Yqtnf");
}

// The buffer stores encoded bytes: a later seed change re-encodes nothing,
// and reading is not destructive.
TEST_P(LkpEncDevice, StoredBytesSurviveSeedChangeAndReads)
{
	SetSeed(1);
	Put(0, 'a');
	Put(1, 'Z');
	SetSeed(5);
	for (int n = 0; n < 3; n++) {
		EXPECT_EQ(Get(0), 'b');
		EXPECT_EQ(Get(1), 'A');
	}
	EXPECT_EQ(Seed(), 5u);
}

// Exactly 256 independent cells at 0x4..0x103: no aliasing, last cell works,
// the byte after it is not part of the buffer.
TEST_P(LkpEncDevice, StringBufferIsExactly256Bytes)
{
	SetSeed(0);
	auto pattern = [](unsigned i) { return static_cast<uint8_t>(i * 7 + 3); };
	for (unsigned i = 0; i < LKP_ENC_STRING_SIZE; i++)
		Put(i, pattern(i));
	for (unsigned i = 0; i < LKP_ENC_STRING_SIZE; i++)
		ASSERT_EQ(Get(i), pattern(i)) << "buffer position " << i;
	const unsigned after = LKP_ENC_REG_STRING + LKP_ENC_STRING_SIZE;
	EXPECT_EQ(after, 0x104u);
	W8(after, 0x5a);
	EXPECT_EQ(R8(after), 0);
	EXPECT_EQ(Get(LKP_ENC_STRING_SIZE - 1), pattern(LKP_ENC_STRING_SIZE - 1));
	EXPECT_EQ(Get(0), pattern(0));
	EXPECT_EQ(Seed(), 0u) << "a write past the buffer reached the seed";
}

// 0x104..0xfff: reads 0, writes of any width vanish and touch nothing else.
TEST_P(LkpEncDevice, OutOfRangeReadsZeroIgnoresWrites)
{
	const unsigned first = LKP_ENC_REG_STRING + LKP_ENC_STRING_SIZE;
	SetSeed(0);
	for (unsigned i = 0; i < LKP_ENC_STRING_SIZE; i++)
		Put(i, static_cast<uint8_t>(0xa5 ^ i));
	SetSeed(0x12345678u);

	for (unsigned off = first; off < LKP_ENC_BAR_SIZE; off++)
		W8(off, 0xff);
	for (unsigned off = (first + 1) & ~1u; off + 2 <= LKP_ENC_BAR_SIZE; off += 2)
		W16(off, 0xffff);
	for (unsigned off = (first + 3) & ~3u; off + 4 <= LKP_ENC_BAR_SIZE; off += 4)
		W32(off, 0xffffffffu);

	unsigned nonzero = 0;
	for (unsigned off = first; off < LKP_ENC_BAR_SIZE; off++)
		if (R8(off) != 0 && nonzero++ < 5)
			ADD_FAILURE() << "offset 0x" << std::hex << off << " reads 0x" << +R8(off);
	EXPECT_EQ(nonzero, 0u) << "out-of-range bytes that did not read 0";
	for (unsigned off = (first + 3) & ~3u; off + 4 <= LKP_ENC_BAR_SIZE; off += 4)
		ASSERT_EQ(R32(off), 0u) << "32-bit read at 0x" << std::hex << off;
	EXPECT_EQ(R16(LKP_ENC_BAR_SIZE - 2), 0);

	EXPECT_EQ(Seed(), 0x12345678u) << "an out-of-range write changed the seed";
	for (unsigned i = 0; i < LKP_ENC_STRING_SIZE; i++)
		ASSERT_EQ(Get(i), static_cast<uint8_t>(0xa5 ^ i)) << "buffer position " << i;
}

// Writes to one device must not show on another (two -device lkp_enc).
TEST_P(LkpEncDevice, DevicesAreIndependent)
{
	std::vector<std::string> devs = FindDevices();
	// vm/run always starts two (-device lkp_enc twice): fewer is a fault,
	// not a reason to skip the one test of their independence.
	ASSERT_GE(devs.size(), 2u) << "found " << devs.size() << " lkp_enc devices; vm/run starts two";
	for (const auto &other : devs) {
		if (other == bdf_)
			continue;
		std::string p = kSysPci + other + "/resource0";
		int fd = open(p.c_str(), O_RDWR | O_SYNC);
		ASSERT_GE(fd, 0) << p << ": " << std::strerror(errno);
		void *m = mmap(nullptr, LKP_ENC_BAR_SIZE, PROT_READ, MAP_SHARED, fd, 0);
		ASSERT_NE(m, MAP_FAILED) << p << ": " << std::strerror(errno);
		auto *o = static_cast<volatile uint8_t *>(m);
		const uint32_t other_seed = *reinterpret_cast<volatile uint32_t *>(o);
		const uint8_t other_first = o[LKP_ENC_REG_STRING];
		SetSeed(other_seed ^ 0x5a5a5a5au);
		Put(0, static_cast<uint8_t>(other_first ^ 0x20));
		EXPECT_EQ(*reinterpret_cast<volatile uint32_t *>(o), other_seed) << other;
		EXPECT_EQ(o[LKP_ENC_REG_STRING], other_first) << other;
		munmap(m, LKP_ENC_BAR_SIZE);
		close(fd);
	}
}

INSTANTIATE_TEST_SUITE_P(Guest, LkpEncDevice, ::testing::ValuesIn(FindDevices()),
			 [](const ::testing::TestParamInfo<std::string> &info) {
				 std::string n = info.param;
				 for (char &c : n)
					 if (!std::isalnum(static_cast<unsigned char>(c)))
						 c = '_';
				 return n;
			 });
// No devices: LkpEncPresence.DeviceFound fails and says why.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(LkpEncDevice);

}  // namespace
