// kmodlab-bpf-check - cross-checks of the BPF session against exact
// user-side figures, run in the guest by tests/guest/suites/60-bpf.
//
//   count     N operations of one kind on one device, closed loop: the BPF
//             count for (device, op) must be exactly N, errors as expected,
//             no drops, kernel percentiles not above the user-side ones.
//   contend   the same op from 1 thread, then from T threads: lockstat must
//             show no contention with 1 thread, some with T, on a lock
//             matching --expect-lock, and waits that fit the slowdown.
//   overhead  throughput with and without BPF attached, interleaved rounds;
//             prints the ratio and the per-event cost from bpf_stats.
//
// Each prints what it measured and "OK" or "FAIL: why"; exit 1 on failure.
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "kmodlab_bpf.hpp"
#include "session_internal.hpp"  // rounded()

using namespace kmodlab::bpf;

namespace {

struct Args {
	std::string cmd, device, op = "read", data = "1\n", expect_lock, expect_kind, expect_errno, json;
	size_t size = 4096;
	uint64_t ops = 10000;
	unsigned threads = 4, rounds = 10;
	unsigned long ioctl_cmd = FIONREAD;
	unsigned stall_ms = 0;
	unsigned attempts = 10;
	double max_loss_pct = -1;  // overhead: no gate unless given
	std::string methods;        // overhead: comma-separated attach modes
	std::string attach = "auto";
};

uint64_t now_ns()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return uint64_t(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

int failures = 0;
void expect(bool ok, const char *what, const std::string &detail)
{
	printf("%s %s: %s\n", ok ? "ok  " : "FAIL", what, detail.c_str());
	if (!ok)
		failures++;
}

// The op as the BPF side names it.
std::string bpf_op(const std::string &op)
{
	if (op == "pread")
		return "pread64";
	if (op == "pwrite")
		return "pwrite64";
	return op;
}

// One operation; returns the syscall's result (-errno on failure).
long do_op(const Args &a, int fd, char *buf)
{
	long r;
	if (a.op == "read")
		r = read(fd, buf, a.size);
	else if (a.op == "write")
		r = write(fd, a.data.data(), a.data.size());
	else if (a.op == "pread")
		r = pread(fd, buf, a.size, 0);
	else if (a.op == "pwrite")
		r = pwrite(fd, a.data.data(), a.data.size(), 0);
	else if (a.op == "ioctl") {
		long arg = 0;
		r = ioctl(fd, a.ioctl_cmd, &arg);
	} else
		return -EINVAL;
	return r < 0 ? -errno : r;
}

// N ops (or open+close pairs for op "openclose") from one thread on its own
// fd; per-op user-side latencies into *lat.
struct Worker {
	std::vector<uint64_t> lat;
	uint64_t errors = 0;
	int fd = -1;
};

bool open_fd(const Args &a, Worker *w)
{
	w->fd = open(a.device.c_str(), O_RDWR);
	if (w->fd < 0) {
		fprintf(stderr, "cannot open %s: %s\n", a.device.c_str(), strerror(errno));
		return false;
	}
	return true;
}

void run_ops(const Args &a, Worker *w, uint64_t n, std::atomic<bool> *go)
{
	std::vector<char> buf(std::max<size_t>(a.size, 64));
	w->lat.reserve(n);
	while (go && !go->load())
		;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t t0 = now_ns();
		long r;
		if (a.op == "openclose") {
			int fd = open(a.device.c_str(), O_RDWR);
			r = fd < 0 ? -errno : close(fd);
		} else {
			r = do_op(a, w->fd, buf.data());
		}
		w->lat.push_back(now_ns() - t0);
		if (r < 0)
			w->errors++;
	}
}

uint64_t exact_pct(std::vector<uint64_t> v, double q)
{
	std::sort(v.begin(), v.end());
	size_t rank = std::max<size_t>(1, size_t(std::ceil(q * double(v.size()))));
	return v[rank - 1];
}

std::unique_ptr<Session> open_session(const Args &a, bool lockstat, bool stats)
{
	Options o;
	dev_t d;
	std::string err;
	if (!device_number(a.device, &d, &err)) {
		fprintf(stderr, "%s\n", err.c_str());
		exit(2);
	}
	o.devices.push_back(d);
	o.lockstat = lockstat;
	o.prog_stats = stats;
	o.attach = a.attach;
	// Other processes use /dev/null and /dev/zero too: count only ours.
	o.tgid = getpid();
	auto s = Session::open(o, &err);
	if (!s) {
		fprintf(stderr, "BPF session: %s\n", err.c_str());
		exit(2);
	}
	return s;
}

const OpStat *find_op(const Report &r, const std::string &op)
{
	for (const auto &s : r.opslat)
		if (s.op == op)
			return &s;
	return nullptr;
}

void write_json(const Args &a, const std::string &j)
{
	if (a.json.empty())
		return;
	std::ofstream f(a.json);
	f << j << "\n";
}

// ---- count --------------------------------------------------------------------

int cmd_count(const Args &a)
{
	auto s = open_session(a, true, true);
	Worker w;
	if (a.op != "openclose" && !open_fd(a, &w))
		return 2;
	std::string err;
	if (!s->attach(&err)) {
		fprintf(stderr, "attach: %s\n", err.c_str());
		return 2;
	}
	run_ops(a, &w, a.ops, nullptr);
	s->detach();
	if (w.fd >= 0)
		close(w.fd);
	Report r = s->report();
	write_json(a, s->json());
	printf("attach mode %s, %llu %s on %s, %llu failed in user space\n", r.attach_mode.c_str(),
	       (unsigned long long)a.ops, a.op.c_str(), a.device.c_str(), (unsigned long long)w.errors);

	std::vector<std::string> ops;
	if (a.op == "openclose")
		ops = {"openat", "close"};
	else
		ops = {bpf_op(a.op)};
	for (const auto &op : ops) {
		const OpStat *st = find_op(r, op);
		uint64_t n = st ? st->hist.count : 0;
		expect(n == a.ops, ("exact count of " + op).c_str(),
		       "bpf " + std::to_string(n) + ", user " + std::to_string(a.ops));
		if (!st)
			continue;
		uint64_t errs = 0;
		std::string names;
		for (const auto &[name, c] : st->errors) {
			errs += c;
			names += " " + name + "=" + std::to_string(c);
		}
		if (a.op != "openclose")
			expect(errs == w.errors, ("error count of " + op).c_str(),
			       "bpf" + (names.empty() ? std::string(" none") : names) + ", user " +
				       std::to_string(w.errors));
		if (!a.expect_errno.empty() && a.op != "openclose") {
			auto it = st->errors.find(a.expect_errno);
			uint64_t got = it == st->errors.end() ? 0 : it->second;
			expect(got == a.ops, ("errors are " + a.expect_errno).c_str(), std::to_string(got));
		}
		if (a.op == "openclose")
			continue;
		// Kernel time is part of user time, op by op, so each kernel
		// quantile is at most the user one; the bucket floor never
		// overstates the kernel value.
		for (double q : {0.5, 0.9, 0.99, 0.999}) {
			uint64_t k = st->hist.percentile_floor(q), u = exact_pct(w.lat, q);
			char d[128];
			snprintf(d, sizeof(d), "kernel %llu ns (bucket floor; interpolated %.0f) <= user %llu ns",
				 (unsigned long long)k, st->hist.percentile(q), (unsigned long long)u);
			expect(k <= u, ("p" + std::to_string(q * 100).substr(0, 5)).c_str(), d);
		}
		uint64_t umax = *std::max_element(w.lat.begin(), w.lat.end());
		uint64_t umin = *std::min_element(w.lat.begin(), w.lat.end());
		expect(st->hist.max_ns <= umax && st->hist.min_ns <= umin, "min/max",
		       "kernel " + std::to_string(st->hist.min_ns) + ".." + std::to_string(st->hist.max_ns) +
			       " ns, user " + std::to_string(umin) + ".." + std::to_string(umax) + " ns");
	}
	expect(r.dropped == 0, "no drops", std::to_string(r.dropped));
	for (const auto &p : r.prog_stats)
		printf("prog %-24s run_cnt %llu  %.1f ns/event  recursion_misses %llu\n", p.name.c_str(),
		       (unsigned long long)p.run_cnt, p.ns_per_event, (unsigned long long)p.recursion_misses);
	return failures ? 1 : 0;
}

// ---- contend ----------------------------------------------------------------------

// Deterministic contention: a writer whose user buffer faults through
// userfaultfd, answered only after stall_ms.  Drivers that copy from user
// space with their lock held (scull) hold it for the whole stall, so the
// other threads must wait for it.  Needs root (kernel-mode faults).
class Staller {
public:
	bool start(size_t pages, unsigned ms)
	{
		len_ = pages * 4096;
		ms_ = ms;
		region_ = static_cast<char *>(
			mmap(nullptr, len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
		uffd_ = int(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
		if (region_ == MAP_FAILED || uffd_ < 0) {
			fprintf(stderr, "userfaultfd: %s\n", strerror(errno));
			return false;
		}
		struct uffdio_api api = {};
		api.api = UFFD_API;
		struct uffdio_register reg = {};
		reg.range.start = (unsigned long)region_;
		reg.range.len = len_;
		reg.mode = UFFDIO_REGISTER_MODE_MISSING;
		if (ioctl(uffd_, UFFDIO_API, &api) || ioctl(uffd_, UFFDIO_REGISTER, &reg)) {
			fprintf(stderr, "userfaultfd register: %s\n", strerror(errno));
			return false;
		}
		th_ = std::thread([this] { serve(); });
		return true;
	}
	~Staller()
	{
		stop_ = true;
		if (th_.joinable())
			th_.join();
		if (uffd_ >= 0)
			close(uffd_);
		if (region_ && region_ != MAP_FAILED)
			munmap(region_, len_);
	}
	char *page(size_t i) const { return region_ + i * 4096; }

private:
	void serve()
	{
		static char src[4096];
		memset(src, '1', sizeof(src));
		while (!stop_) {
			struct pollfd p = {uffd_, POLLIN, 0};
			if (poll(&p, 1, 50) <= 0)
				continue;
			struct uffd_msg m;
			if (read(uffd_, &m, sizeof(m)) != sizeof(m) || m.event != UFFD_EVENT_PAGEFAULT)
				continue;
			usleep(ms_ * 1000);
			struct uffdio_copy c = {};
			c.dst = m.arg.pagefault.address & ~4095ull;
			c.src = (unsigned long)src;
			c.len = 4096;
			ioctl(uffd_, UFFDIO_COPY, &c);
		}
	}
	char *region_ = nullptr;
	size_t len_ = 0;
	unsigned ms_ = 0;
	int uffd_ = -1;
	std::atomic<bool> stop_{false};
	std::thread th_;
};

struct Phase {
	double mean_ns;        // mean user-side latency per op
	uint64_t user_sum_ns;  // sum over all threads
	uint64_t waits = 0, wait_ns = 0;
	uint64_t match_waits = 0;  // on locks matching --expect-lock/--expect-kind
	std::string locks;
	bool lock_match = false;
	uint64_t ops = 0;
};

Phase contend_phase(const Args &a, Session *s, unsigned threads)
{
	std::vector<Worker> ws(threads);
	for (auto &w : ws)
		if (!open_fd(a, &w))
			exit(2);
	s->clear();
	std::string err;
	if (!s->attach(&err)) {
		fprintf(stderr, "attach: %s\n", err.c_str());
		exit(2);
	}
	std::atomic<bool> go{false}, done{false};
	std::vector<std::thread> th;
	Staller stall;
	if (a.stall_ms) {
		// Worker 0 writes a.ops times, each from a fresh stalled page;
		// the others write until it is done.
		if (!stall.start(a.ops, a.stall_ms))
			exit(2);
		th.emplace_back([&] {
			while (!go)
				;
			for (uint64_t i = 0; i < a.ops; i++) {
				uint64_t t0 = now_ns();
				long r = write(ws[0].fd, stall.page(i), a.data.size());
				ws[0].lat.push_back(now_ns() - t0);
				ws[0].errors += r < 0;
			}
			done = true;
		});
		for (unsigned t = 1; t < threads; t++)
			th.emplace_back([&, t] {
				std::vector<char> buf(64);
				while (!go)
					;
				do {
					uint64_t t0 = now_ns();
					long r = do_op(a, ws[t].fd, buf.data());
					ws[t].lat.push_back(now_ns() - t0);
					ws[t].errors += r < 0;
				} while (!done);
			});
	} else {
		for (auto &w : ws)
			th.emplace_back(run_ops, std::cref(a), &w, a.ops, &go);
	}
	go = true;
	for (auto &t : th)
		t.join();
	s->detach();
	for (auto &w : ws)
		close(w.fd);
	Phase p{};
	uint64_t n = 0;
	for (auto &w : ws)
		for (auto l : w.lat) {
			p.user_sum_ns += l;
			n++;
		}
	p.mean_ns = double(p.user_sum_ns) / double(n);
	Report r = s->report();
	std::string op = bpf_op(a.op);
	for (const auto &l : r.lockstat) {
		if (l.op != op)
			continue;
		p.waits += l.count;
		p.wait_ns += l.total_ns;
		p.locks += "  " + l.lock + " (" + l.kind + ", " + l.context + "): " + std::to_string(l.count) +
			   " waits, " + std::to_string(l.total_ns) + " ns\n";
		// A lock must read like C's: never a mangled C++ symbol (_ZL...).
		expect(l.lock.find("_Z") == std::string::npos, "lock name not mangled", l.lock);
		bool kind_ok = a.expect_kind.empty() || l.kind == a.expect_kind;
		bool name_ok = a.expect_lock.empty() || fnmatch(a.expect_lock.c_str(), l.lock.c_str(), 0) == 0;
		if (name_ok && kind_ok && l.context == "task") {
			p.match_waits += l.count;
			if (l.count && l.total_ns)
				p.lock_match = true;
		}
	}
	const OpStat *st = find_op(r, op);
	expect(st && st->hist.count == n, ("exact count with " + std::to_string(threads) + " threads").c_str(),
	       std::to_string(st ? st->hist.count : 0) + " of " + std::to_string(n));
	p.ops = n;
	expect(r.dropped == 0, "no drops", std::to_string(r.dropped));
	write_json(a, s->json());
	return p;
}

int cmd_contend(const Args &a)
{
	auto s = open_session(a, true, false);
	Phase one = contend_phase(a, s.get(), 1);
	printf("1 thread: mean %.0f ns/op, %llu lock waits\n%s", one.mean_ns, (unsigned long long)one.waits,
	       one.locks.c_str());
	// One worker: the driver's lock has no other user.  Other locks may
	// still see waits (a stalled writer's userfaultfd handler thread
	// shares the fault's wait-queue spinlocks), so with --expect-lock or
	// --expect-kind only the expected lock counts.
	bool expecting = !a.expect_lock.empty() || !a.expect_kind.empty();
	uint64_t one_waits = expecting ? one.match_waits : one.waits;
	expect(one_waits == 0, expecting ? "no contention on the expected lock with 1 thread" : "no contention with 1 thread",
	       std::to_string(one_waits) + " waits");
	// Without a stall the critical section is short and the guest's vCPUs
	// run in parallel only when the host gives them both a core: a phase
	// may see no collision.  Repeat up to --attempts times; every phase is
	// still checked for exact counts.
	Phase many;
	unsigned attempt = 0;
	do {
		many = contend_phase(a, s.get(), a.threads);
		attempt++;
		printf("%u threads (attempt %u): mean %.0f ns/op, %llu lock waits, %llu ns waited\n%s", a.threads,
		       attempt, many.mean_ns, (unsigned long long)many.waits, (unsigned long long)many.wait_ns,
		       many.locks.c_str());
	} while ((many.waits == 0 || (expecting && !many.lock_match)) && attempt < a.attempts);
	expect(many.waits > 0, "contention with several threads",
	       std::to_string(many.waits) + " waits, attempt " + std::to_string(attempt));
	if (expecting)
		expect(many.lock_match, ("contended lock matches " + a.expect_lock + " " + a.expect_kind).c_str(),
		       many.lock_match ? "yes" : "no such lock with waits");
	// Waiting happens inside the timed syscalls: the kernel's total wait
	// cannot exceed the user-side total time of those calls.
	expect(many.wait_ns <= many.user_sum_ns, "waits fit in the user-side time",
	       std::to_string(many.wait_ns) + " <= " + std::to_string(many.user_sum_ns) + " ns");
	double per_op_wait = double(many.wait_ns) / double(many.ops);
	printf("user-side slowdown per op %.0f ns (noisy on a shared host), lock wait per op %.0f ns\n",
	       many.mean_ns - one.mean_ns, per_op_wait);
	if (a.stall_ms) {
		// Each stalled write holds the lock about stall_ms; the others
		// wait for it, so the waiting adds up to a good part of it.
		double stalled_ns = double(a.ops) * a.stall_ms * 1e6;
		expect(double(many.wait_ns) >= 0.5 * stalled_ns, "waits account for the stalls",
		       std::to_string(many.wait_ns) + " ns waited >= half of " + std::to_string(uint64_t(stalled_ns)) +
			       " ns stalled");
	}
	return failures ? 1 : 0;
}

// ---- overhead ------------------------------------------------------------------------

double throughput(const Args &a, int fd)
{
	std::vector<char> buf(std::max<size_t>(a.size, 64));
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < a.ops; i++)
		do_op(a, fd, buf.data());
	return double(a.ops) * 1e9 / double(now_ns() - t0);
}

struct MethodCost {
	std::string method, attach_mode;
	std::vector<double> off, on, ratio;       // ops/s per round, without and with the probes
	std::vector<double> enter, exit, per_op;  // bpf_stats: ns per event, ns of BPF per op, per round
	double events_per_op = 0;
	uint64_t counted = 0;
	std::unique_ptr<Session> plain;           // loaded once, attached in its rounds
};

double median(std::vector<double> v)
{
	std::sort(v.begin(), v.end());
	return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double least(const std::vector<double> &v) { return *std::min_element(v.begin(), v.end()); }
double most(const std::vector<double> &v) { return *std::max_element(v.begin(), v.end()); }

// Throughput without and with one method attached, in ABBA order (drifts
// of the shared host hit both sides); no bpf_stats, they add clock reads.
void throughput_round(const Args &a, int fd, MethodCost &m, unsigned r)
{
	std::string err;
	for (int k = 0; k < 2; k++) {
		bool attached = (r % 2) == k;
		if (attached && !m.plain->attach(&err)) {
			fprintf(stderr, "attach %s: %s\n", m.method.c_str(), err.c_str());
			exit(2);
		}
		double t = throughput(a, fd);
		if (attached)
			m.plain->detach();
		(attached ? m.on : m.off).push_back(t);
	}
	m.ratio.push_back(m.on.back() / m.off.back());
}

// One pass with bpf_stats: per-event cost, and the exact count.
void stats_round(Args a, int fd, MethodCost &m)
{
	a.attach = m.method;
	auto st = open_session(a, false, true);
	std::string err;
	if (!st->attach(&err)) {
		fprintf(stderr, "attach %s: %s\n", m.method.c_str(), err.c_str());
		exit(2);
	}
	throughput(a, fd);
	st->detach();
	Report rep = st->report();
	m.attach_mode = rep.attach_mode;
	double enter_ns = 0, exit_ns = 0;
	uint64_t enter_n = 0, exit_n = 0;
	for (const auto &p : rep.prog_stats) {
		// Entry programs: *enter*, *kprobe; exit: *exit*, *kretprobe (copies summed).
		bool is_exit = p.name.find("exit") != std::string::npos || p.name.find("kretprobe") != std::string::npos;
		(is_exit ? exit_ns : enter_ns) += double(p.run_time_ns);
		(is_exit ? exit_n : enter_n) += p.run_cnt;
	}
	m.enter.push_back(enter_n ? enter_ns / double(enter_n) : 0);
	m.exit.push_back(exit_n ? exit_ns / double(exit_n) : 0);
	m.per_op.push_back((enter_ns + exit_ns) / double(a.ops));
	m.events_per_op = double(enter_n + exit_n) / double(a.ops);
	const OpStat *op = find_op(rep, bpf_op(a.op));
	m.counted = op ? op->hist.count : 0;
	expect(m.counted == a.ops, (m.method + ": exact count").c_str(),
	       std::to_string(m.counted) + " of " + std::to_string(a.ops));
	expect(rep.dropped == 0, (m.method + ": no drops").c_str(), std::to_string(rep.dropped));
	expect(m.enter.back() > 0 && m.exit.back() > 0, (m.method + ": per-event cost measured").c_str(),
	       std::to_string(m.enter.back()) + " / " + std::to_string(m.exit.back()) + " ns");
}

int cmd_overhead(const Args &a)
{
	Worker w;
	if (!open_fd(a, &w))
		return 2;
	throughput(a, w.fd);  // warm-up
	std::vector<MethodCost> ms;
	std::stringstream list(a.methods.empty() ? a.attach : a.methods);
	for (std::string method; std::getline(list, method, ',');) {
		Args b = a;
		b.attach = method;
		ms.push_back({});
		ms.back().method = method;
		ms.back().plain = open_session(b, false, false);
	}
	// All methods in every round, the order rotated per round, so a busy
	// spell of the shared host does not land on one method only.
	for (unsigned r = 0; r < a.rounds; r++)
		for (size_t i = 0; i < ms.size(); i++)
			throughput_round(a, w.fd, ms[(i + r) % ms.size()], r);
	for (auto &m : ms)
		m.plain.reset();
	for (unsigned r = 0; r < a.rounds; r++)
		for (size_t i = 0; i < ms.size(); i++)
			stats_round(a, w.fd, ms[(i + r) % ms.size()]);
	close(w.fd);
	// Per method: best-of throughput (interference only slows a round
	// down), median of per-round ratios; per-event cost: the least of the
	// rounds (a vCPU preempted inside a program inflates its run time) and
	// the median.
	printf("op %s %zu B on %s, %u rounds of %llu ops per method and side\n", a.op.c_str(), a.size,
	       a.device.c_str(), a.rounds, (unsigned long long)a.ops);
	printf("%-10s %10s %10s %7s %7s %9s %9s %9s %9s %9s %6s\n", "method", "best off", "best on", "loss%",
	       "med%", "added/op", "enter/ev", "exit/ev", "bpf/op", "(median)", "ev/op");
	using kmodlab::bpf::rounded;
	nlohmann::ordered_json js = {{"device", a.device}, {"op", a.op},           {"size", a.size},
				     {"ops_per_round", a.ops}, {"rounds", a.rounds}, {"methods", nlohmann::ordered_json::array()}};
	for (size_t i = 0; i < ms.size(); i++) {
		const auto &m = ms[i];
		double loss = (1.0 - most(m.on) / most(m.off)) * 100.0, loss_med = (1.0 - median(m.ratio)) * 100.0;
		double added = 1e9 / most(m.on) - 1e9 / most(m.off);
		printf("%-10s %10.0f %10.0f %7.2f %7.2f %7.0fns %7.0fns %7.0fns %7.0fns %7.0fns %6.2f\n",
		       m.method.c_str(), most(m.off), most(m.on), loss, loss_med, added, least(m.enter), least(m.exit),
		       least(m.per_op), median(m.per_op), m.events_per_op);
		// The precision each figure always had in this file.
		js["methods"].push_back({{"method", m.method},
					 {"attach_mode", m.attach_mode},
					 {"ops_per_s_off_best", rounded(most(m.off), 1)},
					 {"ops_per_s_on_best", rounded(most(m.on), 1)},
					 {"loss_pct", rounded(loss, 2)},
					 {"loss_pct_median", rounded(loss_med, 2)},
					 {"added_ns_per_op", rounded(added, 1)},
					 {"enter_ns_per_event", rounded(least(m.enter), 1)},
					 {"exit_ns_per_event", rounded(least(m.exit), 1)},
					 {"bpf_ns_per_op", rounded(least(m.per_op), 1)},
					 {"bpf_ns_per_op_median", rounded(median(m.per_op), 1)},
					 {"events_per_op", rounded(m.events_per_op, 3)},
					 {"counted", m.counted}});
		// Optional gate (--max-loss); by default this is a measurement:
		// the figures belong in the report, not in a timed test.
		if (a.max_loss_pct >= 0)
			expect(loss <= a.max_loss_pct, (m.method + ": probe effect within --max-loss").c_str(),
			       std::to_string(loss) + " % <= " + std::to_string(a.max_loss_pct) + " %");
	}
	if (!a.json.empty())
		std::ofstream(a.json) << js.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
	return failures ? 1 : 0;
}

void usage(FILE *f)
{
	fprintf(f,
		"usage: kmodlab-bpf-check count|contend|overhead --device PATH [options]\n"
		"  --op OP          read, write, pread, pwrite, ioctl, openclose (default read)\n"
		"  --ops N          operations per thread (default 10000)\n"
		"  --size B         read buffer size (default 4096)\n"
		"  --data TEXT      what write/pwrite write (default \"1\\n\")\n"
		"  --ioctl-cmd N    ioctl request number (default FIONREAD)\n"
		"  --expect-errno E count: every op must fail with E (e.g. ENOTTY)\n"
		"  --threads T      contend: threads of the second phase (default 4)\n"
		"  --attempts K     contend: repeat the several-thread phase up to K times\n"
		"                   until it sees contention (default 10)\n"
		"  --stall-ms MS    contend: thread 0 writes from userfaultfd pages answered\n"
		"                   after MS ms (holds a driver lock taken around the copy)\n"
		"  --expect-lock G  contend: a lock whose name matches glob G must show waits\n"
		"                   (count and total wait > 0) in task context\n"
		"  --expect-kind K  contend: ... and be of kind K (mutex, spinlock, semaphore, ...)\n"
		"  --rounds R       overhead: interleaved rounds (default 10)\n"
		"  --methods M,...  overhead: attach modes to measure one after another\n"
		"                   (default: --attach)\n"
		"  --max-loss PCT   overhead: fail above this throughput loss (default: no limit,\n"
		"                   a measurement)\n"
		"  --attach MODE    auto, tp_btf, raw_tp, tracepoint, fentry, kprobe\n"
		"  --json FILE      write the session JSON (overhead: its figures) to FILE\n");
}

} // namespace

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	Args a;
	a.cmd = argv[1];
	static const struct option lo[] = {
		{"device", 1, nullptr, 'd'},   {"op", 1, nullptr, 'o'},      {"ops", 1, nullptr, 'n'},
		{"size", 1, nullptr, 's'},     {"data", 1, nullptr, 'D'},    {"ioctl-cmd", 1, nullptr, 'I'},
		{"expect-errno", 1, nullptr, 'E'}, {"threads", 1, nullptr, 't'}, {"expect-lock", 1, nullptr, 'L'},
		{"expect-kind", 1, nullptr, 'k'},
		{"rounds", 1, nullptr, 'r'},   {"stall-ms", 1, nullptr, 'T'}, {"attempts", 1, nullptr, 'K'},   {"max-loss", 1, nullptr, 'M'}, {"attach", 1, nullptr, 'a'},
		{"methods", 1, nullptr, 'm'},
		{"json", 1, nullptr, 'j'},     {"help", 0, nullptr, 'h'},    {nullptr, 0, nullptr, 0}};
	optind = 2;
	for (int c; (c = getopt_long(argc, argv, "h", lo, nullptr)) != -1;) {
		switch (c) {
		case 'd': a.device = optarg; break;
		case 'o': a.op = optarg; break;
		case 'n': a.ops = strtoull(optarg, nullptr, 0); break;
		case 's': a.size = strtoull(optarg, nullptr, 0); break;
		case 'D': a.data = optarg; break;
		case 'I': a.ioctl_cmd = strtoul(optarg, nullptr, 0); break;
		case 'E': a.expect_errno = optarg; break;
		case 't': a.threads = unsigned(strtoul(optarg, nullptr, 0)); break;
		case 'L': a.expect_lock = optarg; break;
		case 'k': a.expect_kind = optarg; break;
		case 'K': a.attempts = unsigned(strtoul(optarg, nullptr, 0)); break;
		case 'T': a.stall_ms = unsigned(strtoul(optarg, nullptr, 0)); break;
		case 'r': a.rounds = unsigned(strtoul(optarg, nullptr, 0)); break;
		case 'M': a.max_loss_pct = strtod(optarg, nullptr); break;
		case 'a': a.attach = optarg; break;
		case 'm': a.methods = optarg; break;
		case 'j': a.json = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (a.device.empty() || a.ops == 0 || a.threads == 0 || a.rounds == 0) {
		fprintf(stderr, "kmodlab-bpf-check: --device is required; --ops, --threads, --rounds must be > 0\n");
		return 2;
	}
	if (a.cmd == "count")
		return cmd_count(a);
	if (a.cmd == "contend")
		return cmd_contend(a);
	if (a.cmd == "overhead")
		return cmd_overhead(a);
	fprintf(stderr, "kmodlab-bpf-check: unknown command '%s' (count, contend, overhead)\n", a.cmd.c_str());
	return 2;
}
