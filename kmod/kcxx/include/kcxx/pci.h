/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/pci.h - PCI drivers (Rust-for-Linux: kernel::pci).
 *
 * A PCI driver type T provides
 *
 *   using Context = C;                    the driver's own state (PciDriver<T> holds it)
 *   using Data = D;                       per bound device
 *   static Result<D *> probe(C &, PciDevice, const kabi::pci_device_id &);
 *   static void remove(C &, D *, PciDevice);
 *
 * KCXX_PCI_DRIVER(T, prefix) defines the extern "C" entry points
 * <prefix>_probe / <prefix>_remove; PciDriver<T> registers them under the
 * module's name and unregisters in its destructor.  KCXX_PCI_DEVICE_TABLE
 * emits the id table and the __mod_pci__*_device_table alias modpost turns
 * into module aliases (MODULE_DEVICE_TABLE).
 *
 * Invariant: D is stored as the device's driver data between a successful
 * probe and remove, and remove gets back exactly that pointer.
 *
 * The BAR type (Bar<Size>) is below; revocation at unbind is kcxx/devres.h.
 */
#ifndef KCXX_PCI_H
#define KCXX_PCI_H

#include <kcxx/device.h>
#include <kcxx/io.h>
#include <kcxx/print.h>

namespace kcxx::pci {

/* A borrowed struct pci_dev (valid for the duration of probe/remove). */
class PciDevice {
public:
	explicit PciDevice(struct pci_dev *p) : p_(p) {}
	/* The struct device inside (for dev_err()/dev_info() and parents). */
	struct device *dev() const
	{
		return reinterpret_cast<struct device *>(reinterpret_cast<char *>(p_) + KABI_PCI_DEV_dev);
	}
	/* &pdev->resource[bar] (for %pR) and pci_resource_len() */
	const void *resource(int bar) const
	{
		return reinterpret_cast<char *>(p_) + KABI_PCI_DEV_resource + bar * KABI_RESOURCE_SIZE;
	}
	u64 resource_len(int bar) const
	{
		const char *r = static_cast<const char *>(resource(bar));
		u64 start = *reinterpret_cast<const u64 *>(r + KABI_RESOURCE_start);
		u64 end = *reinterpret_cast<const u64 *>(r + KABI_RESOURCE_end);
		return end == 0 ? 0 : end - start + 1;
	}

private:
	template <class> friend struct PciAdapter;
	template <usize> friend class Bar;
	struct pci_dev *raw() const { return p_; }
	void *&drvdata() const { return kabi::field<void *, KABI_DEVICE_driver_data>(dev()); }

	struct pci_dev *p_;
};

namespace detail {
/* Runs f at scope exit unless dismissed: one rung of an unwind ladder. */
template <class F> class Undo {
public:
	explicit Undo(F f) : f_(f) {}
	Undo(const Undo &) = delete;
	~Undo()
	{
		if (armed_)
			f_();
	}
	void dismiss() { armed_ = false; }

private:
	F f_;
	bool armed_ = true;
};
} // namespace detail

/*
 * Bar<Size>: BAR `bar` of a PCI device, enabled, requested and mapped, of
 * at least Size bytes (Rust-for-Linux: pci::Bar<SIZE>); it is the
 * IoMem<Size> (kcxx/io.h) its registers are read and written through.
 *
 *   auto bar = KCXX_TRY(pci::Bar<4096>::create(pdev, 0, KBUILD_MODNAME));
 *
 * create() is C's ladder pci_enable_device -> pci_request_region -> length
 * check -> pci_iomap, each step undone if a later one fails; the destructor
 * undoes all of them in reverse.  The Bar holds a reference to the pci_dev
 * (pci_dev_get), so it never outlives the struct it unmaps from.  Store it
 * in a Devres (kcxx/devres.h) so that it is revoked when the device unbinds.
 *
 * Invariants: a Bar (not moved from) always has a live mapping of >= Size
 * bytes and owns one enable count and the BAR's region; moving transfers
 * them.
 */
template <usize Size> class Bar : public IoMem<Size> {
public:
	static Result<Bar> create(PciDevice pdev, int bar, const char *name)
	{
		struct pci_dev *p = pdev.raw();
		KCXX_TRY(to_result(pci_enable_device(p)));
		detail::Undo disable([p] { pci_disable_device(p); });
		KCXX_TRY(to_result(pci_request_region(p, bar, name)));
		detail::Undo release([p, bar] { pci_release_region(p, bar); });
		if (pdev.resource_len(bar) < Size) {
			dev_err(pdev, "BAR%d %pR is smaller than %lu bytes\n", bar, pdev.resource(bar),
				(unsigned long)Size);
			return errc::nodev;
		}
		void *base = pci_iomap(p, bar, Size);
		if (!base)
			return errc::nomem;
		disable.dismiss();
		release.dismiss();
		return Bar(pci_dev_get(p), bar, base);
	}
	Bar(Bar &&o) : IoMem<Size>(o), pdev_(o.pdev_), bar_(o.bar_) { o.pdev_ = nullptr; }
	Bar(const Bar &) = delete;
	Bar &operator=(const Bar &) = delete;
	~Bar()
	{
		if (!pdev_)
			return;
		pci_iounmap(pdev_, this->base_);
		pci_release_region(pdev_, bar_);
		pci_disable_device(pdev_);
		pci_dev_put(pdev_);
	}

private:
	Bar(struct pci_dev *p, int bar, void *base) : IoMem<Size>(base), pdev_(p), bar_(bar) {}

	struct pci_dev *pdev_;
	int bar_;
};

template <class T> class PciDriver;

template <class T> struct PciAdapter {
	using D = typename T::Data;
	using C = typename T::Context;
	[[gnu::always_inline]] static int probe(struct pci_dev *p, const kabi::pci_device_id *id)
	{
		Result<D *> r = T::probe(PciDriver<T>::context_of(p), PciDevice(p), *id);
		if (!r)
			return r.error().to_errno();
		PciDevice(p).drvdata() = r.value();
		return 0;
	}
	[[gnu::always_inline]] static void remove(struct pci_dev *p)
	{
		D *d = static_cast<D *>(PciDevice(p).drvdata());
		PciDevice(p).drvdata() = nullptr;
		T::remove(PciDriver<T>::context_of(p), d, PciDevice(p));
	}
};

template <class T> struct PciEntries;

/*
 * PciDriver<T>: a registered PCI driver together with its context
 * T::Context, the data probe() and remove() are handed (like
 * MiscRegistration's context, kcxx/device.h; Rust-for-Linux drivers keep
 * such state in the driver's registration instead of a global):
 *
 *   using Context = C; using Data = D;
 *   static Result<D *> probe(C &, PciDevice, const kabi::pci_device_id &);
 *   static void remove(C &, D *, PciDevice);
 *
 * Invariants: C is constructed with the PciDriver and outlives the
 * registration (the destructor unregisters first, which unbinds every
 * device); probe/remove receive exactly this C (found from the device's
 * bound driver, dev->driver, which the driver core sets before probe).
 */
template <class T> class PciDriver : Pinned {
public:
	using Context = typename T::Context;
	template <class... A> explicit PciDriver(A &&...args) : ctx_(kcxx::forward<A>(args)...) {}

	Result<void> register_driver(const char *name, const kabi::pci_device_id *ids)
	{
		drv_.name = name;
		drv_.id_table = ids;
		drv_.probe = PciEntries<T>::probe;
		drv_.remove = PciEntries<T>::remove;
		KCXX_TRY(to_result(__pci_register_driver(&drv_, &__this_module, KBUILD_MODNAME)));
		registered_ = true;
		return ok();
	}
	~PciDriver()
	{
		if (registered_)
			pci_unregister_driver(&drv_);
	}
	/* For the owner (module init/exit), not for probe/remove. */
	Context &context() { return ctx_; }
	static constexpr usize context_offset() { return __builtin_offsetof(PciDriver, ctx_); }

private:
	friend struct PciAdapter<T>;
	/* The context of the PciDriver p is bound (or being bound) to. */
	[[gnu::always_inline]] static Context &context_of(struct pci_dev *p)
	{
		char *drv = reinterpret_cast<char *>(
			kabi::field<void *, KABI_DEVICE_driver>(PciDevice(p).dev()));
		return reinterpret_cast<PciDriver *>(drv - KABI_PCI_DRIVER_driver -
						     __builtin_offsetof(PciDriver, drv_))
			->ctx_;
	}

	kabi::pci_driver drv_{};
	bool registered_ = false;
	Context ctx_;
};

constexpr kabi::pci_device_id device_id(u32 vendor, u32 device)
{
	return {.vendor = vendor, .device = device, .subvendor = (u32)KABI_PCI_ANY_ID,
		.subdevice = (u32)KABI_PCI_ANY_ID};
}

} // namespace kcxx::pci

#define KCXX_PCI_DRIVER(T, prefix)                                                   \
	extern "C" int prefix##_probe(struct pci_dev *p,                             \
				      const kcxx::kabi::pci_device_id *id)           \
	{                                                                            \
		return kcxx::pci::PciAdapter<T>::probe(p, id);                       \
	}                                                                            \
	extern "C" void prefix##_remove(struct pci_dev *p)                           \
	{                                                                            \
		kcxx::pci::PciAdapter<T>::remove(p);                                 \
	}                                                                            \
	template <> struct kcxx::pci::PciEntries<T> {                                \
		static constexpr auto probe = &prefix##_probe;                       \
		static constexpr auto remove = &prefix##_remove;                     \
	};

/* MODULE_DEVICE_TABLE(pci, name) for a C++ id table (zero entry appended). */
#define KCXX_PCI_DEVICE_TABLE(name, ...)                                             \
	extern "C" const kcxx::kabi::pci_device_id name[] = {__VA_ARGS__, {}};      \
	extern "C" const kcxx::kabi::pci_device_id                                   \
		__mod_pci__##name##_device_table[sizeof(name) / sizeof(name[0])]     \
		__attribute__((unused, alias(#name)));

#endif
