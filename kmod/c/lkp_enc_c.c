// SPDX-License-Identifier: GPL-2.0
/*
 * lkp_enc_c.c - PCI driver for the emulated lkp_enc Caesar-cipher device, in C.
 *
 * The device (QEMU model in vm/qemu/lkp_enc.c) has a 32-bit seed register
 * and a 256-byte string buffer in BAR0; every byte written to the buffer is
 * stored shifted by the seed if it is a letter.  The driver exposes one
 * misc device, /dev/lkp_enc-c: write() stores a string, read() returns the
 * encrypted string, and the HW9 ioctls set/get the seed and the string.
 *
 * One device per driver: a second matching device is refused with -EBUSY.
 *
 * Unbind while a file is open: the per-device state is refcounted (the
 * driver holds one reference, each open file one), so it outlives remove().
 * remove() clears ->regs under the mutex before unmapping; every file
 * operation takes the mutex and returns -ENODEV once ->regs is NULL.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/io.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <uapi/kmodlab.h>
#include <kmodlab/extra_work.h>
#include <uapi/lkp_enc.h>

#define KMODLAB_TRACE_SYSTEM lkp_enc_c
#define CREATE_TRACE_POINTS
#include <kmodlab/trace/lkp_enc.h>
#define KMODLAB_TP KMODLAB_TRACE_EMITTER
#include <kmodlab/trace/lkp_enc_events.h>

#define LKP_ENC_C_NODE LKP_ENC_NAME KMODLAB_DEV_SEP KMODLAB_VARIANT_C

static ushort lkp_enc_c_mode = KMODLAB_DEV_MODE;
module_param_named(mode, lkp_enc_c_mode, ushort, 0444);
MODULE_PARM_DESC(mode, "permission bits of the device node");

/*
 * Test-only fault injection (tests/reliability): when N > 0, the N-th
 * allocation the driver makes from now on fails; the parameter counts down
 * and is 0 again after the failure.  The driver allocates only its
 * per-device state in probe, so this makes a bind (probe) fail with -ENOMEM.
 */
static int lkp_enc_c_fail_alloc_nth;
module_param_named(fail_alloc_nth, lkp_enc_c_fail_alloc_nth, int, 0600);
MODULE_PARM_DESC(fail_alloc_nth, "test only: fail the N-th allocation from now on (0: off)");

/* Test only: the planted cost of the calibration (kmodlab/extra_work.h). */
static unsigned int lkp_enc_c_extra_work;
module_param_named(extra_work, lkp_enc_c_extra_work, uint, 0644);
MODULE_PARM_DESC(extra_work, KMODLAB_EXTRA_WORK_DESC);

/* True when this allocation is the one fail_alloc_nth asks to fail. */
static bool lkp_enc_c_fail_alloc(void)
{
	int n = READ_ONCE(lkp_enc_c_fail_alloc_nth);

	/* A lock-free countdown: sysfs writes the int with a plain store. */
	do {
		if (n <= 0)
			return false;
	} while (!try_cmpxchg(&lkp_enc_c_fail_alloc_nth, &n, n - 1));
	return n == 1;
}

struct lkp_enc_c {
	struct kref ref; /* the bound driver + each open file */
	struct mutex lock; /* serialises MMIO sequences; guards regs */
	void __iomem *regs; /* BAR0; NULL once the device is gone */
	struct miscdevice misc;
};

/* The one bound device, NULL if none. */
static struct lkp_enc_c *lkp_enc_c_instance;
static DEFINE_MUTEX(lkp_enc_c_instance_lock);

static void lkp_enc_c_free(struct kref *ref)
{
	kfree(container_of(ref, struct lkp_enc_c, ref));
}

/* Take the device mutex; -ENODEV (mutex not held) if it was unbound. */
static int lkp_enc_c_lock(struct lkp_enc_c *enc)
{
	if (mutex_lock_interruptible(&enc->lock))
		return -ERESTARTSYS;
	if (!enc->regs) {
		mutex_unlock(&enc->lock);
		return -ENODEV;
	}
	return 0;
}

/*
 * Store len bytes and a terminating NUL in the device.  Lock held.  The
 * event comes first, while len is live anyway: after the loop it would keep
 * len live beside the loop's end (a saved register and a move per call while
 * tracing is off); so the write-to-read phase includes the MMIO writes.
 */
static __always_inline void lkp_enc_c_put_string(struct lkp_enc_c *enc, const char *s, size_t len)
{
	size_t i;

	kmodlab_trace(lkp_enc_string_write, len);
	for (i = 0; i < len; i++)
		iowrite8(s[i], enc->regs + LKP_ENC_REG_STRING + i);
	iowrite8(0, enc->regs + LKP_ENC_REG_STRING + len);
}

/* Read the string up to its NUL into buf[LKP_ENC_STRING_SIZE]; its length. */
static __always_inline size_t lkp_enc_c_get_string(struct lkp_enc_c *enc, char *buf)
{
	size_t len;

	for (len = 0; len < LKP_ENC_STRING_MAX; len++) {
		buf[len] = ioread8(enc->regs + LKP_ENC_REG_STRING + len);
		if (!buf[len])
			break;
	}
	buf[len] = '\0';
	kmodlab_trace(lkp_enc_string_read, len);
	return len;
}

static int lkp_enc_c_open(struct inode *inode, struct file *filp)
{
	/* misc_open() put our miscdevice here; it holds misc_mtx, so the
	 * device cannot be deregistered before we take our reference. */
	struct lkp_enc_c *enc = container_of(filp->private_data, struct lkp_enc_c, misc);

	kmodlab_extra_work(&lkp_enc_c_extra_work);
	kref_get(&enc->ref);
	filp->private_data = enc;
	return 0;
}

static int lkp_enc_c_release(struct inode *inode, struct file *filp)
{
	struct lkp_enc_c *enc = filp->private_data;

	kmodlab_extra_work(&lkp_enc_c_extra_work);

	kref_put(&enc->ref, lkp_enc_c_free);
	return 0;
}

static ssize_t lkp_enc_c_read(struct file *filp, char __user *buf, size_t count, loff_t *ppos)
{
	struct lkp_enc_c *enc = filp->private_data;
	char text[LKP_ENC_STRING_SIZE];
	size_t len;
	int err;

	kmodlab_extra_work(&lkp_enc_c_extra_work);

	if (*ppos < 0)
		return -EINVAL;
	err = lkp_enc_c_lock(enc);
	if (err)
		return err;
	len = lkp_enc_c_get_string(enc, text);
	mutex_unlock(&enc->lock);
	return simple_read_from_buffer(buf, count, ppos, text, len);
}

static ssize_t lkp_enc_c_write(struct file *filp, const char __user *buf, size_t count,
			       loff_t *ppos)
{
	struct lkp_enc_c *enc = filp->private_data;
	char text[LKP_ENC_STRING_SIZE];
	int err;

	kmodlab_extra_work(&lkp_enc_c_extra_work);

	count = min_t(size_t, count, LKP_ENC_STRING_MAX);
	if (copy_from_user(text, buf, count))
		return -EFAULT;
	err = lkp_enc_c_lock(enc);
	if (err)
		return err;
	lkp_enc_c_put_string(enc, text, count);
	mutex_unlock(&enc->lock);
	return count;
}

static long lkp_enc_c_ioc_write_seed(struct lkp_enc_c *enc, u32 __user *uarg)
{
	u32 seed;
	int err;

	if (get_user(seed, uarg))
		return -EFAULT;
	err = lkp_enc_c_lock(enc);
	if (err)
		return err;
	kmodlab_trace(lkp_enc_seed_write, seed);
	iowrite32(seed, enc->regs + LKP_ENC_REG_SEED);
	mutex_unlock(&enc->lock);
	return 0;
}

static long lkp_enc_c_ioc_read_seed(struct lkp_enc_c *enc, u32 __user *uarg)
{
	u32 seed;
	int err;

	err = lkp_enc_c_lock(enc);
	if (err)
		return err;
	seed = ioread32(enc->regs + LKP_ENC_REG_SEED);
	mutex_unlock(&enc->lock);
	return put_user(seed, uarg);
}

static long lkp_enc_c_ioc_write_string(struct lkp_enc_c *enc, const char __user *uarg)
{
	char text[LKP_ENC_STRING_SIZE];
	long len;
	int err;

	len = strncpy_from_user(text, uarg, sizeof(text));
	if (len < 0)
		return -EFAULT;
	if (len > LKP_ENC_STRING_MAX) /* no NUL within 256 bytes */
		return -EINVAL;
	err = lkp_enc_c_lock(enc);
	if (err)
		return err;
	lkp_enc_c_put_string(enc, text, len);
	mutex_unlock(&enc->lock);
	return 0;
}

static long lkp_enc_c_ioc_read_string(struct lkp_enc_c *enc, char __user *uarg)
{
	char text[LKP_ENC_STRING_SIZE];
	size_t len;
	int err;

	err = lkp_enc_c_lock(enc);
	if (err)
		return err;
	len = lkp_enc_c_get_string(enc, text);
	mutex_unlock(&enc->lock);
	return copy_to_user(uarg, text, len + 1) ? -EFAULT : 0;
}

static long lkp_enc_c_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	struct lkp_enc_c *enc = filp->private_data;
	void __user *uarg = (void __user *)arg;

	kmodlab_extra_work(&lkp_enc_c_extra_work);

	switch (cmd) {
	case LKP_ENC_IOC_WRITE_SEED:
		return lkp_enc_c_ioc_write_seed(enc, uarg);
	case LKP_ENC_IOC_READ_SEED:
		return lkp_enc_c_ioc_read_seed(enc, uarg);
	case LKP_ENC_IOC_WRITE_STRING:
		return lkp_enc_c_ioc_write_string(enc, uarg);
	case LKP_ENC_IOC_READ_STRING:
		return lkp_enc_c_ioc_read_string(enc, uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations lkp_enc_c_fops = {
	.owner = THIS_MODULE,
	.llseek = default_llseek,
	.open = lkp_enc_c_open,
	.release = lkp_enc_c_release,
	.read = lkp_enc_c_read,
	.write = lkp_enc_c_write,
	.unlocked_ioctl = lkp_enc_c_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/* Enable the device and map BAR0 into enc->regs. */
static int lkp_enc_c_map(struct pci_dev *pdev, struct lkp_enc_c *enc)
{
	int err;

	err = pci_enable_device(pdev);
	if (err)
		return err;
	err = pci_request_regions(pdev, KBUILD_MODNAME);
	if (err)
		goto fail_disable;
	if (pci_resource_len(pdev, 0) < LKP_ENC_BAR_SIZE) {
		dev_err(&pdev->dev, "BAR0 %pR is smaller than %d bytes\n", &pdev->resource[0],
			LKP_ENC_BAR_SIZE);
		err = -ENODEV;
		goto fail_release;
	}
	enc->regs = pci_iomap(pdev, 0, LKP_ENC_BAR_SIZE);
	if (!enc->regs) {
		err = -ENOMEM;
		goto fail_release;
	}
	return 0;

fail_release:
	pci_release_regions(pdev);
fail_disable:
	pci_disable_device(pdev);
	return err;
}

static void lkp_enc_c_unmap(struct pci_dev *pdev, struct lkp_enc_c *enc)
{
	/* Open files see regs == NULL (-ENODEV) from here on. */
	mutex_lock(&enc->lock);
	pci_iounmap(pdev, enc->regs);
	enc->regs = NULL;
	mutex_unlock(&enc->lock);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
}

static int lkp_enc_c_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct lkp_enc_c *enc;
	int err;

	mutex_lock(&lkp_enc_c_instance_lock);
	if (lkp_enc_c_instance) {
		dev_err(&pdev->dev, "refusing a second device: this driver serves one (/dev/%s)\n",
			LKP_ENC_C_NODE);
		err = -EBUSY;
		goto out_unlock;
	}
	enc = lkp_enc_c_fail_alloc() ? NULL : kzalloc(sizeof(*enc), GFP_KERNEL);
	if (!enc) {
		err = -ENOMEM;
		goto out_unlock;
	}
	kref_init(&enc->ref);
	mutex_init(&enc->lock);
	err = lkp_enc_c_map(pdev, enc);
	if (err)
		goto fail_free;

	enc->misc.minor = MISC_DYNAMIC_MINOR;
	enc->misc.name = LKP_ENC_C_NODE;
	enc->misc.fops = &lkp_enc_c_fops;
	enc->misc.parent = &pdev->dev;
	enc->misc.mode = lkp_enc_c_mode;
	err = misc_register(&enc->misc);
	if (err) {
		dev_err(&pdev->dev, "misc_register failed: %d\n", err);
		goto fail_unmap;
	}
	pci_set_drvdata(pdev, enc);
	lkp_enc_c_instance = enc;
	mutex_unlock(&lkp_enc_c_instance_lock);
	dev_info(&pdev->dev, "/dev/%s ready, BAR0 %pR\n", LKP_ENC_C_NODE, &pdev->resource[0]);
	return 0;

fail_unmap:
	lkp_enc_c_unmap(pdev, enc);
fail_free:
	kref_put(&enc->ref, lkp_enc_c_free);
out_unlock:
	mutex_unlock(&lkp_enc_c_instance_lock);
	return err;
}

static void lkp_enc_c_remove(struct pci_dev *pdev)
{
	struct lkp_enc_c *enc = pci_get_drvdata(pdev);

	/* No new opens after this; open files keep enc alive. */
	misc_deregister(&enc->misc);
	lkp_enc_c_unmap(pdev, enc);
	mutex_lock(&lkp_enc_c_instance_lock);
	lkp_enc_c_instance = NULL;
	mutex_unlock(&lkp_enc_c_instance_lock);
	dev_info(&pdev->dev, "removed\n");
	kref_put(&enc->ref, lkp_enc_c_free);
}

static const struct pci_device_id lkp_enc_c_ids[] = {
	{ PCI_DEVICE(LKP_ENC_PCI_VENDOR, LKP_ENC_PCI_DEVICE) },
	{},
};
MODULE_DEVICE_TABLE(pci, lkp_enc_c_ids);

static struct pci_driver lkp_enc_c_driver = {
	.name = KBUILD_MODNAME,
	.id_table = lkp_enc_c_ids,
	.probe = lkp_enc_c_probe,
	.remove = lkp_enc_c_remove,
};

static int __init lkp_enc_c_init(void)
{
	if (lkp_enc_c_mode & ~0777) {
		pr_err("mode=%#o: only permission bits are allowed\n", lkp_enc_c_mode);
		return -EINVAL;
	}
	return pci_register_driver(&lkp_enc_c_driver);
}

static void __exit lkp_enc_c_exit(void)
{
	pci_unregister_driver(&lkp_enc_c_driver);
}

module_init(lkp_enc_c_init);
module_exit(lkp_enc_c_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kmodlab");
MODULE_DESCRIPTION("lkp_enc Caesar-cipher PCI device, C reference driver");
