// SPDX-License-Identifier: GPL-2.0
/*
 * scull_glue.c - the C part of scull_cxx: module parameters only (names,
 * types, defaults and permissions are scull_c's).  quantum and qset are
 * also the module-wide geometry the ioctls change, as in LDD3.
 */
#include <linux/moduleparam.h>

#include <uapi/kmodlab.h>
#include <uapi/scull.h>

#include "scull_glue.h"

int scull_cxx_nr_devs = SCULL_NR_DEVS_DEFAULT;
int scull_cxx_quantum = SCULL_QUANTUM_DEFAULT;
int scull_cxx_qset = SCULL_QSET_DEFAULT;
long scull_cxx_max_bytes = SCULL_MAX_BYTES_DEFAULT;
unsigned short scull_cxx_mode = KMODLAB_DEV_MODE;

module_param_named(nr_devs, scull_cxx_nr_devs, int, 0444);
MODULE_PARM_DESC(nr_devs, "number of scull devices");
module_param_named(quantum, scull_cxx_quantum, int, 0444);
MODULE_PARM_DESC(quantum, "quantum size in bytes (changed by the quantum ioctls)");
module_param_named(qset, scull_cxx_qset, int, 0444);
MODULE_PARM_DESC(qset, "quanta per quantum set (changed by the qset ioctls)");
module_param_named(max_bytes, scull_cxx_max_bytes, long, 0444);
MODULE_PARM_DESC(max_bytes, "per-device size cap in bytes; writes past it get -ENOSPC");
module_param_named(mode, scull_cxx_mode, ushort, 0444);
MODULE_PARM_DESC(mode, "permission bits of the device nodes");

/*
 * Test-only fault injection (tests/reliability), as scull_c's: when N > 0
 * the N-th allocation from now on fails; the parameter counts down and is 0
 * again after the failure.  The countdown itself is C++
 * (kcxx::fail_nth in the driver), so the write path calls no C code.  scull.cpp asks before every allocation on the
 * write path (quantum set nodes, pointer arrays, quanta).
 */
int scull_cxx_fail_alloc_nth;
module_param_named(fail_alloc_nth, scull_cxx_fail_alloc_nth, int, 0600);
MODULE_PARM_DESC(fail_alloc_nth, "test only: fail the N-th allocation from now on (0: off)");
