/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/vtable.h - the compile-time file_operations table (Rust-for-Linux:
 * #[vtable] plus MiscdeviceVTable<T>::VTABLE).
 *
 * A driver is a type T with static member functions for the operations it
 * implements (the FileOperations concept in kcxx/fs.h names them).  The
 * macro
 *
 *     KCXX_FILE_OPERATIONS(T, scull_cxx, , llseek, read, write, unlocked_ioctl, open, release)
 *
 * defines one extern "C" entry point per listed operation, named
 * <prefix>_<op><suffix> (scull_cxx_read ...), whose body is T's function
 * inlined into it, and kcxx::fs::vtable<T> is then a constant
 * file_operations in .rodata holding exactly those entry points and null
 * for everything else.
 *
 * Invariants (static_asserts):
 *  - an operation is in the table iff T implements it: listing an operation
 *    T lacks, or implementing one without listing it, fails the build;
 *  - each table slot points straight at its entry point, which is compiled
 *    C++: the VFS's indirect call is the only indirect call, as in C.
 *
 * A driver that wants one of the kernel's generic implementations in a slot
 * (default_llseek, compat_ptr_ioctl, noop_fsync: what its C twin uses) names it as
 *     static constexpr auto kernel_llseek = &default_llseek;
 * the slot then holds that exported kernel function, exactly as in C.
 *
 * This header is pure (no kernel types): the Layout parameter is the
 * kernel's file_operations view (kcxx/kabi.h) in a module and a user-space
 * stand-in in tests/unit.
 */
#ifndef KCXX_VTABLE_H
#define KCXX_VTABLE_H

#include <kcxx/types.h>

namespace kcxx::fs {

/* Filled in by KCXX_FILE_OPERATIONS: Entries<T>::<op> is the entry point. */
template <class T> struct Entries;

/* Which operations T implements, found by name (the "HAS_<FN>" consts). */
template <class T> inline constexpr bool has_llseek = requires { &T::llseek; };
template <class T> inline constexpr bool has_read = requires { &T::read; };
template <class T> inline constexpr bool has_write = requires { &T::write; };
template <class T> inline constexpr bool has_poll = requires { &T::poll; };
template <class T> inline constexpr bool has_unlocked_ioctl = requires { &T::ioctl; };
template <class T> inline constexpr bool has_compat_ioctl = requires { &T::compat_ioctl; };
template <class T> inline constexpr bool has_open = requires { &T::open; };
template <class T> inline constexpr bool has_release = requires { &T::release; };
template <class T> inline constexpr bool has_fsync = requires { &T::fsync; };

#define KCXX_VT_SLOT(op)                                                            \
	template <class T> constexpr auto slot_##op()                               \
	{                                                                           \
		constexpr bool listed = requires { Entries<T>::op; };               \
		static_assert(listed == has_##op<T>,                                \
			      "KCXX_FILE_OPERATIONS list and the driver's methods " \
			      "disagree on '" #op "'");                             \
		if constexpr (listed)                                               \
			return Entries<T>::op;                                      \
		else if constexpr (requires { T::kernel_##op; })                    \
			return T::kernel_##op;                                      \
		else                                                                \
			return nullptr;                                             \
	}
KCXX_VT_SLOT(llseek)
KCXX_VT_SLOT(read)
KCXX_VT_SLOT(write)
KCXX_VT_SLOT(poll)
KCXX_VT_SLOT(unlocked_ioctl)
KCXX_VT_SLOT(compat_ioctl)
KCXX_VT_SLOT(open)
KCXX_VT_SLOT(release)
KCXX_VT_SLOT(fsync)
#undef KCXX_VT_SLOT

/* The table: one constant per driver type, built by the compiler. */
template <class Layout, class T, auto Owner>
inline constexpr Layout make_vtable = {
	.owner = Owner,
	.llseek = slot_llseek<T>(),
	.read = slot_read<T>(),
	.write = slot_write<T>(),
	.poll = slot_poll<T>(),
	.unlocked_ioctl = slot_unlocked_ioctl<T>(),
	.compat_ioctl = slot_compat_ioctl<T>(),
	.open = slot_open<T>(),
	.release = slot_release<T>(),
	.fsync = slot_fsync<T>(),
};

/* How many operations a table fills (tests, reports). */
template <class T> constexpr int implemented_count()
{
	return has_llseek<T> + has_read<T> + has_write<T> + has_poll<T> + has_unlocked_ioctl<T> +
	       has_compat_ioctl<T> + has_open<T> + has_release<T> + has_fsync<T>;
}

} // namespace kcxx::fs

/* ---- the entry-point generator ------------------------------------------- */
#define KCXX_FE_1(m, a, b, c, x) m(a, b, c, x)
#define KCXX_FE_2(m, a, b, c, x, ...) m(a, b, c, x) KCXX_FE_1(m, a, b, c, __VA_ARGS__)
#define KCXX_FE_3(m, a, b, c, x, ...) m(a, b, c, x) KCXX_FE_2(m, a, b, c, __VA_ARGS__)
#define KCXX_FE_4(m, a, b, c, x, ...) m(a, b, c, x) KCXX_FE_3(m, a, b, c, __VA_ARGS__)
#define KCXX_FE_5(m, a, b, c, x, ...) m(a, b, c, x) KCXX_FE_4(m, a, b, c, __VA_ARGS__)
#define KCXX_FE_6(m, a, b, c, x, ...) m(a, b, c, x) KCXX_FE_5(m, a, b, c, __VA_ARGS__)
#define KCXX_FE_7(m, a, b, c, x, ...) m(a, b, c, x) KCXX_FE_6(m, a, b, c, __VA_ARGS__)
#define KCXX_FE_N(_1, _2, _3, _4, _5, _6, _7, N, ...) N
#define KCXX_FOR_EACH(m, a, b, c, ...)                                                   \
	KCXX_FE_N(__VA_ARGS__, KCXX_FE_7, KCXX_FE_6, KCXX_FE_5, KCXX_FE_4, KCXX_FE_3, \
		  KCXX_FE_2, KCXX_FE_1)(m, a, b, c, __VA_ARGS__)

/* An entry point is the operation's body: flatten inlines the driver's
 * method and everything module-local it calls, so the VFS's indirect call
 * lands directly in the code that does the work (no wrapper frame, one
 * stack-protector check), as with a C driver's file operation. */
#define KCXX_ENTRY [[gnu::flatten]]

/* Per operation: the C signature, and the call into the adapter. */
#define KCXX_FOP_llseek(name, T)                                                        \
	extern "C" KCXX_ENTRY kcxx::loff_t name(struct file *f, kcxx::loff_t off, int whence)      \
	{                                                                               \
		return kcxx::fs::Adapter<T>::llseek(f, off, whence);                    \
	}
#define KCXX_FOP_read(name, T)                                                          \
	extern "C" KCXX_ENTRY kcxx::ssize_t name(struct file *f, char *buf, kcxx::usize n,         \
				      kcxx::loff_t *pos)                                \
	{                                                                               \
		return kcxx::fs::Adapter<T>::read(f, buf, n, pos);                      \
	}
#define KCXX_FOP_write(name, T)                                                         \
	extern "C" KCXX_ENTRY kcxx::ssize_t name(struct file *f, const char *buf, kcxx::usize n,   \
				      kcxx::loff_t *pos)                                \
	{                                                                               \
		return kcxx::fs::Adapter<T>::write(f, buf, n, pos);                     \
	}
#define KCXX_FOP_poll(name, T)                                                          \
	extern "C" KCXX_ENTRY unsigned int name(struct file *f, struct poll_table_struct *p)       \
	{                                                                               \
		return kcxx::fs::Adapter<T>::poll(f, p);                                \
	}
#define KCXX_FOP_unlocked_ioctl(name, T)                                                \
	extern "C" KCXX_ENTRY long name(struct file *f, unsigned int cmd, unsigned long arg)       \
	{                                                                               \
		return kcxx::fs::Adapter<T>::ioctl(f, cmd, arg);                        \
	}
#define KCXX_FOP_compat_ioctl(name, T)                                                  \
	extern "C" KCXX_ENTRY long name(struct file *f, unsigned int cmd, unsigned long arg)       \
	{                                                                               \
		return kcxx::fs::Adapter<T>::compat_ioctl(f, cmd, arg);                 \
	}
#define KCXX_FOP_open(name, T)                                                          \
	extern "C" KCXX_ENTRY int name(struct inode *i, struct file *f)                            \
	{                                                                               \
		return kcxx::fs::Adapter<T>::open(i, f);                                \
	}
#define KCXX_FOP_release(name, T)                                                       \
	extern "C" KCXX_ENTRY int name(struct inode *i, struct file *f)                            \
	{                                                                               \
		return kcxx::fs::Adapter<T>::release(i, f);                             \
	}

#define KCXX_FOP_fsync(name, T)                                                         \
	extern "C" KCXX_ENTRY int name(struct file *f, kcxx::loff_t start, kcxx::loff_t end, int datasync) \
	{                                                                               \
		return kcxx::fs::Adapter<T>::fsync(f, start, end, datasync);            \
	}

#define KCXX_FOP_DEFINE_(T, prefix, suffix, op) KCXX_FOP_##op(prefix##_##op##suffix, T)
#define KCXX_FOP_ENTRY_(T, prefix, suffix, op) static constexpr auto op = &prefix##_##op##suffix;

#define KCXX_FILE_OPERATIONS(T, prefix, suffix, ...)                               \
	KCXX_FOR_EACH(KCXX_FOP_DEFINE_, T, prefix, suffix, __VA_ARGS__)            \
	template <> struct kcxx::fs::Entries<T> {                                  \
		KCXX_FOR_EACH(KCXX_FOP_ENTRY_, T, prefix, suffix, __VA_ARGS__)     \
	};

#endif
