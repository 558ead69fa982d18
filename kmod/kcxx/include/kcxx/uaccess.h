/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/uaccess.h - user memory (Rust-for-Linux: kernel::uaccess).
 *
 * Invariants:
 *  - a user-space address is never a C++ pointer: UserPtr<T> and UserSlice
 *    hold it as a number, so it cannot be dereferenced by mistake (what
 *    sparse's __user checks in C);
 *  - every copy returns a Result: a bad address is errc::fault (-EFAULT),
 *    never a kernel fault, and a short copy is reported, not ignored;
 *  - the code is what C's inline helpers expand to on x86-64 Linux 6.1:
 *    get_user/put_user are the same `call __get_user_N`/`__put_user_N` with
 *    the same register constraints, copy_{to,from}_user the same
 *    check_copy_size() tests followed by __check_object_size (hardened
 *    usercopy) and the exported _copy_{to,from}_user.  No extra calls.
 */
#ifndef KCXX_UACCESS_H
#define KCXX_UACCESS_H

#include <kcxx/bindings.h>
#include <kcxx/error.h>

/* what ASM_CALL_CONSTRAINT names: tells GCC the asm makes a call, so the
 * frame is set up first (objtool checks this) */
register unsigned long kcxx_current_stack_pointer asm("rsp");

namespace kcxx {

namespace detail {
/* check_copy_size() of <linux/thread_info.h>, minus the compile-time
 * __bad_copy_* diagnostics (a constant overflow is a static error here). */
[[gnu::always_inline]] inline bool check_copy_size(const void *addr, usize bytes, bool is_source)
{
	int sz = __builtin_object_size(addr, 0);
	if (kcxx_unlikely(sz >= 0 && (usize)sz < bytes)) {
		if (!__builtin_constant_p(bytes))
			__copy_overflow(sz, bytes);
		return false;
	}
	if (kcxx_unlikely(bytes > (usize)KABI_INT_MAX))
		return false;
	if (!__builtin_constant_p(bytes))
		__check_object_size(addr, bytes, is_source);
	return true;
}
} // namespace detail

/* copy_from_user/copy_to_user: the number of bytes NOT copied. */
[[gnu::always_inline]] inline unsigned long copy_from_user(void *to, uptr from, unsigned long n)
{
	if (detail::check_copy_size(to, n, false))
		n = _copy_from_user(to, reinterpret_cast<const void *>(from), n);
	return n;
}
[[gnu::always_inline]] inline unsigned long copy_to_user(uptr to, const void *from, unsigned long n)
{
	if (detail::check_copy_size(from, n, true))
		n = _copy_to_user(reinterpret_cast<void *>(to), from, n);
	return n;
}

/* A __user pointer to one T. */
template <class T> class UserPtr {
	static_assert(trivially_copyable<T>);

public:
	constexpr explicit UserPtr(uptr addr) : addr_(addr) {}
	constexpr uptr addr() const { return addr_; }

	/* get_user(): one `call __get_user_N` for 1/2/4/8-byte T. */
	[[gnu::always_inline]] Result<T> read() const
	{
		if constexpr (sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8) {
			int ret;
			/* __inttype(): the unsigned type of T's size */
			using word = conditional_t<sizeof(T) == 1, u8,
				     conditional_t<sizeof(T) == 2, u16,
				     conditional_t<sizeof(T) == 4, u32, unsigned long>>>;
			register word val asm("rdx");
			asm volatile("call __get_user_%c[size]"
				     : "=a"(ret), "=r"(val), "+r"(kcxx_current_stack_pointer)
				     : "0"(addr_), [size] "i"(sizeof(T)));
			if (kcxx_unlikely(ret))
				return errc::fault;
			word w = val;
			return __builtin_bit_cast(T, w);
		} else {
			T out;
			if (copy_from_user(&out, addr_, sizeof(T)))
				return errc::fault;
			return out;
		}
	}

	/* put_user(): one `call __put_user_N` for 1/2/4/8-byte T. */
	[[gnu::always_inline]] Result<void> write(const T &v) const
	{
		if constexpr (sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8) {
			int ret;
			register T val asm("rax") = v;
			uptr p = addr_;
			asm volatile("call __put_user_%c[size]"
				     : "=c"(ret), "+r"(kcxx_current_stack_pointer)
				     : "0"(p), "r"(val), [size] "i"(sizeof(T))
				     : "ebx");
			/* __put_user_N's contract (arch/x86/lib/putuser.S): 0 or
			 * -EFAULT.  Telling GCC lets it return ret itself, as C's
			 * put_user() does, instead of rebuilding -EFAULT. */
			if (ret != 0 && ret != -EFAULT)
				__builtin_unreachable();
			if (kcxx_unlikely(ret))
				return Error::from_errno(ret);
			return ok();
		} else {
			if (copy_to_user(addr_, &v, sizeof(T)))
				return errc::fault;
			return ok();
		}
	}

private:
	uptr addr_;
};

/*
 * A __user buffer of `len` bytes, read or written front to back
 * (Rust-for-Linux: UserSlice, UserSliceReader, UserSliceWriter).
 *
 * Invariants:
 *  - a slice is turned into one Reader or one Writer and is consumed
 *    doing so (reader()/writer() exist only on an rvalue slice), and
 *    Readers/Writers cannot be copied: each user byte is fetched at most
 *    once through them (no double fetch: what user space changes between
 *    two reads can never be seen as "the same" data twice);
 *  - every read or write advances past the bytes it transferred, partial
 *    ones included, and none touches a byte outside [addr, addr + len):
 *    a request beyond what is left is clamped (partial) or -EFAULT (raw).
 */
class UserSlice {
public:
	constexpr UserSlice(uptr addr, usize len) : addr_(addr), len_(len) {}
	constexpr usize len() const { return len_; }

	/* What Reader and Writer share: the bytes not yet transferred
	 * [addr_, addr_ + left_), move-only (the no-double-fetch invariant). */
	class Cursor {
	public:
		Cursor(Cursor &&) = default;
		Cursor(const Cursor &) = delete;
		Cursor &operator=(const Cursor &) = delete;
		constexpr usize left() const { return left_; }
		/* Shorten the slice to at most n bytes (a driver's cap: size
		 * limits, quantum boundaries); what is cut off is never
		 * transferred. */
		[[gnu::always_inline]] void truncate(usize n) { left_ = n < left_ ? n : left_; }

	protected:
		constexpr Cursor(uptr a, usize n) : addr_(a), left_(n) {}
		[[gnu::always_inline]] usize clamp(usize n) const { return n < left_ ? n : left_; }
		[[gnu::always_inline]] void advance(usize n)
		{
			addr_ += n;
			left_ -= n;
		}
		uptr addr_;
		usize left_;
	};

	class Reader : public Cursor {
	public:
		/* Copy n bytes into dst; -EFAULT if any byte could not be read
		 * (then dst may hold a prefix and nothing is consumed). */
		[[gnu::always_inline]] Result<void> read_raw(void *dst, usize n)
		{
			if (kcxx_unlikely(n > left_))
				return errc::fault;
			if (kcxx_unlikely(copy_from_user(dst, addr_, n)))
				return errc::fault;
			advance(n);
			return ok();
		}
		/* copy_from_user() semantics for drivers that accept a short copy:
		 * the number of the min(n, left()) bytes NOT copied (the rest of
		 * them zeroed in dst); consumes the bytes copied. */
		[[gnu::always_inline]] usize read_partial(void *dst, usize n)
		{
			n = clamp(n);
			usize left = copy_from_user(dst, addr_, n);
			advance(n - left);
			return left;
		}
		/* Like read_partial, but bytes that could not be read leave dst
		 * untouched (copy_from_user zeroes them).  One call to a kcxx C
		 * helper (access_ok + __copy_from_user are C-only inlines). */
		[[gnu::always_inline]] usize read_partial_nozero(void *dst, usize n)
		{
			return read_rest_nozero(dst, clamp(n));
		}
		/* read_partial_nozero of everything left (dst holds left() bytes). */
		[[gnu::always_inline]] usize read_partial_nozero(void *dst)
		{
			return read_rest_nozero(dst, left_);
		}

	private:
		friend class UserSlice;
		constexpr Reader(uptr a, usize n) : Cursor(a, n) {}
		[[gnu::always_inline]] usize read_rest_nozero(void *dst, usize n)
		{
			usize left = kcxx_copy_from_user_nozero(dst, reinterpret_cast<const void *>(addr_), n);
			advance(n - left);
			return left;
		}
	};
	class Writer : public Cursor {
	public:
		[[gnu::always_inline]] Result<void> write_raw(const void *src, usize n)
		{
			if (kcxx_unlikely(n > left_))
				return errc::fault;
			if (kcxx_unlikely(copy_to_user(addr_, src, n)))
				return errc::fault;
			advance(n);
			return ok();
		}
		/* copy_to_user() semantics: the number of the min(n, left())
		 * bytes NOT copied; consumes the bytes copied. */
		[[gnu::always_inline]] usize write_partial(const void *src, usize n)
		{
			return write_rest(src, clamp(n));
		}
		/* write_partial of everything left (src holds left() bytes). */
		[[gnu::always_inline]] usize write_partial(const void *src) { return write_rest(src, left_); }
		/* simple_read_from_buffer(): copy from kernel buffer `from` of
		 * `avail` bytes at *pos; the bytes copied, pos advanced, and so is
		 * the writer. */
		Result<usize> read_from_buffer(loff_t &pos, const void *from, usize avail)
		{
			long r = simple_read_from_buffer(reinterpret_cast<void *>(addr_), left_, &pos,
							 from, avail);
			if (r < 0)
				return Error::from_errno((int)r);
			advance((usize)r);
			return (usize)r;
		}
		/* clear_user(): zero min(n, left()) bytes; the bytes NOT cleared
		 * (kcxx C helper); consumes the bytes cleared. */
		[[gnu::always_inline]] usize clear(usize n) { return clear_rest(clamp(n)); }
		/* clear everything left */
		[[gnu::always_inline]] usize clear() { return clear_rest(left_); }

	private:
		friend class UserSlice;
		constexpr Writer(uptr a, usize n) : Cursor(a, n) {}
		[[gnu::always_inline]] usize write_rest(const void *src, usize n)
		{
			usize left = copy_to_user(addr_, src, n);
			advance(n - left);
			return left;
		}
		[[gnu::always_inline]] usize clear_rest(usize n)
		{
			usize left = kcxx_clear_user(reinterpret_cast<void *>(addr_), n);
			advance(n - left);
			return left;
		}
	};
	/* Consume the slice: rvalue only (UserSlice(a, n).reader(), or
	 * kcxx::move(s).reader() once). */
	constexpr Reader reader() && { return Reader(addr_, len_); }
	constexpr Writer writer() && { return Writer(addr_, len_); }

private:
	uptr addr_;
	usize len_;
};

} // namespace kcxx

#endif
