// SPDX-License-Identifier: GPL-2.0
/*
 * counter_c.c - a misc device holding one signed 64-bit counter, in C.
 *
 * /dev/counter-c: read() returns the value as decimal text and "\n" (EOF
 * after it, offset based), write() adds a decimal number to it, ioctls
 * reset, get and set it.  The module parameter sync= chooses how the value
 * is protected: a mutex, a spinlock or an atomic64_t.
 *
 * The idiomatic C way, kept on purpose: every operation switches on the
 * mode at run time.  (The C++ driver picks a file_operations table once at
 * load; the lab measures the difference.)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <uapi/counter.h>
#include <uapi/kmodlab.h>
#include <kmodlab/extra_work.h>

#define KMODLAB_TRACE_SYSTEM counter_c
#define CREATE_TRACE_POINTS
#include <kmodlab/trace/counter.h>
#define KMODLAB_TP KMODLAB_TRACE_EMITTER
#include <kmodlab/trace/counter_events.h>

#define COUNTER_C_NODE COUNTER_NAME KMODLAB_DEV_SEP KMODLAB_VARIANT_C

enum counter_c_sync {
	COUNTER_C_MUTEX,
	COUNTER_C_SPINLOCK,
	COUNTER_C_ATOMIC,
};

static const char *const counter_c_sync_names[] = COUNTER_SYNC_MODES;

static char *counter_c_sync_param = COUNTER_SYNC_DEFAULT;
module_param_named(sync, counter_c_sync_param, charp, 0444);
MODULE_PARM_DESC(sync, "how the value is protected: mutex, spinlock or atomic");

static ushort counter_c_mode = KMODLAB_DEV_MODE;
module_param_named(mode, counter_c_mode, ushort, 0444);
MODULE_PARM_DESC(mode, "permission bits of the device node");

/* Test only: the planted cost of the calibration (kmodlab/extra_work.h). */
static unsigned int counter_c_extra_work;
module_param_named(extra_work, counter_c_extra_work, uint, 0644);
MODULE_PARM_DESC(extra_work, KMODLAB_EXTRA_WORK_DESC);

static enum counter_c_sync counter_c_sync;
static s64 counter_c_value; /* under the mutex or the spinlock */
static atomic64_t counter_c_atomic = ATOMIC64_INIT(0);
static DEFINE_MUTEX(counter_c_mutex);
static DEFINE_SPINLOCK(counter_c_spinlock);

/* Read the value; only the mutex wait can fail (-ERESTARTSYS). */
static int counter_c_get(s64 *val)
{
	switch (counter_c_sync) {
	case COUNTER_C_MUTEX:
		if (mutex_lock_interruptible(&counter_c_mutex))
			return -ERESTARTSYS;
		*val = counter_c_value;
		mutex_unlock(&counter_c_mutex);
		break;
	case COUNTER_C_SPINLOCK:
		spin_lock(&counter_c_spinlock);
		*val = counter_c_value;
		spin_unlock(&counter_c_spinlock);
		break;
	case COUNTER_C_ATOMIC:
		*val = atomic64_read(&counter_c_atomic);
		break;
	}
	return 0;
}

static int counter_c_set(s64 val)
{
	switch (counter_c_sync) {
	case COUNTER_C_MUTEX:
		if (mutex_lock_interruptible(&counter_c_mutex))
			return -ERESTARTSYS;
		counter_c_value = val;
		mutex_unlock(&counter_c_mutex);
		break;
	case COUNTER_C_SPINLOCK:
		spin_lock(&counter_c_spinlock);
		counter_c_value = val;
		spin_unlock(&counter_c_spinlock);
		break;
	case COUNTER_C_ATOMIC:
		atomic64_set(&counter_c_atomic, val);
		break;
	}
	return 0;
}

/*
 * value += delta, or -ERANGE and no change if the sum overflows.  The
 * event's arguments cost nothing while it is off (kmodlab_trace: evaluated
 * behind the key): the caller's constant mode, not counter_c_sync, and the
 * old value re-read there with READ_ONCE (under the lock, the same value): a
 * plain *value shares the addition's load and splits "add mem, reg" into a
 * load and an add.  Always inline: the event made the compiler call it.
 */
static __always_inline int counter_c_add_locked(s64 *value, s64 delta, enum counter_c_sync sync)
{
	s64 sum;

	if (check_add_overflow(*value, delta, &sum))
		return -ERANGE;
	kmodlab_trace(counter_change, READ_ONCE(*value), sum, sync);
	*value = sum;
	return 0;
}

/* The lock-free add: *old and *sum are the value before and after it. */
static __always_inline int counter_c_atomic_add(s64 delta, s64 *old, s64 *sum)
{
	*old = atomic64_read(&counter_c_atomic);
	do {
		if (check_add_overflow(*old, delta, sum))
			return -ERANGE;
	} while (!atomic64_try_cmpxchg(&counter_c_atomic, old, *sum));
	return 0;
}

/* The same with its counter_change event: only while the event is on. */
static noinline __cold int counter_c_add_atomic_traced(s64 delta)
{
	s64 old, sum;
	int err = counter_c_atomic_add(delta, &old, &sum);

	if (!err)
		trace_counter_change(old, sum, COUNTER_C_ATOMIC);
	return err;
}

/*
 * The event's key is tested before the cmpxchg loop, not after it: there,
 * the loop's exit fell through the key's nop into a jump to the switch's
 * shared exit (+2 instructions while off, where the build without
 * tracepoints leaves the loop by one conditional branch straight to it).
 */
static int counter_c_add_atomic(s64 delta)
{
	s64 old, sum;

	if (trace_counter_change_enabled())
		return counter_c_add_atomic_traced(delta);
	return counter_c_atomic_add(delta, &old, &sum);
}

static int counter_c_add(s64 delta)
{
	int ret = 0;

	switch (counter_c_sync) {
	case COUNTER_C_MUTEX:
		if (mutex_lock_interruptible(&counter_c_mutex))
			return -ERESTARTSYS;
		ret = counter_c_add_locked(&counter_c_value, delta, COUNTER_C_MUTEX);
		mutex_unlock(&counter_c_mutex);
		break;
	case COUNTER_C_SPINLOCK:
		spin_lock(&counter_c_spinlock);
		ret = counter_c_add_locked(&counter_c_value, delta, COUNTER_C_SPINLOCK);
		spin_unlock(&counter_c_spinlock);
		break;
	case COUNTER_C_ATOMIC:
		ret = counter_c_add_atomic(delta);
		break;
	}
	return ret;
}

static ssize_t counter_c_read(struct file *filp, char __user *buf, size_t count, loff_t *ppos)
{
	char text[COUNTER_TEXT_MAX + 1];
	int len, err;
	s64 val;

	kmodlab_extra_work(&counter_c_extra_work);

	if (*ppos < 0)
		return -EINVAL;
	err = counter_c_get(&val);
	if (err)
		return err;
	len = scnprintf(text, sizeof(text), "%lld\n", val);
	return simple_read_from_buffer(buf, count, ppos, text, len);
}

/*
 * Parse "  [+-]digits  " into *val: -EINVAL for anything else (including
 * NUL bytes), -ERANGE when it does not fit in s64.
 */
static int counter_c_parse(char *text, size_t len, s64 *val)
{
	if (memchr(text, '\0', len))
		return -EINVAL;
	text[len] = '\0';
	return kstrtoll(strim(text), 10, val);
}

static ssize_t counter_c_write(struct file *filp, const char __user *buf, size_t count,
			       loff_t *ppos)
{
	char text[COUNTER_WRITE_MAX + 1];
	s64 delta;
	int err;

	kmodlab_extra_work(&counter_c_extra_work);

	if (count == 0 || count > COUNTER_WRITE_MAX)
		return -EINVAL;
	if (copy_from_user(text, buf, count))
		return -EFAULT;
	err = counter_c_parse(text, count, &delta);
	if (!err)
		err = counter_c_add(delta);
	return err ? err : count;
}

static long counter_c_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	s64 __user *uarg = (s64 __user *)arg;
	s64 val;
	int err;

	kmodlab_extra_work(&counter_c_extra_work);

	switch (cmd) {
	case COUNTER_IOC_RESET:
		return counter_c_set(0);
	case COUNTER_IOC_GET:
		err = counter_c_get(&val);
		if (err)
			return err;
		return put_user(val, uarg);
	case COUNTER_IOC_SET:
		if (get_user(val, uarg))
			return -EFAULT;
		return counter_c_set(val);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations counter_c_fops = {
	.owner = THIS_MODULE,
	.llseek = default_llseek,
	.read = counter_c_read,
	.write = counter_c_write,
	.unlocked_ioctl = counter_c_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice counter_c_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = COUNTER_C_NODE,
	.fops = &counter_c_fops,
};

static int counter_c_parse_sync(void)
{
	int i;

	i = match_string(counter_c_sync_names, ARRAY_SIZE(counter_c_sync_names),
			 counter_c_sync_param ? counter_c_sync_param : "");
	if (i < 0) {
		pr_err("sync=%s is not one of " COUNTER_SYNC_MUTEX ", " COUNTER_SYNC_SPINLOCK
		       ", " COUNTER_SYNC_ATOMIC "\n",
		       counter_c_sync_param ? counter_c_sync_param : "(empty)");
		return -EINVAL;
	}
	counter_c_sync = i;
	return 0;
}

static int __init counter_c_init(void)
{
	int err;

	BUILD_BUG_ON(ARRAY_SIZE(counter_c_sync_names) != COUNTER_C_ATOMIC + 1);
	err = counter_c_parse_sync();
	if (err)
		return err;
	if (counter_c_mode & ~0777) {
		pr_err("mode=%#o: only permission bits are allowed\n", counter_c_mode);
		return -EINVAL;
	}
	counter_c_misc.mode = counter_c_mode;
	err = misc_register(&counter_c_misc);
	if (err) {
		pr_err("misc_register failed: %d\n", err);
		return err;
	}
	pr_info("/dev/" COUNTER_C_NODE " ready, sync=%s\n", counter_c_sync_names[counter_c_sync]);
	return 0;
}

static void __exit counter_c_exit(void)
{
	misc_deregister(&counter_c_misc);
	pr_info("unloaded\n");
}

module_init(counter_c_init);
module_exit(counter_c_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kmodlab");
MODULE_DESCRIPTION("counter misc device with selectable locking, C reference driver");
