// test_paired.cpp - kmodlab-load's paired loops (scullpipe's pipe and
// pingpong, worker.cpp) on host pipes: the same blocking read and write as
// the device, no module needed.  Each pair's threads must move data, the
// measured thread alone counts, and a thread that stops must release its
// partner from a call blocked for ever (the runs below end only if it does).
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "run.hpp"

extern "C" {
#include "scullpipe.h"
}

using namespace kmodlab;

namespace {

constexpr uint64_t kSize = 64;

// A run of `threads` paired workers; the fds are set by the test.
struct PairedRun {
	Run run;
	std::vector<int> fds;  // the test's own copies, closed at the end

	PairedRun(OpKind kind, unsigned threads, uint64_t ops, double duration_s)
	{
		install_release_signal();
		run.opt.threads = threads;
		run.opt.ops = ops;
		run.ops = {OpSpec{kind, kind == OpKind::pipe ? "pipe" : "pingpong", nullptr}};
		run.size = kSize;
		std::string err;
		EXPECT_TRUE(run.clock.init("monotonic", &err)) << err;
		for (unsigned i = 0; i < threads; i++) {
			auto w = std::make_unique<Worker>();
			w->index = i;
			w->stats.resize(1);
			w->buf.assign(kSize, 'p');
			w->share = i & 1u ? 0 : ops / (threads / 2);
			run.workers.push_back(std::move(w));
		}
		const uint64_t tps = static_cast<uint64_t>(1e9 * run.clock.ticks_per_ns());
		run.t0 = run.warm_end = run.clock.now();
		run.deadline = ops ? 0 : run.warm_end + static_cast<uint64_t>(duration_s * tps);
	}
	~PairedRun()
	{
		for (int fd : fds)
			close(fd);
	}
	std::pair<int, int> pipe_fds()
	{
		int p[2];
		EXPECT_EQ(pipe2(p, O_CLOEXEC), 0);
		fds.push_back(p[0]);
		fds.push_back(p[1]);
		return {p[0], p[1]};
	}
	Worker &w(unsigned i) { return *run.workers[i]; }

	// Run every worker; the seconds taken.  (Each closes its fds in its
	// own copy of the descriptor table: ours stay open, so an empty pipe
	// blocks as scullpipe does, never reads EOF.)
	double go()
	{
		const auto t0 = std::chrono::steady_clock::now();
		std::vector<std::thread> threads;
		for (auto &w : run.workers)
			threads.emplace_back(worker_main, std::ref(run), std::ref(*w));
		while (run.ready.load() < run.opt.threads)
			std::this_thread::yield();
		run.go.store(true);
		for (auto &t : threads)
			t.join();
		return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	}
};

}  // namespace

// pipe: the reader (even thread) is measured and gets the bytes; the writer
// is not measured; the run ends at its deadline although one of the two is
// then blocked (full pipe or empty pipe).
TEST(Paired, PipeMovesBytesFromWriterToMeasuredReader)
{
	PairedRun p(OpKind::pipe, 2, 0, 0.2);
	auto [r, w] = p.pipe_fds();
	p.w(0).fd = r;
	p.w(1).fd = w;
	EXPECT_LT(p.go(), 5.0);
	EXPECT_GT(p.w(0).stats[0].ops, 0u);
	EXPECT_GT(p.w(0).stats[0].bytes, 0u);
	EXPECT_EQ(p.w(1).stats[0].ops, 0u) << "the writer is not measured";
	EXPECT_EQ(p.w(0).stats[0].hist.count(), p.w(0).stats[0].ops);
	EXPECT_TRUE(p.w(0).done && p.w(1).done);
}

// --ops: the reader stops after its share; the writer, ahead of it, has
// filled the pipe (shrunk to one page) and is blocked in write() until the
// reader releases it.
TEST(Paired, PipeOpsModeReleasesTheBlockedWriter)
{
	PairedRun p(OpKind::pipe, 2, 2000, 0);
	auto [r, w] = p.pipe_fds();
	ASSERT_GT(fcntl(w, F_SETPIPE_SZ, 4096), 0);
	p.w(0).fd = r;
	p.w(1).fd = w;
	EXPECT_LT(p.go(), 10.0);
	EXPECT_EQ(p.w(0).stats[0].ops, 2000u);
	uint64_t errors = 0;
	for (auto e : p.w(1).stats[0].errors)
		errors += e;
	EXPECT_EQ(errors, 0u) << "the released write (EINTR) must not count as a failure";
}

// pingpong, two pairs: exactly --ops round trips of --size bytes, measured
// by the pingers; each echoer is blocked in read() when its pinger stops.
TEST(Paired, PingPongCountsRoundTripsAndReleasesTheEchoers)
{
	PairedRun p(OpKind::pingpong, 4, 100, 0);
	for (unsigned pair = 0; pair < 2; pair++) {
		auto [out_r, out_w] = p.pipe_fds();
		auto [back_r, back_w] = p.pipe_fds();
		p.w(2 * pair).fd = out_w;
		p.w(2 * pair).fd2 = back_r;
		p.w(2 * pair + 1).fd = out_r;
		p.w(2 * pair + 1).fd2 = back_w;
	}
	EXPECT_LT(p.go(), 10.0);
	EXPECT_EQ(p.w(0).stats[0].ops + p.w(2).stats[0].ops, 100u);
	EXPECT_EQ(p.w(0).stats[0].bytes, p.w(0).stats[0].ops * kSize) << "a round trip moves --size bytes";
	EXPECT_EQ(p.w(1).stats[0].ops + p.w(3).stats[0].ops, 0u) << "echoers are not measured";
}

// A helper whose call fails (here: writing into a read end, EBADF) stops,
// counts the failure and releases the reader blocked on the empty pipe.
TEST(Paired, HelperFailureIsCountedAndReleasesTheReader)
{
	PairedRun p(OpKind::pipe, 2, 0, 30.0);
	auto [r, w] = p.pipe_fds();
	(void)w;
	p.w(0).fd = r;
	p.w(1).fd = r;  // the writer's fd cannot be written
	EXPECT_LT(p.go(), 10.0) << "the reader was not released before the 30 s deadline";
	EXPECT_EQ(p.w(1).stats[0].errors[EBADF], 1u);
	EXPECT_EQ(p.w(0).stats[0].ops, 0u);
}

// --check: the reader of a pipe pair and the pinger check that each pair's
// byte stream comes back in order; a pipe that loses a byte fails it.
TEST(Paired, CheckedStreamsPassOnAPipeAndFailOnALostByte)
{
	for (OpKind kind : {OpKind::pipe, OpKind::pingpong}) {
		PairedRun p(kind, 2, 500, 0);
		p.run.opt.check = true;
		auto [r, w] = p.pipe_fds();
		if (kind == OpKind::pipe) {
			p.w(0).fd = r;
			p.w(1).fd = w;
		} else {
			auto [r2, w2] = p.pipe_fds();
			p.w(0).fd = w, p.w(0).fd2 = r2;
			p.w(1).fd = r, p.w(1).fd2 = w2;
		}
		p.go();
		EXPECT_EQ(p.w(0).mismatches, 0u) << p.w(0).first_mismatch;
		EXPECT_GE(p.w(0).stream, 500 * kSize);
	}
	// A pipe that drops one byte: the writer's 7th byte never arrives.
	PairedRun p(OpKind::pipe, 2, 50, 0);
	p.run.opt.check = true;
	auto [r, w] = p.pipe_fds();
	p.w(0).fd = r;
	p.w(1).fd = w;
	p.w(1).stream = 0;
	ASSERT_EQ(write(w, "\0\1\2\3\4\5\7", 7), 7);  // bytes 0..5, then 7: byte 6 lost
	p.w(1).stream = 8;                               // the writer goes on from 8
	p.go();
	EXPECT_GE(p.w(0).mismatches, 1u);
	EXPECT_NE(p.w(0).first_mismatch.find("stream byte 6: got 7, expected 6"), std::string::npos)
		<< p.w(0).first_mismatch;
}

// What the scullpipe profile refuses before a run starts (it exits 2 with
// the reason): an odd thread count, a paced loop, a mix, and pingpong
// pairs beyond the module's nr_devs (two minors per pair).
TEST(Paired, ScullpipeProfileRefusesWhatCannotPair)
{
	testing::FLAGS_gtest_death_test_style = "threadsafe";
	const DeviceProfile &prof = profile_of(DeviceKind::scullpipe);
	auto make = [](OpKind kind, unsigned threads) {
		auto run = std::make_unique<kmodlab::Run>();
		run->opt.threads = threads;
		run->ops = {OpSpec{kind, "x", nullptr}};
		run->dev.minor_index = 0;
		run->params["nr_devs"] = "4";
		return run;
	};
	prof.check_params(*make(OpKind::pipe, 2));
	prof.check_params(*make(OpKind::pingpong, 4));
	EXPECT_EXIT(prof.check_params(*make(OpKind::pipe, 3)), testing::ExitedWithCode(2), "even number");
	auto paced = make(OpKind::pipe, 2);
	paced->opt.rate = 1000;
	EXPECT_EXIT(prof.check_params(*paced), testing::ExitedWithCode(2), "closed loops");
	auto mix = make(OpKind::pipe, 2);
	mix->ops.push_back(OpSpec{OpKind::pingpong, "y", nullptr});
	EXPECT_EXIT(prof.check_params(*mix), testing::ExitedWithCode(2), "not a mix");
	auto far = make(OpKind::pingpong, 4);
	far->dev.minor_index = 2;
	EXPECT_EXIT(prof.check_params(*far), testing::ExitedWithCode(2), "uses minors 2..5 .* nr_devs=4");
	EXPECT_EQ(prof.default_size, uint64_t(SCULLPIPE_ATOMIC_WRITE));
}
