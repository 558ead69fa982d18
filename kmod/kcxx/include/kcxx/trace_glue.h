/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/trace_glue.h - the C half of kcxx/trace.h: a kcxx module's
 * tracepoints and their emitters.  C only, one translation unit per module
 * (kmod/cxx/<driver>_trace.c):
 *
 *   #define KMODLAB_TRACE_SYSTEM scull_cxx          (the module's name)
 *   #define CREATE_TRACE_POINTS
 *   #include <kmodlab/trace/scull.h>               (the TRACE_EVENTs)
 *   #include <kcxx/trace_glue.h>
 *   #define KMODLAB_TP KCXX_TRACE_EMITTER
 *   #include <kmodlab/trace/scull_events.h>        (the list)
 *
 * For each event of the list, kcxx_trace_<event>(params) calls the kernel's
 * trace_<event>(args), and a _Static_assert checks that the list's
 * parameters are exactly the event's TP_PROTO (the type of trace_<event>),
 * so the C++ declarations made from the same list (KCXX_TRACE_EVENT) are
 * right.  Called by C++ only when the event is enabled.
 */
#ifndef KCXX_TRACE_GLUE_H
#define KCXX_TRACE_GLUE_H

#define KCXX_TRACE_EMITTER(name, params, args)                                         \
	void kcxx_trace_##name params;                                                 \
	_Static_assert(__builtin_types_compatible_p(typeof(&kcxx_trace_##name),        \
						    typeof(&trace_##name)),            \
		       "kmodlab/trace: the parameters of " #name " differ from its "   \
		       "TP_PROTO: make the _events.h list and the TRACE_EVENT agree"); \
	void kcxx_trace_##name params                                                  \
	{                                                                              \
		trace_##name args;                                                     \
	}

#endif
