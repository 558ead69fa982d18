/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/trace.h - a driver's own tracepoints, from C++ (Rust-for-Linux:
 * kernel::tracepoint, declare_trace!).
 *
 * The kernel's TRACE_EVENT machinery (trace/define_trace.h) is C macros over
 * C headers, so the tracepoints themselves live in one small C translation
 * unit per module (kcxx/trace_glue.h: CREATE_TRACE_POINTS plus one emitter
 * per event), and C++ gets only what the hot path needs:
 *
 *   #include <kcxx/trace.h>
 *   #define KMODLAB_TP KCXX_TRACE_EVENT
 *   #include <kmodlab/trace/scull_events.h>   (the list of events)
 *
 *   kcxx_trace::scull_read(pos, len, item, index);
 *
 * Invariants:
 *  - Disabled costs what C's trace_<event>() costs: the same static-key
 *    branch (asm goto over the tracepoint's struct static_key, a 5-byte nop
 *    patched to a jump when the event is enabled, the same __jump_table entry
 *    as arch/x86's arch_static_branch), nothing else inline; the arguments
 *    are only evaluated into registers on the enabled path when the
 *    compiler can sink them, as with C's inline trace_<event>().
 *  - Enabled, one direct call of the C emitter kcxx_trace_<event>(), which
 *    calls the kernel's trace_<event>() (the key test repeats there: one
 *    taken jump, only on the enabled path).
 *  - Arguments are type-checked: exactly the event's parameter count, each
 *    converted to its parameter type without narrowing (brace
 *    initialisation); the parameter types are the event's TP_PROTO, checked
 *    in C by kcxx/trace_glue.h (_Static_assert), so C++, the C emitter and
 *    the kernel's event cannot disagree.
 *  - KMODLAB_NO_TRACE: every event is an empty inline and no tracepoint
 *    symbol is referenced (the baseline build of the cost check).
 */
#ifndef KCXX_TRACE_H
#define KCXX_TRACE_H

#include <kcxx/kabi.h>
#include <kcxx/types.h>

namespace kcxx::trace
{

/* The kernel's struct tracepoint: opaque, only its static key's address
 * (KABI_TRACEPOINT_key bytes in, kabi-gen.c) is used. */
struct Tracepoint;

/*
 * True when the tracepoint has a probe: static_key_false() of the kernel.
 * The nop (or, with objtool's jump-label hack, the jmp objtool turns into a
 * nop: key bit 1 asks for it) is rewritten by the kernel's jump-label code
 * when the key changes; the __jump_table entry is arch/x86's layout
 * (code, target, key + branch; all relative).
 */
template <Tracepoint &Tp> [[gnu::always_inline]] inline bool enabled()
{
#ifdef CONFIG_HAVE_JUMP_LABEL_HACK
	asm goto("1: jmp %l[on] # objtool NOPs this\n\t"
		 ".pushsection __jump_table, \"aw\"\n\t"
		 ".balign 8\n\t"
		 ".long 1b - .\n\t"
		 ".long %l[on] - .\n\t"
		 ".quad %c0 + %c1 - .\n\t"
		 ".popsection"
		 :
		 : "i"(&Tp), "i"(KABI_TRACEPOINT_key + 2)
		 :
		 : on);
#else
	asm goto("1: .byte 0x0f,0x1f,0x44,0x00,0x00\n\t"
		 ".pushsection __jump_table, \"aw\"\n\t"
		 ".balign 8\n\t"
		 ".long 1b - .\n\t"
		 ".long %l[on] - .\n\t"
		 ".quad %c0 + %c1 - .\n\t"
		 ".popsection"
		 :
		 : "i"(&Tp), "i"(KABI_TRACEPOINT_key)
		 :
		 : on);
#endif
	return false;
on:
	return true;
}

/* To{from} is well-formed: no narrowing (a requirement, so GCC's
 * narrowing-of-a-variable warning becomes a compile error here). */
template <class To, class From>
concept converts_without_narrowing = requires(From f) { To{ f }; };

template <class F> struct Emitter;
template <class... P> struct Emitter<void (*)(P...)> {
	template <auto Emit, class... A> [[gnu::always_inline]] static void call(const A &...a)
	{
		static_assert(sizeof...(A) == sizeof...(P),
			      "kcxx::trace: wrong number of arguments for this event");
		static_assert((converts_without_narrowing<P, A> && ...),
			      "kcxx::trace: an argument does not convert to its parameter "
			      "type without narrowing (see the event's _events.h list)");
		Emit(P{ a }...);
	}
};

/*
 * A value the event reads only when it is enabled, from memory, once
 * (volatile): reread(x) as an event argument.  For an argument that the hot
 * path also loads (counter's old value under its lock): a plain x lets the
 * compiler share that load with the event and split "add mem, reg" into a
 * load and an add on the disabled path too.  Holds x's address; x must be
 * alive and not changed between the call and the event (under the lock).
 */
template <class T> struct Reread {
	const volatile T *p;
	[[gnu::always_inline]] operator T() const { return *p; }
};
template <class T> [[gnu::always_inline]] inline Reread<T> reread(const T &x) { return { &x }; }

/* An event: callable like C's trace_<event>(), with one difference that
 * matters for the disabled cost: the arguments are taken by reference and
 * converted to the event's parameter types only on the enabled path (C's
 * inline trace_<event>() evaluates them before its key test). */
template <Tracepoint &Tp, auto Emit> struct Event {
	template <class... A> [[gnu::always_inline]] void operator()(const A &...a) const
	{
#ifndef KMODLAB_NO_TRACE
		if (__builtin_expect(enabled<Tp>(), 0))
			Emitter<decltype(Emit)>::template call<Emit>(a...);
#else
		(void)sizeof...(a);
#endif
	}
	[[gnu::always_inline]] bool is_enabled() const
	{
#ifndef KMODLAB_NO_TRACE
		return enabled<Tp>();
#else
		return false;
#endif
	}
};

} // namespace kcxx::trace

/* The events' names: kcxx_trace::<event>; their parameter types are
 * spelled as in C (u32, s64, ...). */
namespace kcxx_trace
{
using kcxx::s32;
using kcxx::s64;
using kcxx::u32;
using kcxx::u64;
using kcxx::usize;
} // namespace kcxx_trace

/*
 * One event of a kmodlab/trace/<driver>_events.h list: the kernel's
 * tracepoint object (defined by the module's C glue), the C emitter, and
 * kcxx_trace::<event>, the callable.
 */
#define KCXX_TRACE_EVENT(name, params, args)                                         \
	namespace kcxx_trace                                                         \
	{                                                                            \
	extern "C" kcxx::trace::Tracepoint __tracepoint_##name;                      \
	extern "C" void kcxx_trace_##name params;                                    \
	inline constexpr kcxx::trace::Event<__tracepoint_##name, &kcxx_trace_##name> \
		name{};                                                              \
	}

#endif
