/* SPDX-License-Identifier: GPL-2.0 */
/* lkp_enc_glue.h - module parameter of lkp_enc_cxx, defined in C (lkp_enc_glue.c). */
#ifndef LKP_ENC_GLUE_H
#define LKP_ENC_GLUE_H
#ifdef __cplusplus
extern "C" {
#endif
extern unsigned short lkp_enc_cxx_mode;
/* Test-only fault injection: true when this allocation must fail. */
bool lkp_enc_cxx_fail_alloc(void);
#ifdef __cplusplus
}
#endif
#endif
