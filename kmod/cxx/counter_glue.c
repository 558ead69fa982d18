// SPDX-License-Identifier: GPL-2.0
/*
 * counter_glue.c - the C part of counter_cxx: module parameters only
 * (module_param is a C macro emitting struct kernel_param into __param).
 * The names, types and permissions are those of counter_c.
 */
#include <linux/moduleparam.h>

#include <uapi/counter.h>
#include <uapi/kmodlab.h>

#include "counter_glue.h"

char *counter_cxx_sync_param = COUNTER_SYNC_DEFAULT;
module_param_named(sync, counter_cxx_sync_param, charp, 0444);
MODULE_PARM_DESC(sync, "how the value is protected: mutex, spinlock or atomic");

unsigned short counter_cxx_mode = KMODLAB_DEV_MODE;
module_param_named(mode, counter_cxx_mode, ushort, 0444);
MODULE_PARM_DESC(mode, "permission bits of the device node");
