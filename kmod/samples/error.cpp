// SPDX-License-Identifier: GPL-2.0
/*
 * error.cpp - fallible operations chained with Result propagation
 * (Rust-for-Linux: kernel::error::Result and the ? operator).
 *
 * Each step returns a Result; KCXX_TRY(step()) gives the value or returns
 * the step's Error from the caller at once, so init() reads as the happy
 * path and every failure reaches insmod as a negative errno.  With fail=1
 * the "device probe" step fails with -ENODEV: insmod reports "No such
 * device" and, because init failed, the module is not left loaded (the
 * KBox allocated before the failure is freed by its destructor).
 *
 * Log at load (fail=0):  sample_error: init ok: buffer of 64 bytes, device ready
 * Log at load (fail=1):  sample_error: probe: no device (fail=1)
 *                        sample_error: init failed: error -19
 * Log at unload:         sample_error: unloaded
 */
#include "common.h"

using namespace kcxx;

SAMPLE_NAME_IS(SAMPLE_ERROR_MODULE);

namespace {

/* The module parameter, declared in C++ (kcxx/param.h). */
KCXX_PARAM(fail, bool, false, 0444, "make init fail with -ENODEV (the device is \"missing\")");

struct Buffer {
	char bytes[64];
};

/* Step 1: an allocation, which can fail with -ENOMEM. */
Result<KBox<Buffer>> alloc_buffer() { return KBox<Buffer>::try_new(gfp::kernel | gfp::zero); }

/* Step 2: a check that fails with -ENODEV when the parameter says so. */
Result<void> probe_device()
{
	if (fail.get()) {
		pr_err("probe: no device (fail=1)\n");
		return errc::nodev;
	}
	return ok();
}

/* Step 3: a step with a value, chained on the two before it. */
Result<usize> setup(KBox<Buffer> &out)
{
	KBox<Buffer> buf = KCXX_TRY(alloc_buffer());
	KCXX_TRY(probe_device());
	out = kcxx::move(buf);
	return sizeof(Buffer::bytes);
}

struct ErrorModule {
	KBox<Buffer> buffer;

	Result<void> init()
	{
		Result<usize> r = setup(buffer);
		if (!r) {
			pr_err("init failed: error %d\n", r.error().to_errno());
			return r.error();
		}
		pr_info("init ok: buffer of %zu bytes, device ready\n", r.value());
		return ok();
	}
	void exit() { pr_info("unloaded\n"); }
};

} // namespace

KCXX_MODULE(ErrorModule, "kmodlab", "kcxx sample: Result propagation, init failing with -ENODEV",
	    "GPL");
