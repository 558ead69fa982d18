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
#include <linux/spinlock.h>
#include <linux/uaccess.h>

/* The prototypes C++ calls, from kcxx/bindings.def: a definition below
 * that differs from its entry is a conflicting-types error. */
#define KT_spinlock spinlock_t
#define KT_lock_class_key struct lock_class_key
#define KCXX_FN(ret, name, params, attrs)
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
