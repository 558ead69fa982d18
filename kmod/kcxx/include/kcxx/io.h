/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/io.h - typed access to a mapped I/O window (Rust-for-Linux:
 * kernel::io::Io<SIZE>).
 *
 * IoMem<Size> is a window of Size bytes that kcxx mapped (pci::Bar is the
 * only maker: drivers cannot build one from an address).  Registers are
 * types (kcxx/regs.h):
 *
 *   u32 s = io.read<Seed>();              io.write<Seed>(s);
 *   io.write_at<Text>(i, 0);              i: a Text::Index, in range by type
 *   io.write_from<Text>(buf, n);          buf[0, n) -> Text[0, n), n a Bounded<M>
 *   auto n = io.read_until<Text>(buf, max, '\0');   up to max elements or a NUL
 *
 * Invariants:
 *  - every access is inside the window and naturally aligned: checked at
 *    compile time for a register (io::check_fits), and by the index or
 *    count type for an array element or run; there is no accessor taking a
 *    bare runtime offset;
 *  - an access is the exported generic-iomap call C drivers make on a
 *    pci_iomap()ed BAR (ioread8/ioread32/iowrite8/iowrite32, valid for
 *    memory and port BARs alike), one call per element, nothing else.
 */
#ifndef KCXX_IO_H
#define KCXX_IO_H

#include <kcxx/bindings.h>
#include <kcxx/error.h>
#include <kcxx/regs.h>

namespace kcxx {

namespace pci {
template <usize Size> class Bar;
}

namespace io::detail {
template <class T> [[gnu::always_inline]] inline T read(const void *addr)
{
	if constexpr (sizeof(T) == 1)
		return static_cast<T>(::ioread8(addr));
	else if constexpr (same_as<T, u32>)
		return ::ioread32(addr);
	else
		static_assert(same_as<T, u8>, "kcxx/io.h: add the ioread binding for this width");
}
template <class T> [[gnu::always_inline]] inline void write(T v, void *addr)
{
	if constexpr (sizeof(T) == 1)
		::iowrite8(static_cast<u8>(v), addr);
	else if constexpr (same_as<T, u32>)
		::iowrite32(v, addr);
	else
		static_assert(same_as<T, u8>, "kcxx/io.h: add the iowrite binding for this width");
}
} // namespace io::detail

template <usize Size> class IoMem {
public:
	template <class R> [[gnu::always_inline]] typename R::type read() const
	{
		static_assert(io::check_fits<R, Size>());
		return io::detail::read<typename R::type>(at(R::offset));
	}
	template <class R> [[gnu::always_inline]] void write(typename R::type v) const
	{
		static_assert(io::check_fits<R, Size>());
		io::detail::write(v, at(R::offset));
	}

	/* One element of register array A. */
	template <class A> [[gnu::always_inline]] typename A::type read_at(typename A::Index i) const
	{
		static_assert(io::check_fits<A, Size>());
		return io::detail::read<typename A::type>(elem<A>(i.get()));
	}
	template <class A>
	[[gnu::always_inline]] void write_at(typename A::Index i, typename A::type v) const
	{
		static_assert(io::check_fits<A, Size>());
		io::detail::write(v, elem<A>(i.get()));
	}

	/* src[0, n) into A[0, n), element by element.  The count's bound
	 * fits both the buffer and the array (checked at compile time). */
	template <class A, usize K, usize M>
	[[gnu::always_inline]] void write_from(const typename A::type (&src)[K], Bounded<M> n) const
	{
		static_assert(io::check_fits<A, Size>());
		static_assert(M <= K && M <= A::count, "kcxx: count bound exceeds the buffer or the array");
		for (usize i = 0; i < n.get(); i++)
			io::detail::write(src[i], elem<A>(i));
	}
	/* A[i] into dst[i] for i = 0, 1, ... until an element equals `stop`
	 * (stored too) or `max` elements were read: the number read before
	 * `stop` (max if none was). */
	template <class A, usize K, usize M>
	[[gnu::always_inline]] Bounded<M> read_until(typename A::type (&dst)[K], Bounded<M> max,
						     typename A::type stop) const
	{
		static_assert(io::check_fits<A, Size>());
		static_assert(M <= K && M <= A::count, "kcxx: count bound exceeds the buffer or the array");
		usize n;
		for (n = 0; n < max.get(); n++) {
			dst[n] = io::detail::read<typename A::type>(elem<A>(n));
			if (dst[n] == stop)
				break;
		}
		return Bounded<M>::clamp(n); /* n <= max <= M: no code */
	}

private:
	template <usize> friend class pci::Bar;
	/* Not copyable by drivers: a copy could outlive its Devres access. */
	IoMem(const IoMem &) = default;
	IoMem &operator=(const IoMem &) = delete;
	constexpr explicit IoMem(void *base) : base_(static_cast<u8 *>(base)) {}
	[[gnu::always_inline]] u8 *at(usize off) const { return base_ + off; }
	template <class A> [[gnu::always_inline]] u8 *elem(usize i) const
	{
		return base_ + A::offset + i * sizeof(typename A::type);
	}

	u8 *base_ = nullptr;
};

} // namespace kcxx

#endif
