/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmodlab/trace/lkp_enc_events.h - lkp_enc's tracepoints as a C/C++ list
 * for kcxx (format: kmodlab/trace/scull_events.h; checked against the
 * TP_PROTO of kmodlab/trace/lkp_enc.h by kcxx/trace_glue.h).
 */
KMODLAB_TP(lkp_enc_seed_write, (u32 seed), (seed))
KMODLAB_TP(lkp_enc_string_write, (u64 len), (len))
KMODLAB_TP(lkp_enc_string_read, (u64 len), (len))
