/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmodlab/trace/scull_events.h - scull's tracepoints as a C/C++ list (no
 * include guard: an X-macro list) for kcxx:
 *
 *   KMODLAB_TP(event, (parameters), (arguments))
 *
 * The parameters are the event's TP_PROTO in kmodlab/trace/scull.h; the C
 * glue (kcxx/trace_glue.h) asserts that they are, so the two cannot drift.
 */
KMODLAB_TP(scull_read, (s64 pos, u64 len, u64 item, int index), (pos, len, item, index))
KMODLAB_TP(scull_write, (s64 pos, u64 len, u64 item, int index), (pos, len, item, index))
KMODLAB_TP(scull_qset_alloc, (u64 item, int qset, int quantum), (item, qset, quantum))
KMODLAB_TP(scull_qset_free, (int qset, int quantum), (qset, quantum))
KMODLAB_TP(scull_trim, (s64 size, int quantum, int qset), (size, quantum, qset))
