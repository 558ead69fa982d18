// kmodlab-trace - the lab's BPF tools on their own, like the libbpf-tools:
//   kmodlab-trace opslat|lockstat|funclat|events|wakeup|all [options]
// Prints histograms as text tables; JSON (bpf/README.md) with --json.
#include <getopt.h>
#include <glob.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "kmodlab_bpf.hpp"

using namespace kmodlab::bpf;

namespace {

volatile sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

void usage(FILE *f)
{
	fprintf(f,
		"usage: kmodlab-trace opslat|lockstat|funclat|events|wakeup|all [options] [-- COMMAND [ARG...]]\n"
		"\n"
		"  opslat    per (device, operation) syscall latency: read, write, pread64,\n"
		"            pwrite64, ioctl, openat, close on the target devices\n"
		"  lockstat  lock contention (lock:contention_begin/end) of threads inside a\n"
		"            syscall on a target device: mutexes, semaphores, spinlocks, rwsems\n"
		"  funclat   latency of module functions through kprobes (needs --funcs)\n"
		"  events    the drivers' own tracepoints: scull and counter event counts,\n"
		"            lkp_enc's per-phase latency (seed -> string write -> readback)\n"
		"            and the event-order checks, per module (--module, or the\n"
		"            modules of --device / of every lab device present)\n"
		"  wakeup    wakeup latency of threads asleep inside a call on a target\n"
		"            device (a scullpipe read waiting for data): sched_wakeup to\n"
		"            the thread running again, per device and operation, with the\n"
		"            sleeps counted\n"
		"  all       opslat and lockstat (and funclat if --funcs is given)\n"
		"\n"
		"options:\n"
		"  -d, --device PATH    target character device (repeatable; default: every\n"
		"                       /dev/scull-*, /dev/counter-*, /dev/lkp_enc-*,\n"
		"                       /dev/scullpipe-* present)\n"
		"  -i, --interval S     print (and clear) the tables every S seconds\n"
		"  -t, --duration S     stop after S seconds (default: until Ctrl-C)\n"
		"  -j, --json FILE      write the final JSON to FILE ('-': stdout, no text)\n"
		"  -f, --funcs GLOB     time module functions matching GLOB with kprobes\n"
		"                       (repeatable, e.g. 'scull_c_*'; implies funclat)\n"
		"  -a, --attach MODE    auto (default: the first that loads of fentry, tp_btf,\n"
		"                       raw_tp, tracepoint), or one of those, or kprobe\n"
		"                       (bpf/README.md: what each sees)\n"
		"      --no-prog-stats  do not enable kernel BPF run-time statistics\n"
		"      --no-openat      do not time openat (spares a map update per openat)\n"
		"  -p, --pid PID        only calls made by process PID\n"
		"  -m, --module NAME    events: this module's tracepoints (repeatable,\n"
		"                       e.g. scull_c, lkp_enc_cxx)\n"
		"  -h, --help           this text\n"
		"  -- COMMAND ...       trace while COMMAND runs (instead of --duration),\n"
		"                       exit status 1 if it fails\n"
		"\n"
		"Needs root.  Lock addresses print as kernel symbols when the lock is static,\n"
		"as <heap>#hash otherwise (raw kernel pointers are never printed).\n");
}

bool parse_seconds(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || v <= 0)
		return false;
	*out = v;
	return true;
}

void sleep_s(double s)
{
	struct timespec ts = {time_t(s), long((s - double(time_t(s))) * 1e9)};
	while (!g_stop && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	std::string cmd = argv[1];
	if (cmd == "-h" || cmd == "--help") {
		usage(stdout);
		return 0;
	}
	Options opts;
	if (cmd == "opslat") {
		opts.lockstat = false;
	} else if (cmd == "lockstat") {
		opts.opslat = false;
	} else if (cmd == "funclat") {
		opts.opslat = opts.lockstat = false;
	} else if (cmd == "events") {
		opts.opslat = opts.lockstat = false;
		opts.trace_events = true;
	} else if (cmd == "wakeup") {
		opts.opslat = opts.lockstat = false;
		opts.wakelat = true;
	} else if (cmd != "all") {
		fprintf(stderr, "kmodlab-trace: unknown tool '%s' (opslat, lockstat, funclat, events, wakeup, all; --help)\n",
			cmd.c_str());
		return 2;
	}

	static const struct option longopts[] = {
		{"device", required_argument, nullptr, 'd'},  {"interval", required_argument, nullptr, 'i'},
		{"duration", required_argument, nullptr, 't'}, {"json", required_argument, nullptr, 'j'},
		{"funcs", required_argument, nullptr, 'f'},   {"attach", required_argument, nullptr, 'a'},
		{"no-prog-stats", no_argument, nullptr, 'S'}, {"no-openat", no_argument, nullptr, 'O'},
		{"pid", required_argument, nullptr, 'p'},     {"module", required_argument, nullptr, 'm'},
		{"help", no_argument, nullptr, 'h'},          {nullptr, 0, nullptr, 0},
	};
	double interval = 0, duration = 0;
	std::string json_path;
	std::vector<std::string> paths;
	optind = 2;
	for (int c; (c = getopt_long(argc, argv, "d:i:t:j:f:a:p:m:h", longopts, nullptr)) != -1;) {
		switch (c) {
		case 'd': paths.push_back(optarg); break;
		case 'i':
			if (!parse_seconds(optarg, &interval)) {
				fprintf(stderr, "kmodlab-trace: --interval wants a positive number of seconds, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 't':
			if (!parse_seconds(optarg, &duration)) {
				fprintf(stderr, "kmodlab-trace: --duration wants a positive number of seconds, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'j': json_path = optarg; break;
		case 'f': opts.funcs.push_back(optarg); break;
		case 'a': opts.attach = optarg; break;
		case 'S': opts.prog_stats = false; break;
		case 'O': opts.trace_openat = false; break;
		case 'p': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v <= 0) {
				fprintf(stderr, "kmodlab-trace: --pid wants a process id, not '%s'\n", optarg);
				return 2;
			}
			opts.tgid = pid_t(v);
			break;
		}
		case 'm': opts.trace_modules.push_back(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	char **command = nullptr;  // after "--": traced while it runs
	if (optind < argc && optind > 2 && strcmp(argv[optind - 1], "--") == 0)
		command = argv + optind;
	else if (optind < argc) {
		fprintf(stderr, "kmodlab-trace: unexpected argument '%s' (--help)\n", argv[optind]);
		return 2;
	}
	if (cmd == "funclat" && opts.funcs.empty()) {
		fprintf(stderr, "kmodlab-trace: funclat needs --funcs GLOB, e.g. --funcs 'scull_c_*'\n");
		return 2;
	}
	if (!opts.trace_modules.empty() && !opts.trace_events) {
		fprintf(stderr, "kmodlab-trace: --module is for the events tool\n");
		return 2;
	}
	if (opts.opslat || opts.lockstat || opts.wakelat || (opts.trace_events && opts.trace_modules.empty())) {
		if (paths.empty()) {
			glob_t g;
			for (const char *pat : {"/dev/scull-*", "/dev/counter-*", "/dev/lkp_enc-*", "/dev/scullpipe-*"})
				if (glob(pat, 0, nullptr, &g) == 0) {
					for (size_t i = 0; i < g.gl_pathc; i++)
						paths.push_back(g.gl_pathv[i]);
					globfree(&g);
				}
			if (paths.empty()) {
				fprintf(stderr, "kmodlab-trace: no lab device in /dev (modules not loaded?): "
						"name one with --device PATH\n");
				return 2;
			}
		}
		for (const auto &p : paths) {
			dev_t d;
			std::string err;
			if (!device_number(p, &d, &err)) {
				fprintf(stderr, "kmodlab-trace: %s\n", err.c_str());
				return 2;
			}
			opts.devices.push_back(d);
		}
	}

	std::string err;
	auto session = Session::open(opts, &err);
	if (!session) {
		fprintf(stderr, "kmodlab-trace: %s\n", err.c_str());
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (!session->attach(&err)) {
		fprintf(stderr, "kmodlab-trace: %s\n", err.c_str());
		return 1;
	}
	bool text = json_path != "-";
	if (text)
		fprintf(stderr, "kmodlab-trace: tracing (%s)%s\n", session->report().attach_mode.c_str(),
			duration ? "" : "; Ctrl-C to stop");
	int command_status = command ? run_command(command) : 0;
	if (command)
		g_stop = 1;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	auto elapsed = [&]() {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		return double(t.tv_sec - t0.tv_sec) + double(t.tv_nsec - t0.tv_nsec) / 1e9;
	};
	while (!g_stop) {
		double step = interval ? interval : 0.2;
		if (duration)
			step = std::min(step, duration - elapsed());
		if (step > 0)
			sleep_s(step);
		bool done = g_stop || (duration && elapsed() >= duration - 1e-3);
		if (interval && text && !done) {
			time_t now = time(nullptr);
			char ts[32];
			strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&now));
			printf("\n%s\n%s", ts, session->text().c_str());
			fflush(stdout);
			session->clear();
		}
		if (done)
			break;
	}
	session->detach();
	if (text)
		printf("%s", session->text().c_str());
	if (!json_path.empty()) {
		std::string j = session->json() + "\n";
		if (json_path == "-") {
			fputs(j.c_str(), stdout);
		} else {
			std::ofstream f(json_path);
			if (!(f << j)) {
				fprintf(stderr, "kmodlab-trace: cannot write %s\n", json_path.c_str());
				return 1;
			}
		}
	}
	return command_status == 0 ? 0 : 1;
}
