/* SPDX-License-Identifier: GPL-2.0 */
/*
 * drvevents.h - event counts from the drivers' own tracepoints (scull,
 * counter: kmod/include/kmodlab/trace/<driver>.h), shared by
 * drvevents.bpf.c and its loader (drvtrace.cpp).  lkp_enc's events go to
 * encphase.bpf.c, which also times the phases between them.  scullpipe's
 * scullpipe_sleep and scullpipe_wake (kmod/include/kmodlab/trace/
 * scullpipe.h) bracket each wait of a blocked read or write: their programs
 * time sleep -> wake on the thread, the time the call was blocked in the
 * driver, as the phases read_blocked and write_blocked of the module.
 *
 * One program counts every event it is attached to; the BPF cookie is the
 * event's slot, module * DRVEV_PER_MODULE + the event's index in the
 * loader's list of the driver's events.  scull_qset_alloc and scull_write
 * have programs of their own that also check the allocation: a quantum set
 * is allocated by the write that first stores into it, so every
 * scull_qset_alloc must be followed, on its thread, by a scull_write whose
 * bytes reach into that set, before any allocation of another write.  A
 * write moves the whole request across quanta and quantum sets (issue 18):
 * its event names the set of its first byte (item) and fires once, after
 * every allocation it made, so the sets it allocated are item up to the set
 * of its last byte, (pos + len - 1) / (quantum x qset), and consecutive
 * allocations of ever higher sets on one thread wait for the same write.
 */
#ifndef KMODLAB_BPF_DRVEVENTS_H
#define KMODLAB_BPF_DRVEVENTS_H

#include "hist.h"

#define DRVEV_MAX_MODULES	8
#define DRVEV_PER_MODULE	8
#define DRVEV_NR_SLOTS		(DRVEV_MAX_MODULES * DRVEV_PER_MODULE)
#define DRVEV_MAX_THREADS	4096
/* seq slots per module: each driver's enum below fits */
#define DRVEV_SEQ_STRIDE	8

/* per module, scull: the allocation check's outcomes */
enum drvev_seq {
	DRVEV_ALLOC_THEN_WRITE,	/* qset_alloc, then a write whose bytes reach that item */
	DRVEV_ALLOC_NO_WRITE,	/* qset_alloc followed by an alloc of a set not above it,
				 * or by a write elsewhere */
	DRVEV_NO_SLOT,		/* the thread table was full: not checked */
	DRVEV_NR_SEQ,
};

/* per module, scullpipe: how the sleeps and wakes paired up */
enum drvev_pipe_seq {
	DRVEV_PIPE_WAITS,		/* a wake after its thread's sleep: one wait timed */
	DRVEV_PIPE_SHORT_WAKE,		/* a wake with avail < need: the call waits again */
	DRVEV_PIPE_SLEEP_UNPAIRED,	/* a sleep with no wake before the thread's next
					 * sleep (a wait ended by a signal fires no wake) */
	DRVEV_PIPE_WAKE_UNPAIRED,	/* a wake with no sleep of its module before it */
	DRVEV_PIPE_NO_SLOT,		/* the thread table was full: not timed */
	DRVEV_PIPE_NR_SEQ,
};

/* scullpipe: the events in scullpipe_events.h's order, and the phases,
 * indexed by the events' writer field (uapi SCULLPIPE_WAIT_READER = 0,
 * SCULLPIPE_WAIT_WRITER = 1: the loader asserts it) */
enum { DRVEV_PIPE_SLEEP, DRVEV_PIPE_WAKE };
enum { DRVEV_PIPE_READ_BLOCKED, DRVEV_PIPE_WRITE_BLOCKED, DRVEV_PIPE_NR_PHASES };

/* The events' records as the kernel lays them out (TP_STRUCT__entry after
 * struct trace_entry, 8 bytes): events/<module>/<event>/format. */
struct drvev_scull_rw {
	__u64 common;
	__s64 pos;
	__u64 len;
	__u64 item;
	__s32 index;
};

struct drvev_qset_alloc {
	__u64 common;
	__u64 item;
	__s32 qset;
	__s32 quantum;
};

struct drvev_pipe_wait {
	__u64 common;
	__u32 writer;
	__u64 avail;
	__u64 need;
};

/* per thread: the sets qset_allocs made, waiting for their write */
struct drvev_pending {
	__u64 first;		/* the first set allocated */
	__u64 last;		/* the last (highest) set allocated since */
	__u64 set_bytes;	/* quantum x qset of those sets, 0: unknown */
	__u32 allocs;		/* allocations waiting */
	__u32 module;
};

/* per thread: a scullpipe call's sleep, waiting for its wake */
struct drvev_sleeper {
	__u64 ts;
	__u32 module;
	__u32 phase;	/* DRVEV_PIPE_READ_BLOCKED or _WRITE_BLOCKED */
};

#endif
