// SPDX-License-Identifier: GPL-2.0
/*
 * scullpipe_c.c - the LDD3 chapter 6 pipe device ("scullpipe"), in
 * idiomatic C.
 *
 * Each of nr_devs devices (/dev/scullpipe-c0 ...) is a FIFO kept in a ring
 * buffer of buffer_size bytes: count bytes from rp on, wrapping at the end.
 * uapi/scullpipe.h states the semantics both variants share:
 *  - read blocks while the buffer is empty, write while it is full;
 *    O_NONBLOCK gives -EAGAIN instead, a signal -ERESTARTSYS;
 *  - a write of at most SCULLPIPE_ATOMIC_WRITE bytes waits until it fits
 *    whole and is copied in one piece under the lock, so it is never
 *    interleaved with another writer's data; a larger write copies what
 *    fits and returns that count;
 *  - poll: POLLIN when data is there, POLLOUT when an atomic write fits.
 *
 * Locking, as LDD3: one mutex per device guards the ring.  Readers sleep
 * on inq, writers on outq, with the mutex released (wait_event_interruptible)
 * and the condition tested again under the mutex after every wake-up; each
 * side wakes the other after releasing the mutex.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/wait.h>

#include <uapi/kmodlab.h>
#include <kmodlab/extra_work.h>
#include <uapi/scullpipe.h>

#define KMODLAB_TRACE_SYSTEM scullpipe_c
#define CREATE_TRACE_POINTS
#include <kmodlab/trace/scullpipe.h>
#define KMODLAB_TP KMODLAB_TRACE_EMITTER
#include <kmodlab/trace/scullpipe_events.h>

#define SCULLPIPE_C_NODE SCULLPIPE_NAME KMODLAB_DEV_SEP KMODLAB_VARIANT_C
/* A sanity bound on nr_devs, far above any lab run. */
#define SCULLPIPE_C_NR_DEVS_MAX 256

static int scullpipe_c_nr_devs = SCULLPIPE_NR_DEVS_DEFAULT;
static int scullpipe_c_buffer_size = SCULLPIPE_BUFFER_DEFAULT;
static ushort scullpipe_c_mode = KMODLAB_DEV_MODE;

module_param_named(nr_devs, scullpipe_c_nr_devs, int, 0444);
MODULE_PARM_DESC(nr_devs, "number of scullpipe devices");
module_param_named(buffer_size, scullpipe_c_buffer_size, int, 0444);
MODULE_PARM_DESC(buffer_size, "ring buffer size per device in bytes");
module_param_named(mode, scullpipe_c_mode, ushort, 0444);
MODULE_PARM_DESC(mode, "permission bits of the device nodes");

/* Test only: the planted cost of the calibration (kmodlab/extra_work.h). */
static unsigned int scullpipe_c_extra_work;
module_param_named(extra_work, scullpipe_c_extra_work, uint, 0644);
MODULE_PARM_DESC(extra_work, KMODLAB_EXTRA_WORK_DESC);

struct scullpipe_c_dev {
	struct mutex lock; /* guards buf, rp, count */
	wait_queue_head_t inq; /* readers wait for data */
	wait_queue_head_t outq; /* writers wait for room */
	u8 *buf;
	size_t size; /* buffer_size at load */
	size_t rp; /* where the next read starts */
	size_t count; /* bytes in the buffer */
	struct cdev cdev;
};

static struct scullpipe_c_dev *scullpipe_c_devices;
static dev_t scullpipe_c_devt;
static struct class *scullpipe_c_class;

static size_t scullpipe_c_space(const struct scullpipe_c_dev *dev)
{
	return dev->size - dev->count;
}

static size_t scullpipe_c_wrap(const struct scullpipe_c_dev *dev, size_t i)
{
	return i >= dev->size ? i - dev->size : i;
}

/* Bytes that must fit before a write of n bytes may copy: all of them for
 * an atomic write, else any. */
static size_t scullpipe_c_write_needs(size_t n)
{
	return n <= SCULLPIPE_ATOMIC_WRITE ? n : 1;
}

static int scullpipe_c_open(struct inode *inode, struct file *filp)
{
	kmodlab_extra_work(&scullpipe_c_extra_work);
	filp->private_data = container_of(inode->i_cdev, struct scullpipe_c_dev, cdev);
	return stream_open(inode, filp); /* a FIFO: no seek, no pread/pwrite */
}

static int scullpipe_c_release(struct inode *inode, struct file *filp)
{
	kmodlab_extra_work(&scullpipe_c_extra_work);
	return 0;
}

/* Copy up to n buffered bytes to user space, in at most two runs; the
 * bytes copied (a fault stops early).  Called with dev->lock held. */
static size_t scullpipe_c_copy_out(struct scullpipe_c_dev *dev, char __user *buf, size_t n)
{
	size_t first, done;

	n = min(n, dev->count);
	first = min(n, dev->size - dev->rp);
	done = first - copy_to_user(buf, dev->buf + dev->rp, first);
	if (done == first && n > first)
		done += (n - first) - copy_to_user(buf + first, dev->buf, n - first);
	dev->rp = scullpipe_c_wrap(dev, dev->rp + done);
	dev->count -= done;
	return done;
}

/* Copy up to n bytes from user space behind the data; the bytes copied
 * (a fault stops early).  Called with dev->lock held. */
static size_t scullpipe_c_copy_in(struct scullpipe_c_dev *dev, const char __user *buf, size_t n)
{
	size_t wp = scullpipe_c_wrap(dev, dev->rp + dev->count);
	size_t first, done;

	n = min(n, scullpipe_c_space(dev));
	first = min(n, dev->size - wp);
	done = first - copy_from_user(dev->buf + wp, buf, first);
	if (done == first && n > first)
		done += (n - first) - copy_from_user(dev->buf, buf + first, n - first);
	dev->count += done;
	return done;
}

static ssize_t scullpipe_c_read(struct file *filp, char __user *buf, size_t count, loff_t *f_pos)
{
	struct scullpipe_c_dev *dev = filp->private_data;
	size_t done;

	kmodlab_extra_work(&scullpipe_c_extra_work);
	if (!count)
		return 0;
	if (mutex_lock_interruptible(&dev->lock))
		return -ERESTARTSYS;
	while (!dev->count) {
		if (filp->f_flags & O_NONBLOCK) {
			mutex_unlock(&dev->lock);
			return -EAGAIN;
		}
		kmodlab_trace(scullpipe_sleep, SCULLPIPE_WAIT_READER, dev->count, 1);
		mutex_unlock(&dev->lock);
		if (wait_event_interruptible(dev->inq, READ_ONCE(dev->count)))
			return -ERESTARTSYS;
		if (mutex_lock_interruptible(&dev->lock))
			return -ERESTARTSYS;
		kmodlab_trace(scullpipe_wake, SCULLPIPE_WAIT_READER, dev->count, 1);
	}
	done = scullpipe_c_copy_out(dev, buf, count);
	mutex_unlock(&dev->lock);
	if (!done)
		return -EFAULT;
	wake_up_interruptible(&dev->outq);
	return done;
}

static ssize_t scullpipe_c_write(struct file *filp, const char __user *buf, size_t count,
				 loff_t *f_pos)
{
	struct scullpipe_c_dev *dev = filp->private_data;
	size_t need = scullpipe_c_write_needs(count);
	size_t done;

	kmodlab_extra_work(&scullpipe_c_extra_work);
	if (!count)
		return 0;
	if (mutex_lock_interruptible(&dev->lock))
		return -ERESTARTSYS;
	while (scullpipe_c_space(dev) < need) {
		if (filp->f_flags & O_NONBLOCK) {
			mutex_unlock(&dev->lock);
			return -EAGAIN;
		}
		kmodlab_trace(scullpipe_sleep, SCULLPIPE_WAIT_WRITER, scullpipe_c_space(dev), need);
		mutex_unlock(&dev->lock);
		if (wait_event_interruptible(dev->outq, dev->size - READ_ONCE(dev->count) >= need))
			return -ERESTARTSYS;
		if (mutex_lock_interruptible(&dev->lock))
			return -ERESTARTSYS;
		kmodlab_trace(scullpipe_wake, SCULLPIPE_WAIT_WRITER, scullpipe_c_space(dev), need);
	}
	done = scullpipe_c_copy_in(dev, buf, count);
	mutex_unlock(&dev->lock);
	if (!done)
		return -EFAULT;
	wake_up_interruptible(&dev->inq);
	return done;
}

static __poll_t scullpipe_c_poll(struct file *filp, poll_table *wait)
{
	struct scullpipe_c_dev *dev = filp->private_data;
	__poll_t mask = 0;

	kmodlab_extra_work(&scullpipe_c_extra_work);
	poll_wait(filp, &dev->inq, wait);
	poll_wait(filp, &dev->outq, wait);
	mutex_lock(&dev->lock);
	if (dev->count)
		mask |= EPOLLIN | EPOLLRDNORM;
	if (scullpipe_c_space(dev) >= SCULLPIPE_ATOMIC_WRITE)
		mask |= EPOLLOUT | EPOLLWRNORM;
	mutex_unlock(&dev->lock);
	return mask;
}

static const struct file_operations scullpipe_c_fops = {
	.owner = THIS_MODULE,
	.read = scullpipe_c_read,
	.write = scullpipe_c_write,
	.poll = scullpipe_c_poll,
	.open = scullpipe_c_open,
	.release = scullpipe_c_release,
};

/* The two class API moves between the lab's kernels (as in scull_c.c). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define SCULLPIPE_C_DEVNODE_DEV struct device
#else
#define SCULLPIPE_C_DEVNODE_DEV const struct device
#endif
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
#define scullpipe_c_class_create(name) class_create(THIS_MODULE, name)
#else
#define scullpipe_c_class_create(name) class_create(name)
#endif

static char *scullpipe_c_devnode(SCULLPIPE_C_DEVNODE_DEV *dev, umode_t *mode)
{
	if (mode)
		*mode = scullpipe_c_mode;
	return NULL;
}

static int scullpipe_c_setup_dev(int i)
{
	struct scullpipe_c_dev *dev = &scullpipe_c_devices[i];
	struct device *node;
	int err;

	mutex_init(&dev->lock);
	init_waitqueue_head(&dev->inq);
	init_waitqueue_head(&dev->outq);
	dev->size = scullpipe_c_buffer_size;
	dev->buf = kzalloc(dev->size, GFP_KERNEL);
	if (!dev->buf)
		return -ENOMEM;
	cdev_init(&dev->cdev, &scullpipe_c_fops);
	dev->cdev.owner = THIS_MODULE;
	err = cdev_add(&dev->cdev, scullpipe_c_devt + i, 1);
	if (err) {
		pr_err("cdev_add of minor %d failed: %d\n", i, err);
		goto fail_buf;
	}
	node = device_create(scullpipe_c_class, NULL, scullpipe_c_devt + i, NULL,
			     SCULLPIPE_C_NODE "%d", i);
	if (IS_ERR(node)) {
		err = PTR_ERR(node);
		pr_err("device_create of " SCULLPIPE_C_NODE "%d failed: %d\n", i, err);
		goto fail_cdev;
	}
	return 0;

fail_cdev:
	cdev_del(&dev->cdev);
fail_buf:
	kfree(dev->buf);
	return err;
}

static void scullpipe_c_remove_dev(int i)
{
	struct scullpipe_c_dev *dev = &scullpipe_c_devices[i];

	device_destroy(scullpipe_c_class, scullpipe_c_devt + i);
	cdev_del(&dev->cdev);
	kfree(dev->buf);
}

static int scullpipe_c_check_params(void)
{
	if (scullpipe_c_nr_devs <= 0 || scullpipe_c_nr_devs > SCULLPIPE_C_NR_DEVS_MAX) {
		pr_err("nr_devs=%d: must be 1..%d\n", scullpipe_c_nr_devs, SCULLPIPE_C_NR_DEVS_MAX);
		return -EINVAL;
	}
	if (scullpipe_c_buffer_size < SCULLPIPE_ATOMIC_WRITE ||
	    scullpipe_c_buffer_size > SCULLPIPE_BUFFER_MAX) {
		pr_err("buffer_size=%d: must be %d..%d\n", scullpipe_c_buffer_size,
		       SCULLPIPE_ATOMIC_WRITE, SCULLPIPE_BUFFER_MAX);
		return -EINVAL;
	}
	if (scullpipe_c_mode & ~0777) {
		pr_err("mode=%#o: only permission bits are allowed\n", scullpipe_c_mode);
		return -EINVAL;
	}
	return 0;
}

static int __init scullpipe_c_init(void)
{
	int err, i;

	err = scullpipe_c_check_params();
	if (err)
		return err;
	err = alloc_chrdev_region(&scullpipe_c_devt, 0, scullpipe_c_nr_devs, KBUILD_MODNAME);
	if (err) {
		pr_err("alloc_chrdev_region failed: %d\n", err);
		return err;
	}
	scullpipe_c_class = scullpipe_c_class_create(KBUILD_MODNAME);
	if (IS_ERR(scullpipe_c_class)) {
		err = PTR_ERR(scullpipe_c_class);
		goto fail_region;
	}
	scullpipe_c_class->devnode = scullpipe_c_devnode;
	scullpipe_c_devices =
		kcalloc(scullpipe_c_nr_devs, sizeof(*scullpipe_c_devices), GFP_KERNEL);
	if (!scullpipe_c_devices) {
		err = -ENOMEM;
		goto fail_class;
	}
	for (i = 0; i < scullpipe_c_nr_devs; i++) {
		err = scullpipe_c_setup_dev(i);
		if (err)
			goto fail_devs;
	}
	pr_info("%d devices, buffer_size %d\n", scullpipe_c_nr_devs, scullpipe_c_buffer_size);
	return 0;

fail_devs:
	while (i--)
		scullpipe_c_remove_dev(i);
	kfree(scullpipe_c_devices);
fail_class:
	class_destroy(scullpipe_c_class);
fail_region:
	unregister_chrdev_region(scullpipe_c_devt, scullpipe_c_nr_devs);
	return err;
}

static void __exit scullpipe_c_exit(void)
{
	int i;

	for (i = 0; i < scullpipe_c_nr_devs; i++)
		scullpipe_c_remove_dev(i);
	kfree(scullpipe_c_devices);
	class_destroy(scullpipe_c_class);
	unregister_chrdev_region(scullpipe_c_devt, scullpipe_c_nr_devs);
	pr_info("unloaded\n");
}

module_init(scullpipe_c_init);
module_exit(scullpipe_c_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kmodlab");
MODULE_DESCRIPTION("scullpipe FIFO device (LDD3 chapter 6), C reference driver");
