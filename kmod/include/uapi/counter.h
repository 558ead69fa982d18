/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * counter.h - user-space ABI of the counter misc device.
 *
 * read() at offset 0 returns the value as decimal text and a newline, then
 * EOF.  write() parses one decimal integer (optional sign, surrounding
 * whitespace allowed) and adds it to the value: bad text gives -EINVAL,
 * overflow -ERANGE, and the value is left unchanged.
 */
#ifndef _UAPI_COUNTER_H
#define _UAPI_COUNTER_H

/* The defines are aligned by hand, kernel style. */
/* clang-format off */

#include <linux/ioctl.h>
#include <linux/types.h>

#define COUNTER_NAME		"counter"	/* /dev/counter-<variant> */

/* Longest text read() returns: "-9223372036854775808\n" is 21 bytes. */
#define COUNTER_TEXT_MAX	21
/* Longest text write() accepts (digits, sign and whitespace). */
#define COUNTER_WRITE_MAX	64

/* Module parameter sync=: how the value is protected. */
#define COUNTER_SYNC_MUTEX	"mutex"
#define COUNTER_SYNC_SPINLOCK	"spinlock"
#define COUNTER_SYNC_ATOMIC	"atomic"
#define COUNTER_SYNC_DEFAULT	COUNTER_SYNC_MUTEX
#define COUNTER_SYNC_MODES	{ COUNTER_SYNC_MUTEX, COUNTER_SYNC_SPINLOCK, COUNTER_SYNC_ATOMIC }

#define COUNTER_IOC_MAGIC	'C'

#define COUNTER_IOC_RESET	_IO(COUNTER_IOC_MAGIC, 0)
#define COUNTER_IOC_GET		_IOR(COUNTER_IOC_MAGIC, 1, __s64)
#define COUNTER_IOC_SET		_IOW(COUNTER_IOC_MAGIC, 2, __s64)

#define COUNTER_IOC_MAXNR	2

/* clang-format on */

#endif /* _UAPI_COUNTER_H */
