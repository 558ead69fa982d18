/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/ioctl.h - constexpr ioctl command encoders and decoders.
 *
 * The bit layout (_IOC_*SHIFT, _IOC_READ, ...) comes from the kernel's
 * <linux/ioctl.h> (the generic layout x86 uses), never from numbers written
 * here, and the drivers static_assert their commands against the uapi macros:
 *
 *   static_assert(kcxx::ioctl::iow<u32>('q', 1) == LKP_ENC_IOC_WRITE_SEED);
 *
 * In C++ a driver can then switch on kcxx::ioctl::iow<...>(...) values; the
 * command table is settled at compile time, exactly like the C macros.
 *
 * Pure: compiles in the kernel and on the host.
 */
#ifndef KCXX_IOCTL_H
#define KCXX_IOCTL_H

#include <kcxx/types.h>
#include <linux/ioctl.h>

namespace kcxx::ioctl {

inline constexpr u32 dir_none = _IOC_NONE;
inline constexpr u32 dir_write = _IOC_WRITE;
inline constexpr u32 dir_read = _IOC_READ;

constexpr u32 ioc(u32 dir, u32 type, u32 nr, usize size)
{
	/* the C macro's _IOC_TYPECHECK, as a compile-time failure */
	if (size >= (1u << _IOC_SIZEBITS) || nr > _IOC_NRMASK || type > _IOC_TYPEMASK)
		__builtin_unreachable(); /* not a constant expression -> error */
	return (dir << _IOC_DIRSHIFT) | (type << _IOC_TYPESHIFT) |
	       (nr << _IOC_NRSHIFT) | (static_cast<u32>(size) << _IOC_SIZESHIFT);
}

constexpr u32 io(u32 type, u32 nr) { return ioc(dir_none, type, nr, 0); }
template <class T> constexpr u32 ior(u32 type, u32 nr) { return ioc(dir_read, type, nr, sizeof(T)); }
template <class T> constexpr u32 iow(u32 type, u32 nr) { return ioc(dir_write, type, nr, sizeof(T)); }
template <class T> constexpr u32 iowr(u32 type, u32 nr)
{
	return ioc(dir_read | dir_write, type, nr, sizeof(T));
}

constexpr u32 dir(u32 cmd) { return (cmd >> _IOC_DIRSHIFT) & _IOC_DIRMASK; }
constexpr u32 type(u32 cmd) { return (cmd >> _IOC_TYPESHIFT) & _IOC_TYPEMASK; }
constexpr u32 nr(u32 cmd) { return (cmd >> _IOC_NRSHIFT) & _IOC_NRMASK; }
constexpr u32 size(u32 cmd) { return (cmd >> _IOC_SIZESHIFT) & _IOC_SIZEMASK; }

} // namespace kcxx::ioctl

#endif
