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
 * driver, each open file and the BAR's devres action hold one), so it
 * outlives remove().  BAR0 lives in a Devres (kcxx/devres.h): the driver
 * core revokes it when the device unbinds, and every operation on an open
 * file then fails with -ENODEV.  In C that is a convention ("check ->regs
 * after locking"); here try_access_with() is the only way to the registers,
 * and the registers are types checked against BAR0's size (kcxx/regs.h).
 */
#include <kcxx/kcxx.h>
#include <kcxx/devres.h>
#include <kcxx/param.h>
#include <kcxx/pci.h>
#include <kcxx/user_str.h>

#include <uapi/kmodlab.h>
#include <uapi/lkp_enc.h>

#include <kcxx/trace.h>
#define KMODLAB_TP KCXX_TRACE_EVENT
#include <kmodlab/trace/lkp_enc_events.h>

using namespace kcxx;
using kcxx::fs::File;
using kcxx::pci::PciDevice;

#define LKP_ENC_CXX_NODE LKP_ENC_NAME KMODLAB_DEV_SEP KMODLAB_VARIANT_CXX

/* The HW9 numbers, from the encoders and the uapi macros alike. */
static_assert(LKP_ENC_IOC_WRITE_SEED == ioctl::iow<__u32>(LKP_ENC_IOC_MAGIC, 1));
static_assert(LKP_ENC_IOC_READ_SEED == ioctl::ior<__u32>(LKP_ENC_IOC_MAGIC, 2));
static_assert(LKP_ENC_IOC_WRITE_STRING == ioctl::iow<__u64>(LKP_ENC_IOC_MAGIC, 3));
static_assert(LKP_ENC_IOC_READ_STRING == ioctl::ior<__u64>(LKP_ENC_IOC_MAGIC, 4));

namespace
{

/* The module parameters (lkp_enc_c's names, types and permissions). */
namespace params
{
KCXX_PARAM(mode, unsigned short, KMODLAB_DEV_MODE, 0444, "permission bits of the device node");
/* Test only (tests/reliability), as lkp_enc_c's: when N > 0 the N-th
 * allocation from now on fails, and the parameter counts down to 0.  The
 * driver allocates only its per-device state in probe, so this makes a bind
 * fail with -ENOMEM. */
KCXX_PARAM(fail_alloc_nth, FailNth, 0, 0600,
	   "test only: fail the N-th allocation from now on (0: off)");
} // namespace params

/* BAR0 and its registers (kmod/include/uapi/lkp_enc.h): each access below
 * is checked against LKP_ENC_BAR_SIZE at compile time. */
using Regs = pci::Bar<LKP_ENC_BAR_SIZE>;
using Seed = io::Reg<LKP_ENC_REG_SEED, u32>;
using Text = io::RegArray<LKP_ENC_REG_STRING, char, LKP_ENC_STRING_SIZE>;
using TextLen = Bounded<LKP_ENC_STRING_MAX>; /* a string that fits with its NUL */
using TextBuf = char[LKP_ENC_STRING_SIZE];

struct LkpEnc;
/* The misc device's context: the device it belongs to (open() takes a
 * reference to it). */
using LkpEncRegistration = MiscRegistration<LkpEnc *>;

struct LkpEnc {
	RefCount ref{ 1 }; /* the bound driver, each open file, the BAR's devres action */
	Devres<Regs> regs{ KCXX_LOCK_CLASS(lkp_enc_cxx_regs) }; /* revoked at unbind */
	LkpEncRegistration misc{ this };
};

/* Store s[0, len) and a terminating NUL in the device.  Lock held.  Always
 * inline, as without the event (its call made GCC keep these out of line). */
[[gnu::always_inline]] inline void put_string(const Regs &io, const TextBuf &s, TextLen len)
{
	kcxx_trace::lkp_enc_string_write(len.get()); /* before: see lkp_enc_c_put_string */
	io.write_from<Text>(s, len);
	io.write_at<Text>(len, '\0');
}

/* Read the string up to its NUL into buf; its length.  Lock held.  Always
 * inline (see put_string). */
[[gnu::always_inline]] inline TextLen get_string(const Regs &io, TextBuf &buf)
{
	TextLen len = io.read_until<Text>(buf, TextLen::constant<LKP_ENC_STRING_MAX>(), '\0');
	buf[len.get()] = '\0';
	kcxx_trace::lkp_enc_string_read(len.get());
	return len;
}

struct LkpEncFile {
	using Registration = LkpEncRegistration;
	using Data = LkpEnc;
	static constexpr auto kernel_llseek = &default_llseek;
	static constexpr auto kernel_compat_ioctl = fs::compat_ptr_ioctl;

	/* misc_open() holds misc_mtx, so the device cannot be deregistered
	 * (and dropped) before we take our reference. */
	static Result<LkpEnc *> open(LkpEnc *&enc, File)
	{
		return ARef<LkpEnc>::get(enc).into_raw();
	}

	static void release(LkpEnc &enc, File)
	{
		ARef<LkpEnc>::adopt(&enc);
	}

	static Result<usize> read(LkpEnc &enc, File, UserSlice::Writer out, loff_t &pos)
	{
		TextBuf text;

		if (pos < 0)
			return errc::inval;
		TextLen len;
		KCXX_TRY(enc.regs.try_access_with(
			[&](const Regs &io) { len = get_string(io, text); }));
		return out.read_from_buffer(pos, text, len.get());
	}

	static Result<usize> write(LkpEnc &enc, File, UserSlice::Reader in, loff_t &)
	{
		TextBuf text;
		TextLen count = TextLen::clamp(in.left());

		if (in.read_partial(text, count.get()))
			return errc::fault;
		KCXX_TRY(enc.regs.try_access_with(
			[&](const Regs &io) { put_string(io, text, count); }));
		return count.get();
	}

	static Result<void> write_seed(LkpEnc &enc, unsigned long arg)
	{
		u32 seed = KCXX_TRY(UserPtr<u32>(arg).read());
		return enc.regs.try_access_with([&](const Regs &io) {
			kcxx_trace::lkp_enc_seed_write(seed);
			io.write<Seed>(seed);
		});
	}

	static Result<void> read_seed(LkpEnc &enc, unsigned long arg)
	{
		u32 seed;
		KCXX_TRY(enc.regs.try_access_with([&](const Regs &io) { seed = io.read<Seed>(); }));
		return UserPtr<u32>(arg).write(seed);
	}

	/* The two string ioctls stay out of line, as GCC keeps C's
	 * lkp_enc_c_ioc_*_string (their 256-byte buffers): the entry point's
	 * other paths then need no frame and no stack-protector check. */
	[[gnu::noinline]] static Result<void> write_string(LkpEnc &enc, unsigned long arg)
	{
		TextBuf text;
		/* -EFAULT, or -EINVAL when there is no NUL within 256 bytes */
		TextLen len;
		KCXX_TRY(UserCStr(arg).copy_into(text, len));
		return enc.regs.try_access_with([&](const Regs &io) { put_string(io, text, len); });
	}

	[[gnu::noinline]] static Result<void> read_string(LkpEnc &enc, unsigned long arg)
	{
		TextBuf text;
		TextLen len;
		KCXX_TRY(enc.regs.try_access_with(
			[&](const Regs &io) { len = get_string(io, text); }));
		return UserSlice(arg, len.get() + 1).writer().write_raw(text, len.get() + 1);
	}

	/* Every lkp_enc ioctl returns 0 or an error: Result<void>, C's int. */
	static Result<void> ioctl(LkpEnc &enc, File, unsigned cmd, unsigned long arg)
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

/* The driver's context: the one bound device (one per driver, as C's). */
struct LkpEncState {
	Mutex<LkpEnc *> instance{ KCXX_LOCK_CLASS(lkp_enc_cxx_instance_lock), nullptr };
};

struct LkpEncDriver {
	using Context = LkpEncState;
	using Data = LkpEnc;

	static Result<LkpEnc *> probe(LkpEncState &st, PciDevice pdev, const kabi::pci_device_id &)
	{
		auto inst = st.instance.lock();
		if (*inst) {
			dev_err(pdev,
				"refusing a second device: this driver serves one (/dev/%s)\n",
				LKP_ENC_CXX_NODE);
			return errc::busy;
		}
		if (params::fail_alloc_nth.should_fail()) /* test-only fault injection */
			return errc::nomem;
		LkpEnc *raw = new (gfp::kernel | gfp::zero) LkpEnc();
		if (!raw)
			return errc::nomem;
		ARef<LkpEnc> enc = ARef<LkpEnc>::adopt(raw); /* freed on any error below */
		/* enable, request, map; unmapped when the device unbinds (or this
		 * probe fails), whoever still holds enc */
		KCXX_TRY(enc->regs.attach(pdev.dev(),
					  KCXX_TRY(Regs::create(pdev, 0, KBUILD_MODNAME)), enc));
		if (auto r = enc->misc.register_device(LKP_ENC_CXX_NODE, fs::ops<LkpEncFile>,
						       params::mode.get(), pdev.dev());
		    !r) {
			dev_err(pdev, "misc_register failed: %d\n", r.error().to_errno());
			return r.error();
		}
		*inst = raw;
		dev_info(pdev, "/dev/%s ready, BAR0 %pR\n", LKP_ENC_CXX_NODE, pdev.resource(0));
		return enc.into_raw();
	}

	static void remove(LkpEncState &st, LkpEnc *raw, PciDevice pdev)
	{
		ARef<LkpEnc> enc = ARef<LkpEnc>::adopt(raw); /* the driver's reference */

		/* No new opens after this; open files keep enc alive, and the
		 * driver core revokes BAR0 (Devres) when remove() returns. */
		enc->misc.deregister();
		*st.instance.lock() = nullptr;
		dev_info(pdev, "removed\n");
	}
};

} // namespace

KCXX_PCI_DRIVER(LkpEncDriver, lkp_enc_cxx)
KCXX_PCI_DEVICE_TABLE(lkp_enc_cxx_ids, pci::device_id(LKP_ENC_PCI_VENDOR, LKP_ENC_PCI_DEVICE))

namespace
{

struct LkpEncModule {
	pci::PciDriver<LkpEncDriver> driver;

	Result<void> init()
	{
		if (unsigned short mode = params::mode.get(); mode & ~0777) {
			pr_err("mode=%#o: only permission bits are allowed\n", mode);
			return errc::inval;
		}
		return driver.register_driver(KBUILD_MODNAME, lkp_enc_cxx_ids);
	}

	/* where the instance lock is, for its kallsyms name */
	static constexpr usize state_offset();
};

constexpr usize LkpEncModule::state_offset()
{
	return __builtin_offsetof(LkpEncModule, driver) +
	       pci::PciDriver<LkpEncDriver>::context_offset();
}

} // namespace

KCXX_MODULE(LkpEncModule, "kmodlab", "lkp_enc Caesar-cipher PCI device, C++20 driver on kcxx",
	    "GPL");
KCXX_LOCK_SYMBOL_AT(LkpEncModule::state_offset() + __builtin_offsetof(LkpEncState, instance),
		    lkp_enc_cxx_instance_lock);
