// SPDX-License-Identifier: GPL-2.0
/*
 * trace.cpp - a driver's own tracepoint, declared for C++ (Rust-for-Linux:
 * samples/rust/rust_print.rs's tracepoint part, kernel::tracepoint).
 *
 * /dev/sample-trace (0600) accepts writes; each one fires the event
 * sample_trace:sample_trace_write with its length and the number of writes
 * since load (tracefs: events/sample_trace/sample_trace_write).
 *
 * The event is defined once, in C, by kmodlab/trace/sample_trace.h (a
 * TRACE_EVENT); trace_glue.c creates it and its emitter.  C++ includes the
 * list kmodlab/trace/sample_trace_events.h through kcxx/trace.h, which makes
 * kcxx_trace::sample_trace_write(len, nr): disabled, a 5-byte nop the kernel
 * patches into a jump when the event is enabled (the static key of C's
 * trace_sample_trace_write()); enabled, a call of the emitter.  Arguments
 * that do not convert to u64, u32 without narrowing do not compile.
 *
 * Log at load:   sample_trace: /dev/sample-trace registered
 * Log at unload: sample_trace: unloaded after N writes
 */
#include "common.h"

#include <kcxx/trace.h>
#define KMODLAB_TP KCXX_TRACE_EVENT
#include <kmodlab/trace/sample_trace_events.h>

using namespace kcxx;
using kcxx::fs::File;

SAMPLE_NAME_IS(SAMPLE_TRACE_MODULE);

namespace {

struct Writes {
	Atomic<u32> count{ 0 };
};
using TraceSampleRegistration = MiscRegistration<Writes>;

struct TraceSample {
	using Registration = TraceSampleRegistration;

	static Result<usize> write(Writes &w, File, UserSlice::Reader in, loff_t &)
	{
		usize n = in.left();
		u32 nr = w.count.fetch_add(1) + 1;

		kcxx_trace::sample_trace_write(n, nr);
		return n; /* all consumed */
	}
};

} // namespace

KCXX_FILE_OPERATIONS(TraceSample, sample_trace, , write)

namespace {

struct TraceModule {
	TraceSampleRegistration misc; /* deregistered by its destructor at rmmod */

	Result<void> init()
	{
		KCXX_TRY(misc.register_device(SAMPLE_TRACE_NAME, fs::ops<TraceSample>,
					      SAMPLE_DEV_MODE));
		pr_info("/dev/" SAMPLE_TRACE_NAME " registered\n");
		return ok();
	}
	void exit()
	{
		pr_info("unloaded after %u writes\n", misc.context().count.load());
	}
};

} // namespace

KCXX_MODULE(TraceModule, "kmodlab", "kcxx sample: a driver's own tracepoint from C++", "GPL");
