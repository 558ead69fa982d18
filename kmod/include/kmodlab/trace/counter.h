/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmodlab/trace/counter.h - counter's tracepoint, the one definition
 * counter_c and counter_cxx both use (system = module name:
 * kmodlab/trace/common.h; C++: kmodlab/trace/counter_events.h).
 *
 *   counter_change  the value changed by a write (an add that succeeded):
 *       old_value, new_value, sync (the sync= mode: its index in
 *       COUNTER_SYNC_MODES of uapi/counter.h, printed by name).
 *       The ioctls SET and RESET are not traced (the atomic mode's store
 *       would have to become an exchange to know the old value).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM KMODLAB_TRACE_SYSTEM
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH kmodlab/trace
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE counter

#if !defined(_KMODLAB_TRACE_COUNTER_H) || defined(TRACE_HEADER_MULTI_READ)
#define _KMODLAB_TRACE_COUNTER_H

#include <kmodlab/trace/common.h>
#include <uapi/counter.h>

TRACE_EVENT(counter_change,
	TP_PROTO(s64 old_value, s64 new_value, int sync),
	TP_ARGS(old_value, new_value, sync),
	TP_STRUCT__entry(
		__field(s64, old_value)
		__field(s64, new_value)
		__field(int, sync)
	),
	TP_fast_assign(
		__entry->old_value = old_value;
		__entry->new_value = new_value;
		__entry->sync = sync;
	),
	TP_printk("old=%lld new=%lld sync=%s", __entry->old_value, __entry->new_value,
		  __print_symbolic(__entry->sync, { 0, COUNTER_SYNC_MUTEX },
				   { 1, COUNTER_SYNC_SPINLOCK }, { 2, COUNTER_SYNC_ATOMIC }))
);

#endif /* _KMODLAB_TRACE_COUNTER_H */

#include <trace/define_trace.h>
