/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * scullpipe.h - user-space ABI of the scullpipe device (LDD3, chapter 6):
 * a FIFO per device with blocking read and write, O_NONBLOCK, poll.
 *
 * Nodes /dev/scullpipe-<variant><minor> (kmodlab_dev.h's rule), minors
 * 0 .. SCULLPIPE_NR_DEVS_DEFAULT - 1.  Each device is a ring buffer of
 * buffer_size bytes (module parameter).  Semantics, C and C++ alike:
 *  - read blocks while the buffer is empty, write while it is full
 *    (O_NONBLOCK: -EAGAIN instead); a signal ends the wait with
 *    -ERESTARTSYS (EINTR without SA_RESTART); reads return what is there
 *    (short reads), up to the request;
 *  - a write of at most SCULLPIPE_ATOMIC_WRITE bytes is never interleaved
 *    with another writer's data (it waits until it fits whole, like a
 *    POSIX pipe's PIPE_BUF); larger writes may be split at any byte;
 *  - every byte written is read exactly once, in each writer's order;
 *  - poll: POLLIN | POLLRDNORM when data is there, POLLOUT | POLLWRNORM
 *    when at least SCULLPIPE_ATOMIC_WRITE bytes are free;
 *  - no seek (-ESPIPE), no ioctls.
 */
#ifndef _UAPI_SCULLPIPE_H
#define _UAPI_SCULLPIPE_H

/* The defines are aligned by hand, kernel style. */
/* clang-format off */

#define SCULLPIPE_NAME			"scullpipe"	/* /dev/scullpipe-<variant><minor> */

#define SCULLPIPE_NR_DEVS_DEFAULT	4	/* module parameter nr_devs */
#define SCULLPIPE_BUFFER_DEFAULT	4096	/* module parameter buffer_size (bytes) */
/* Writes of at most this many bytes are atomic (PIPE_BUF is 4096 on Linux,
 * POSIX asks for at least 512).  buffer_size must be at least this. */
#define SCULLPIPE_ATOMIC_WRITE		512
/* Upper bound of buffer_size, a sanity limit (4 MiB). */
#define SCULLPIPE_BUFFER_MAX		(4 * 1024 * 1024)
/* The writer field of the scullpipe_sleep / scullpipe_wake tracepoints
 * (kmodlab/trace/scullpipe.h): which side waits. */
#define SCULLPIPE_WAIT_READER		0U	/* a read waiting for data */
#define SCULLPIPE_WAIT_WRITER		1U	/* a write waiting for room */

/* clang-format on */

#endif /* _UAPI_SCULLPIPE_H */
