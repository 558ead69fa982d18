/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmodlab/trace/scullpipe.h - scullpipe's tracepoints, the one definition
 * scullpipe_c and scullpipe_cxx both use (system = module name:
 * kmodlab/trace/common.h).  The C++ driver reaches them through
 * kmodlab/trace/scullpipe_events.h, whose prototypes kcxx checks against
 * these at build time (kcxx/trace_glue.h).
 *
 * What happens inside a scullpipe call that the syscall boundary hides is
 * its waiting: a read of an empty pipe, or a write that does not fit, sleeps
 * until the other side makes data or room.  Two events bracket each wait:
 *
 *   scullpipe_sleep  the call is about to wait (it found too little under
 *       the lock and is not O_NONBLOCK); fired with the lock still held.
 *   scullpipe_wake   the call holds the lock again after that wait.
 *
 * Both carry writer (0: a read waiting for data, 1: a write waiting for
 * room), avail (bytes buffered for a reader, free bytes for a writer, as
 * the call sees them under the lock) and need (bytes it waits for: 1 for a
 * read; for a write the whole count up to SCULLPIPE_ATOMIC_WRITE, else 1).
 * A wake with avail < need is a wake-up that found its data or room taken
 * (another reader or writer was first): the call sleeps again, with a new
 * scullpipe_sleep.  A wait ended by a signal fires no wake (the call
 * returns -ERESTARTSYS).  A call that did not wait fires nothing: the paths
 * with data ready carry no event at all, so their disabled cost is zero
 * instructions (tests/icount/test-trace-cost.sh, scullpipe rw64).
 *
 * sleep -> wake on one thread is the time a call was blocked in the driver
 * (bpf/drvevents.bpf.c: the "read_blocked" and "write_blocked" phases); the
 * scheduler's part of it, wake-up to running, is sched_wakeup's.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM KMODLAB_TRACE_SYSTEM
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH kmodlab/trace
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE scullpipe

#if !defined(_KMODLAB_TRACE_SCULLPIPE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _KMODLAB_TRACE_SCULLPIPE_H

#include <kmodlab/trace/common.h>

DECLARE_EVENT_CLASS(scullpipe_wait,
	TP_PROTO(u32 writer, u64 avail, u64 need),
	TP_ARGS(writer, avail, need),
	TP_STRUCT__entry(
		__field(u32, writer)
		__field(u64, avail)
		__field(u64, need)
	),
	TP_fast_assign(
		__entry->writer = writer;
		__entry->avail = avail;
		__entry->need = need;
	),
	TP_printk("writer=%u avail=%llu need=%llu", __entry->writer, __entry->avail, __entry->need)
);

DEFINE_EVENT(scullpipe_wait, scullpipe_sleep,
	TP_PROTO(u32 writer, u64 avail, u64 need),
	TP_ARGS(writer, avail, need));

DEFINE_EVENT(scullpipe_wait, scullpipe_wake,
	TP_PROTO(u32 writer, u64 avail, u64 need),
	TP_ARGS(writer, avail, need));

#endif /* _KMODLAB_TRACE_SCULLPIPE_H */

#include <trace/define_trace.h>
