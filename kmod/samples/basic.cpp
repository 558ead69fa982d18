// SPDX-License-Identifier: GPL-2.0
/*
 * basic.cpp - the smallest kcxx module (Rust-for-Linux samples/rust/rust_minimal.rs).
 *
 * Shows: the module declaration (KCXX_MODULE), init (BasicModule::init,
 * run by insmod), cleanup on unload (exit() and the destructor, run by
 * rmmod), and the module handle: THIS_MODULE (the kernel's struct module,
 * read through basic_glue.c) and kcxx_this_module() (this module's own
 * object, reachable from any function of the module).
 *
 * Log at load:   sample_basic: init in module sample_basic, counter=3
 * Log at unload: sample_basic: exit, counter=4
 */
#include "common.h"

#include "basic_glue.h"

using namespace kcxx;

SAMPLE_NAME_IS(SAMPLE_BASIC_MODULE);

namespace {

/* The module's state: one object, constructed by insmod, destroyed by rmmod. */
struct BasicModule {
	unsigned counter = 0;

	Result<void> init()
	{
		for (int i = 0; i < 3; i++)
			bump();
		pr_info("init in module %s, counter=%u\n", sample_basic_module_name(), counter);
		return ok();
	}

	/* Runs at rmmod only (not when init fails); the destructor follows. */
	void exit()
	{
		bump();
		pr_info("exit, counter=%u\n", counter);
	}

	/* A free function reaching the module object through its handle. */
	static void bump();
};

} // namespace

KCXX_MODULE(BasicModule, "kmodlab", "kcxx sample: module declaration, init, cleanup", "GPL");

void BasicModule::bump() { kcxx_this_module().counter++; }
