// ioctl_test.cpp - kcxx's constexpr ioctl encoders against the uapi macros
// (kmod/include/uapi) and the HW9 numbers of the lkp_enc assignment.
#include <gtest/gtest.h>

#include <kcxx/ioctl.h>

extern "C" {
#include <uapi/counter.h>
#include <uapi/lkp_enc.h>
#include <uapi/scull.h>
}

using namespace kcxx;
namespace io = kcxx::ioctl;

// Compile time: the encoders give the uapi macros' values exactly.
static_assert(io::io(SCULL_IOC_MAGIC, 0) == SCULL_IOCRESET);
static_assert(io::iow<int>(SCULL_IOC_MAGIC, 1) == SCULL_IOCSQUANTUM);
static_assert(io::iow<int>(SCULL_IOC_MAGIC, 2) == SCULL_IOCSQSET);
static_assert(io::io(SCULL_IOC_MAGIC, 3) == SCULL_IOCTQUANTUM);
static_assert(io::io(SCULL_IOC_MAGIC, 4) == SCULL_IOCTQSET);
static_assert(io::ior<int>(SCULL_IOC_MAGIC, 5) == SCULL_IOCGQUANTUM);
static_assert(io::ior<int>(SCULL_IOC_MAGIC, 6) == SCULL_IOCGQSET);
static_assert(io::io(SCULL_IOC_MAGIC, 7) == SCULL_IOCQQUANTUM);
static_assert(io::io(SCULL_IOC_MAGIC, 8) == SCULL_IOCQQSET);
static_assert(io::iowr<int>(SCULL_IOC_MAGIC, 9) == SCULL_IOCXQUANTUM);
static_assert(io::iowr<int>(SCULL_IOC_MAGIC, 10) == SCULL_IOCXQSET);
static_assert(io::io(SCULL_IOC_MAGIC, 11) == SCULL_IOCHQUANTUM);
static_assert(io::io(SCULL_IOC_MAGIC, 12) == SCULL_IOCHQSET);
static_assert(io::nr(SCULL_IOCHQSET) == SCULL_IOC_MAXNR);

static_assert(io::io(COUNTER_IOC_MAGIC, 0) == COUNTER_IOC_RESET);
static_assert(io::ior<__s64>(COUNTER_IOC_MAGIC, 1) == COUNTER_IOC_GET);
static_assert(io::iow<__s64>(COUNTER_IOC_MAGIC, 2) == COUNTER_IOC_SET);

static_assert(io::iow<__u32>(LKP_ENC_IOC_MAGIC, 1) == LKP_ENC_IOC_WRITE_SEED);
static_assert(io::ior<__u32>(LKP_ENC_IOC_MAGIC, 2) == LKP_ENC_IOC_READ_SEED);
static_assert(io::iow<__u64>(LKP_ENC_IOC_MAGIC, 3) == LKP_ENC_IOC_WRITE_STRING);
static_assert(io::ior<__u64>(LKP_ENC_IOC_MAGIC, 4) == LKP_ENC_IOC_READ_STRING);

// The HW9 assignment's numbers, as published: these literals are the point
// of the test (an ABI the original user-space programs were compiled against).
static_assert(LKP_ENC_IOC_WRITE_SEED == 0x40047101);
static_assert(LKP_ENC_IOC_READ_SEED == 0x80047102);
static_assert(LKP_ENC_IOC_WRITE_STRING == 0x40087103);
static_assert(LKP_ENC_IOC_READ_STRING == 0x80087104);
static_assert(io::iow<__u32>('q', 1) == 0x40047101);

TEST(Ioctl, DecodersInvertTheEncoders)
{
	for (u32 type : {u32('k'), u32('q'), u32('C'), 0u, 255u})
		for (u32 nr : {0u, 1u, 12u, 255u}) {
			u32 cmd = io::iowr<__u64>(type, nr);
			EXPECT_EQ(io::type(cmd), type);
			EXPECT_EQ(io::nr(cmd), nr);
			EXPECT_EQ(io::size(cmd), sizeof(__u64));
			EXPECT_EQ(io::dir(cmd), io::dir_read | io::dir_write);
			EXPECT_EQ(io::dir(io::io(type, nr)), io::dir_none);
			EXPECT_EQ(io::size(io::io(type, nr)), 0u);
		}
}

TEST(Ioctl, EncodersMatchTheCMacrosAtRunTime)
{
	// the same comparisons as the static_asserts, reported per command
	EXPECT_EQ(io::iowr<int>(SCULL_IOC_MAGIC, 9), (u32)SCULL_IOCXQUANTUM);
	EXPECT_EQ(io::ior<__s64>(COUNTER_IOC_MAGIC, 1), (u32)COUNTER_IOC_GET);
	EXPECT_EQ(io::ior<__u64>(LKP_ENC_IOC_MAGIC, 4), (u32)LKP_ENC_IOC_READ_STRING);
	EXPECT_EQ(io::dir(LKP_ENC_IOC_READ_SEED), io::dir_read);
	EXPECT_EQ(io::dir(LKP_ENC_IOC_WRITE_SEED), io::dir_write);
	EXPECT_EQ(io::type(SCULL_IOCRESET), (u32)SCULL_IOC_MAGIC);
}
