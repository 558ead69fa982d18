// SPDX-License-Identifier: GPL-2.0
/*
 * error_glue.c - the C part of sample_error: its module parameter
 * (module_param is a C macro that emits a struct kernel_param).
 */
#include <linux/moduleparam.h>

#include "error_glue.h"

bool sample_error_fail;
module_param_named(fail, sample_error_fail, bool, 0444);
MODULE_PARM_DESC(fail, "make init fail with -ENODEV (the device is \"missing\")");
