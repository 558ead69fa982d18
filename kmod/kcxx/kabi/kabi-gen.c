// SPDX-License-Identifier: GPL-2.0
/*
 * kabi-gen.c - the asm-offsets generator of kcxx.
 *
 * Kernel headers are not C++, so kcxx never copies a kernel struct layout by
 * hand.  This file is compiled by Kbuild as C, with the kernel's own flags, to
 * assembly (-S); every DEFINE() below leaves a "->SYM value" line that
 * filechk_offsets turns into "#define SYM value" in kcxx_kabi.h.  The C++
 * side (kcxx/kabi.h) builds its view of each struct from these numbers and
 * static_asserts that its members land on exactly these offsets.
 *
 * KABI_FIELD() also checks, in C, that a function-pointer member has the
 * signature kcxx assumes, so a kernel that changes a prototype breaks the
 * build here instead of miscalling at run time.
 */
#include <linux/kbuild.h>
#include <linux/fs.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/capability.h>
#include <linux/gfp.h>
#include <linux/mod_devicetable.h>
#include <linux/refcount.h>
#include <linux/ioport.h>
#include <linux/moduleparam.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/wait.h>
#include <linux/tracepoint-defs.h>

#define KABI_SIZE(name, type) \
	DEFINE(KABI_##name##_SIZE, sizeof(type)); \
	DEFINE(KABI_##name##_ALIGN, __alignof__(type))
#define KABI_OFF(name, type, member) \
	DEFINE(KABI_##name##_##member, offsetof(type, member))
/* offset plus a compile-time check of the member's type */
#define KABI_FIELD(name, type, member, proto) \
	_Static_assert(__builtin_types_compatible_p( \
		typeof(((type *)0)->member), proto), \
		#type "." #member " changed type: update kcxx"); \
	KABI_OFF(name, type, member)

/* struct class.devnode has the type of a callback taking a DEV * */
#define KABI_DEVNODE_IS(dev) __builtin_types_compatible_p( \
	typeof(((struct class *)0)->devnode), char *(*)(dev *, umode_t *))

void kcxx_kabi_gen(void);
void kcxx_kabi_gen(void)
{
	/* struct file_operations: the entries kcxx drivers may fill */
	KABI_SIZE(FOPS, struct file_operations);
	KABI_FIELD(FOPS, struct file_operations, owner, struct module *);
	KABI_FIELD(FOPS, struct file_operations, llseek,
		   loff_t (*)(struct file *, loff_t, int));
	KABI_FIELD(FOPS, struct file_operations, read,
		   ssize_t (*)(struct file *, char __user *, size_t, loff_t *));
	KABI_FIELD(FOPS, struct file_operations, write,
		   ssize_t (*)(struct file *, const char __user *, size_t, loff_t *));
	KABI_FIELD(FOPS, struct file_operations, poll,
		   __poll_t (*)(struct file *, struct poll_table_struct *));
	KABI_FIELD(FOPS, struct file_operations, unlocked_ioctl,
		   long (*)(struct file *, unsigned int, unsigned long));
	KABI_FIELD(FOPS, struct file_operations, compat_ioctl,
		   long (*)(struct file *, unsigned int, unsigned long));
	KABI_FIELD(FOPS, struct file_operations, open,
		   int (*)(struct inode *, struct file *));
	KABI_FIELD(FOPS, struct file_operations, release,
		   int (*)(struct inode *, struct file *));
	KABI_FIELD(FOPS, struct file_operations, fsync,
		   int (*)(struct file *, loff_t, loff_t, int));
	BLANK();

	/* struct file / struct inode: what file operations read */
	KABI_FIELD(FILE, struct file, f_flags, unsigned int);
	KABI_FIELD(FILE, struct file, f_mode, fmode_t);
	KABI_FIELD(FILE, struct file, private_data, void *);
	KABI_FIELD(FILE, struct file, f_inode, struct inode *);
	KABI_FIELD(FILE, struct file, f_pos, loff_t);
	KABI_FIELD(INODE, struct inode, i_rdev, dev_t);
	KABI_FIELD(INODE, struct inode, i_size, loff_t);
	KABI_FIELD(INODE, struct inode, i_cdev, struct cdev *);
	BLANK();

	/* char device region + class */
	KABI_SIZE(CDEV, struct cdev);
	KABI_FIELD(CDEV, struct cdev, owner, struct module *);
	/* Two API moves kcxx follows by probing the headers, not by version
	 * numbers: devnode's device became const (6.2), and the class
	 * functions take a const class (6.4).  kcxx/device.h and the KT_cclass
	 * token of bindings.def are typed from these; any third shape fails. */
	_Static_assert(KABI_DEVNODE_IS(struct device) || KABI_DEVNODE_IS(const struct device),
		       "struct class.devnode changed type: update kcxx");
	DEFINE(KABI_CLASS_DEVNODE_CONST, KABI_DEVNODE_IS(const struct device));
	KABI_OFF(CLASS, struct class, devnode);
	/* Allocation profiling (6.10): kmalloc()/kmem_cache_alloc() became
	 * macros over *_noprof functions (kcxx/bindings.def follows). */
#ifdef kmem_cache_alloc
	DEFINE(KABI_SLAB_NOPROF, 1);
#else
	DEFINE(KABI_SLAB_NOPROF, 0);
#endif
	DEFINE(KABI_CLASS_ARG_CONST, __builtin_types_compatible_p(typeof(&class_destroy),
								  void (*)(const struct class *)));
	DEFINE(KABI_MINORBITS, MINORBITS);
	/* Without CONFIG_COMPAT (the lab's Rust kernel: no 32-bit syscalls)
	 * the kernel has no compat_ptr_ioctl symbol, only a NULL macro. */
	DEFINE(KABI_HAS_COMPAT, IS_ENABLED(CONFIG_COMPAT));
	BLANK();

	/* struct miscdevice */
	KABI_SIZE(MISC, struct miscdevice);
	KABI_FIELD(MISC, struct miscdevice, minor, int);
	KABI_FIELD(MISC, struct miscdevice, name, const char *);
	KABI_FIELD(MISC, struct miscdevice, fops, const struct file_operations *);
	KABI_FIELD(MISC, struct miscdevice, mode, umode_t);
	KABI_FIELD(MISC, struct miscdevice, parent, struct device *);
	DEFINE(KABI_MISC_DYNAMIC_MINOR, MISC_DYNAMIC_MINOR);
	BLANK();

	/* PCI */
	KABI_SIZE(PCIID, struct pci_device_id);
	KABI_FIELD(PCIID, struct pci_device_id, vendor, __u32);
	KABI_FIELD(PCIID, struct pci_device_id, device, __u32);
	KABI_FIELD(PCIID, struct pci_device_id, subvendor, __u32);
	KABI_FIELD(PCIID, struct pci_device_id, subdevice, __u32);
	KABI_FIELD(PCIID, struct pci_device_id, class, __u32);
	KABI_FIELD(PCIID, struct pci_device_id, class_mask, __u32);
	KABI_FIELD(PCIID, struct pci_device_id, driver_data, kernel_ulong_t);
	KABI_SIZE(PCI_DRIVER, struct pci_driver);
	KABI_FIELD(PCI_DRIVER, struct pci_driver, name, const char *);
	KABI_FIELD(PCI_DRIVER, struct pci_driver, id_table, const struct pci_device_id *);
	KABI_FIELD(PCI_DRIVER, struct pci_driver, probe,
		   int (*)(struct pci_dev *, const struct pci_device_id *));
	KABI_FIELD(PCI_DRIVER, struct pci_driver, remove, void (*)(struct pci_dev *));
	KABI_FIELD(PCI_DRIVER, struct pci_driver, driver, struct device_driver);
	KABI_FIELD(DEVICE, struct device, driver, struct device_driver *);
	KABI_OFF(PCI_DEV, struct pci_dev, dev);
	KABI_OFF(PCI_DEV, struct pci_dev, resource);
	KABI_SIZE(RESOURCE, struct resource);
	KABI_FIELD(RESOURCE, struct resource, start, resource_size_t);
	KABI_FIELD(RESOURCE, struct resource, end, resource_size_t);
	KABI_FIELD(DEVICE, struct device, driver_data, void *);
	DEFINE(KABI_PCI_ANY_ID, PCI_ANY_ID);
	BLANK();

	/* struct kernel_param: what module_param() puts in section __param */
	KABI_SIZE(KPARAM, struct kernel_param);
	KABI_FIELD(KPARAM, struct kernel_param, name, const char *);
	KABI_FIELD(KPARAM, struct kernel_param, mod, struct module *);
	KABI_FIELD(KPARAM, struct kernel_param, ops, const struct kernel_param_ops *);
	KABI_FIELD(KPARAM, struct kernel_param, perm, const u16);
	KABI_FIELD(KPARAM, struct kernel_param, level, s8);
	KABI_FIELD(KPARAM, struct kernel_param, flags, u8);
	KABI_FIELD(KPARAM, struct kernel_param, arg, void *);
	BLANK();

	/* locks: opaque storage of the right size and alignment */
	KABI_SIZE(MUTEX, struct mutex);
	KABI_SIZE(SPINLOCK, spinlock_t);
	/* spin_unlock() without CONFIG_UNINLINE_SPIN_UNLOCK (a kernel built
	 * without PREEMPT_BUILD or spinlock debugging, such as the lab's Rust
	 * kernel) is inline in C and _raw_spin_unlock is not exported.  With
	 * queued spinlocks, no PREEMPT_COUNT and no paravirt spinlocks that
	 * inline body is smp_store_release(&lock->locked, 0) and a compiler
	 * barrier, which kcxx then does itself (sync.h); any other inline
	 * body stops the build here rather than being guessed. */
#ifdef CONFIG_UNINLINE_SPIN_UNLOCK
	DEFINE(KABI_SPIN_UNLOCK_INLINE, 0);
#else
	_Static_assert(IS_ENABLED(CONFIG_QUEUED_SPINLOCKS) && !IS_ENABLED(CONFIG_PREEMPT_COUNT) &&
			       !IS_ENABLED(CONFIG_PARAVIRT_SPINLOCKS),
		       "kcxx: this kernel's inline spin_unlock() is not the byte store kcxx knows");
	DEFINE(KABI_SPIN_UNLOCK_INLINE, 1);
	DEFINE(KABI_SPINLOCK_locked, offsetof(spinlock_t, rlock.raw_lock.locked));
#endif
	KABI_SIZE(LOCK_CLASS_KEY, struct lock_class_key);
	BLANK();

	/* wait queues and poll (kcxx/condvar.h, kcxx/poll.h): opaque storage,
	 * the poll table's queueing callback, the flags and task states the
	 * exported wait functions take, the poll event bits */
	KABI_SIZE(WAIT_QUEUE_HEAD, struct wait_queue_head);
	KABI_SIZE(WAIT_QUEUE_ENTRY, struct wait_queue_entry);
	KABI_FIELD(POLL_TABLE, struct poll_table_struct, _qproc, poll_queue_proc);
	DEFINE(KABI_WQ_FLAG_EXCLUSIVE, WQ_FLAG_EXCLUSIVE);
	DEFINE(KABI_TASK_INTERRUPTIBLE, TASK_INTERRUPTIBLE);
	DEFINE(KABI_TASK_UNINTERRUPTIBLE, TASK_UNINTERRUPTIBLE);
	DEFINE(KABI_TASK_NORMAL, TASK_NORMAL);
	DEFINE(KABI_EPOLLIN, (__force unsigned int)EPOLLIN);
	DEFINE(KABI_EPOLLOUT, (__force unsigned int)EPOLLOUT);
	DEFINE(KABI_EPOLLRDNORM, (__force unsigned int)EPOLLRDNORM);
	DEFINE(KABI_EPOLLWRNORM, (__force unsigned int)EPOLLWRNORM);
	DEFINE(KABI_EPOLLERR, (__force unsigned int)EPOLLERR);
	DEFINE(KABI_EPOLLHUP, (__force unsigned int)EPOLLHUP);
	BLANK();

	/* flags and constants kcxx passes to the kernel */
	DEFINE(KABI_GFP_KERNEL, GFP_KERNEL);
	DEFINE(KABI_GFP_ATOMIC, GFP_ATOMIC);
	DEFINE(KABI_GFP_ZERO, __GFP_ZERO);
	DEFINE(KABI_GFP_NOWARN, __GFP_NOWARN);
	DEFINE(KABI_REFCOUNT_ADD_OVF, REFCOUNT_ADD_OVF);
	DEFINE(KABI_REFCOUNT_ADD_UAF, REFCOUNT_ADD_UAF);
	DEFINE(KABI_REFCOUNT_SUB_UAF, REFCOUNT_SUB_UAF);
	KABI_SIZE(REFCOUNT, refcount_t);
	DEFINE(KABI_SLAB_HWCACHE_ALIGN, SLAB_HWCACHE_ALIGN);
	DEFINE(KABI_SLAB_ACCOUNT, SLAB_ACCOUNT);
	DEFINE(KABI_CAP_SYS_ADMIN, CAP_SYS_ADMIN);
	DEFINE(KABI_O_ACCMODE, O_ACCMODE);
	DEFINE(KABI_O_WRONLY, O_WRONLY);
	DEFINE(KABI_O_RDONLY, O_RDONLY);
	DEFINE(KABI_O_RDWR, O_RDWR);
	DEFINE(KABI_O_TRUNC, O_TRUNC);
	DEFINE(KABI_O_NONBLOCK, O_NONBLOCK);
	DEFINE(KABI_FMODE_READ, (__force unsigned int)FMODE_READ);
	DEFINE(KABI_FMODE_WRITE, (__force unsigned int)FMODE_WRITE);
	DEFINE(KABI_SEEK_SET, SEEK_SET);
	DEFINE(KABI_SEEK_CUR, SEEK_CUR);
	DEFINE(KABI_SEEK_END, SEEK_END);
	DEFINE(KABI_MAX_LFS_FILESIZE, MAX_LFS_FILESIZE);
	DEFINE(KABI_INT_MAX, INT_MAX);
	/* struct tracepoint: kcxx/trace.h tests its static key inline (asm goto) */
	KABI_FIELD(TRACEPOINT, struct tracepoint, key, struct static_key);
	DEFINE(KABI_PAGE_SIZE, PAGE_SIZE);
	DEFINE(KABI_MAX_ERRNO, MAX_ERRNO);
}
