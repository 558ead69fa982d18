/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/param.h - module parameters declared in C++ (Rust-for-Linux: the
 * `params` block of module!), and the fail_nth test hook.
 *
 *     namespace params {
 *     KCXX_PARAM(quantum, int, SCULL_QUANTUM_DEFAULT, 0444, "quantum size in bytes");
 *     KCXX_PARAM(fail_alloc_nth, kcxx::FailNth, 0, 0600, "test only: ...");
 *     KCXX_PARAM(qset, kcxx::MutableParam<int>, 1000, 0444, "... (changed by ioctl)");
 *     }
 *     ... params::quantum.get() ... params::fail_alloc_nth.should_fail() ...
 *
 * KCXX_PARAM emits what the kernel's module_param_named() + MODULE_PARM_DESC
 * emit, from C++ and without a constructor (CONFIG_CONSTRUCTORS is off):
 *  - the storage, a constinit kcxx::Param<T> (or kcxx::FailNth), initialised
 *    at compile time, so the loader's parsing of `insmod m.ko quantum=8`
 *    writes into it before init_module runs;
 *  - a constant struct kernel_param in section __param (layout from
 *    kcxx_kabi.h, static_asserted in kcxx/kabi.h) pointing at the storage,
 *    at THIS_MODULE and at the kernel's param_ops_<type>;
 *  - .modinfo "parmtype=<name>:<type>" and "parm=<name>:<desc>", so modinfo,
 *    /sys/module/<m>/parameters/<name> (mode = perm) and the value parser
 *    are exactly those of a C module_param of the same type.
 *
 * Invariants:
 *  - a parameter's C++ type decides its kernel type (int, uint, long,
 *    ushort, bool, charp); any other type does not compile;
 *  - perm passes the checks of the kernel's VERIFY_OCTAL_PERMISSIONS at
 *    compile time (no world-writable parameter, ...);
 *  - the value is read with get(), one untorn load (READ_ONCE): sysfs may
 *    store into a writable parameter at any time; drivers cannot store.
 */
#ifndef KCXX_PARAM_H
#define KCXX_PARAM_H

#include <kcxx/bindings.h>
#include <kcxx/sync.h>

namespace kcxx {

/* The kernel parameter type of each C++ type: its ops and its modinfo name. */
template <class T> struct ParamType; /* undefined: not a parameter type */
#define KCXX_PARAM_TYPE(cxx, kname)                                                     \
	template <> struct ParamType<cxx> {                                             \
		static constexpr const kabi::kernel_param_ops *ops() { return &param_ops_##kname; } \
		static constexpr char name[] = #kname;                                  \
	}
KCXX_PARAM_TYPE(int, int);
KCXX_PARAM_TYPE(unsigned int, uint);
KCXX_PARAM_TYPE(long, long);
KCXX_PARAM_TYPE(unsigned short, ushort);
KCXX_PARAM_TYPE(bool, bool);
KCXX_PARAM_TYPE(const char *, charp);
#undef KCXX_PARAM_TYPE

/* A module parameter's storage.  Invariant: only the kernel (parsing at
 * load, sysfs writes) stores into it; the driver reads with get(). */
template <class T> class Param {
public:
	using kernel_type = T;
	constexpr explicit Param(T v) : v_(v) {}
	Param(const Param &) = delete;
	Param &operator=(const Param &) = delete;
	[[gnu::always_inline]] T get() const { return read_once(v_); }
	/* the storage, for kernel_param.arg and the planted-work asm */
	constexpr void *arg() { return &v_; }
	constexpr const T *ptr() const { return &v_; }

private:
	T v_;
};

/*
 * FailNth: a test-only fault-injection parameter (an int in sysfs, as the
 * C drivers' fail_alloc_nth): writing N > 0 makes the N-th should_fail()
 * from then on return true; the value counts down (read it back to see how
 * many are left) and is 0 again after the failure.  The countdown is
 * lock-free: sysfs stores the int with a plain store at any time.
 */
class FailNth {
public:
	using kernel_type = int;
	constexpr explicit FailNth(int v) : n_(v) {}
	FailNth(const FailNth &) = delete;
	FailNth &operator=(const FailNth &) = delete;
	[[gnu::always_inline]] bool should_fail()
	{
		int n = read_once(n_);
		do {
			if (n <= 0)
				return false;
		} while (!__atomic_compare_exchange_n(&n_, &n, n - 1, false, __ATOMIC_SEQ_CST,
						      __ATOMIC_RELAXED));
		return n == 1;
	}
	int get() const { return read_once(n_); }
	constexpr void *arg() { return &n_; }

private:
	int n_;
};

template <class T> class MutableParam;

/* The one writer of a MutableParam (see there). */
template <class T> class ParamWriter {
public:
	constexpr ParamWriter() = default;
	ParamWriter(ParamWriter &&o) : p_(o.p_) { o.p_ = nullptr; }
	ParamWriter &operator=(ParamWriter &&o)
	{
		p_ = o.p_;
		o.p_ = nullptr;
		return *this;
	}
	ParamWriter(const ParamWriter &) = delete;
	[[gnu::always_inline]] T get() const { return read_once(*p_); }
	/* one untorn store (WRITE_ONCE): lock-free readers see old or new */
	[[gnu::always_inline]] void set(T v) { write_once(*p_, v); }

private:
	friend class MutableParam<T>;
	explicit ParamWriter(T *p) : p_(p) {}
	T *p_ = nullptr;
};

/*
 * MutableParam<T>: a parameter the driver also changes at run time (scull's
 * quantum and qset, which LDD3's ioctls set; sysfs shows the current value,
 * as in C).  Everybody reads with get(), one untorn load, without a lock
 * (what C does with READ_ONCE).  Stores go through the one ParamWriter,
 * taken once (take_writer(); a second call is -EBUSY) and kept by the
 * driver inside the lock that serialises its read-modify-write updates, so
 * the exchange ioctls are atomic and a store outside the lock does not
 * compile (nothing else can name the storage).
 */
template <class T> class MutableParam {
public:
	using kernel_type = T;
	constexpr explicit MutableParam(T v) : v_(v) {}
	MutableParam(const MutableParam &) = delete;
	[[gnu::always_inline]] T get() const { return read_once(v_); }
	Result<ParamWriter<T>> take_writer()
	{
		if (writer_taken_)
			return errc::busy;
		writer_taken_ = true;
		return ParamWriter<T>(&v_);
	}
	constexpr void *arg() { return &v_; }

private:
	T v_;
	bool writer_taken_ = false;
};

template <class S> struct ParamStorage { using type = Param<S>; };
template <class S>
	requires requires { typename S::kernel_type; }
struct ParamStorage<S> { using type = S; };
template <class S> using param_storage_t = typename ParamStorage<S>::type;

/* The kernel's VERIFY_OCTAL_PERMISSIONS, at compile time. */
consteval bool param_perm_ok(int p)
{
	return p >= 0 && p <= 0777 && ((p >> 6) & 4) >= ((p >> 3) & 4) &&
	       ((p >> 3) & 4) >= (p & 4) && ((p >> 6) & 2) >= ((p >> 3) & 2) && !(p & 2);
}

/* A .modinfo string built at compile time from two literals/arrays. */
template <usize N> struct ModinfoString {
	char s[N];
};
template <usize A, usize B>
consteval ModinfoString<A + B - 1> modinfo_concat(const char (&a)[A], const char (&b)[B])
{
	ModinfoString<A + B - 1> r{};
	for (usize i = 0; i + 1 < A; i++)
		r.s[i] = a[i];
	for (usize i = 0; i < B; i++)
		r.s[A - 1 + i] = b[i];
	return r;
}

} // namespace kcxx

/* module_param_named(name, <storage>, <type of T>, perm) + MODULE_PARM_DESC. */
#define KCXX_PARAM(name_, T_, default_, perm_, desc_)                                        \
	constinit ::kcxx::param_storage_t<T_> name_{ default_ };                               \
	static_assert(::kcxx::param_perm_ok(perm_),                                             \
		      "parameter " #name_ ": permissions fail VERIFY_OCTAL_PERMISSIONS");        \
	[[gnu::used, gnu::section("__param"),                                                 \
	  gnu::aligned(alignof(::kcxx::kabi::kernel_param))]] static constexpr ::kcxx::kabi::kernel_param \
		kcxx_param_##name_ = { .name = #name_,                                         \
				       .mod = &__this_module,                                  \
				       .ops = ::kcxx::ParamType<typename ::kcxx::param_storage_t<T_>::kernel_type>::ops(), \
				       .perm = (perm_),                                        \
				       .level = -1,                                            \
				       .flags = 0,                                             \
				       .arg = name_.arg() };                                   \
	[[gnu::used, gnu::section(".modinfo"), gnu::aligned(1)]] static constexpr auto           \
		kcxx_parmtype_##name_ = ::kcxx::modinfo_concat(                                \
			"parmtype=" #name_ ":",                                                \
			::kcxx::ParamType<typename ::kcxx::param_storage_t<T_>::kernel_type>::name); \
	[[gnu::used, gnu::section(".modinfo"), gnu::aligned(1)]] static constexpr char          \
		kcxx_parm_##name_[] = "parm=" #name_ ":" desc_

#endif
