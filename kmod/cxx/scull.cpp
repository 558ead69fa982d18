// SPDX-License-Identifier: GPL-2.0
/*
 * scull.cpp - the LDD3 chapter 3 memory device in C++20 on kcxx
 * (/dev/scull-cxx0 ...).
 *
 * Behaviour, ABI and parameters are those of kmod/c/scull_c.c, line for
 * line: quantum sets of qset pointers to quanta, holes read as zeros, read
 * at or after the end returns 0, pread/pwrite honour the offset, offsets
 * never wrap (-EINVAL), max_bytes gives -ENOSPC, open O_WRONLY truncates,
 * LDD3's ioctls (setters need CAP_SYS_ADMIN), quanta of the load-time size
 * from the driver's own kmem_cache "scull_cxx_quantum".
 *
 * What kcxx changes: a device's data is a Mutex<DevState>, reachable only
 * with the lock held; the module object owns cache, region, class and
 * devices and tears them down in reverse order (no error ladder); user
 * buffers are UserSlices.
 */
#include <kcxx/kcxx.h>

#include <uapi/kmodlab.h>
#include <uapi/scull.h>

#include "scull_glue.h"

using namespace kcxx;
using kcxx::fs::File;
using kcxx::fs::Inode;

#define SCULL_CXX_NODE SCULL_NAME KMODLAB_DEV_SEP KMODLAB_VARIANT_CXX

namespace
{

/* Test-only fault injection (fail_alloc_nth, as the C driver's): true for
 * the N-th allocation from now on; a lock-free countdown (sysfs writes the
 * int with a plain store). */
inline bool scull_cxx_fail_alloc()
{
	int n = read_once(scull_cxx_fail_alloc_nth);
	do {
		if (n <= 0)
			return false;
	} while (!__atomic_compare_exchange_n(&scull_cxx_fail_alloc_nth, &n, n - 1, false,
					      __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
	return n == 1;
}

/* Largest load-time quantum served by the cache (order-3 slabs). */
constexpr unsigned long cache_max = (unsigned long)KABI_PAGE_SIZE << 3;
/* A sanity bound on nr_devs, far above any lab run. */
constexpr int nr_devs_max = 256;

template <class T> constexpr T min(T a, T b)
{
	return a < b ? a : b;
}

/* Where quanta come from: the cache for the load-time size, else kmalloc. */
struct QuantumPool {
	KmemCache cache;
	int cache_size = 0; /* quantum size the cache serves, 0: none */

	void *alloc(int quantum)
	{
		if (scull_cxx_fail_alloc())
			return nullptr;
		if (quantum == cache_size)
			return cache.alloc(gfp::kernel | gfp::zero);
		/* any size root chose by ioctl: fail with -ENOMEM, not a warning */
		return kmalloc(quantum, gfp::kernel | gfp::zero | gfp::nowarn);
	}
	void free(void *mem, int quantum)
	{
		if (!mem)
			return;
		if (quantum == cache_size)
			cache.free(mem);
		else
			kfree(mem);
	}
};
QuantumPool &pool();

struct QSet {
	void **data;
	QSet *next;
};

struct Where {
	u64 item;
	int s_pos;
	int q_pos;
};

/* One device's contents; only ever touched through its Mutex. */
struct DevState {
	QSet *data = nullptr; /* first quantum set */
	int quantum = 0; /* this device's quantum size, fixed until trim */
	int qset = 0; /* this device's array size, fixed until trim */
	loff_t size = 0; /* bytes stored: one past the highest written */

	~DevState()
	{
		trim();
	}

	/* Free all data and adopt the current module-wide geometry. */
	void trim()
	{
		QSet *next;
		for (QSet *dptr = data; dptr; dptr = next) {
			if (dptr->data) {
				for (int i = 0; i < qset; i++)
					pool().free(dptr->data[i], quantum);
				kfree(dptr->data);
			}
			next = dptr->next;
			kfree(dptr);
		}
		data = nullptr;
		size = 0;
		quantum = read_once(scull_cxx_quantum);
		qset = read_once(scull_cxx_qset);
	}

	/* The n-th quantum set; with alloc, missing nodes are created. */
	QSet *follow(u64 n, bool alloc)
	{
		QSet **link = &data;
		for (;;) {
			if (!*link) {
				if (!alloc)
					return nullptr;
				if (scull_cxx_fail_alloc())
					return nullptr;
				*link = static_cast<QSet *>(kzalloc(sizeof(QSet), gfp::kernel));
				if (!*link)
					return nullptr;
			}
			if (n-- == 0)
				return *link;
			link = &(*link)->next;
		}
	}

	Where locate(loff_t pos) const
	{
		u64 itemsize = (u64)quantum * qset;
		u64 rest = (u64)pos % itemsize;
		Where w;
		w.item = (u64)pos / itemsize;
		w.s_pos = rest / (u64)quantum;
		w.q_pos = rest - (u64)w.s_pos * quantum;
		return w;
	}

	/* The quantum holding w, allocating what is missing. */
	void *quantum_for_write(const Where &w)
	{
		QSet *dptr = follow(w.item, true);
		if (!dptr)
			return nullptr;
		if (!dptr->data) {
			if ((usize)qset > ~usize(0) / sizeof(void *))
				return nullptr;
			if (scull_cxx_fail_alloc())
				return nullptr;
			dptr->data = static_cast<void **>(
				kzalloc(qset * sizeof(void *), gfp::kernel | gfp::nowarn));
			if (!dptr->data)
				return nullptr;
		}
		if (!dptr->data[w.s_pos])
			dptr->data[w.s_pos] = pool().alloc(quantum);
		return dptr->data[w.s_pos];
	}
};

struct ScullDevice {
	Mutex<DevState> state{ KCXX_LOCK_CLASS(scull_cxx_dev) };
	Cdev cdev;
	DeviceNode node;
};

/* The module-wide geometry (the quantum/qset parameters), written under
 * this lock so the exchange ioctls are atomic; readers use read_once. */
enum class Which { quantum, qset };
struct Geometry {
	int &quantum = scull_cxx_quantum;
	int &qset = scull_cxx_qset;
	int &operator[](Which w)
	{
		return w == Which::quantum ? quantum : qset;
	}
};
Mutex<Geometry> &geometry();
ScullDevice *device_of(Inode);

struct Scull {
	using Data = ScullDevice;
	static constexpr auto kernel_compat_ioctl = &compat_ptr_ioctl;
	/* memory is as durable as it gets: fio, dd conv=fsync */
	static constexpr auto kernel_fsync = &noop_fsync;

	static Result<ScullDevice *> open(Inode inode, File f)
	{
		ScullDevice *dev = device_of(inode);
		/* LDD3: opening write-only truncates the device. */
		if (f.write_only()) {
			auto st = KCXX_TRY(dev->state.lock_interruptible());
			st->trim();
		}
		return dev;
	}

	static void release(ScullDevice &, Inode, File)
	{
	}

	static Result<usize> read(ScullDevice &dev, File, UserSlice::Writer out, loff_t &f_pos)
	{
		loff_t pos = f_pos;
		usize count = out.left();

		if (pos < 0)
			return errc::inval;
		auto st = KCXX_TRY(dev.state.lock_interruptible());
		if (pos >= st->size || count == 0)
			return 0;
		count = min<u64>(count, st->size - pos);
		Where w = st->locate(pos);
		/* short read at the quantum boundary, as in LDD3 */
		count = min<usize>(count, st->quantum - w.q_pos);

		QSet *dptr = st->follow(w.item, false);
		void *mem = dptr && dptr->data ? dptr->data[w.s_pos] : nullptr;
		usize left = mem ? out.write_partial(static_cast<char *>(mem) + w.q_pos, count) :
				   out.clear(count); /* a hole reads as zeros */
		if (left == count)
			return errc::fault;
		usize done = count - left;
		f_pos = pos + done;
		return done;
	}

	static Result<usize> write(ScullDevice &dev, File, UserSlice::Reader in, loff_t &f_pos)
	{
		long max_bytes = read_once(scull_cxx_max_bytes);
		loff_t pos = f_pos, end;
		usize count = in.left();

		if (pos < 0 || count > (usize)__LONG_LONG_MAX__ ||
		    __builtin_add_overflow(pos, (loff_t)count, &end))
			return errc::inval;
		if (count == 0)
			return 0;
		if (pos >= max_bytes)
			return errc::nospc;
		count = min<u64>(count, max_bytes - pos); /* short write up to the cap */

		auto st = KCXX_TRY(dev.state.lock_interruptible());
		Where w = st->locate(pos);
		count = min<usize>(count, st->quantum - w.q_pos);
		void *mem = st->quantum_for_write(w);
		if (!mem)
			return errc::nomem;
		/* not copy_from_user(): on a fault it would zero stored data */
		usize left = in.read_partial_nozero(static_cast<char *>(mem) + w.q_pos, count);
		if (left == count)
			return errc::fault;
		usize done = count - left;
		f_pos = pos + done;
		if (st->size < f_pos)
			st->size = f_pos;
		return done;
	}

	static Result<loff_t> llseek(ScullDevice &dev, File f, loff_t off, int whence)
	{
		loff_t base, newpos;

		switch (whence) {
		case KABI_SEEK_SET:
			base = 0;
			break;
		case KABI_SEEK_CUR:
			base = f.pos();
			break;
		case KABI_SEEK_END: {
			auto st = KCXX_TRY(dev.state.lock_interruptible());
			base = st->size;
			break;
		}
		default:
			return errc::inval;
		}
		if (__builtin_add_overflow(base, off, &newpos) || newpos < 0)
			return errc::inval;
		f.pos() = newpos;
		return newpos;
	}

	/* S: set a geometry value through a pointer. */
	static Result<long> ioc_set(Which param, unsigned long arg)
	{
		if (!capable(KABI_CAP_SYS_ADMIN))
			return errc::perm;
		int val = KCXX_TRY(UserPtr<int>(arg).read());
		if (val <= 0)
			return errc::inval;
		auto g = geometry().lock();
		write_once((*g)[param], val);
		return 0;
	}
	/* T: tell a geometry value directly in the argument. */
	static Result<long> ioc_tell(Which param, unsigned long arg)
	{
		if (!capable(KABI_CAP_SYS_ADMIN))
			return errc::perm;
		if (arg == 0 || arg > (unsigned long)KABI_INT_MAX)
			return errc::inval;
		auto g = geometry().lock();
		write_once((*g)[param], (int)arg);
		return 0;
	}
	/* X: exchange through a pointer; on -EFAULT nothing changes. */
	static Result<long> ioc_exchange(Which param, unsigned long arg)
	{
		if (!capable(KABI_CAP_SYS_ADMIN))
			return errc::perm;
		UserPtr<int> uarg(arg);
		int val = KCXX_TRY(uarg.read());
		if (val <= 0)
			return errc::inval;
		auto g = geometry().lock();
		KCXX_TRY(uarg.write((*g)[param]));
		write_once((*g)[param], val);
		return 0;
	}
	/* H: shift, i.e. tell the new value and return the old one. */
	static Result<long> ioc_shift(Which param, unsigned long arg)
	{
		if (!capable(KABI_CAP_SYS_ADMIN))
			return errc::perm;
		if (arg == 0 || arg > (unsigned long)KABI_INT_MAX)
			return errc::inval;
		auto g = geometry().lock();
		int old = (*g)[param];
		write_once((*g)[param], (int)arg);
		return old;
	}
	static Result<long> ioc_reset()
	{
		auto g = geometry().lock();
		write_once(g->quantum, SCULL_QUANTUM_DEFAULT);
		write_once(g->qset, SCULL_QSET_DEFAULT);
		return 0;
	}

	static Result<long> ioctl(ScullDevice &, File, unsigned cmd, unsigned long arg)
	{
		if (ioctl::type(cmd) != SCULL_IOC_MAGIC || ioctl::nr(cmd) > SCULL_IOC_MAXNR)
			return errc::notty;

		switch (cmd) {
		case SCULL_IOCRESET:
			return ioc_reset();
		case SCULL_IOCSQUANTUM:
			return ioc_set(Which::quantum, arg);
		case SCULL_IOCSQSET:
			return ioc_set(Which::qset, arg);
		case SCULL_IOCTQUANTUM:
			return ioc_tell(Which::quantum, arg);
		case SCULL_IOCTQSET:
			return ioc_tell(Which::qset, arg);
		case SCULL_IOCGQUANTUM:
			KCXX_TRY(UserPtr<int>(arg).write(read_once(scull_cxx_quantum)));
			return 0;
		case SCULL_IOCGQSET:
			KCXX_TRY(UserPtr<int>(arg).write(read_once(scull_cxx_qset)));
			return 0;
		case SCULL_IOCQQUANTUM:
			return read_once(scull_cxx_quantum);
		case SCULL_IOCQQSET:
			return read_once(scull_cxx_qset);
		case SCULL_IOCXQUANTUM:
			return ioc_exchange(Which::quantum, arg);
		case SCULL_IOCXQSET:
			return ioc_exchange(Which::qset, arg);
		case SCULL_IOCHQUANTUM:
			return ioc_shift(Which::quantum, arg);
		case SCULL_IOCHQSET:
			return ioc_shift(Which::qset, arg);
		default:
			return errc::notty;
		}
	}
};

} // namespace

KCXX_FILE_OPERATIONS(Scull, scull_cxx, , llseek, read, write, unlocked_ioctl, open, release)

extern "C" char *scull_cxx_devnode(struct device *, kabi::umode_t *mode)
{
	if (mode)
		*mode = scull_cxx_mode;
	return nullptr;
}

namespace
{

struct ScullModule {
	/* destroyed bottom-up: devices, class, region, then the cache */
	QuantumPool quanta;
	Mutex<Geometry> geometry{ KCXX_LOCK_CLASS(scull_cxx_param_lock) };
	ChrdevRegion region;
	DeviceClass cls;
	KArray<ScullDevice> devices;

	static Result<void> check_params()
	{
		if (scull_cxx_nr_devs <= 0 || scull_cxx_nr_devs > nr_devs_max) {
			pr_err("nr_devs=%d: must be 1..%d\n", scull_cxx_nr_devs, nr_devs_max);
			return errc::inval;
		}
		if (scull_cxx_quantum <= 0 || scull_cxx_qset <= 0) {
			pr_err("quantum=%d qset=%d: both must be > 0\n", scull_cxx_quantum,
			       scull_cxx_qset);
			return errc::inval;
		}
		if (scull_cxx_max_bytes < 0) {
			pr_err("max_bytes=%ld: must be >= 0\n", scull_cxx_max_bytes);
			return errc::inval;
		}
		if (scull_cxx_mode & ~0777) {
			pr_err("mode=%#o: only permission bits are allowed\n", scull_cxx_mode);
			return errc::inval;
		}
		return ok();
	}

	Result<void> create_cache()
	{
		if ((unsigned long)scull_cxx_quantum > cache_max) {
			pr_info("quantum=%d is above %lu: quanta come from kmalloc\n",
				scull_cxx_quantum, cache_max);
			return ok();
		}
		KCXX_TRY(quanta.cache.create_usercopy(KBUILD_MODNAME "_quantum", scull_cxx_quantum,
						      0, 0, 0, scull_cxx_quantum));
		quanta.cache_size = scull_cxx_quantum;
		return ok();
	}

	Result<void> setup_dev(int i)
	{
		ScullDevice &dev = devices[i];
		{
			auto st = dev.state.lock();
			st->quantum = scull_cxx_quantum;
			st->qset = scull_cxx_qset;
		}
		if (auto r = dev.cdev.add(fs::vtable<Scull>, region.dev(i), 1); !r) {
			pr_err("cdev_add of minor %d failed: %d\n", i, r.error().to_errno());
			return r.error();
		}
		if (auto r = dev.node.create(cls, region.dev(i), SCULL_CXX_NODE "%d", i); !r) {
			pr_err("device_create of " SCULL_CXX_NODE "%d failed: %d\n", i,
			       r.error().to_errno());
			return r.error();
		}
		return ok();
	}

	Result<void> init()
	{
		KCXX_TRY(check_params());
		KCXX_TRY(create_cache());
		if (auto r = region.alloc(KBUILD_MODNAME, scull_cxx_nr_devs); !r) {
			pr_err("alloc_chrdev_region failed: %d\n", r.error().to_errno());
			return r.error();
		}
		KCXX_TRY(cls.create(KBUILD_MODNAME, scull_cxx_devnode));
		KCXX_TRY(devices.try_init(scull_cxx_nr_devs, gfp::kernel));
		for (int i = 0; i < scull_cxx_nr_devs; i++)
			KCXX_TRY(setup_dev(i));
		pr_info("%d devices, quantum %d, qset %d, max_bytes %ld\n", scull_cxx_nr_devs,
			scull_cxx_quantum, scull_cxx_qset, scull_cxx_max_bytes);
		return ok();
	}
	void exit()
	{
		pr_info("unloaded\n");
	}
};

} // namespace

KCXX_MODULE(ScullModule, "kmodlab", "scull memory device (LDD3 chapter 3), C++20 driver on kcxx",
	    "GPL");
KCXX_LOCK_SYMBOL(geometry, scull_cxx_param_lock);

namespace
{
QuantumPool &pool()
{
	return kcxx_this_module().quanta;
}
Mutex<Geometry> &geometry()
{
	return kcxx_this_module().geometry;
}
ScullDevice *device_of(Inode inode)
{
	ScullModule &m = kcxx_this_module();
	return &m.devices[inode.minor() - m.region.base_minor()];
}
} // namespace
