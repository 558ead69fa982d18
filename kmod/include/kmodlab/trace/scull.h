/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmodlab/trace/scull.h - scull's tracepoints, the one definition scull_c
 * and scull_cxx both use (system = module name: kmodlab/trace/common.h).
 * The C++ driver reaches them through kmodlab/trace/scull_events.h, whose
 * prototypes kcxx checks against these at build time (kcxx/trace_glue.h).
 *
 *   scull_read, scull_write  a successful read/write, once per call: pos
 *       (offset), len (bytes moved by the whole call, which may cross
 *       quanta and quantum sets), item (quantum set number in the device's
 *       list) and index (quantum in that set) of its first byte.  Failed
 *       operations are not traced.
 *   scull_qset_alloc  a quantum set's pointer array allocated (the first
 *       write into that set, which may have started in a set before it; a
 *       write's allocations fire before its scull_write): item, qset (array
 *       size), quantum (bytes).
 *   scull_qset_free   a quantum set's array freed by a trim: qset, quantum.
 *   scull_trim        a device emptied (open O_WRONLY, unload): size
 *       (bytes it held), quantum and qset of the data dropped.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM KMODLAB_TRACE_SYSTEM
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH kmodlab/trace
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE scull

#if !defined(_KMODLAB_TRACE_SCULL_H) || defined(TRACE_HEADER_MULTI_READ)
#define _KMODLAB_TRACE_SCULL_H

#include <kmodlab/trace/common.h>

DECLARE_EVENT_CLASS(scull_rw,
	TP_PROTO(s64 pos, u64 len, u64 item, int index),
	TP_ARGS(pos, len, item, index),
	TP_STRUCT__entry(
		__field(s64, pos)
		__field(u64, len)
		__field(u64, item)
		__field(int, index)
	),
	TP_fast_assign(
		__entry->pos = pos;
		__entry->len = len;
		__entry->item = item;
		__entry->index = index;
	),
	TP_printk("pos=%lld len=%llu item=%llu index=%d", __entry->pos, __entry->len,
		  __entry->item, __entry->index)
);

DEFINE_EVENT(scull_rw, scull_read,
	TP_PROTO(s64 pos, u64 len, u64 item, int index),
	TP_ARGS(pos, len, item, index));

DEFINE_EVENT(scull_rw, scull_write,
	TP_PROTO(s64 pos, u64 len, u64 item, int index),
	TP_ARGS(pos, len, item, index));

TRACE_EVENT(scull_qset_alloc,
	TP_PROTO(u64 item, int qset, int quantum),
	TP_ARGS(item, qset, quantum),
	TP_STRUCT__entry(
		__field(u64, item)
		__field(int, qset)
		__field(int, quantum)
	),
	TP_fast_assign(
		__entry->item = item;
		__entry->qset = qset;
		__entry->quantum = quantum;
	),
	TP_printk("item=%llu qset=%d quantum=%d", __entry->item, __entry->qset, __entry->quantum)
);

TRACE_EVENT(scull_qset_free,
	TP_PROTO(int qset, int quantum),
	TP_ARGS(qset, quantum),
	TP_STRUCT__entry(
		__field(int, qset)
		__field(int, quantum)
	),
	TP_fast_assign(
		__entry->qset = qset;
		__entry->quantum = quantum;
	),
	TP_printk("qset=%d quantum=%d", __entry->qset, __entry->quantum)
);

TRACE_EVENT(scull_trim,
	TP_PROTO(s64 size, int quantum, int qset),
	TP_ARGS(size, quantum, qset),
	TP_STRUCT__entry(
		__field(s64, size)
		__field(int, quantum)
		__field(int, qset)
	),
	TP_fast_assign(
		__entry->size = size;
		__entry->quantum = quantum;
		__entry->qset = qset;
	),
	TP_printk("size=%lld quantum=%d qset=%d", __entry->size, __entry->quantum, __entry->qset)
);

#endif /* _KMODLAB_TRACE_SCULL_H */

#include <trace/define_trace.h>
