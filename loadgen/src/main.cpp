// kmodlab-load - the lab's load generator.  See --help and loadgen/README.md;
// the JSON it writes is specified in loadgen/SCHEMA.md.
//
// run_main chains the stages of one run (run.hpp):
//
//   resolve  options and the device node -> Run; the device's profile
//            (profile.cpp) says what --check, --size and the module allow
//   open     a control descriptor (the profile reads or resets device
//            state), one descriptor per worker, regions prefilled
//   run      the workers (worker.cpp) start together; warm-up not recorded;
//            --bpf cleared at its end; one progress line a second
//   verify   --check: the workers' findings plus the device's (profile)
//   emit     table, JSON, BPF text, exit status (report.cpp)
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include "env.hpp"
#include "pacer.hpp"
#include "report.hpp"
#include "run.hpp"

extern "C" {
#include "counter.h"
}

#ifdef KMODLAB_HAVE_BPF
#include "kmodlab_bpf.hpp"
#endif

namespace kmodlab {
namespace {

void on_signal(int) { g_stop.store(true, std::memory_order_relaxed); }

[[maybe_unused]] std::vector<dev_t> traced_devices(const Run &run);

// --bpf: a kmodlab::bpf::Session on the device's st_rdev, attached before
// the workers start, cleared at the end of the warm-up, detached before
// --check reads the regions back (those reads are not operations of the
// run).  --bpf-trace attaches before the set-up instead (open_before_setup),
// so that the driver's events of the set-up (scull's trim and prefill) are
// seen; end_setup() keeps them apart and clears.  Without the bpf library
// every call is a no-op and --bpf is refused in resolve().
class BpfProbe {
public:
	void open_before_setup(const Run &run)
	{
		if (run.opt.bpf_trace)
			open(run);
	}
	// After the set-up: --bpf attaches now; --bpf-trace reads the set-up's
	// tracepoint figures and clears them.
	void end_setup(const Run &run)
	{
		if (!run.opt.bpf)
			return;
		if (!active()) {
			open(run);
			return;
		}
#ifdef KMODLAB_HAVE_BPF
		setup_ = trace_figures_of(session_->report());
		session_->clear();
#endif
	}
	void open(const Run &run)
	{
#ifdef KMODLAB_HAVE_BPF
		if (!run.opt.bpf)
			return;
		std::string err;
		kmodlab::bpf::Options bo;
		bo.devices = traced_devices(run);
		bo.tgid = getpid(); /* other processes on the same node are not ours */
		// paired runs sleep in the driver: how long a woken thread waits to run
		bo.wakelat = paired_op(run);
		bo.trace_events = run.opt.bpf_trace;
		bo.attach = run.opt.bpf_attach;
		session_ = kmodlab::bpf::Session::open(bo, &err);
		if (!session_)
			die("--bpf: " + err);
		if (!session_->attach(&err))
			die("--bpf: attach: " + err);
#else
		(void)run;
#endif
	}
	bool active() const { return session_ != nullptr; }
	void clear()
	{
#ifdef KMODLAB_HAVE_BPF
		session_->clear();
#endif
	}
	// Stop counting; read the figures now: in the guest, calls made after
	// detach returned were still counted.
	void detach_and_read()
	{
#ifdef KMODLAB_HAVE_BPF
		session_->detach();
		json_ = session_->json();
		text_ = session_->text();
		read_ = true;
		trace_ = trace_figures_of(session_->report());
#endif
	}
	void detach_if_attached()
	{
		if (active() && !read_)
			detach_and_read();
	}
	std::optional<std::string> json() const { return active() ? std::optional(json_) : std::nullopt; }
	const std::string &text() const { return text_; }
	// --bpf-trace: the module's tracepoint figures by name (events,
	// "phase:<name>" counts, sequence figures; trace_check.hpp).
	const std::map<std::string, uint64_t> &trace_figures() const { return trace_; }
	// The same over the set-up (--bpf-trace).
	const std::map<std::string, uint64_t> &setup_figures() const { return setup_; }

private:
#ifdef KMODLAB_HAVE_BPF
	static std::map<std::string, uint64_t> trace_figures_of(const kmodlab::bpf::Report &report)
	{
		std::map<std::string, uint64_t> out;
		for (const auto &m : report.trace_events) {
			for (const auto &[name, n] : m.events)
				out[name] = n;
			for (const auto &[name, h] : m.phases)
				out["phase:" + name] = h.count;
			for (const auto &[name, n] : m.sequence)
				out[name] = n;
		}
		return out;
	}
#endif
#ifdef KMODLAB_HAVE_BPF
	std::unique_ptr<kmodlab::bpf::Session> session_;
#else
	const void *session_ = nullptr;
#endif
	bool read_ = false;
	std::string json_, text_;
	std::map<std::string, uint64_t> trace_, setup_;
};

std::string open_error(const Run &run, int e)
{
	const std::string &p = run.dev.path;
	if (e == ENOENT) {
		if (!run.dev.module.empty())
			return p + " not found: is the module loaded? (module " + run.dev.module + ")";
		return p + " not found";
	}
	if (e == EACCES || e == EPERM) {
		struct stat st;
		std::string who;
		if (stat(p.c_str(), &st) == 0) {
			char mode[32];
			std::snprintf(mode, sizeof(mode), "%04o", st.st_mode & 07777);
			who = " (mode " + std::string(mode) + ", owner uid " + std::to_string(st.st_uid) + "; you are uid " +
			      std::to_string(getuid()) + ")";
		}
		return p + ": permission denied" + who + ": run as root or change the node's mode";
	}
	return p + ": " + std::strerror(e);
}

// --- resolve ---------------------------------------------------------------

// Returns the exit status when the command line is all there is to do
// (--help, --version); dies on a usage error.
std::optional<int> parse_command_line(int argc, char **argv, Options &opt)
{
	std::string err;
	if (!parse_options(argc, argv, &opt, &err))
		die(err);
	if (opt.help) {
		std::cout << usage();
		return 0;
	}
	if (opt.version) {
		std::cout << "kmodlab-load " << kVersion << "\n";
		return 0;
	}
#ifndef KMODLAB_HAVE_BPF
	if (opt.bpf)
		die("--bpf: built without BPF support (the bpf/ library target kmodlab_bpf was not available at build time)");
#endif
	// Fail before a long run, not after it, when the JSON cannot be written.
	if (!opt.json_path.empty() && opt.json_path != "-") {
		std::ofstream probe(opt.json_path, std::ios::app);
		if (!probe)
			die("--json: cannot write " + opt.json_path + ": " + std::strerror(errno));
	}
	return std::nullopt;
}

// The node: which driver (its name), what kind of file, its profile.
void resolve_device(Run &run)
{
	const Options &opt = run.opt;
	run.dev = classify_device(opt.device);
	run.profile = &profile_of(run.dev.kind);
	struct stat st;
	if (stat(opt.device.c_str(), &st) != 0)
		die(open_error(run, errno));
	run.is_regular = S_ISREG(st.st_mode);
	run.rdev = st.st_rdev;
	if (!run.is_regular && !S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
		die(opt.device + " is neither a device node nor a regular file");
	run.seekable = run.profile->regions || run.is_regular;
	run.value_read = run.profile->value_read;
}

// The mix against what this device supports.
void resolve_ops(Run &run)
{
	std::string err;
	for (const auto &m : run.opt.mix) {
		OpSpec spec;
		if (!lookup_op(run.dev.kind, m.op, &spec, &err))
			die(run.opt.device + ": " + err);
		run.ops.push_back(spec);
		run.total_weight += m.weight;
		run.cumulative.push_back(run.total_weight);
		if (spec.ioctl && spec.ioctl->mutates)
			run.has_ioctl_mutation = true;
	}
}

void resolve_sizes(Run &run)
{
	const Options &opt = run.opt;
	const DeviceProfile &p = *run.profile;
	run.size = opt.size ? opt.size : p.default_size;
	if (p.max_size && run.size > p.max_size)
		die("--size: " + std::string(p.max_size_of) + " holds at most " + std::to_string(p.max_size) + " bytes");
	run.span = opt.span ? opt.span : std::max<uint64_t>(kDefaultSpan, run.size);
	if (run.seekable && run.span < run.size)
		die("--span must be at least --size");
}

void resolve(Run &run)
{
	resolve_device(run);
	resolve_ops(run);
	resolve_sizes(run);
	if (run.opt.check)
		run.profile->refuse_check(run);
	bool has_read = false;
	for (const auto &o : run.ops)
		has_read |= o.kind == OpKind::read || o.kind == OpKind::pread;
	run.prefill = run.seekable && (has_read || run.opt.check);
	run.params = module_parameters(run.dev.module);
	run.profile->check_params(run);
	std::string err;
	if (!run.clock.init(run.opt.clock, &err))
		die(err);
}

// --- open ------------------------------------------------------------------

// The pipes of a paired run (worker.cpp): pipe, every thread on the node;
// pingpong, pair k on the node's minor + 2k (out) and + 2k + 1 (back).
std::string paired_node(const Run &run, unsigned i, int back)
{
	if (run.ops[0].kind == OpKind::pipe)
		return run.opt.device;
	const int minor = run.dev.minor_index + static_cast<int>(i & ~1u) + back;
	return node_path(run.dev.base.c_str(), run.dev.variant.c_str(), minor);
}

// The nodes --bpf traces: the run's, and a paired run's other pipes (the
// pingpong return pipes), each once.
std::vector<dev_t> traced_devices(const Run &run)
{
	std::vector<dev_t> devs = {run.rdev};
	if (!paired_op(run))
		return devs;
	for (unsigned i = 0; i < run.opt.threads; i += 2)
		for (int back = 0; back < 2; back++) {
			struct stat st;
			const std::string path = paired_node(run, i, back);
			if (::stat(path.c_str(), &st))
				die(path + ": " + std::strerror(errno));
			if (std::find(devs.begin(), devs.end(), st.st_rdev) == devs.end())
				devs.push_back(st.st_rdev);
		}
	return devs;
}

// (The run's own node was opened before; the others exist by the profile's
// nr_devs check.)
int open_node(const std::string &path, int flags)
{
	const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
	if (fd < 0)
		die(path + ": " + std::strerror(errno));
	return fd;
}

// Data left in a pipe by an earlier run would be read as this run's (a
// pingpong echo out of step): read it away first.
void drain_pipe(const std::string &path)
{
	const int fd = open_node(path, O_RDONLY | O_NONBLOCK);
	char buf[4096];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

// Paired threads: the even one of each pair measures and takes a share of
// --ops; the odd one helps (worker.cpp).
void open_paired(Run &run, Worker &w)
{
	const unsigned pairs = run.opt.threads / 2, pair = w.index / 2;
	w.share = w.index & 1u ? 0 : run.opt.ops / pairs + (pair < run.opt.ops % pairs ? 1 : 0);
	for (int back = 0; back < 2; back++)
		if (!(w.index & 1u))  // once per pair
			drain_pipe(paired_node(run, w.index, back));
	close(w.fd);
	w.fd = open_node(paired_node(run, w.index, 0), O_RDWR);
	if (run.ops[0].kind == OpKind::pingpong)
		w.fd2 = open_node(paired_node(run, w.index, 1), O_RDWR);
}

std::unique_ptr<Worker> open_worker(Run &run, unsigned i, uint64_t rng)
{
	const Options &opt = run.opt;
	auto w = std::make_unique<Worker>();
	w->index = i;
	w->fd = ::open(opt.device.c_str(), O_RDWR | O_CLOEXEC);
	if (w->fd < 0)
		die(open_error(run, errno));
	w->stats.resize(run.ops.size());
	w->share = opt.ops / opt.threads + (i < opt.ops % opt.threads ? 1 : 0);
	if (paired_op(run))
		open_paired(run, *w);
	w->rng = splitmix(rng + i + 1) | 1;
	w->buf.assign(std::max<uint64_t>(run.size, COUNTER_WRITE_MAX), 'x');
	if (run.seekable) {
		std::string err;
		w->region_base = i * run.span;
		if (lseek(w->fd, static_cast<off_t>(w->region_base), SEEK_SET) < 0)
			die(opt.device + ": lseek: " + std::strerror(errno));
		if (opt.check)
			w->written.assign(run.span, 0);
		if (run.prefill && !prefill(run, *w, &err))
			die(opt.device + ": " + err);
	}
	run.profile->init_worker(run, *w);
	return w;
}

// Returns the control descriptor (device state before and after the run).
int open_device(Run &run)
{
	const int ctl = ::open(run.opt.device.c_str(), O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		die(open_error(run, errno));
	run.profile->setup(run, ctl);
	const uint64_t rng = splitmix(run.opt.seed);
	for (unsigned i = 0; i < run.opt.threads; i++)
		run.workers.push_back(open_worker(run, i, rng));
	// Precise sleeps for open-loop pacing (the default slack is 50 us).
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (paired_op(run))
		install_release_signal();
	return ctl;
}

// --- run -------------------------------------------------------------------

// Start the workers, then release them together at t0.
std::vector<std::thread> start_workers(Run &run, BpfProbe &bpf)
{
	const Options &opt = run.opt;
	std::vector<std::thread> threads;
	for (auto &w : run.workers)
		threads.emplace_back(worker_main, std::ref(run), std::ref(*w));
	while (run.ready.load() < opt.threads)
		std::this_thread::yield();
	for (auto &w : run.workers) {
		if (!w->error.empty())
			die(w->error);
		close(w->fd);  // the worker has its own copy (see worker_main)
		if (w->fd2 >= 0)
			close(w->fd2);
	}
	const Clock &clk = run.clock;
	const double tpn = clk.ticks_per_ns();
	run.t0 = clk.now() + static_cast<uint64_t>(1e6 * tpn);  // 1 ms for everyone to see "go"
	run.warm_end = run.t0 + static_cast<uint64_t>(opt.warmup_s * 1e9 * tpn);
	run.deadline = opt.ops ? 0 : run.warm_end + static_cast<uint64_t>(opt.duration_s * 1e9 * tpn);
	if (opt.ops && opt.duration_s > 0)
		run.deadline = run.warm_end + static_cast<uint64_t>(opt.duration_s * 1e9 * tpn);
	run.measure_go.store(!opt.bpf, std::memory_order_relaxed);
	run.verify_go.store(!opt.bpf, std::memory_order_relaxed);
	wait_until(clk, run.t0);
	run.go.store(true, std::memory_order_release);
	if (bpf.active()) {
		wait_until(clk, run.warm_end);
		bpf.clear();
		run.measure_go.store(true, std::memory_order_release);
	}
	return threads;
}

void print_progress(const Run &run, uint64_t now, uint64_t *last_ops, uint64_t *last_t)
{
	const double tpn = run.clock.ticks_per_ns();
	uint64_t ops = 0, errs = 0;
	bool measuring = true;
	for (auto &w : run.workers) {
		ops += w->progress_ops.load(std::memory_order_relaxed);
		errs += w->progress_err.load(std::memory_order_relaxed);
		measuring &= w->measuring.load(std::memory_order_relaxed);
	}
	const double dt = static_cast<double>(now - *last_t) / tpn / 1e9;
	std::fprintf(stderr, "kmodlab-load: %6.1fs %s ops %" PRIu64 "  %sops/s  errors %" PRIu64 "\n",
		     static_cast<double>(now - run.t0) / tpn / 1e9, measuring ? "" : "(warm-up)", ops,
		     fmt_rate(static_cast<double>(ops - *last_ops) / dt).c_str(), errs);
	*last_ops = ops;
	*last_t = now;
}

// Wait for the workers: one progress line a second on stderr; under --bpf
// --check, detach BPF once every worker's measured loop is over and before
// they read their regions back.  Returns whether a signal stopped the run.
bool wait_workers(Run &run, BpfProbe &bpf, std::vector<std::thread> &threads)
{
	const Clock &clk = run.clock;
	const uint64_t second = static_cast<uint64_t>(1e9 * clk.ticks_per_ns());
	std::atomic<unsigned> finished{0};
	std::vector<std::thread> joiners;
	for (auto &t : threads)
		joiners.emplace_back([&t, &finished] {
			t.join();
			finished.fetch_add(1);
		});
	uint64_t last_ops = 0, last_t = clk.now(), next_report = run.t0 + second;
	while (finished.load() < run.opt.threads) {
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
		if (bpf.active() && !run.verify_go.load() && run.loops_done.load() == run.opt.threads) {
			bpf.detach_and_read();
			run.verify_go.store(true, std::memory_order_release);
		}
		const uint64_t now = clk.now();
		if (now < next_report)
			continue;
		next_report += second;
		if (run.opt.progress)
			print_progress(run, now, &last_ops, &last_t);
	}
	for (auto &j : joiners)
		j.join();
	bpf.detach_if_attached();
	return g_stop.load();
}

// --- verify ----------------------------------------------------------------

// Successful measured operations per kind, over the workers.
OkOps ok_ops(const Run &run)
{
	OkOps ok;
	for (auto &w : run.workers)
		for (size_t i = 0; i < run.ops.size(); i++) {
			uint64_t failed = 0;
			for (uint64_t e : w->stats[i].errors)
				failed += e;
			ok[run.ops[i].kind] += w->stats[i].ops - failed;
		}
	return ok;
}

// One tracepoint plan against the figures BPF counted; what_ok says what a
// clean result means.  An interrupted phase is not checked.
TraceOutcome check_plan(const std::map<std::string, uint64_t> &figures, const TracePlan &plan, bool interrupted,
			const std::string &what_ok)
{
	TraceOutcome out;
	if (!plan.applies || interrupted) {
		out.detail = !plan.applies ? plan.not_checked : "interrupted: not checked";
		return out;
	}
	Verdict v;
	check_trace(figures, plan, v);
	out.checked = true;
	out.ok = v.mismatches == 0;
	out.detail = out.ok ? std::to_string(plan.expect.size()) + " figures " + what_ok
			    : std::to_string(v.mismatches) + " finding(s); first: " + v.first;
	return out;
}

// What the set-up did: the device emptied or not, the prefilled regions,
// the prefill's write calls, scull's geometry (profile setup).
SetupFacts setup_facts(const Run &run)
{
	SetupFacts f;
	f.emptied = run.emptied;
	f.quantum = run.scull_quantum > 0 ? static_cast<uint64_t>(run.scull_quantum) : 0;
	f.qset = run.scull_qset > 0 ? static_cast<uint64_t>(run.scull_qset) : 0;
	for (const auto &w : run.workers) {
		if (run.prefill)
			f.regions.emplace_back(w->region_base, run.span);
		f.writes += w->prefill_writes;
	}
	return f;
}

// --bpf-trace: the set-up's figures and their plan (none otherwise).
std::optional<SetupTrace> setup_trace(const Run &run, const BpfProbe &bpf)
{
	if (!run.opt.bpf_trace)
		return std::nullopt;
	SetupTrace s;
	s.figures = bpf.setup_figures();
	s.facts = setup_facts(run);
	s.plan = run.profile->setup_plan(s.facts);
	return s;
}

CheckOutcome verify(const Run &run, int ctl, const BpfProbe &bpf, const std::optional<SetupTrace> &setup)
{
	CheckOutcome out;
	if (!run.opt.check)
		return out;
	Verdict v;
	for (auto &w : run.workers) {
		if (w->mismatches && v.first.empty())
			v.first = "thread " + std::to_string(w->index) + ": " + w->first_mismatch;
		v.mismatches += w->mismatches;
	}
	run.profile->verify(run, ctl, v);
	out.ok = v.mismatches == 0;
	out.detail = out.ok ? v.ok_detail : std::to_string(v.mismatches) + " mismatch(es); first: " + v.first;
	if (setup) {
		const TracePlan plan = run.profile->trace_plan(run.ops, ok_ops(run), run.opt.threads);
		out.trace = check_plan(bpf.trace_figures(), plan, g_stop.load(), "as the operations predict");
		out.setup = check_plan(setup->figures, setup->plan, false, "exactly as the set-up predicts");
		out.ok = out.ok && out.trace.ok && out.setup.ok;
	}
	return out;
}

// --- emit ------------------------------------------------------------------

void write_json(const Run &run, const Results &r, const CheckOutcome &check, const BpfProbe &bpf,
		const SetupTrace *setup)
{
	// Invalid UTF-8 (a device's read-back in a check message) is replaced,
	// never a reason to lose the run's figures.
	const std::string text = json_document(run, r, check, bpf.json(), setup)
					 .dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
	if (run.opt.json_path == "-") {
		std::cout << text << "\n";
		return;
	}
	std::ofstream f(run.opt.json_path);
	f << text << "\n";
	if (!f)
		die("--json: cannot write " + run.opt.json_path);
}

// Exit status: 0, or 1 for a --check mismatch or failed operations.
int emit(const Run &run, const Results &r, const CheckOutcome &check, const BpfProbe &bpf,
	 const std::optional<SetupTrace> &setup)
{
	// With --json - the JSON owns stdout and the table goes to stderr.
	FILE *tout = run.opt.json_path == "-" ? stderr : stdout;
	const SetupTrace *st = setup ? &*setup : nullptr;
	print_table(tout, run, r, check, st);
	if (!run.opt.json_path.empty())
		write_json(run, r, check, bpf, st);
	if (bpf.active())
		std::fprintf(tout, "\n%s", bpf.text().c_str());
	std::fflush(stdout);
	if (run.opt.check && !check.ok) {
		const std::string &why = !check.trace.ok ? check.trace.detail
					 : !check.setup.ok ? "set-up: " + check.setup.detail
							   : check.detail;
		std::fprintf(stderr, "kmodlab-load: --check FAILED: %s\n", why.c_str());
		return 1;
	}
	if (r.errors) {
		std::string list;
		for (const auto &[k, v] : r.total.errors)
			list += (list.empty() ? "" : ", ") + k + " x" + std::to_string(v);
		std::fprintf(stderr, "kmodlab-load: %" PRIu64 " of %" PRIu64 " operations failed (%s)\n", r.errors,
			     r.total.ops, list.c_str());
		return 1;
	}
	return 0;
}

}  // namespace

int run_main(int argc, char **argv)
{
	Run run;
	if (const auto done = parse_command_line(argc, argv, run.opt))
		return *done;
	resolve(run);
	BpfProbe bpf;
	bpf.open_before_setup(run);
	const int ctl = open_device(run);
	bpf.end_setup(run);
	const std::optional<SetupTrace> setup = setup_trace(run, bpf);
	std::vector<std::thread> threads = start_workers(run, bpf);
	const bool interrupted = wait_workers(run, bpf, threads);
	const CheckOutcome check = verify(run, ctl, bpf, setup);
	close(ctl);
	return emit(run, merge_results(run, interrupted), check, bpf, setup);
}

}  // namespace kmodlab

int main(int argc, char **argv) { return kmodlab::run_main(argc, argv); }
