// SPDX-License-Identifier: GPL-2.0
/*
 * scullpipe.cpp - the LDD3 chapter 6 pipe device in C++20 on kcxx
 * (/dev/scullpipe-cxx0 ...).
 *
 * Behaviour, ABI and parameters are those of kmod/c/scullpipe_c.c
 * (uapi/scullpipe.h states them): a ring buffer of buffer_size bytes per
 * device, reads block while it is empty and writes while it is full
 * (O_NONBLOCK: -EAGAIN), a signal ends the wait with -ERESTARTSYS, writes
 * of at most SCULLPIPE_ATOMIC_WRITE bytes wait until they fit whole and
 * are copied under the lock in one piece (never interleaved), poll reports
 * POLLIN when data is there and POLLOUT when an atomic write fits.
 *
 * What kcxx changes: the ring is a Mutex<Ring>, reachable only with the
 * lock held; the two wait queues are CondVars bound to that mutex, whose
 * waits release and retake the Guard (so the condition is always tested
 * under the lock, and a wait cannot forget to relock); poll registers on
 * the same CondVars through a PollTable and returns a typed PollMask; the
 * module object owns region, class and devices and tears them down in
 * reverse order (no error ladder).
 */
#include <kcxx/kcxx.h>

#include <uapi/kmodlab.h>
#include <uapi/scullpipe.h>

#include <kcxx/trace.h>
#define KMODLAB_TP KCXX_TRACE_EVENT
#include <kmodlab/trace/scullpipe_events.h>

using namespace kcxx;
using kcxx::fs::File;

#define SCULLPIPE_CXX_NODE SCULLPIPE_NAME KMODLAB_DEV_SEP KMODLAB_VARIANT_CXX

namespace
{

/* scullpipe_c's names, types, defaults, permissions and descriptions. */
namespace params
{
KCXX_PARAM(nr_devs, int, SCULLPIPE_NR_DEVS_DEFAULT, 0444, "number of scullpipe devices");
KCXX_PARAM(buffer_size, int, SCULLPIPE_BUFFER_DEFAULT, 0444,
	   "ring buffer size per device in bytes");
KCXX_PARAM(mode, unsigned short, KMODLAB_DEV_MODE, 0444, "permission bits of the device nodes");
} // namespace params

/* A sanity bound on nr_devs, far above any lab run. */
constexpr int nr_devs_max = 256;

/* The ring: count bytes from rp on, wrapping at size.  Guarded by the
 * device mutex (it is the T of Mutex<Ring>). */
struct Ring {
	KArray<u8> buf;
	usize rp = 0, count = 0;

	usize size() const
	{
		return buf.size();
	}
	usize space() const
	{
		return size() - count;
	}
	usize wrap(usize i) const
	{
		return i >= size() ? i - size() : i;
	}

	/* Copy up to out.left() buffered bytes to user space, in one run
	 * when they lie before the end of the buffer, else in two; the bytes
	 * copied (a fault stops early).  The writer is first capped at what
	 * is buffered, so its left() is what remains to copy. */
	usize copy_out(UserSlice::Writer &out)
	{
		out.truncate(count);
		usize n = out.left(), tail = size() - rp, done;

		if (n <= tail) {
			done = n - out.write_partial(&buf[rp]);
		} else {
			done = tail - out.write_partial(&buf[rp], tail);
			if (done == tail)
				done += (n - tail) - out.write_partial(&buf[0]);
		}
		rp = wrap(rp + done);
		count -= done;
		return done;
	}

	/* Copy up to space() bytes from user space behind the data, in one
	 * or two runs as copy_out; the bytes copied (a fault stops early).
	 * The reader is first capped at the free space: what does not fit
	 * is never read. */
	usize copy_in(UserSlice::Reader &in)
	{
		usize wp = wrap(rp + count);
		in.truncate(space());
		usize n = in.left(), tail = size() - wp, done;

		if (n <= tail) {
			done = n - in.read_partial(&buf[wp], n);
		} else {
			done = tail - in.read_partial(&buf[wp], tail);
			if (done == tail)
				done += (n - tail) - in.read_partial(&buf[0], n - tail);
		}
		count += done;
		return done;
	}
};

/* A device's context, handed to open() by its cdev registration. */
struct PipeDevice {
	Mutex<Ring> ring{ KCXX_LOCK_CLASS(scullpipe_cxx_dev) };
	CondVar<Mutex<Ring>> readable{ ring, KCXX_LOCK_CLASS(scullpipe_cxx_inq) };
	CondVar<Mutex<Ring>> writable{ ring, KCXX_LOCK_CLASS(scullpipe_cxx_outq) };
};
using PipeRegistration = CdevRegistration<PipeDevice>;

/* Bytes that must fit before a write of n bytes may copy: all of them for
 * an atomic write, else any. */
constexpr usize write_needs(usize n)
{
	return n <= SCULLPIPE_ATOMIC_WRITE ? n : 1;
}

struct ScullPipe {
	using Registration = PipeRegistration;
	using Data = PipeDevice;

	static Result<PipeDevice *> open(PipeDevice &dev, File f)
	{
		f.make_stream(); /* a FIFO: no seek, no pread/pwrite */
		return &dev;
	}

	static void release(PipeDevice &, File)
	{
	}

	/* Wait for data and take it; the guard is released on return.  The
	 * wait loop is spelled out, not wait_interruptible_until(), because
	 * scullpipe_sleep and scullpipe_wake bracket each single wait
	 * (kmodlab/trace/scullpipe.h); the loop is the same. */
	static Result<usize> take(PipeDevice &dev, File f, UserSlice::Writer &out)
	{
		auto g = KCXX_TRY(dev.ring.lock_interruptible());
		while (!g->count) {
			if (f.nonblocking())
				return errc::again;
			kcxx_trace::scullpipe_sleep(SCULLPIPE_WAIT_READER, g->count, usize{ 1 });
			KCXX_TRY(dev.readable.wait_interruptible(g));
			kcxx_trace::scullpipe_wake(SCULLPIPE_WAIT_READER, g->count, usize{ 1 });
		}
		usize done = g->copy_out(out);
		if (!done)
			return errc::fault;
		return done;
	}

	static Result<usize> read(PipeDevice &dev, File f, UserSlice::Writer out, loff_t &)
	{
		if (!out.left())
			return 0;
		usize done = KCXX_TRY(take(dev, f, out));
		dev.writable.notify_all(); /* after the unlock, as LDD3 */
		return done;
	}

	/* Wait for room and fill it; the guard is released on return. */
	static Result<usize> put(PipeDevice &dev, File f, UserSlice::Reader &in)
	{
		usize need = write_needs(in.left());
		auto g = KCXX_TRY(dev.ring.lock_interruptible());
		while (g->space() < need) {
			if (f.nonblocking())
				return errc::again;
			kcxx_trace::scullpipe_sleep(SCULLPIPE_WAIT_WRITER, g->space(), need);
			KCXX_TRY(dev.writable.wait_interruptible(g));
			kcxx_trace::scullpipe_wake(SCULLPIPE_WAIT_WRITER, g->space(), need);
		}
		usize done = g->copy_in(in);
		if (!done)
			return errc::fault;
		return done;
	}

	static Result<usize> write(PipeDevice &dev, File f, UserSlice::Reader in, loff_t &)
	{
		if (!in.left())
			return 0;
		usize done = KCXX_TRY(put(dev, f, in));
		dev.readable.notify_all();
		return done;
	}

	static PollMask poll(PipeDevice &dev, File f, PollTable pt)
	{
		pt.wait(f, dev.readable);
		pt.wait(f, dev.writable);
		auto g = dev.ring.lock();
		PollMask m;
		if (g->count)
			m = m | PollMask::readable();
		if (g->space() >= SCULLPIPE_ATOMIC_WRITE)
			m = m | PollMask::writable();
		return m;
	}
};

} // namespace

KCXX_FILE_OPERATIONS(ScullPipe, scullpipe_cxx, , read, write, poll, open, release)

namespace
{

/* One minor: its cdev with the device's data, then its /dev node. */
struct PipeSlot {
	PipeRegistration cdev;
	DeviceNode node;
};

struct PipeModule {
	/* destroyed bottom-up: devices (buffers freed), class, region */
	ChrdevRegion region;
	DeviceClass cls;
	KArray<PipeSlot> devices;

	static Result<void> check_params()
	{
		int nr_devs = params::nr_devs.get(), size = params::buffer_size.get();
		unsigned short mode = params::mode.get();

		if (nr_devs <= 0 || nr_devs > nr_devs_max) {
			pr_err("nr_devs=%d: must be 1..%d\n", nr_devs, nr_devs_max);
			return errc::inval;
		}
		if (size < SCULLPIPE_ATOMIC_WRITE || size > SCULLPIPE_BUFFER_MAX) {
			pr_err("buffer_size=%d: must be %d..%d\n", size, SCULLPIPE_ATOMIC_WRITE,
			       SCULLPIPE_BUFFER_MAX);
			return errc::inval;
		}
		if (mode & ~0777) {
			pr_err("mode=%#o: only permission bits are allowed\n", mode);
			return errc::inval;
		}
		return ok();
	}

	Result<void> setup_dev(int i)
	{
		PipeSlot &slot = devices[i];

		KCXX_TRY(slot.cdev.context().ring.lock()->buf.try_init(params::buffer_size.get(),
								       gfp::kernel));
		if (auto r = slot.cdev.add(fs::ops<ScullPipe>, region.dev(i), 1); !r) {
			pr_err("cdev_add of minor %d failed: %d\n", i, r.error().to_errno());
			return r.error();
		}
		if (auto r = slot.node.create(cls, region.dev(i), SCULLPIPE_CXX_NODE "%d", i); !r) {
			pr_err("device_create of " SCULLPIPE_CXX_NODE "%d failed: %d\n", i,
			       r.error().to_errno());
			return r.error();
		}
		return ok();
	}

	Result<void> init()
	{
		KCXX_TRY(check_params());
		int nr_devs = params::nr_devs.get();
		if (auto r = region.alloc(KBUILD_MODNAME, nr_devs); !r) {
			pr_err("alloc_chrdev_region failed: %d\n", r.error().to_errno());
			return r.error();
		}
		KCXX_TRY(cls.create(KBUILD_MODNAME, &DeviceClass::devnode_mode<&params::mode>));
		KCXX_TRY(devices.try_init(nr_devs, gfp::kernel));
		for (int i = 0; i < nr_devs; i++)
			KCXX_TRY(setup_dev(i));
		pr_info("%d devices, buffer_size %d\n", nr_devs, params::buffer_size.get());
		return ok();
	}
	void exit()
	{
		pr_info("unloaded\n");
	}
};

} // namespace

KCXX_MODULE(PipeModule, "kmodlab", "scullpipe FIFO device (LDD3 chapter 6), C++20 driver on kcxx",
	    "GPL");
