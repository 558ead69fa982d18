// SPDX-License-Identifier: GPL-2.0
/*
 * lockstat.bpf.c - lock contention of threads that are inside a syscall on
 * a target device.
 *
 * Sleeping locks (mutexes, rwsems, semaphores) and rwlocks: the
 * lock:contention_begin/end tracepoints.  A mutex acquisition fires
 * contention_begin several times (optimistic spin, then each time it goes
 * back to sleep) and contention_end once: the wait is timed from the FIRST
 * begin (BPF_NOEXIST) to the end, its flags OR-ed.
 *
 * Spinlocks: 6.1's qspinlock fires contention_begin only on the MCS-queue
 * path; the lone waiter spinning on the pending bit (the only waiter there
 * can be with 2 CPUs) fires nothing.  So the slow path itself,
 * queued_spin_lock_slowpath (native_ with paravirt spinlocks), is timed
 * with fentry/fexit, and the tracepoint's plain-spinlock events are then
 * ignored (they are inside that window).
 *
 * Waits in interrupt context (hardirq, softirq, NMI: preempt_count) that
 * arrive while the thread is inside a target syscall are keyed apart
 * (LCTX_IRQ): the syscall did not take that lock.
 *
 * Sleeping-lock waits are keyed by (lock, tid) so a spinlock contended
 * while waiting for a mutex (its wait_lock) is measured on its own.
 * "inflight"/"inflight_ts" are opslat's maps: the loader hands this object
 * opslat's map fds before load.
 */
#define KMODLAB_BPF_INFLIGHT	/* it reads opslat's per-thread maps */
#include "common.bpf.h"
#include "lockstat.h"

/* Set by the loader: the spin slow path is probed (fentry/fexit attached). */
const volatile bool spin_probe = false;

/* preempt_count() bits of interrupt context: NMI_MASK | HARDIRQ_MASK |
 * SOFTIRQ_OFFSET (serving a softirq, not merely bh-disabled). */
#define IRQ_CTX_MASK	(0x00f00000U | 0x000f0000U | 0x00000100U)
/* The per-CPU preempt count moved: a variable of its own up to 6.1
 * (__preempt_count), a field of struct pcpu_hot from 6.2 (and again its
 * own variable after pcpu_hot was split up in later kernels).  Both are
 * weak: libbpf resolves the one this kernel has and leaves the other's
 * address 0, and the verifier drops the branch that tests it. */
extern int __preempt_count __ksym __weak;
struct pcpu_hot___kmodlab {
	int preempt_count;
} __attribute__((preserve_access_index));
extern struct pcpu_hot___kmodlab pcpu_hot __ksym __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LOCKSTAT_MAX_WAITS);
	__type(key, struct wait_key);
	__type(value, struct wait_start);
} waits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct spin_stack);
} spin_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, LOCKSTAT_MAX_LOCKS);
	__type(key, struct lock_key);
	__type(value, struct lock_stat);
} locks SEC(".maps");

/* All zero: the initial value of a new "locks" entry (too big for the stack). */
static struct lock_stat zero_stat;

static __always_inline __u16 irq_ctx(void)
{
	int pc = 0;

	/* libbpf 1.1 has no bpf_ksym_exists(): a weak ksym's address is 0 when absent. */
	if (&pcpu_hot) {
		struct pcpu_hot___kmodlab *hot = bpf_this_cpu_ptr(&pcpu_hot);

		pc = hot->preempt_count;
	} else if (&__preempt_count) {
		pc = *(int *)bpf_this_cpu_ptr(&__preempt_count);
	} else {
		count_drop(KDROP_NO_PREEMPT_COUNT);	/* loud: counted as loss */
	}
	return (pc & IRQ_CTX_MASK) ? LCTX_IRQ : LCTX_TASK;
}

/* The thread's opslat state: task storage under tp_btf, the hash otherwise. */
static __always_inline struct inflight *thread_state(__u32 tid, bool btf)
{
	return inflight_of(btf ? bpf_get_current_task_btf() : NULL, tid, btf);
}

/* One finished wait into the per-(lock, device, op, context) table. */
static __always_inline void record(struct lock_key *lk, __u32 flags, __u64 lat)
{
	struct lock_stat *s = bpf_map_lookup_elem(&locks, lk);

	if (!s) {
		/* BPF_NOEXIST: another CPU may have created it meanwhile. */
		bpf_map_update_elem(&locks, lk, &zero_stat, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&locks, lk);
		if (!s) {
			count_drop(KDROP_LOCK_TABLE_FULL);
			return;
		}
	}
	s->flags |= flags;
	s->count++;
	s->total_ns += lat;
	if (lat > s->max_ns)
		s->max_ns = lat;
	hist_add(s->slots, lat);
}

static __always_inline void on_begin(void *lock, unsigned int flags, bool btf)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct inflight *in;
	struct wait_key k = {};
	struct wait_start w = {}, *old;

	if (spin_probe && flags == LCB_F_SPIN)
		return;	/* inside a queued_spin_lock_slowpath window already timed */
	in = thread_state(tid, btf);
	if (!in || !in->matched)
		return;
	k.lock = (__u64)lock;
	k.tid = tid;
	w.start_ns = bpf_ktime_get_ns();
	w.flags = flags;
	w.ctx = irq_ctx();
	if (!bpf_map_update_elem(&waits, &k, &w, BPF_NOEXIST))
		return;
	/* A later begin of the same acquisition: keep the first start. */
	old = bpf_map_lookup_elem(&waits, &k);
	if (old)
		old->flags |= flags;
	else
		count_drop(KDROP_LOCK_START_FULL);
}

static __always_inline void on_end(void *lock, bool btf)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct wait_key k = {};
	struct wait_start *w;
	struct inflight *in;
	struct lock_key lk = {};
	__u64 lat;

	k.lock = (__u64)lock;
	k.tid = tid;
	w = bpf_map_lookup_elem(&waits, &k);
	if (!w)
		return;
	lat = bpf_ktime_get_ns() - w->start_ns;
	lk.lock = k.lock;
	lk.ctx = w->ctx;
	in = thread_state(tid, btf);
	if (in) {
		lk.dev_idx = in->dev_idx;
		lk.op = in->op;
	}
	record(&lk, w->flags, lat);
	bpf_map_delete_elem(&waits, &k);
}

SEC("tp_btf/contention_begin")
int BPF_PROG(lockstat_begin_btf, void *lock, unsigned int flags)
{
	on_begin(lock, flags, true);
	return 0;
}

SEC("tp_btf/contention_end")
int BPF_PROG(lockstat_end_btf, void *lock, int ret)
{
	on_end(lock, true);
	return 0;
}

/* ---- the spinlock slow path (tp_btf mode: needs BTF, like fentry) ---- */

/* The loader sets the real target (native_queued_spin_lock_slowpath with
 * CONFIG_PARAVIRT_SPINLOCKS) before load. */
SEC("fentry/queued_spin_lock_slowpath")
int BPF_PROG(lockstat_spin_enter, struct qspinlock *lock, u32 val)
{
	__u32 zero = 0, d;
	struct spin_stack *s = bpf_map_lookup_elem(&spin_stacks, &zero);
	struct inflight *in = thread_state(0, true);

	if (!s || !in || !in->matched)
		return 0;
	d = s->depth;
	if (d >= SPIN_DEPTH) {
		count_drop(KDROP_SPIN_DEPTH);
		return 0;
	}
	s->f[d].lock = (__u64)lock;
	s->f[d].dev_idx = in->dev_idx;
	s->f[d].op = in->op;
	s->f[d].ctx = irq_ctx();
	s->f[d].start_ns = bpf_ktime_get_ns();
	s->depth = d + 1;
	return 0;
}

SEC("fexit/queued_spin_lock_slowpath")
int BPF_PROG(lockstat_spin_exit, struct qspinlock *lock, u32 val)
{
	__u32 zero = 0, d;
	struct spin_stack *s = bpf_map_lookup_elem(&spin_stacks, &zero);
	struct lock_key lk = {};
	__u64 lat;

	if (!s)
		return 0;
	d = s->depth;
	if (d == 0 || d > SPIN_DEPTH)
		return 0;
	d = (d - 1) & (SPIN_DEPTH - 1);
	/* Not ours (the thread was not in a target syscall at entry, or the
	 * entry run was skipped): leave the stack alone. */
	if (s->f[d].lock != (__u64)lock)
		return 0;
	lat = bpf_ktime_get_ns() - s->f[d].start_ns;
	s->depth = d;
	lk.lock = (__u64)lock;
	lk.dev_idx = s->f[d].dev_idx;
	lk.op = s->f[d].op;
	lk.ctx = s->f[d].ctx;
	record(&lk, LCB_F_SPIN, lat);
	return 0;
}

SEC("raw_tp/contention_begin")
int BPF_PROG(lockstat_begin_raw, void *lock, unsigned int flags)
{
	on_begin(lock, flags, false);
	return 0;
}

SEC("raw_tp/contention_end")
int BPF_PROG(lockstat_end_raw, void *lock, int ret)
{
	on_end(lock, false);
	return 0;
}

SEC("tracepoint/lock/contention_begin")
int lockstat_begin_tp(struct trace_event_raw_contention_begin *ctx)
{
	on_begin(ctx->lock_addr, ctx->flags, false);
	return 0;
}

SEC("tracepoint/lock/contention_end")
int lockstat_end_tp(struct trace_event_raw_contention_end *ctx)
{
	on_end(ctx->lock_addr, false);
	return 0;
}
