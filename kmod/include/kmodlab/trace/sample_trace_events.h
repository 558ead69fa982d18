/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmodlab/trace/sample_trace_events.h - sample_trace's tracepoint as a
 * C/C++ list for kcxx (format: kmodlab/trace/scull_events.h).
 */
KMODLAB_TP(sample_trace_write, (u64 len, u32 nr), (len, nr))
