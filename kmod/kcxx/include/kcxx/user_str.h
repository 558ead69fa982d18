/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/user_str.h - NUL-terminated strings in user memory
 * (Rust-for-Linux: UserSliceReader::strcpy_into_buf).
 *
 *   char text[256];
 *   auto len = KCXX_TRY(UserCStr(arg).copy_into(text));   // Bounded<255>
 *
 * Invariants:
 *  - the user address is a number (never a C++ pointer), as in
 *    kcxx/uaccess.h;
 *  - the destination is a char array whose size the compiler knows, and
 *    on success it holds the string and its NUL; the length is a
 *    Bounded<N - 1> (kcxx/bounded.h), so code indexing with it, or writing
 *    it to a register array, needs no further range check;
 *  - a bad address is errc::fault; a string with no NUL within N bytes is
 *    the caller's `too_long` error (errc::inval unless given), never a
 *    silently truncated string.
 * The copy is strncpy_from_user(), the single call C drivers make.
 */
#ifndef KCXX_USER_STR_H
#define KCXX_USER_STR_H

#include <kcxx/bindings.h>
#include <kcxx/bounded.h>
#include <kcxx/error.h>

namespace kcxx {

class UserCStr {
public:
	constexpr explicit UserCStr(uptr addr) : addr_(addr) {}

	template <usize N>
	[[gnu::always_inline]] Result<void> copy_into(char (&buf)[N], Bounded<N - 1> &len,
						      Error too_long = errc::inval) const
	{
		static_assert(N > 0);
		long n = strncpy_from_user(buf, reinterpret_cast<const char *>(addr_), N);
		if (kcxx_unlikely(n < 0))
			return errc::fault;
		if (kcxx_unlikely((usize)n > N - 1))
			return too_long;
		len = Bounded<N - 1>::clamp((usize)n); /* n <= N - 1: no code */
		return ok();
	}

private:
	uptr addr_;
};

} // namespace kcxx

#endif
