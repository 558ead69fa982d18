/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/errno.h - errno values, from the kernel's own headers.
 *
 * In the kernel <linux/errno.h> is pure macros, valid C++.  On the host
 * (tests/unit) the same numbers come from linux-libc-dev's <asm-generic/errno.h>
 * plus the kernel-internal ERESTARTSYS from the unit-test shim.
 */
#ifndef KCXX_ERRNO_H
#define KCXX_ERRNO_H
#ifdef __KERNEL__
#include <linux/errno.h>
#else
#include <asm-generic/errno.h>
#include "kcxx_host_errno.h"
#endif
#endif
