// session.cpp - Session::open: SessionImpl::init chooses the devices and
// the attach mode and loads the objects (load.cpp); device_number().
#include "session_impl.hpp"

#include <dirent.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstring>

namespace kmodlab::bpf {

const char *const kOpNames[KOP_COUNT] = {"read",     "write", "pread64", "pwrite64",
					 "ioctl",    "openat", "close"};
const char *const kModes[M_COUNT] = {"tp_btf", "raw_tp", "tracepoint", "fentry", "kprobe"};

namespace {
// "auto" tries these in order and takes the first that loads.
const Mode kAutoOrder[] = {M_FENTRY, M_TP_BTF, M_RAW_TP, M_TRACEPOINT};

// libbpf prints its own diagnostics (verifier logs) through this; keep
// warnings and errors, drop the debug chatter.
int libbpf_print(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, format, args);
}
} // namespace

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

SessionImpl::~SessionImpl()
{
	detach();
	funclat_bpf__destroy(fn_);
	wakelat_bpf__destroy(wk_);
	drvevents_bpf__destroy(ev_);
	encphase_bpf__destroy(enc_);
	lockstat_bpf__destroy(lk_);
	destroy_opslat();
	if (stats_fd_ >= 0)
		close(stats_fd_);
}

// The target devices, each once, named "maj:min" until name_devices()
// finds their node.
bool SessionImpl::add_devices(const std::vector<dev_t> &devices, std::string *error)
{
	if (devices.empty() && (opts_.opslat || opts_.lockstat || opts_.wakelat)) {
		*error = "no target device given";
		return false;
	}
	if (devices.size() > OPSLAT_MAX_DEVS) {
		*error = fmt("%zu devices given, at most %d", devices.size(), OPSLAT_MAX_DEVS);
		return false;
	}
	for (dev_t d : devices) {
		if (std::any_of(devs_.begin(), devs_.end(), [&](const Dev &x) { return x.rdev == d; }))
			continue;
		devs_.push_back({d, fmt("%u:%u", major(d), minor(d))});
	}
	return true;
}

// Name the devices after their nodes in /dev.
void SessionImpl::name_devices()
{
	DIR *dir = opendir("/dev");
	if (!dir)
		return;
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

// opslat (and lockstat, wakelat) in the first of the modes that loads; the error
// lists why each failed.
bool SessionImpl::load_first_mode(const std::vector<int> &modes, std::string *error)
{
	std::string why;
	for (int m : modes) {
		std::string e;
		if (!load_opslat(m, &e)) {
			why += (why.empty() ? "" : "; ") + e;
			continue;
		}
		if (opts_.lockstat && !load_lockstat(m, &e)) {
			why += (why.empty() ? "" : "; ") + e;
			destroy_opslat();
			continue;
		}
		if (opts_.wakelat && !load_wakelat(m, &e)) {
			why += (why.empty() ? "" : "; ") + e;
			lockstat_bpf__destroy(lk_);
			lk_ = nullptr;
			destroy_opslat();
			continue;
		}
		mode_ = m;
		return true;
	}
	*error = why + (geteuid() ? " (BPF needs root)" : "");
	return false;
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
	if (!add_devices(opts.devices, error))
		return false;
	name_devices();

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
	// wakelat needs opslat's per-thread state, so opslat loads for it too.
	if ((opts.opslat || opts.lockstat || opts.wakelat) && !load_first_mode(modes, error))
		return false;
	if (!opts.funcs.empty() && !load_funclat(error))
		return false;
	if (opts.trace_events && !load_trace_events(error))
		return false;
	if (opts.prog_stats) {
		stats_fd_ = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd_ < 0)
			notes_.push_back(fmt("bpf_enable_stats failed (%s): no prog_stats", strerror(errno)));
	}
	return true;
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

int run_command(char *const *argv)
{
	pid_t pid = fork();
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
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

} // namespace kmodlab::bpf
