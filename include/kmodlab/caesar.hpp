// caesar.hpp - the reference model of the lkp_enc device's cipher (its
// QEMU model is vm/qemu/lkp_enc.c; the drivers only pass strings through):
// ASCII letters shift by seed % 26 within their case, every other byte is
// kept.  The one copy every checker compares the device against
// (kmodlab-load --check, kmodlab-gbench, the conformance, device and
// reliability tests).
#pragma once

#include <cstdint>
#include <string>

namespace kmodlab {

// One byte as the device encrypts it with this seed.
constexpr char caesar_char(char ch, uint32_t seed)
{
	const unsigned k = seed % 26;
	const unsigned char c = static_cast<unsigned char>(ch);
	if (c >= 'A' && c <= 'Z')
		return static_cast<char>('A' + (c - 'A' + k) % 26);
	if (c >= 'a' && c <= 'z')
		return static_cast<char>('a' + (c - 'a' + k) % 26);
	return ch;
}

// A string as the device encrypts it; caesar(caesar(s, k), 26 - k % 26) == s.
inline std::string caesar(const std::string &in, uint32_t seed)
{
	std::string out = in;
	for (auto &ch : out)
		ch = caesar_char(ch, seed);
	return out;
}

}  // namespace kmodlab
