// SPDX-License-Identifier: GPL-2.0
/*
 * mutex.cpp - shared data behind a kcxx Mutex (Rust-for-Linux:
 * kernel::sync::Mutex, samples/rust/rust_sync.rs).
 *
 * The data (a value and a count of accesses) lives inside the Mutex: the
 * only way to it is lock(), which returns a Guard; the Guard unlocks when it
 * goes out of scope, on every path.  In the object code a locked section is
 * a call to mutex_lock, the body, and a call to mutex_unlock, nothing else
 * (see README.md, "Zero-cost check").
 *
 * Log at load:   sample_mutex: value 0 -> 42 (accesses 2)
 * Log at unload: sample_mutex: value 42 read; 3 accesses under the lock
 */
#include "common.h"

using namespace kcxx;

SAMPLE_NAME_IS(SAMPLE_MUTEX_MODULE);

namespace {

constexpr int new_value = 42;

struct Shared {
	int value = 0;
	unsigned accesses = 0;
};

struct MutexModule {
	/* mutex_init(): the name is the lock class name lockdep would show */
	Mutex<Shared> shared{KCXX_LOCK_CLASS(sample_mutex_shared)};

	/* Separate functions, so that each locked section is one scope that the
	 * disassembly shows as mutex_lock ... mutex_unlock. */
	[[gnu::noinline]] int read_value()
	{
		auto g = shared.lock();
		g->accesses++;
		return g->value;
	}
	[[gnu::noinline]] unsigned update_value(int v)
	{
		auto g = shared.lock();
		g->value = v;
		return ++g->accesses;
	}

	Result<void> init()
	{
		int before = read_value();
		unsigned accesses = update_value(new_value);
		pr_info("value %d -> %d (accesses %u)\n", before, new_value, accesses);
		return ok();
	}

	void exit()
	{
		int v = read_value();
		unsigned n;
		{
			auto g = shared.lock(); /* unlocked at the closing brace */
			n = g->accesses;
		}
		pr_info("value %d read; %u accesses under the lock\n", v, n);
	}
};

} // namespace

KCXX_MODULE(MutexModule, "kmodlab", "kcxx sample: data shared behind a Mutex", "GPL");
