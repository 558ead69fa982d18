// SPDX-License-Identifier: GPL-2.0
/*
 * trace_glue.c - sample_trace's tracepoint (kmodlab/trace/sample_trace.h)
 * and its C emitter, the C half every kcxx module with tracepoints has
 * (kcxx/trace_glue.h): TRACE_EVENT and CREATE_TRACE_POINTS are C macros
 * over C headers.
 */
#define KMODLAB_TRACE_SYSTEM sample_trace
#define CREATE_TRACE_POINTS
#include <kmodlab/trace/sample_trace.h>
#include <kcxx/trace_glue.h>

#define KMODLAB_TP KCXX_TRACE_EMITTER
#include <kmodlab/trace/sample_trace_events.h>
