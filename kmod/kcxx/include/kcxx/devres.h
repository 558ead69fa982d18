/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/devres.h - resources that can be taken away while still referenced
 * (Rust-for-Linux: kernel::revocable::Revocable, kernel::devres::Devres).
 *
 * A driver's per-device data may outlive the device's binding: an open file
 * holds a reference, the device is unbound (sysfs unbind, hot unplug,
 * rmmod of a busy driver is refused but unbind is not), and the file's
 * next operation must not touch a BAR that is no longer mapped.  In C that
 * is a convention ("take the lock, check ->regs != NULL"); here it is the
 * only way in.
 *
 * Revocable<T>: a T behind a mutex that can be revoked.
 *   r.try_access_with(f)   locks (interruptibly), and if T is still there
 *                          returns f(const T &) as a Result; errc::nodev
 *                          once revoked, errc::restartsys on a signal.
 *   r.revoke()             waits for the access in flight (the mutex),
 *                          destroys T; every later access is errc::nodev.
 * The mutex also serialises the accesses, as C's per-device mutex does (a
 * multi-register sequence runs inside one f).  Why a mutex and not RCU as
 * in Rust: the drivers need the serialisation anyway, so revocation costs
 * no extra instruction per operation (a Devres access compiles to C's
 * mutex_lock_interruptible + NULL check + mutex_unlock).
 *
 * Devres<T>: a Revocable<T> revoked when a device unbinds.
 *   KCXX_TRY(owner->res.attach(dev, kcxx::move(value), owner));
 * fills it and registers a devres action on `dev` (devm_add_action, run by
 * the driver core after remove(), or after a failed probe), which revokes
 * the value.  The action holds a reference to the owner (the ARef-counted
 * object the Devres is a member of, checked), so the Devres is alive when
 * it runs however the files and remove() drop theirs.  A driver therefore
 * cannot forget to unmap at unbind, nor unmap too early.
 *
 * Invariants: T is reachable only inside try_access_with, under the mutex,
 * while not revoked; T is destroyed exactly once (revoke or destructor);
 * an attached Devres is revoked at the latest when its device unbinds.
 */
#ifndef KCXX_DEVRES_H
#define KCXX_DEVRES_H

#include <kcxx/bindings.h>
#include <kcxx/device.h>
#include <kcxx/error.h>
#include <kcxx/sync.h>

namespace kcxx {

template <class T> class Revocable : Pinned {
public:
	explicit Revocable(LockClass cls) { MutexBackend::init(&lock_, cls); }
	/* The owner is going away: nobody can access T any more. */
	~Revocable()
	{
		if (live_)
			obj()->~T();
	}

	/* f(const T &) under the mutex while T is available: f's result. */
	template <class F> [[gnu::always_inline]] auto try_access_with(F &&f)
	{
		const T &t = *obj();
		using R = decltype(f(t));
		if (kcxx_unlikely(MutexBackend::lock_interruptible(&lock_)))
			return Result<R>(errc::restartsys);
		if (kcxx_unlikely(!live_)) {
			MutexBackend::unlock(&lock_);
			return Result<R>(errc::nodev);
		}
		if constexpr (same_as<R, void>) {
			f(t);
			MutexBackend::unlock(&lock_);
			return Result<void>();
		} else {
			R r = f(t);
			MutexBackend::unlock(&lock_);
			return Result<R>(kcxx::move(r));
		}
	}

	/* Take T away (waits for the access in flight); idempotent. */
	void revoke()
	{
		MutexBackend::lock(&lock_);
		if (live_) {
			live_ = false;
			obj()->~T();
		}
		MutexBackend::unlock(&lock_);
	}

protected:
	/* Make v available; false (v untouched) when something already was. */
	bool fill(T &&v)
	{
		MutexBackend::lock(&lock_);
		bool was = live_;
		if (!was) {
			new (storage_.bytes) T(kcxx::move(v));
			live_ = true;
		}
		MutexBackend::unlock(&lock_);
		return !was;
	}

private:
	T *obj() { return storage_.get(); }

	kabi::mutex lock_;
	bool live_ = false;
	RawStorage<T> storage_;
};

template <class T> class Devres : public Revocable<T> {
public:
	using Revocable<T>::Revocable;

	/*
	 * Make `value` available until `dev` unbinds.  `owner` is the
	 * reference-counted object this Devres is a member of (errc::inval
	 * otherwise); errc::busy if already attached; devm_add_action's error
	 * (then the value is revoked at once).
	 */
	template <class D> Result<void> attach(struct device *dev, T &&value, const ARef<D> &owner)
	{
		const char *self = reinterpret_cast<const char *>(this);
		const char *o = reinterpret_cast<const char *>(&*owner);
		if (kcxx_unlikely(self < o || self + sizeof(*this) > o + sizeof(D)))
			return errc::inval;
		if (kcxx_unlikely(!this->fill(kcxx::move(value))))
			return errc::busy;
		owner_ = ARef<D>::get(&*owner).into_raw(); /* dropped by the action */
		put_owner_ = &put<D>;
		return to_result(kcxx_devm_add_action_or_reset(dev, &release, this));
	}

private:
	/* The devres action: revoke, then drop the owner's reference (which
	 * may free the owner and this Devres with it: touch nothing after). */
	static void release(void *p)
	{
		Devres *self = static_cast<Devres *>(p);
		void *owner = self->owner_;
		void (*put_owner)(void *) = self->put_owner_;
		self->revoke();
		put_owner(owner);
	}
	template <class D> static void put(void *owner) { ARef<D>::adopt(static_cast<D *>(owner)); }

	void *owner_ = nullptr;
	void (*put_owner_)(void *) = nullptr;
};

} // namespace kcxx

#endif
