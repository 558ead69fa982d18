/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * scull.h - user-space ABI of the scull memory device (LDD3, chapter 3).
 *
 * The ioctl numbers are LDD3's exactly: magic 'k', numbers 0..12.
 *   S means "Set" through a ptr,   T means "Tell" directly with the argument,
 *   G means "Get" through a ptr,   Q means "Query": response is the return value,
 *   X means "eXchange": S and G atomically, H means "sHift": T and Q atomically.
 * Setters and exchangers need CAP_SYS_ADMIN.
 */
#ifndef _UAPI_SCULL_H
#define _UAPI_SCULL_H

/* The defines are aligned by hand, kernel style. */
/* clang-format off */

#include <linux/ioctl.h>

#define SCULL_NAME		"scull"	/* /dev/scull-<variant><minor> */

#define SCULL_NR_DEVS_DEFAULT	4	/* module parameter nr_devs */
#define SCULL_QUANTUM_DEFAULT	4000	/* module parameter quantum (bytes) */
#define SCULL_QSET_DEFAULT	1000	/* module parameter qset (quanta per set) */
/* module parameter max_bytes: per-device size cap, -ENOSPC beyond it */
#define SCULL_MAX_BYTES_DEFAULT	(64L * 1024 * 1024)
/*
 * Transfers: a read or write moves the whole request across quanta; it is
 * short only at the end of the data, at max_bytes, or when a fault (or a
 * failed allocation) stops it after some bytes, and then returns the bytes
 * moved.  Module parameter ldd3_short_io (bool, default off, writable in
 * sysfs) restores LDD3's semantics: at most the rest of the current quantum
 * per call (a 4096-byte read from offset 0 returns 4000), which tools that
 * read once per block, such as dd count=N, take as the whole block.
 */

#define SCULL_IOC_MAGIC		'k'

#define SCULL_IOCRESET		_IO(SCULL_IOC_MAGIC, 0)
#define SCULL_IOCSQUANTUM	_IOW(SCULL_IOC_MAGIC, 1, int)
#define SCULL_IOCSQSET		_IOW(SCULL_IOC_MAGIC, 2, int)
#define SCULL_IOCTQUANTUM	_IO(SCULL_IOC_MAGIC, 3)
#define SCULL_IOCTQSET		_IO(SCULL_IOC_MAGIC, 4)
#define SCULL_IOCGQUANTUM	_IOR(SCULL_IOC_MAGIC, 5, int)
#define SCULL_IOCGQSET		_IOR(SCULL_IOC_MAGIC, 6, int)
#define SCULL_IOCQQUANTUM	_IO(SCULL_IOC_MAGIC, 7)
#define SCULL_IOCQQSET		_IO(SCULL_IOC_MAGIC, 8)
#define SCULL_IOCXQUANTUM	_IOWR(SCULL_IOC_MAGIC, 9, int)
#define SCULL_IOCXQSET		_IOWR(SCULL_IOC_MAGIC, 10, int)
#define SCULL_IOCHQUANTUM	_IO(SCULL_IOC_MAGIC, 11)
#define SCULL_IOCHQSET		_IO(SCULL_IOC_MAGIC, 12)

#define SCULL_IOC_MAXNR		12

/* clang-format on */

#endif /* _UAPI_SCULL_H */
