// SPDX-License-Identifier: GPL-2.0
/*
 * counter_trace.c - counter_cxx's tracepoints (kmodlab/trace/counter.h, the
 * definition counter_c uses too) and the C emitters kcxx_trace_<event>() that
 * counter.cpp calls when an event is enabled (kcxx/trace.h, kcxx/trace_glue.h).
 * The kernel's TRACE_EVENT macros are C: this is the one C file of the module.
 */
#define KMODLAB_TRACE_SYSTEM counter_cxx
#define CREATE_TRACE_POINTS
#include <kmodlab/trace/counter.h>
#include <kcxx/trace_glue.h>

#define KMODLAB_TP KCXX_TRACE_EMITTER
#include <kmodlab/trace/counter_events.h>
