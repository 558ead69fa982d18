/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/bounded.h - a count with a compile-time upper bound.
 *
 * Bounded<N> holds a usize in [0, N].  Invariant: no Bounded<N> ever holds
 * more than N; the only ways to make one are
 *   - Bounded<N>::clamp(n)       min(n, N): what C's min_t() does;
 *   - Bounded<N>::check(n, err)  n, or `err` when n > N;
 *   - Bounded<N>::constant<V>()  V, checked at compile time;
 *   - widening a Bounded<M> with M <= N (implicit, free).
 * An accessor that takes a Bounded<N> therefore needs no range check of its
 * own (kcxx/io.h's register arrays, kcxx/user_str.h's string lengths): the
 * check happened, once, where the value was made, usually where C has it
 * too, and when the compiler can see it is true it costs nothing at all.
 *
 * Pure: compiles in the kernel and on the host (tests/unit).
 */
#ifndef KCXX_BOUNDED_H
#define KCXX_BOUNDED_H

#include <kcxx/error.h>

namespace kcxx {

template <usize N> class Bounded {
public:
	static constexpr usize max = N;

	constexpr Bounded() = default;
	/* Widening: a count <= M <= N is a count <= N. */
	template <usize M>
		requires(M <= N)
	constexpr Bounded(Bounded<M> o) : v_(o.get())
	{
	}

	[[gnu::always_inline]] static constexpr Bounded clamp(usize n) { return Bounded(n < N ? n : N); }
	[[gnu::always_inline]] static constexpr Result<Bounded> check(usize n, Error too_big)
	{
		if (kcxx_unlikely(n > N))
			return too_big;
		return Bounded(n);
	}
	template <usize V> static constexpr Bounded constant()
	{
		static_assert(V <= N, "kcxx: Bounded<N>::constant<V>() with V > N");
		return Bounded(V);
	}

	[[gnu::always_inline]] constexpr usize get() const
	{
		/* Tell the optimiser what the invariant guarantees. */
		if (v_ > N)
			__builtin_unreachable();
		return v_;
	}

private:
	constexpr explicit Bounded(usize v) : v_(v) {}
	usize v_ = 0;
};

} // namespace kcxx

#endif
