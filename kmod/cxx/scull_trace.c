// SPDX-License-Identifier: GPL-2.0
/*
 * scull_trace.c - scull_cxx's tracepoints (kmodlab/trace/scull.h, the
 * definition scull_c uses too) and the C emitters kcxx_trace_<event>() that
 * scull.cpp calls when an event is enabled (kcxx/trace.h, kcxx/trace_glue.h).
 * The kernel's TRACE_EVENT macros are C: this is the one C file of the module.
 */
#define KMODLAB_TRACE_SYSTEM scull_cxx
#define CREATE_TRACE_POINTS
#include <kmodlab/trace/scull.h>
#include <kcxx/trace_glue.h>

#define KMODLAB_TP KCXX_TRACE_EMITTER
#include <kmodlab/trace/scull_events.h>
