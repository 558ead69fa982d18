/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kmodlab.h - names shared by every kmodlab driver, tool and test.
 *
 * Each driver exists twice: in C (variant "c") and in C++20 on kcxx
 * (variant "cxx").  Device nodes and module names are built from a driver's
 * base name and the variant, so that no tool ever spells a path by hand:
 *
 *   module  <base>_<variant>      e.g. scull_c, counter_cxx, lkp_enc_c
 *   node    /dev/<base>-<variant>[N]   e.g. /dev/scull-c0, /dev/counter-cxx
 */
#ifndef _UAPI_KMODLAB_H
#define _UAPI_KMODLAB_H

/* The defines are aligned by hand, kernel style. */
/* clang-format off */

#define KMODLAB_VARIANT_C	"c"
#define KMODLAB_VARIANT_CXX	"cxx"
#define KMODLAB_NR_VARIANTS	2
/* A third variant, for the drivers that exist in Rust (counter: /dev/counter-rust,
 * module counter_rust), on the lab's Rust-enabled kernel only (vm/rust-kernel/).
 * Not counted in KMODLAB_NR_VARIANTS, which every driver has. */
#define KMODLAB_VARIANT_RUST	"rust"

/* Separator between a device's base name and its variant in /dev. */
#define KMODLAB_DEV_SEP		"-"

/* Device nodes are created with this mode unless a module parameter
 * ("mode=") says otherwise. */
#define KMODLAB_DEV_MODE	0600

/*
 * The planted cost of the lab's calibration (make calibrate, make icount
 * EXTRA_WORK=N): every driver, C and C++, has a test-only module parameter
 * "extra_work" (default 0, writable at run time through
 * /sys/module/<module>/parameters/extra_work).  Every file operation the
 * driver implements executes, once at its entry, the same inline-asm block
 * (kmod/include/kmodlab/extra_work.h): INSN_BASE instructions, plus
 * INSN_PER_ITER for each of the N iterations.  So an operation with
 * extra_work=N executes exactly N * KMODLAB_EXTRA_WORK_INSN_PER_ITER more
 * driver instructions than with 0, in either language.
 */
#define KMODLAB_EXTRA_WORK_PARAM		"extra_work"
#define KMODLAB_EXTRA_WORK_INSN_PER_ITER	2
#define KMODLAB_EXTRA_WORK_INSN_BASE		3

/* clang-format on */

#endif /* _UAPI_KMODLAB_H */
