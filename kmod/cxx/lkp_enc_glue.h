/* SPDX-License-Identifier: GPL-2.0 */
/* lkp_enc_glue.h - module parameter of lkp_enc_cxx, defined in C (lkp_enc_glue.c). */
#ifndef LKP_ENC_GLUE_H
#define LKP_ENC_GLUE_H
#ifdef __cplusplus
extern "C" {
#endif
extern unsigned short lkp_enc_cxx_mode;
/* Test-only fault injection: the N-th allocation from now on fails (0: off). */
extern int lkp_enc_cxx_fail_alloc_nth;
#ifdef __cplusplus
}
#endif
#endif
