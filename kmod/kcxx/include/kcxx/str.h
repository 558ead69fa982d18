/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/str.h - text in kernel buffers: formatting, parsing, matching
 * (Rust-for-Linux: kernel::str, kernel::fmt).
 *
 * Invariants: the destination of a format is a char array whose size the
 * compiler knows (no pointer + length pairs to get wrong), the result is
 * the length written (scnprintf: never more than the array holds minus the
 * NUL); parse errors are Results.  Each is the same single library call a
 * C driver makes (scnprintf, kstrtoll, strim, memchr, match_string).
 */
#ifndef KCXX_STR_H
#define KCXX_STR_H

#include <kcxx/bindings.h>
#include <kcxx/error.h>

namespace kcxx::str {

template <usize N> constexpr usize array_bytes(char (&)[N]) { return N; }

/* Whether byte c occurs in the first n bytes of s. */
[[gnu::always_inline]] inline bool contains(const char *s, usize n, char c)
{
	return memchr(s, c, n) != nullptr;
}

/* "  [+-]digits  " in base 10 (leading/trailing white space trimmed in
 * place): the number, or kstrtoll's -EINVAL/-ERANGE. */
[[gnu::always_inline]] inline Result<s64> parse_s64(char *text)
{
	long long v;
	if (int err = kstrtoll(strim(text), 10, &v))
		return Error::from_errno(err);
	return (s64)v;
}

/* The index of s in array, or -EINVAL. */
template <usize N> inline Result<usize> match(const char *const (&array)[N], const char *s)
{
	int i = match_string(array, N, s);
	if (i < 0)
		return Error::from_errno(i);
	return (usize)i;
}

} // namespace kcxx::str

/* scnprintf() into a char array (size from its type), printf-checked: the
 * length written.  A macro so that -Wformat sees the literal format. */
#define KCXX_FORMAT(buf, fmt, ...) \
	((::kcxx::usize)scnprintf(buf, ::kcxx::str::array_bytes(buf), fmt, ##__VA_ARGS__))

#endif
