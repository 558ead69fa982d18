// SPDX-License-Identifier: GPL-2.0
/*
 * hello.cpp - hello world with a heap allocation (Rust-for-Linux:
 * samples/rust/rust_print.rs plus KBox).
 *
 * init logs a greeting and allocates a message with KBox (kmalloc,
 * GFP_KERNEL; failure is -ENOMEM, not an exception); the module object owns
 * it, so it lives until unload, when it is logged and freed by the KBox
 * destructor.
 *
 * Log at load:   sample_hello: Hello kernel module!
 * Log at unload: sample_hello: heap message: kept on the heap since load (64 bytes)
 *                sample_hello: Goodbye kernel module!
 */
#include "common.h"

using namespace kcxx;

SAMPLE_NAME_IS(SAMPLE_HELLO_MODULE);

namespace {

struct Message {
	char text[64];
};

struct HelloModule {
	KBox<Message> message;

	Result<void> init()
	{
		pr_info("Hello kernel module!\n");
		message = KCXX_TRY(KBox<Message>::try_new(gfp::kernel));
		scnprintf(message->text, sizeof(message->text),
			  "kept on the heap since load (%zu bytes)", sizeof(Message));
		return ok();
	}
	void exit()
	{
		pr_info("heap message: %s\n", message->text);
		pr_info("Goodbye kernel module!\n");
		/* the destructor then frees the message (kfree) */
	}
};

} // namespace

KCXX_MODULE(HelloModule, "kmodlab", "kcxx sample: hello world with a heap message", "GPL");
