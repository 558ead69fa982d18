/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/poll.h - poll/select/epoll readiness (Rust-for-Linux: kernel::poll,
 * PollTable and PollCondVar).
 *
 * A driver's poll operation (kcxx/fs.h):
 *
 *     static PollMask poll(D &dev, File f, PollTable pt)
 *     {
 *             pt.wait(f, dev.readable);     // register on each queue that
 *             pt.wait(f, dev.writable);     // can change the answer
 *             auto g = dev.pipe.lock();
 *             return (g->count ? PollMask::readable() : PollMask()) | ...;
 *     }
 *
 * Invariants:
 *  - PollMask is a typed set of the kernel's EPOLL* bits: built only from
 *    its named constants and |, never from a bare integer, so a driver
 *    cannot return an errno or a stray value as readiness;
 *  - PollTable::wait() registers on a CondVar's queue (the one its waiters
 *    sleep on, so notify_one/notify_all wakes pollers too), with the
 *    kernel's poll_wait(): nothing when the table is null or has no
 *    callback (epoll's re-poll), then the memory barrier that pairs with
 *    the waker's (poll_wait()'s smp_mb());
 *  - a PollTable is only made by kcxx/fs.h from the kernel's argument, and
 *    is valid during the poll call only.
 * The same machine code as C's inline poll_wait(): the callback is the
 * poll table's one indirect call, at the generated offset.
 */
#ifndef KCXX_POLL_H
#define KCXX_POLL_H

#include <kcxx/condvar.h>
#include <kcxx/kabi.h>

namespace kcxx {

class PollMask {
public:
	constexpr PollMask() : bits_(0) {}
	/* POLLIN | POLLRDNORM: a read will not block */
	static constexpr PollMask readable() { return PollMask(KABI_EPOLLIN | KABI_EPOLLRDNORM); }
	/* POLLOUT | POLLWRNORM: a write will not block */
	static constexpr PollMask writable() { return PollMask(KABI_EPOLLOUT | KABI_EPOLLWRNORM); }
	static constexpr PollMask error() { return PollMask(KABI_EPOLLERR); }
	static constexpr PollMask hangup() { return PollMask(KABI_EPOLLHUP); }
	constexpr PollMask operator|(PollMask o) const { return PollMask(bits_ | o.bits_); }
	constexpr bool contains(PollMask o) const { return (bits_ & o.bits_) == o.bits_; }
	/* the kernel's __poll_t, for kcxx/fs.h */
	constexpr unsigned int bits() const { return bits_; }

private:
	constexpr explicit PollMask(unsigned int b) : bits_(b) {}
	unsigned int bits_;
};

namespace fs {
class File;
template <class T> struct Adapter;
} // namespace fs

class PollTable {
public:
	/* poll_wait(file, &cv's queue, table) */
	template <class L, class W> void wait(const fs::File &f, BasicCondVar<L, W> &cv) const;

private:
	template <class T> friend struct fs::Adapter;
	explicit PollTable(struct poll_table_struct *p) : p_(p) {}
	struct poll_table_struct *p_;
};

} // namespace kcxx

#endif
