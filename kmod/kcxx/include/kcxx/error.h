/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/error.h - Error and Result<T>: the kernel's "negative errno" convention
 * as types (Rust-for-Linux: kernel::error).
 *
 * Invariants:
 *  - an Error always holds a negative errno in [-MAX_ERRNO, -1];
 *  - a Result<T> holds exactly one of a T or an Error, and is [[nodiscard]]:
 *    an ignored failure is a compile warning (-Werror in CI);
 *  - no allocation, no exceptions: a Result<int> or Result<void> is returned
 *    in registers (checked in the disassembly: Result<long> is {long, bool}).
 *
 * Propagate with KCXX_TRY(expr): evaluates to the value, or returns the Error
 * from the enclosing function (which must return a Result or an Error).
 *
 * Pure: compiles in the kernel and on the host.
 */
#ifndef KCXX_ERROR_H
#define KCXX_ERROR_H

#include <kcxx/types.h>
#include <kcxx/errno.h>

namespace kcxx {

#ifdef __KERNEL__
/* Called only when a constant out-of-range errno reaches from_errno: the
 * error attribute makes that a compile error at the call site. */
extern "C" void kcxx_from_errno_out_of_range()
	__attribute__((error("Error::from_errno: not a negative errno in [-MAX_ERRNO, -1]")));
#else
inline void kcxx_from_errno_out_of_range() {}
#endif

template <class T> class Result;

class Error {
public:
	static constexpr int max_errno = 4095; /* MAX_ERRNO (kcxx_kabi.h: KABI_MAX_ERRNO) */
	static constexpr bool in_range(int e) { return e < 0 && e >= -max_errno; }

	/*
	 * From a negative errno in [-MAX_ERRNO, -1].  Out of range: in a
	 * constant expression (errc::, static_assert) the program does not
	 * compile; a compile-time-known argument after inlining is a compile
	 * error too (kcxx_from_errno_out_of_range); a value known only at run
	 * time becomes -EINVAL, as Rust-for-Linux's Error::from_errno does,
	 * so an Error never holds 0 or a positive number.
	 */
	[[gnu::always_inline]] static constexpr Error from_errno(int e)
	{
		if (__builtin_is_constant_evaluated()) {
			if (!in_range(e))
				not_an_errno(); /* not constexpr: stops constant evaluation */
			return Error(e);
		}
		if (__builtin_constant_p(e) && !in_range(e))
			kcxx_from_errno_out_of_range();
		return Error(kcxx_likely(in_range(e)) ? e : -EINVAL);
	}
	constexpr int to_errno() const { return code_; }
	constexpr long to_long() const { return code_; }
	constexpr bool operator==(const Error &o) const = default;

private:
	constexpr explicit Error(int e) : code_(e) {}
	static void not_an_errno() {}
	friend class Result<void>; /* rebuilds the Error it stored */
	int code_;
};

/* The codes drivers use, by the lower-case name of their errno macro. */
namespace errc {
inline constexpr Error perm = Error::from_errno(-EPERM);
inline constexpr Error noent = Error::from_errno(-ENOENT);
inline constexpr Error intr = Error::from_errno(-EINTR);
inline constexpr Error io = Error::from_errno(-EIO);
inline constexpr Error nxio = Error::from_errno(-ENXIO);
inline constexpr Error again = Error::from_errno(-EAGAIN);
inline constexpr Error nomem = Error::from_errno(-ENOMEM);
inline constexpr Error fault = Error::from_errno(-EFAULT);
inline constexpr Error busy = Error::from_errno(-EBUSY);
inline constexpr Error exist = Error::from_errno(-EEXIST);
inline constexpr Error nodev = Error::from_errno(-ENODEV);
inline constexpr Error inval = Error::from_errno(-EINVAL);
inline constexpr Error nospc = Error::from_errno(-ENOSPC);
inline constexpr Error range = Error::from_errno(-ERANGE);
inline constexpr Error notty = Error::from_errno(-ENOTTY);
inline constexpr Error overflow = Error::from_errno(-EOVERFLOW);
inline constexpr Error restartsys = Error::from_errno(-ERESTARTSYS);
} // namespace errc

template <class T> class [[nodiscard]] Result {
public:
	constexpr Result(const T &v) : val_(v), ok_(true) {}
	constexpr Result(T &&v) : val_(kcxx::move(v)), ok_(true) {}
	constexpr Result(Error e) : err_(e), ok_(false) {}
	/* For a trivially copyable T (long, pointers, ...) the move and the
	 * destructor are trivial, so a Result<T> is returned in two registers
	 * even from a function that is not inlined (the ABI passes a class
	 * with a non-trivial move or destructor through memory). */
	Result(Result &&o)
		requires trivially_copyable<T>
	= default;
	Result(Result &&o)
		requires(!trivially_copyable<T>)
		: ok_(o.ok_)
	{
		if (ok_)
			new (&val_) T(kcxx::move(o.val_));
		else
			err_ = o.err_;
	}
	Result(const Result &) = delete;
	Result &operator=(const Result &) = delete;
	~Result()
		requires trivially_copyable<T>
	= default;
	~Result()
		requires(!trivially_copyable<T>)
	{
		if (ok_)
			val_.~T();
	}

	constexpr bool ok() const { return ok_; }
	constexpr explicit operator bool() const { return ok_; }
	constexpr Error error() const { return err_; }
	T &value() & { return val_; }
	const T &value() const & { return val_; }
	/* Move the value out; the Result must be ok(). */
	T take() { return kcxx::move(val_); }
	T value_or(T dflt) const { return ok_ ? val_ : dflt; }

private:
	union {
		T val_;
		Error err_;
	};
	bool ok_;
};

/* Result<void> is the C convention itself: 0 or a negative errno in one int
 * (returned in one register).  Invariant: code_ is 0 (ok) or an Error's
 * errno; no Error with errno 0 is ever made. */
template <> class [[nodiscard]] Result<void> {
public:
	constexpr Result() : code_(0) {}
	constexpr Result(Error e) : code_(e.to_errno()) {}
	constexpr bool ok() const { return code_ == 0; }
	constexpr explicit operator bool() const { return code_ == 0; }
	/* Precondition: !ok(). */
	constexpr Error error() const { return Error(code_); }
	void take() {}

private:
	int code_;
};

inline constexpr Result<void> ok() { return {}; }

/* A kernel "0 or negative errno" return as a Result (Rust's to_result). */
constexpr Result<void> to_result(int ret)
{
	return ret < 0 ? Result<void>(Error::from_errno(ret)) : Result<void>();
}

/* A Result<T> for the C ABI: a non-negative value or a negative errno. */
template <class T> constexpr long to_errno_long(const Result<T> &r)
{
	return r.ok() ? static_cast<long>(r.value()) : r.error().to_long();
}
inline constexpr long to_errno_long(const Result<void> &r)
{
	return r.ok() ? 0 : r.error().to_long();
}

/* Checked arithmetic (Rust's checked_add/_sub/_mul, the kernel's
 * check_*_overflow): the exact result, or `on_overflow` when it does not
 * fit in T.  One add/sub/mul and a jo, as in C. */
template <class T> [[gnu::always_inline]] constexpr Result<T> checked_add(T a, T b, Error on_overflow)
{
	T r;
	if (kcxx_unlikely(__builtin_add_overflow(a, b, &r)))
		return on_overflow;
	return r;
}
template <class T> [[gnu::always_inline]] constexpr Result<T> checked_sub(T a, T b, Error on_overflow)
{
	T r;
	if (kcxx_unlikely(__builtin_sub_overflow(a, b, &r)))
		return on_overflow;
	return r;
}
template <class T> [[gnu::always_inline]] constexpr Result<T> checked_mul(T a, T b, Error on_overflow)
{
	T r;
	if (kcxx_unlikely(__builtin_mul_overflow(a, b, &r)))
		return on_overflow;
	return r;
}

} // namespace kcxx

/* Evaluate a Result; on error return the Error from the current function. */
#define KCXX_TRY(expr)                                           \
	({                                                       \
		auto kcxx_try_r_ = (expr);                       \
		if (kcxx_unlikely(!kcxx_try_r_.ok()))            \
			return kcxx_try_r_.error();              \
		kcxx_try_r_.take();                              \
	})

#endif
