// load.cpp - opening and loading the BPF objects for one attach mode:
// opslat (one copy per driver function in fentry mode), lockstat sharing
// opslat's per-thread maps, funclat's kprobes.
#include "session_impl.hpp"

#include <bpf/btf.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace kmodlab::bpf {

namespace {

// lockstat's programs for each opslat mode: task storage (tp_btf, fentry)
// or the tid-keyed hash (raw_tp, kprobe), as opslat's per-thread state.
const Mode kLockMode[M_COUNT] = {M_TP_BTF, M_RAW_TP, M_TRACEPOINT, M_TP_BTF, M_RAW_TP};

// Kernel encoding of a device number (include/linux/kdev_t.h MKDEV), which
// is what inode->i_rdev holds; user space's dev_t is encoded differently.
uint32_t kernel_dev(dev_t d)
{
	return (uint32_t(major(d)) << 20) | uint32_t(minor(d));
}

// Section prefixes of the programs of one attach mode.  lockstat's
// fentry/fexit (the spinlock slow path) need BTF and go with tp_btf.
bool prog_in_mode(const bpf_program *p, int mode, bool lockstat)
{
	const char *sec = bpf_program__section_name(p);
	static const char *const prefix[M_COUNT][2] = {{"tp_btf/", nullptr},     {"raw_tp/", nullptr},
							{"tracepoint/", nullptr}, {"fentry/", "fexit/"},
							{"kprobe", "kretprobe"}};
	auto starts = [&](const char *x) { return x && strncmp(sec, x, strlen(x)) == 0; };
	if (lockstat && mode == M_TP_BTF)
		return starts("tp_btf/") || starts("fentry/") || starts("fexit/");
	return starts(prefix[mode][0]) || starts(prefix[mode][1]);
}

// The qspinlock slow path's name in this kernel's BTF: native_ with
// CONFIG_PARAVIRT_SPINLOCKS (a #define in the source), plain otherwise.
std::string spin_slowpath_name()
{
	struct btf *vm = btf__load_vmlinux_btf();
	if (!vm)
		return "";
	std::string found;
	for (const char *n : {"native_queued_spin_lock_slowpath", "queued_spin_lock_slowpath"})
		if (btf__find_by_name_kind(vm, n, BTF_KIND_FUNC) > 0) {
			found = n;
			break;
		}
	btf__free(vm);
	return found;
}

// The attach modes whose programs keep the per-thread state in task
// storage (BTF pointers); the others use the tid-keyed hash.
bool uses_task_storage(int mode)
{
	return mode == M_TP_BTF || mode == M_FENTRY;
}

void set_mode(bpf_object *obj, int mode, bool lockstat)
{
	bpf_program *p;
	bpf_object__for_each_program(p, obj) bpf_program__set_autoload(p, prog_in_mode(p, mode, lockstat));
}

} // namespace

opslat_bpf *SessionImpl::open_opslat(int mode)
{
	opslat_bpf *o = opslat_bpf__open();
	if (!o)
		return nullptr;
	o->rodata->trace_openat = opts_.trace_openat;
	o->rodata->target_tgid = uint32_t(opts_.tgid);
	o->rodata->n_targets = uint32_t(devs_.size());
	for (size_t i = 0; i < devs_.size(); i++)
		o->rodata->target_rdev[i] = kernel_dev(devs_[i].rdev);
	set_mode(o->obj, mode, false);
	// Task storage only serves the BTF programs; older kernels may not
	// even have it, so do not create it for the other modes.
	bpf_map__set_autocreate(o->maps.inflight_ts, uses_task_storage(mode));
	return o;
}

void SessionImpl::destroy_opslat()
{
	for (auto *o : ops_extra_)
		opslat_bpf__destroy(o);
	ops_extra_.clear();
	opslat_bpf__destroy(ops_);
	ops_ = nullptr;
}

// fentry/kprobe modes trace the drivers' own file operations: node
// /dev/<base>-<variant>[N] belongs to module <base>_<variant> (the lab's
// naming, README.md), whose read/write/ioctl entry points are
// <module>_read[_suffix], <module>_write[_suffix], <module>_ioctl and
// <module>_unlocked_ioctl[_suffix] (kcxx's per-policy tables add suffixes).
bool SessionImpl::driver_functions(std::string *error)
{
	drv_funcs_.clear();
	for (const auto &d : devs_) {
		std::string n = d.name.substr(d.name.rfind('/') + 1);
		while (!n.empty() && isdigit((unsigned char)n.back()))
			n.pop_back();
		std::replace(n.begin(), n.end(), '-', '_');
		size_t before = drv_funcs_.size();
		for (const char *op : {"read", "read_*", "write", "write_*", "ioctl", "unlocked_ioctl", "unlocked_ioctl_*"})
			for (auto &[name, mod] : ksyms_.module_functions(n + "_" + op))
				if (mod == n && std::none_of(drv_funcs_.begin(), drv_funcs_.end(),
							     [&](const Func &f) { return f.name == name; }))
					drv_funcs_.push_back({name, mod});
		if (drv_funcs_.size() == before) {
			*error = d.name + " has no driver functions of a loaded module " + n +
				 " to trace (fentry/kprobe modes trace the lab's drivers only)";
			return false;
		}
	}
	return true;
}

// fentry mode: each driver function after the first gets its own copy of
// opslat (a tracing program is bound to one target at load) that shares
// the first copy's maps.  0 or a negative errno.
static int load_fentry_copy(opslat_bpf *o, opslat_bpf *first, const std::string &func)
{
	int err = 0;
	bpf_program__set_attach_target(o->progs.opsfn_enter, 0, func.c_str());
	bpf_program__set_attach_target(o->progs.opsfn_exit, 0, func.c_str());
	for (auto [mine, theirs] : {std::pair{o->maps.inflight, first->maps.inflight},
				    {o->maps.inflight_ts, first->maps.inflight_ts},
				    {o->maps.hists, first->maps.hists},
				    {o->maps.drops, first->maps.drops}})
		if (!err)
			err = bpf_map__reuse_fd(mine, bpf_map__fd(theirs));
	return err ? err : opslat_bpf__load(o);
}

bool SessionImpl::load_opslat(int mode, std::string *error)
{
	if ((mode == M_FENTRY || mode == M_KPROBE) && !driver_functions(error)) {
		*error = std::string("opslat ") + kModes[mode] + ": " + *error;
		return false;
	}
	ops_ = open_opslat(mode);
	if (!ops_) {
		*error = fmt("opslat: cannot open the BPF object: %s", strerror(errno));
		return false;
	}
	int err = 0;
	if (mode == M_FENTRY) {
		bpf_program__set_attach_target(ops_->progs.opsfn_enter, 0, drv_funcs_[0].name.c_str());
		bpf_program__set_attach_target(ops_->progs.opsfn_exit, 0, drv_funcs_[0].name.c_str());
	}
	err = opslat_bpf__load(ops_);
	for (size_t i = 1; !err && mode == M_FENTRY && i < drv_funcs_.size(); i++) {
		opslat_bpf *o = open_opslat(mode);
		if (!o) {
			err = -errno;
			break;
		}
		ops_extra_.push_back(o);
		err = load_fentry_copy(o, ops_, drv_funcs_[i].name);
	}
	if (err) {
		*error = fmt("opslat: loading the %s programs failed: %s", kModes[mode], strerror(-err));
		if (mode == M_FENTRY)
			*error += " (fentry needs the modules' BTF: make modules adds it, /sys/kernel/btf/<module>)";
		destroy_opslat();
		return false;
	}
	return true;
}

// Spinlocks: the slow path itself (fentry/fexit, tp_btf mode only);
// without it the lone pending-bit waiter is invisible.
void SessionImpl::choose_spin_probe(int mode)
{
	if (mode == M_TP_BTF) {
		std::string spin = spin_slowpath_name();
		if (spin.empty()) {
			bpf_program__set_autoload(lk_->progs.lockstat_spin_enter, false);
			bpf_program__set_autoload(lk_->progs.lockstat_spin_exit, false);
			notes_.push_back("no queued_spin_lock_slowpath in the kernel BTF: spinlock waits are seen only "
					 "on the MCS-queue path (lock:contention_begin), not the pending-bit waiter");
		} else {
			bpf_program__set_attach_target(lk_->progs.lockstat_spin_enter, 0, spin.c_str());
			bpf_program__set_attach_target(lk_->progs.lockstat_spin_exit, 0, spin.c_str());
			lk_->rodata->spin_probe = true;
		}
	} else {
		notes_.push_back(std::string(kModes[mode]) + " mode: spinlock waits are seen only on the MCS-queue "
				 "path (lock:contention_begin), not the lone pending-bit waiter (needs fentry, tp_btf mode)");
	}
}

bool SessionImpl::load_lockstat(int mode, std::string *error)
{
	lk_ = lockstat_bpf__open();
	if (!lk_) {
		*error = fmt("lockstat: cannot open the BPF object: %s", strerror(errno));
		return false;
	}
	mode = kLockMode[mode];
	set_mode(lk_->obj, mode, true);
	bpf_map__set_autocreate(lk_->maps.inflight_ts, mode == M_TP_BTF);
	choose_spin_probe(mode);
	// Both objects must see the same per-thread maps: opslat writes them,
	// lockstat reads them.
	int err = bpf_map__reuse_fd(lk_->maps.inflight, bpf_map__fd(ops_->maps.inflight));
	if (!err && mode == M_TP_BTF)
		err = bpf_map__reuse_fd(lk_->maps.inflight_ts, bpf_map__fd(ops_->maps.inflight_ts));
	if (!err)
		err = lockstat_bpf__load(lk_);
	if (err) {
		*error = fmt("lockstat: loading the %s programs failed: %s (kernel without "
			     "lock:contention_begin? it appeared in 5.19)",
			     kModes[mode], strerror(-err));
		lockstat_bpf__destroy(lk_);
		lk_ = nullptr;
		return false;
	}
	return true;
}

// wakelat reads and writes opslat's per-thread state: its tp_btf programs
// (task storage) with the BTF modes, its raw_tp ones (the hash) otherwise.
bool SessionImpl::load_wakelat(int mode, std::string *error)
{
	wk_ = wakelat_bpf__open();
	if (!wk_) {
		*error = fmt("wakelat: cannot open the BPF object: %s", strerror(errno));
		return false;
	}
	const bool btf = uses_task_storage(mode);
	set_mode(wk_->obj, btf ? M_TP_BTF : M_RAW_TP, false);
	bpf_map__set_autocreate(wk_->maps.inflight_ts, btf);
	int err = bpf_map__reuse_fd(wk_->maps.inflight, bpf_map__fd(ops_->maps.inflight));
	if (!err && btf)
		err = bpf_map__reuse_fd(wk_->maps.inflight_ts, bpf_map__fd(ops_->maps.inflight_ts));
	if (!err)
		err = wakelat_bpf__load(wk_);
	if (err) {
		*error = fmt("wakelat: loading the %s sched_wakeup/sched_switch programs failed: %s",
			     btf ? "tp_btf" : "raw_tp", strerror(-err));
		wakelat_bpf__destroy(wk_);
		wk_ = nullptr;
		return false;
	}
	return true;
}

bool SessionImpl::load_funclat(std::string *error)
{
	for (const auto &pat : opts_.funcs)
		for (auto &[name, mod] : ksyms_.module_functions(pat))
			if (std::none_of(funcs_.begin(), funcs_.end(), [&](const Func &f) { return f.name == name; }))
				funcs_.push_back({name, mod});
	if (funcs_.empty()) {
		std::string pats;
		for (const auto &p : opts_.funcs)
			pats += (pats.empty() ? "" : ", ") + p;
		*error = "funclat: no function of a loaded module matches " + pats +
			 " (are the modules loaded? see /proc/kallsyms)";
		return false;
	}
	if (funcs_.size() > FUNCLAT_MAX_FUNCS) {
		*error = fmt("funclat: %zu functions match, at most %d can be traced: narrow the pattern",
			     funcs_.size(), FUNCLAT_MAX_FUNCS);
		return false;
	}
	fn_ = funclat_bpf__open_and_load();
	if (!fn_) {
		*error = fmt("funclat: cannot load the kprobe programs: %s", strerror(errno));
		return false;
	}
	return true;
}

} // namespace kmodlab::bpf
