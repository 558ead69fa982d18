/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/io.h - MMIO (Rust-for-Linux: kernel::io_mem).
 *
 * IoMem<Size> is a mapped region of a compile-time size.  Invariants:
 *  - an access at a constant offset is range-checked at compile time
 *    (read8<Off>() fails to build past the end), a runtime offset is checked
 *    and gives errc::inval;
 *  - readb/readl/writeb/writel emit the instruction x86's <asm/io.h> emits
 *    (a volatile mov with a "memory" clobber), inline, no call;
 *    ioread8/iowrite8 are the exported generic-iomap calls, for drivers whose
 *    C twin uses them.
 */
#ifndef KCXX_IO_H
#define KCXX_IO_H

#include <kcxx/bindings.h>
#include <kcxx/error.h>

namespace kcxx {

namespace mmio {
[[gnu::always_inline]] inline u8 readb(const volatile void *a)
{
	u8 v;
	asm volatile("movb %1,%0" : "=q"(v) : "m"(*(const volatile u8 *)a) : "memory");
	return v;
}
[[gnu::always_inline]] inline u32 readl(const volatile void *a)
{
	u32 v;
	asm volatile("movl %1,%0" : "=r"(v) : "m"(*(const volatile u32 *)a) : "memory");
	return v;
}
[[gnu::always_inline]] inline void writeb(u8 v, volatile void *a)
{
	asm volatile("movb %0,%1" : : "q"(v), "m"(*(volatile u8 *)a) : "memory");
}
[[gnu::always_inline]] inline void writel(u32 v, volatile void *a)
{
	asm volatile("movl %0,%1" : : "r"(v), "m"(*(volatile u32 *)a) : "memory");
}
} // namespace mmio

template <usize Size> class IoMem {
public:
	constexpr IoMem() = default;
	constexpr explicit IoMem(void *base) : base_(static_cast<u8 *>(base)) {}
	void *base() const { return base_; }
	explicit operator bool() const { return base_ != nullptr; }

	template <usize Off> u8 readb() const
	{
		static_assert(Off + 1 <= Size);
		return mmio::readb(base_ + Off);
	}
	template <usize Off> u32 readl() const
	{
		static_assert(Off + 4 <= Size && Off % 4 == 0);
		return mmio::readl(base_ + Off);
	}
	template <usize Off> void writeb(u8 v) const
	{
		static_assert(Off + 1 <= Size);
		mmio::writeb(v, base_ + Off);
	}
	template <usize Off> void writel(u32 v) const
	{
		static_assert(Off + 4 <= Size && Off % 4 == 0);
		mmio::writel(v, base_ + Off);
	}
	/* runtime offsets */
	Result<u8> try_readb(usize off) const
	{
		if (kcxx_unlikely(off >= Size))
			return errc::inval;
		return mmio::readb(base_ + off);
	}
	Result<void> try_writeb(usize off, u8 v) const
	{
		if (kcxx_unlikely(off >= Size))
			return errc::inval;
		mmio::writeb(v, base_ + off);
		return ok();
	}
	/* generic iomap accessors (one exported call each, like C's ioread8) */
	u8 ioread8(usize off) const { return static_cast<u8>(::ioread8(base_ + off)); }
	u32 ioread32(usize off) const { return ::ioread32(base_ + off); }
	void iowrite8(u8 v, usize off) const { ::iowrite8(v, base_ + off); }
	void iowrite32(u32 v, usize off) const { ::iowrite32(v, base_ + off); }

private:
	u8 *base_ = nullptr;
};

} // namespace kcxx

#endif
