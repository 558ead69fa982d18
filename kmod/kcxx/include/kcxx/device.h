/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/device.h - registrations that undo themselves: misc devices, char
 * device regions, cdevs, device classes and device nodes
 * (Rust-for-Linux: kernel::miscdevice::MiscDeviceRegistration, chrdev).
 *
 * Invariants:
 *  - a registration object is either empty or registered, and its
 *    destructor unregisters exactly what was registered (members of a
 *    driver's module type are torn down in reverse declaration order, so
 *    declaring region, class, cdev, node in that order gives the C error
 *    ladder for free);
 *  - registrations are pinned (the kernel keeps pointers to them):
 *    neither copyable nor movable.
 */
#ifndef KCXX_DEVICE_H
#define KCXX_DEVICE_H

#include <kcxx/bindings.h>
#include <kcxx/error.h>
#include <kcxx/fs.h>

namespace kcxx {

/* IS_ERR/PTR_ERR for pointers the kernel returns as ERR_PTR(). */
static_assert(Error::max_errno == KABI_MAX_ERRNO);

template <class T> inline Result<T *> from_err_ptr(T *p)
{
	if (kcxx_unlikely((unsigned long)p >= (unsigned long)-KABI_MAX_ERRNO))
		return Error::from_errno((int)(long)p);
	return p;
}

struct Pinned {
	Pinned() = default;
	Pinned(const Pinned &) = delete;
	Pinned &operator=(const Pinned &) = delete;
};

/* container_of(): the T whose `member` is at ptr.  kcxx-internal; drivers
 * get their data handed in (scripts/check-cxx-raw-calls.sh). */
#define KCXX_CONTAINER_OF(ptr, T, member) \
	reinterpret_cast<T *>(reinterpret_cast<char *>(ptr) - __builtin_offsetof(T, member))

/*
 * MiscRegistration<C>: a misc device together with its context C, the data
 * every file opened through it is handed (Rust-for-Linux:
 * MiscDeviceRegistration<T> with T::RegistrationData).
 *
 * Invariants: C is constructed with the registration and outlives it (the
 * destructor deregisters first, so no file operation can start on a
 * destroyed C); context(...) is only used by kcxx/fs.h on files opened
 * through this registration (misc_open() stores the miscdevice in
 * private_data before the driver's open runs), because register_device
 * accepts only an fs::Ops<MiscRegistration<C>> table.
 */
template <class C> class MiscRegistration : Pinned {
public:
	using Context = C;
	template <class... A> explicit MiscRegistration(A &&...args) : ctx_(kcxx::forward<A>(args)...) {}
	~MiscRegistration() { deregister(); }

	Result<void> register_device(const char *name, fs::Ops<MiscRegistration> ops,
				     kabi::umode_t mode, struct device *parent = nullptr)
	{
		dev_.minor = KABI_MISC_DYNAMIC_MINOR;
		dev_.name = name;
		dev_.fops = ops.table;
		dev_.mode = mode;
		dev_.parent = parent;
		int ret = misc_register(&dev_);
		if (ret)
			return Error::from_errno(ret);
		registered_ = true;
		return ok();
	}
	/* Deregister now (no new opens afterwards); the destructor then does nothing. */
	void deregister()
	{
		if (registered_)
			misc_deregister(&dev_);
		registered_ = false;
	}
	/* For the owner (module init/exit), not for file operations. */
	C &context() { return ctx_; }
	/* Where the context is (kallsyms names of its locks: KCXX_LOCK_SYMBOL_AT). */
	static constexpr usize context_offset() { return __builtin_offsetof(MiscRegistration, ctx_); }

	/* kcxx/fs.h: the context of the file's registration. */
	[[gnu::always_inline]] static C &context(struct file *f)
	{
		void *misc = kabi::field<void *, KABI_FILE_private_data>(f);
		return KCXX_CONTAINER_OF(static_cast<kabi::miscdevice *>(misc), MiscRegistration, dev_)->ctx_;
	}
	[[gnu::always_inline]] static C &context(struct inode *, struct file *f) { return context(f); }

private:
	kabi::miscdevice dev_{};
	bool registered_ = false;
	C ctx_;
};

/*
 * CdevRegistration<C>: a cdev (one or more minors) together with its
 * context C (LDD3's "struct scull_dev embeds its struct cdev", typed).
 * Invariants as MiscRegistration's: C outlives the cdev (cdev_del first);
 * context(inode) is the C of the cdev the inode was opened through
 * (chrdev_open() sets inode->i_cdev), and add() accepts only an
 * fs::Ops<CdevRegistration<C>> table.
 */
template <class C> class CdevRegistration : Pinned {
public:
	using Context = C;
	template <class... A> explicit CdevRegistration(A &&...args) : ctx_(kcxx::forward<A>(args)...) {}
	~CdevRegistration()
	{
		if (added_)
			cdev_del(&c_);
	}
	Result<void> add(fs::Ops<CdevRegistration> ops, kabi::dev_t dev, unsigned count)
	{
		cdev_init(&c_, ops.table);
		kabi::field<struct module *, KABI_CDEV_owner>(&c_) = &__this_module;
		int ret = cdev_add(&c_, dev, count);
		if (ret)
			return Error::from_errno(ret);
		added_ = true;
		return ok();
	}
	/* For the owner (module init/exit), not for file operations. */
	C &context() { return ctx_; }
	static constexpr usize context_offset() { return __builtin_offsetof(CdevRegistration, ctx_); }

	/* kcxx/fs.h: the context of the cdev the inode belongs to. */
	[[gnu::always_inline]] static C &context(struct inode *i, struct file *)
	{
		auto *c = kabi::field<kabi::cdev *, KABI_INODE_i_cdev>(i);
		return KCXX_CONTAINER_OF(c, CdevRegistration, c_)->ctx_;
	}
	[[gnu::always_inline]] static C &context(struct file *f)
	{
		return context(kabi::field<struct inode *, KABI_FILE_f_inode>(f), f);
	}

private:
	kabi::cdev c_{};
	bool added_ = false;
	C ctx_;
};

class ChrdevRegion : Pinned {
public:
	Result<void> alloc(const char *name, unsigned count)
	{
		int ret = alloc_chrdev_region(&base_, 0, count, name);
		if (ret)
			return Error::from_errno(ret);
		count_ = count;
		return ok();
	}
	~ChrdevRegion()
	{
		if (count_)
			unregister_chrdev_region(base_, count_);
	}
	kabi::dev_t dev(unsigned i) const { return base_ + i; }
	unsigned major() const { return base_ >> KABI_MINORBITS; }
	unsigned base_minor() const { return base_ & ((1u << KABI_MINORBITS) - 1); }
	unsigned count() const { return count_; }

private:
	kabi::dev_t base_ = 0;
	unsigned count_ = 0;
};

class Cdev : Pinned {
public:
	Result<void> add(const kabi::file_operations &fops, kabi::dev_t dev, unsigned count)
	{
		cdev_init(&c_, &fops);
		kabi::field<struct module *, KABI_CDEV_owner>(&c_) = &__this_module;
		int ret = cdev_add(&c_, dev, count);
		if (ret)
			return Error::from_errno(ret);
		added_ = true;
		return ok();
	}
	~Cdev()
	{
		if (added_)
			cdev_del(&c_);
	}

private:
	kabi::cdev c_{};
	bool added_ = false;
};

/* The device argument of a class's devnode callback: const since 6.2
 * (probed by kabi-gen.c, so a callback written with this type fits the
 * kernel it is built for). */
using devnode_device = conditional_t<KABI_CLASS_DEVNODE_CONST, const struct device, struct device>;
using devnode_fn = char *(*)(devnode_device *, kabi::umode_t *);

class DeviceClass : Pinned {
public:
	/* A devnode callback giving every node of the class the permission
	 * bits of parameter P (the drivers' mode= parameter). */
	template <auto *P> static char *devnode_mode(devnode_device *, kabi::umode_t *mode)
	{
		if (mode)
			*mode = P->get();
		return nullptr;
	}

	Result<void> create(const char *name, devnode_fn devnode = nullptr)
	{
		cls_ = KCXX_TRY(from_err_ptr(kcxx_class_create(name)));
		if (devnode)
			kabi::field<devnode_fn, KABI_CLASS_devnode>(cls_) = devnode;
		return ok();
	}
	~DeviceClass()
	{
		if (cls_)
			class_destroy(cls_);
	}
	struct class_ *raw() const { return cls_; }

private:
	struct class_ *cls_ = nullptr;
};

/* One /dev node (device_create/device_destroy). */
class DeviceNode : Pinned {
public:
	template <class... A>
	Result<void> create(DeviceClass &cls, kabi::dev_t devt, const char *fmt, A... args)
	{
		KCXX_TRY(from_err_ptr(device_create(cls.raw(), nullptr, devt, nullptr, fmt, args...)));
		cls_ = cls.raw();
		devt_ = devt;
		return ok();
	}
	~DeviceNode()
	{
		if (cls_)
			device_destroy(cls_, devt_);
	}

private:
	struct class_ *cls_ = nullptr;
	kabi::dev_t devt_ = 0;
};

} // namespace kcxx

#endif
