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

/* Separator between a device's base name and its variant in /dev. */
#define KMODLAB_DEV_SEP		"-"

/* Device nodes are created with this mode unless a module parameter
 * ("mode=") says otherwise. */
#define KMODLAB_DEV_MODE	0600

/* clang-format on */

#endif /* _UAPI_KMODLAB_H */
