/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/pci.h - PCI drivers (Rust-for-Linux: kernel::pci).
 *
 * A PCI driver type T provides
 *
 *   using Data = D;
 *   static Result<D *> probe(PciDevice, const kabi::pci_device_id &);
 *   static void remove(D *, PciDevice);
 *
 * KCXX_PCI_DRIVER(T, prefix) defines the extern "C" entry points
 * <prefix>_probe / <prefix>_remove; PciDriver<T> registers them under the
 * module's name and unregisters in its destructor.  KCXX_PCI_DEVICE_TABLE
 * emits the id table and the __mod_pci__*_device_table alias modpost turns
 * into module aliases (MODULE_DEVICE_TABLE).
 *
 * Invariants: D is stored as the device's driver data between a successful
 * probe and remove, and remove gets back exactly that pointer; a PciIoMap
 * unmaps in its destructor.
 */
#ifndef KCXX_PCI_H
#define KCXX_PCI_H

#include <kcxx/device.h>
#include <kcxx/io.h>

namespace kcxx::pci {

class PciDevice {
public:
	explicit PciDevice(struct pci_dev *p) : p_(p) {}
	struct pci_dev *raw() const { return p_; }
	struct device *dev() const
	{
		return reinterpret_cast<struct device *>(reinterpret_cast<char *>(p_) + KABI_PCI_DEV_dev);
	}
	void *&drvdata() const { return kabi::field<void *, KABI_DEVICE_driver_data>(dev()); }
	Result<void> enable() const
	{
		int ret = pci_enable_device(p_);
		return ret ? Result<void>(Error::from_errno(ret)) : ok();
	}
	void disable() const { pci_disable_device(p_); }
	Result<void> request_regions(const char *name) const
	{
		int ret = pci_request_regions(p_, name);
		return ret ? Result<void>(Error::from_errno(ret)) : ok();
	}
	void release_regions() const { pci_release_regions(p_); }
	/* &pdev->resource[bar] (for %pR) and pci_resource_len() */
	const void *resource(int bar) const
	{
		return reinterpret_cast<char *>(p_) + KABI_PCI_DEV_resource + bar * KABI_RESOURCE_SIZE;
	}
	u64 resource_len(int bar) const
	{
		const void *r = resource(bar);
		u64 start = *reinterpret_cast<const u64 *>(static_cast<const char *>(r) + KABI_RESOURCE_start);
		u64 end = *reinterpret_cast<const u64 *>(static_cast<const char *>(r) + KABI_RESOURCE_end);
		return end == 0 ? 0 : end - start + 1;
	}

private:
	struct pci_dev *p_;
};

/* A mapped BAR of compile-time size; unmapped by the destructor. */
template <usize Size> class PciIoMap : Pinned {
public:
	Result<void> map(PciDevice dev, int bar)
	{
		void *p = pci_iomap(dev.raw(), bar, Size);
		if (!p)
			return errc::nomem;
		dev_ = dev.raw();
		io_ = IoMem<Size>(p);
		return ok();
	}
	void unmap()
	{
		if (dev_)
			pci_iounmap(dev_, io_.base());
		dev_ = nullptr;
		io_ = IoMem<Size>();
	}
	~PciIoMap() { unmap(); }
	const IoMem<Size> &io() const { return io_; }
	explicit operator bool() const { return dev_ != nullptr; }

private:
	struct pci_dev *dev_ = nullptr;
	IoMem<Size> io_;
};

template <class T> struct PciAdapter {
	using D = typename T::Data;
	[[gnu::always_inline]] static int probe(struct pci_dev *p, const kabi::pci_device_id *id)
	{
		Result<D *> r = T::probe(PciDevice(p), *id);
		if (!r)
			return r.error().to_errno();
		PciDevice(p).drvdata() = r.value();
		return 0;
	}
	[[gnu::always_inline]] static void remove(struct pci_dev *p)
	{
		D *d = static_cast<D *>(PciDevice(p).drvdata());
		PciDevice(p).drvdata() = nullptr;
		T::remove(d, PciDevice(p));
	}
};

template <class T> struct PciEntries;

template <class T> class PciDriver : Pinned {
public:
	Result<void> register_driver(const char *name, const kabi::pci_device_id *ids)
	{
		drv_.name = name;
		drv_.id_table = ids;
		drv_.probe = PciEntries<T>::probe;
		drv_.remove = PciEntries<T>::remove;
		int ret = __pci_register_driver(&drv_, &__this_module, KBUILD_MODNAME);
		if (ret)
			return Error::from_errno(ret);
		registered_ = true;
		return ok();
	}
	~PciDriver()
	{
		if (registered_)
			pci_unregister_driver(&drv_);
	}

private:
	kabi::pci_driver drv_{};
	bool registered_ = false;
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
