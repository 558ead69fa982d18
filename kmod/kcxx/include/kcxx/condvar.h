/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/condvar.h - a condition variable bound to its lock
 * (Rust-for-Linux: kernel::sync::CondVar, rust/kernel/sync/condvar.rs).
 *
 *     Mutex<Pipe> pipe{ KCXX_LOCK_CLASS(scullpipe_cxx_dev) };
 *     CondVar<Mutex<Pipe>> readable{ pipe, KCXX_LOCK_CLASS(scullpipe_cxx_readable) };
 *
 *     auto g = KCXX_TRY(pipe.lock_interruptible());
 *     KCXX_TRY(readable.wait_interruptible_until(g, [](Pipe &p) { return p.count > 0; }));
 *     ... consume under g ...
 *     readable / writable .notify_all();
 *
 * Invariants:
 *  - a wait takes the Guard of the lock the CondVar was made for: a Guard of
 *    another lock type does not compile, and a Guard of another instance of
 *    the same type (or a moved-from Guard) stops the kernel with ud2 before
 *    anything sleeps (a run-time check on the sleeping path only);
 *  - the waiter is queued (prepare_to_wait_event) while the lock is still
 *    held, and the lock is released only then: a notify by anyone who
 *    changed the state under the lock after the waiter's last check cannot
 *    be lost;
 *  - every wait returns with the lock held again, the Guard still owning
 *    it, whether it slept, was notified, or was interrupted: the caller's
 *    Guard never dangles;
 *  - interruptible waits give -ERESTARTSYS (errc::restartsys) when a signal
 *    is pending, before or after the sleep, so a syscall restarts or
 *    returns EINTR exactly as with C's wait_event_interruptible();
 *  - waits are exclusive, as Rust's: notify_one() wakes one waiter,
 *    notify_all() every waiter and every poll() sleeper on the queue;
 *    a wait may also end spuriously, so callers loop on their condition:
 *    wait_interruptible_until() is that loop;
 *  - pinned (not copyable or movable): the kernel links wait entries into
 *    the queue head.
 * What C++ cannot check: that the state the condition reads is only changed
 * under the lock (Rust cannot either).
 *
 * The kernel calls are the ones C's wait_event_interruptible()/wake_up()
 * macros expand to: init_wait_entry, prepare_to_wait_event, schedule,
 * finish_wait, __wake_up; the waiter-only kcxx_signal_pending() helper
 * runs after schedule() only.  W (the wait backend) is a user-space one in
 * the host tests (tests/unit/condvar_test.cpp).
 */
#ifndef KCXX_CONDVAR_H
#define KCXX_CONDVAR_H

#include <kcxx/error.h>
#include <kcxx/sync.h>

namespace kcxx {

class PollTable;

template <class L, class W> class BasicCondVar {
public:
	using Guard = typename L::Guard;

	BasicCondVar(L &lock, LockClass cls) : lock_(&lock) { W::init(&head_, cls); }
	BasicCondVar(const BasicCondVar &) = delete;
	BasicCondVar &operator=(const BasicCondVar &) = delete;

	/* Sleep until notified (or spuriously woken), uninterruptibly; the
	 * lock is released while asleep and held again on return. */
	void wait(Guard &g) { (void)sleep(g, false); }

	/* As wait(), but a pending signal ends it with -ERESTARTSYS (lock
	 * held again either way). */
	[[nodiscard]] Result<void> wait_interruptible(Guard &g)
	{
		if (kcxx_unlikely(sleep(g, true)))
			return errc::restartsys;
		return ok();
	}

	/* Wait until pred(data) is true, checked under the lock before every
	 * sleep: ok with the lock held and pred(data) true, or -ERESTARTSYS
	 * with the lock held and pred(data) false.  No sleep at all when
	 * pred(data) already holds (the fast path is one test). */
	template <class P> [[nodiscard]] Result<void> wait_interruptible_until(Guard &g, P pred)
	{
		while (!pred(*g))
			KCXX_TRY(wait_interruptible(g));
		return ok();
	}

	/* Wake one exclusive waiter (and every poll() sleeper). */
	void notify_one() { W::wake(&head_, 1); }
	/* Wake every waiter. */
	void notify_all() { W::wake(&head_, 0); }

private:
	friend class PollTable;

	/* One sleep; true if it ended because of a signal. */
	bool sleep(Guard &g, bool interruptible)
	{
		if (kcxx_unlikely(g.owner() != lock_))
			__builtin_trap(); /* another lock's Guard: a driver bug */
		typename W::entry_type e;
		W::init_entry(&e);
		bool signalled = W::prepare(&head_, &e, interruptible) != 0;
		if (!signalled) {
			g.release_for_wait();
			W::sleep();
			g.retake_after_wait();
			signalled = interruptible && W::signal_pending();
		}
		W::finish(&head_, &e);
		return signalled;
	}

	typename W::head_type head_;
	const L *lock_;
};

#ifdef __KERNEL__
/* The kernel's wait queue, with the task states and flags of
 * wait_event_interruptible() (exclusive, as Rust's CondVar). */
struct KernelWait {
	using head_type = kabi::wait_queue_head;
	using entry_type = kabi::wait_queue_entry;
	static void init(head_type *h, LockClass cls) { __init_waitqueue_head(h, cls.name, cls.key); }
	static void init_entry(entry_type *e) { init_wait_entry(e, KABI_WQ_FLAG_EXCLUSIVE); }
	/* 0, or -ERESTARTSYS (then not queued) when interruptible and a
	 * signal is pending */
	static long prepare(head_type *h, entry_type *e, bool interruptible)
	{
		return prepare_to_wait_event(h, e,
					     interruptible ? KABI_TASK_INTERRUPTIBLE :
							     KABI_TASK_UNINTERRUPTIBLE);
	}
	static void sleep() { schedule(); }
	static bool signal_pending() { return kcxx_signal_pending(); }
	static void finish(head_type *h, entry_type *e) { finish_wait(h, e); }
	static void wake(head_type *h, int nr) { __wake_up(h, KABI_TASK_NORMAL, nr, nullptr); }
};

template <class L> using CondVar = BasicCondVar<L, KernelWait>;
#endif

} // namespace kcxx

#endif
