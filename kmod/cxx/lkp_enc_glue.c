// SPDX-License-Identifier: GPL-2.0
/* lkp_enc_glue.c - the C part of lkp_enc_cxx: its module parameter (as lkp_enc_c's). */
#include <linux/moduleparam.h>

#include <uapi/kmodlab.h>

#include "lkp_enc_glue.h"

unsigned short lkp_enc_cxx_mode = KMODLAB_DEV_MODE;
module_param_named(mode, lkp_enc_cxx_mode, ushort, 0444);
MODULE_PARM_DESC(mode, "permission bits of the device node");

/*
 * Test-only fault injection (tests/reliability), as lkp_enc_c's: when N > 0
 * the N-th allocation from now on fails; the parameter counts down and is 0
 * again after the failure.  The countdown itself is C++
 * (kcxx::fail_nth in the driver), so the write path calls no C code.  The driver allocates only its per-device state
 * in probe, so this makes a bind fail with -ENOMEM.
 */
int lkp_enc_cxx_fail_alloc_nth;
module_param_named(fail_alloc_nth, lkp_enc_cxx_fail_alloc_nth, int, 0600);
MODULE_PARM_DESC(fail_alloc_nth, "test only: fail the N-th allocation from now on (0: off)");
