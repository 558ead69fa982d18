// SPDX-License-Identifier: GPL-2.0
/*
 * opslat.bpf.c - per (device, operation) latency of read, write, pread64,
 * pwrite64, ioctl, openat and close on the target devices.
 *
 * Entry: resolve fd -> struct file -> inode -> i_rdev with CO-RE reads and
 * keep the call only when i_rdev is a target (rodata "target_rdev"); remember the start time
 * per thread.  Exit: latency and errno into a per-CPU log-linear histogram.
 * openat's device is only known once it returned an fd, so every openat is
 * remembered at entry and matched at exit; a failed openat has no fd and
 * cannot be attributed to a device, so it is not counted.
 *
 * Five ways to hook the calls (the loader enables only the programs of one):
 *  - tp_btf and raw_tp on raw_syscalls sys_enter/exit: one program for
 *    every syscall of the system, filtered by number, with an fd -> file ->
 *    inode lookup; they switch every task to the syscall slow path;
 *  - the classic per-syscall tracepoints (syscalls:sys_enter_read, ...);
 *  - fentry/fexit on the driver's own file operations (needs the module's
 *    BTF, scripts/module-btf.sh): run only for calls into our drivers, the
 *    struct file is an argument (no fd lookup), the syscall number says
 *    read or pread64; one loaded copy per function (a tracing program is
 *    bound to its target at load);
 *  - kprobe/kretprobe on the same functions (no BTF needed).
 * The driver-function modes time the driver's operation, not the whole
 * syscall, and see only read/write/pread64/pwrite64/ioctl (no openat/close).
 * Syscall numbers are x86-64's.
 */
#define KMODLAB_BPF_INFLIGHT	/* it writes the per-thread maps */
#include "common.bpf.h"
#include <bpf/bpf_core_read.h>

#define NR_read		0
#define NR_write	1
#define NR_close	3
#define NR_ioctl	16
#define NR_pread64	17
#define NR_pwrite64	18
#define NR_openat	257

/* Options, set by the loader before load (read-only once loaded, so the
 * verifier prunes what they switch off). */
/* openat latency needs every openat in the system remembered at entry;
 * switch off to spare that cost when only read/write/ioctl matter. */
const volatile bool trace_openat = true;
/* Only this process (tgid); 0: every process.  Exact-count checks on
 * shared devices like /dev/null need it: other processes use them too. */
const volatile __u32 target_tgid = 0;

/* The target devices, in the kernel's encoding of i_rdev (major << 20 |
 * minor); their index here is the device index of the results.  Read-only
 * data: a few compares beat a hash lookup on every call, and the verifier
 * knows n_targets, so the loop is as short as the device list. */
const volatile __u32 n_targets = 0;
const volatile __u32 target_rdev[OPSLAT_MAX_DEVS] = {};

/* Task storage entries are never deleted: the loader bumps this on every
 * attach so that an entry left by a call whose exit was missed in an
 * earlier attach period is ignored. */
__u32 generation = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OPSLAT_NSLOTS);
	__type(key, __u32);
	__type(value, struct opslat_hist);
} hists SEC(".maps");

static __always_inline int syscall_op(long id)
{
	switch (id) {
	case NR_read: return KOP_READ;
	case NR_write: return KOP_WRITE;
	case NR_pread64: return KOP_PREAD64;
	case NR_pwrite64: return KOP_PWRITE64;
	case NR_ioctl: return KOP_IOCTL;
	case NR_openat: return KOP_OPENAT;
	case NR_close: return KOP_CLOSE;
	default: return -1;
	}
}

static __always_inline int rdev_target(__u32 rdev)
{
	if (!rdev)
		return -1;
	for (__u32 i = 0; i < OPSLAT_MAX_DEVS; i++) {
		if (i >= n_targets)
			break;
		if (target_rdev[i] == rdev)
			return i;
	}
	return -1;
}

/* Device index of the file behind fd in the current task, or -1: every
 * step a CO-RE probe read (raw_tp and classic tracepoints). */
static __always_inline int fd_target(long fd)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct fdtable *fdt;
	struct file **fds;
	struct file *file = NULL;
	unsigned int max_fds;

	if (fd < 0)
		return -1;
	fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt)
		return -1;
	max_fds = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned long)fd >= max_fds)
		return -1;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_core_read(&file, sizeof(file), &fds[fd]) || !file)
		return -1;
	return rdev_target(BPF_CORE_READ(file, f_inode, i_rdev));
}

/* The same for tp_btf: the task is a BTF pointer, so task->files->fdt and
 * its fields are direct loads (still CO-RE relocated, faults read as 0),
 * much cheaper than helper calls.  The array slot and the file need probe
 * reads: the 6.1 verifier does not follow a variable index into a BTF
 * array or a pointer read out of one. */
static __always_inline int fd_target_btf(long fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt;
	struct file *file = NULL;

	if (fd < 0)
		return -1;
	fdt = task->files->fdt;
	if (!fdt || (unsigned long)fd >= fdt->max_fds)
		return -1;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fdt->fd[fd]) || !file)
		return -1;
	return rdev_target(BPF_CORE_READ(file, f_inode, i_rdev));
}

/* dev: device index of the fd, -1 for openat (known only at exit). */
static __always_inline void on_enter(int op, int dev, bool btf)
{
	struct inflight *in, tmp = {};
	__u32 tid;

	if (btf) {
		in = bpf_task_storage_get(&inflight_ts, bpf_get_current_task_btf(), 0,
					  BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!in) {
			count_drop(KDROP_INFLIGHT_FULL);
			return;
		}
	} else {
		in = &tmp;
	}
	in->dev_idx = dev < 0 ? 0 : dev;
	in->op = op;
	in->matched = dev >= 0;
	in->generation = generation;
	in->wake_ns = 0;
	in->start_ns = bpf_ktime_get_ns();
	in->active = 1;
	if (btf)
		return;
	tid = (__u32)bpf_get_current_pid_tgid();
	if (bpf_map_update_elem(&inflight, &tid, in, BPF_ANY))
		count_drop(KDROP_INFLIGHT_FULL);
}

static __always_inline void on_exit(int op, long ret, bool btf)
{
	__u32 tid = 0;
	struct inflight *in;
	struct opslat_hist *h;
	__u64 lat;
	__u32 slot, dev;
	bool matched;
	int d;

	if (btf) {
		in = bpf_task_storage_get(&inflight_ts, bpf_get_current_task_btf(), 0, 0);
		if (!in || !in->active)
			return;
		in->active = 0;
		if (in->generation != generation)
			return;
	} else {
		tid = (__u32)bpf_get_current_pid_tgid();
		in = bpf_map_lookup_elem(&inflight, &tid);
		if (!in)
			return;
	}
	lat = bpf_ktime_get_ns() - in->start_ns;
	dev = in->dev_idx;
	matched = in->matched;
	if (in->op != op) {
		/* Its exit was missed (programs attached or detached during
		 * the call).  Only a target-device call is a lost event; an
		 * unmatched openat is just forgotten. */
		if (matched)
			count_drop(KDROP_STALE);
		if (!btf)
			bpf_map_delete_elem(&inflight, &tid);
		return;
	}
	if (!btf)
		bpf_map_delete_elem(&inflight, &tid);
	if (!matched) {	/* openat: which device did it open? */
		if (ret < 0)
			return;
		d = btf ? fd_target_btf(ret) : fd_target(ret);
		if (d < 0)
			return;
		dev = d;
	}
	if (dev >= OPSLAT_MAX_DEVS)
		return;
	slot = OPSLAT_SLOT(dev, op);
	h = bpf_map_lookup_elem(&hists, &slot);
	if (!h)
		return;
	HIST_RECORD(h, lat);
	if (ret < 0) {
		__u64 e = -ret;

		if (e >= ERRNO_SLOTS)
			e = ERRNO_SLOTS - 1;
		h->errors[e]++;
	}
}

/* ---- raw_syscalls sys_enter/sys_exit: tp_btf, or raw_tp without BTF ---- */

/* Device index to pass to on_enter, -1 for openat (resolved at exit), or
 * -2: not a call to record. */
static __always_inline int enter_dev(int op, long fd, bool btf)
{
	if (target_tgid && (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return -2;
	int dev;

	if (op == KOP_OPENAT)
		return trace_openat ? -1 : -2;
	dev = btf ? fd_target_btf(fd) : fd_target(fd);
	/* Not a target: -2, so that no entry is made (-1 would mean "resolve
	 * at exit", which is only right for openat's returned fd). */
	return dev < 0 ? -2 : dev;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(opslat_enter_btf, struct pt_regs *regs, long id)
{
	int op = syscall_op(id), dev;

	if (op < 0)
		return 0;
	dev = enter_dev(op, regs->di, true);	/* x86-64: first argument in di */
	if (dev >= -1)
		on_enter(op, dev, true);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(opslat_exit_btf, struct pt_regs *regs, long ret)
{
	int op = syscall_op(regs->orig_ax);

	if (op >= 0)
		on_exit(op, ret, true);
	return 0;
}

SEC("raw_tp/sys_enter")
int BPF_PROG(opslat_enter_raw, struct pt_regs *regs, long id)
{
	int op = syscall_op(id), dev;

	if (op < 0)
		return 0;
	dev = enter_dev(op, (long)PT_REGS_PARM1_CORE_SYSCALL(regs), false);
	if (dev >= -1)
		on_enter(op, dev, false);
	return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(opslat_exit_raw, struct pt_regs *regs, long ret)
{
	int op = syscall_op(BPF_CORE_READ(regs, orig_ax));

	if (op >= 0)
		on_exit(op, ret, false);
	return 0;
}

/* ---- the drivers' own file operations: fentry/fexit, kprobe/kretprobe ---- */

/* The syscall that called the driver (read or pread64, write or pwrite64):
 * bpf_task_pt_regs() gives a BTF pointer, so orig_ax is a direct load. */
static __always_inline int current_op(void)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

	return syscall_op(regs->orig_ax);
}

/* The loader sets the real target (e.g. scull_c_read) of each copy. */
SEC("fentry/opsfn_target")
int BPF_PROG(opsfn_enter, struct file *file)
{
	int dev, op;

	if (target_tgid && (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	dev = rdev_target(file->f_inode->i_rdev);	/* direct BTF loads */
	if (dev < 0)
		return 0;
	op = current_op();
	if (op >= 0)
		on_enter(op, dev, true);
	return 0;
}

SEC("fexit/opsfn_target")
int BPF_PROG(opsfn_exit, struct file *file)
{
	struct inflight *in = bpf_task_storage_get(&inflight_ts, bpf_get_current_task_btf(), 0, 0);
	__u64 ret = 0;

	if (!in || !in->active)
		return 0;
	bpf_get_func_ret(ctx, &ret);	/* any arity: read/write have 4 arguments, ioctl 3 */
	on_exit(in->op, (long)ret, true);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(opsfn_kprobe, struct file *file)
{
	int dev, op;

	if (target_tgid && (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	dev = rdev_target(BPF_CORE_READ(file, f_inode, i_rdev));
	if (dev < 0)
		return 0;
	op = current_op();
	if (op >= 0)
		on_enter(op, dev, false);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(opsfn_kretprobe, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct inflight *in = bpf_map_lookup_elem(&inflight, &tid);

	if (in)
		on_exit(in->op, ret, false);
	return 0;
}

/* ---- classic per-syscall tracepoints ---- */

#define TP_PAIR(name, OP)							\
SEC("tracepoint/syscalls/sys_enter_" #name)					\
int opslat_tp_enter_##name(struct trace_event_raw_sys_enter *ctx)		\
{										\
	int dev = enter_dev(OP, (long)ctx->args[0], false);			\
										\
	if (dev >= -1)								\
		on_enter(OP, dev, false);					\
	return 0;								\
}										\
SEC("tracepoint/syscalls/sys_exit_" #name)					\
int opslat_tp_exit_##name(struct trace_event_raw_sys_exit *ctx)		\
{										\
	on_exit(OP, ctx->ret, false);						\
	return 0;								\
}

TP_PAIR(read, KOP_READ)
TP_PAIR(write, KOP_WRITE)
TP_PAIR(pread64, KOP_PREAD64)
TP_PAIR(pwrite64, KOP_PWRITE64)
TP_PAIR(ioctl, KOP_IOCTL)
TP_PAIR(openat, KOP_OPENAT)
TP_PAIR(close, KOP_CLOSE)
