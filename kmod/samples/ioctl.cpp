// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl.cpp - a misc device with ioctls (Rust-for-Linux: the ioctl half of
 * the MiscDevice trait, kernel::ioctl::{_IO,_IOR,_IOW}).
 *
 * /dev/sample-ioctl (mode 0600) holds one int behind a Mutex.  The ABI is
 * <uapi/sample_ioctl.h>: GET copies it out (put_user), SET copies it in
 * (get_user), RESET zeroes it, anything else is -ENOTTY and a bad pointer
 * -EFAULT.  The static_asserts re-derive the command numbers with kcxx's
 * constexpr encoders, so the uapi macros and the C++ view cannot drift.
 *
 * Log at load:   sample_ioctl: /dev/sample-ioctl registered
 * Log on SET:    sample_ioctl: set to N
 * Log on RESET:  sample_ioctl: reset
 * Log at unload: sample_ioctl: unloaded, value N
 */
#include "common.h"

#include <uapi/sample_ioctl.h>

using namespace kcxx;
using kcxx::fs::File;

SAMPLE_NAME_IS(SAMPLE_IOCTL_MODULE);

static_assert(ioctl::ior<int>(SAMPLE_IOC_MAGIC, 1) == SAMPLE_IOC_GET);
static_assert(ioctl::iow<int>(SAMPLE_IOC_MAGIC, 2) == SAMPLE_IOC_SET);
static_assert(ioctl::io(SAMPLE_IOC_MAGIC, 3) == SAMPLE_IOC_RESET);

namespace {

/* The device's context: the value, behind its lock. */
struct IoctlState {
	Mutex<int> value{KCXX_LOCK_CLASS(sample_ioctl_value), 0};
};
using IoctlRegistration = MiscRegistration<IoctlState>;

struct IoctlSample {
	using Registration = IoctlRegistration;
	/* 32-bit callers: the int layout is the same, so the kernel's helper
	 * forwards to unlocked_ioctl (what a C driver puts here) */
	static constexpr auto kernel_compat_ioctl = &compat_ptr_ioctl;

	static Result<long> ioctl(IoctlState &st, File, unsigned cmd, unsigned long arg)
	{
		switch (cmd) {
		case SAMPLE_IOC_GET: {
			int v = *st.value.lock();
			KCXX_TRY(UserPtr<int>(arg).write(v)); /* put_user: -EFAULT */
			return 0;
		}
		case SAMPLE_IOC_SET: {
			/* copy in before taking the lock: a fault never holds it */
			int v = KCXX_TRY(UserPtr<int>(arg).read());
			*st.value.lock() = v;
			pr_info("set to %d\n", v);
			return 0;
		}
		case SAMPLE_IOC_RESET:
			*st.value.lock() = 0;
			pr_info("reset\n");
			return 0;
		default:
			return errc::notty;
		}
	}
};

} // namespace

KCXX_FILE_OPERATIONS(IoctlSample, sample_ioctl, , unlocked_ioctl)

namespace {

struct IoctlModule {
	IoctlRegistration misc; /* deregistered before its context (the Mutex) goes */

	Result<void> init()
	{
		KCXX_TRY(misc.register_device(SAMPLE_IOCTL_NAME, fs::ops<IoctlSample>,
					      SAMPLE_DEV_MODE));
		pr_info("/dev/" SAMPLE_IOCTL_NAME " registered\n");
		return ok();
	}
	void exit() { pr_info("unloaded, value %d\n", *misc.context().value.lock()); }
};

} // namespace

KCXX_MODULE(IoctlModule, "kmodlab", "kcxx sample: misc device with GET/SET/RESET ioctls", "GPL");

