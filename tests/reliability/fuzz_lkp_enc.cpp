// fuzz_lkp_enc.cpp - kmodlab-fuzz: the lkp_enc model (seed register, ciphertext
// encrypted with the seed of the moment it was written, strings without NUL).
#include "fuzz.hpp"

namespace rel::fuzz {

namespace {

struct LkpEncFuzz : TextDevFuzz {
	uint32_t seed_reg = 0;
	// The device encrypts when the string is written, with the seed of
	// that moment: the model keeps the ciphertext.
	std::string enc;
	using TextDevFuzz::TextDevFuzz;

	std::string cipher() const { return enc; }
	void stored(const char *p, size_t n) { enc = caesar(std::string(p, strnlen(p, n)), seed_reg); }

	bool setup()
	{
		path = node(LKP_ENC_NAME, variant);
		fd = open(path.c_str(), O_RDWR);
		if (fd < 0) {
			desc = "open";
			fail(path + ": " + strerror(errno));
			return false;
		}
		uint32_t s = 0;
		ioctl(fd, LKP_ENC_IOC_WRITE_SEED, &s);
		ioctl(fd, LKP_ENC_IOC_WRITE_STRING, "");
		seed_reg = 0;
		enc.clear();
		return true;
	}
	void finish() { close(fd); }

	std::string random_text(size_t n)
	{
		static const std::string letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,!-";
		std::string s(n, 'a');
		for (auto &c : s)
			c = rng.chance(2) ? static_cast<char>(rng.below(255) + 1) : letters[rng.below(letters.size())];
		return s;
	}

	void step()
	{
		unsigned op = rng.below(100);
		if (op < 25) { // write(): stores min(count, 255) bytes
			Ptr p = buf.pick(rng);
			size_t n = size_from({ 0, 1, LKP_ENC_STRING_MAX - 1, LKP_ENC_STRING_MAX, LKP_ENC_STRING_SIZE, 4096 }, 300);
			std::string s = random_text(std::min<size_t>(n, 300));
			if (rng.chance(3) && !s.empty())
				s[rng.below(s.size())] = '\0';
			if (p.writable >= s.size())
				memcpy(p.p, s.data(), s.size());
			desc = "write " + std::to_string(n) + " from " + kind_name(p.kind);
			vfs_check(p, n);
			Result r = sys([&] { return write(fd, p.p, n); });
			count(r);
			size_t eff = std::min<size_t>(n, LKP_ENC_STRING_MAX);
			if (n > (1u << 20)) {
				if (!allowed(r, { EFAULT, EINVAL }))
					return;
				if (r.err)
					return;
			} else if (pos_overflow(fpos, n)) {
				return expect_err(r, EINVAL);
			} else if (p.readable < eff) {
				// A read-only page may be followed by a mapped one.
				if (p.kind == PtrKind::readonly && !r.err)
					expect_ok(r, (long)eff);
				else
					return expect_err(r, EFAULT);
			} else {
				expect_ok(r, (long)eff);
			}
			if (!r.err)
				stored(p.p, eff);
		} else if (op < 45) { // read / pread
			step_read({ 0, 1, LKP_ENC_STRING_MAX, LKP_ENC_STRING_SIZE, 4096 }, 300, 60,
				  { 0, 0, 0, 1, 100, 254, 255, 256, -1, LLONG_MAX }, cipher());
		} else if (op < 50) {
			step_lseek({ 0, 0, 1, 255, -1, LLONG_MAX, LLONG_MIN });
		} else {
			do_ioctl();
		}
	}

	void do_ioctl()
	{
		static const std::vector<unsigned> defined = { LKP_ENC_IOC_WRITE_SEED, LKP_ENC_IOC_READ_SEED,
								LKP_ENC_IOC_WRITE_STRING, LKP_ENC_IOC_READ_STRING };
		unsigned cmd = ioc_number(LKP_ENC_IOC_MAGIC, 4, defined);
		Ptr p = buf.pick(rng);
		char d[96];
		snprintf(d, sizeof(d), "ioctl %#x (%s)", cmd, kind_name(p.kind));
		desc = d;
		vfs_efault_ok = false;
		if (cmd == LKP_ENC_IOC_WRITE_SEED) {
			uint32_t s = rng.chance(30) ? rng.pick(std::vector<uint32_t>{ 0, 1, 25, 26, 27, UINT32_MAX }) : (uint32_t)rng.next();
			if (p.writable >= 4)
				memcpy(p.p, &s, 4);
			Result r = sys([&] { return ioctl(fd, cmd, p.p); });
			count(r);
			if (p.readable < 4 && !(p.kind == PtrKind::readonly && !r.err))
				return expect_err(r, EFAULT);
			expect_ok(r, 0);
			if (!r.err)
				memcpy(&seed_reg, p.p, 4);
		} else if (cmd == LKP_ENC_IOC_READ_SEED) {
			Result r = sys([&] { return ioctl(fd, cmd, p.p); });
			count(r);
			if (p.writable < 4)
				return expect_err(r, EFAULT);
			expect_ok(r, 0);
			uint32_t got;
			memcpy(&got, p.p, 4);
			if (!r.err && got != seed_reg)
				fail("READ_SEED gave " + std::to_string(got) + ", model " + std::to_string(seed_reg));
		} else if (cmd == LKP_ENC_IOC_WRITE_STRING) {
			// A NUL somewhere in (or past) 256 bytes, or none.
			size_t len = rng.chance(10) ? LKP_ENC_STRING_SIZE + rng.below(10) : rng.below(LKP_ENC_STRING_SIZE);
			std::string s = random_text(len);
			for (auto &c : s)
				if (!c)
					c = 'z';
			if (p.writable > 0) {
				size_t n = std::min(p.writable, s.size());
				memcpy(p.p, s.data(), n);
				if (p.writable > s.size())
					p.p[s.size()] = '\0';
			}
			Result r = sys([&] { return ioctl(fd, cmd, p.p); });
			count(r);
			// What strncpy_from_user sees: bytes up to a NUL, a fault or 256.
			size_t room = std::min<size_t>(p.readable, LKP_ENC_STRING_SIZE);
			const char *nul = room ? static_cast<const char *>(memchr(p.p, 0, room)) : nullptr;
			if (nul) {
				expect_ok(r, 0);
				if (!r.err)
					stored(p.p, nul - p.p);
			} else if (room == LKP_ENC_STRING_SIZE) {
				expect_err(r, EINVAL);
			} else if (p.kind == PtrKind::readonly) {
				// the page after may be mapped: any of the three, and a
				// success stored what the kernel could read
				if (allowed(r, { EFAULT, EINVAL }) && !r.err)
					stored(p.p, LKP_ENC_STRING_SIZE);
			} else {
				expect_err(r, EFAULT);
			}
		} else if (cmd == LKP_ENC_IOC_READ_STRING) {
			Result r = sys([&] { return ioctl(fd, cmd, p.p); });
			count(r);
			std::string want = cipher();
			if (p.writable < want.size() + 1)
				return expect_err(r, EFAULT);
			expect_ok(r, 0);
			if (!r.err && std::string(p.p) != want)
				fail("READ_STRING gave " + json_str(std::string(p.p)) + ", Caesar reference " + json_str(want));
		} else {
			Result r = sys([&] { return ioctl(fd, cmd, p.p); });
			count(r);
			expect_err(r, ENOTTY);
		}
	}
};

} // namespace

void fuzz_lkp_enc(const std::string &variant, uint64_t seed, uint64_t calls, Buffers &buf, Stats &st)
{
	fuzz_with<LkpEncFuzz>(LKP_ENC_NAME, variant, seed, calls, buf, st);
}

} // namespace rel::fuzz
