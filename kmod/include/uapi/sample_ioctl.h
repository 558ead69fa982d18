/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * sample_ioctl.h - user-space ABI of the ioctl teaching sample
 * (kmod/samples/ioctl.cpp, device /dev/sample-ioctl, see samples.h).
 *
 * The device holds one int, 0 at load:
 *   SAMPLE_IOC_GET    copies it to the int at arg,
 *   SAMPLE_IOC_SET    sets it from the int at arg,
 *   SAMPLE_IOC_RESET  sets it to 0 (arg unused);
 * any other command fails with ENOTTY, a bad arg pointer with EFAULT.
 */
#ifndef _UAPI_SAMPLE_IOCTL_H
#define _UAPI_SAMPLE_IOCTL_H

/* The defines are aligned by hand, kernel style. */
/* clang-format off */

#include <linux/ioctl.h>

#define SAMPLE_IOC_MAGIC	's'

#define SAMPLE_IOC_GET		_IOR(SAMPLE_IOC_MAGIC, 1, int)
#define SAMPLE_IOC_SET		_IOW(SAMPLE_IOC_MAGIC, 2, int)
#define SAMPLE_IOC_RESET	_IO(SAMPLE_IOC_MAGIC, 3)

#define SAMPLE_IOC_MAXNR	3

/* clang-format on */

#endif /* _UAPI_SAMPLE_IOCTL_H */
