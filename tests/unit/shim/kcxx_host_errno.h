/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx_host_errno.h - the kernel-internal errno values kcxx uses that no
 * user-space header defines.  The value comes from the kernel headers at
 * configure time (tests/unit/CMakeLists.txt), never from a literal here.
 */
#ifndef KCXX_HOST_ERRNO_H
#define KCXX_HOST_ERRNO_H
#ifndef ERESTARTSYS
#define ERESTARTSYS KCXX_HOST_ERESTARTSYS
#endif
#endif
