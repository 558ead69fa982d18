/* SPDX-License-Identifier: GPL-2.0 */
/* counter_glue.h - module parameters of counter_cxx, defined in C (counter_glue.c). */
#ifndef COUNTER_GLUE_H
#define COUNTER_GLUE_H
#ifdef __cplusplus
extern "C" {
#endif
extern char *counter_cxx_sync_param;
extern unsigned short counter_cxx_mode;
#ifdef __cplusplus
}
#endif
#endif
