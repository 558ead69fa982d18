// vtable_test.cpp - kcxx's compile-time file_operations table on the host:
// only the operations a driver implements are filled, each slot points
// straight at the generated extern "C" entry point (or at the kernel
// function the driver named), and calls through the table reach the driver.
#include <gtest/gtest.h>

#include "host_fops.h"

namespace {

int owner_object;
int last_cmd;

kcxx::loff_t generic_llseek(file *, kcxx::loff_t off, int) { return off + 1000; }
int generic_fsync(file *, kcxx::loff_t, kcxx::loff_t, int) { return 0; }

struct ReadOnly {
	static kcxx::ssize_t read(file *, char *buf, kcxx::usize n, kcxx::loff_t *pos)
	{
		for (kcxx::usize i = 0; i < n; i++)
			buf[i] = 'a' + i;
		*pos += n;
		return n;
	}
};

struct Full {
	static constexpr auto kernel_llseek = &generic_llseek;
	static constexpr auto kernel_fsync = &generic_fsync;
	static kcxx::ssize_t read(file *, char *, kcxx::usize, kcxx::loff_t *) { return 1; }
	static kcxx::ssize_t write(file *, const char *, kcxx::usize n, kcxx::loff_t *) { return n; }
	static long ioctl(file *, unsigned cmd, unsigned long arg)
	{
		last_cmd = cmd;
		return arg * 2;
	}
	static int open(inode *, file *) { return -13; }
	static int release(inode *, file *) { return 0; }
};

struct Nothing {};

struct Syncs {
	static int fsync(file *, kcxx::loff_t start, kcxx::loff_t end, int datasync)
	{
		return start == 1 && end == 2 && datasync ? 0 : -22;
	}
};

} // namespace

KCXX_FILE_OPERATIONS(ReadOnly, unit_ro, , read)
KCXX_FILE_OPERATIONS(Full, unit_full, _v1, read, write, unlocked_ioctl, open, release)
KCXX_FILE_OPERATIONS(Syncs, unit_sync, , fsync)

namespace {
template <class T>
constexpr host::file_operations table = kcxx::fs::make_vtable<host::file_operations, T, &owner_object>;
} // namespace

// The table is a constant: built by the compiler, nothing runs at load.
static_assert(table<ReadOnly>.read == &unit_ro_read);
static_assert(table<ReadOnly>.write == nullptr && table<ReadOnly>.open == nullptr);
static_assert(table<Full>.llseek == &generic_llseek);
static_assert(kcxx::fs::implemented_count<Nothing>() == 0);

TEST(VTable, FillsOnlyTheImplementedOperations)
{
	const host::file_operations &t = table<ReadOnly>;
	EXPECT_EQ(t.owner, &owner_object);
	EXPECT_EQ(t.read, &unit_ro_read);
	EXPECT_EQ(t.llseek, nullptr);
	EXPECT_EQ(t.write, nullptr);
	EXPECT_EQ(t.unlocked_ioctl, nullptr);
	EXPECT_EQ(t.compat_ioctl, nullptr);
	EXPECT_EQ(t.open, nullptr);
	EXPECT_EQ(t.release, nullptr);
	EXPECT_EQ(kcxx::fs::implemented_count<ReadOnly>(), 1);
}

TEST(VTable, EntryPointsHaveTheirCNames)
{
	const host::file_operations &t = table<Full>;
	EXPECT_EQ(t.read, &unit_full_read_v1);
	EXPECT_EQ(t.write, &unit_full_write_v1);
	EXPECT_EQ(t.unlocked_ioctl, &unit_full_unlocked_ioctl_v1);
	EXPECT_EQ(t.open, &unit_full_open_v1);
	EXPECT_EQ(t.release, &unit_full_release_v1);
	EXPECT_EQ(t.compat_ioctl, nullptr);
	EXPECT_EQ(kcxx::fs::implemented_count<Full>(), 5);
}

TEST(VTable, KernelFunctionsGoStraightIntoTheirSlot)
{
	EXPECT_EQ(table<Full>.llseek, &generic_llseek);
	EXPECT_EQ(table<Full>.fsync, &generic_fsync);
	EXPECT_EQ(kcxx::fs::implemented_count<Full>(), 5) << "kernel_ slots are not driver operations";
	EXPECT_EQ(table<Full>.llseek(nullptr, 5, 0), 1005);
}

TEST(VTable, CallsThroughTheTableReachTheDriver)
{
	char buf[4] = {};
	kcxx::loff_t pos = 10;
	EXPECT_EQ(table<ReadOnly>.read(nullptr, buf, 3, &pos), 3);
	EXPECT_STREQ(buf, "abc");
	EXPECT_EQ(pos, 13);
	EXPECT_EQ(table<Full>.unlocked_ioctl(nullptr, 0x1234, 21), 42);
	EXPECT_EQ(last_cmd, 0x1234);
	EXPECT_EQ(table<Full>.open(nullptr, nullptr), -13);
	EXPECT_EQ(table<Full>.write(nullptr, "xy", 2, &pos), 2);
}

TEST(VTable, DriverFsyncGetsItsEntryPoint)
{
	EXPECT_EQ(table<Syncs>.fsync, &unit_sync_fsync);
	EXPECT_EQ(table<Syncs>.fsync(nullptr, 1, 2, 1), 0);
	EXPECT_EQ(table<Syncs>.fsync(nullptr, 1, 2, 0), -22);
	EXPECT_EQ(table<Syncs>.read, nullptr);
}
