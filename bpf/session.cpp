// session.cpp - loads opslat, lockstat and (optionally) funclat, attaches
// them, and reads their maps back into a kmodlab::bpf::Report.
#include "kmodlab_bpf.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fnmatch.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include <cxxabi.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstring>
#include <fstream>
#include <sstream>

#include <linux/types.h>
#include "opslat.h"
#include "lockstat.h"
#include "funclat.h"
#include "opslat.skel.h"
#include "lockstat.skel.h"
#include "funclat.skel.h"
#include "session_internal.hpp"

namespace kmodlab::bpf {

namespace {

const char *const kOpNames[KOP_COUNT] = {"read",     "write", "pread64", "pwrite64",
					 "ioctl",    "openat", "close"};
const char *const kDropNames[KDROP_COUNT] = {"inflight_full", "stale_exit", "lock_wait_full",
					     "lock_table_full", "func_start_full",
					     "spin_depth", "no_preempt_count"};
// Attach modes of opslat (bpf/opslat.bpf.c says what each sees).
enum Mode { M_TP_BTF, M_RAW_TP, M_TRACEPOINT, M_FENTRY, M_KPROBE, M_COUNT };
const char *const kModes[M_COUNT] = {"tp_btf", "raw_tp", "tracepoint", "fentry", "kprobe"};
// "auto" tries these in order and takes the first that loads.
const Mode kAutoOrder[] = {M_FENTRY, M_TP_BTF, M_RAW_TP, M_TRACEPOINT};
// lockstat's programs for each opslat mode: task storage (tp_btf, fentry)
// or the tid-keyed hash (raw_tp, kprobe), as opslat's per-thread state.
const Mode kLockMode[M_COUNT] = {M_TP_BTF, M_RAW_TP, M_TRACEPOINT, M_TP_BTF, M_RAW_TP};

uint64_t now_ns()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return uint64_t(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

std::string fmt(const char *f, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, f);
	vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	return buf;
}

// libbpf prints its own diagnostics (verifier logs) through this; keep
// warnings and errors, drop the debug chatter.
int libbpf_print(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, format, args);
}

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

void set_mode(bpf_object *obj, int mode, bool lockstat)
{
	bpf_program *p;
	bpf_object__for_each_program(p, obj) bpf_program__set_autoload(p, prog_in_mode(p, mode, lockstat));
}

Histogram make_hist(const __u64 *slots, uint64_t count, uint64_t sum, uint64_t min, uint64_t max)
{
	Histogram h;
	h.count = count;
	h.sum_ns = sum;
	h.min_ns = min;
	h.max_ns = max;
	for (uint32_t i = 0; i < HIST_NBUCKETS; i++)
		if (slots[i])
			h.buckets.push_back({hist_lo(i), hist_hi(i), slots[i]});
	return h;
}

std::string errno_name(unsigned e)
{
	if (e >= ERRNO_SLOTS - 1)
		return fmt("E>=%u", ERRNO_SLOTS - 1);
	const char *n = strerrorname_np(int(e));
	return n ? n : fmt("E%u", e);
}

std::string lock_kind(uint64_t flags)
{
	if (flags & LCB_F_MUTEX)
		return flags & LCB_F_RT ? "rt-mutex" : "mutex";
	if (flags & LCB_F_PERCPU)
		return flags & LCB_F_WRITE ? "percpu-rwsem-write" : "percpu-rwsem-read";
	if (flags & LCB_F_SPIN)
		return flags & LCB_F_READ ? "rwlock-read" : flags & LCB_F_WRITE ? "rwlock-write" : "spinlock";
	if (flags & LCB_F_READ)
		return "rwsem-read";
	if (flags & LCB_F_WRITE)
		return "rwsem-write";
	return flags == 0 ? "semaphore" : fmt("flags-0x%llx", (unsigned long long)flags);
}

} // namespace

// ---- /proc/kallsyms ---------------------------------------------------------

void Kallsyms::load(std::vector<std::string> *notes)
{
	auto read_all = [this]() {
		syms_.clear();
		std::ifstream in("/proc/kallsyms");
		std::string line;
		bool nonzero = false;
		while (std::getline(in, line)) {
			std::istringstream ls(line);
			std::string addr, type, name, mod;
			if (!(ls >> addr >> type >> name))
				continue;
			ls >> mod;
			Sym s;
			s.addr = strtoull(addr.c_str(), nullptr, 16);
			s.type = type[0];
			s.name = name;
			if (mod.size() > 2 && mod.front() == '[')
				s.module = mod.substr(1, mod.size() - 2);
			nonzero |= s.addr != 0;
			syms_.push_back(std::move(s));
		}
		return nonzero;
	};
	if (read_all() || syms_.empty()) {
		sort();
		return;
	}
	// Addresses hidden (kptr_restrict): root may lift that for the read.
	std::string old;
	{
		std::ifstream k("/proc/sys/kernel/kptr_restrict");
		std::getline(k, old);
	}
	std::ofstream w("/proc/sys/kernel/kptr_restrict");
	if (w && (w << "0" << std::flush)) {
		w.close();
		read_all();
		std::ofstream r("/proc/sys/kernel/kptr_restrict");
		r << old << std::flush;
		notes->push_back("kptr_restrict was " + old +
				 ": set to 0 while reading /proc/kallsyms, then restored");
	} else {
		notes->push_back("/proc/kallsyms shows no addresses (kptr_restrict=" + old +
				 ", not root?): locks are not symbolized");
	}
	sort();
}

void Kallsyms::sort()
{
	std::sort(syms_.begin(), syms_.end(), [](const Sym &a, const Sym &b) { return a.addr < b.addr; });
}

namespace {
bool is_mangled(const std::string &n) { return n.compare(0, 2, "_Z") == 0; }

// A C++ symbol without its mangling (a lock in kcxx module storage that has
// no KCXX_LOCK_SYMBOL): a report never shows "_ZL19kcxx_module_storage".
std::string demangled(const std::string &n)
{
	if (!is_mangled(n))
		return n;
	int st = 0;
	char *d = abi::__cxa_demangle(n.c_str(), nullptr, nullptr, &st);
	std::string out = st == 0 && d ? d : "<c++ symbol>";
	free(d);
	return out;
}
} // namespace

// Static locks live in the kernel image or a module's data (addresses in
// the top 2 GiB, where both are mapped on x86-64); anything else (direct
// map, vmalloc) is heap and would only match a far-away symbol by chance.
std::string Kallsyms::lock_name(uint64_t addr, uint64_t salt) const
{
	const uint64_t kTextTop = 0xffffffff80000000ull;
	if (addr >= kTextTop) {
		auto it = std::upper_bound(syms_.begin(), syms_.end(), addr,
					   [](uint64_t a, const Sym &s) { return a < s.addr; });
		while (it != syms_.begin()) {
			--it;
			// Data and bss symbols only (a lock is not code).
			char t = char(tolower(it->type));
			if (t != 'd' && t != 'b' && t != 'r')
				continue;
			uint64_t off = addr - it->addr;
			if (off >= 65536)
				break;
			// Several symbols at one address (a kcxx lock's KCXX_LOCK_SYMBOL
			// at offset 0 of the module storage): the C-style name wins.
			for (auto j = it; j != syms_.begin() && (j - 1)->addr == it->addr;) {
				--j;
				if (is_mangled(it->name) && !is_mangled(j->name) && strchr("dbrDBR", j->type))
					it = j;
			}
			std::string s = demangled(it->name);
			if (off)
				s += fmt("+0x%llx", (unsigned long long)off);
			if (!it->module.empty())
				s += " [" + it->module + "]";
			return s;
		}
	}
	// Never print a raw kernel pointer: a salted FNV-1a hash identifies the
	// lock within this session only.
	uint64_t h = 1469598103934665603ull;
	uint64_t v = addr ^ salt;
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 1099511628211ull;
	}
	return fmt("<heap>#%08llx", (unsigned long long)(h & 0xffffffffull));
}

std::vector<std::pair<std::string, std::string>> Kallsyms::module_functions(const std::string &pattern) const
{
	std::vector<std::pair<std::string, std::string>> out;
	for (const auto &s : syms_) {
		char t = char(tolower(s.type));
		if (t != 't' || s.module.empty() || s.name.find('.') != std::string::npos)
			continue;
		if (fnmatch(pattern.c_str(), s.name.c_str(), 0) == 0)
			out.emplace_back(s.name, s.module);
	}
	return out;
}

// ---- the session -------------------------------------------------------------

class SessionImpl final : public Session {
public:
	~SessionImpl() override
	{
		detach();
		funclat_bpf__destroy(fn_);
		lockstat_bpf__destroy(lk_);
		destroy_opslat();
		if (stats_fd_ >= 0)
			close(stats_fd_);
	}

	bool init(const Options &opts, std::string *error);
	bool attach(std::string *error) override;
	void detach() override;
	std::string json() const override { return render_json(report()); }
	std::string text() const override { return render_text(report()); }
	Report report() const override;
	void clear() override;

private:
	struct Dev {
		dev_t rdev;
		std::string name;
	};
	struct Func {
		std::string name, module;
	};
	struct Prog {
		bpf_program *prog;
		uint64_t base_cnt = 0, base_ns = 0, base_miss = 0;
	};

	bool load_opslat(int mode, std::string *error);
	opslat_bpf *open_opslat(int mode);
	bool driver_functions(std::string *error);
	void destroy_opslat();
	bool load_lockstat(int mode, std::string *error);
	bool load_funclat(std::string *error);
	void snapshot_prog_base();

	Options opts_;
	opslat_bpf *ops_ = nullptr;
	// fentry mode: one more copy of opslat per driver function after the
	// first (a tracing program is bound to one target at load), sharing
	// ops_'s maps.
	std::vector<opslat_bpf *> ops_extra_;
	std::vector<Func> drv_funcs_;  // fentry/kprobe mode: the traced driver functions
	lockstat_bpf *lk_ = nullptr;
	funclat_bpf *fn_ = nullptr;
	int mode_ = -1;
	int stats_fd_ = -1;
	int ncpu_ = 0;
	std::vector<Dev> devs_;
	std::vector<Func> funcs_;
	std::vector<bpf_link *> links_;
	std::vector<Prog> progs_;
	Kallsyms ksyms_;
	uint64_t salt_ = 0;
	uint64_t attach_ns_ = 0, detach_ns_ = 0;
	std::vector<std::string> notes_;
};

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
	bpf_map__set_autocreate(o->maps.inflight_ts, mode == M_TP_BTF || mode == M_FENTRY);
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
		bpf_program__set_attach_target(o->progs.opsfn_enter, 0, drv_funcs_[i].name.c_str());
		bpf_program__set_attach_target(o->progs.opsfn_exit, 0, drv_funcs_[i].name.c_str());
		for (auto [mine, theirs] : {std::pair{o->maps.inflight, ops_->maps.inflight},
					    {o->maps.inflight_ts, ops_->maps.inflight_ts},
					    {o->maps.hists, ops_->maps.hists},
					    {o->maps.drops, ops_->maps.drops}})
			if (!err)
				err = bpf_map__reuse_fd(mine, bpf_map__fd(theirs));
		if (!err)
			err = opslat_bpf__load(o);
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
	// Spinlocks: the slow path itself (fentry/fexit, tp_btf mode only);
	// without it the lone pending-bit waiter is invisible.
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

bool SessionImpl::init(const Options &opts, std::string *error)
{
	opts_ = opts;
	libbpf_set_print(libbpf_print);
	ncpu_ = libbpf_num_possible_cpus();
	if (ncpu_ <= 0) {
		*error = "cannot read the number of possible CPUs";
		return false;
	}
	if (getrandom(&salt_, sizeof(salt_), 0) != sizeof(salt_))
		salt_ = now_ns() * 0x9e3779b97f4a7c15ull;
	if (opts.devices.empty() && (opts.opslat || opts.lockstat)) {
		*error = "no target device given";
		return false;
	}
	if (opts.devices.size() > OPSLAT_MAX_DEVS) {
		*error = fmt("%zu devices given, at most %d", opts.devices.size(), OPSLAT_MAX_DEVS);
		return false;
	}
	for (dev_t d : opts.devices) {
		if (std::any_of(devs_.begin(), devs_.end(), [&](const Dev &x) { return x.rdev == d; }))
			continue;
		devs_.push_back({d, fmt("%u:%u", major(d), minor(d))});
	}
	// Name the devices after their nodes in /dev.
	if (DIR *dir = opendir("/dev")) {
		while (struct dirent *e = readdir(dir)) {
			std::string p = std::string("/dev/") + e->d_name;
			struct stat st;
			// lstat: /dev/stdin and friends are symlinks to whatever the
			// process has open, not the device's name.
			if (lstat(p.c_str(), &st) || !S_ISCHR(st.st_mode))
				continue;
			for (auto &d : devs_)
				if (d.rdev == st.st_rdev && d.name.find('/') == std::string::npos)
					d.name = p;
		}
		closedir(dir);
	}

	std::vector<int> modes(std::begin(kAutoOrder), std::end(kAutoOrder));
	if (opts.attach != "auto") {
		auto it = std::find(std::begin(kModes), std::end(kModes), opts.attach);
		if (it == std::end(kModes)) {
			*error = "unknown attach mode '" + opts.attach + "' (auto, tp_btf, raw_tp, tracepoint, fentry, kprobe)";
			return false;
		}
		modes = {int(it - std::begin(kModes))};
	}
	// Before loading: fentry/kprobe modes find the driver functions in it.
	ksyms_.load(&notes_);
	std::string why;
	bool need_ops = opts.opslat || opts.lockstat;
	for (int m : modes) {
		if (!need_ops)
			break;
		std::string e;
		if (!load_opslat(m, &e)) {
			why += (why.empty() ? "" : "; ") + e;
			continue;
		}
		if (opts.lockstat && !load_lockstat(m, &e)) {
			why += (why.empty() ? "" : "; ") + e;
			destroy_opslat();
			continue;
		}
		mode_ = m;
		break;
	}
	if (need_ops && mode_ < 0) {
		*error = why + (geteuid() ? " (BPF needs root)" : "");
		return false;
	}
	if (!opts.funcs.empty() && !load_funclat(error))
		return false;
	if (opts.prog_stats) {
		stats_fd_ = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd_ < 0)
			notes_.push_back(fmt("bpf_enable_stats failed (%s): no prog_stats", strerror(errno)));
	}
	return true;
}

bool SessionImpl::attach(std::string *error)
{
	if (!links_.empty())
		return true;
	auto add = [&](bpf_program *p, bpf_link *l, const std::string &what) {
		if (!l) {
			*error = fmt("attaching %s failed: %s", what.c_str(), strerror(errno));
			detach();
			return false;
		}
		links_.push_back(l);
		if (std::none_of(progs_.begin(), progs_.end(), [&](const Prog &x) { return x.prog == p; }))
			progs_.push_back({p});
		return true;
	};
	// A call whose entry was seen but whose exit was not would leave a
	// stale entry: attach the exit/end programs first and detach them last
	// (detach() goes in reverse), and start from empty per-thread maps.
	auto wipe = [](bpf_map *m, size_t ksize) {
		int fd = bpf_map__fd(m);
		std::vector<char> k(ksize);
		while (bpf_map_get_next_key(fd, nullptr, k.data()) == 0)
			bpf_map_delete_elem(fd, k.data());
	};
	if (ops_) {
		wipe(ops_->maps.inflight, sizeof(__u32));
		// Task storage cannot be iterated from user space: entries
		// written before this attach carry an older generation (every
		// copy of the object counts the same generations).
		ops_->bss->generation++;
		for (auto *o : ops_extra_)
			o->bss->generation++;
	}
	if (lk_)
		wipe(lk_->maps.waits, sizeof(wait_key));
	if (fn_)
		wipe(fn_->maps.starts, sizeof(func_key));
	for (int pass = 0; pass < 2; pass++) {
		std::vector<bpf_object *> objs = {lk_ ? lk_->obj : nullptr, ops_ ? ops_->obj : nullptr};
		for (auto *o : ops_extra_)
			objs.push_back(o->obj);
		for (bpf_object *obj : objs) {
			if (!obj)
				continue;
			bpf_program *p;
			bpf_object__for_each_program(p, obj)
			{
				std::string n = bpf_program__name(p);
				bool is_exit = n.find("_exit") != std::string::npos || n.find("_end") != std::string::npos ||
					       n.find("kretprobe") != std::string::npos;
				if (!bpf_program__autoload(p) || is_exit != (pass == 0))
					continue;
				if (mode_ == M_KPROBE && ops_ && bpf_program__fd(p) >= 0 &&
				    (p == ops_->progs.opsfn_kprobe || p == ops_->progs.opsfn_kretprobe)) {
					// One program, one kprobe per driver function.
					for (const auto &f : drv_funcs_) {
						LIBBPF_OPTS(bpf_kprobe_opts, ko, .retprobe = is_exit);
						if (!add(p, bpf_program__attach_kprobe_opts(p, f.name.c_str(), &ko),
							 n + " on " + f.name))
							return false;
					}
					continue;
				}
				if (!add(p, bpf_program__attach(p), n))
					return false;
			}
		}
	}
	// kprobes: a function may refuse one (an __exit function, a notrace
	// one); skip it with a note, fail only if none attaches.
	size_t attached = 0;
	for (uint32_t i = 0; i < funcs_.size(); i++) {
		LIBBPF_OPTS(bpf_kprobe_opts, r, .bpf_cookie = i, .retprobe = true);
		bpf_link *ret = bpf_program__attach_kprobe_opts(fn_->progs.funclat_exit, funcs_[i].name.c_str(), &r);
		if (!ret) {
			notes_.push_back("kprobe on " + funcs_[i].name + " refused (" + strerror(errno) + "), skipped");
			continue;
		}
		LIBBPF_OPTS(bpf_kprobe_opts, o, .bpf_cookie = i, .retprobe = false);
		bpf_link *ent = bpf_program__attach_kprobe_opts(fn_->progs.funclat_entry, funcs_[i].name.c_str(), &o);
		if (!ent) {
			bpf_link__destroy(ret);
			notes_.push_back("kprobe on " + funcs_[i].name + " refused (" + strerror(errno) + "), skipped");
			continue;
		}
		add(fn_->progs.funclat_exit, ret, "");
		add(fn_->progs.funclat_entry, ent, "");
		attached++;
	}
	if (!funcs_.empty() && !attached) {
		*error = "no kprobe could be attached:";
		for (const auto &n : notes_)
			*error += " " + n + ";";
		detach();
		return false;
	}
	snapshot_prog_base();
	attach_ns_ = now_ns();
	detach_ns_ = 0;
	return true;
}

void SessionImpl::detach()
{
	if (links_.empty())
		return;
	// Reverse order: entry programs go first, exit programs last.
	for (auto it = links_.rbegin(); it != links_.rend(); ++it)
		bpf_link__destroy(*it);
	links_.clear();
	detach_ns_ = now_ns();
}

void SessionImpl::snapshot_prog_base()
{
	for (auto &p : progs_) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		if (bpf_obj_get_info_by_fd(bpf_program__fd(p.prog), &info, &len) == 0) {
			p.base_cnt = info.run_cnt;
			p.base_ns = info.run_time_ns;
			p.base_miss = info.recursion_misses;
		}
	}
}

namespace {
// Sum of one key's per-CPU values of a map whose value is an array of u64
// (every struct here is), or false if the key is missing.
bool read_percpu(int fd, const void *key, size_t value_size, int ncpu, std::vector<uint64_t> *sum)
{
	size_t words = (value_size + 7) / 8;
	std::vector<uint64_t> buf(words * ncpu);
	if (bpf_map_lookup_elem(fd, key, buf.data()))
		return false;
	sum->assign(words, 0);
	for (int c = 0; c < ncpu; c++)
		for (size_t w = 0; w < words; w++)
			(*sum)[w] += buf[c * words + w];
	return true;
}

// Min and max do not add up across CPUs: combine them per CPU.
void percpu_minmax(int fd, const void *key, size_t value_size, int ncpu, size_t count_w, size_t min_w,
		   size_t max_w, uint64_t *mn, uint64_t *mx)
{
	size_t words = (value_size + 7) / 8;
	std::vector<uint64_t> buf(words * ncpu);
	*mn = 0;
	*mx = 0;
	if (bpf_map_lookup_elem(fd, key, buf.data()))
		return;
	bool any = false;
	for (int c = 0; c < ncpu; c++) {
		const uint64_t *v = &buf[c * words];
		if (!v[count_w])
			continue;
		if (!any || v[min_w] < *mn)
			*mn = v[min_w];
		*mx = std::max(*mx, v[max_w]);
		any = true;
	}
}
} // namespace

Report SessionImpl::report() const
{
	Report r;
	r.attach_mode = mode_ >= 0 ? kModes[mode_] : "";
	if (attach_ns_)
		r.duration_ns = (detach_ns_ ? detach_ns_ : now_ns()) - attach_ns_;
	r.notes = notes_;
	std::vector<uint64_t> v;
	if (ops_ && opts_.opslat) {
		int fd = bpf_map__fd(ops_->maps.hists);
		for (uint32_t d = 0; d < devs_.size(); d++)
			for (uint32_t op = 0; op < KOP_COUNT; op++) {
				uint32_t slot = OPSLAT_SLOT(d, op);
				if (!read_percpu(fd, &slot, sizeof(opslat_hist), ncpu_, &v) || v[0] == 0)
					continue;
				const auto *h = reinterpret_cast<const opslat_hist *>(v.data());
				uint64_t mn, mx;
				percpu_minmax(fd, &slot, sizeof(opslat_hist), ncpu_, 0, 2, 3, &mn, &mx);
				OpStat s;
				s.device = devs_[d].name;
				s.major = major(devs_[d].rdev);
				s.minor = minor(devs_[d].rdev);
				s.op = kOpNames[op];
				s.hist = make_hist(h->slots, h->count, h->sum_ns, mn, mx);
				for (unsigned e = 1; e < ERRNO_SLOTS; e++)
					if (h->errors[e])
						s.errors[errno_name(e)] += h->errors[e];
				r.opslat.push_back(std::move(s));
			}
	}
	if (lk_) {
		int fd = bpf_map__fd(lk_->maps.locks);
		lock_key k, next;
		bool first = true;
		while (bpf_map_get_next_key(fd, first ? nullptr : &k, &next) == 0) {
			first = false;
			k = next;
			if (!read_percpu(fd, &k, sizeof(lock_stat), ncpu_, &v))
				continue;
			const auto *s = reinterpret_cast<const lock_stat *>(v.data());
			uint64_t mn, mx;
			percpu_minmax(fd, &k, sizeof(lock_stat), ncpu_, 0, 0, 2, &mn, &mx);
			// Flags were OR-ed per CPU, the sum above mangles them.
			std::vector<uint64_t> raw((sizeof(lock_stat) + 7) / 8 * ncpu_);
			uint64_t flags = 0;
			if (bpf_map_lookup_elem(fd, &k, raw.data()) == 0)
				for (int c = 0; c < ncpu_; c++)
					flags |= raw[c * ((sizeof(lock_stat) + 7) / 8) + 3];
			LockStat l;
			l.lock = ksyms_.lock_name(k.lock, salt_);
			l.kind = lock_kind(flags);
			l.context = k.ctx == LCTX_IRQ ? "irq" : "task";
			l.device = k.dev_idx < devs_.size() ? devs_[k.dev_idx].name : "?";
			l.op = k.op < KOP_COUNT ? kOpNames[k.op] : "?";
			l.count = s->count;
			l.total_ns = s->total_ns;
			l.max_ns = mx;
			// Minimum is not kept per lock; the histogram's first bucket bounds it.
			l.hist = make_hist(s->slots, s->count, s->total_ns, 0, mx);
			if (!l.hist.buckets.empty())
				l.hist.min_ns = l.hist.buckets.front().lo;
			r.lockstat.push_back(std::move(l));
		}
		std::sort(r.lockstat.begin(), r.lockstat.end(),
			  [](const LockStat &a, const LockStat &b) { return a.total_ns > b.total_ns; });
	}
	if (fn_) {
		int fd = bpf_map__fd(fn_->maps.funcs);
		for (uint32_t i = 0; i < funcs_.size(); i++) {
			if (!read_percpu(fd, &i, sizeof(func_hist), ncpu_, &v) || v[0] == 0)
				continue;
			const auto *h = reinterpret_cast<const func_hist *>(v.data());
			uint64_t mn, mx;
			percpu_minmax(fd, &i, sizeof(func_hist), ncpu_, 0, 2, 3, &mn, &mx);
			r.funclat.push_back({funcs_[i].name, funcs_[i].module,
					     make_hist(h->slots, h->count, h->sum_ns, mn, mx)});
		}
	}
	// Drops: each object has its own per-CPU counter array.
	std::vector<bpf_map *> drop_maps;
	if (ops_)
		drop_maps.push_back(ops_->maps.drops);
	if (lk_)
		drop_maps.push_back(lk_->maps.drops);
	if (fn_)
		drop_maps.push_back(fn_->maps.drops);
	for (uint32_t i = 0; i < KDROP_COUNT; i++) {
		uint64_t n = 0;
		for (auto *m : drop_maps)
			if (read_percpu(bpf_map__fd(m), &i, sizeof(uint64_t), ncpu_, &v))
				n += v[0];
		r.drops[kDropNames[i]] = n;
		r.dropped += n;
	}
	r.prog_stats_enabled = stats_fd_ >= 0;
	for (const auto &p : progs_) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		if (bpf_obj_get_info_by_fd(bpf_program__fd(p.prog), &info, &len))
			continue;
		ProgStat s;
		s.name = bpf_program__name(p.prog);
		s.run_cnt = info.run_cnt - p.base_cnt;
		s.run_time_ns = info.run_time_ns - p.base_ns;
		s.recursion_misses = info.recursion_misses - p.base_miss;
		s.ns_per_event = s.run_cnt ? double(s.run_time_ns) / double(s.run_cnt) : 0;
		r.prog_stats.push_back(s);
	}
	return r;
}

void SessionImpl::clear()
{
	std::vector<uint64_t> zero;
	auto zero_array = [&](bpf_map *m, uint32_t n, size_t vsize) {
		zero.assign((vsize + 7) / 8 * ncpu_, 0);
		for (uint32_t i = 0; i < n; i++)
			bpf_map_update_elem(bpf_map__fd(m), &i, zero.data(), BPF_ANY);
	};
	if (ops_) {
		zero_array(ops_->maps.hists, OPSLAT_NSLOTS, sizeof(opslat_hist));
		zero_array(ops_->maps.drops, KDROP_COUNT, sizeof(uint64_t));
	}
	if (lk_) {
		int fd = bpf_map__fd(lk_->maps.locks);
		lock_key k;
		while (bpf_map_get_next_key(fd, nullptr, &k) == 0)
			bpf_map_delete_elem(fd, &k);
		zero_array(lk_->maps.drops, KDROP_COUNT, sizeof(uint64_t));
	}
	if (fn_) {
		zero_array(fn_->maps.funcs, FUNCLAT_MAX_FUNCS, sizeof(func_hist));
		zero_array(fn_->maps.drops, KDROP_COUNT, sizeof(uint64_t));
	}
	snapshot_prog_base();
	if (attach_ns_ && !detach_ns_)
		attach_ns_ = now_ns();
}

std::unique_ptr<Session> Session::open(const Options &opts, std::string *error)
{
	auto s = std::make_unique<SessionImpl>();
	std::string err;
	if (!s->init(opts, &err)) {
		if (error)
			*error = err;
		return nullptr;
	}
	return s;
}

bool device_number(const std::string &path, dev_t *out, std::string *error)
{
	struct stat st;
	if (stat(path.c_str(), &st)) {
		*error = path + ": " + strerror(errno);
		return false;
	}
	if (!S_ISCHR(st.st_mode)) {
		*error = path + ": not a character device";
		return false;
	}
	*out = st.st_rdev;
	return true;
}

// ---- percentiles ----------------------------------------------------------------

namespace {
// Index of the bucket holding the rank-th value (1-based), and how many
// values precede that bucket.
bool find_rank(const Histogram &h, double q, size_t *bi, uint64_t *before, uint64_t *rank)
{
	if (!h.count)
		return false;
	uint64_t total = 0;
	for (const auto &b : h.buckets)
		total += b.count;
	if (!total)
		return false;
	*rank = std::max<uint64_t>(1, uint64_t(std::ceil(q * double(total))));
	uint64_t cum = 0;
	for (size_t i = 0; i < h.buckets.size(); i++) {
		if (cum + h.buckets[i].count >= *rank) {
			*bi = i;
			*before = cum;
			return true;
		}
		cum += h.buckets[i].count;
	}
	*bi = h.buckets.size() - 1;
	*before = cum - h.buckets.back().count;
	return true;
}
} // namespace

double Histogram::percentile(double q) const
{
	size_t bi;
	uint64_t before, rank;
	if (!find_rank(*this, q, &bi, &before, &rank))
		return 0;
	const auto &b = buckets[bi];
	double frac = (double(rank - before) - 0.5) / double(b.count);
	double v = double(b.lo) + frac * double(b.hi - b.lo);
	if (max_ns && v > double(max_ns))
		v = double(max_ns);
	if (v < double(min_ns))
		v = double(min_ns);
	return v;
}

uint64_t Histogram::percentile_floor(double q) const
{
	size_t bi;
	uint64_t before, rank;
	if (!find_rank(*this, q, &bi, &before, &rank))
		return 0;
	return buckets[bi].lo;
}

} // namespace kmodlab::bpf
