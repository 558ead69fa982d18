/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmodlab/extra_work.h - the planted cost, one definition for C and C++.
 *
 * kmodlab_extra_work(&param) loads the module parameter and spins a
 * "dec; jnz" loop that many times.  All of it is one asm block, so both
 * languages execute the same instructions whatever the compiler does
 * around it: mov, test, jz (KMODLAB_EXTRA_WORK_INSN_BASE = 3), then dec and
 * jnz per iteration (KMODLAB_EXTRA_WORK_INSN_PER_ITER = 2).  The icount
 * known-answer test (tests/icount/) checks those numbers against the TCG
 * plugin, so a change here that breaks them fails make test.
 *
 * The parameter is read with a plain load on every call: calibration
 * changes it at run time through sysfs, and a torn or stale value only
 * changes how long one operation spins.
 */
#ifndef KMODLAB_EXTRA_WORK_H
#define KMODLAB_EXTRA_WORK_H

#include <uapi/kmodlab.h>

/* What MODULE_PARM_DESC says in every driver. */
#define KMODLAB_EXTRA_WORK_DESC \
	"test only: iterations of a fixed 2-instruction loop added to every file operation (calibration)"

static inline __attribute__((__always_inline__)) void kmodlab_extra_work(const unsigned int *n)
{
	unsigned int left;

	asm volatile("mov %[n], %[left]\n\t"
		     "test %[left], %[left]\n\t"
		     "jz 2f\n"
		     "1:\n\t"
		     "dec %[left]\n\t"
		     "jnz 1b\n"
		     "2:"
		     : [left] "=&r"(left)
		     : [n] "m"(*n)
		     : "cc");
}

#endif /* KMODLAB_EXTRA_WORK_H */
