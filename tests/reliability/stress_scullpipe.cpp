// stress_scullpipe.cpp - kmodlab-stress's scullpipe part: N writers of
// tagged records and M readers on one device, with an integrity oracle.
//
// A record: u16 length (all of it, RECORD_MIN .. SCULLPIPE_ATOMIC_WRITE),
// u16 writer, u32 sequence number, bytes derived from (writer, sequence),
// u32 FNV-1a of everything before it.  A writer packs one or more records
// into each write of at most SCULLPIPE_ATOMIC_WRITE bytes, so the device
// must keep each write whole (uapi/scullpipe.h); even writers block, odd
// ones use O_NONBLOCK and poll for POLLOUT.  Readers read random sizes
// (1 byte up to twice an atomic write), so a record is split across reads:
// the readers take turns (a lock over read + reassembly, the one way to
// know the order of the bytes across readers) and feed one stream parser;
// even readers block in the driver, odd ones use O_NONBLOCK and poll, and
// now and then a reader pauses so that the device fills and the writers
// wait for room.  At the end the main thread writes an end record; the
// reader that parses it ends the reading.
//
// The oracle, each failure named: a torn record (length field out of
// range, unknown writer, checksum differs: bytes of another write inside
// it, or a byte lost or added), a duplicated record (a sequence number
// again), lost records (a gap, or fewer read than written), lost or
// duplicated bytes (bytes read against bytes written), a short atomic
// write (the writer then writes the rest, so the parser sees the tear).
// Every wait is bounded: writers or readers that do not finish within
// JOIN_LIMIT are freed through a second descriptor and fail by name.
#include <chrono>
#include <condition_variable>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "stress.hpp"

namespace rel::stress {

namespace {

constexpr size_t ATOMIC = SCULLPIPE_ATOMIC_WRITE;
constexpr size_t RECORD_MIN = 12; // header 8, checksum 4
constexpr uint16_t END_WRITER = 0xffff;
constexpr auto JOIN_LIMIT = std::chrono::seconds(20);

uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

// Append the record (writer, seq) of len bytes to out.
void put_record(std::string &out, uint16_t writer, uint32_t seq, size_t len)
{
	size_t at = out.size();
	out.resize(at + len);
	auto *p = reinterpret_cast<uint8_t *>(&out[at]);
	uint16_t l16 = static_cast<uint16_t>(len);
	memcpy(p, &l16, 2);
	memcpy(p + 2, &writer, 2);
	memcpy(p + 4, &seq, 4);
	Rng r((uint64_t)writer << 32 | seq);
	for (size_t i = 8; i < len - 4; i++)
		p[i] = static_cast<uint8_t>(r.next());
	uint32_t sum = fnv1a(p, len - 4);
	memcpy(p + len - 4, &sum, 4);
}

} // namespace

// The record that ends the stream (written by the main thread at the end).
const std::string &end_record()
{
	static const std::string end = [] {
		std::string e;
		put_record(e, END_WRITER, 0, RECORD_MIN);
		return e;
	}();
	return end;
}

struct PipeStress::State {
	std::string variant, tag, path;
	unsigned nw, nr;
	uint64_t seed;
	Shared &sh;
	uint64_t lost_before = 0;
	std::vector<std::thread> writers, readers;
	std::atomic<unsigned> writers_done{ 0 }, readers_done{ 0 };
	std::vector<uint64_t> written; // records each writer wrote whole
	std::atomic<uint64_t> bytes_written{ 0 };
	// EAGAIN seen by the O_NONBLOCK writers (device full) and readers (empty)
	std::atomic<uint64_t> full{ 0 }, empty{ 0 };

	// The one stream, parsed under `mu` by whichever reader read last.
	std::mutex mu;
	std::string pending; // bytes not yet a whole record
	uint64_t offset = 0; // stream offset of pending[0]
	std::vector<uint32_t> next; // next sequence number per writer
	uint64_t records = 0, bytes = 0;
	bool ended = false, broken = false;
	std::atomic<bool> give_up{ false }; // the readers stop at once (they were stuck)

	State(const std::string &v, unsigned w, unsigned r, uint64_t s, Shared &shared)
		: variant(v), tag(v + "/" SCULLPIPE_NAME ": "), path(node(SCULLPIPE_NAME, v, 1)), nw(w), nr(r),
		  seed(s), sh(shared), written(w, 0), next(w, 0)
	{
	}

	void fail(const std::string &m) { sh.fail(tag + m); }

	// Parse what is whole in pending (mu held); the first tear stops the
	// parsing (what follows cannot be framed), bytes are still counted and
	// the end record is looked for by its bytes, so the readers still stop.
	void parse()
	{
		if (broken) {
			size_t at = pending.find(end_record());
			if (at != std::string::npos) {
				ended = true;
				pending.erase(0, at + RECORD_MIN);
			} else if (pending.size() >= RECORD_MIN) {
				pending.erase(0, pending.size() - (RECORD_MIN - 1));
			}
			return;
		}
		while (!broken && !ended && pending.size() >= 2) {
			uint16_t len;
			memcpy(&len, pending.data(), 2);
			std::string at = "stream byte " + std::to_string(offset);
			if (len < RECORD_MIN || len > ATOMIC) {
				broken = true;
				fail("torn record at " + at + ": length field " + std::to_string(len) +
				     " is no record's (a byte lost or added, or another write inside a record)");
				return parse(); // look for the end record in the rest
			}
			if (pending.size() < len)
				return;
			const auto *p = reinterpret_cast<const uint8_t *>(pending.data());
			uint16_t w;
			uint32_t seq, sum;
			memcpy(&w, p + 2, 2);
			memcpy(&seq, p + 4, 4);
			memcpy(&sum, p + len - 4, 4);
			std::string rec = "writer " + std::to_string(w) + " record " + std::to_string(seq);
			if (sum != fnv1a(p, len - 4) || (w >= nw && w != END_WRITER)) {
				broken = true;
				fail("torn record at " + at + " (" + rec + ", " + std::to_string(len) +
				     " bytes): checksum or writer wrong");
				return parse(); // look for the end record in the rest
			}
			if (w == END_WRITER) {
				ended = true;
				if (pending.size() > len)
					fail(std::to_string(pending.size() - len) + " bytes after the end record");
			} else if (seq < next[w]) {
				fail("duplicated record at " + at + ": " + rec + " again (next expected " +
				     std::to_string(next[w]) + ")");
			} else {
				if (seq > next[w])
					fail("lost records: writer " + std::to_string(w) + " records " +
					     std::to_string(next[w]) + ".." + std::to_string(seq - 1) +
					     " missing before " + at);
				next[w] = seq + 1;
				records++;
			}
			pending.erase(0, len);
			offset += len;
		}
	}

	// A writer's or reader's thread: its own descriptor (even ids block,
	// odd ones O_NONBLOCK), its own seeded Rng, body(fd, rng), `done` counted.
	template <class F> void thread_run(const char *who, unsigned id, int mode, std::atomic<unsigned> &done, F body)
	{
		bool nb = id % 2;
		int fd = open(path.c_str(), mode | (nb ? O_NONBLOCK : 0));
		if (fd < 0) {
			fail(std::string(who) + " " + std::to_string(id) + ": open: " + strerror(errno));
		} else {
			Rng rng(seed ^ ((uint64_t)mode << 40 | id));
			body(fd, nb, rng);
			close(fd);
		}
		done++;
	}

	// After a read or write that returned k: go on (bytes moved), retry
	// (EAGAIN on an O_NONBLOCK descriptor: g released, then up to 100 ms
	// of poll for `events`) or stop (an error or 0 bytes: a failure).
	enum Next { go_on, retry, stop };
	Next after(ssize_t k, int fd, bool nb, short events, const std::string &what,
		   std::unique_lock<std::mutex> *g = nullptr)
	{
		if (k > 0)
			return go_on;
		if (k < 0 && errno == EAGAIN && nb) {
			(events == POLLOUT ? full : empty)++;
			if (g)
				g->unlock();
			pollfd pf{ fd, events, 0 };
			poll(&pf, 1, 100);
			return retry;
		}
		sh.err(errno);
		fail(what + ": " + (k < 0 ? strerror(errno) : "0 bytes"));
		return stop;
	}

	void writer(int fd, bool nb, unsigned id, Rng &rng)
	{
		uint32_t seq = 0;
		std::string out;
		while (!sh.stop.load(std::memory_order_relaxed)) {
			out.clear();
			do {
				size_t len = rng.chance(20) ? rng.pick(std::vector<size_t>{ RECORD_MIN, ATOMIC - 1, ATOMIC })
							    : RECORD_MIN + rng.below(ATOMIC / 2);
				if (out.size() + len > ATOMIC)
					break;
				put_record(out, static_cast<uint16_t>(id), seq++, len);
			} while (rng.chance(40));
			for (size_t done = 0; done < out.size();) {
				ssize_t k = write(fd, out.data() + done, out.size() - done);
				Next n = after(k, fd, nb, POLLOUT, "writer " + std::to_string(id) + ": write");
				if (n != go_on) {
					if (n == stop)
						return;
					continue;
				}
				if (done == 0 && (size_t)k < out.size())
					fail("writer " + std::to_string(id) + ": an atomic write of " +
					     std::to_string(out.size()) + " bytes wrote " + std::to_string(k) +
					     " (the rest is written next, so the reader sees the tear)");
				done += k;
			}
			bytes_written += out.size();
			written[id] = seq;
			sh.ops++;
		}
	}

	void reader(int fd, bool nb, unsigned id, Rng &rng)
	{
		std::vector<char> b(2 * ATOMIC + 1);
		for (;;) {
			if (rng.chance(2))
				std::this_thread::sleep_for(std::chrono::milliseconds(2)); // let the device fill
			std::unique_lock<std::mutex> g(mu);
			if (ended || give_up)
				return;
			size_t n = rng.chance(30) ? rng.pick(std::vector<size_t>{ 1, 2, 11, 12, 13, ATOMIC - 1, ATOMIC,
										 ATOMIC + 1, 2 * ATOMIC + 1 })
						  : 1 + rng.below(2 * ATOMIC);
			ssize_t k = read(fd, b.data(), n);
			Next next_step = after(k, fd, nb, POLLIN, "reader " + std::to_string(id) + ": read", &g);
			if (next_step == stop)
				return;
			if (next_step == retry)
				continue;
			if (!ended && !give_up) {
				pending.append(b.data(), k);
				bytes += k;
				parse();
			}
			sh.ops++;
		}
	}

	// Wait up to JOIN_LIMIT for `done` to reach n; past it, `free` is
	// called every 100 ms (another descriptor unblocks the threads) for up
	// to JOIN_LIMIT more, then the process stops: a thread nothing frees.
	template <class F> bool join_within(std::vector<std::thread> &ts, std::atomic<unsigned> &done, F free,
					    const char *who)
	{
		auto t0 = std::chrono::steady_clock::now();
		bool ok = true;
		while (done < ts.size()) {
			auto held = std::chrono::steady_clock::now() - t0;
			if (held > JOIN_LIMIT) {
				if (ok)
					fail(std::string(who) + " did not finish within " +
					     std::to_string(JOIN_LIMIT.count()) +
					     " s (a lost wake-up, or lost data): freed through another descriptor");
				ok = false;
				free();
			}
			if (held > 2 * JOIN_LIMIT) {
				fprintf(stderr, "FAIL %s%s stay blocked although freed; stopping\n", tag.c_str(), who);
				_exit(1);
			}
			std::this_thread::sleep_for(std::chrono::milliseconds(ok ? 10 : 100));
		}
		for (auto &t : ts)
			t.join();
		ts.clear();
		return ok;
	}
};

PipeStress::PipeStress(const std::string &variant, unsigned writers, unsigned readers, uint64_t seed, Shared &sh)
	: s(std::make_unique<State>(variant, writers, readers, seed, sh))
{
}

PipeStress::~PipeStress() = default;

bool PipeStress::start()
{
	// Empty the device first: a byte left by an earlier user is no record.
	int fd = open(s->path.c_str(), O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		s->fail("cannot open " + s->path + " (module loaded?): " + strerror(errno));
		return false;
	}
	char b[4096];
	while (read(fd, b, sizeof(b)) > 0) {
	}
	close(fd);
	s->lost_before = s->sh.lost;
	State &st = *s;
	for (unsigned i = 0; i < st.nr; i++)
		st.readers.emplace_back([&st, i] {
			st.thread_run("reader", i, O_RDONLY, st.readers_done,
				      [&](int fd, bool nb, Rng &rng) { st.reader(fd, nb, i, rng); });
		});
	for (unsigned i = 0; i < st.nw; i++)
		st.writers.emplace_back([&st, i] {
			st.thread_run("writer", i, O_WRONLY, st.writers_done,
				      [&](int fd, bool nb, Rng &rng) { st.writer(fd, nb, i, rng); });
		});
	return true;
}

void PipeStress::finish()
{
	State &st = *s;
	int fd = open(st.path.c_str(), O_RDWR | O_NONBLOCK);
	if (fd < 0) {
		st.fail("cannot open " + st.path + " at the end: " + strerror(errno));
		return;
	}
	char b[4096];
	// Writers stop at Shared::stop; one blocked for room is freed by a drain.
	st.join_within(st.writers, st.writers_done, [&] { while (read(fd, b, sizeof(b)) > 0) {} }, "writers");
	const std::string &end = end_record();
	for (int i = 0; i < 2000; i++) { // room comes as the readers read
		if (write(fd, end.data(), end.size()) == (ssize_t)end.size())
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
	// Readers stop at the end record; one blocked for data is freed by
	// more bytes (the stream is already judged broken by then).
	st.join_within(st.readers, st.readers_done,
		       [&] {
			       st.give_up = true;
			       if (write(fd, end.data(), end.size()) < 0) {
				       // full: the readers are not reading either
			       }
		       },
		       "readers");
	close(fd);
	uint64_t want_records = 0;
	for (unsigned w = 0; w < st.nw; w++) {
		want_records += st.written[w];
		if (!st.broken && st.next[w] < st.written[w])
			st.fail("lost records: writer " + std::to_string(w) + " wrote " + std::to_string(st.written[w]) +
				", the readers got " + std::to_string(st.next[w]));
	}
	uint64_t got = st.bytes - (st.ended ? RECORD_MIN : 0);
	if (!st.ended && !st.broken && !st.give_up)
		st.fail("the end record never arrived");
	if (got < st.bytes_written)
		st.fail("lost bytes: " + std::to_string(st.bytes_written - got) + " of " +
			std::to_string(st.bytes_written) + " written were never read");
	else if (got > st.bytes_written)
		st.fail("duplicated bytes: " + std::to_string(got - st.bytes_written) + " more read than the " +
			std::to_string(st.bytes_written) + " written");
	if (!st.broken && !st.ended && !st.pending.empty())
		st.fail("a partial record of " + std::to_string(st.pending.size()) + " bytes at the end");
	printf("%s: %u writers, %u readers, %llu of %llu records, %llu bytes read, %llu written, EAGAIN full %llu / "
	       "empty %llu, %llu lost\n",
	       st.tag.substr(0, st.tag.size() - 2).c_str(), st.nw, st.nr, (unsigned long long)st.records,
	       (unsigned long long)want_records, (unsigned long long)got, (unsigned long long)st.bytes_written.load(),
	       (unsigned long long)st.full.load(), (unsigned long long)st.empty.load(),
	       (unsigned long long)(st.sh.lost - st.lost_before));
}

uint64_t PipeStress::records() const
{
	return s->records;
}

uint64_t PipeStress::bytes() const
{
	return s->bytes_written;
}

std::string PipeStress::json() const
{
	return "{\"writers\": " + std::to_string(s->nw) + ", \"readers\": " + std::to_string(s->nr) +
	       ", \"records\": " + std::to_string(s->records) + ", \"bytes\": " + std::to_string(s->bytes_written) +
	       ", \"eagain_full\": " + std::to_string(s->full) + ", \"eagain_empty\": " + std::to_string(s->empty) +
	       ", \"lost\": " + std::to_string(s->sh.lost - s->lost_before) + "}";
}

} // namespace rel::stress
