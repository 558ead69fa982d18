/* SPDX-License-Identifier: GPL-2.0 */
/*
 * encphase.h - lkp_enc's MMIO phases from the driver's own tracepoints
 * (kmod/include/kmodlab/trace/lkp_enc.h), shared by encphase.bpf.c and its
 * loader (drvtrace.cpp in the kmodlab_bpf Session).
 *
 * Per variant (the attach cookie: the index in uapi KMODLAB_VARIANTS) and
 * per thread, the programs follow seed write -> string write -> string read:
 *   phase SEED_TO_WRITE  seed_write to the next string_write of the thread
 *       (the seed's MMIO write included: seed_write fires before it)
 *   phase WRITE_TO_READ  string_write to the next string_read of the thread:
 *       the whole MMIO exchange (string_write fires before the string's MMIO
 *       writes, string_read after the readback), not the device's work alone
 * One "encryption" = a string_read whose thread wrote the seed and then
 * the string (the HW9 cycle, icount workload lkp_enc:cycle).  The
 * cross-check: events[SEED] == events[WRITE] == events[READ] == encrypts
 * for a run of cycles, and no event out of order.
 */
#ifndef KMODLAB_BPF_ENCPHASE_H
#define KMODLAB_BPF_ENCPHASE_H

#include "hist.h"

#define ENCPHASE_MAX_VARIANTS	4
#define ENCPHASE_MAX_THREADS	4096

enum encphase_event {
	ENCPHASE_SEED,		/* lkp_enc_seed_write */
	ENCPHASE_WRITE,		/* lkp_enc_string_write */
	ENCPHASE_READ,		/* lkp_enc_string_read */
	ENCPHASE_NR_EVENTS,
};

enum encphase_phase {
	ENCPHASE_SEED_TO_WRITE,
	ENCPHASE_WRITE_TO_READ,
	ENCPHASE_NR_PHASES,
};

/* per variant (per-CPU; the loader sums) */
struct encphase_counts {
	__u64 events[ENCPHASE_NR_EVENTS];
	__u64 encrypts;		/* seed -> write -> read on one thread */
	__u64 out_of_order;	/* a read with no write before it on its thread */
	__u64 no_slot;		/* the thread table was full: phase not measured */
};

/* per thread: the last event and when */
struct encphase_thread {
	__u64 ts;
	__u32 last;	/* enum encphase_event */
	__u32 variant;
	__u32 seeded;	/* a seed came before the current string */
};

#endif
