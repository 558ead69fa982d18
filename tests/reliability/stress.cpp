// kmodlab-stress - N threads of mixed operations on every driver of a
// variant for a set time, with oracles that nothing was lost:
//   counter: the final value equals the sum of all increments made;
//   scull:   each thread owns a region of /dev/scull-<v>1 (regions share
//            quanta at their edges), writes it in random chunks, reads each
//            chunk back, and the whole device matches every thread's copy
//            at the end;
//   lkp_enc: every string read back is the Caesar encryption of a string
//            some thread wrote whole (decrypted, it must parse and match);
//   scullpipe: meanwhile writers of tagged records and readers on one
//            device, every record read once, in order, whole
//            (stress_scullpipe.cpp).
#include <atomic>
#include <chrono>
#include <getopt.h>
#include <mutex>
#include <thread>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "stress.hpp"

using namespace rel;
using namespace rel::stress;

namespace {

constexpr size_t REGION = 48 * 1024 + 123; // not quantum aligned on purpose

std::string lkp_plain(unsigned tid, uint64_t iter)
{
	// Letters derived from (tid, iter), so a reader can re-derive them.
	Rng r(tid * 1000003ULL + iter);
	std::string s = "T" + std::to_string(tid) + "-" + std::to_string(iter) + "-";
	size_t n = 5 + r.below(120);
	for (size_t i = 0; i < n; i++)
		s += static_cast<char>((r.chance(50) ? 'a' : 'A') + r.below(26));
	return s;
}

// Undo the Caesar shift and check the text is one some thread wrote whole.
bool lkp_valid(const std::string &cipher, uint32_t seed)
{
	std::string p = caesar(cipher, 26 - seed % 26);
	unsigned tid;
	unsigned long long iter;
	if (sscanf(p.c_str(), "T%u-%llu-", &tid, &iter) != 2)
		return false;
	return p == lkp_plain(tid, iter);
}

void worker(const std::string &v, unsigned tid, uint32_t seed, Shared &sh, long long &sum,
	    std::vector<char> &shadow, uint64_t rng_seed)
{
	Rng rng(rng_seed);
	std::string tag = v + " thread " + std::to_string(tid) + ": ";
	int cfd = open(node(COUNTER_NAME, v).c_str(), O_RDWR);
	int sfd = open(node(SCULL_NAME, v, 1).c_str(), O_RDWR);
	int lfd = open(node(LKP_ENC_NAME, v).c_str(), O_RDWR);
	if (cfd < 0 || sfd < 0 || lfd < 0) {
		sh.fail(tag + "cannot open the devices: " + strerror(errno));
		return;
	}
	const off_t base = (off_t)tid * REGION;
	std::vector<char> chunk(8192), back(8192);
	uint64_t iter = 0;
	while (!sh.stop.load(std::memory_order_relaxed)) {
		unsigned op = rng.below(10);
		if (op < 4) { // counter increment
			long long d = (long long)rng.below(2001) - 1000;
			std::string s = std::to_string(d) + "\n";
			ssize_t r = write(cfd, s.data(), s.size());
			if (r == (ssize_t)s.size())
				sum += d;
			else
				sh.fail(tag + "counter write \"" + std::to_string(d) + "\" returned " + std::to_string(r) +
					" (" + strerror(errno) + ")");
			if (rng.chance(10)) {
				long long v64;
				if (ioctl(cfd, COUNTER_IOC_GET, &v64) != 0)
					sh.fail(tag + "COUNTER_IOC_GET: " + strerror(errno));
			}
		} else if (op < 7) { // scull: write a chunk of my region, read it back
			size_t off = rng.below(REGION), n = 1 + rng.below(std::min<size_t>(chunk.size(), REGION - off));
			for (size_t i = 0; i < n; i++)
				chunk[i] = static_cast<char>(rng.next());
			// scull moves the whole request (across quanta): one call each.
			ssize_t w = pwrite(sfd, chunk.data(), n, base + off);
			size_t done = w > 0 ? w : 0;
			if (w != (ssize_t)n) {
				if (w < 0)
					sh.err(errno);
				sh.fail(tag + "scull pwrite of " + std::to_string(n) + " returned " + std::to_string(w) +
					(w < 0 ? std::string(" (") + strerror(errno) + ")" : ""));
			}
			memcpy(shadow.data() + off, chunk.data(), done);
			ssize_t r = pread(sfd, back.data(), done, base + off);
			size_t got = r > 0 ? r : 0;
			if (r != (ssize_t)done)
				sh.fail(tag + "scull pread of " + std::to_string(done) + " returned " + std::to_string(r) +
					(r < 0 ? std::string(" (") + strerror(errno) + ")" : ""));
			if (got == done && memcmp(back.data(), chunk.data(), done) != 0)
				sh.fail(tag + "scull read-back differs at region offset " + std::to_string(off));
			sh.scull_checks++;
		} else { // lkp_enc: write whole, read, check against the reference
			std::string plain = lkp_plain(tid, iter++);
			bool via_write = rng.chance(30);
			long r = via_write ? (long)write(lfd, plain.data(), plain.size())
					   : ioctl(lfd, LKP_ENC_IOC_WRITE_STRING, plain.c_str());
			if (r < 0)
				sh.fail(tag + "lkp_enc write: " + strerror(errno));
			char out[LKP_ENC_STRING_SIZE] = {};
			if (rng.chance(50)) {
				if (ioctl(lfd, LKP_ENC_IOC_READ_STRING, out) != 0)
					sh.fail(tag + "LKP_ENC_IOC_READ_STRING: " + strerror(errno));
			} else {
				ssize_t k = pread(lfd, out, sizeof(out) - 1, 0);
				if (k < 0)
					sh.fail(tag + "lkp_enc pread: " + strerror(errno));
			}
			if (!lkp_valid(out, seed))
				sh.fail(tag + "lkp_enc gave " + json_str(out) + ": not the Caesar(seed " +
					std::to_string(seed) + ") of any string written whole");
			sh.lkp_checks++;
		}
		sh.ops++;
	}
	close(cfd);
	close(sfd);
	close(lfd);
}

} // namespace

int main(int argc, char **argv)
{
	std::vector<std::string> variants = { KMODLAB_VARIANT_C, KMODLAB_VARIANT_CXX };
	unsigned threads = 4, pipe_writers = 2, pipe_readers = 2;
	double duration = 3;
	uint64_t seed = std::chrono::system_clock::now().time_since_epoch().count();
	std::string json;
	static const option opts[] = { { "variant", required_argument, nullptr, 'v' },
				       { "threads", required_argument, nullptr, 't' },
				       { "pipe-writers", required_argument, nullptr, 'W' },
				       { "pipe-readers", required_argument, nullptr, 'R' },
				       { "duration", required_argument, nullptr, 'd' },
				       { "seed", required_argument, nullptr, 's' },
				       { "json", required_argument, nullptr, 'j' },
				       { "help", no_argument, nullptr, 'h' },
				       {} };
	for (int c; (c = getopt_long(argc, argv, "h", opts, nullptr)) != -1;) {
		switch (c) {
		case 'v': variants = split_words(optarg); break;
		case 't': threads = std::max(1, atoi(optarg)); break;
		case 'W': pipe_writers = std::max(0, atoi(optarg)); break;
		case 'R': pipe_readers = std::max(1, atoi(optarg)); break;
		case 'd': duration = atof(optarg); break;
		case 's': seed = strtoull(optarg, nullptr, 0); break;
		case 'j': json = optarg; break;
		case 'h':
			printf("Usage: kmodlab-stress [--variant c,cxx] [--threads N] [--pipe-writers N] [--pipe-readers M]\n"
			       "                      [--duration S] [--seed S] [--json FILE]\n"
			       "N threads per variant mix counter increments, scull region writes with\n"
			       "read-back, and lkp_enc encryptions; at the end: counter == sum of increments,\n"
			       "scull regions intact, every lkp_enc result a whole Caesar string.  Meanwhile\n"
			       "--pipe-writers (2; 0: none) write tagged records into scullpipe minor 1 and\n"
			       "--pipe-readers (2) read them: every record once, in each writer's order, whole.\n"
			       "Exit 0 when nothing was lost, 1 otherwise.\n");
			return 0;
		default: return 2;
		}
	}
	Shared sh;
	std::string per_variant = "{";
	uint64_t pipe_records = 0, pipe_bytes = 0;
	for (auto &v : variants) {
		std::string tag = v + ": ";
		int cfd = open(node(COUNTER_NAME, v).c_str(), O_RDWR);
		int lfd = open(node(LKP_ENC_NAME, v).c_str(), O_RDWR);
		std::string spath = node(SCULL_NAME, v, 1);
		int trim = open(spath.c_str(), O_WRONLY); // empty the device
		if (cfd < 0 || lfd < 0 || trim < 0) {
			sh.fail(tag + "cannot open the devices (modules loaded?): " + strerror(errno));
			continue;
		}
		close(trim);
		ioctl(cfd, COUNTER_IOC_RESET);
		long long start = 0;
		ioctl(cfd, COUNTER_IOC_GET, &start);
		uint32_t lseed = static_cast<uint32_t>(Rng(seed).next() % 1000);
		ioctl(lfd, LKP_ENC_IOC_WRITE_SEED, &lseed);
		std::string first = lkp_plain(0, ~0ULL);
		ioctl(lfd, LKP_ENC_IOC_WRITE_STRING, first.c_str());
		uint64_t ops_before = sh.ops, lost_before = sh.lost;
		std::vector<long long> sums(threads, 0);
		std::vector<std::vector<char>> shadows(threads, std::vector<char>(REGION, 0));
		std::vector<std::thread> ts;
		sh.stop = false;
		std::unique_ptr<PipeStress> pipe;
		if (pipe_writers) {
			pipe = std::make_unique<PipeStress>(v, pipe_writers, pipe_readers,
							    seed ^ std::hash<std::string>{}(v), sh);
			if (!pipe->start())
				pipe.reset();
		}
		for (unsigned t = 0; t < threads; t++)
			ts.emplace_back(worker, v, t, lseed, std::ref(sh), std::ref(sums[t]), std::ref(shadows[t]),
					seed + t * 7919 + std::hash<std::string>{}(v));
		std::this_thread::sleep_for(std::chrono::duration<double>(duration));
		sh.stop = true;
		for (auto &t : ts)
			t.join();
		if (pipe) { // Oracle 0: the scullpipe records (stress_scullpipe.cpp)
			pipe->finish();
			pipe_records += pipe->records();
			pipe_bytes += pipe->bytes();
		}
		// Oracle 1: nothing lost from the counter.
		long long total = start, final_value = 0;
		for (auto s : sums)
			total += s;
		if (ioctl(cfd, COUNTER_IOC_GET, &final_value) != 0)
			sh.fail(tag + "final COUNTER_IOC_GET: " + strerror(errno));
		else if (final_value != total)
			sh.fail(tag + "counter is " + std::to_string(final_value) + ", increments sum to " +
				std::to_string(total) + " (lost " + std::to_string(total - final_value) + ")");
		// Oracle 2: every thread's scull region as that thread left it.
		int sfd = open(spath.c_str(), O_RDONLY);
		std::vector<char> back(REGION);
		for (unsigned t = 0; t < threads && sfd >= 0; t++) {
			size_t got = 0;
			while (got < REGION) {
				ssize_t r = pread(sfd, back.data() + got, REGION - got, (off_t)t * REGION + got);
				if (r < 0)
					break;
				if (r == 0) { // past the end: never written, reads as a hole
					memset(back.data() + got, 0, REGION - got);
					got = REGION;
					break;
				}
				got += r;
			}
			if (got != REGION || memcmp(back.data(), shadows[t].data(), REGION) != 0)
				sh.fail(tag + "scull region of thread " + std::to_string(t) + " differs at the end");
		}
		if (sfd >= 0)
			close(sfd);
		trim = open(spath.c_str(), O_WRONLY);
		if (trim >= 0)
			close(trim);
		ioctl(cfd, COUNTER_IOC_RESET);
		close(cfd);
		close(lfd);
		printf("%s: %u threads, %.1f s, %llu ops, counter %lld (expected %lld), %llu lost\n", v.c_str(),
		       threads, duration, (unsigned long long)(sh.ops - ops_before), final_value, total,
		       (unsigned long long)(sh.lost - lost_before));
		per_variant += std::string(per_variant.size() > 1 ? ", " : "") + json_str(v) + ": {\"ops\": " +
			       std::to_string(sh.ops - ops_before) + ", \"lost\": " + std::to_string(sh.lost - lost_before) +
			       ", \"counter_final\": " + std::to_string(final_value) + ", \"counter_expected\": " +
			       std::to_string(total) + (pipe ? ", \"pipe\": " + pipe->json() : "") + "}";
	}
	per_variant += "}";
	printf("stress: %llu ops, %llu scull checks, %llu lkp_enc checks, %llu scullpipe records (%llu bytes), lost %llu\n",
	       (unsigned long long)sh.ops.load(), (unsigned long long)sh.scull_checks.load(),
	       (unsigned long long)sh.lkp_checks.load(), (unsigned long long)pipe_records,
	       (unsigned long long)pipe_bytes, (unsigned long long)sh.lost.load());
	if (!json.empty()) {
		FILE *f = fopen(json.c_str(), "w");
		if (!f) {
			fprintf(stderr, "kmodlab-stress: cannot write %s\n", json.c_str());
			return 2;
		}
		fprintf(f,
			"{\"tool\": \"kmodlab-stress\", \"seed\": %llu, \"threads\": %u, \"duration_s\": %.2f, \"ops\": %llu,"
			" \"pipe_writers\": %u, \"pipe_readers\": %u, \"pipe_records\": %llu, \"pipe_bytes\": %llu,"
			" \"variants\": %s, \"errors_by_errno\": %s, \"lost\": %llu, \"failures\": %s}\n",
			(unsigned long long)seed, threads, duration, (unsigned long long)sh.ops.load(), pipe_writers,
			pipe_readers, (unsigned long long)pipe_records, (unsigned long long)pipe_bytes, per_variant.c_str(),
			json_counts(sh.errnos).c_str(), (unsigned long long)sh.lost.load(), json_list(sh.failures).c_str());
		fclose(f);
	}
	return sh.lost ? 1 : 0;
}
