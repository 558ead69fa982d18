/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmodlab/trace/common.h - what every driver trace header (scull.h,
 * counter.h, lkp_enc.h here) shares.  C only: TRACE_EVENT is the kernel's.
 *
 * Event system = module name.  The including translation unit defines
 * KMODLAB_TRACE_SYSTEM to its module's name (scull_c, scull_cxx, ...) before
 * the trace header; the events and their fields are the same for both
 * variants: tracefs events/scull_c/scull_read and events/scull_cxx/scull_read.
 * Why the system and not a field carries the variant: the lab loads both
 * variants at once (make load), and two modules defining the same system and
 * event would collide in tracefs (and a `variant` field would cost every
 * event a store); a per-module system is also the lab's one naming rule
 * (module <base>_<variant>, uapi/kmodlab_dev.h).  BPF: attach by
 * "tracepoint/<module>/<event>" (unique); raw_tp/tp_btf find a tracepoint by
 * its event name alone, the first loaded module wins, so with both variants
 * loaded a raw_tp program reaches one of them (kernel/trace/bpf_trace.c
 * bpf_get_raw_tracepoint_module).
 *
 * KMODLAB_NO_TRACE (make ... KMODLAB_TRACE=0): every trace_<event>() of the
 * header is an empty inline and no tracepoint is created, the build the
 * disabled-tracepoint cost is measured against (tests/icount).
 */
#ifndef _KMODLAB_TRACE_COMMON_H
#define _KMODLAB_TRACE_COMMON_H

#ifndef KMODLAB_TRACE_SYSTEM
#error "define KMODLAB_TRACE_SYSTEM (the module's name) before a kmodlab/trace header"
#endif

#include <linux/tracepoint.h>

#ifdef KMODLAB_NO_TRACE
#undef CREATE_TRACE_POINTS
#undef TRACE_EVENT
#undef DECLARE_EVENT_CLASS
#undef DEFINE_EVENT
#define TRACE_EVENT(name, proto, args, tstruct, assign, print) \
	static inline void trace_##name(proto) {}              \
	static inline bool trace_##name##_enabled(void) { return false; }
#define DECLARE_EVENT_CLASS(name, proto, args, tstruct, assign, print)
#define DEFINE_EVENT(template, name, proto, args)  \
	static inline void trace_##name(proto) {} \
	static inline bool trace_##name##_enabled(void) { return false; }
#endif

/*
 * kmodlab_trace(event, args...): how a C driver emits an event on a hot
 * path (trace_<event>() stays fine off it).  The kernel's trace_<event>() is
 * an inline function: its arguments are evaluated before its key test, and
 * the whole probe-calling body is inlined beside the hot path, whose register
 * allocation it reshapes even while off (measured with icount: +2 driver
 * instructions per scull read, +1 per counter write, beyond the nop).  Here
 * the key is tested first (trace_<event>_enabled(), the same 5-byte nop) and
 * the event is one out-of-line call of kmodlab_emit_<event>(), which the
 * driver defines from its events list after its trace header:
 *
 *   #define KMODLAB_TP KMODLAB_TRACE_EMITTER
 *   #include <kmodlab/trace/scull_events.h>
 *
 * The shape of kcxx::trace's C++ events (kcxx/trace.h), which call
 * kcxx_trace_<event>() behind the key the same way.
 */
#define kmodlab_trace(name, ...)                          \
	do {                                              \
		if (trace_##name##_enabled())             \
			kmodlab_emit_##name(__VA_ARGS__); \
	} while (0)

/* KMODLAB_TP(name, (params), (args)) of an events list -> kmodlab_emit_<name>. */
#define KMODLAB_TRACE_EMITTER(name, params, args) \
	static noinline __cold __maybe_unused void kmodlab_emit_##name params { trace_##name args; }

#endif /* _KMODLAB_TRACE_COMMON_H */
