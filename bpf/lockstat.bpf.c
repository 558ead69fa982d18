// SPDX-License-Identifier: GPL-2.0
/*
 * lockstat.bpf.c - lock contention (lock:contention_begin/end) of threads
 * that are inside a syscall on a target device.
 *
 * The tracepoints fire in the contended slow paths of mutexes, rwsems,
 * semaphores, spinlocks and rwlocks alike (klockstat's kprobes on
 * mutex_lock* see neither semaphores nor spinlocks).  Waits are keyed by
 * (lock, tid) so a spinlock contended while waiting for a mutex (its
 * wait_lock) is measured on its own.  "inflight" is opslat's map: the
 * loader hands this object opslat's map fd before load.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "opslat.h"
#include "lockstat.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OPSLAT_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct inflight);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight);
} inflight_ts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LOCKSTAT_MAX_WAITS);
	__type(key, struct wait_key);
	__type(value, struct wait_start);
} waits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, LOCKSTAT_MAX_LOCKS);
	__type(key, struct lock_key);
	__type(value, struct lock_stat);
} locks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KDROP_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* All zero: the initial value of a new "locks" entry (too big for the stack). */
static struct lock_stat zero_stat;

static __always_inline void count_drop(__u32 why)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &why);

	if (n)
		(*n)++;
}

/* The thread's opslat state: task storage under tp_btf, the hash otherwise. */
static __always_inline struct inflight *thread_state(__u32 tid, bool btf)
{
	struct inflight *in;

	if (btf) {
		in = bpf_task_storage_get(&inflight_ts, bpf_get_current_task_btf(), 0, 0);
		return in && in->active ? in : NULL;
	}
	return bpf_map_lookup_elem(&inflight, &tid);
}

static __always_inline void on_begin(void *lock, unsigned int flags, bool btf)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct inflight *in = thread_state(tid, btf);
	struct wait_key k = {};
	struct wait_start w = {};

	if (!in || !in->matched)
		return;
	k.lock = (__u64)lock;
	k.tid = tid;
	w.start_ns = bpf_ktime_get_ns();
	w.flags = flags;
	if (bpf_map_update_elem(&waits, &k, &w, BPF_ANY))
		count_drop(KDROP_LOCK_START_FULL);
}

static __always_inline void on_end(void *lock, bool btf)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct wait_key k = {};
	struct wait_start *w;
	struct inflight *in;
	struct lock_key lk = {};
	struct lock_stat *s;
	__u64 lat;

	k.lock = (__u64)lock;
	k.tid = tid;
	w = bpf_map_lookup_elem(&waits, &k);
	if (!w)
		return;
	lat = bpf_ktime_get_ns() - w->start_ns;
	lk.lock = k.lock;
	in = thread_state(tid, btf);
	if (in) {
		lk.dev_idx = in->dev_idx;
		lk.op = in->op;
	}
	s = bpf_map_lookup_elem(&locks, &lk);
	if (!s) {
		/* BPF_NOEXIST: another CPU may have created it meanwhile. */
		bpf_map_update_elem(&locks, &lk, &zero_stat, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&locks, &lk);
		if (!s) {
			count_drop(KDROP_LOCK_TABLE_FULL);
			bpf_map_delete_elem(&waits, &k);
			return;
		}
	}
	s->flags |= w->flags;
	s->count++;
	s->total_ns += lat;
	if (lat > s->max_ns)
		s->max_ns = lat;
	hist_add(s->slots, lat);
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

char LICENSE[] SEC("license") = "GPL";
