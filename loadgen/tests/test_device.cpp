// Device classification from node names and the per-device operation tables.
#include <gtest/gtest.h>

#include "device.hpp"

extern "C" {
#include "counter.h"
#include "kmodlab_dev.h"
#include "scull.h"
}

using namespace kmodlab;

TEST(Device, ClassifiesKmodlabNodes)
{
	auto d = classify_device("/dev/scull-c0");
	EXPECT_EQ(d.kind, DeviceKind::scull);
	EXPECT_EQ(d.variant, "c");
	EXPECT_EQ(d.minor_index, 0);
	EXPECT_EQ(d.module, "scull_c");
	d = classify_device("/dev/scull-cxx3");
	EXPECT_EQ(d.kind, DeviceKind::scull);
	EXPECT_EQ(d.variant, "cxx");
	EXPECT_EQ(d.module, "scull_cxx");
	d = classify_device("/dev/counter-cxx");
	EXPECT_EQ(d.kind, DeviceKind::counter);
	EXPECT_EQ(d.module, "counter_cxx");
	d = classify_device("/dev/lkp_enc-c");
	EXPECT_EQ(d.kind, DeviceKind::lkp_enc);
	EXPECT_EQ(d.base, "lkp_enc");
	EXPECT_EQ(d.module, "lkp_enc_c");
}

TEST(Device, EverythingElseIsGeneric)
{
	for (const char *p : {"/dev/null", "/dev/zero", "/tmp/scull-c0.txt", "/dev/scull-rust0", "/dev/counter-c1",
			      "/dev/foo-c", "scull", "/dev/scull-", "/dev/scull-c"})
		EXPECT_EQ(classify_device(p).kind, DeviceKind::generic) << p;
}

TEST(Device, EveryUapiDriverClassifies)
{
	// Every driver and variant of uapi/kmodlab_dev.h, through the rule both
	// ways: a driver added there and not here fails.
	size_t n = 0;
	const kmodlab_driver *drivers = kmodlab_drivers(&n);
	for (size_t i = 0; i < n; i++) {
		for (int v = 0; v < KMODLAB_NR_VARIANTS; v++) {
			const char *variant = kmodlab_variants()[v];
			const std::string path = node_path(drivers[i].name, variant, drivers[i].numbered ? 2 : -1);
			const DeviceInfo d = classify_device(path);
			EXPECT_NE(d.kind, DeviceKind::generic) << path;
			EXPECT_EQ(d.base, drivers[i].name);
			EXPECT_STREQ(kind_name(d.kind), drivers[i].name);
			EXPECT_EQ(d.variant, variant);
			EXPECT_EQ(d.minor_index, drivers[i].numbered ? 2 : -1);
			EXPECT_EQ(d.module, module_name(drivers[i].name, variant));
		}
	}
	EXPECT_THROW(node_path(SCULL_NAME, "c", -1), std::invalid_argument);
	EXPECT_THROW(node_path(COUNTER_NAME, "c", 0), std::invalid_argument);
	EXPECT_THROW(module_name("foo", "c"), std::invalid_argument);
}

TEST(Device, OpsPerKind)
{
	OpSpec op;
	std::string err;
	EXPECT_TRUE(lookup_op(DeviceKind::scull, "pread", &op, &err));
	EXPECT_EQ(op.kind, OpKind::pread);
	ASSERT_TRUE(lookup_op(DeviceKind::scull, "ioctl:SCULL_IOCQQUANTUM", &op, &err)) << err;
	EXPECT_EQ(op.kind, OpKind::ioctl);
	EXPECT_EQ(op.ioctl->cmd, static_cast<unsigned long>(SCULL_IOCQQUANTUM));
	ASSERT_TRUE(lookup_op(DeviceKind::counter, "ioctl:COUNTER_IOC_GET", &op, &err)) << err;
	EXPECT_EQ(op.ioctl->cmd, static_cast<unsigned long>(COUNTER_IOC_GET));
	EXPECT_TRUE(lookup_op(DeviceKind::counter, "incr", &op, &err));
	EXPECT_TRUE(lookup_op(DeviceKind::lkp_enc, "encrypt", &op, &err));
	EXPECT_TRUE(lookup_op(DeviceKind::lkp_enc, "ioctl:LKP_ENC_IOC_READ_SEED", &op, &err));

	// An op of another device: a clear error listing the valid ones.
	EXPECT_FALSE(lookup_op(DeviceKind::counter, "ioctl:SCULL_IOCQQUANTUM", &op, &err));
	EXPECT_NE(err.find("unknown operation 'ioctl:SCULL_IOCQQUANTUM' for a counter device"), std::string::npos);
	EXPECT_NE(err.find("incr"), std::string::npos);
	EXPECT_NE(err.find("ioctl:COUNTER_IOC_RESET"), std::string::npos);
	EXPECT_FALSE(lookup_op(DeviceKind::lkp_enc, "read", &op, &err));
	EXPECT_FALSE(lookup_op(DeviceKind::generic, "encrypt", &op, &err));
	EXPECT_FALSE(lookup_op(DeviceKind::scull, "ioctl:", &op, &err));
	// scullpipe: the paired workloads only (a lone read or write blocks)
	EXPECT_TRUE(lookup_op(DeviceKind::scullpipe, "pipe", &op, &err));
	EXPECT_EQ(op.kind, OpKind::pipe);
	EXPECT_TRUE(lookup_op(DeviceKind::scullpipe, "pingpong", &op, &err));
	EXPECT_EQ(op.kind, OpKind::pingpong);
	EXPECT_TRUE(op_uses_size(op));
	EXPECT_FALSE(lookup_op(DeviceKind::scullpipe, "read", &op, &err));
	EXPECT_FALSE(lookup_op(DeviceKind::scull, "pipe", &op, &err));
}

TEST(Device, EveryUapiIoctlIsReachable)
{
	// 13 scull + 3 counter + 4 lkp_enc ioctls, all distinct numbers per kind.
	size_t n[4] = {};
	for (const auto &io : all_ioctls()) {
		n[static_cast<int>(io.kind)]++;
		OpSpec op;
		std::string err;
		EXPECT_TRUE(lookup_op(io.kind, std::string("ioctl:") + io.name, &op, &err)) << err;
	}
	EXPECT_EQ(n[static_cast<int>(DeviceKind::scull)], static_cast<size_t>(SCULL_IOC_MAXNR + 1));
	EXPECT_EQ(n[static_cast<int>(DeviceKind::counter)], static_cast<size_t>(COUNTER_IOC_MAXNR + 1));
	EXPECT_EQ(n[static_cast<int>(DeviceKind::lkp_enc)], 4u);
}

TEST(Device, CaesarReference)
{
	EXPECT_EQ(caesar("abc XYZ 123!", 1), "bcd YZA 123!");
	EXPECT_EQ(caesar("Hello", 26), "Hello");
	EXPECT_EQ(caesar("Hello", 27), "Ifmmp");
	// Large seeds reduce modulo 26 first (4294967295 % 26 == 21), with
	// no overflow of c - 'a' + seed.
	EXPECT_EQ(caesar("xyz", 4294967295u), "stu");
}
