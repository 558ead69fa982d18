/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmodlab/trace/lkp_enc.h - lkp_enc's tracepoints, the MMIO phases of an
 * encryption, the one definition lkp_enc_c and lkp_enc_cxx both use (system
 * = module name: kmodlab/trace/common.h; C++: kmodlab/trace/lkp_enc_events.h).
 * Each fires with the device lock held (seed_write and string_write before
 * their MMIO, string_read after it, see below), so the time between two
 * events of one task is the phase between them (bpf/encphase.bpf.c).
 *
 *   lkp_enc_seed_write    the seed register about to be written (ioctl
 *       WRITE_SEED), before its one 32-bit MMIO write: seed.  Before, not
 *       after: after it, lkp_enc_c's inlined ioctl path lost its own return
 *       sequence to a jump to the switch's shared exit (+1 instruction while
 *       off, tests/icount/test-trace-cost.sh); the phase to
 *       lkp_enc_string_write then includes the seed's MMIO write
 *   lkp_enc_string_write  a string about to be stored (write(), ioctl
 *       WRITE_STRING), before its len + 1 byte writes (with the NUL): len.
 *       Before, not after: that costs nothing while off (see
 *       lkp_enc_c_put_string), and the phase to lkp_enc_string_read is then
 *       the whole MMIO exchange (string out, the device's work, readback)
 *   lkp_enc_string_read   the device's string read back (read(), ioctl
 *       READ_STRING): len (bytes before the NUL; len + 1 byte reads, or
 *       LKP_ENC_STRING_MAX when no NUL came)
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM KMODLAB_TRACE_SYSTEM
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH kmodlab/trace
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE lkp_enc

#if !defined(_KMODLAB_TRACE_LKP_ENC_H) || defined(TRACE_HEADER_MULTI_READ)
#define _KMODLAB_TRACE_LKP_ENC_H

#include <kmodlab/trace/common.h>

TRACE_EVENT(lkp_enc_seed_write,
	TP_PROTO(u32 seed),
	TP_ARGS(seed),
	TP_STRUCT__entry(
		__field(u32, seed)
	),
	TP_fast_assign(
		__entry->seed = seed;
	),
	TP_printk("seed=%u", __entry->seed)
);

DECLARE_EVENT_CLASS(lkp_enc_string,
	TP_PROTO(u64 len),
	TP_ARGS(len),
	TP_STRUCT__entry(
		__field(u64, len)
	),
	TP_fast_assign(
		__entry->len = len;
	),
	TP_printk("len=%llu", __entry->len)
);

DEFINE_EVENT(lkp_enc_string, lkp_enc_string_write, TP_PROTO(u64 len), TP_ARGS(len));
DEFINE_EVENT(lkp_enc_string, lkp_enc_string_read, TP_PROTO(u64 len), TP_ARGS(len));

#endif /* _KMODLAB_TRACE_LKP_ENC_H */

#include <trace/define_trace.h>
