/* SPDX-License-Identifier: GPL-2.0 */
/* basic_glue.h - the C part of sample_basic (basic_glue.c). */
#ifndef BASIC_GLUE_H
#define BASIC_GLUE_H
#ifdef __cplusplus
extern "C" {
#endif
/* THIS_MODULE->name: struct module is opaque to kcxx, so C reads it. */
const char *sample_basic_module_name(void);
#ifdef __cplusplus
}
#endif
#endif
