// SPDX-License-Identifier: GPL-2.0
/*
 * drvevents.bpf.c - counts of the drivers' own tracepoints (drvevents.h):
 * classic tracepoint programs without a target, attached by the loader to
 * events/<module>/<event> with the event's slot as the cookie (raw_tp would
 * find a tracepoint by event name only, and both variants define the same
 * names).  Only the process target_tgid counts (0: every process).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "drvevents.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DRVEV_NR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DRVEV_MAX_MODULES * DRVEV_SEQ_STRIDE);
	__type(key, __u32);
	__type(value, __u64);
} seq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DRVEV_MAX_THREADS);
	__type(key, __u32);	/* tid */
	__type(value, struct drvev_pending);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DRVEV_MAX_THREADS);
	__type(key, __u32);	/* tid */
	__type(value, struct drvev_sleeper);
} sleepers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DRVEV_MAX_MODULES * DRVEV_PIPE_NR_PHASES);
	__type(key, __u32);
	__type(value, struct hist_rec);
} phases SEC(".maps");

static __always_inline void bump_by(void *map, __u32 key, __u64 by)
{
	__u64 *n = bpf_map_lookup_elem(map, &key);

	if (n)
		*n += by;
}

static __always_inline void bump(void *map, __u32 key)
{
	bump_by(map, key, 1);
}

/* The event's slot, or DRVEV_NR_SLOTS when another process fired it. */
static __always_inline __u32 count(void *ctx)
{
	__u32 slot = bpf_get_attach_cookie(ctx);

	if (target_tgid && (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return DRVEV_NR_SLOTS;
	if (slot >= DRVEV_NR_SLOTS)
		return DRVEV_NR_SLOTS;
	bump(&counts, slot);
	return slot;
}

SEC("tracepoint")
int drvev_count(void *ctx)
{
	count(ctx);
	return 0;
}

/*
 * scull_qset_alloc: the thread's write allocated set item.  A set above the
 * last one waiting is the same write moving on into the next new set (one
 * write may cross several); anything else means the waiting allocations saw
 * no write of theirs.
 */
SEC("tracepoint")
int drvev_qset_alloc(struct drvev_qset_alloc *ctx)
{
	__u32 slot = count(ctx), tid = (__u32)bpf_get_current_pid_tgid();
	struct drvev_pending p = {}, *old;

	if (slot >= DRVEV_NR_SLOTS)
		return 0;
	p.module = slot / DRVEV_PER_MODULE;
	old = bpf_map_lookup_elem(&pending, &tid);
	if (old && old->module == p.module && ctx->item > old->last) {
		old->last = ctx->item;
		old->allocs++;
		return 0;
	}
	if (old)	/* the earlier allocations saw no write of their sets */
		bump_by(&seq, old->module * DRVEV_SEQ_STRIDE + DRVEV_ALLOC_NO_WRITE, old->allocs);
	p.first = ctx->item;
	p.last = ctx->item;
	if (ctx->qset > 0 && ctx->quantum > 0)
		p.set_bytes = (__u64)ctx->qset * (__u64)ctx->quantum;
	p.allocs = 1;
	if (bpf_map_update_elem(&pending, &tid, &p, BPF_ANY))
		bump(&seq, p.module * DRVEV_SEQ_STRIDE + DRVEV_NO_SLOT);
	return 0;
}

/* scull_write: the waiting allocations were this write's when every set
 * they made lies in [item, the set of the write's last byte]. */
SEC("tracepoint")
int drvev_scull_write(struct drvev_scull_rw *ctx)
{
	__u32 slot = count(ctx), tid = (__u32)bpf_get_current_pid_tgid();
	struct drvev_pending *p;
	__u64 last = ctx->item;
	__u32 module, outcome;

	if (slot >= DRVEV_NR_SLOTS)
		return 0;
	p = bpf_map_lookup_elem(&pending, &tid);
	if (!p)
		return 0;
	module = slot / DRVEV_PER_MODULE;
	if (p->set_bytes && ctx->len && ctx->pos >= 0)
		last = ((__u64)ctx->pos + ctx->len - 1) / p->set_bytes;
	outcome = DRVEV_ALLOC_NO_WRITE;
	if (p->module == module && p->first >= ctx->item && p->last <= last)
		outcome = DRVEV_ALLOC_THEN_WRITE;
	bump_by(&seq, p->module * DRVEV_SEQ_STRIDE + outcome, p->allocs);
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

/* scullpipe_sleep: the thread's call is about to wait (lock held). */
SEC("tracepoint")
int drvev_pipe_sleep(struct drvev_pipe_wait *ctx)
{
	__u32 slot = count(ctx), tid = (__u32)bpf_get_current_pid_tgid();
	struct drvev_sleeper s = {}, *old;

	if (slot >= DRVEV_NR_SLOTS)
		return 0;
	s.module = slot / DRVEV_PER_MODULE;
	s.phase = ctx->writer ? DRVEV_PIPE_WRITE_BLOCKED : DRVEV_PIPE_READ_BLOCKED;
	s.ts = bpf_ktime_get_ns();
	old = bpf_map_lookup_elem(&sleepers, &tid);
	if (old)	/* its last wait saw no wake: a signal ended it */
		bump(&seq, old->module * DRVEV_SEQ_STRIDE + DRVEV_PIPE_SLEEP_UNPAIRED);
	if (bpf_map_update_elem(&sleepers, &tid, &s, BPF_ANY))
		bump(&seq, s.module * DRVEV_SEQ_STRIDE + DRVEV_PIPE_NO_SLOT);
	return 0;
}

/* scullpipe_wake: the call holds the lock again; sleep -> wake is one wait. */
SEC("tracepoint")
int drvev_pipe_wake(struct drvev_pipe_wait *ctx)
{
	__u32 slot = count(ctx), tid = (__u32)bpf_get_current_pid_tgid();
	struct drvev_sleeper *s;
	struct hist_rec *h;
	__u32 module, key;
	__u64 lat;

	if (slot >= DRVEV_NR_SLOTS)
		return 0;
	module = slot / DRVEV_PER_MODULE;
	if (ctx->avail < ctx->need)
		bump(&seq, module * DRVEV_SEQ_STRIDE + DRVEV_PIPE_SHORT_WAKE);
	s = bpf_map_lookup_elem(&sleepers, &tid);
	if (!s || s->module != module) {
		bump(&seq, module * DRVEV_SEQ_STRIDE + DRVEV_PIPE_WAKE_UNPAIRED);
		return 0;
	}
	lat = bpf_ktime_get_ns() - s->ts;
	key = module * DRVEV_PIPE_NR_PHASES + (s->phase & 1);
	h = bpf_map_lookup_elem(&phases, &key);
	if (h)
		HIST_RECORD(h, lat);
	bump(&seq, module * DRVEV_SEQ_STRIDE + DRVEV_PIPE_WAITS);
	bpf_map_delete_elem(&sleepers, &tid);
	return 0;
}
