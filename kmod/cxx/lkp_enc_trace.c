// SPDX-License-Identifier: GPL-2.0
/*
 * lkp_enc_trace.c - lkp_enc_cxx's tracepoints (kmodlab/trace/lkp_enc.h, the
 * definition lkp_enc_c uses too) and the C emitters kcxx_trace_<event>() that
 * lkp_enc.cpp calls when an event is enabled (kcxx/trace.h, kcxx/trace_glue.h).
 * The kernel's TRACE_EVENT macros are C: this is the one C file of the module.
 */
#define KMODLAB_TRACE_SYSTEM lkp_enc_cxx
#define CREATE_TRACE_POINTS
#include <kmodlab/trace/lkp_enc.h>
#include <kcxx/trace_glue.h>

#define KMODLAB_TP KCXX_TRACE_EMITTER
#include <kmodlab/trace/lkp_enc_events.h>
