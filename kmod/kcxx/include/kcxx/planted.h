/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/planted.h - the lab's planted cost in every file operation.
 *
 * kcxx::planted_work() runs the same asm block as the C drivers
 * (kmodlab/extra_work.h) on this module's extra_work parameter
 * (glue/kcxx_params.c).  kcxx/fs.h calls it first in every entry point, so
 * C and C++ execute exactly the same planted instructions per operation.
 */
#ifndef KCXX_PLANTED_H
#define KCXX_PLANTED_H

#include <kmodlab/extra_work.h>

extern "C" unsigned int kcxx_extra_work;

namespace kcxx {
[[gnu::always_inline]] inline void planted_work()
{
	kmodlab_extra_work(&kcxx_extra_work);
}
} // namespace kcxx

#endif
