// fuzz_counter.cpp - kmodlab-fuzz: the counter model (the value, the kernel's
// strim + kstrtoll grammar and overflow, GET against read()).
#include "fuzz.hpp"

namespace rel::fuzz {

namespace {

// The kernel's strim() + kstrtoll(s, 10): the counter's write() grammar.
int parse_counter(const std::string &raw, long long *out)
{
	if (raw.find('\0') != std::string::npos)
		return EINVAL;
	auto sp = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; };
	size_t b = 0, e = raw.size();
	while (b < e && sp(raw[b]))
		b++;
	while (e > b && sp(raw[e - 1]))
		e--;
	std::string s = raw.substr(b, e - b);
	bool neg = false;
	size_t i = 0;
	if (i < s.size() && s[i] == '-') {
		neg = true;
		i++;
	} else if (i < s.size() && s[i] == '+') {
		i++;
	}
	if (i >= s.size())
		return EINVAL;
	// _parse_integer() takes the digits and flags overflow; _kstrtoull()
	// reports the overflow before it looks at what follows the digits.
	unsigned __int128 v = 0;
	bool overflow = false;
	size_t digits = 0;
	for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
		v = v * 10 + (s[i] - '0');
		if (v > (unsigned __int128)ULLONG_MAX)
			overflow = true, v = (unsigned __int128)ULLONG_MAX + 1;
	}
	if (overflow)
		return ERANGE;
	if (digits == 0 || i != s.size())
		return EINVAL;
	if (neg) {
		if (v > (unsigned __int128)LLONG_MAX + 1)
			return ERANGE;
		*out = v == (unsigned __int128)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
	} else {
		if (v > (unsigned __int128)LLONG_MAX)
			return ERANGE;
		*out = (long long)v;
	}
	return 0;
}

struct CounterFuzz : TextDevFuzz {
	long long value = 0;
	using TextDevFuzz::TextDevFuzz;

	bool setup()
	{
		path = node(COUNTER_NAME, variant);
		fd = open(path.c_str(), O_RDWR);
		if (fd < 0) {
			desc = "open";
			fail(path + ": " + strerror(errno));
			return false;
		}
		ioctl(fd, COUNTER_IOC_RESET);
		value = 0;
		return true;
	}
	void finish()
	{
		ioctl(fd, COUNTER_IOC_RESET);
		close(fd);
	}
	std::string text() const { return std::to_string(value) + "\n"; }

	std::string number_text()
	{
		static const std::vector<std::string> specials = {
			"9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
			"99999999999999999999999", "+", "-", "", "  ", "+-1", "-+1", "0x10", "1 2", "1\n\n", "\t7\v",
			"00000000000000000000000000000000000000000000000000000000000005", "1a", "--1", " +42 "
		};
		if (rng.chance(25))
			return rng.pick(specials);
		long long d = rng.chance(80) ? (long long)rng.below(2001) - 1000 : (long long)rng.next();
		std::string s = std::to_string(d);
		if (rng.chance(20))
			s = "+" + s;
		if (rng.chance(30))
			s += "\n";
		if (rng.chance(10))
			s = " " + s;
		if (rng.chance(5))
			s[rng.below(s.size())] = rng.chance(50) ? '\0' : 'x';
		return s;
	}

	void apply_write(const std::string &s, const Result &r, size_t count)
	{
		long long delta = 0, sum;
		int e = count == 0 || count > COUNTER_WRITE_MAX ? EINVAL : parse_counter(s, &delta);
		if (!e && __builtin_add_overflow(value, delta, &sum))
			e = ERANGE;
		if (e)
			return expect_err(r, e);
		expect_ok(r, (long)count);
		if (!r.err)
			value = sum;
	}

	void step()
	{
		unsigned op = rng.below(100);
		if (op < 35) { // write
			Ptr p = buf.pick(rng);
			std::string s = number_text();
			size_t n = s.size();
			if (rng.chance(5))
				n = rng.pick(std::vector<size_t>{ 0, COUNTER_WRITE_MAX, COUNTER_WRITE_MAX + 1, 4096, SIZE_MAX });
			if (p.writable >= s.size())
				memcpy(p.p, s.data(), s.size());
			desc = "write " + std::to_string(n) + " from " + kind_name(p.kind) + " " + json_str(s);
			vfs_check(p, n);
			Result r = sys([&] { return write(fd, p.p, n); });
			count(r);
			if (n > (1u << 20)) {
				allowed(r, { EFAULT, EINVAL });
				if (!r.err)
					fail("write of a huge count succeeded");
			} else if (pos_overflow(fpos, n)) {
				expect_err(r, EINVAL);
			} else if (n == 0 || n > COUNTER_WRITE_MAX) {
				expect_err(r, EINVAL);
			} else if (p.readable < n && !(p.kind == PtrKind::readonly && r.err != EFAULT)) {
				expect_err(r, EFAULT); // (a read-only page may be followed by a mapped one)
			} else {
				apply_write(std::string(p.p, n), r, n);
			}
		} else if (op < 60) { // read / pread
			step_read({ 0, 1, 2, COUNTER_TEXT_MAX - 1, COUNTER_TEXT_MAX, COUNTER_TEXT_MAX + 1, 4096 }, 64, 50,
				  { 0, 0, 0, 1, 5, 20, 21, 22, -1, LLONG_MAX }, text());
		} else if (op < 70) { // lseek: default_llseek, its errors only
			step_lseek({ 0, 0, 1, 5, -1, LLONG_MAX, LLONG_MIN, 21 });
		} else { // ioctl
			static const std::vector<unsigned> defined = { COUNTER_IOC_RESET, COUNTER_IOC_GET, COUNTER_IOC_SET };
			unsigned cmd = ioc_number(COUNTER_IOC_MAGIC, COUNTER_IOC_MAXNR, defined);
			Ptr p = buf.pick(rng);
			long long v = rng.chance(30) ? rng.pick(std::vector<long long>{ 0, 1, -1, LLONG_MAX, LLONG_MIN, LLONG_MAX - 5, LLONG_MIN + 5 })
						     : (long long)rng.below(100000) - 50000;
			if (p.writable >= sizeof(v))
				memcpy(p.p, &v, sizeof(v));
			char d[96];
			snprintf(d, sizeof(d), "ioctl %#x (%s)", cmd, kind_name(p.kind));
			desc = d;
			vfs_efault_ok = false;
			Result r = sys([&] { return ioctl(fd, cmd, p.p); });
			count(r);
			if (cmd == COUNTER_IOC_RESET) {
				expect_ok(r, 0);
				value = 0;
			} else if (cmd == COUNTER_IOC_SET) {
				// (a read-only page may be followed by a mapped one)
				if (p.readable < sizeof(v) && !(p.kind == PtrKind::readonly && !r.err))
					return expect_err(r, EFAULT);
				long long nv;
				memcpy(&nv, p.p, sizeof(nv));
				expect_ok(r, 0);
				if (!r.err)
					value = nv;
			} else if (cmd == COUNTER_IOC_GET) {
				if (p.writable < sizeof(v))
					return expect_err(r, EFAULT);
				expect_ok(r, 0);
				long long got;
				memcpy(&got, p.p, sizeof(got));
				if (!r.err && got != value)
					fail("GET returned " + std::to_string(got) + ", model " + std::to_string(value));
			} else {
				expect_err(r, ENOTTY);
			}
		}
	}
};

} // namespace

void fuzz_counter(const std::string &variant, uint64_t seed, uint64_t calls, Buffers &buf, Stats &st)
{
	fuzz_with<CounterFuzz>(COUNTER_NAME, variant, seed, calls, buf, st);
}

} // namespace rel::fuzz
