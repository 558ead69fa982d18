// SPDX-License-Identifier: GPL-2.0
/*
 * scull_c.c - the LDD3 chapter 3 memory device ("scull"), in idiomatic C.
 *
 * Each of nr_devs devices (/dev/scull-c0 ...) is a growable file kept in
 * memory as a list of quantum sets: every list node holds an array of
 * qset pointers to quanta of quantum bytes.  Unlike LDD3 the device has
 * correct file semantics: holes read as zeros, read at or after the end
 * returns 0, pread/pwrite honour the offset, offsets never wrap, and a
 * per-device cap (max_bytes) gives -ENOSPC instead of eating memory.
 * A read or write moves the whole request across quanta (short only at the
 * end of data, at max_bytes, or at a fault or failed allocation after some
 * bytes), so fio, dd and cp work at any block size; ldd3_short_io=1 brings
 * back LDD3's transfer of at most the rest of the current quantum per call.
 *
 * Memory: quanta of the load-time quantum size come from the driver's own
 * kmem_cache "scull_c_quantum" (visible in /proc/slabinfo; slub_debug
 * reports leaks when it is destroyed at unload).  The quantum can be
 * changed by ioctl; a device picks the new size up at its next trim, and
 * quanta of any other size come from kmalloc.  All quanta of one device
 * have the device's quantum size, so free knows where each came from.
 * Quanta are zeroed: a hole inside a quantum must read as zeros, never as
 * stale kernel memory.
 *
 * Locking: one mutex per device guards its data and size.  The module-wide
 * quantum and qset (the module parameters, changed by ioctl as in LDD3)
 * are written under scull_c_param_lock so that the exchange ioctls are
 * atomic; readers use READ_ONCE.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>

#include <uapi/kmodlab.h>
#include <kmodlab/extra_work.h>
#include <uapi/scull.h>

#define KMODLAB_TRACE_SYSTEM scull_c
#define CREATE_TRACE_POINTS
#include <kmodlab/trace/scull.h>
#define KMODLAB_TP KMODLAB_TRACE_EMITTER
#include <kmodlab/trace/scull_events.h>

#define SCULL_C_NODE SCULL_NAME KMODLAB_DEV_SEP KMODLAB_VARIANT_C
/* Largest load-time quantum served by the cache (order-3 slabs). */
#define SCULL_C_CACHE_MAX (PAGE_SIZE << 3)
/* A sanity bound on nr_devs, far above any lab run. */
#define SCULL_C_NR_DEVS_MAX 256

static int scull_c_nr_devs = SCULL_NR_DEVS_DEFAULT;
static int scull_c_quantum = SCULL_QUANTUM_DEFAULT;
static int scull_c_qset = SCULL_QSET_DEFAULT;
static long scull_c_max_bytes = SCULL_MAX_BYTES_DEFAULT;
static ushort scull_c_mode = KMODLAB_DEV_MODE;

module_param_named(nr_devs, scull_c_nr_devs, int, 0444);
MODULE_PARM_DESC(nr_devs, "number of scull devices");
module_param_named(quantum, scull_c_quantum, int, 0444);
MODULE_PARM_DESC(quantum, "quantum size in bytes (changed by the quantum ioctls)");
module_param_named(qset, scull_c_qset, int, 0444);
MODULE_PARM_DESC(qset, "quanta per quantum set (changed by the qset ioctls)");
module_param_named(max_bytes, scull_c_max_bytes, long, 0444);
MODULE_PARM_DESC(max_bytes, "per-device size cap in bytes; writes past it get -ENOSPC");
module_param_named(mode, scull_c_mode, ushort, 0444);
MODULE_PARM_DESC(mode, "permission bits of the device nodes");
/* Writable at run time: read once per call (the tests flip it in sysfs). */
static bool scull_c_ldd3_short_io;
module_param_named(ldd3_short_io, scull_c_ldd3_short_io, bool, 0644);
MODULE_PARM_DESC(ldd3_short_io, "LDD3: a read or write stops at the end of its quantum");

/*
 * Test-only fault injection (tests/reliability): when N > 0, the N-th
 * allocation the driver makes from now on fails; the parameter counts down
 * (read it back to see how many are left) and is 0 again after the failure.
 * Covers every allocation on the write path: quantum set nodes, their
 * pointer arrays and the quanta.
 */
static int scull_c_fail_alloc_nth;
module_param_named(fail_alloc_nth, scull_c_fail_alloc_nth, int, 0600);
MODULE_PARM_DESC(fail_alloc_nth, "test only: fail the N-th allocation from now on (0: off)");

/* Test only: the planted cost of the calibration (kmodlab/extra_work.h). */
static unsigned int scull_c_extra_work;
module_param_named(extra_work, scull_c_extra_work, uint, 0644);
MODULE_PARM_DESC(extra_work, KMODLAB_EXTRA_WORK_DESC);

struct scull_c_qset {
	void **data;
	struct scull_c_qset *next;
};

struct scull_c_dev {
	struct scull_c_qset *data; /* first quantum set */
	int quantum; /* this device's quantum size, fixed until trim */
	int qset; /* this device's array size, fixed until trim */
	loff_t size; /* bytes stored: one past the highest written */
	struct mutex lock;
	struct cdev cdev;
};

static struct scull_c_dev *scull_c_devices;
static dev_t scull_c_devt;
static struct class *scull_c_class;
static struct kmem_cache *scull_c_cache;
static int scull_c_cache_size; /* quantum size the cache serves, 0: none */
static DEFINE_MUTEX(scull_c_param_lock);

/* True when this allocation is the one fail_alloc_nth asks to fail. */
static bool scull_c_fail_alloc(void)
{
	int n = READ_ONCE(scull_c_fail_alloc_nth);

	/* A lock-free countdown: sysfs writes the int with a plain store. */
	do {
		if (n <= 0)
			return false;
	} while (!try_cmpxchg(&scull_c_fail_alloc_nth, &n, n - 1));
	return n == 1;
}

static void *scull_c_quantum_alloc(int quantum)
{
	if (scull_c_fail_alloc())
		return NULL;
	if (quantum == scull_c_cache_size)
		return kmem_cache_zalloc(scull_c_cache, GFP_KERNEL);
	/* Any size root chose by ioctl: fail with -ENOMEM, not a warning. */
	return kzalloc(quantum, GFP_KERNEL | __GFP_NOWARN);
}

static void scull_c_quantum_free(void *quantum_mem, int quantum)
{
	if (!quantum_mem)
		return;
	if (quantum == scull_c_cache_size)
		kmem_cache_free(scull_c_cache, quantum_mem);
	else
		kfree(quantum_mem);
}

/* Free all data and adopt the current module-wide geometry.  Lock held. */
static void scull_c_trim(struct scull_c_dev *dev)
{
	struct scull_c_qset *dptr, *next;
	int i;

	trace_scull_trim(dev->size, dev->quantum, dev->qset);
	for (dptr = dev->data; dptr; dptr = next) {
		if (dptr->data) {
			for (i = 0; i < dev->qset; i++)
				scull_c_quantum_free(dptr->data[i], dev->quantum);
			kfree(dptr->data);
			trace_scull_qset_free(dev->qset, dev->quantum);
		}
		next = dptr->next;
		kfree(dptr);
	}
	dev->data = NULL;
	dev->size = 0;
	dev->quantum = READ_ONCE(scull_c_quantum);
	dev->qset = READ_ONCE(scull_c_qset);
}

/*
 * The n-th quantum set of the list; with alloc, missing nodes are created
 * (LDD3's scull_follow).  Without alloc a missing node is a hole: NULL.
 */
static struct scull_c_qset *scull_c_follow(struct scull_c_dev *dev, u64 n, bool alloc)
{
	struct scull_c_qset **link = &dev->data;

	for (;;) {
		if (!*link) {
			if (!alloc)
				return NULL;
			if (scull_c_fail_alloc())
				return NULL;
			*link = kzalloc(sizeof(**link), GFP_KERNEL);
			if (!*link)
				return NULL;
		}
		if (n-- == 0)
			return *link;
		link = &(*link)->next;
	}
}

/*
 * The number of quantum set qs in dev's list: for the scull_qset_alloc event
 * only (a walk, on the enabled path), so that the writer need not keep the
 * set's number live past scull_c_follow() while tracing is off.
 */
static u64 scull_c_qset_number(const struct scull_c_dev *dev, const struct scull_c_qset *qs)
{
	const struct scull_c_qset *p;
	u64 n = 0;

	for (p = dev->data; p && p != qs; p = p->next)
		n++;
	return n;
}

/* Where byte pos lives: quantum set number, index in the set, offset. */
struct scull_c_where {
	u64 item;
	int s_pos;
	int q_pos;
};

static void scull_c_locate(const struct scull_c_dev *dev, loff_t pos, struct scull_c_where *w)
{
	u64 itemsize = (u64)dev->quantum * dev->qset;
	u64 rest;

	w->item = div64_u64_rem(pos, itemsize, &rest);
	w->s_pos = div_u64(rest, dev->quantum);
	w->q_pos = rest - (u64)w->s_pos * dev->quantum;
}

/*
 * The scull_read/scull_write event of a transfer of len bytes that ended at
 * *f_pos (one per call, however many quanta it crossed; item and index are
 * those of its first byte), out of line and called only behind the event's
 * key.  It takes what the caller keeps live anyway (the held lock, for
 * mutex_unlock; f_pos; the result) and finds the device, the start and its
 * item and index again: passing any of those would keep one more value live
 * across the copy, a spill and a reload on every read and write while
 * tracing is off (seen in the disassembly; tests/icount/test-trace-cost.sh
 * measures it).
 */
static noinline __cold void scull_c_trace_rw(struct mutex *held, bool write, const loff_t *f_pos,
					     ssize_t len)
{
	const struct scull_c_dev *dev = container_of(held, struct scull_c_dev, lock);
	loff_t pos = *f_pos - len;
	struct scull_c_where w;

	scull_c_locate(dev, pos, &w);
	if (write)
		trace_scull_write(pos, len, w.item, w.s_pos);
	else
		trace_scull_read(pos, len, w.item, w.s_pos);
}

/* Step w to the start of the next quantum. */
static void scull_c_next_quantum(const struct scull_c_dev *dev, struct scull_c_where *w)
{
	w->q_pos = 0;
	if (++w->s_pos == dev->qset) {
		w->s_pos = 0;
		w->item++;
	}
}

/* The bytes of this call that fit from w on: all, or with ldd3_short_io
 * (LDD3) at most the rest of the current quantum. */
static size_t scull_c_clamp_io(const struct scull_c_dev *dev, const struct scull_c_where *w,
			       size_t count)
{
	if (READ_ONCE(scull_c_ldd3_short_io))
		return min_t(size_t, count, dev->quantum - w->q_pos);
	return count;
}

static int scull_c_open(struct inode *inode, struct file *filp)
{
	struct scull_c_dev *dev = container_of(inode->i_cdev, struct scull_c_dev, cdev);

	kmodlab_extra_work(&scull_c_extra_work);

	filp->private_data = dev;
	/* LDD3: opening write-only truncates the device. */
	if ((filp->f_flags & O_ACCMODE) == O_WRONLY) {
		if (mutex_lock_interruptible(&dev->lock))
			return -ERESTARTSYS;
		scull_c_trim(dev);
		mutex_unlock(&dev->lock);
	}
	return 0;
}

static int scull_c_release(struct inode *inode, struct file *filp)
{
	kmodlab_extra_work(&scull_c_extra_work);

	return 0;
}

/*
 * Copy count bytes at pos to buf, quantum by quantum; the bytes copied,
 * fewer only on a fault.  Lock held, count > 0, pos + count within the data.
 * The loop's one exit at its test (w stepped on after the last quantum too)
 * keeps the disabled scull_read tracepoint at its nop in scull_c_read: with
 * a break after the copy, GCC 12 moved the result through one more register
 * in the build with tracepoints only (a mov per read on 6.1 and 6.12, seen
 * in the disassembly; tests/icount/test-trace-cost.sh allows the nop alone).
 */
static size_t scull_c_read_quanta(struct scull_c_dev *dev, char __user *buf, size_t count,
				  loff_t pos)
{
	struct scull_c_qset *dptr;
	struct scull_c_where w;
	void *quantum_mem;
	size_t done = 0, chunk, left;

	scull_c_locate(dev, pos, &w);
	count = scull_c_clamp_io(dev, &w, count);
	do {
		chunk = min_t(size_t, count - done, dev->quantum - w.q_pos);
		dptr = scull_c_follow(dev, w.item, false);
		quantum_mem = dptr && dptr->data ? dptr->data[w.s_pos] : NULL;
		if (quantum_mem)
			left = copy_to_user(buf + done, quantum_mem + w.q_pos, chunk);
		else
			left = clear_user(buf + done, chunk); /* a hole reads as zeros */
		done += chunk - left;
		scull_c_next_quantum(dev, &w);
	} while (!left && done < count);
	return done;
}

static ssize_t scull_c_read(struct file *filp, char __user *buf, size_t count, loff_t *f_pos)
{
	struct scull_c_dev *dev = filp->private_data;
	loff_t pos = *f_pos;
	ssize_t ret = 0;

	kmodlab_extra_work(&scull_c_extra_work);

	if (pos < 0)
		return -EINVAL;
	if (mutex_lock_interruptible(&dev->lock))
		return -ERESTARTSYS;
	if (pos >= dev->size || count == 0)
		goto out;
	count = min_t(u64, count, dev->size - pos);
	ret = scull_c_read_quanta(dev, buf, count, pos);
	if (ret == 0) {
		ret = -EFAULT;
		goto out;
	}
	*f_pos = pos + ret;
	if (trace_scull_read_enabled())
		scull_c_trace_rw(&dev->lock, false, f_pos, ret);
out:
	mutex_unlock(&dev->lock);
	return ret;
}

/* The quantum holding w, allocating what is missing.  Lock held. */
static void *scull_c_quantum_for_write(struct scull_c_dev *dev, const struct scull_c_where *w)
{
	struct scull_c_qset *dptr;

	dptr = scull_c_follow(dev, w->item, true);
	if (!dptr)
		return NULL;
	if (!dptr->data) {
		if (scull_c_fail_alloc())
			return NULL;
		dptr->data = kcalloc(dev->qset, sizeof(*dptr->data), GFP_KERNEL | __GFP_NOWARN);
		if (!dptr->data)
			return NULL;
		kmodlab_trace(scull_qset_alloc, scull_c_qset_number(dev, dptr), dev->qset,
			      dev->quantum);
	}
	if (!dptr->data[w->s_pos])
		dptr->data[w->s_pos] = scull_c_quantum_alloc(dev->quantum);
	return dptr->data[w->s_pos];
}

/*
 * Copy count bytes from buf to the device at pos, quantum by quantum,
 * allocating what is missing; the bytes copied, or -ENOMEM / -EFAULT when
 * the first quantum failed.  Lock held.
 */
static ssize_t scull_c_write_quanta(struct scull_c_dev *dev, const char __user *buf, size_t count,
				    loff_t pos)
{
	struct scull_c_where w;
	void *quantum_mem;
	size_t done = 0, chunk, left;
	ssize_t err = -EFAULT;

	scull_c_locate(dev, pos, &w);
	count = scull_c_clamp_io(dev, &w, count);
	while (done < count) {
		chunk = min_t(size_t, count - done, dev->quantum - w.q_pos);
		quantum_mem = scull_c_quantum_for_write(dev, &w);
		if (!quantum_mem) {
			err = -ENOMEM;
			break;
		}
		/*
		 * Not copy_from_user(): on a fault it zeroes the rest of the
		 * destination, which would wipe stored data on a failed write.
		 */
		left = chunk;
		if (access_ok(buf + done, chunk))
			left = __copy_from_user(quantum_mem + w.q_pos, buf + done, chunk);
		done += chunk - left;
		if (left)
			break;
		scull_c_next_quantum(dev, &w);
	}
	return done ? done : err;
}

static ssize_t scull_c_write(struct file *filp, const char __user *buf, size_t count, loff_t *f_pos)
{
	struct scull_c_dev *dev = filp->private_data;
	long max_bytes = READ_ONCE(scull_c_max_bytes);
	loff_t pos = *f_pos, end;
	ssize_t ret;

	kmodlab_extra_work(&scull_c_extra_work);

	if (pos < 0 || count > LLONG_MAX || check_add_overflow(pos, (loff_t)count, &end))
		return -EINVAL;
	if (count == 0)
		return 0;
	if (pos >= max_bytes)
		return -ENOSPC;
	count = min_t(u64, count, max_bytes - pos); /* short write up to the cap */

	if (mutex_lock_interruptible(&dev->lock))
		return -ERESTARTSYS;
	ret = scull_c_write_quanta(dev, buf, count, pos);
	if (ret < 0)
		goto out;
	*f_pos = pos + ret;
	if (dev->size < *f_pos)
		dev->size = *f_pos;
	if (trace_scull_write_enabled())
		scull_c_trace_rw(&dev->lock, true, f_pos, ret);
out:
	mutex_unlock(&dev->lock);
	return ret;
}

static loff_t scull_c_llseek(struct file *filp, loff_t off, int whence)
{
	struct scull_c_dev *dev = filp->private_data;
	loff_t base, newpos;

	kmodlab_extra_work(&scull_c_extra_work);

	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = filp->f_pos;
		break;
	case SEEK_END:
		if (mutex_lock_interruptible(&dev->lock))
			return -ERESTARTSYS;
		base = dev->size;
		mutex_unlock(&dev->lock);
		break;
	default:
		return -EINVAL;
	}
	if (check_add_overflow(base, off, &newpos) || newpos < 0)
		return -EINVAL;
	filp->f_pos = newpos;
	return newpos;
}

/* S: set a geometry value through a pointer. */
static long scull_c_ioc_set(int *param, int __user *uarg)
{
	int val;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (get_user(val, uarg))
		return -EFAULT;
	if (val <= 0)
		return -EINVAL;
	mutex_lock(&scull_c_param_lock);
	WRITE_ONCE(*param, val);
	mutex_unlock(&scull_c_param_lock);
	return 0;
}

/* T: tell a geometry value directly in the argument. */
static long scull_c_ioc_tell(int *param, unsigned long arg)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (arg == 0 || arg > INT_MAX)
		return -EINVAL;
	mutex_lock(&scull_c_param_lock);
	WRITE_ONCE(*param, arg);
	mutex_unlock(&scull_c_param_lock);
	return 0;
}

/* X: exchange through a pointer; on -EFAULT nothing changes. */
static long scull_c_ioc_exchange(int *param, int __user *uarg)
{
	int val, old;
	long ret = 0;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (get_user(val, uarg))
		return -EFAULT;
	if (val <= 0)
		return -EINVAL;
	mutex_lock(&scull_c_param_lock);
	old = *param;
	if (put_user(old, uarg))
		ret = -EFAULT;
	else
		WRITE_ONCE(*param, val);
	mutex_unlock(&scull_c_param_lock);
	return ret;
}

/* H: shift, i.e. tell the new value and return the old one. */
static long scull_c_ioc_shift(int *param, unsigned long arg)
{
	int old;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (arg == 0 || arg > INT_MAX)
		return -EINVAL;
	mutex_lock(&scull_c_param_lock);
	old = *param;
	WRITE_ONCE(*param, arg);
	mutex_unlock(&scull_c_param_lock);
	return old;
}

static long scull_c_ioc_reset(void)
{
	mutex_lock(&scull_c_param_lock);
	WRITE_ONCE(scull_c_quantum, SCULL_QUANTUM_DEFAULT);
	WRITE_ONCE(scull_c_qset, SCULL_QSET_DEFAULT);
	mutex_unlock(&scull_c_param_lock);
	return 0;
}

static long scull_c_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	int __user *uarg = (int __user *)arg;

	kmodlab_extra_work(&scull_c_extra_work);

	if (_IOC_TYPE(cmd) != SCULL_IOC_MAGIC || _IOC_NR(cmd) > SCULL_IOC_MAXNR)
		return -ENOTTY;

	switch (cmd) {
	case SCULL_IOCRESET:
		return scull_c_ioc_reset();
	case SCULL_IOCSQUANTUM:
		return scull_c_ioc_set(&scull_c_quantum, uarg);
	case SCULL_IOCSQSET:
		return scull_c_ioc_set(&scull_c_qset, uarg);
	case SCULL_IOCTQUANTUM:
		return scull_c_ioc_tell(&scull_c_quantum, arg);
	case SCULL_IOCTQSET:
		return scull_c_ioc_tell(&scull_c_qset, arg);
	case SCULL_IOCGQUANTUM:
		return put_user(READ_ONCE(scull_c_quantum), uarg);
	case SCULL_IOCGQSET:
		return put_user(READ_ONCE(scull_c_qset), uarg);
	case SCULL_IOCQQUANTUM:
		return READ_ONCE(scull_c_quantum);
	case SCULL_IOCQQSET:
		return READ_ONCE(scull_c_qset);
	case SCULL_IOCXQUANTUM:
		return scull_c_ioc_exchange(&scull_c_quantum, uarg);
	case SCULL_IOCXQSET:
		return scull_c_ioc_exchange(&scull_c_qset, uarg);
	case SCULL_IOCHQUANTUM:
		return scull_c_ioc_shift(&scull_c_quantum, arg);
	case SCULL_IOCHQSET:
		return scull_c_ioc_shift(&scull_c_qset, arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations scull_c_fops = {
	.owner = THIS_MODULE,
	.llseek = scull_c_llseek,
	.read = scull_c_read,
	.write = scull_c_write,
	.unlocked_ioctl = scull_c_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.open = scull_c_open,
	.release = scull_c_release,
	.fsync = noop_fsync, /* memory is as durable as it gets: fio, dd conv=fsync */
};

/*
 * The two kernel API moves between the lab's kernels that a C driver sees
 * (kcxx hides them from the C++ drivers): devnode's device became const in
 * 6.2, class_create() lost its owner argument in 6.4.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define SCULL_C_DEVNODE_DEV struct device
#else
#define SCULL_C_DEVNODE_DEV const struct device
#endif
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
#define scull_c_class_create(name) class_create(THIS_MODULE, name)
#else
#define scull_c_class_create(name) class_create(name)
#endif

static char *scull_c_devnode(SCULL_C_DEVNODE_DEV *dev, umode_t *mode)
{
	if (mode)
		*mode = scull_c_mode;
	return NULL;
}

static int scull_c_setup_dev(int i)
{
	struct scull_c_dev *dev = &scull_c_devices[i];
	struct device *node;
	int err;

	mutex_init(&dev->lock);
	dev->quantum = scull_c_quantum;
	dev->qset = scull_c_qset;
	cdev_init(&dev->cdev, &scull_c_fops);
	dev->cdev.owner = THIS_MODULE;
	err = cdev_add(&dev->cdev, scull_c_devt + i, 1);
	if (err) {
		pr_err("cdev_add of minor %d failed: %d\n", i, err);
		return err;
	}
	node = device_create(scull_c_class, NULL, scull_c_devt + i, NULL, SCULL_C_NODE "%d", i);
	if (IS_ERR(node)) {
		pr_err("device_create of " SCULL_C_NODE "%d failed: %ld\n", i, PTR_ERR(node));
		cdev_del(&dev->cdev);
		return PTR_ERR(node);
	}
	return 0;
}

static void scull_c_remove_dev(int i)
{
	struct scull_c_dev *dev = &scull_c_devices[i];

	device_destroy(scull_c_class, scull_c_devt + i);
	cdev_del(&dev->cdev);
	scull_c_trim(dev);
}

static int scull_c_check_params(void)
{
	if (scull_c_nr_devs <= 0 || scull_c_nr_devs > SCULL_C_NR_DEVS_MAX) {
		pr_err("nr_devs=%d: must be 1..%d\n", scull_c_nr_devs, SCULL_C_NR_DEVS_MAX);
		return -EINVAL;
	}
	if (scull_c_quantum <= 0 || scull_c_qset <= 0) {
		pr_err("quantum=%d qset=%d: both must be > 0\n", scull_c_quantum, scull_c_qset);
		return -EINVAL;
	}
	if (scull_c_max_bytes < 0) {
		pr_err("max_bytes=%ld: must be >= 0\n", scull_c_max_bytes);
		return -EINVAL;
	}
	if (scull_c_mode & ~0777) {
		pr_err("mode=%#o: only permission bits are allowed\n", scull_c_mode);
		return -EINVAL;
	}
	return 0;
}

/* The quantum cache; copy_to/from_user may touch the whole object. */
static int scull_c_create_cache(void)
{
	if (scull_c_quantum > SCULL_C_CACHE_MAX) {
		pr_info("quantum=%d is above %lu: quanta come from kmalloc\n", scull_c_quantum,
			SCULL_C_CACHE_MAX);
		return 0;
	}
	scull_c_cache = kmem_cache_create_usercopy(KBUILD_MODNAME "_quantum", scull_c_quantum, 0, 0,
						   0, scull_c_quantum, NULL);
	if (!scull_c_cache)
		return -ENOMEM;
	scull_c_cache_size = scull_c_quantum;
	return 0;
}

static int __init scull_c_init(void)
{
	int err, i;

	err = scull_c_check_params();
	if (err)
		return err;
	err = scull_c_create_cache();
	if (err)
		return err;
	err = alloc_chrdev_region(&scull_c_devt, 0, scull_c_nr_devs, KBUILD_MODNAME);
	if (err) {
		pr_err("alloc_chrdev_region failed: %d\n", err);
		goto fail_cache;
	}
	scull_c_class = scull_c_class_create(KBUILD_MODNAME);
	if (IS_ERR(scull_c_class)) {
		err = PTR_ERR(scull_c_class);
		goto fail_region;
	}
	scull_c_class->devnode = scull_c_devnode;
	scull_c_devices = kcalloc(scull_c_nr_devs, sizeof(*scull_c_devices), GFP_KERNEL);
	if (!scull_c_devices) {
		err = -ENOMEM;
		goto fail_class;
	}
	for (i = 0; i < scull_c_nr_devs; i++) {
		err = scull_c_setup_dev(i);
		if (err)
			goto fail_devs;
	}
	pr_info("%d devices, quantum %d, qset %d, max_bytes %ld\n", scull_c_nr_devs,
		scull_c_quantum, scull_c_qset, scull_c_max_bytes);
	return 0;

fail_devs:
	while (i--)
		scull_c_remove_dev(i);
	kfree(scull_c_devices);
fail_class:
	class_destroy(scull_c_class);
fail_region:
	unregister_chrdev_region(scull_c_devt, scull_c_nr_devs);
fail_cache:
	kmem_cache_destroy(scull_c_cache);
	return err;
}

static void __exit scull_c_exit(void)
{
	int i;

	for (i = 0; i < scull_c_nr_devs; i++)
		scull_c_remove_dev(i);
	kfree(scull_c_devices);
	class_destroy(scull_c_class);
	unregister_chrdev_region(scull_c_devt, scull_c_nr_devs);
	kmem_cache_destroy(scull_c_cache);
	pr_info("unloaded\n");
}

module_init(scull_c_init);
module_exit(scull_c_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kmodlab");
MODULE_DESCRIPTION("scull memory device (LDD3 chapter 3), C reference driver");
