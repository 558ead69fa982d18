/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/types.h - the freestanding basics kcxx needs instead of libstdc++:
 * fixed-width integers, move/forward and a few type traits.
 *
 * Pure: compiles in the kernel and on the host (tests/unit).
 */
#ifndef KCXX_TYPES_H
#define KCXX_TYPES_H

namespace kcxx {

using u8 = unsigned char;
using u16 = unsigned short;
using u32 = unsigned int;
using u64 = unsigned long long;
using s8 = signed char;
using s16 = short;
using s32 = int;
using s64 = long long;
using usize = __SIZE_TYPE__;
using isize = __PTRDIFF_TYPE__;
using uptr = __UINTPTR_TYPE__;
using loff_t = long long;
using ssize_t = long;

template <class T> struct remove_reference { using type = T; };
template <class T> struct remove_reference<T &> { using type = T; };
template <class T> struct remove_reference<T &&> { using type = T; };
template <class T> using remove_reference_t = typename remove_reference<T>::type;

template <class T> struct remove_cv { using type = T; };
template <class T> struct remove_cv<const T> { using type = T; };
template <class T> struct remove_cv<volatile T> { using type = T; };
template <class T> struct remove_cv<const volatile T> { using type = T; };
template <class T> using remove_cvref_t = typename remove_cv<remove_reference_t<T>>::type;

template <class T> constexpr remove_reference_t<T> &&move(T &&t) noexcept
{
	return static_cast<remove_reference_t<T> &&>(t);
}
template <class T> constexpr T &&forward(remove_reference_t<T> &t) noexcept
{
	return static_cast<T &&>(t);
}
template <class T> constexpr T &&forward(remove_reference_t<T> &&t) noexcept
{
	return static_cast<T &&>(t);
}

template <bool B, class T, class F> struct conditional { using type = T; };
template <class T, class F> struct conditional<false, T, F> { using type = F; };
template <bool B, class T, class F> using conditional_t = typename conditional<B, T, F>::type;

template <class A, class B> inline constexpr bool is_same_v = false;
template <class A> inline constexpr bool is_same_v<A, A> = true;
template <class A, class B> concept same_as = is_same_v<A, B> && is_same_v<B, A>;

template <class T>
concept trivially_copyable = __is_trivially_copyable(T);
template <class T> inline constexpr bool is_integral_v = false;
#define KCXX_INTEGRAL(t) template <> inline constexpr bool is_integral_v<t> = true;
KCXX_INTEGRAL(bool) KCXX_INTEGRAL(char) KCXX_INTEGRAL(signed char) KCXX_INTEGRAL(unsigned char)
KCXX_INTEGRAL(short) KCXX_INTEGRAL(unsigned short) KCXX_INTEGRAL(int) KCXX_INTEGRAL(unsigned int)
KCXX_INTEGRAL(long) KCXX_INTEGRAL(unsigned long) KCXX_INTEGRAL(long long)
KCXX_INTEGRAL(unsigned long long)
#undef KCXX_INTEGRAL
template <class T>
concept integral = is_integral_v<remove_cvref_t<T>>;
/* kernel style "unlikely" for C++ branches */
#define kcxx_likely(x) __builtin_expect(!!(x), 1)
#define kcxx_unlikely(x) __builtin_expect(!!(x), 0)

/* min/max of one type (the kernel's type-checked min()/max()). */
template <class T> constexpr T min(T a, T b) { return a < b ? a : b; }
template <class T> constexpr T max(T a, T b) { return a < b ? b : a; }

/* Storage for a T constructed later (module state, registrations):
 * constinit-able, no constructor runs at load time. */
template <class T> struct alignas(T) RawStorage {
	unsigned char bytes[sizeof(T)];
	T *get() { return reinterpret_cast<T *>(bytes); }
};

template <class T, usize N> constexpr usize array_size(const T (&)[N]) { return N; }

} // namespace kcxx

/* Placement new without <new>: the only operator new kcxx defines that
 * cannot fail.  Fallible allocation is kcxx/alloc.h.  (Host unit tests have
 * libstdc++, whose <new> defines the same operators.) */
#ifdef __KERNEL__
inline void *operator new(__SIZE_TYPE__, void *p) noexcept { return p; }
inline void operator delete(void *, void *) noexcept {}
#else
#include <new>
#endif

#endif
