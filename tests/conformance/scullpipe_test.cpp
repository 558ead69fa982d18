// scullpipe_test.cpp - conformance of /dev/scullpipe-<variant>N (C and C++)
// to uapi/scullpipe.h: O_NONBLOCK gives EAGAIN on empty and full, poll
// readiness and its wake-ups, blocking read and write woken by the other
// side, fill to EAGAIN and read back in order, EINTR on a signal without
// SA_RESTART, two writers of 64-byte records into one reader with no torn,
// lost or duplicated record, no seek, EFAULT without losing data, and
// rmmod refused while a node is open.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <pthread.h>
#include <sys/syscall.h>

#include "devices.hpp"

extern "C" {
#include <uapi/scullpipe.h>
}

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// How long a "delayed" peer waits before acting, and how long a blocked
// call must at least have slept (TCG guests are slow: generous margins).
constexpr auto kDelay = 300ms;
constexpr auto kMinBlocked = 200ms;

void on_signal(int) {}

class ScullPipe : public testing::TestWithParam<std::string> {
protected:
	std::string module;
	std::string path; // minor 0
	size_t size = 0;  // buffer_size of the loaded module

	void SetUp() override
	{
		module = kmodlab::module_name(SCULLPIPE_NAME, GetParam());
		path = kmodlab::node(SCULLPIPE_NAME, GetParam(), 0);
		ASSERT_TRUE(kmodlab::exists(path)) << kmodlab::missing(path, SCULLPIPE_NAME, GetParam());
		size = std::stoul(kmodlab::param(module, "buffer_size"));
		ASSERT_GE(size, size_t(SCULLPIPE_ATOMIC_WRITE));
		drain();
	}
	void TearDown() override { drain(); }

	int open_pipe(int flags) const
	{
		int fd = open(path.c_str(), flags);
		EXPECT_GE(fd, 0) << path << ": " << strerror(errno);
		return fd;
	}

	// Empty the device (data left by an earlier test or a failed one).
	void drain() const
	{
		int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK);
		if (fd < 0)
			return;
		char buf[4096];
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}

	// Nonblocking writes of `chunk` bytes (a counting pattern) until EAGAIN;
	// the bytes written.
	std::string fill(int fd, size_t chunk) const
	{
		std::string all;
		std::string piece(chunk, '\0');
		for (;;) {
			for (size_t i = 0; i < chunk; i++)
				piece[i] = static_cast<char>('a' + (all.size() + i) % 23);
			ssize_t n = write(fd, piece.data(), chunk);
			if (n < 0) {
				EXPECT_EQ(errno, EAGAIN) << strerror(errno);
				return all;
			}
			EXPECT_EQ(size_t(n), chunk) << "an atomic write was split";
			all.append(piece, 0, n);
			if (all.size() > size) {
				ADD_FAILURE() << "wrote " << all.size() << " bytes into a " << size << "-byte pipe";
				return all;
			}
		}
	}

	short revents(int fd, short events) const
	{
		struct pollfd p = { fd, events, 0 };
		int n = poll(&p, 1, 0);
		EXPECT_EQ(n, p.revents ? 1 : 0);
		return p.revents;
	}
};

// Nothing to read, nothing to wait for: EAGAIN at once.
TEST_P(ScullPipe, NonblockingReadOfEmptyPipeIsEAGAIN)
{
	int fd = open_pipe(O_RDONLY | O_NONBLOCK);
	char c;
	auto t0 = Clock::now();
	EXPECT_ERRNO(EAGAIN, read(fd, &c, 1));
	EXPECT_LT(Clock::now() - t0, kMinBlocked);
	close(fd);
}

// Fill with atomic writes to EAGAIN, then read everything back in order.
TEST_P(ScullPipe, FillToEAGAINThenReadBackInOrder)
{
	int w = open_pipe(O_WRONLY | O_NONBLOCK);
	const size_t chunk = 100;
	std::string written = fill(w, chunk);
	EXPECT_GT(written.size(), size - chunk) << "EAGAIN with room for another write";
	EXPECT_LE(written.size(), size);
	// a write that does not fit whole is refused, not split
	std::string big(SCULLPIPE_ATOMIC_WRITE, 'z');
	EXPECT_ERRNO(EAGAIN, write(w, big.data(), big.size()));

	int r = open_pipe(O_RDONLY | O_NONBLOCK);
	std::string got;
	char buf[333]; // not a divisor of the chunk: reads cross write boundaries
	ssize_t n;
	while ((n = read(r, buf, sizeof(buf))) > 0)
		got.append(buf, n);
	EXPECT_EQ(errno, EAGAIN);
	EXPECT_EQ(got.size(), written.size());
	EXPECT_TRUE(got == written) << "bytes came back changed or out of order";
	close(r);
	close(w);
}

// Readiness: empty -> POLLOUT only; data -> POLLIN too; full -> no POLLOUT;
// POLLOUT again exactly when an atomic write fits (SCULLPIPE_ATOMIC_WRITE
// bytes free, not one less).
TEST_P(ScullPipe, PollReportsReadiness)
{
	int fd = open_pipe(O_RDWR | O_NONBLOCK);
	EXPECT_EQ(revents(fd, POLLIN | POLLOUT), POLLOUT);
	ASSERT_EQ(write(fd, "x", 1), 1);
	EXPECT_EQ(revents(fd, POLLIN | POLLOUT), POLLIN | POLLOUT);
	size_t room = size - 1 - fill(fd, 64).size(); // < 64: the next write did not fit
	EXPECT_EQ(revents(fd, POLLIN | POLLOUT), POLLIN) << "POLLOUT although an atomic write does not fit";
	ASSERT_LT(room, size_t(SCULLPIPE_ATOMIC_WRITE - 1));
	std::vector<char> buf(SCULLPIPE_ATOMIC_WRITE);
	ssize_t below = SCULLPIPE_ATOMIC_WRITE - 1 - room;
	ASSERT_EQ(read(fd, buf.data(), below), below);
	EXPECT_EQ(revents(fd, POLLIN | POLLOUT), POLLIN)
		<< "POLLOUT with " << SCULLPIPE_ATOMIC_WRITE - 1 << " bytes free";
	ASSERT_EQ(read(fd, buf.data(), 1), 1);
	EXPECT_EQ(revents(fd, POLLIN | POLLOUT), POLLIN | POLLOUT)
		<< "no POLLOUT with " << SCULLPIPE_ATOMIC_WRITE << " bytes free";
	close(fd);
	drain();
	int e = open_pipe(O_RDONLY);
	EXPECT_EQ(revents(e, POLLIN | POLLRDNORM), 0);
	close(e);
}

// A poll() sleeping for POLLIN is woken by a write, and one for POLLOUT
// on a full pipe by a read.
TEST_P(ScullPipe, PollIsWokenByTheOtherSide)
{
	int fd = open_pipe(O_RDWR | O_NONBLOCK);
	std::thread writer([&] {
		std::this_thread::sleep_for(kDelay);
		EXPECT_EQ(write(fd, "ping", 4), 4);
	});
	struct pollfd p = { fd, POLLIN, 0 };
	auto t0 = Clock::now();
	EXPECT_EQ(poll(&p, 1, 10000), 1);
	EXPECT_TRUE(p.revents & POLLIN);
	EXPECT_GE(Clock::now() - t0, kMinBlocked);
	writer.join();

	fill(fd, 64);
	std::thread reader([&] {
		std::this_thread::sleep_for(kDelay);
		char buf[1024];
		EXPECT_EQ(read(fd, buf, sizeof(buf)), 1024);
	});
	p = { fd, POLLOUT, 0 };
	t0 = Clock::now();
	EXPECT_EQ(poll(&p, 1, 10000), 1);
	EXPECT_TRUE(p.revents & POLLOUT);
	EXPECT_GE(Clock::now() - t0, kMinBlocked);
	reader.join();
	close(fd);
}

// A blocking read of an empty pipe sleeps until a delayed writer writes,
// and returns that data.
TEST_P(ScullPipe, BlockedReadIsWokenByADelayedWriter)
{
	int r = open_pipe(O_RDONLY);
	int w = open_pipe(O_WRONLY);
	std::thread writer([&] {
		std::this_thread::sleep_for(kDelay);
		EXPECT_EQ(write(w, "hello", 5), 5);
	});
	char buf[64] = {};
	auto t0 = Clock::now();
	EXPECT_EQ(read(r, buf, sizeof(buf)), 5);
	EXPECT_GE(Clock::now() - t0, kMinBlocked) << "read returned before the write";
	EXPECT_STREQ(buf, "hello");
	writer.join();
	close(r);
	close(w);
}

// A blocking write to a full pipe sleeps until a delayed reader makes room.
TEST_P(ScullPipe, BlockedWriteIsWokenByADelayedReader)
{
	int w = open_pipe(O_WRONLY | O_NONBLOCK);
	std::string head = fill(w, 128);
	close(w);
	w = open_pipe(O_WRONLY);
	int r = open_pipe(O_RDONLY);
	std::thread reader([&] {
		std::this_thread::sleep_for(kDelay);
		std::vector<char> buf(size);
		EXPECT_EQ(read(r, buf.data(), buf.size()), ssize_t(head.size()));
	});
	std::string rec(SCULLPIPE_ATOMIC_WRITE, 'w');
	auto t0 = Clock::now();
	EXPECT_EQ(write(w, rec.data(), rec.size()), ssize_t(rec.size()));
	EXPECT_GE(Clock::now() - t0, kMinBlocked) << "write to a full pipe did not block";
	reader.join();
	close(r);
	close(w);
}

// A signal without SA_RESTART ends a blocked read or write with EINTR, and
// nothing is consumed or written.
TEST_P(ScullPipe, SignalInterruptsABlockedCallWithEINTR)
{
	struct sigaction sa = {}, old = {};
	sa.sa_handler = on_signal; // no SA_RESTART
	ASSERT_EQ(sigaction(SIGUSR1, &sa, &old), 0);

	auto interrupted = [&](const std::function<ssize_t()> &call) {
		std::atomic<int> err{0};
		std::atomic<ssize_t> ret{0};
		std::atomic<bool> done{false};
		pthread_t self_id{};
		std::atomic<bool> started{false};
		std::thread t([&] {
			self_id = pthread_self();
			started = true;
			ssize_t n = call();
			err = errno;
			ret = n;
			done = true;
		});
		while (!started)
			std::this_thread::sleep_for(1ms);
		std::this_thread::sleep_for(kDelay);
		EXPECT_FALSE(done) << "the call did not block";
		pthread_kill(self_id, SIGUSR1);
		t.join();
		EXPECT_EQ(ret, -1);
		EXPECT_EQ(err, EINTR) << kmodlab::err_name(err);
	};

	int r = open_pipe(O_RDONLY);
	char c;
	interrupted([&] { return read(r, &c, 1); });

	int w = open_pipe(O_WRONLY | O_NONBLOCK);
	std::string head = fill(w, 128);
	close(w);
	w = open_pipe(O_WRONLY);
	std::string rec(SCULLPIPE_ATOMIC_WRITE, 's');
	interrupted([&] { return write(w, rec.data(), rec.size()); });
	// nothing of the interrupted write got in
	int rn = open_pipe(O_RDONLY | O_NONBLOCK);
	std::vector<char> buf(size + SCULLPIPE_ATOMIC_WRITE);
	EXPECT_EQ(read(rn, buf.data(), buf.size()), ssize_t(head.size()));
	close(rn);
	close(w);
	close(r);
	sigaction(SIGUSR1, &old, nullptr);
}

// Two writers of 64-byte records (writer id, sequence number, filler that
// repeats both) into one reader reading odd-sized chunks: every record
// arrives whole, once, in its writer's order.
TEST_P(ScullPipe, TwoWritersOf64ByteRecordsIntoOneReaderTearNothing)
{
	constexpr int kRecords = 3000;
	constexpr size_t kRec = 64;
	auto record = [](int writer, int seq) {
		std::string s(kRec, '\0');
		snprintf(s.data(), kRec, "w%d s%08d ", writer, seq);
		for (size_t i = 13; i < kRec; i++)
			s[i] = static_cast<char>('A' + (writer * 7 + seq + i) % 26);
		return s;
	};
	int r = open_pipe(O_RDONLY);
	std::vector<std::thread> writers;
	for (int id = 0; id < 2; id++)
		writers.emplace_back([&, id] {
			int w = open_pipe(O_WRONLY);
			for (int seq = 0; seq < kRecords; seq++) {
				std::string rec = record(id, seq);
				ssize_t n = write(w, rec.data(), kRec);
				if (n > 0 && n < ssize_t(kRec)) {
					// a split atomic write: the rest follows, so the
					// reader gets every byte and the oracle sees the tear
					ADD_FAILURE() << "writer " << id << " record " << seq << ": " << n
						      << " of " << kRec << " bytes written";
					n += write(w, rec.data() + n, kRec - n);
				}
				if (n != ssize_t(kRec)) {
					ADD_FAILURE() << "writer " << id << " record " << seq << ": " << n << " "
						      << strerror(errno);
					break;
				}
			}
			close(w);
		});
	// The first kFullReads reads wait until the writers have filled the
	// pipe (no POLLOUT): each 777-byte read then frees room that is not a
	// multiple of kRec, so a driver that splits a small write tears a
	// record whatever the timing (a reader that keeps up never lets the
	// pipe fill).
	constexpr int kFullReads = 8;
	auto wait_full = [r] { // at most 10 s; whether the pipe filled
		struct pollfd p = { r, POLLOUT, 0 };
		for (int ms = 0; ms < 10000; ms++, usleep(1000))
			if (poll(&p, 1, 0) == 0)
				return true;
		return false;
	};
	std::string stream;
	std::vector<char> buf(777);
	for (int reads = 0; stream.size() < 2 * kRecords * kRec; reads++) {
		if (reads < kFullReads && !wait_full())
			reads = kFullReads; // a writer stopped: no more waits
		// a writer that stopped must not leave the reader blocked forever
		struct pollfd p = { r, POLLIN, 0 };
		if (poll(&p, 1, 10000) != 1) {
			ADD_FAILURE() << "no data for 10 s after " << stream.size() << " bytes";
			break;
		}
		ssize_t n = read(r, buf.data(), buf.size());
		ASSERT_GT(n, 0) << strerror(errno);
		stream.append(buf.data(), n);
	}
	for (auto &t : writers)
		t.join();
	int next[2] = { 0, 0 };
	size_t torn = 0;
	for (size_t off = 0; off < stream.size(); off += kRec) {
		int id = stream[off + 1] - '0';
		if (stream[off] != 'w' || (id != 0 && id != 1)) {
			torn++;
			continue;
		}
		if (stream.compare(off, kRec, record(id, next[id])) != 0) {
			torn++;
			continue;
		}
		next[id]++;
	}
	EXPECT_EQ(torn, 0u) << "records torn, lost, duplicated or out of order";
	EXPECT_EQ(next[0], kRecords);
	EXPECT_EQ(next[1], kRecords);
	char c;
	int rn = open_pipe(O_RDONLY | O_NONBLOCK);
	EXPECT_ERRNO(EAGAIN, read(rn, &c, 1)); // no more bytes than were written
	close(rn);
	close(r);
}

// A FIFO has no positions.
TEST_P(ScullPipe, SeekAndPositionalIOAreESPIPE)
{
	int fd = open_pipe(O_RDWR | O_NONBLOCK);
	char c = 'p';
	EXPECT_ERRNO(ESPIPE, lseek(fd, 0, SEEK_SET));
	EXPECT_ERRNO(ESPIPE, pwrite(fd, &c, 1, 0));
	EXPECT_ERRNO(ESPIPE, pread(fd, &c, 1, 0));
	close(fd);
}

// Bad user pointers: EFAULT, and the data stays for the next reader.
TEST_P(ScullPipe, BadPointersAreEFAULTAndLoseNothing)
{
	int fd = open_pipe(O_RDWR | O_NONBLOCK);
	for (const auto &bp : kmodlab::bad_pointers()) {
		SCOPED_TRACE(bp.what);
		EXPECT_ERRNO(EFAULT, write(fd, bp.ptr, 16));
		ASSERT_EQ(write(fd, "keep", 4), 4);
		EXPECT_ERRNO(EFAULT, read(fd, bp.ptr, 16));
		char buf[8] = {};
		EXPECT_EQ(read(fd, buf, sizeof(buf)), 4);
		EXPECT_STREQ(buf, "keep");
	}
	close(fd);
}

// The module cannot go away under an open file.
TEST_P(ScullPipe, UnloadIsRefusedWhileOpen)
{
	int fd = open_pipe(O_RDONLY);
	errno = 0;
	long r = syscall(SYS_delete_module, module.c_str(), O_NONBLOCK);
	int e = errno;
	EXPECT_EQ(r, -1) << module << " unloaded with a file open";
	EXPECT_TRUE(e == EWOULDBLOCK || e == EBUSY) << kmodlab::err_name(e);
	EXPECT_TRUE(kmodlab::exists("/sys/module/" + module));
	close(fd);
}

INSTANTIATE_TEST_SUITE_P(Variants, ScullPipe, testing::ValuesIn(kmodlab::variants()), kmodlab::VariantName());

} // namespace
