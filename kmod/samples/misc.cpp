// SPDX-License-Identifier: GPL-2.0
/*
 * misc.cpp - a misc device (Rust-for-Linux: kernel::miscdevice::MiscDevice,
 * samples/rust/rust_misc_device.rs).
 *
 * /dev/sample-misc (mode 0600): read() returns SAMPLE_MISC_GREETING once per
 * open, then EOF; write() takes any bytes and logs how many.
 *
 * The driver type MiscSample implements read and write; KCXX_FILE_OPERATIONS
 * emits the extern "C" entry points sample_misc_read/sample_misc_write and
 * fs::vtable<MiscSample> is a constant file_operations holding exactly those
 * two (owner = this module).  The MiscRegistration member registers in init and
 * deregisters in the module's destructor: RAII registration, no exit code.
 *
 * Log at load:   sample_misc: /dev/sample-misc registered
 * Log on write:  sample_misc: received N bytes
 * Log at unload: sample_misc: unloaded
 */
#include "common.h"

using namespace kcxx;
using kcxx::fs::File;

SAMPLE_NAME_IS(SAMPLE_MISC_MODULE);

namespace {

/* The misc device's context (nothing to keep: the sample only logs). */
struct Nothing {};
using MiscSampleRegistration = MiscRegistration<Nothing>;

/* The file operations: without open(), each receives the context of the
 * registration the file was opened through. */
struct MiscSample {
	using Registration = MiscSampleRegistration;

	static Result<usize> read(Nothing &, File, UserSlice::Writer out, loff_t &pos)
	{
		static constexpr char greeting[] = SAMPLE_MISC_GREETING;
		/* copy_to_user from *pos; 0 (EOF) once pos reaches the end */
		return out.read_from_buffer(pos, greeting, sizeof(greeting) - 1);
	}

	static Result<usize> write(Nothing &, File, UserSlice::Reader in, loff_t &)
	{
		usize n = in.left();
		pr_info("received %zu bytes\n", n);
		return n; /* all consumed */
	}
};

} // namespace

KCXX_FILE_OPERATIONS(MiscSample, sample_misc, , read, write)

namespace {

struct MiscModule {
	MiscSampleRegistration misc; /* deregistered by its destructor at rmmod */

	Result<void> init()
	{
		KCXX_TRY(misc.register_device(SAMPLE_MISC_NAME, fs::ops<MiscSample>,
					      SAMPLE_DEV_MODE));
		pr_info("/dev/" SAMPLE_MISC_NAME " registered\n");
		return ok();
	}
	void exit() { pr_info("unloaded\n"); }
};

} // namespace

KCXX_MODULE(MiscModule, "kmodlab", "kcxx sample: misc device with read and write", "GPL");

