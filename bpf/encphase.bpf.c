// SPDX-License-Identifier: GPL-2.0
/*
 * encphase.bpf.c - lkp_enc per-phase latency from the driver's own
 * tracepoints (encphase.h).  Classic tracepoint programs without a target:
 * the loader attaches each to events/lkp_enc_<variant>/<event> with the
 * variant's index as the cookie (raw_tp would find the tracepoint by event
 * name only, and both variants define the same names).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "encphase.h"

char LICENSE[] SEC("license") = "GPL";

/* Only this process (tgid); 0: every process (kmodlab-load --bpf sets it). */
const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ENCPHASE_MAX_VARIANTS);
	__type(key, __u32);
	__type(value, struct encphase_counts);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ENCPHASE_MAX_VARIANTS * ENCPHASE_NR_PHASES);
	__type(key, __u32);
	__type(value, struct hist_rec);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ENCPHASE_MAX_THREADS);
	__type(key, __u32);	/* tid */
	__type(value, struct encphase_thread);
} threads SEC(".maps");

static __always_inline void phase(__u32 variant, __u32 which, __u64 lat)
{
	__u32 key = variant * ENCPHASE_NR_PHASES + which;
	struct hist_rec *h = bpf_map_lookup_elem(&hists, &key);

	if (h)
		HIST_RECORD(h, lat);
}

static __always_inline int step(void *ctx, __u32 ev)
{
	__u32 variant = bpf_get_attach_cookie(ctx);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 now = bpf_ktime_get_ns();
	struct encphase_thread *t, fresh = {};
	struct encphase_counts *c;
	__u32 last = ENCPHASE_NR_EVENTS, seeded = 0;
	__u64 ts = 0;

	if (variant >= ENCPHASE_MAX_VARIANTS)
		return 0;
	if (target_tgid && (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	c = bpf_map_lookup_elem(&counts, &variant);
	if (!c)
		return 0;
	c->events[ev]++;
	/* the thread's previous event, copied out (another device: none) */
	t = bpf_map_lookup_elem(&threads, &tid);
	if (t && t->variant == variant) {
		last = t->last;
		ts = t->ts;
		seeded = t->seeded;
	}
	if (ev == ENCPHASE_WRITE && last == ENCPHASE_SEED)
		phase(variant, ENCPHASE_SEED_TO_WRITE, now - ts);
	if (ev == ENCPHASE_READ) {
		if (last == ENCPHASE_WRITE) {
			phase(variant, ENCPHASE_WRITE_TO_READ, now - ts);
			if (seeded)
				c->encrypts++;
		} else {
			c->out_of_order++;
		}
	}
	fresh.ts = now;
	fresh.last = ev;
	fresh.variant = variant;
	fresh.seeded = ev == ENCPHASE_SEED || (ev == ENCPHASE_WRITE && last == ENCPHASE_SEED);
	if (bpf_map_update_elem(&threads, &tid, &fresh, BPF_ANY))
		c->no_slot++;
	return 0;
}

SEC("tracepoint")
int encphase_seed(void *ctx)
{
	return step(ctx, ENCPHASE_SEED);
}

SEC("tracepoint")
int encphase_write(void *ctx)
{
	return step(ctx, ENCPHASE_WRITE);
}

SEC("tracepoint")
int encphase_read(void *ctx)
{
	return step(ctx, ENCPHASE_READ);
}
