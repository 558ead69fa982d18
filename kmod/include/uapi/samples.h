/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * samples.h - names and texts of the kcxx teaching samples (kmod/samples/)
 * that user space sees: module names, device nodes, what read() returns.
 * The guest suite tests/guest/suites/70-samples reads them from here
 * (scripts/uapi-value.sh), so nothing is spelled twice.
 */
#ifndef _UAPI_SAMPLES_H
#define _UAPI_SAMPLES_H

/* The defines are aligned by hand, kernel style. */
/* clang-format off */

/* Module names (the .ko files in kmod/samples/). */
#define SAMPLE_BASIC_MODULE	"sample_basic"
#define SAMPLE_MUTEX_MODULE	"sample_mutex"
#define SAMPLE_ERROR_MODULE	"sample_error"
#define SAMPLE_MISC_MODULE	"sample_misc"
#define SAMPLE_IOCTL_MODULE	"sample_ioctl"
#define SAMPLE_CHRDEV_MODULE	"sample_chrdev"
#define SAMPLE_HELLO_MODULE	"sample_hello"
#define SAMPLE_TRACE_MODULE	"sample_trace"

/* Device nodes: /dev/<name>, all created with mode SAMPLE_DEV_MODE. */
#define SAMPLE_MISC_NAME	"sample-misc"
#define SAMPLE_IOCTL_NAME	"sample-ioctl"
#define SAMPLE_CHRDEV_NAME	"sample-chrdev"
#define SAMPLE_TRACE_NAME	"sample-trace"
#define SAMPLE_DEV_MODE		0600

/* What read() of /dev/sample-misc returns (then EOF). */
#define SAMPLE_MISC_GREETING	"Hello from C++ kernel driver!\n"
/* What read() of /dev/sample-chrdev returns once per open (then EOF). */
#define SAMPLE_CHRDEV_GREETING	"Hello from the C++ chrdev sample!\n"

/* clang-format on */

#endif /* _UAPI_SAMPLES_H */
