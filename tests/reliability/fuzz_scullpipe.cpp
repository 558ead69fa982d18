// fuzz_scullpipe.cpp - kmodlab-fuzz: the scullpipe model (uapi/scullpipe.h):
// the ring's bytes in order and so its fill level against buffer_size;
// EAGAIN exactly when it is empty (read) or has no room for the write
// (all of an atomic write, one byte of a larger one) under O_NONBLOCK;
// reads return what is there, writes what fits, both stopped only by a
// fault; poll's mask; ESPIPE for seeks and positional I/O, ENOTTY for
// ioctls, EBADF for the direction the open did not ask for; a read or write
// that blocks (O_NONBLOCK off, nothing to read or no room) ends with EINTR
// when a signal without SA_RESTART arrives, and consumes nothing.
//
// Every call is bounded: a watchdog thread frees a call that is still in
// the driver after STUCK_AFTER (a driver that blocks under O_NONBLOCK, a
// lost wake-up, a signal that does not end the wait) through a second
// descriptor, the call fails and the device's fuzzing stops.
#include <atomic>
#include <chrono>
#include <csignal>
#include <deque>
#include <memory>
#include <optional>
#include <poll.h>
#include <sys/time.h>
#include <thread>

#include "fuzz.hpp"

namespace rel::fuzz {

namespace {

constexpr size_t ATOMIC = SCULLPIPE_ATOMIC_WRITE;
constexpr auto STUCK_AFTER = std::chrono::seconds(5);
constexpr auto GIVE_UP_AFTER = std::chrono::seconds(60);
// While a call is meant to be interrupted: SIGALRM this often until it
// returns (one signal could arrive before the call starts to wait).
constexpr long SIGNAL_EVERY_US = 2000;

void on_alarm(int)
{
}

// Bytes that must fit before a write of n bytes copies anything.
size_t write_needs(size_t n)
{
	return n <= ATOMIC ? n : 1;
}

// Drain the device through fd (O_NONBLOCK) into out; false on an error
// other than EAGAIN.
bool drain(int fd, std::string *out)
{
	char b[4096];
	for (;;) {
		ssize_t k = read(fd, b, sizeof(b));
		if (k > 0) {
			if (out)
				out->append(b, k);
			continue;
		}
		return k < 0 && errno == EAGAIN;
	}
}

// The second thread: it watches the one call in flight and, past
// STUCK_AFTER, frees it through `aux` (a byte for a blocked read, a drain
// for a blocked write), every tick until the call returns; past
// GIVE_UP_AFTER the process stops (a call nothing frees).  SIGALRM is
// blocked in it, so the main thread's calls get the signals.
class Watchdog {
public:
	enum Op { idle, reading, writing };

	explicit Watchdog(int aux_fd, std::string what) : aux(aux_fd), tag(std::move(what))
	{
		sigset_t s, old;
		sigemptyset(&s);
		sigaddset(&s, SIGALRM);
		pthread_sigmask(SIG_BLOCK, &s, &old);
		th = std::thread([this] { loop(); });
		pthread_sigmask(SIG_SETMASK, &old, nullptr);
	}
	~Watchdog()
	{
		quit = true;
		th.join();
	}
	Watchdog(const Watchdog &) = delete;
	Watchdog &operator=(const Watchdog &) = delete;

	void begin(Op op)
	{
		fired = false;
		since = now();
		op_ = op;
	}
	// The call returned: true when the watchdog had to free it.
	bool end()
	{
		op_ = idle;
		return fired;
	}

private:
	int aux;
	std::string tag;
	std::thread th;
	std::atomic<bool> quit{ false }, fired{ false };
	std::atomic<Op> op_{ idle };
	std::atomic<int64_t> since{ 0 };

	static int64_t now()
	{
		return std::chrono::steady_clock::now().time_since_epoch().count();
	}
	void loop()
	{
		const int64_t stuck = std::chrono::nanoseconds(STUCK_AFTER).count();
		const int64_t give_up = std::chrono::nanoseconds(GIVE_UP_AFTER).count();
		while (!quit) {
			std::this_thread::sleep_for(std::chrono::milliseconds(50));
			Op op = op_;
			int64_t held = now() - since;
			if (op == idle || held < stuck)
				continue;
			fired = true;
			if (held > give_up) {
				fprintf(stderr, "FAIL %s: a call stayed in the driver for %lld s although freed; stopping\n",
					tag.c_str(), (long long)(held / 1000000000));
				_exit(1);
			}
			if (op == reading && write(aux, "!", 1) < 0) {
				// nothing else to try; the next tick tries again
			} else if (op == writing) {
				drain(aux, nullptr);
			}
		}
	}
};

struct ScullpipeFuzz : Fuzzer {
	std::deque<char> ring; // the device's bytes, oldest first
	size_t bufsize = SCULLPIPE_BUFFER_DEFAULT; // the module's buffer_size
	bool nonblock = false, can_read = true, can_write = true;
	int aux = -1; // a second opener (O_NONBLOCK): drains, frees stuck calls
	std::unique_ptr<Watchdog> dog;
	struct sigaction old_alarm {};

	using Fuzzer::Fuzzer;

	size_t space() const { return bufsize - ring.size(); }

	bool setup()
	{
		path = node(SCULLPIPE_NAME, variant, 0);
		std::string mod = module(SCULLPIPE_NAME, variant);
		long bs;
		if (sysfs_read_long(param_path(mod, "buffer_size"), &bs) && bs > 0)
			bufsize = bs;
		fd = open(path.c_str(), O_RDWR);
		aux = open(path.c_str(), O_RDWR | O_NONBLOCK);
		if (fd < 0 || aux < 0) {
			desc = "open";
			fail(path + ": " + strerror(errno) + " (is " + mod + " loaded?)");
			return false;
		}
		drain(aux, nullptr);
		struct sigaction sa {};
		sa.sa_handler = on_alarm; // no SA_RESTART: a blocked call ends with EINTR
		sigemptyset(&sa.sa_mask);
		sigaction(SIGALRM, &sa, &old_alarm);
		dog = std::make_unique<Watchdog>(aux, tag);
		set_nonblock(rng.chance(50));
		return true;
	}

	void finish()
	{
		dog.reset();
		sigaction(SIGALRM, &old_alarm, nullptr);
		drain(aux, nullptr);
		close(fd);
		close(aux);
	}

	void set_nonblock(bool on)
	{
		int fl = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
		nonblock = on;
	}

	// The model is lost (a failure said why): empty the device and the
	// model alike.
	void resync()
	{
		drain(aux, nullptr);
		ring.clear();
	}

	// A call that must not stay in the driver: watched, and when the
	// watchdog had to free it, a failure and the end of this device's run.
	template <class F> Result bounded(Watchdog::Op op, F f)
	{
		dog->begin(op);
		Result r = sys(f);
		if (dog->end()) {
			fail(std::string(nonblock ? "under O_NONBLOCK, " : "") + "the call stayed in the driver for " +
			     std::to_string(STUCK_AFTER.count()) + " s (freed through a second descriptor)");
			resync();
			aborted = true;
		}
		count(r);
		return r;
	}

	// A call that blocks (the model says so): SIGALRM without SA_RESTART
	// every SIGNAL_EVERY_US until it returns; it must end with EINTR and
	// leave the device as it was.
	template <class F> void interrupted(Watchdog::Op op, F f)
	{
		desc += " (blocks: interrupted by SIGALRM)";
		itimerval on{ { 0, SIGNAL_EVERY_US }, { 0, SIGNAL_EVERY_US } }, off{};
		setitimer(ITIMER_REAL, &on, nullptr);
		Result r = bounded(op, f);
		setitimer(ITIMER_REAL, &off, nullptr);
		if (aborted)
			return;
		expect_err(r, EINTR);
		if (!r.err)
			resync();
	}

	// The VFS refuses these before the driver runs (access_ok on the whole
	// count): a kernel pointer, a count that reaches past user space.  A
	// non-canonical pointer passes 6.1's access_ok (it then faults in the
	// copy), so it is no sure refusal (vfs_check still allows the EFAULT).
	static bool vfs_refuses(const Ptr &p, size_t n)
	{
		return p.kind == PtrKind::kernel || n > (1ULL << 47);
	}

	size_t size_arg(size_t level)
	{
		return size_from({ 0, 1, 2, ATOMIC - 1, ATOMIC, ATOMIC + 1, bufsize - 1, bufsize, bufsize + 1,
				   2 * bufsize, level ? level - 1 : 0, level, level + 1, 1 << 20 },
				 bufsize + ATOMIC);
	}

	// A successful read or write moved ret of the want bytes the model
	// allowed, usable of them without a fault: all of want when usable
	// covers it, else 1..usable (a fault stops the copy), or EFAULT when
	// nothing was copied.
	bool check_count(const Result &r, size_t want, size_t usable)
	{
		if (usable >= want) {
			expect_ok(r, (long)want);
		} else if (usable == 0) {
			expect_err(r, EFAULT);
		} else if (allowed(r, { EFAULT }) && !r.err && (r.ret < 1 || (size_t)r.ret > usable)) {
			fail("returned " + std::to_string(r.ret) + " with " + std::to_string(usable) +
			     " usable bytes at the pointer");
		}
		if (!r.err && (r.ret < 0 || (size_t)r.ret > want)) {
			resync();
			return false;
		}
		return !r.err;
	}

	// What read and write share: EBADF for the direction the open lacks;
	// a call the model says blocks (O_NONBLOCK off, `stuck`: nothing to
	// read or no room) is the signal test, or a poll instead; 0 bytes give
	// 0; under O_NONBLOCK `stuck` gives EAGAIN.  The result when the
	// caller's own check is left to do.
	template <class F>
	std::optional<Result> rw_call(Watchdog::Op op, const Ptr &p, size_t n, bool stuck, F call)
	{
		vfs_efault_ok = false;
		if (!(op == Watchdog::reading ? can_read : can_write)) {
			expect_err(bounded(op, call), EBADF);
			return {};
		}
		vfs_check(p, n);
		if (!nonblock && n && stuck && !vfs_refuses(p, n)) {
			if (rng.chance(30))
				interrupted(op, call);
			else
				step_poll();
			return {};
		}
		Result r = bounded(op, call);
		if (aborted)
			return {};
		if (n == 0 || stuck) {
			n == 0 ? expect_ok(r, 0) : expect_err(r, EAGAIN);
			return {};
		}
		return r;
	}

	void step_read()
	{
		Ptr p = buf.pick(rng);
		size_t n = size_arg(ring.size());
		desc = std::string(nonblock ? "read (O_NONBLOCK) " : "read ") + std::to_string(n) + " into " +
		       kind_name(p.kind) + ", model holds " + std::to_string(ring.size());
		auto r = rw_call(Watchdog::reading, p, n, ring.empty(), [&] { return read(fd, p.p, n); });
		if (!r || !check_count(*r, std::min(n, ring.size()), p.writable))
			return;
		for (long i = 0; i < r->ret; i++)
			if (p.p[i] != ring[i]) {
				fail("byte " + std::to_string(i) + " of the read is " +
				     std::to_string((uint8_t)p.p[i]) + ", the model's next byte " +
				     std::to_string((uint8_t)ring[i]) + " (bytes must come out in the order written)");
				return resync();
			}
		ring.erase(ring.begin(), ring.begin() + r->ret);
	}

	void step_write()
	{
		Ptr p = buf.pick(rng);
		size_t n = size_arg(space());
		fill(rng, p, std::min(n, bufsize));
		desc = std::string(nonblock ? "write (O_NONBLOCK) " : "write ") + std::to_string(n) + " from " +
		       kind_name(p.kind) + ", model holds " + std::to_string(ring.size());
		auto r = rw_call(Watchdog::writing, p, n, space() < write_needs(n), [&] { return write(fd, p.p, n); });
		if (r && check_count(*r, std::min(n, space()), p.readable))
			ring.insert(ring.end(), p.p, p.p + r->ret);
	}

	// poll: POLLIN when there are bytes, POLLOUT when an atomic write fits.
	void step_poll()
	{
		desc = "poll, model holds " + std::to_string(ring.size());
		vfs_efault_ok = false;
		pollfd pf{ fd, POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM, 0 };
		Result r = sys([&] { return poll(&pf, 1, 0); });
		count(r);
		short want = (ring.empty() ? 0 : POLLIN | POLLRDNORM) | (space() >= ATOMIC ? POLLOUT | POLLWRNORM : 0);
		expect_ok(r, want ? 1 : 0);
		if (pf.revents != want)
			fail("revents " + std::to_string(pf.revents) + ", model " + std::to_string(want));
	}

	// Reopen with a drawn access mode and O_NONBLOCK: the bytes stay.
	void step_reopen()
	{
		static const std::vector<int> modes = { O_RDWR, O_RDWR, O_RDWR, O_RDWR, O_RDWR, O_RDWR, O_RDONLY, O_WRONLY };
		int m = rng.pick(modes);
		bool nb = rng.chance(50);
		desc = std::string("reopen ") + (m == O_RDWR ? "O_RDWR" : m == O_RDONLY ? "O_RDONLY" : "O_WRONLY") +
		       (nb ? " | O_NONBLOCK" : "");
		close(fd);
		fd = open(path.c_str(), m | (nb ? O_NONBLOCK : 0));
		if (fd < 0) {
			fail(std::string("open: ") + strerror(errno));
			aborted = true;
			return;
		}
		nonblock = nb;
		can_read = m != O_WRONLY;
		can_write = m != O_RDONLY;
	}

	// Another opener takes everything: exactly the model's bytes, in order.
	void step_drain()
	{
		desc = "drain through a second descriptor, model holds " + std::to_string(ring.size());
		std::string got;
		if (!drain(aux, &got))
			fail(std::string("drain: ") + strerror(errno));
		std::string want(ring.begin(), ring.end());
		if (got != want) {
			size_t i = std::mismatch(got.begin(), got.end(), want.begin(), want.end()).first - got.begin();
			fail("the device held " + std::to_string(got.size()) + " bytes, the model " +
			     std::to_string(want.size()) + "; first difference at byte " + std::to_string(i));
		}
		ring.clear();
	}

	// No seek, no positional I/O (ESPIPE; a negative pread offset is the
	// VFS's EINVAL first), no ioctls (ENOTTY; the VFS's own generic ones
	// left out: types 0, 'T', 'X', 'f', 0x15, 0x94).
	void step_other()
	{
		vfs_efault_ok = false;
		unsigned what = rng.below(3);
		long long off = rng.pick(std::vector<long long>{ 0, 1, -1, LLONG_MAX, LLONG_MIN, (long long)bufsize });
		if (what == 0) {
			int wh = whence();
			desc = "lseek " + std::to_string(off) + " whence " + std::to_string(wh);
			Result r = sys([&] { return lseek(fd, off, wh); });
			count(r);
			return expect_err(r, wh >= SEEK_SET && wh <= SEEK_HOLE ? ESPIPE : EINVAL); // ksys_lseek first
		}
		if (what == 1) {
			Ptr p = buf.good_ptr(rng);
			bool rd = rng.chance(50);
			desc = std::string(rd ? "pread" : "pwrite") + " 16 at " + std::to_string(off);
			Result r = bounded(rd ? Watchdog::reading : Watchdog::writing,
					   [&] { return rd ? pread(fd, p.p, 16, off) : pwrite(fd, p.p, 16, off); });
			return expect_err(r, off < 0 ? EINVAL : ESPIPE); // before the fd's mode is looked at
		}
		static const std::vector<unsigned> vfs_types = { 0, 'T', 'X', 'f', 0x15, 0x94 };
		unsigned cmd;
		do
			cmd = rng.chance(50) ? static_cast<unsigned>(rng.next())
					     : _IOC(rng.below(4), rng.below(256), rng.below(256), rng.below(1 << 14));
		while (std::find(vfs_types.begin(), vfs_types.end(), _IOC_TYPE(cmd)) != vfs_types.end());
		desc = "ioctl " + std::to_string(cmd);
		Result r = sys([&] { return ioctl(fd, cmd, buf.good); });
		count(r);
		expect_err(r, ENOTTY);
	}

	void step()
	{
		unsigned op = rng.below(100);
		if (op < 34) {
			step_write();
		} else if (op < 68) {
			step_read();
		} else if (op < 78) {
			bool on = rng.chance(50);
			desc = std::string("fcntl O_NONBLOCK ") + (on ? "on" : "off");
			set_nonblock(on);
			if (((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0) != on)
				fail("F_GETFL does not show the flag just set");
		} else if (op < 86) {
			step_poll();
		} else if (op < 92) {
			step_other();
		} else if (op < 95) {
			step_reopen();
		} else {
			step_drain();
		}
	}
};

} // namespace

void fuzz_scullpipe(const std::string &variant, uint64_t seed, uint64_t calls, Buffers &buf, Stats &st)
{
	fuzz_with<ScullpipeFuzz>(SCULLPIPE_NAME, variant, seed, calls, buf, st);
}

} // namespace rel::fuzz
