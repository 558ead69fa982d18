// SPDX-License-Identifier: GPL-2.0
/*
 * chrdev.cpp - a character device registered by hand (Rust-for-Linux:
 * kernel::chrdev::Registration, samples/rust/rust_chrdev.rs), the LDD3
 * way: a dev_t region, a cdev, a class and a /dev node.
 *
 * /dev/sample-chrdev (mode 0600): every open() is counted and logged; each
 * open file reads SAMPLE_CHRDEV_GREETING once, then EOF.  open() allocates
 * the per-open state in a KBox and hands it to file->private_data;
 * release() takes it back, and the KBox destructor frees it.
 *
 * The module object's members are declared region, class, cdev, node: they
 * are created in that order and destroyed in reverse, which is the C error
 * ladder (on a failed init too) without writing it.
 *
 * Log at load:   sample_chrdev: /dev/sample-chrdev registered (major M)
 * Log on open:   sample_chrdev: Opened the file N times
 * Log at unload: sample_chrdev: unloaded after N opens
 */
#include "common.h"

using namespace kcxx;
using kcxx::fs::File;
using kcxx::fs::Inode;

SAMPLE_NAME_IS(SAMPLE_CHRDEV_MODULE);

namespace {

/* One open file's state. */
struct OpenFile {
	int number; /* this was the number-th open */
};

/* The cdev's context: how often it was opened. */
struct Opens {
	Atomic<int> count{0};
};
using ChrdevRegistration = CdevRegistration<Opens>;

struct ChrdevSample {
	using Registration = ChrdevRegistration;
	using Data = OpenFile;

	/* Handed the context of the cdev the file was opened through. */
	static Result<OpenFile *> open(Opens &opens, File)
	{
		int n = opens.count.fetch_add(1) + 1;
		KBox<OpenFile> state = KCXX_TRY(KBox<OpenFile>::try_new(gfp::kernel, OpenFile{n}));
		pr_info("Opened the file %d times\n", n);
		return state.into_raw(); /* owned by the file until release */
	}

	static void release(OpenFile &state, File)
	{
		KBox<OpenFile>::from_raw(&state); /* freed here, at the end of the statement */
	}

	static Result<usize> read(OpenFile &, File, UserSlice::Writer out, loff_t &pos)
	{
		static constexpr char greeting[] = SAMPLE_CHRDEV_GREETING;
		/* f_pos starts at 0 for each open: the greeting once, then EOF */
		return out.read_from_buffer(pos, greeting, sizeof(greeting) - 1);
	}
};

} // namespace

KCXX_FILE_OPERATIONS(ChrdevSample, sample_chrdev, , read, open, release)

/* The class's devnode callback: the node's permission bits. */
extern "C" char *sample_chrdev_devnode(devnode_device *, kabi::umode_t *mode)
{
	if (mode)
		*mode = SAMPLE_DEV_MODE;
	return nullptr;
}

namespace {

struct ChrdevModule {
	/* created top-down in init, destroyed bottom-up */
	ChrdevRegion region;
	DeviceClass cls;
	ChrdevRegistration cdev;
	DeviceNode node;

	Result<void> init()
	{
		KCXX_TRY(region.alloc(KBUILD_MODNAME, 1));
		KCXX_TRY(cls.create(KBUILD_MODNAME, sample_chrdev_devnode));
		KCXX_TRY(cdev.add(fs::ops<ChrdevSample>, region.dev(0), 1));
		KCXX_TRY(node.create(cls, region.dev(0), SAMPLE_CHRDEV_NAME));
		pr_info("/dev/" SAMPLE_CHRDEV_NAME " registered (major %u)\n", region.major());
		return ok();
	}
	void exit() { pr_info("unloaded after %d opens\n", cdev.context().count.load()); }
};

} // namespace

KCXX_MODULE(ChrdevModule, "kmodlab", "kcxx sample: character device counting its opens", "GPL");

