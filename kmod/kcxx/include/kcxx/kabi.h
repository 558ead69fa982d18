/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/kabi.h - C++ views of the kernel structs kcxx touches, laid out from
 * kcxx_kabi.h (generated at build time from the real kernel headers by
 * kabi/kabi-gen.c, the asm-offsets technique).
 *
 * Invariant: every member declared here sits at the offset the kernel's C
 * compiler gave it, and every view has the kernel's size and alignment; the
 * static_asserts below fail the build otherwise.  Members kcxx does not use
 * are padding.  Nothing here is hand-copied from a kernel header: only the
 * member order (which the offsets check) and the prototypes (which
 * kabi-gen.c checks on the C side) are written down.
 *
 * Kernel-only (the host tests use tests/unit/shim/kcxx_kabi.h with host
 * values, for the parts they compile).
 */
#ifndef KCXX_KABI_H
#define KCXX_KABI_H

#include <kcxx/types.h>
#include <kcxx_kabi.h>

/* Opaque kernel types: only ever handled by pointer. */
struct module;
struct file;
struct inode;
struct device;
struct class_;
struct pci_dev;
struct kmem_cache;
struct poll_table_struct;

namespace kcxx::kabi {

/* padding from the end of member `prev` (of type pointer/int size `psz`) to `next` */
#define KCXX_PAD(tag, prev_off, prev_size, next_off) \
	char pad_##tag[(next_off) - ((prev_off) + (prev_size))]

using dev_t = u32;
using umode_t = unsigned short;
using fmode_t = unsigned int;
using gfp_t = unsigned int;
using slab_flags_t = unsigned int;

using llseek_fn = loff_t (*)(file *, loff_t, int);
using read_fn = ssize_t (*)(file *, char *, usize, loff_t *);
using write_fn = ssize_t (*)(file *, const char *, usize, loff_t *);
using ioctl_fn = long (*)(file *, unsigned int, unsigned long);
using poll_fn = unsigned int (*)(file *, struct poll_table_struct *);
using open_fn = int (*)(inode *, file *);
using release_fn = int (*)(inode *, file *);
using fsync_fn = int (*)(file *, loff_t, loff_t, int);

struct alignas(KABI_FOPS_ALIGN) file_operations {
	module *owner;
	KCXX_PAD(0, KABI_FOPS_owner, 8, KABI_FOPS_llseek);
	llseek_fn llseek;
	KCXX_PAD(1, KABI_FOPS_llseek, 8, KABI_FOPS_read);
	read_fn read;
	KCXX_PAD(2, KABI_FOPS_read, 8, KABI_FOPS_write);
	write_fn write;
	KCXX_PAD(3, KABI_FOPS_write, 8, KABI_FOPS_poll);
	poll_fn poll;
	KCXX_PAD(3p, KABI_FOPS_poll, 8, KABI_FOPS_unlocked_ioctl);
	ioctl_fn unlocked_ioctl;
	KCXX_PAD(4, KABI_FOPS_unlocked_ioctl, 8, KABI_FOPS_compat_ioctl);
	ioctl_fn compat_ioctl;
	KCXX_PAD(5, KABI_FOPS_compat_ioctl, 8, KABI_FOPS_open);
	open_fn open;
	KCXX_PAD(6, KABI_FOPS_open, 8, KABI_FOPS_release);
	release_fn release;
	KCXX_PAD(7, KABI_FOPS_release, 8, KABI_FOPS_fsync);
	fsync_fn fsync;
	KCXX_PAD(8, KABI_FOPS_fsync, 8, KABI_FOPS_SIZE);
};
static_assert(sizeof(file_operations) == KABI_FOPS_SIZE);
static_assert(__builtin_offsetof(file_operations, owner) == KABI_FOPS_owner);
static_assert(__builtin_offsetof(file_operations, llseek) == KABI_FOPS_llseek);
static_assert(__builtin_offsetof(file_operations, read) == KABI_FOPS_read);
static_assert(__builtin_offsetof(file_operations, write) == KABI_FOPS_write);
static_assert(__builtin_offsetof(file_operations, poll) == KABI_FOPS_poll);
static_assert(__builtin_offsetof(file_operations, unlocked_ioctl) == KABI_FOPS_unlocked_ioctl);
static_assert(__builtin_offsetof(file_operations, compat_ioctl) == KABI_FOPS_compat_ioctl);
static_assert(__builtin_offsetof(file_operations, open) == KABI_FOPS_open);
static_assert(__builtin_offsetof(file_operations, release) == KABI_FOPS_release);
static_assert(__builtin_offsetof(file_operations, fsync) == KABI_FOPS_fsync);

struct alignas(KABI_MISC_ALIGN) miscdevice {
	int minor;
	KCXX_PAD(0, KABI_MISC_minor, 4, KABI_MISC_name);
	const char *name;
	KCXX_PAD(1, KABI_MISC_name, 8, KABI_MISC_fops);
	const file_operations *fops;
	KCXX_PAD(2, KABI_MISC_fops, 8, KABI_MISC_parent);
	struct device *parent;
	KCXX_PAD(3, KABI_MISC_parent, 8, KABI_MISC_mode);
	umode_t mode;
	KCXX_PAD(4, KABI_MISC_mode, 2, KABI_MISC_SIZE);
};
static_assert(__builtin_offsetof(miscdevice, parent) == KABI_MISC_parent);
static_assert(sizeof(miscdevice) == KABI_MISC_SIZE);
static_assert(__builtin_offsetof(miscdevice, minor) == KABI_MISC_minor);
static_assert(__builtin_offsetof(miscdevice, name) == KABI_MISC_name);
static_assert(__builtin_offsetof(miscdevice, fops) == KABI_MISC_fops);
static_assert(__builtin_offsetof(miscdevice, mode) == KABI_MISC_mode);

struct alignas(KABI_PCIID_ALIGN) pci_device_id {
	u32 vendor, device, subvendor, subdevice, class_, class_mask;
	KCXX_PAD(0, KABI_PCIID_class_mask, 4, KABI_PCIID_driver_data);
	unsigned long driver_data;
	KCXX_PAD(1, KABI_PCIID_driver_data, 8, KABI_PCIID_SIZE);
};
static_assert(sizeof(pci_device_id) == KABI_PCIID_SIZE);
static_assert(__builtin_offsetof(pci_device_id, vendor) == KABI_PCIID_vendor);
static_assert(__builtin_offsetof(pci_device_id, device) == KABI_PCIID_device);
static_assert(__builtin_offsetof(pci_device_id, subvendor) == KABI_PCIID_subvendor);
static_assert(__builtin_offsetof(pci_device_id, subdevice) == KABI_PCIID_subdevice);
static_assert(__builtin_offsetof(pci_device_id, class_) == KABI_PCIID_class);
static_assert(__builtin_offsetof(pci_device_id, class_mask) == KABI_PCIID_class_mask);
static_assert(__builtin_offsetof(pci_device_id, driver_data) == KABI_PCIID_driver_data);

using probe_fn = int (*)(pci_dev *, const pci_device_id *);
using remove_fn = void (*)(pci_dev *);

/* Order in struct pci_driver (6.1): ..., name, id_table, probe, remove, ... */
struct alignas(KABI_PCI_DRIVER_ALIGN) pci_driver {
	KCXX_PAD(pre, 0, 0, KABI_PCI_DRIVER_name);
	const char *name;
	KCXX_PAD(0, KABI_PCI_DRIVER_name, 8, KABI_PCI_DRIVER_id_table);
	const pci_device_id *id_table;
	KCXX_PAD(1, KABI_PCI_DRIVER_id_table, 8, KABI_PCI_DRIVER_probe);
	probe_fn probe;
	KCXX_PAD(2, KABI_PCI_DRIVER_probe, 8, KABI_PCI_DRIVER_remove);
	remove_fn remove;
	KCXX_PAD(3, KABI_PCI_DRIVER_remove, 8, KABI_PCI_DRIVER_SIZE);
};
static_assert(sizeof(pci_driver) == KABI_PCI_DRIVER_SIZE);
static_assert(__builtin_offsetof(pci_driver, name) == KABI_PCI_DRIVER_name);
static_assert(__builtin_offsetof(pci_driver, id_table) == KABI_PCI_DRIVER_id_table);
static_assert(__builtin_offsetof(pci_driver, probe) == KABI_PCI_DRIVER_probe);
static_assert(__builtin_offsetof(pci_driver, remove) == KABI_PCI_DRIVER_remove);

/* struct kernel_param (module_param's record in section __param). */
struct kernel_param_ops; /* opaque: only the kernel's param_ops_* are used */
struct alignas(KABI_KPARAM_ALIGN) kernel_param {
	const char *name;
	KCXX_PAD(0, KABI_KPARAM_name, 8, KABI_KPARAM_mod);
	module *mod;
	KCXX_PAD(1, KABI_KPARAM_mod, 8, KABI_KPARAM_ops);
	const kernel_param_ops *ops;
	KCXX_PAD(2, KABI_KPARAM_ops, 8, KABI_KPARAM_perm);
	u16 perm;
	KCXX_PAD(3, KABI_KPARAM_perm, 2, KABI_KPARAM_level);
	s8 level;
	KCXX_PAD(4, KABI_KPARAM_level, 1, KABI_KPARAM_flags);
	u8 flags;
	KCXX_PAD(5, KABI_KPARAM_flags, 1, KABI_KPARAM_arg);
	void *arg;
	KCXX_PAD(6, KABI_KPARAM_arg, 8, KABI_KPARAM_SIZE);
};
static_assert(sizeof(kernel_param) == KABI_KPARAM_SIZE);
static_assert(__builtin_offsetof(kernel_param, name) == KABI_KPARAM_name);
static_assert(__builtin_offsetof(kernel_param, mod) == KABI_KPARAM_mod);
static_assert(__builtin_offsetof(kernel_param, ops) == KABI_KPARAM_ops);
static_assert(__builtin_offsetof(kernel_param, perm) == KABI_KPARAM_perm);
static_assert(__builtin_offsetof(kernel_param, level) == KABI_KPARAM_level);
static_assert(__builtin_offsetof(kernel_param, flags) == KABI_KPARAM_flags);
static_assert(__builtin_offsetof(kernel_param, arg) == KABI_KPARAM_arg);

/* Opaque storage for structs kcxx only passes to kernel functions. */
struct alignas(KABI_MUTEX_ALIGN) mutex { unsigned char raw[KABI_MUTEX_SIZE]; };
struct alignas(KABI_SPINLOCK_ALIGN) spinlock { unsigned char raw[KABI_SPINLOCK_SIZE]; };
struct alignas(KABI_CDEV_ALIGN) cdev { unsigned char raw[KABI_CDEV_SIZE]; };
struct alignas(KABI_WAIT_QUEUE_HEAD_ALIGN) wait_queue_head {
	unsigned char raw[KABI_WAIT_QUEUE_HEAD_SIZE];
};
struct alignas(KABI_WAIT_QUEUE_ENTRY_ALIGN) wait_queue_entry {
	unsigned char raw[KABI_WAIT_QUEUE_ENTRY_SIZE];
};
/* struct poll_table_struct starts with its queueing callback (checked:
 * KABI_POLL_TABLE__qproc == 0 below) */
using poll_queue_proc = void (*)(file *, wait_queue_head *, struct poll_table_struct *);
static_assert(KABI_POLL_TABLE__qproc == 0);
/* struct lock_class_key is empty (size 0) without lockdep: in C++ an
 * empty struct has size 1, so give it at least one byte of its own. */
struct alignas(KABI_LOCK_CLASS_KEY_ALIGN) lock_class_key {
	unsigned char raw[KABI_LOCK_CLASS_KEY_SIZE ? KABI_LOCK_CLASS_KEY_SIZE : 1];
};

/* Field access into structs kcxx never declares, at generated offsets. */
template <class T, usize Off, class S> inline T &field(S *s)
{
	return *reinterpret_cast<T *>(reinterpret_cast<char *>(s) + Off);
}

} // namespace kcxx::kabi

#endif
