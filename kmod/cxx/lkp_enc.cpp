// SPDX-License-Identifier: GPL-2.0
/*
 * lkp_enc.cpp - PCI driver for the emulated lkp_enc Caesar-cipher device,
 * in C++20 on kcxx (/dev/lkp_enc-cxx).
 *
 * Behaviour and ABI are kmod/c/lkp_enc_c.c's: BAR0 holds a 32-bit seed and a
 * 256-byte string buffer the device encrypts as it is written; write()
 * stores a string (at most 255 bytes taken), read() returns the encrypted
 * string then EOF, the HW9 ioctls set/get seed and string.  One device per
 * driver (a second one gets -EBUSY).
 *
 * Unbind while a file is open: LkpEnc is reference counted (ARef: the bound
 * driver and each open file hold one), so it outlives remove(); remove()
 * empties the Mutex-guarded register window, and every operation that finds
 * it empty fails with -ENODEV.  In C that is a convention ("check ->regs
 * after locking"); here live() is the only way to reach the registers.
 */
#include <kcxx/kcxx.h>
#include <kcxx/pci.h>

#include <uapi/kmodlab.h>
#include <uapi/lkp_enc.h>

#include "lkp_enc_glue.h"

using namespace kcxx;
using kcxx::fs::File;
using kcxx::fs::Inode;
using kcxx::pci::PciDevice;

#define LKP_ENC_CXX_NODE LKP_ENC_NAME KMODLAB_DEV_SEP KMODLAB_VARIANT_CXX

/* The HW9 numbers, from the encoders and the uapi macros alike. */
static_assert(LKP_ENC_IOC_WRITE_SEED == ioctl::iow<__u32>(LKP_ENC_IOC_MAGIC, 1));
static_assert(LKP_ENC_IOC_READ_SEED == ioctl::ior<__u32>(LKP_ENC_IOC_MAGIC, 2));
static_assert(LKP_ENC_IOC_WRITE_STRING == ioctl::iow<__u64>(LKP_ENC_IOC_MAGIC, 3));
static_assert(LKP_ENC_IOC_READ_STRING == ioctl::ior<__u64>(LKP_ENC_IOC_MAGIC, 4));

namespace
{

/* Test-only fault injection (fail_alloc_nth, as the C driver's): true for
 * the N-th allocation from now on; a lock-free countdown (sysfs writes the
 * int with a plain store). */
inline bool lkp_enc_cxx_fail_alloc()
{
	int n = read_once(lkp_enc_cxx_fail_alloc_nth);
	do {
		if (n <= 0)
			return false;
	} while (!__atomic_compare_exchange_n(&lkp_enc_cxx_fail_alloc_nth, &n, n - 1, false,
					      __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
	return n == 1;
}

using Regs = IoMem<LKP_ENC_BAR_SIZE>;

struct LkpEnc {
	RefCount ref{ 1 }; /* the bound driver + each open file */
	/* BAR0; empty once the device is gone */
	Mutex<Regs> regs{ KCXX_LOCK_CLASS(lkp_enc_cxx_regs) };
	MiscDevice misc;

	/* The registers, locked; -ENODEV if the device was unbound. */
	Result<Mutex<Regs>::Guard> live()
	{
		auto g = KCXX_TRY(regs.lock_interruptible());
		if (!*g)
			return errc::nodev;
		return g;
	}
};

/* Store len bytes and a terminating NUL in the device.  Lock held. */
void put_string(const Regs &io, const char *s, usize len)
{
	for (usize i = 0; i < len; i++)
		io.iowrite8(s[i], LKP_ENC_REG_STRING + i);
	io.iowrite8(0, LKP_ENC_REG_STRING + len);
}

/* Read the string up to its NUL into buf[LKP_ENC_STRING_SIZE]; its length. */
usize get_string(const Regs &io, char *buf)
{
	usize len;
	for (len = 0; len < LKP_ENC_STRING_MAX; len++) {
		buf[len] = io.ioread8(LKP_ENC_REG_STRING + len);
		if (!buf[len])
			break;
	}
	buf[len] = '\0';
	return len;
}

struct LkpEncFile {
	using Data = LkpEnc;
	static constexpr auto kernel_llseek = &default_llseek;
	static constexpr auto kernel_compat_ioctl = &compat_ptr_ioctl;

	static Result<LkpEnc *> open(Inode, File f)
	{
		/* misc_open() put our miscdevice here; it holds misc_mtx, so the
		 * device cannot be deregistered before we take our reference. */
		MiscDevice *misc = MiscDevice::from_raw(f.private_data());
		return ARef<LkpEnc>::get(KCXX_CONTAINER_OF(misc, LkpEnc, misc)).into_raw();
	}

	static void release(LkpEnc &enc, Inode, File)
	{
		ARef<LkpEnc>::adopt(&enc);
	}

	static Result<usize> read(LkpEnc &enc, File, UserSlice::Writer out, loff_t &pos)
	{
		char text[LKP_ENC_STRING_SIZE];
		usize len;

		if (pos < 0)
			return errc::inval;
		{
			auto io = KCXX_TRY(enc.live());
			len = get_string(*io, text);
		}
		return out.read_from_buffer(pos, text, len);
	}

	static Result<usize> write(LkpEnc &enc, File, UserSlice::Reader in, loff_t &)
	{
		char text[LKP_ENC_STRING_SIZE];
		usize count = in.left() < LKP_ENC_STRING_MAX ? in.left() : LKP_ENC_STRING_MAX;

		if (in.read_partial(text, count))
			return errc::fault;
		auto io = KCXX_TRY(enc.live());
		put_string(*io, text, count);
		return count;
	}

	static Result<long> write_seed(LkpEnc &enc, unsigned long arg)
	{
		u32 seed = KCXX_TRY(UserPtr<u32>(arg).read());
		auto io = KCXX_TRY(enc.live());
		io->iowrite32(seed, LKP_ENC_REG_SEED);
		return 0;
	}

	static Result<long> read_seed(LkpEnc &enc, unsigned long arg)
	{
		u32 seed;
		{
			auto io = KCXX_TRY(enc.live());
			seed = io->ioread32(LKP_ENC_REG_SEED);
		}
		KCXX_TRY(UserPtr<u32>(arg).write(seed));
		return 0;
	}

	static Result<long> write_string(LkpEnc &enc, unsigned long arg)
	{
		char text[LKP_ENC_STRING_SIZE];
		long len =
			strncpy_from_user(text, reinterpret_cast<const char *>(arg), sizeof(text));

		if (len < 0)
			return errc::fault;
		if (len > LKP_ENC_STRING_MAX) /* no NUL within 256 bytes */
			return errc::inval;
		auto io = KCXX_TRY(enc.live());
		put_string(*io, text, len);
		return 0;
	}

	static Result<long> read_string(LkpEnc &enc, unsigned long arg)
	{
		char text[LKP_ENC_STRING_SIZE];
		usize len;
		{
			auto io = KCXX_TRY(enc.live());
			len = get_string(*io, text);
		}
		if (copy_to_user(arg, text, len + 1))
			return errc::fault;
		return 0;
	}

	static Result<long> ioctl(LkpEnc &enc, File, unsigned cmd, unsigned long arg)
	{
		switch (cmd) {
		case LKP_ENC_IOC_WRITE_SEED:
			return write_seed(enc, arg);
		case LKP_ENC_IOC_READ_SEED:
			return read_seed(enc, arg);
		case LKP_ENC_IOC_WRITE_STRING:
			return write_string(enc, arg);
		case LKP_ENC_IOC_READ_STRING:
			return read_string(enc, arg);
		default:
			return errc::notty;
		}
	}
};

} // namespace

KCXX_FILE_OPERATIONS(LkpEncFile, lkp_enc_cxx, , read, write, unlocked_ioctl, open, release)

namespace
{

Mutex<LkpEnc *> &instance();

/* Enable the device and map BAR0 into the (not yet shared) register window. */
Result<void> map(PciDevice pdev, LkpEnc &enc)
{
	KCXX_TRY(pdev.enable());
	if (auto r = pdev.request_regions(KBUILD_MODNAME); !r) {
		pdev.disable();
		return r.error();
	}
	Error err = errc::nomem;
	if (pdev.resource_len(0) < LKP_ENC_BAR_SIZE) {
		_dev_err(pdev.dev(), "BAR0 %pR is smaller than %d bytes\n", pdev.resource(0),
			 LKP_ENC_BAR_SIZE);
		err = errc::nodev;
	} else if (void *p = pci_iomap(pdev.raw(), 0, LKP_ENC_BAR_SIZE)) {
		*enc.regs.lock() = Regs(p);
		return ok();
	}
	pdev.release_regions();
	pdev.disable();
	return err;
}

void unmap(PciDevice pdev, LkpEnc &enc)
{
	{
		/* Open files see an empty window (-ENODEV) from here on. */
		auto io = enc.regs.lock();
		pci_iounmap(pdev.raw(), io->base());
		*io = Regs();
	}
	pdev.release_regions();
	pdev.disable();
}

struct LkpEncDriver {
	using Data = LkpEnc;

	static Result<LkpEnc *> probe(PciDevice pdev, const kabi::pci_device_id &)
	{
		auto inst = instance().lock();
		if (*inst) {
			_dev_err(pdev.dev(),
				 "refusing a second device: this driver serves one (/dev/%s)\n",
				 LKP_ENC_CXX_NODE);
			return errc::busy;
		}
		if (lkp_enc_cxx_fail_alloc()) /* test-only fault injection */
			return errc::nomem;
		LkpEnc *raw = new (gfp::kernel | gfp::zero) LkpEnc();
		if (!raw)
			return errc::nomem;
		ARef<LkpEnc> enc = ARef<LkpEnc>::adopt(raw); /* freed on any error below */
		KCXX_TRY(map(pdev, *enc));
		if (auto r = enc->misc.register_device(LKP_ENC_CXX_NODE, fs::vtable<LkpEncFile>,
						       lkp_enc_cxx_mode, pdev.dev());
		    !r) {
			_dev_err(pdev.dev(), "misc_register failed: %d\n", r.error().to_errno());
			unmap(pdev, *enc);
			return r.error();
		}
		*inst = raw;
		_dev_info(pdev.dev(), "/dev/%s ready, BAR0 %pR\n", LKP_ENC_CXX_NODE,
			  pdev.resource(0));
		return enc.into_raw();
	}

	static void remove(LkpEnc *raw, PciDevice pdev)
	{
		ARef<LkpEnc> enc = ARef<LkpEnc>::adopt(raw); /* the driver's reference */

		/* No new opens after this; open files keep enc alive. */
		enc->misc.deregister();
		unmap(pdev, *enc);
		*instance().lock() = nullptr;
		_dev_info(pdev.dev(), "removed\n");
	}
};

} // namespace

KCXX_PCI_DRIVER(LkpEncDriver, lkp_enc_cxx)
KCXX_PCI_DEVICE_TABLE(lkp_enc_cxx_ids, pci::device_id(LKP_ENC_PCI_VENDOR, LKP_ENC_PCI_DEVICE))

namespace
{

struct LkpEncModule {
	/* the one bound device */
	Mutex<LkpEnc *> instance{ KCXX_LOCK_CLASS(lkp_enc_cxx_instance_lock), nullptr };
	pci::PciDriver<LkpEncDriver> driver; /* unregistered first */

	Result<void> init()
	{
		if (lkp_enc_cxx_mode & ~0777) {
			pr_err("mode=%#o: only permission bits are allowed\n", lkp_enc_cxx_mode);
			return errc::inval;
		}
		return driver.register_driver(KBUILD_MODNAME, lkp_enc_cxx_ids);
	}
};

} // namespace

KCXX_MODULE(LkpEncModule, "kmodlab", "lkp_enc Caesar-cipher PCI device, C++20 driver on kcxx",
	    "GPL");
KCXX_LOCK_SYMBOL(instance, lkp_enc_cxx_instance_lock);

namespace
{
Mutex<LkpEnc *> &instance()
{
	return kcxx_this_module().instance;
}
} // namespace
