/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmodlab/trace/scullpipe_events.h - scullpipe's tracepoints as a C/C++
 * list (no include guard: an X-macro list), like scull_events.h:
 *
 *   KMODLAB_TP(event, (parameters), (arguments))
 *
 * The parameters are the event's TP_PROTO in kmodlab/trace/scullpipe.h;
 * the C glue (kcxx/trace_glue.h) asserts that they are.  Order: sleep, then
 * wake (bpf/drvevents.h's DRVEV_PIPE_SLEEP / DRVEV_PIPE_WAKE index it).
 */
KMODLAB_TP(scullpipe_sleep, (u32 writer, u64 avail, u64 need), (writer, avail, need))
KMODLAB_TP(scullpipe_wake, (u32 writer, u64 avail, u64 need), (writer, avail, need))
