// SPDX-License-Identifier: GPL-2.0
/*
 * kcxx_helpers.c - C wrappers for kernel inline functions and macros that
 * C++ cannot call (Rust-for-Linux: rust/helpers/).
 *
 * Each wrapper costs one extra direct call where C inlines the body, so the
 * list is kept short and none of them is on a per-operation path:
 * scripts/kmod-report.sh counts calls to kcxx_* helpers from every
 * file-operation entry point.
 */
#include <linux/device.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include "kcxx_kabi.h"

/* The prototypes C++ calls, from kcxx/bindings.def: a definition below
 * that differs from its entry is a conflicting-types error. */
#define KT_spinlock spinlock_t
#define KT_lock_class_key struct lock_class_key
#define KT_class struct class
#define KCXX_FN(ret, name, params, attrs)
#define KCXX_FN_AS(ret, name, sym, params, attrs)
#define KCXX_VAR(type, name)
#define KCXX_HELPER(ret, name, params, attrs) ret name params;
#include <kcxx/bindings.def>

/* spin_lock_init() is a macro that stores __SPIN_LOCK_UNLOCKED (and, with
 * CONFIG_DEBUG_SPINLOCK, a name, magic and the call site's lock class);
 * only C can expand it.  With lockdep the class is the C++ declaration's
 * (name, key), as spin_lock_init() would give each C call site its own. */
void kcxx_spin_lock_init(spinlock_t *l, const char *name, struct lock_class_key *key)
{
#ifdef CONFIG_DEBUG_SPINLOCK
	__raw_spin_lock_init(spinlock_check(l), name, key, LD_WAIT_CONFIG);
#else
	(void)name;
	(void)key;
	spin_lock_init(l);
#endif
}

/* class_create() was a macro (owner, name) that made a lock class key at
 * the call site until 6.4, and is a function of the name alone since: one
 * wrapper, so that neither kcxx nor a driver needs the version test.  The
 * helper is linked into each module, so THIS_MODULE is that module. */
struct class *kcxx_class_create(const char *name)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
	return class_create(THIS_MODULE, name);
#else
	return class_create(name);
#endif
}

/* kmem_cache_create() and kmem_cache_create_usercopy() are inlines (and a
 * _Generic macro) over __kmem_cache_create_args() since 6.12, functions
 * before: the kernel's own spelling works on both.  Init path only. */
struct kmem_cache *kcxx_kmem_cache_create(const char *name, unsigned int size,
					  unsigned int align, slab_flags_t flags,
					  void (*ctor)(void *))
{
	return kmem_cache_create(name, size, align, flags, ctor);
}

struct kmem_cache *kcxx_kmem_cache_create_usercopy(const char *name, unsigned int size,
						   unsigned int align, slab_flags_t flags,
						   unsigned int useroffset, unsigned int usersize,
						   void (*ctor)(void *))
{
	return kmem_cache_create_usercopy(name, size, align, flags, useroffset, usersize, ctor);
}

/* clear_user() is access_ok() plus an ALTERNATIVE_3 of "rep stosb" or calls,
 * with an exception-table entry: inline asm C++ should not duplicate. */
unsigned long kcxx_clear_user(void __user *to, unsigned long n)
{
	return clear_user(to, n);
}

/* access_ok() + __copy_from_user(): a user copy that, unlike
 * copy_from_user(), does not zero the rest of the destination on a fault
 * (scull must not wipe stored data on a failed write).  access_ok() depends
 * on the paging mode and __copy_from_user() is an ALTERNATIVE of three
 * copy routines inside stac/clac: both are C-only inlines. */
unsigned long kcxx_copy_from_user_nozero(void *to, const void __user *from, unsigned long n)
{
	if (!access_ok(from, n))
		return n;
	return __copy_from_user(to, from, n);
}

/* devm_add_action_or_reset() is an inline (6.1) or a macro naming the
 * action (6.12: __devm_add_action_or_reset(dev, action, data, #action)):
 * only C can call it.  kcxx/devres.h, at probe only. */
int kcxx_devm_add_action_or_reset(struct device *dev, void (*action)(void *), void *data)
{
	return devm_add_action_or_reset(dev, action, data);
}

/* signal_pending(current): an inline over the current task's thread flags
 * (per-CPU current_task, TIF_SIGPENDING, TIF_NOTIFY_SIGNAL since 5.11).
 * Called only by a CondVar waiter that has just slept: never on a path
 * that does not schedule(). */
bool kcxx_signal_pending(void)
{
	return signal_pending(current);
}
