// SPDX-License-Identifier: GPL-2.0
/*
 * kmodlab_warn - test-only module for the guest runner's own tests: its
 * init triggers WARN_ON, and vm/run must then fail the run even though the
 * command itself succeeds, naming the line from the kernel log.
 */
#include <linux/bug.h>
#include <linux/module.h>

static int __init kmodlab_warn_init(void)
{
	WARN_ON(1);	/* tests/vm/test-runner.sh looks for this file's name */
	return 0;
}

static void __exit kmodlab_warn_exit(void)
{
}

module_init(kmodlab_warn_init);
module_exit(kmodlab_warn_exit);
MODULE_LICENSE("GPL");
