// SPDX-License-Identifier: GPL-2.0
/*
 * counter.cpp - the counter misc device (/dev/counter-cxx) in C++20 on kcxx.
 *
 * Same behaviour, ABI and parameters as kmod/c/counter_c.c: read() gives the
 * value as decimal text and "\n", write() adds a decimal number (-EINVAL for
 * bad text, -ERANGE on overflow, value unchanged), ioctls RESET/GET/SET,
 * sync=mutex|spinlock|atomic, mode=.
 *
 * The difference the lab measures: the C driver switches on the sync mode in
 * every operation.  Here the mode is a template parameter: CounterOps<Policy>
 * is compiled three times, each with its lock code inlined and no switch,
 * into three constant file_operations tables, and init picks one table once.
 * Entry points: counter_cxx_{read,write,ioctl}_{mutex,spinlock,atomic}.
 */
#include <kcxx/kcxx.h>

#include <uapi/counter.h>
#include <uapi/kmodlab.h>

#include <kcxx/trace.h>
#define KMODLAB_TP KCXX_TRACE_EVENT
#include <kmodlab/trace/counter_events.h>

using namespace kcxx;
using kcxx::fs::File;

#define COUNTER_CXX_NODE COUNTER_NAME KMODLAB_DEV_SEP KMODLAB_VARIANT_CXX

namespace
{

/* The module parameters (counter_c's names, types and permissions). */
namespace params
{
KCXX_PARAM(sync, const char *, COUNTER_SYNC_DEFAULT, 0444,
	   "how the value is protected: mutex, spinlock or atomic");
KCXX_PARAM(mode, unsigned short, KMODLAB_DEV_MODE, 0444, "permission bits of the device node");
} // namespace params

/* value += delta unless it overflows (check_add_overflow); sync: the
 * policy's index in COUNTER_SYNC_MODES, for the counter_change event. */
inline Result<void> add_checked(s64 &value, s64 delta, int sync)
{
	s64 sum = KCXX_TRY(checked_add(value, delta, errc::range));
	kcxx_trace::counter_change(kcxx::trace::reread(value), sum, sync);
	value = sum;
	return ok();
}

/* The three policies: same interface, each settled at compile time. */
struct SyncMutex {
	static constexpr int index = 0; /* in COUNTER_SYNC_MODES */
	static constexpr const char *name = COUNTER_SYNC_MUTEX;
	Mutex<s64> value{ KCXX_LOCK_CLASS(counter_cxx_mutex), 0 };

	Result<s64> get()
	{
		auto g = KCXX_TRY(value.lock_interruptible());
		return *g;
	}
	Result<void> set(s64 v)
	{
		auto g = KCXX_TRY(value.lock_interruptible());
		*g = v;
		return ok();
	}
	Result<void> add(s64 d)
	{
		auto g = KCXX_TRY(value.lock_interruptible());
		return add_checked(*g, d, index);
	}
};

struct SyncSpinLock {
	static constexpr int index = 1; /* in COUNTER_SYNC_MODES */
	static constexpr const char *name = COUNTER_SYNC_SPINLOCK;
	SpinLock<s64> value{ KCXX_LOCK_CLASS(counter_cxx_spinlock), 0 };

	Result<s64> get()
	{
		return *value.lock();
	}
	Result<void> set(s64 v)
	{
		*value.lock() = v;
		return ok();
	}
	Result<void> add(s64 d)
	{
		return add_checked(*value.lock(), d, index);
	}
};

struct SyncAtomic {
	static constexpr int index = 2; /* in COUNTER_SYNC_MODES */
	static constexpr const char *name = COUNTER_SYNC_ATOMIC;
	Atomic<s64> value{ 0 };

	Result<s64> get()
	{
		return value.load();
	}
	Result<void> set(s64 v)
	{
		value.store(v);
		return ok();
	}
	Result<void> add(s64 d)
	{
		s64 old = value.load(), sum;
		do {
			sum = KCXX_TRY(checked_add(old, d, errc::range));
		} while (!value.compare_exchange(old, sum));
		/* sum - d, not old: keeping old beside cmpxchg's register costs a move. */
		kcxx_trace::counter_change(sum - d, sum, index);
		return ok();
	}
};

/* The device's context: the three policies' state (only the chosen one is
 * ever used; each file operations table reaches its own). */
struct CounterState {
	SyncMutex mutex;
	SyncSpinLock spinlock;
	SyncAtomic atomic;

	template <class P> P &get()
	{
		if constexpr (same_as<P, SyncMutex>)
			return mutex;
		else if constexpr (same_as<P, SyncSpinLock>)
			return spinlock;
		else
			return atomic;
	}
};
using CounterRegistration = MiscRegistration<CounterState>;

/* The file operations, generic over the policy: each receives the context
 * of the misc device the file was opened through. */
template <class P> struct CounterOps {
	using Registration = CounterRegistration;

	static constexpr auto kernel_llseek = &default_llseek;
	static constexpr auto kernel_compat_ioctl = fs::compat_ptr_ioctl;

	static Result<usize> read(CounterState &st, File, UserSlice::Writer out, loff_t &pos)
	{
		char text[COUNTER_TEXT_MAX + 1];

		if (pos < 0)
			return errc::inval;
		s64 v = KCXX_TRY(st.get<P>().get());
		usize len = KCXX_FORMAT(text, "%lld\n", v);
		return out.read_from_buffer(pos, text, len);
	}

	static Result<usize> write(CounterState &st, File, UserSlice::Reader in, loff_t &)
	{
		char text[COUNTER_WRITE_MAX + 1];
		usize count = in.left();

		if (count == 0 || count > COUNTER_WRITE_MAX)
			return errc::inval;
		KCXX_TRY(in.read_raw(text, count));
		/* "  [+-]digits  ": NUL bytes are bad text too */
		if (str::contains(text, count, '\0'))
			return errc::inval;
		text[count] = '\0';
		s64 delta = KCXX_TRY(str::parse_s64(text));
		KCXX_TRY(st.get<P>().add(delta));
		return count;
	}

	static Result<long> ioctl(CounterState &st, File, unsigned cmd, unsigned long arg)
	{
		P &p = st.get<P>();

		switch (cmd) {
		case COUNTER_IOC_RESET:
			KCXX_TRY(p.set(0));
			return 0;
		case COUNTER_IOC_GET: {
			s64 v = KCXX_TRY(p.get());
			KCXX_TRY(UserPtr<s64>(arg).write(v));
			return 0;
		}
		case COUNTER_IOC_SET: {
			s64 v = KCXX_TRY(UserPtr<s64>(arg).read());
			KCXX_TRY(p.set(v));
			return 0;
		}
		default:
			return errc::notty;
		}
	}
};

using CounterMutex = CounterOps<SyncMutex>;
using CounterSpinLock = CounterOps<SyncSpinLock>;
using CounterAtomic = CounterOps<SyncAtomic>;

} // namespace

KCXX_FILE_OPERATIONS(CounterMutex, counter_cxx, _mutex, read, write, unlocked_ioctl)
KCXX_FILE_OPERATIONS(CounterSpinLock, counter_cxx, _spinlock, read, write, unlocked_ioctl)
KCXX_FILE_OPERATIONS(CounterAtomic, counter_cxx, _atomic, read, write, unlocked_ioctl)

namespace
{

struct CounterModule {
	CounterRegistration misc;

	Result<void> init()
	{
		static const char *const names[] = COUNTER_SYNC_MODES;
		/* Chosen once: the table of the selected policy. */
		static constexpr fs::Ops<CounterRegistration> tables[] = { fs::ops<CounterMutex>,
									   fs::ops<CounterSpinLock>,
									   fs::ops<CounterAtomic> };
		static_assert(array_size(names) == array_size(tables));
		const char *sync = params::sync.get();
		unsigned short mode = params::mode.get();

		auto i = str::match(names, sync ? sync : "");
		if (!i) {
			pr_err("sync=%s is not one of " COUNTER_SYNC_MUTEX
			       ", " COUNTER_SYNC_SPINLOCK ", " COUNTER_SYNC_ATOMIC "\n",
			       sync ? sync : "(empty)");
			return errc::inval;
		}
		if (mode & ~0777) {
			pr_err("mode=%#o: only permission bits are allowed\n", mode);
			return errc::inval;
		}
		KCXX_TRY(misc.register_device(COUNTER_CXX_NODE, tables[i.value()], mode));
		pr_info("/dev/" COUNTER_CXX_NODE " ready, sync=%s\n", names[i.value()]);
		return ok();
	}
	void exit()
	{
		pr_info("unloaded\n");
	}

	/* where the locks are, for their kallsyms names (KCXX_LOCK_SYMBOL) */
	static constexpr usize state_offset();
};

constexpr usize CounterModule::state_offset()
{
	return __builtin_offsetof(CounterModule, misc) + CounterRegistration::context_offset();
}

} // namespace

KCXX_MODULE(CounterModule, "kmodlab",
	    "counter misc device with selectable locking, C++20 driver on kcxx", "GPL");
KCXX_LOCK_SYMBOL_AT(CounterModule::state_offset() + __builtin_offsetof(CounterState, mutex.value),
		    counter_cxx_mutex);
KCXX_LOCK_SYMBOL_AT(CounterModule::state_offset() +
			    __builtin_offsetof(CounterState, spinlock.value),
		    counter_cxx_spinlock);
