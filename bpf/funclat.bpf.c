// SPDX-License-Identifier: GPL-2.0
/*
 * funclat.bpf.c - latency of the drivers' own functions (scull_c_read,
 * counter_cxx_ioctl, ...) through kprobe/kretprobe.
 *
 * Out-of-tree modules carry no BTF, so fentry/fexit cannot attach to them;
 * kprobes can.  The loader attaches these two programs once per function
 * with the function's index as BPF cookie, so one pair of programs serves
 * every function.  kretprobes cost more than the tracepoints (about 150 ns
 * per call on bare metal), which is why this view is optional.
 */
#include "common.bpf.h"
#include "funclat.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FUNCLAT_MAX_THREADS);
	__type(key, struct func_key);
	__type(value, __u64);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FUNCLAT_MAX_FUNCS);
	__type(key, __u32);
	__type(value, struct func_hist);
} funcs SEC(".maps");

SEC("kprobe")
int BPF_KPROBE(funclat_entry)
{
	struct func_key k = {};
	__u64 now = bpf_ktime_get_ns();

	k.tid = (__u32)bpf_get_current_pid_tgid();
	k.idx = (__u32)bpf_get_attach_cookie(ctx);
	if (bpf_map_update_elem(&starts, &k, &now, BPF_ANY))
		count_drop(KDROP_FUNC_START_FULL);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(funclat_exit)
{
	struct func_key k = {};
	struct func_hist *h;
	__u64 *start, lat;

	k.tid = (__u32)bpf_get_current_pid_tgid();
	k.idx = (__u32)bpf_get_attach_cookie(ctx);
	start = bpf_map_lookup_elem(&starts, &k);
	if (!start)
		return 0;
	lat = bpf_ktime_get_ns() - *start;
	bpf_map_delete_elem(&starts, &k);
	h = bpf_map_lookup_elem(&funcs, &k.idx);
	if (!h)
		return 0;
	HIST_RECORD(h, lat);
	return 0;
}
