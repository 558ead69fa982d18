/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx shim: <linux/types.h> for C++ translation units.
 *
 * The uapi headers of kmodlab (kmod/include/uapi/) include <linux/types.h>
 * for __u32/__s64.  In a kernel build that name resolves to the kernel's
 * internal header, which is not valid C++ (typedef _Bool bool, ...).  This
 * shim, first on the C++ include path only, provides just the uapi integer
 * types, from the kernel's own uapi header.
 */
#ifndef KCXX_SHIM_LINUX_TYPES_H
#define KCXX_SHIM_LINUX_TYPES_H
#include <uapi/asm-generic/int-ll64.h>
#endif
