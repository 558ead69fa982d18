/* SPDX-License-Identifier: GPL-2.0 */
/* error_glue.h - the module parameter of sample_error, defined in C (error_glue.c). */
#ifndef ERROR_GLUE_H
#define ERROR_GLUE_H
#ifdef __cplusplus
extern "C" {
#endif
extern bool sample_error_fail;
#ifdef __cplusplus
}
#endif
#endif
