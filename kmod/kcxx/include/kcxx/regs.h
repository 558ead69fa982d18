/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/regs.h - register maps as types (Rust-for-Linux: the compile-time
 * offsets of kernel::io::Io, register!()).
 *
 *   using Seed = io::Reg<LKP_ENC_REG_SEED, u32>;                    one register
 *   using Text = io::RegArray<LKP_ENC_REG_STRING, u8, LKP_ENC_STRING_SIZE>;  N of them
 *
 * A register's offset and width are part of its type, so an access names
 * the register, never a number.  Invariant: kcxx/io.h's IoMem<Size> accepts
 * a register only when io::check_fits<R, Size>() holds, i.e. the register
 * lies entirely inside the Size-byte window and is naturally aligned;
 * otherwise the build fails with one of the messages below.  An element
 * of a RegArray is addressed by a Bounded<N - 1> index (kcxx/bounded.h),
 * so it is in range by construction, and a run of elements from the first
 * by a Bounded<M> count with M <= N.
 *
 * Pure: compiles in the kernel and on the host (tests/unit check the
 * messages with must-not-compile cases).
 */
#ifndef KCXX_REGS_H
#define KCXX_REGS_H

#include <kcxx/bounded.h>

namespace kcxx::io {

/* The types a register can have: its width (char: a byte register holding
 * text, so a char buffer needs no cast). */
template <class T>
concept RegWidth = same_as<T, char> || same_as<T, u8> || same_as<T, u16> || same_as<T, u32> ||
		   same_as<T, u64>;

template <usize Off, RegWidth T> struct Reg {
	using type = T;
	static constexpr usize offset = Off;
	static constexpr usize bytes = sizeof(T);
};

template <usize Off, RegWidth T, usize N> struct RegArray {
	static_assert(N > 0, "kcxx: a register array needs at least one element");
	using type = T;
	static constexpr usize offset = Off;
	static constexpr usize count = N;
	static constexpr usize bytes = N * sizeof(T);
	using Index = Bounded<N - 1>; /* an element that exists */
};

/* Register (array) R inside a window of Size bytes, naturally aligned. */
template <class R, usize Size> constexpr bool check_fits()
{
	static_assert(R::offset <= Size && R::bytes <= Size - R::offset,
		      "kcxx: register lies (partly) outside its I/O window");
	static_assert(R::offset % sizeof(typename R::type) == 0,
		      "kcxx: register offset is not a multiple of its width");
	return true;
}

} // namespace kcxx::io

#endif
