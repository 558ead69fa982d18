/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmodlab/trace/counter_events.h - counter's tracepoint as a C/C++ list for
 * kcxx (format: kmodlab/trace/scull_events.h; checked against the TP_PROTO
 * of kmodlab/trace/counter.h by kcxx/trace_glue.h).
 */
KMODLAB_TP(counter_change, (s64 old_value, s64 new_value, int sync),
	   (old_value, new_value, sync))
