/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmodlab/trace/sample_trace.h - the tracepoint of the kcxx sample
 * sample_trace (kmod/samples/trace.cpp; C++ list:
 * kmodlab/trace/sample_trace_events.h).
 *
 *   sample_trace_write  a write() to /dev/sample-trace: len (bytes),
 *       nr (writes since load, this one included)
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM KMODLAB_TRACE_SYSTEM
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH kmodlab/trace
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE sample_trace

#if !defined(_KMODLAB_TRACE_SAMPLE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _KMODLAB_TRACE_SAMPLE_TRACE_H

#include <kmodlab/trace/common.h>

TRACE_EVENT(sample_trace_write,
	TP_PROTO(u64 len, u32 nr),
	TP_ARGS(len, nr),
	TP_STRUCT__entry(
		__field(u64, len)
		__field(u32, nr)
	),
	TP_fast_assign(
		__entry->len = len;
		__entry->nr = nr;
	),
	TP_printk("len=%llu nr=%u", __entry->len, __entry->nr)
);

#endif /* _KMODLAB_TRACE_SAMPLE_TRACE_H */

#include <trace/define_trace.h>
