/* SPDX-License-Identifier: GPL-2.0 */
/*
 * drvevents.h - event counts from the drivers' own tracepoints (scull,
 * counter: kmod/include/kmodlab/trace/<driver>.h), shared by
 * drvevents.bpf.c and its loader (drvtrace.cpp).  lkp_enc's events go to
 * encphase.bpf.c, which also times the phases between them.
 *
 * One program counts every event it is attached to; the BPF cookie is the
 * event's slot, module * DRVEV_PER_MODULE + the event's index in the
 * loader's list of the driver's events.  scull_qset_alloc and scull_write
 * have programs of their own that also check the allocation: a quantum set
 * is allocated by the write that first stores into it, so every
 * scull_qset_alloc must be followed, on its thread, by a scull_write into
 * the same set (item) before any other allocation.
 */
#ifndef KMODLAB_BPF_DRVEVENTS_H
#define KMODLAB_BPF_DRVEVENTS_H

#define DRVEV_MAX_MODULES	8
#define DRVEV_PER_MODULE	8
#define DRVEV_NR_SLOTS		(DRVEV_MAX_MODULES * DRVEV_PER_MODULE)
#define DRVEV_MAX_THREADS	4096

/* per module: the allocation check's outcomes */
enum drvev_seq {
	DRVEV_ALLOC_THEN_WRITE,	/* qset_alloc, then a write of that item */
	DRVEV_ALLOC_NO_WRITE,	/* qset_alloc followed by another alloc or a write elsewhere */
	DRVEV_NO_SLOT,		/* the thread table was full: not checked */
	DRVEV_NR_SEQ,
};

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

/* per thread: the set a qset_alloc made, waiting for its write */
struct drvev_pending {
	__u64 item;
	__u32 module;
};

#endif
