// kmodlab-fuzz - seeded, reproducible random operation sequences against
// the kmodlab drivers, with a user-space model as the oracle.
//
// Every call draws its operation, size, offset, ioctl number and buffer
// pointer (good, NULL, unmapped, kernel address, read-only page, buffer
// ending in an unmapped page, non-canonical) from a splitmix64 stream seeded
// by --seed and the device name, so `--seed S --calls N` replays a failing
// call exactly.  A call passes when it returns what the model predicts:
// success with the right bytes/values, or the documented errno (success or
// an errno from the allowed set where the outcome depends on the kernel's
// copy routines).  scull additionally gets allocation faults injected through
// the fail_alloc_nth module parameter; --alloc-test runs the deterministic
// allocation-failure sequence (ENOMEM, data intact, next write succeeds).
//
// This file: options, the loop over variants and drivers, the summary.
// The shared parts are fuzz.hpp; each driver's model is fuzz_<driver>.cpp.
#include <chrono>
#include <getopt.h>

#include "fuzz.hpp"

using namespace rel;
using namespace rel::fuzz;

namespace {

void usage(FILE *out)
{
	fprintf(out,
		"Usage: kmodlab-fuzz [options]\n"
		"  --variant LIST   c,cxx (default both)\n"
		"  --driver LIST    scull,counter,lkp_enc,scullpipe (default all)\n"
		"  --calls N        calls per variant/driver (default 20000)\n"
		"  --seed S         PRNG seed (default: time); printed, and in every failure\n"
		"  --alloc-test     also run the deterministic scull allocation-failure test\n"
		"  --json FILE      write the result JSON there\n"
		"  -h, --help       this text\n"
		"Every call must return success or a documented errno, with the data the\n"
		"model predicts.  Exit 0 when nothing failed, 1 on failures, 2 on usage errors.\n");
}

// The result JSON (the summary schema of tests/reliability/README.md reads it).
bool write_json(const std::string &json, uint64_t seed, double secs, const Stats &st, uint64_t alloc_passed)
{
	FILE *f = fopen(json.c_str(), "w");
	if (!f) {
		fprintf(stderr, "kmodlab-fuzz: cannot write %s: %s\n", json.c_str(), strerror(errno));
		return false;
	}
	fprintf(f,
		"{\"tool\": \"kmodlab-fuzz\", \"seed\": %llu, \"seconds\": %.2f, \"calls_fuzzed\": %s,\n"
		" \"errors_by_errno\": %s, \"fault_arms\": %llu, \"faults_injected\": %llu,\n"
		" \"alloc_test_passed\": %llu, \"failed\": %llu, \"failures\": %s}\n",
		(unsigned long long)seed, secs, json_counts(st.calls).c_str(), json_counts(st.errnos).c_str(),
		(unsigned long long)st.fault_arms, (unsigned long long)st.faults_injected,
		(unsigned long long)alloc_passed, (unsigned long long)st.failed, json_list(st.failures).c_str());
	fclose(f);
	return true;
}

// One model per driver (fuzz_<driver>.cpp), in the order they run.
using FuzzFn = void (*)(const std::string &, uint64_t, uint64_t, Buffers &, Stats &);
const std::vector<std::pair<std::string, FuzzFn>> models = {
	{ SCULL_NAME, fuzz_scull },
	{ COUNTER_NAME, fuzz_counter },
	{ LKP_ENC_NAME, fuzz_lkp_enc },
	{ SCULLPIPE_NAME, fuzz_scullpipe },
};

FuzzFn model_of(const std::string &driver)
{
	for (auto &[name, fn] : models)
		if (name == driver)
			return fn;
	return nullptr;
}

} // namespace

int main(int argc, char **argv)
{
	std::vector<std::string> variants = { KMODLAB_VARIANT_C, KMODLAB_VARIANT_CXX };
	std::vector<std::string> drivers;
	for (auto &m : models)
		drivers.push_back(m.first);
	uint64_t calls = 20000;
	uint64_t seed = std::chrono::system_clock::now().time_since_epoch().count();
	bool do_alloc = false;
	std::string json;
	static const option opts[] = { { "variant", required_argument, nullptr, 'v' },
				       { "driver", required_argument, nullptr, 'd' },
				       { "calls", required_argument, nullptr, 'n' },
				       { "seed", required_argument, nullptr, 's' },
				       { "alloc-test", no_argument, nullptr, 'a' },
				       { "json", required_argument, nullptr, 'j' },
				       { "help", no_argument, nullptr, 'h' },
				       {} };
	for (int c; (c = getopt_long(argc, argv, "h", opts, nullptr)) != -1;) {
		switch (c) {
		case 'v': variants = split_words(optarg); break;
		case 'd': drivers = split_words(optarg); break;
		case 'n': calls = strtoull(optarg, nullptr, 0); break;
		case 's': seed = strtoull(optarg, nullptr, 0); break;
		case 'a': do_alloc = true; break;
		case 'j': json = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	for (auto &d : drivers)
		if (!model_of(d)) {
			fprintf(stderr, "kmodlab-fuzz: unknown driver '%s'\n", d.c_str());
			return 2;
		}
	printf("kmodlab-fuzz: seed %llu, %llu calls per variant/driver\n", (unsigned long long)seed,
	       (unsigned long long)calls);
	fflush(stdout);
	Buffers buf;
	Stats st;
	std::vector<std::string> alloc_lines;
	uint64_t alloc_passed = 0;
	auto t0 = std::chrono::steady_clock::now();
	for (auto &v : variants) {
		for (auto &d : drivers) {
			auto t = std::chrono::steady_clock::now();
			uint64_t before = st.failed;
			model_of(d)(v, seed, calls, buf, st);
			double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
			printf("%s/%s: %llu calls in %.1f s, %llu failures\n", v.c_str(), d.c_str(),
			       (unsigned long long)st.calls[v + "/" + d], s, (unsigned long long)(st.failed - before));
			fflush(stdout);
		}
		if (do_alloc)
			alloc_test(v, st, alloc_lines, alloc_passed);
	}
	for (auto &l : alloc_lines)
		printf("%s\n", l.c_str());
	double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	printf("errnos:");
	for (auto &[k, n] : st.errnos)
		printf(" %s=%llu", k.c_str(), (unsigned long long)n);
	printf("\nallocation faults: %llu armed, %llu observed; %llu failures; %.1f s\n",
	       (unsigned long long)st.fault_arms, (unsigned long long)st.faults_injected,
	       (unsigned long long)st.failed, secs);
	if (!json.empty() && !write_json(json, seed, secs, st, alloc_passed))
		return 2;
	return st.failed ? 1 : 0;
}

