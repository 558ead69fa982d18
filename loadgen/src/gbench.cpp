// kmodlab-gbench - Google Benchmark microbenchmarks of single operations on
// every kmodlab device, C and C++ variant side by side.
//
// Names: <driver>/<op>[:<bytes>]/<variant>, registered so that the C and the
// C++ run of one operation are adjacent (scull/pread:64/c, scull/pread:64/cxx).
// Devices whose node is missing are left out with a note on stderr; a
// benchmark whose operation fails stops with SkipWithError (error_occurred in
// the JSON), never silently.
//
//   kmodlab-gbench --benchmark_filter=scull --benchmark_repetitions=9
//                  --benchmark_out=x.json --benchmark_out_format=json
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "device.hpp"
#include "env.hpp"

extern "C" {
#include "counter.h"
#include "kmodlab_dev.h"
#include "lkp_enc.h"
#include "scull.h"
}

namespace {

using kmodlab::DeviceKind;
using kmodlab::IoctlArg;
using kmodlab::IoctlSpec;

const char *const kVariants[] = {KMODLAB_VARIANT_C, KMODLAB_VARIANT_CXX};
const int kSizes[] = {1, 64, 4096};

// An open descriptor for one benchmark run (Google Benchmark calls the
// function once per repetition and size probe; opening is outside the loop).
struct Fd {
	int fd;
	explicit Fd(const std::string &path) : fd(open(path.c_str(), O_RDWR | O_CLOEXEC)) {}
	~Fd()
	{
		if (fd >= 0)
			close(fd);
	}
};

bool fail(benchmark::State &state, const std::string &what)
{
	const std::string msg = what + ": " + std::strerror(errno);
	state.SkipWithError(msg.c_str());
	return false;
}

void bm_pread(benchmark::State &state, std::string path, int size)
{
	Fd f(path);
	if (f.fd < 0)
		return (void)fail(state, "open " + path);
	std::vector<char> buf(static_cast<size_t>(size), 'k');
	// Data must exist at offset 0, or scull reads return 0 bytes (EOF).
	if (pwrite(f.fd, buf.data(), buf.size(), 0) < 0)
		return (void)fail(state, "prefill pwrite");
	int64_t bytes = 0;
	for (auto _ : state) {
		ssize_t r = pread(f.fd, buf.data(), buf.size(), 0);
		if (r <= 0) {
			errno = r == 0 ? ENODATA : errno;
			fail(state, "pread");
			break;
		}
		bytes += r;
	}
	state.SetBytesProcessed(bytes);
}

void bm_pwrite(benchmark::State &state, std::string path, int size)
{
	Fd f(path);
	if (f.fd < 0)
		return (void)fail(state, "open " + path);
	std::vector<char> buf(static_cast<size_t>(size), 'k');
	int64_t bytes = 0;
	for (auto _ : state) {
		ssize_t r = pwrite(f.fd, buf.data(), buf.size(), 0);
		if (r <= 0) {
			fail(state, "pwrite");
			break;
		}
		bytes += r;
	}
	state.SetBytesProcessed(bytes);
}

void bm_counter_read(benchmark::State &state, std::string path)
{
	Fd f(path);
	if (f.fd < 0)
		return (void)fail(state, "open " + path);
	char buf[COUNTER_TEXT_MAX + 1];
	for (auto _ : state) {
		if (pread(f.fd, buf, COUNTER_TEXT_MAX, 0) <= 0) {
			fail(state, "pread");
			break;
		}
	}
}

void bm_counter_incr(benchmark::State &state, std::string path)
{
	Fd f(path);
	if (f.fd < 0)
		return (void)fail(state, "open " + path);
	for (auto _ : state) {
		if (write(f.fd, "1", 1) != 1) {
			fail(state, "write \"1\"");
			break;
		}
	}
}

void bm_encrypt(benchmark::State &state, std::string path)
{
	Fd f(path);
	if (f.fd < 0)
		return (void)fail(state, "open " + path);
	const std::string text = "The quick brown fox jumps over the lazy dog";
	char out[LKP_ENC_STRING_SIZE] = {};
	uint32_t seed = 3;
	for (auto _ : state) {
		if (ioctl(f.fd, LKP_ENC_IOC_WRITE_SEED, &seed) < 0 || ioctl(f.fd, LKP_ENC_IOC_WRITE_STRING, text.c_str()) < 0 ||
		    ioctl(f.fd, LKP_ENC_IOC_READ_STRING, out) < 0) {
			fail(state, "encrypt cycle");
			break;
		}
	}
	// Check once after timing: a benchmark of a wrong answer is worthless.
	if (std::string(out) != kmodlab::caesar(text, seed))
		state.SkipWithError("encrypt read-back differs from the Caesar reference");
	state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

void bm_ioctl(benchmark::State &state, std::string path, const IoctlSpec *io)
{
	Fd f(path);
	if (f.fd < 0)
		return (void)fail(state, "open " + path);
	// Setters get the current value back, so a run changes nothing.
	int cur = 0;
	if (io->kind == DeviceKind::scull)
		cur = ioctl(f.fd, std::strstr(io->name, "QUANTUM") ? SCULL_IOCQQUANTUM : SCULL_IOCQQSET);
	uint32_t seed = 0;
	if (io->kind == DeviceKind::lkp_enc)
		ioctl(f.fd, LKP_ENC_IOC_READ_SEED, &seed);
	const char *text = "kmodlab";
	char out[LKP_ENC_STRING_SIZE];
	int iv;
	int64_t sv = 0;
	uint32_t uv;
	for (auto _ : state) {
		long r;
		switch (io->arg) {
		case IoctlArg::none: r = ioctl(f.fd, io->cmd); break;
		case IoctlArg::value: r = ioctl(f.fd, io->cmd, static_cast<unsigned long>(cur)); break;
		case IoctlArg::int_ptr: iv = cur; r = ioctl(f.fd, io->cmd, &iv); break;
		case IoctlArg::s64_ptr: r = ioctl(f.fd, io->cmd, &sv); break;
		case IoctlArg::u32_ptr: uv = seed; r = ioctl(f.fd, io->cmd, &uv); break;
		case IoctlArg::str_in: r = ioctl(f.fd, io->cmd, text); break;
		default: r = ioctl(f.fd, io->cmd, out); break;
		}
		if (r < 0) {
			fail(state, std::string("ioctl ") + io->name);
			break;
		}
	}
}

bool present(const std::string &path)
{
	struct stat st;
	if (stat(path.c_str(), &st) == 0)
		return true;
	std::fprintf(stderr, "kmodlab-gbench: %s not found: is the module loaded? (its benchmarks are left out)\n",
		     path.c_str());
	return false;
}

void register_all()
{
	// Baselines: the cheapest syscalls the kernel has, for scale.
	for (int size : kSizes) {
		const std::string s = std::to_string(size);
		benchmark::RegisterBenchmark(("baseline/pread:" + s + "/zero").c_str(), bm_pread, "/dev/zero", size);
		benchmark::RegisterBenchmark(("baseline/pwrite:" + s + "/null").c_str(), bm_pwrite, "/dev/null", size);
	}
	std::vector<std::string> have[3];
	const char *bases[] = {SCULL_NAME, COUNTER_NAME, LKP_ENC_NAME};
	bool ok[3][2];
	for (int b = 0; b < 3; b++)
		for (int v = 0; v < 2; v++)
			ok[b][v] = present(kmodlab::first_node_path(bases[b], kVariants[v]));

	auto each_variant = [&](int b, const std::string &name, const std::function<void(const std::string &, const std::string &)> &reg) {
		for (int v = 0; v < 2; v++)
			if (ok[b][v])
				reg(name + "/" + kVariants[v], kmodlab::first_node_path(bases[b], kVariants[v]));
	};
	for (int size : kSizes) {
		const std::string s = std::to_string(size);
		each_variant(0, "scull/pread:" + s, [&](const std::string &n, const std::string &p) {
			benchmark::RegisterBenchmark(n.c_str(), bm_pread, p, size);
		});
		each_variant(0, "scull/pwrite:" + s, [&](const std::string &n, const std::string &p) {
			benchmark::RegisterBenchmark(n.c_str(), bm_pwrite, p, size);
		});
	}
	each_variant(1, "counter/read", [&](const std::string &n, const std::string &p) {
		benchmark::RegisterBenchmark(n.c_str(), bm_counter_read, p);
	});
	each_variant(1, "counter/incr", [&](const std::string &n, const std::string &p) {
		benchmark::RegisterBenchmark(n.c_str(), bm_counter_incr, p);
	});
	each_variant(2, "lkp_enc/encrypt", [&](const std::string &n, const std::string &p) {
		benchmark::RegisterBenchmark(n.c_str(), bm_encrypt, p);
	});
	for (const auto &io : kmodlab::all_ioctls()) {
		const int b = io.kind == DeviceKind::scull ? 0 : io.kind == DeviceKind::counter ? 1 : 2;
		each_variant(b, std::string(bases[b]) + "/ioctl:" + io.name, [&](const std::string &n, const std::string &p) {
			benchmark::RegisterBenchmark(n.c_str(), bm_ioctl, p, &io);
		});
	}
}

}  // namespace

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
			std::printf(
				"kmodlab-gbench - microbenchmarks of single operations on every kmodlab device and variant\n\n"
				"Benchmarks: baseline/{pread,pwrite}:{1,64,4096}/{zero,null}, scull/{pread,pwrite}:{1,64,4096}/<v>,\n"
				"scull/ioctl:SCULL_IOC*/<v>, counter/{read,incr}/<v>, counter/ioctl:COUNTER_IOC_*/<v>,\n"
				"lkp_enc/encrypt/<v>, lkp_enc/ioctl:LKP_ENC_IOC_*/<v>, with <v> = c and cxx side by side.\n"
				"Missing nodes are left out (note on stderr).  Default: 5 repetitions.  Useful flags:\n"
				"  --benchmark_filter=REGEX --benchmark_repetitions=N --benchmark_min_time=S\n"
				"  --benchmark_out=FILE --benchmark_out_format=json --benchmark_list_tests\n\n");
			break;
		}
	}
	const kmodlab::Environment env = kmodlab::collect_environment();
	benchmark::AddCustomContext("kmodlab.kernel", env.kernel_release);
	benchmark::AddCustomContext("kmodlab.accel", env.accel);
	benchmark::AddCustomContext("kmodlab.cmdline", env.cmdline);
	for (const char *b : {SCULL_NAME, COUNTER_NAME, LKP_ENC_NAME})
		for (const char *v : kVariants) {
			const std::string mod = kmodlab::module_name(b, v);
			std::string params;
			for (const auto &[k, val] : kmodlab::module_parameters(mod))
				params += (params.empty() ? "" : " ") + k + "=" + val;
			if (!params.empty())
				benchmark::AddCustomContext("kmodlab.params." + mod, params);
		}
	register_all();
	// Repetitions by default (C against C++ needs a spread, not one number):
	// 5 unless the command line says otherwise.
	std::vector<char *> args(argv, argv + argc);
	bool reps = false;
	for (int i = 1; i < argc; i++)
		reps |= std::strncmp(argv[i], "--benchmark_repetitions", 23) == 0;
	static char default_reps[] = "--benchmark_repetitions=5";
	if (!reps)
		args.push_back(default_reps);
	args.push_back(nullptr);
	argc = static_cast<int>(args.size()) - 1;
	argv = args.data();
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 2;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
