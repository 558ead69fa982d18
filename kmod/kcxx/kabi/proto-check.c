// SPDX-License-Identifier: GPL-2.0
/*
 * proto-check.c - checks every prototype kcxx declares for C++
 * (kcxx/bindings.def) against the kernel's own declaration, at build time.
 *
 * Compiled as C by Kbuild with the kernel's flags (kcxx.mk builds it into
 * every kcxx module directory before any C++ object).  For each entry,
 * __builtin_types_compatible_p compares the type of the kernel's `name` with
 * the type bindings.def spells; a difference is a _Static_assert naming the
 * function, and a function the kernel no longer has (e.g. __class_create,
 * gone in 6.4) is an "undeclared" error naming it.  The object is empty.
 */
#include <linux/capability.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/miscdevice.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/printk.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/sched.h>
#include <linux/wait.h>
#include "kcxx_kabi.h" /* the probes KT_cclass follows (kabi-gen.c) */

/* The C spelling of each KT_ token (C++'s: kcxx/bindings.h). */
#define KT_mutex struct mutex
#define KT_raw_spinlock raw_spinlock_t
#define KT_spinlock spinlock_t
#define KT_lock_class_key struct lock_class_key
#define KT_cdev struct cdev
#define KT_wait_queue_head struct wait_queue_head
#define KT_wait_queue_entry struct wait_queue_entry
#define KT_file_operations struct file_operations
#define KT_miscdevice struct miscdevice
#define KT_pci_driver struct pci_driver
#define KT_class struct class
#if KABI_CLASS_ARG_CONST
#define KT_cclass const struct class
#else
#define KT_cclass struct class
#endif
#define KT_refcount refcount_t
#define KT_refcount_saturation enum refcount_saturation_type
#define KT_kernel_param_ops struct kernel_param_ops
typedef size_t usize;

#define KCXX_FN(ret, name, params, attrs)                                   \
	_Static_assert(__builtin_types_compatible_p(typeof(&name), ret(*) params), \
		       "kcxx/bindings.def: the kernel's prototype of " #name      \
		       " differs: update the entry (and its callers in kcxx)");
#define KCXX_FN_AS(ret, name, sym, params, attrs) KCXX_FN(ret, sym, params, attrs)
#define KCXX_VAR(type, name)                                                \
	_Static_assert(__builtin_types_compatible_p(typeof(&name), type *),  \
		       "kcxx/bindings.def: the kernel's declaration of " #name    \
		       " differs: update the entry");
#define KCXX_HELPER(ret, name, params, attrs) /* checked in kcxx_helpers.c */
#include <kcxx/bindings.def>
