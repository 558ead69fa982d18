/* SPDX-License-Identifier: GPL-2.0 */
/*
 * common.bpf.h - what every kmodlab BPF object (opslat, lockstat, funclat)
 * carries: the headers, the license, and the per-CPU "drops" counters with
 * count_drop().  Each object includes it once, so each still has a map of
 * its own called "drops" (session.cpp sums the three).
 */
#ifndef KMODLAB_COMMON_BPF_H
#define KMODLAB_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "opslat.h"	/* enum drop_reason, struct inflight, the histogram */

char LICENSE[] SEC("license") = "GPL";

/* Why events were not recorded (enum drop_reason): never lose one silently. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KDROP_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

static __always_inline void count_drop(__u32 why)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &why);

	if (n)
		(*n)++;
}

/*
 * Per-thread state between a target call's entry and exit: opslat writes
 * it, lockstat reads it (the loader hands lockstat opslat's map fds before
 * load, so both objects see the same maps).  The BTF programs keep it in
 * task-local storage (a pointer in the task: no hashing, no bucket lock,
 * nothing to delete); raw_tp, classic tracepoints and kprobes cannot use
 * task storage and use the tid-keyed hash.  wakelat reads them too, and
 * writes their wake_ns.  funclat does not define KMODLAB_BPF_INFLIGHT and
 * so creates neither.
 */
#ifdef KMODLAB_BPF_INFLIGHT
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight);
} inflight_ts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OPSLAT_MAX_THREADS);
	__type(key, __u32);	/* tid */
	__type(value, struct inflight);
} inflight SEC(".maps");

/*
 * Task t's state inside a call on a target device, or NULL when it is not
 * in one: task storage under the BTF programs, the tid-keyed hash
 * otherwise (tid: t's pid).  lockstat asks for the current task, wakelat
 * for the task being woken or switched in.
 */
static __always_inline struct inflight *inflight_of(struct task_struct *t, __u32 tid, bool btf)
{
	struct inflight *in;

	if (btf) {
		in = bpf_task_storage_get(&inflight_ts, t, 0, 0);
		return in && in->active ? in : NULL;
	}
	return bpf_map_lookup_elem(&inflight, &tid);
}
#endif

#endif
