/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/fs.h - file operations (Rust-for-Linux: kernel::fs::File and the
 * miscdevice/cdev operation traits).
 *
 * A driver type T names the registration its files are opened through and
 * implements any subset of (all static, all optional):
 *
 *   using Registration = MiscRegistration<C> or CdevRegistration<C>;
 *   using Data = D;                       what open() returns (private_data)
 *   Result<D *>     open(C &, File)       C: the registration's context
 *   void            release(D &, File)
 *   Result<loff_t>  llseek(D &, File, loff_t off, int whence)
 *   Result<usize>   read(D &, File, UserSlice::Writer, loff_t &pos)
 *   Result<usize>   write(D &, File, UserSlice::Reader, loff_t &pos)
 *   PollMask        poll(D &, File, PollTable)       (kcxx/poll.h)
 *   Result<long>    ioctl(D &, File, unsigned cmd, unsigned long arg)
 *                   (or Result<void>: an ioctl that returns 0 or an error,
 *                   converted with no flag to test: C's "0 or -errno";
 *                   or DataRef<T> for D &: the data fetched only by the
 *                   commands that use it)
 *   Result<long>    compat_ioctl(D &, File, unsigned cmd, unsigned long arg)  (or Result<void>)
 *   Result<void>    fsync(D &, File, loff_t start, loff_t end, bool datasync)
 *
 * Registration context handed in (Rust's MiscDevice::open(file,
 * &registration)): open() receives the context object of the registration
 * the file was opened through (kcxx/device.h finds it from the inode's cdev
 * or from the miscdevice misc_open() stores); without open(), D is C itself
 * and every operation receives it.  No driver code looks up a module-wide
 * singleton or converts private_data.
 *
 * Adapter<T> turns these into the C signatures (always inlined into the
 * extern "C" entry points KCXX_FILE_OPERATIONS defines); kcxx::fs::vtable<T>
 * is the constant file_operations (kcxx/vtable.h).
 *
 * Invariants: a Result becomes the kernel's "value or negative errno" in
 * the entry point, a __user buffer reaches T only as a UserSlice, and T
 * cannot touch private_data as an untyped pointer.
 */
#ifndef KCXX_FS_H
#define KCXX_FS_H

#include <kcxx/bindings.h>
#include <kcxx/error.h>
#include <kcxx/planted.h>
#include <kcxx/poll.h>
#include <kcxx/uaccess.h>
#include <kcxx/vtable.h>

namespace kcxx::fs {

/* What C drivers put in the compat_ioctl slot: the kernel's compat_ptr_ioctl,
 * or null on a kernel without CONFIG_COMPAT, where the kernel's own header
 * makes the C name NULL (no 32-bit callers, the slot is never used). */
#if KABI_HAS_COMPAT
inline constexpr auto compat_ptr_ioctl = &::compat_ptr_ioctl;
#else
inline constexpr auto compat_ptr_ioctl = nullptr;
#endif

/* A borrowed struct file. */
class File {
public:
	explicit File(struct file *f) : f_(f) {}
	struct file *raw() const { return f_; }
	unsigned int flags() const { return kabi::field<unsigned int, KABI_FILE_f_flags>(f_); }
	kabi::fmode_t mode() const { return kabi::field<kabi::fmode_t, KABI_FILE_f_mode>(f_); }
	bool write_only() const { return (flags() & KABI_O_ACCMODE) == KABI_O_WRONLY; }
	void *&private_data() const { return kabi::field<void *, KABI_FILE_private_data>(f_); }
	struct inode *inode() const { return kabi::field<struct inode *, KABI_FILE_f_inode>(f_); }
	loff_t &pos() const { return kabi::field<loff_t, KABI_FILE_f_pos>(f_); }
	bool nonblocking() const { return flags() & KABI_O_NONBLOCK; }
	/* From open() only: the file is a stream (no seek, no pread/pwrite,
	 * no f_pos lock: -ESPIPE), as pipes and sockets (stream_open()). */
	void make_stream() const { (void)stream_open(inode(), f_); }

private:
	struct file *f_;
};

/* A borrowed struct inode. */
class Inode {
public:
	explicit Inode(struct inode *i) : i_(i) {}
	kabi::dev_t rdev() const { return kabi::field<kabi::dev_t, KABI_INODE_i_rdev>(i_); }
	unsigned minor() const { return rdev() & ((1u << KABI_MINORBITS) - 1); }
	unsigned major() const { return rdev() >> KABI_MINORBITS; }

private:
	struct inode *i_;
};

} // namespace kcxx::fs

namespace kcxx {
/* poll_wait() of <linux/poll.h>: the table's callback queues the file on
 * the CondVar's wait queue; the full barrier pairs with the waker's, so a
 * state change after the callback is seen by the readiness check that
 * follows (kcxx/poll.h). */
template <class L, class W>
[[gnu::always_inline]] inline void PollTable::wait(const fs::File &f, BasicCondVar<L, W> &cv) const
{
	if (!p_)
		return;
	auto qproc = kabi::field<kabi::poll_queue_proc, KABI_POLL_TABLE__qproc>(p_);
	if (!qproc)
		return;
	qproc(f.raw(), &cv.head_, p_);
	asm volatile("lock; addl $0,-4(%%rsp)" ::: "memory", "cc"); /* x86 smp_mb() */
}
} // namespace kcxx

namespace kcxx::fs {

/* Which slot T's per-open data comes from (see the header comment). */
template <class T> concept HasRegistration = requires { typename T::Registration; };
template <class T> concept HasOpen = requires { &T::open; };

/* The data the non-open operations of T receive. */
template <class T> struct DataOf {
	using type = typename T::Data;
};
template <class T>
	requires HasRegistration<T> && (!HasOpen<T>)
struct DataOf<T> {
	using type = typename T::Registration::Context;
};

template <class T> struct Adapter;

/*
 * DataRef<T>: the operation's data (what the other operations receive as
 * D &), fetched from the file where the operation uses it, not before.
 * An ioctl may take it instead of D &: commands that need no data (scull's
 * getters read module parameters, as C reads its globals) then never load
 * private_data.  With D & the load sits at the entry, because the
 * reference is formed before the call, and the getter executes it (icount:
 * scull ioctl_qquantum).
 * Invariant: only the adapter makes one, from the struct file of the call
 * in progress; it is a borrowed pointer, valid for that call only.
 */
template <class T> class DataRef {
public:
	using D = typename DataOf<T>::type;
	D &get() const { return Adapter<T>::data(f_); }
	D *operator->() const { return &get(); }

private:
	friend struct Adapter<T>;
	explicit DataRef(struct file *f) : f_(f) {}
	struct file *f_;
};

template <class T> struct Adapter {
	using D = typename DataOf<T>::type;

	[[gnu::always_inline]] static D &data(struct file *f)
	{
		if constexpr (HasRegistration<T> && !HasOpen<T>)
			/* no open(): the registration's context, found from the file */
			return T::Registration::context(f);
		else if constexpr (requires { T::data(File(f)); })
			return T::data(File(f)); /* legacy: kmod/samples (chrdev, ioctl, misc) */
		else
			return *static_cast<D *>(File(f).private_data());
	}
	[[gnu::always_inline]] static int open(struct inode *i, struct file *f)
	{
		planted_work();
		return opened(f, open_result(i, f));
	}
	/* open's Result as a parameter, not a named local (see read()). */
	[[gnu::always_inline]] static int opened(struct file *f, Result<D *> r)
	{
		if (!r)
			return r.error().to_errno();
		File(f).private_data() = r.value();
		return 0;
	}
	[[gnu::always_inline]] static Result<D *> open_result(struct inode *i, struct file *f)
	{
		if constexpr (HasRegistration<T>)
			/* Rust's MiscDevice::open(file, &registration): the context of
			 * the registration this file was opened through */
			return T::open(T::Registration::context(i, f), File(f));
		else
			return T::open(Inode(i), File(f)); /* legacy: kmod/samples (chrdev, ioctl, misc) */
	}
	[[gnu::always_inline]] static int release(struct inode *i, struct file *f)
	{
		planted_work();
		if constexpr (HasRegistration<T>)
			T::release(data(f), File(f));
		else
			T::release(data(f), Inode(i), File(f)); /* legacy: kmod/samples (chrdev, ioctl, misc) */
		return 0;
	}
	[[gnu::always_inline]] static loff_t llseek(struct file *f, loff_t off, int whence)
	{
		planted_work();
		return to_errno_long(T::llseek(data(f), File(f), off, whence));
	}
	/*
	 * The operation's Result goes straight into to_errno_long(), never into
	 * a named local: the kernel builds with -ftrivial-auto-var-init=zero,
	 * and g++ 12 zero-fills a named 16-byte Result<usize> (value + errno)
	 * as one 128-bit register value; a 128-bit value may need a 16-byte
	 * aligned spill slot, which on the kernel's 8-byte aligned stack
	 * (-mpreferred-stack-boundary=3) means a realigned frame, so GCC
	 * reserves a frame pointer for it before register allocation and
	 * keeps it after the realignment turns out unneeded: a `mov %rsp,%rbp`
	 * per call and one callee-saved register fewer in the whole entry
	 * point (icount scullpipe rw64, issue 18).  A temporary or a parameter
	 * is not auto-initialised, and every path still initialises the
	 * Result (it is the operation's return value).
	 */
	[[gnu::always_inline]] static ssize_t read(struct file *f, char *buf, usize n, loff_t *pos)
	{
		planted_work();
		return to_errno_long(T::read(data(f), File(f), UserSlice(uptr(buf), n).writer(), *pos));
	}
	[[gnu::always_inline]] static ssize_t write(struct file *f, const char *buf, usize n, loff_t *pos)
	{
		planted_work();
		return to_errno_long(T::write(data(f), File(f), UserSlice(uptr(buf), n).reader(), *pos));
	}
	[[gnu::always_inline]] static unsigned int poll(struct file *f, struct poll_table_struct *p)
	{
		planted_work();
		return T::poll(data(f), File(f), PollTable(p)).bits();
	}
	[[gnu::always_inline]] static long ioctl(struct file *f, unsigned cmd, unsigned long arg)
	{
		planted_work();
		if constexpr (requires { T::ioctl(DataRef<T>(f), File(f), cmd, arg); })
			return to_errno_long(T::ioctl(DataRef<T>(f), File(f), cmd, arg));
		else
			return to_errno_long(T::ioctl(data(f), File(f), cmd, arg));
	}
	[[gnu::always_inline]] static long compat_ioctl(struct file *f, unsigned cmd, unsigned long arg)
	{
		planted_work();
		return to_errno_long(T::compat_ioctl(data(f), File(f), cmd, arg));
	}
	[[gnu::always_inline]] static int fsync(struct file *f, loff_t s, loff_t e, int datasync)
	{
		planted_work();
		Result<void> r = T::fsync(data(f), File(f), s, e, datasync != 0);
		return r ? 0 : r.error().to_errno();
	}
};

/* The constant file_operations of driver type T, owner = this module. */
template <class T>
inline constexpr const kabi::file_operations &vtable =
	make_vtable<kabi::file_operations, T, &__this_module>;

/* A file_operations table typed by the registration kind its operations
 * expect (what their context lookup assumes): a registration accepts only
 * Ops of its own type, so scull's table cannot be registered as a misc
 * device, nor counter's as a cdev. */
template <class R> struct Ops {
	const kabi::file_operations *table;
};
template <class T> inline constexpr Ops<typename T::Registration> ops{ &vtable<T> };

} // namespace kcxx::fs

#endif
