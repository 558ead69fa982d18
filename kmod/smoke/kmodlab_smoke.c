// SPDX-License-Identifier: GPL-2.0
/*
 * kmodlab_smoke - the smallest module the lab builds: it proves that the
 * out-of-tree build, the guest boot and insmod/rmmod work end to end, and
 * tells the runner's tests that a module's log lines reach dmesg.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>

static int __init kmodlab_smoke_init(void)
{
	pr_info("loaded\n");
	return 0;
}

static void __exit kmodlab_smoke_exit(void)
{
	pr_info("unloaded\n");
}

module_init(kmodlab_smoke_init);
module_exit(kmodlab_smoke_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlab smoke-test module");
