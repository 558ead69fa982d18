/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * lkp_enc.h - the lkp_enc MMIO Caesar-cipher PCI device: its register map
 * (shared with the QEMU device model in vm/) and the driver's user-space ABI
 * (the original HW9 ioctl numbers, exactly).
 */
#ifndef _UAPI_LKP_ENC_H
#define _UAPI_LKP_ENC_H

/* The defines are aligned by hand, kernel style. */
/* clang-format off */

#include <linux/ioctl.h>
#include <linux/types.h>

#define LKP_ENC_NAME		"lkp_enc"	/* /dev/lkp_enc-<variant> */

/* PCI identity of the emulated device. */
#define LKP_ENC_PCI_VENDOR	0x1234
#define LKP_ENC_PCI_DEVICE	0xcafe
#define LKP_ENC_PCI_REVISION	0x10
#define LKP_ENC_PCI_CLASS	0xff00

/* BAR0: one 4 KiB memory region. */
#define LKP_ENC_BAR_SIZE	4096
#define LKP_ENC_REG_SEED	0x0	/* 32-bit seed, any access size */
#define LKP_ENC_REG_STRING	0x4	/* 256-byte buffer, 1-byte accesses */
#define LKP_ENC_STRING_SIZE	256
#define LKP_ENC_STRING_MAX	(LKP_ENC_STRING_SIZE - 1)	/* + NUL */

/* The HW9 ioctl ABI: 0x40047101, 0x80047102, 0x40087103, 0x80087104
 * (tests/unit pins these values). */
#define LKP_ENC_IOC_MAGIC	'q'
#define LKP_ENC_IOC_WRITE_SEED	_IOW(LKP_ENC_IOC_MAGIC, 1, __u32)	/* u32 * */
#define LKP_ENC_IOC_READ_SEED	_IOR(LKP_ENC_IOC_MAGIC, 2, __u32)	/* u32 * */
#define LKP_ENC_IOC_WRITE_STRING _IOW(LKP_ENC_IOC_MAGIC, 3, __u64)	/* char * */
#define LKP_ENC_IOC_READ_STRING	_IOR(LKP_ENC_IOC_MAGIC, 4, __u64)	/* char[256] */

/* clang-format on */

#endif /* _UAPI_LKP_ENC_H */
