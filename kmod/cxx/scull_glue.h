/* SPDX-License-Identifier: GPL-2.0 */
/* scull_glue.h - module parameters of scull_cxx, defined in C (scull_glue.c). */
#ifndef SCULL_GLUE_H
#define SCULL_GLUE_H
#ifdef __cplusplus
extern "C" {
#endif
extern int scull_cxx_nr_devs;
extern int scull_cxx_quantum;
extern int scull_cxx_qset;
extern long scull_cxx_max_bytes;
extern unsigned short scull_cxx_mode;
/* Test-only fault injection: the N-th allocation from now on fails (0: off). */
extern int scull_cxx_fail_alloc_nth;
#ifdef __cplusplus
}
#endif
#endif
