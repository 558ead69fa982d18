// SPDX-License-Identifier: GPL-2.0
/*
 * scull.cpp - the LDD3 chapter 3 memory device in C++20 on kcxx
 * (/dev/scull-cxx0 ...).
 *
 * Behaviour, ABI and parameters are those of kmod/c/scull_c.c, line for
 * line: quantum sets of qset pointers to quanta, holes read as zeros, read
 * at or after the end returns 0, pread/pwrite honour the offset, offsets
 * never wrap (-EINVAL), max_bytes gives -ENOSPC, open O_WRONLY truncates,
 * read and write move the whole request across quanta (ldd3_short_io=1:
 * LDD3's at most the rest of the current quantum per call),
 * LDD3's ioctls (setters need CAP_SYS_ADMIN), quanta of the load-time size
 * from the driver's own kmem_cache "scull_cxx_quantum".
 *
 * What kcxx changes: a device's data is a Mutex<DevState>, reachable only
 * with the lock held, and is handed to open() by the cdev registration it
 * belongs to; the module-wide geometry (the quantum/qset parameters) is
 * read lock-free and written only through the writers kept inside its
 * Mutex; the module object owns cache, region, class and devices and tears
 * them down in reverse order (no error ladder); the quantum lists are KBox
 * nodes with KArray pointer arrays; user buffers are UserSlices; parameters
 * are declared here (KCXX_PARAM), with scull_c's names, types and modes.
 */
#include <kcxx/kcxx.h>

#include <uapi/kmodlab.h>
#include <uapi/scull.h>

#include <kcxx/trace.h>
#define KMODLAB_TP KCXX_TRACE_EVENT
#include <kmodlab/trace/scull_events.h>

using namespace kcxx;
using kcxx::fs::File;

#define SCULL_CXX_NODE SCULL_NAME KMODLAB_DEV_SEP KMODLAB_VARIANT_CXX

namespace
{

/* The module parameters: scull_c's names, types, defaults and permissions.
 * quantum and qset are also the module-wide geometry the ioctls change, as
 * in LDD3. */
namespace params
{
KCXX_PARAM(nr_devs, int, SCULL_NR_DEVS_DEFAULT, 0444, "number of scull devices");
KCXX_PARAM(quantum, MutableParam<int>, SCULL_QUANTUM_DEFAULT, 0444,
	   "quantum size in bytes (changed by the quantum ioctls)");
KCXX_PARAM(qset, MutableParam<int>, SCULL_QSET_DEFAULT, 0444,
	   "quanta per quantum set (changed by the qset ioctls)");
KCXX_PARAM(max_bytes, long, SCULL_MAX_BYTES_DEFAULT, 0444,
	   "per-device size cap in bytes; writes past it get -ENOSPC");
KCXX_PARAM(mode, unsigned short, KMODLAB_DEV_MODE, 0444, "permission bits of the device nodes");
/* Writable at run time: read once per call (the tests flip it in sysfs). */
KCXX_PARAM(ldd3_short_io, bool, false, 0644,
	   "LDD3: a read or write stops at the end of its quantum");
/* Test only (tests/reliability), as scull_c's: the N-th allocation from now
 * on fails; asked before every allocation on the write path (quantum set
 * nodes, pointer arrays, quanta). */
KCXX_PARAM(fail_alloc_nth, FailNth, 0, 0600,
	   "test only: fail the N-th allocation from now on (0: off)");
} // namespace params

/* Largest load-time quantum served by the cache (order-3 slabs). */
constexpr unsigned long cache_max = (unsigned long)KABI_PAGE_SIZE << 3;
/* A sanity bound on nr_devs, far above any lab run. */
constexpr int nr_devs_max = 256;

/* Where quanta come from: the cache for the load-time size, else kmalloc. */
struct QuantumPool {
	KmemCache cache;
	int cache_size = 0; /* quantum size the cache serves, 0: none */

	void *alloc(int quantum)
	{
		if (params::fail_alloc_nth.should_fail())
			return nullptr;
		if (quantum == cache_size)
			return cache.alloc(gfp::kernel | gfp::zero);
		/* any size root chose by ioctl: fail with -ENOMEM, not a warning */
		return alloc::bytes(quantum, gfp::kernel | gfp::zero | gfp::nowarn);
	}
	void free(void *mem, int quantum)
	{
		if (!mem)
			return;
		if (quantum == cache_size)
			cache.free(mem);
		else
			alloc::free(mem);
	}
};

/* One quantum set: qset pointers to quanta (allocated on first write).
 * The quanta themselves go back to the pool in DevState::trim. */
struct QSet {
	KArray<void *> data;
	KBox<QSet> next;

	QSet() = default;
	/* Out of line and iterative: dropping a node drops its successors one
	 * by one (no recursion down a long list, no unrolled copies of this
	 * destructor inlined into the write path). */
	[[gnu::noinline]] ~QSet()
	{
		while (next) {
			KBox<QSet> after = move(next->next);
			next = move(after);
		}
	}
};

struct Where {
	u64 item;
	int s_pos;
	int q_pos;
};

/* The module-wide geometry: read lock-free (params::quantum.get()),
 * written only through these writers, kept inside a Mutex so that the
 * exchange ioctls are atomic. */
enum class Which { quantum, qset };
struct Geometry {
	ParamWriter<int> quantum, qset;
	ParamWriter<int> &operator[](Which w)
	{
		return w == Which::quantum ? quantum : qset;
	}
};

/* What all devices share; owned by the module, handed to each device. */
struct Shared {
	QuantumPool quanta;
	Mutex<Geometry> geometry{ KCXX_LOCK_CLASS(scull_cxx_param_lock) };
};

/* One device's contents; only ever touched through its Mutex. */
struct DevState {
	KBox<QSet> data; /* first quantum set */
	int quantum = 0; /* this device's quantum size, fixed until trim */
	int qset = 0; /* this device's array size, fixed until trim */
	loff_t size = 0; /* bytes stored: one past the highest written */

	/* Free all data (iteratively: no recursion down the list) and adopt
	 * the current module-wide geometry. */
	void trim(QuantumPool &pool)
	{
		kcxx_trace::scull_trim(size, quantum, qset);
		for (QSet *q = data.get(); q; q = q->next.get())
			if (q->data) {
				for (int i = 0; i < qset; i++)
					pool.free(q->data[i], quantum);
				kcxx_trace::scull_qset_free(qset, quantum);
			}
		data.reset(); /* the nodes and pointer arrays (~QSet: iterative) */
		size = 0;
		quantum = params::quantum.get();
		qset = params::qset.get();
	}

	/* The n-th quantum set, or null.  n is tested before q: for set 0
	 * (the common case) q is tested once, by the caller (GCC otherwise
	 * may test it in the loop and again after it). */
	QSet *follow(u64 n)
	{
		QSet *q = data.get();
		while (n-- && q)
			q = q->next.get();
		return q;
	}

	/* The n-th quantum set, creating missing nodes. */
	QSet *follow_alloc(u64 n)
	{
		KBox<QSet> *link = &data;
		for (;;) {
			if (!*link) {
				if (params::fail_alloc_nth.should_fail())
					return nullptr;
				auto node = KBox<QSet>::try_new(gfp::kernel);
				if (!node)
					return nullptr;
				*link = node.take();
			}
			if (n-- == 0)
				return link->get();
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

	/* The scull_read/scull_write event of len bytes that ended at end (one
	 * per call, however many quanta it crossed; item and index are those of
	 * its first byte), out of line and called only behind the event's key:
	 * it locates the start again rather than have the caller keep item and
	 * index (or the start) live across the copy, a spill and a reload per
	 * op while tracing is off (seen in the disassembly;
	 * tests/icount/test-trace-cost.sh). */
	[[gnu::noinline, gnu::cold]] void trace_rw(bool write, const loff_t &end, usize len) const
	{
		loff_t pos = end - (loff_t)len;
		Where w = locate(pos);
		if (write)
			kcxx_trace::scull_write(pos, len, w.item, w.s_pos);
		else
			kcxx_trace::scull_read(pos, len, w.item, w.s_pos);
	}

	/* Step w to the start of the next quantum. */
	void next_quantum(Where &w) const
	{
		w.q_pos = 0;
		if (++w.s_pos == qset) {
			w.s_pos = 0;
			w.item++;
		}
	}

	/* The bytes of this call that fit from w on: all, or with
	 * ldd3_short_io (LDD3) at most the rest of the current quantum. */
	usize clamp_io(const Where &w, usize count) const
	{
		if (params::ldd3_short_io.get())
			return min(count, (usize)(quantum - w.q_pos));
		return count;
	}

	/* Fill `out` from pos on, quantum by quantum; the bytes copied, fewer
	 * than out.left() only on a fault.  pos + out.left() within the data. */
	usize read_quanta(UserSlice::Writer &out, loff_t pos)
	{
		Where w = locate(pos);
		out.truncate(clamp_io(w, out.left()));
		usize count = out.left();
		while (out.left()) {
			usize chunk = min(out.left(), (usize)(quantum - w.q_pos));
			QSet *dptr = follow(w.item);
			void *mem = dptr && dptr->data ? dptr->data[w.s_pos] : nullptr;
			usize left =
				mem ? out.write_partial(static_cast<char *>(mem) + w.q_pos, chunk) :
				      out.clear(chunk); /* a hole reads as zeros */
			if (left)
				break;
			next_quantum(w);
		}
		return count - out.left();
	}

	/* Store all of `in` at pos, quantum by quantum, allocating what is
	 * missing; the bytes copied, or -ENOMEM / -EFAULT when the first
	 * quantum failed. */
	Result<usize> write_quanta(QuantumPool &pool, UserSlice::Reader &in, loff_t pos)
	{
		Where w = locate(pos);
		in.truncate(clamp_io(w, in.left()));
		usize count = in.left();
		Error err = errc::fault;
		while (in.left()) {
			usize chunk = min(in.left(), (usize)(quantum - w.q_pos));
			void *mem = quantum_for_write(pool, w);
			if (!mem) {
				err = errc::nomem;
				break;
			}
			/* not copy_from_user(): on a fault it would zero stored data */
			if (in.read_partial_nozero(static_cast<char *>(mem) + w.q_pos, chunk))
				break;
			next_quantum(w);
		}
		if (in.left() == count)
			return err;
		return count - in.left();
	}

	/* The quantum holding w, allocating what is missing.  The common case
	 * (all there) is inlined; the allocations are out of line, as C's
	 * scull_c_quantum_for_write is (fewer registers live in write()). */
	void *quantum_for_write(QuantumPool &pool, const Where &w)
	{
		QSet *dptr = follow(w.item);
		if (kcxx_likely(dptr && dptr->data && dptr->data[w.s_pos]))
			return dptr->data[w.s_pos];
		return quantum_alloc(pool, w);
	}
	[[gnu::noinline]] void *quantum_alloc(QuantumPool &pool, Where w)
	{
		QSet *dptr = follow_alloc(w.item);
		if (!dptr)
			return nullptr;
		if (!dptr->data) {
			if (params::fail_alloc_nth.should_fail())
				return nullptr;
			if (!dptr->data.try_init(qset, gfp::kernel | gfp::nowarn))
				return nullptr;
			kcxx_trace::scull_qset_alloc(w.item, qset, quantum);
		}
		if (!dptr->data[w.s_pos])
			dptr->data[w.s_pos] = pool.alloc(quantum);
		return dptr->data[w.s_pos];
	}
};

/* A device's context, handed to open() by its cdev registration. */
struct ScullDevice {
	Mutex<DevState> state{ KCXX_LOCK_CLASS(scull_cxx_dev) };
	Shared &shared;

	explicit ScullDevice(Shared &s)
		: shared(s)
	{
	}
	~ScullDevice()
	{
		state.lock()->trim(shared.quanta);
	}
};
using ScullRegistration = CdevRegistration<ScullDevice>;

struct Scull {
	using Registration = ScullRegistration;
	using Data = ScullDevice;
	static constexpr auto kernel_compat_ioctl = fs::compat_ptr_ioctl;
	/* memory is as durable as it gets: fio, dd conv=fsync */
	static constexpr auto kernel_fsync = &noop_fsync;

	static Result<ScullDevice *> open(ScullDevice &dev, File f)
	{
		/* LDD3: opening write-only truncates the device. */
		if (f.write_only()) {
			auto st = KCXX_TRY(dev.state.lock_interruptible());
			st->trim(dev.shared.quanta);
		}
		return &dev;
	}

	static void release(ScullDevice &, File)
	{
	}

	static Result<usize> read(ScullDevice &dev, File, UserSlice::Writer out, loff_t &f_pos)
	{
		loff_t pos = f_pos;

		if (pos < 0)
			return errc::inval;
		auto st = KCXX_TRY(dev.state.lock_interruptible());
		if (pos >= st->size || out.left() == 0)
			return 0;
		out.truncate(st->size - pos);
		usize done = st->read_quanta(out, pos);
		if (done == 0)
			return errc::fault;
		f_pos = pos + done;
		if (kcxx_trace::scull_read.is_enabled())
			st->trace_rw(false, f_pos, done);
		return done;
	}

	static Result<usize> write(ScullDevice &dev, File, UserSlice::Reader in, loff_t &f_pos)
	{
		long max_bytes = params::max_bytes.get();
		loff_t pos = f_pos;

		if (pos < 0 || in.left() > (usize)__LONG_LONG_MAX__)
			return errc::inval;
		KCXX_TRY(checked_add(pos, (loff_t)in.left(), errc::inval)); /* offsets never wrap */
		if (in.left() == 0)
			return 0;
		if (pos >= max_bytes)
			return errc::nospc;
		in.truncate(max_bytes - pos); /* short write up to the cap */

		auto st = KCXX_TRY(dev.state.lock_interruptible());
		usize done = KCXX_TRY(st->write_quanta(dev.shared.quanta, in, pos));
		f_pos = pos + done;
		if (st->size < f_pos)
			st->size = f_pos;
		if (kcxx_trace::scull_write.is_enabled())
			st->trace_rw(true, f_pos, done);
		return done;
	}

	static Result<loff_t> llseek(ScullDevice &dev, File f, loff_t off, int whence)
	{
		loff_t base;

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
		loff_t newpos = KCXX_TRY(checked_add(base, off, errc::inval));
		if (newpos < 0)
			return errc::inval;
		f.pos() = newpos;
		return newpos;
	}

	/* The geometry setters are out of line, as C's scull_c_ioc_* (the
	 * compiler's choice there), and return the C convention in one
	 * register (setter()): the entry point then saves no more registers
	 * and needs no stack slot on the getters (ioctl_qquantum). */
	template <auto F, class... A> [[gnu::noinline]] static long setter(A... args)
	{
		return to_errno_long(F(args...));
	}

	/* S: set a geometry value through a pointer. */
	static Result<long> ioc_set(ScullDevice *dev, Which param, unsigned long arg)
	{
		Shared &sh = dev->shared;

		if (!has_capability(Cap::sys_admin))
			return errc::perm;
		int val = KCXX_TRY(UserPtr<int>(arg).read());
		if (val <= 0)
			return errc::inval;
		auto g = sh.geometry.lock();
		(*g)[param].set(val);
		return 0;
	}
	/* T: tell a geometry value directly in the argument. */
	static Result<long> ioc_tell(ScullDevice *dev, Which param, unsigned long arg)
	{
		Shared &sh = dev->shared;

		if (!has_capability(Cap::sys_admin))
			return errc::perm;
		if (arg == 0 || arg > (unsigned long)KABI_INT_MAX)
			return errc::inval;
		auto g = sh.geometry.lock();
		(*g)[param].set((int)arg);
		return 0;
	}
	/* X: exchange through a pointer; on -EFAULT nothing changes. */
	static Result<long> ioc_exchange(ScullDevice *dev, Which param, unsigned long arg)
	{
		Shared &sh = dev->shared;

		if (!has_capability(Cap::sys_admin))
			return errc::perm;
		UserPtr<int> uarg(arg);
		int val = KCXX_TRY(uarg.read());
		if (val <= 0)
			return errc::inval;
		auto g = sh.geometry.lock();
		KCXX_TRY(uarg.write((*g)[param].get()));
		(*g)[param].set(val);
		return 0;
	}
	/* H: shift, i.e. tell the new value and return the old one. */
	static Result<long> ioc_shift(ScullDevice *dev, Which param, unsigned long arg)
	{
		Shared &sh = dev->shared;

		if (!has_capability(Cap::sys_admin))
			return errc::perm;
		if (arg == 0 || arg > (unsigned long)KABI_INT_MAX)
			return errc::inval;
		auto g = sh.geometry.lock();
		int old = (*g)[param].get();
		(*g)[param].set((int)arg);
		return old;
	}
	static Result<long> ioc_reset(ScullDevice *dev)
	{
		Shared &sh = dev->shared;

		auto g = sh.geometry.lock();
		g->quantum.set(SCULL_QUANTUM_DEFAULT);
		g->qset.set(SCULL_QSET_DEFAULT);
		return 0;
	}

	/* The geometry changers: the commands that need the device. */
	static Result<long> ioc_change(ScullDevice &dev, unsigned cmd, unsigned long arg)
	{
		switch (cmd) {
		case SCULL_IOCRESET:
			return from_errno_long(setter<ioc_reset>(&dev));
		case SCULL_IOCSQUANTUM:
			return from_errno_long(setter<ioc_set>(&dev, Which::quantum, arg));
		case SCULL_IOCSQSET:
			return from_errno_long(setter<ioc_set>(&dev, Which::qset, arg));
		case SCULL_IOCTQUANTUM:
			return from_errno_long(setter<ioc_tell>(&dev, Which::quantum, arg));
		case SCULL_IOCTQSET:
			return from_errno_long(setter<ioc_tell>(&dev, Which::qset, arg));
		case SCULL_IOCXQUANTUM:
			return from_errno_long(setter<ioc_exchange>(&dev, Which::quantum, arg));
		case SCULL_IOCXQSET:
			return from_errno_long(setter<ioc_exchange>(&dev, Which::qset, arg));
		case SCULL_IOCHQUANTUM:
			return from_errno_long(setter<ioc_shift>(&dev, Which::quantum, arg));
		case SCULL_IOCHQSET:
			return from_errno_long(setter<ioc_shift>(&dev, Which::qset, arg));
		default:
			return errc::notty;
		}
	}

	/* The getters read the module parameters, as C reads its globals; only
	 * the changers fetch the device (DataRef: no private_data load on the
	 * getters' path, icount ioctl_qquantum). */
	static Result<long> ioctl(kcxx::fs::DataRef<Scull> dev, File, unsigned cmd,
				  unsigned long arg)
	{
		if (ioctl::type(cmd) != SCULL_IOC_MAGIC || ioctl::nr(cmd) > SCULL_IOC_MAXNR)
			return errc::notty;

		switch (cmd) {
		case SCULL_IOCGQUANTUM:
			KCXX_TRY(UserPtr<int>(arg).write(params::quantum.get()));
			return 0;
		case SCULL_IOCGQSET:
			KCXX_TRY(UserPtr<int>(arg).write(params::qset.get()));
			return 0;
		case SCULL_IOCQQUANTUM:
			return params::quantum.get();
		case SCULL_IOCQQSET:
			return params::qset.get();
		default:
			return ioc_change(dev.get(), cmd, arg);
		}
	}
};

} // namespace

KCXX_FILE_OPERATIONS(Scull, scull_cxx, , llseek, read, write, unlocked_ioctl, open, release)

namespace
{

/* One minor: its cdev with the device's data, then its /dev node. */
struct ScullSlot {
	ScullRegistration cdev;
	DeviceNode node;
	explicit ScullSlot(Shared &sh)
		: cdev(sh)
	{
	}
};

struct ScullModule {
	/* destroyed bottom-up: devices, class, region, then the shared cache */
	Shared shared;
	ChrdevRegion region;
	DeviceClass cls;
	KArray<ScullSlot> devices;

	static Result<void> check_params()
	{
		int nr_devs = params::nr_devs.get(), quantum = params::quantum.get();
		int qset = params::qset.get();
		long max_bytes = params::max_bytes.get();
		unsigned short mode = params::mode.get();

		if (nr_devs <= 0 || nr_devs > nr_devs_max) {
			pr_err("nr_devs=%d: must be 1..%d\n", nr_devs, nr_devs_max);
			return errc::inval;
		}
		if (quantum <= 0 || qset <= 0) {
			pr_err("quantum=%d qset=%d: both must be > 0\n", quantum, qset);
			return errc::inval;
		}
		if (max_bytes < 0) {
			pr_err("max_bytes=%ld: must be >= 0\n", max_bytes);
			return errc::inval;
		}
		if (mode & ~0777) {
			pr_err("mode=%#o: only permission bits are allowed\n", mode);
			return errc::inval;
		}
		return ok();
	}

	Result<void> create_cache(int quantum)
	{
		if ((unsigned long)quantum > cache_max) {
			pr_info("quantum=%d is above %lu: quanta come from kmalloc\n", quantum,
				cache_max);
			return ok();
		}
		KCXX_TRY(shared.quanta.cache.create_usercopy(KBUILD_MODNAME "_quantum", quantum, 0,
							     0, 0, quantum));
		shared.quanta.cache_size = quantum;
		return ok();
	}

	Result<void> setup_dev(int i)
	{
		ScullSlot &slot = devices[i];
		{
			auto st = slot.cdev.context().state.lock();
			st->quantum = params::quantum.get();
			st->qset = params::qset.get();
		}
		if (auto r = slot.cdev.add(fs::ops<Scull>, region.dev(i), 1); !r) {
			pr_err("cdev_add of minor %d failed: %d\n", i, r.error().to_errno());
			return r.error();
		}
		if (auto r = slot.node.create(cls, region.dev(i), SCULL_CXX_NODE "%d", i); !r) {
			pr_err("device_create of " SCULL_CXX_NODE "%d failed: %d\n", i,
			       r.error().to_errno());
			return r.error();
		}
		return ok();
	}

	Result<void> init()
	{
		KCXX_TRY(check_params());
		{
			auto g = shared.geometry.lock();
			g->quantum = KCXX_TRY(params::quantum.take_writer());
			g->qset = KCXX_TRY(params::qset.take_writer());
		}
		int nr_devs = params::nr_devs.get();
		KCXX_TRY(create_cache(params::quantum.get()));
		if (auto r = region.alloc(KBUILD_MODNAME, nr_devs); !r) {
			pr_err("alloc_chrdev_region failed: %d\n", r.error().to_errno());
			return r.error();
		}
		KCXX_TRY(cls.create(KBUILD_MODNAME, &DeviceClass::devnode_mode<&params::mode>));
		KCXX_TRY(devices.try_init(nr_devs, gfp::kernel, shared));
		for (int i = 0; i < nr_devs; i++)
			KCXX_TRY(setup_dev(i));
		pr_info("%d devices, quantum %d, qset %d, max_bytes %ld\n", nr_devs,
			params::quantum.get(), params::qset.get(), params::max_bytes.get());
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
KCXX_LOCK_SYMBOL(shared.geometry, scull_cxx_param_lock);
