// SPDX-License-Identifier: GPL-2.0
/*
 * basic_glue.c - the C part of sample_basic: the module handle's name.
 * kcxx has no view of struct module's fields (kcxx_kabi.h does not generate
 * them), so this sample reads THIS_MODULE->name in C, kept local to the
 * sample.  Called once, at init.
 */
#include <linux/module.h>

#include "basic_glue.h"

const char *sample_basic_module_name(void)
{
	return THIS_MODULE->name;
}
