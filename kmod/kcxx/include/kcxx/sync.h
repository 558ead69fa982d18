/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/sync.h - locks that own their data, and atomics
 * (Rust-for-Linux: kernel::sync).
 *
 * Invariants:
 *  - the T inside a Mutex<T> or SpinLock<T> is reachable only through a
 *    Guard, and a Guard exists only while the lock is held: forgetting to
 *    lock, or to unlock on an error path, does not compile / cannot happen;
 *  - a Guard unlocks exactly once (in its destructor; a moved-from Guard
 *    does nothing), so early returns and KCXX_TRY are safe;
 *  - lock/unlock are the same exported kernel calls C makes (mutex_lock,
 *    mutex_lock_interruptible, mutex_unlock, _raw_spin_lock,
 *    _raw_spin_unlock): no wrapper call is added; where the kernel inlines
 *    spin_unlock() (no CONFIG_UNINLINE_SPIN_UNLOCK), kcxx inlines the same
 *    byte store;
 *  - locks are pinned: not copyable or movable (the kernel keeps pointers
 *    into a mutex's wait list);
 *  - every lock declaration has its own lock class (name and lock_class_key),
 *    as every mutex_init()/spin_lock_init() call site has in C: declare it
 *    with KCXX_LOCK_CLASS(name), e.g.
 *        Mutex<s64> value{ KCXX_LOCK_CLASS(counter_cxx_mutex), 0 };
 *    so lockdep tells the locks apart (one key per backend made lkp_enc's
 *    probe, instance lock then register lock, look like recursive locking)
 *    and names them like C's.  A lock inside the module object also gets a
 *    kallsyms symbol of that name with KCXX_LOCK_SYMBOL (kcxx/module.h), so
 *    BPF and /proc/kallsyms name it like C's static locks.
 *
 * The lock-kind-independent part (Guard over a Backend) is pure and unit
 * tested on the host against a user-space backend.
 */
#ifndef KCXX_SYNC_H
#define KCXX_SYNC_H

#include <kcxx/error.h>
#ifdef __KERNEL__
#include <kcxx/bindings.h>
#endif

namespace kcxx {

#ifdef __KERNEL__
using lock_key_type = kabi::lock_class_key;
#else
struct lock_key_type { unsigned char unused; }; /* host tests: no lockdep */
#endif

/* A lock declaration's class: its name and its own key (static storage,
 * one per declaration: instances made from one declaration, e.g. one per
 * device, share it, as in C). */
struct LockClass {
	const char *name;
	lock_key_type *key;
};

/* The class of the declaration it appears in: each lambda is a distinct
 * type, so its static key is distinct per call site (what the static key
 * inside C's mutex_init() macro does).  constinit: no guard, no constructor. */
#define KCXX_LOCK_CLASS(ident)                                          \
	::kcxx::LockClass                                               \
	{                                                               \
		#ident, [] {                                            \
			static constinit ::kcxx::lock_key_type kcxx_lock_key{}; \
			return &kcxx_lock_key;                          \
		}()                                                     \
	}

/* kcxx/condvar.h: the only code that may release and retake a Guard's lock
 * while the Guard lives (inside a wait). */
template <class L, class W> class BasicCondVar;

/* A Lock<Backend, T>: Backend supplies the raw state and lock/unlock. */
template <class Backend, class T> class Lock {
public:
	class [[nodiscard]] Guard {
	public:
		Guard(Guard &&o) : l_(o.l_) { o.l_ = nullptr; }
		Guard(const Guard &) = delete;
		Guard &operator=(const Guard &) = delete;
		~Guard()
		{
			if (l_)
				Backend::unlock(&l_->raw_);
		}
		T *operator->() const { return &l_->data_; }
		T &operator*() const { return l_->data_; }

	private:
		friend class Lock;
		template <class L, class W> friend class BasicCondVar;
		/* A condition variable's wait: the lock is dropped around the
		 * sleep and held again before the Guard is used (condvar.h). */
		const Lock *owner() const { return l_; }
		void release_for_wait() const { Backend::unlock(&l_->raw_); }
		void retake_after_wait() const { Backend::lock(&l_->raw_); }
		/* l is a lock's `this`, never null; the kernel builds with
		 * -fno-delete-null-pointer-checks, so say it: the unlock in the
		 * destructor then needs no null test (as C's mutex_unlock). */
		explicit Guard(Lock *l) : l_(l)
		{
			if (!l)
				__builtin_unreachable();
		}
		Lock *l_;
	};

	template <class... A>
	explicit Lock(LockClass cls, A &&...args) : data_(kcxx::forward<A>(args)...)
	{
		Backend::init(&raw_, cls);
	}
	Lock(const Lock &) = delete;
	Lock &operator=(const Lock &) = delete;

	Guard lock()
	{
		Backend::lock(&raw_);
		return Guard(this);
	}
	/* Sleeping locks only: -ERESTARTSYS (errc::restartsys) on a signal. */
	Result<Guard> lock_interruptible()
	{
		if (kcxx_unlikely(Backend::lock_interruptible(&raw_)))
			return errc::restartsys;
		return Guard(this);
	}

private:
	typename Backend::raw_type raw_;
	T data_;
};

#ifdef __KERNEL__
struct MutexBackend {
	using raw_type = kabi::mutex;
	static void init(raw_type *m, LockClass cls) { __mutex_init(m, cls.name, cls.key); }
	static void lock(raw_type *m) { mutex_lock(m); }
	static int lock_interruptible(raw_type *m) { return mutex_lock_interruptible(m); }
	static void unlock(raw_type *m) { mutex_unlock(m); }
};

struct SpinLockBackend {
	using raw_type = kabi::spinlock;
	static void init(raw_type *l, LockClass cls) { kcxx_spin_lock_init(l, cls.name, cls.key); }
	static void lock(raw_type *l) { _raw_spin_lock(l); }
#if KABI_SPIN_UNLOCK_INLINE
	/* The kernel's inline spin_unlock() on this configuration (kabi-gen.c
	 * checks which): a release store of 0 to the lock byte between
	 * compiler barriers (smp_store_release, then preempt_enable()'s
	 * barrier without PREEMPT_COUNT).  On x86 one plain byte store. */
	static void unlock(raw_type *l)
	{
		auto *locked = reinterpret_cast<volatile u8 *>(l->raw + KABI_SPINLOCK_locked);
		asm volatile("" ::: "memory");
		*locked = 0;
		asm volatile("" ::: "memory");
	}
#else
	static void unlock(raw_type *l) { _raw_spin_unlock(l); }
#endif
};

template <class T> using Mutex = Lock<MutexBackend, T>;
template <class T> using SpinLock = Lock<SpinLockBackend, T>;
#endif

/* READ_ONCE/WRITE_ONCE: one untorn access the compiler may not merge,
 * repeat or elide (for data shared without a lock, e.g. module parameters). */
template <class T> [[gnu::always_inline]] inline T read_once(const T &v)
{
	return __atomic_load_n(&v, __ATOMIC_RELAXED);
}
template <class T> [[gnu::always_inline]] inline void write_once(T &v, T x)
{
	__atomic_store_n(&v, x, __ATOMIC_RELAXED);
}

/* Atomics with the kernel's x86 code generation: relaxed load/store are
 * plain moves (READ_ONCE/WRITE_ONCE), read-modify-writes are locked
 * instructions (full barriers, like atomic64_add_return/try_cmpxchg). */
template <class T> class Atomic {
	static_assert(integral<T> && (sizeof(T) == 4 || sizeof(T) == 8));

public:
	constexpr Atomic(T v = 0) : v_(v) {}
	Atomic(const Atomic &) = delete;
	T load() const { return __atomic_load_n(&v_, __ATOMIC_RELAXED); }
	void store(T v) { __atomic_store_n(&v_, v, __ATOMIC_RELAXED); }
	T fetch_add(T d) { return __atomic_fetch_add(&v_, d, __ATOMIC_SEQ_CST); }
	/* On failure `expected` is updated to the current value. */
	bool compare_exchange(T &expected, T desired)
	{
		return __atomic_compare_exchange_n(&v_, &expected, desired, false, __ATOMIC_SEQ_CST,
						   __ATOMIC_RELAXED);
	}
	T exchange(T v) { return __atomic_exchange_n(&v_, v, __ATOMIC_SEQ_CST); }

private:
	T v_;
};

} // namespace kcxx

#ifdef __KERNEL__
namespace kcxx {
/* refcount_t (what kref wraps), with the same saturation checks as
 * <linux/refcount.h>: relaxed increment, release decrement, acquire on the
 * last put, refcount_warn_saturate() on misuse.  Invariant: dec_and_test()
 * returns true exactly once, to the caller that must free the object. */
class RefCount {
public:
	constexpr RefCount(int v = 1) : refs_(v) {}
	RefCount(const RefCount &) = delete;
	void inc()
	{
		int old = __atomic_fetch_add(&refs_, 1, __ATOMIC_RELAXED);
		if (kcxx_unlikely(!old))
			refcount_warn_saturate(this, KABI_REFCOUNT_ADD_UAF);
		else if (kcxx_unlikely(old < 0 || old + 1 < 0))
			refcount_warn_saturate(this, KABI_REFCOUNT_ADD_OVF);
	}
	[[nodiscard]] bool dec_and_test()
	{
		int old = __atomic_fetch_sub(&refs_, 1, __ATOMIC_RELEASE);
		if (old == 1) {
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			return true;
		}
		if (kcxx_unlikely(old < 0 || old - 1 < 0))
			refcount_warn_saturate(this, KABI_REFCOUNT_SUB_UAF);
		return false;
	}
	int read() const { return __atomic_load_n(&refs_, __ATOMIC_RELAXED); }

private:
	int refs_;
};
static_assert(sizeof(RefCount) == KABI_REFCOUNT_SIZE);

/* ARef<T>: one counted reference to a heap T that has a `RefCount ref`
 * member and was allocated with new (gfp) (Rust-for-Linux: ARef/Arc).
 * Invariant: the T is destroyed and freed when the last ARef (or raw
 * reference given back with adopt) goes away, and never before. */
template <class T> class ARef {
public:
	/* Take over a reference the caller already owns. */
	static ARef adopt(T *p) { return ARef(p); }
	/* Take a new reference to an object kept alive by someone else. */
	static ARef get(T *p)
	{
		p->ref.inc();
		return ARef(p);
	}
	ARef(ARef &&o) : p_(o.p_) { o.p_ = nullptr; }
	ARef(const ARef &) = delete;
	~ARef()
	{
		if (p_ && p_->ref.dec_and_test()) {
			p_->~T();
			kfree(p_);
		}
	}
	/* Give the reference to C (e.g. file->private_data). */
	T *into_raw()
	{
		T *p = p_;
		p_ = nullptr;
		return p;
	}
	T *operator->() const { return p_; }
	T &operator*() const { return *p_; }

private:
	explicit ARef(T *p) : p_(p) {}
	T *p_;
};
} // namespace kcxx
#endif

#endif
