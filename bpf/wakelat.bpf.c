// SPDX-License-Identifier: GPL-2.0
/*
 * wakelat.bpf.c - wakeup latency of threads that sleep inside a call on a
 * target device (a scullpipe read waiting for data, a write waiting for
 * room): from the scheduler's wakeup of the thread (sched_wakeup: the
 * writer's wake_up_interruptible has made it runnable) to the thread
 * running again (sched_switch with it as next), per (device, operation).
 *
 * "Inside a call on a target device" is opslat's per-thread state (the
 * loader hands this object opslat's inflight maps, as for lockstat), so a
 * thread counts only between opslat's entry and exit and is attributed to
 * that call's device and operation.  The wake time is kept in the
 * thread's own inflight entry (wake_ns), which opslat's entry clears.
 *
 * sched_switch also counts the sleeps: the thread switched away without
 * being preempted (prev_state not running), the blocked calls that each
 * wakeup should end.  A thread woken before it switched away (the waker
 * came between its "prepare to wait" and schedule()) did not sleep: its
 * wake time is dropped when it switches away, counted as woke_running.
 *
 * tp_btf programs with task storage in the BTF attach modes (tp_btf,
 * fentry), raw_tp with the tid-keyed hash in the others.
 */
#define KMODLAB_BPF_INFLIGHT	/* it reads opslat's per-thread maps */
#include "common.bpf.h"
#include <bpf/bpf_core_read.h>
#include "wakelat.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OPSLAT_NSLOTS);
	__type(key, __u32);
	__type(value, struct wakelat_hist);
} wakes SEC(".maps");

static __always_inline struct wakelat_hist *slot_of(const struct inflight *in)
{
	__u32 slot;

	if (in->dev_idx >= OPSLAT_MAX_DEVS || in->op >= KOP_COUNT)
		return NULL;
	slot = OPSLAT_SLOT(in->dev_idx, in->op);
	return bpf_map_lookup_elem(&wakes, &slot);
}

static __always_inline void on_wakeup(struct task_struct *p, __u32 tid, bool btf)
{
	struct inflight *in = inflight_of(p, tid, btf);

	if (in && in->matched && !in->wake_ns)
		in->wake_ns = bpf_ktime_get_ns();
}

/* prev leaves the CPU: a sleep if it was not preempted; a wake time it
 * still carries ended no sleep. */
static __always_inline void on_switch_out(struct task_struct *prev, __u32 tid, bool preempt,
					  unsigned int prev_state, bool btf)
{
	struct inflight *in = inflight_of(prev, tid, btf);
	struct wakelat_hist *h;

	if (!in || !in->matched)
		return;
	h = slot_of(in);
	if (in->wake_ns) {
		in->wake_ns = 0;
		if (h)
			h->woke_running++;
	}
	if (h && !preempt && prev_state)
		h->sleeps++;
}

/* next gets the CPU: if it was woken inside its call, that wakeup's latency. */
static __always_inline void on_switch_in(struct task_struct *next, __u32 tid, bool btf)
{
	struct inflight *in = inflight_of(next, tid, btf);
	struct wakelat_hist *h;
	__u64 lat;

	if (!in || !in->wake_ns)
		return;
	lat = bpf_ktime_get_ns() - in->wake_ns;
	in->wake_ns = 0;
	h = slot_of(in);
	if (h)
		HIST_RECORD(h, lat);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(wakelat_wakeup_btf, struct task_struct *p)
{
	on_wakeup(p, 0, true);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(wakelat_switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	on_switch_out(prev, 0, preempt, prev_state, true);
	on_switch_in(next, 0, true);
	return 0;
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(wakelat_wakeup_raw, struct task_struct *p)
{
	on_wakeup(NULL, BPF_CORE_READ(p, pid), false);
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(wakelat_switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	on_switch_out(NULL, BPF_CORE_READ(prev, pid), preempt, prev_state, false);
	on_switch_in(NULL, BPF_CORE_READ(next, pid), false);
	return 0;
}
