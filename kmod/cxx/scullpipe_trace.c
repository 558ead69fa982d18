// SPDX-License-Identifier: GPL-2.0
/*
 * scullpipe_trace.c - scullpipe_cxx's tracepoints (kmodlab/trace/scullpipe.h, the
 * definition scullpipe_c uses too) and the C emitters kcxx_trace_<event>() that
 * scullpipe.cpp calls when an event is enabled (kcxx/trace.h, kcxx/trace_glue.h).
 * The kernel's TRACE_EVENT macros are C: this is the one C file of the module.
 */
#define KMODLAB_TRACE_SYSTEM scullpipe_cxx
#define CREATE_TRACE_POINTS
#include <kmodlab/trace/scullpipe.h>
#include <kcxx/trace_glue.h>

#define KMODLAB_TP KCXX_TRACE_EMITTER
#include <kmodlab/trace/scullpipe_events.h>
