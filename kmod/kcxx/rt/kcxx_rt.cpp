// SPDX-License-Identifier: GPL-2.0
/*
 * kcxx_rt.cpp - the C++ runtime a kcxx module needs, and nothing more.
 *
 * Linked into every C++ module as its own copy (kcxx.mk).  With exceptions,
 * RTTI, thread-safe statics and __cxa_atexit all disabled, the compiler can
 * still reference:
 *  - __cxa_pure_virtual: the slot of a pure virtual function; without a
 *    definition the weak reference resolves to 0 and a stray call jumps to
 *    address 0.  Here it stops the kernel loudly instead.
 *  - sized/unsized operator delete: referenced by virtual destructors.
 *    kcxx never allocates with a global operator new (only the GFP-taking
 *    placement form), so these free kmalloc memory.
 */
#include <kcxx/bindings.h>
#include <kcxx/planted.h>
#include <kcxx/print.h>

extern "C" [[noreturn, gnu::cold]] void __cxa_pure_virtual()
{
	pr_emerg("pure virtual function called\n");
	__builtin_trap();
}

void operator delete(void *p) noexcept { kfree(p); }
void operator delete(void *p, __SIZE_TYPE__) noexcept { kfree(p); }

/* The parameter every kcxx module has: extra_work, the lab's planted cost
 * (kcxx/planted.h), with the C drivers' name, type and permission. */
namespace kcxx::planted {
KCXX_PARAM(extra_work, unsigned int, 0, 0644, KMODLAB_EXTRA_WORK_DESC);
}
