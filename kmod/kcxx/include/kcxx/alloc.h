/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/alloc.h - fallible allocation (Rust-for-Linux: kernel::alloc).
 *
 * Invariants:
 *  - every allocation takes explicit GFP flags and can fail; failure is a
 *    null pointer or errc::nomem, never an exception;
 *  - `new (kcxx::gfp::kernel) T(...)` is the only allocating new-expression:
 *    the operator is noexcept, so the compiler checks for null before it
 *    constructs (no hidden throw, no hidden allocation elsewhere);
 *  - KBox<T> owns exactly one heap T and frees it in its destructor;
 *    KVec<T> owns a heap array whose growth is explicit (try_push).
 */
#ifndef KCXX_ALLOC_H
#define KCXX_ALLOC_H

#include <kcxx/bindings.h>
#include <kcxx/error.h>

namespace kcxx {

struct Gfp {
	kabi::gfp_t flags;
	constexpr Gfp operator|(Gfp o) const { return {flags | o.flags}; }
};
namespace gfp {
inline constexpr Gfp kernel{KABI_GFP_KERNEL};
inline constexpr Gfp atomic{KABI_GFP_ATOMIC};
inline constexpr Gfp zero{KABI_GFP_ZERO};
inline constexpr Gfp nowarn{KABI_GFP_NOWARN};
} // namespace gfp

inline void *kmalloc(usize size, Gfp g) { return __kmalloc(size, g.flags); }
inline void *kzalloc(usize size, Gfp g) { return __kmalloc(size, (g | gfp::zero).flags); }

/* Untyped heap blocks whose size is chosen at run time (scull's quanta of
 * an ioctl-chosen size; Rust: a KVec<u8> with that capacity).  bytes() is
 * null on failure; free() takes only what bytes() returned (or null). */
namespace alloc {
[[gnu::always_inline]] inline void *bytes(usize n, Gfp g) { return kmalloc(n, g); }
[[gnu::always_inline]] inline void free(void *p) { kfree(p); }
} // namespace alloc

} // namespace kcxx

/* The allocating new-expression: `new (gfp::kernel) T(args)`; null on failure. */
inline void *operator new(__SIZE_TYPE__ size, kcxx::Gfp g) noexcept { return kcxx::kmalloc(size, g); }
inline void *operator new[](__SIZE_TYPE__ size, kcxx::Gfp g) noexcept { return kcxx::kmalloc(size, g); }

namespace kcxx {

template <class T> class KBox {
public:
	constexpr KBox() = default;
	template <class... A> static Result<KBox> try_new(Gfp g, A &&...args)
	{
		T *p = new (g) T(kcxx::forward<A>(args)...);
		if (!p)
			return errc::nomem;
		return KBox(p);
	}
	KBox(KBox &&o) : p_(o.p_) { o.p_ = nullptr; }
	KBox &operator=(KBox &&o)
	{
		reset();
		p_ = o.p_;
		o.p_ = nullptr;
		return *this;
	}
	KBox(const KBox &) = delete;
	~KBox() { reset(); }

	T *get() const { return p_; }
	T *operator->() const { return p_; }
	T &operator*() const { return *p_; }
	explicit operator bool() const { return p_ != nullptr; }
	/* Give up ownership (e.g. to a kernel void *private_data). */
	T *into_raw()
	{
		T *p = p_;
		p_ = nullptr;
		return p;
	}
	static KBox from_raw(T *p) { return KBox(p); }
	void reset()
	{
		if (p_) {
			p_->~T();
			kfree(p_);
			p_ = nullptr;
		}
	}

private:
	explicit KBox(T *p) : p_(p) {}
	T *p_ = nullptr;
};

/* A growable array; growth is explicit and fallible. */
template <class T> class KVec {
public:
	constexpr KVec() = default;
	KVec(const KVec &) = delete;
	KVec(KVec &&o) : p_(o.p_), len_(o.len_), cap_(o.cap_) { o.p_ = nullptr; o.len_ = o.cap_ = 0; }
	~KVec()
	{
		clear();
		kfree(p_);
	}
	Result<void> try_reserve(usize cap, Gfp g)
	{
		if (cap <= cap_)
			return ok();
		if (cap > ~usize(0) / sizeof(T))
			return errc::nomem;
		T *n = static_cast<T *>(kmalloc(cap * sizeof(T), g));
		if (!n)
			return errc::nomem;
		for (usize i = 0; i < len_; i++) {
			new (&n[i]) T(kcxx::move(p_[i]));
			p_[i].~T();
		}
		kfree(p_);
		p_ = n;
		cap_ = cap;
		return ok();
	}
	Result<void> try_push(T v, Gfp g)
	{
		if (len_ == cap_)
			KCXX_TRY(try_reserve(cap_ ? cap_ * 2 : 4, g));
		new (&p_[len_++]) T(kcxx::move(v));
		return ok();
	}
	void clear()
	{
		while (len_)
			p_[--len_].~T();
	}
	usize size() const { return len_; }
	T &operator[](usize i) { return p_[i]; }
	T *begin() { return p_; }
	T *end() { return p_ + len_; }

private:
	T *p_ = nullptr;
	usize len_ = 0, cap_ = 0;
};

/* A fixed-size heap array whose elements are constructed in place and
 * never move (locks, registrations): kcalloc + placement new.
 * Invariant: exactly the constructed elements are destroyed, in reverse. */
template <class T> class KArray {
public:
	constexpr KArray() = default;
	KArray(const KArray &) = delete;
	~KArray() { reset(); }
	/* n elements, each constructed as T(args...) */
	template <class... A> Result<void> try_init(usize n, Gfp g, A &...args)
	{
		if (n > ~usize(0) / sizeof(T))
			return errc::nomem;
		p_ = static_cast<T *>(kzalloc(n * sizeof(T), g));
		if (!p_)
			return errc::nomem;
		if constexpr (sizeof...(A) == 0 && __is_trivially_constructible(T) &&
			      __has_trivial_destructor(T))
			len_ = n; /* all-zero bytes are T() (pointers, integers) */
		else
			for (; len_ < n; len_++)
				new (&p_[len_]) T(args...);
		return ok();
	}
	void reset()
	{
		while (len_)
			p_[--len_].~T();
		kfree(p_);
		p_ = nullptr;
	}
	usize size() const { return len_; }
	explicit operator bool() const { return p_ != nullptr; }
	T &operator[](usize i) { return p_[i]; }
	const T &operator[](usize i) const { return p_[i]; }

private:
	T *p_ = nullptr;
	usize len_ = 0;
};

/* A kmem_cache of the driver's own (leaks show as "Objects remaining" at
 * destroy).  Invariant: alloc() memory goes back through free() of the same
 * cache before the cache is destroyed. */
class KmemCache {
public:
	constexpr KmemCache() = default;
	KmemCache(const KmemCache &) = delete;
	~KmemCache() { destroy(); }
	Result<void> create(const char *name, unsigned size, unsigned align = 0, unsigned flags = 0)
	{
		c_ = kcxx_kmem_cache_create(name, size, align, flags, nullptr);
		return c_ ? ok() : Result<void>(errc::nomem);
	}
	/* hardened usercopy: copy_{to,from}_user may touch [off, off+size) */
	Result<void> create_usercopy(const char *name, unsigned size, unsigned align, unsigned flags,
				     unsigned useroffset, unsigned usersize)
	{
		c_ = kcxx_kmem_cache_create_usercopy(name, size, align, flags, useroffset, usersize, nullptr);
		return c_ ? ok() : Result<void>(errc::nomem);
	}
	explicit operator bool() const { return c_ != nullptr; }
	void destroy()
	{
		if (c_)
			kmem_cache_destroy(c_);
		c_ = nullptr;
	}
	void *alloc(Gfp g) { return kmem_cache_alloc(c_, g.flags); }
	void free(void *p) { kmem_cache_free(c_, p); }

private:
	kmem_cache *c_ = nullptr;
};

} // namespace kcxx

#endif
