/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/module.h - the module declaration (Rust-for-Linux: module!).
 *
 *     KCXX_MODULE(ScullModule, "author", "description", "GPL");
 *
 * ScullModule is default-constructible (cheap, cannot fail: it only
 * initialises members, e.g. locks) and has `Result<void> init()`; its
 * destructor is the module's exit (preceded by `void exit()` if T has one,
 * for what must happen on unload only, not on a failed init).  The macro defines init_module and
 * cleanup_module (what module_init/module_exit alias) and the .modinfo
 * strings MODULE_AUTHOR/DESCRIPTION/LICENSE emit.
 *
 * Invariants:
 *  - the module object lives in static storage that no constructor touches
 *    at load time (CONFIG_CONSTRUCTORS is off: .init_array would never run);
 *    it is constructed by init_module and destroyed by cleanup_module, or
 *    destroyed at once if init() fails, so every member registered so far is
 *    unregistered in reverse order (the C error-unwind ladder);
 *  - cleanup_module runs the destructor exactly once.
 */
#ifndef KCXX_MODULE_H
#define KCXX_MODULE_H

#include <kcxx/error.h>
#include <kcxx/print.h>

namespace kcxx {
template <class T> concept Module = requires(T &m) {
	{ m.init() } -> same_as<Result<void>>;
};
/* cleanup_module: T::exit() if T has one, then the destructor. */
template <class T> inline void module_exit(T *m)
{
	if constexpr (requires { m->exit(); })
		m->exit();
	m->~T();
}
} // namespace kcxx

#define KCXX_MODINFO(tag, info)                                                       \
	[[gnu::used, gnu::section(".modinfo"), gnu::aligned(1)]] static const char      \
		kcxx_modinfo_##tag[] = #tag "=" info

#define KCXX_MODULE(T, author_, description_, license_)                                 \
	static_assert(kcxx::Module<T>);                                              \
	/* {}: clang (the Rust kernel's compiler) wants every byte of a       \
	 * constinit object initialised; a static is in .bss either way */     \
	static constinit kcxx::RawStorage<T> kcxx_module_storage{};                  \
	using kcxx_module_type = T;                                                  \
	/* the module instance, for code that needs it (valid between init and exit) */ \
	[[maybe_unused]] static T &kcxx_this_module() { return *kcxx_module_storage.get(); } \
	extern "C" [[gnu::section(".init.text"), gnu::cold]] int init_module(void)  \
	{                                                                            \
		T *m = new (kcxx_module_storage.get()) T();                          \
		kcxx::Result<void> r = m->init();                                    \
		if (!r.ok()) {                                                       \
			m->~T();                                                     \
			return r.error().to_errno();                                 \
		}                                                                    \
		return 0;                                                            \
	}                                                                            \
	extern "C" [[gnu::section(".exit.text"), gnu::cold]] void cleanup_module(void) \
	{                                                                            \
		kcxx::module_exit(kcxx_module_storage.get());                       \
	}                                                                            \
	/* As module_init()/module_exit() (___ADDRESSABLE): the module loader   \
	 * calls both through pointers, so objtool must keep their ENDBR (IBT); \
	 * objtool 6.12 says "not an indirect call target" without these. */   \
	[[gnu::used, gnu::section(".init.data")]] static void *kcxx_addressable_init = \
		reinterpret_cast<void *>(&init_module);                              \
	[[gnu::used, gnu::section(".exit.data")]] static void *kcxx_addressable_exit = \
		reinterpret_cast<void *>(&cleanup_module);                           \
	KCXX_MODINFO(author, author_);                                               \
	KCXX_MODINFO(description, description_);                                     \
	KCXX_MODINFO(license, license_)

/*
 * KCXX_LOCK_SYMBOL(member, name): a local symbol `name` at the lock
 * kcxx_this_module().member, so /proc/kallsyms (and BPF's lock names, and
 * the report) name it like a C driver's `static DEFINE_MUTEX(name)` rather
 * than as an offset into the mangled module storage.  Use it after
 * KCXX_MODULE, with the name given to KCXX_LOCK_CLASS at the declaration:
 *
 *     KCXX_LOCK_SYMBOL(mutex.value, counter_cxx_mutex);
 *
 * The ".set" assembles to a symbol in the storage's section at a link-time
 * offset; the function holding it emits no code besides its return and is
 * freed with .init.text.
 */
#define KCXX_LOCK_SYMBOL(member, name) \
	KCXX_LOCK_SYMBOL_AT(__builtin_offsetof(kcxx_module_type, member), name)
/* The same at a byte offset into the module object (a lock inside a
 * registration's context: see counter.cpp). */
#define KCXX_LOCK_SYMBOL_AT(offset, name)                                                \
	[[gnu::used, gnu::section(".init.text"), gnu::cold]] static void kcxx_lock_symbol_##name() \
	{                                                                                  \
		asm(".set " #name ", %c0" : : "i"(kcxx_module_storage.bytes + (offset)));     \
	}

#endif
