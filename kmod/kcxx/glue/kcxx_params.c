// SPDX-License-Identifier: GPL-2.0
/*
 * kcxx_params.c - module parameters every kcxx module has, linked into each
 * module (module_param is a C macro emitting struct kernel_param).
 *
 * extra_work: the lab's planted cost (kmodlab/extra_work.h).  The C drivers
 * define the same parameter with the same type and permission; kcxx's file
 * operation entry points run kmodlab_extra_work() on it (kcxx/planted.h),
 * so a C++ driver cannot forget it.
 */
#include <linux/moduleparam.h>

#include <kmodlab/extra_work.h>

unsigned int kcxx_extra_work;
module_param_named(extra_work, kcxx_extra_work, uint, 0644);
MODULE_PARM_DESC(extra_work, KMODLAB_EXTRA_WORK_DESC);
