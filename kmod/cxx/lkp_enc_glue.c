// SPDX-License-Identifier: GPL-2.0
/* lkp_enc_glue.c - the C part of lkp_enc_cxx: its module parameter (as lkp_enc_c's). */
#include <linux/moduleparam.h>

#include <uapi/kmodlab.h>

#include "lkp_enc_glue.h"

unsigned short lkp_enc_cxx_mode = KMODLAB_DEV_MODE;
module_param_named(mode, lkp_enc_cxx_mode, ushort, 0444);
MODULE_PARM_DESC(mode, "permission bits of the device node");
