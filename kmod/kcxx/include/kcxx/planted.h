/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/planted.h - the lab's planted cost in every file operation.
 *
 * kcxx::planted_work() runs the same asm block as the C drivers
 * (kmodlab/extra_work.h) on this module's extra_work parameter, which
 * every kcxx module has (declared with KCXX_PARAM in rt/kcxx_rt.cpp, the
 * same name, type and permission as the C drivers').  kcxx/fs.h calls it
 * first in every entry point, so C and C++ execute exactly the same
 * planted instructions per operation.
 */
#ifndef KCXX_PLANTED_H
#define KCXX_PLANTED_H

#include <kcxx/param.h>
#include <kmodlab/extra_work.h>

namespace kcxx::planted {
extern Param<unsigned int> extra_work;

[[gnu::always_inline]] inline void work()
{
	kmodlab_extra_work(extra_work.ptr());
}
} // namespace kcxx::planted

namespace kcxx {
[[gnu::always_inline]] inline void planted_work()
{
	planted::work();
}
} // namespace kcxx

#endif
