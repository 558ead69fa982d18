/* SPDX-License-Identifier: GPL-2.0 */
/*
 * common.h - what every kcxx teaching sample includes: the kcxx prelude, the
 * samples' uapi names, and a compile-time check that the module's name
 * (KBUILD_MODNAME, set by the Kbuild file) is the one user space is told in
 * <uapi/samples.h>.
 */
#ifndef SAMPLES_COMMON_H
#define SAMPLES_COMMON_H

#include <kcxx/kcxx.h>

#include <uapi/samples.h>

namespace samples {
constexpr bool same_name(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}
} // namespace samples

/* e.g. SAMPLE_NAME_IS(SAMPLE_MISC_MODULE); fails the build on a mismatch. */
#define SAMPLE_NAME_IS(name)                                               \
	static_assert(samples::same_name(KBUILD_MODNAME, name),             \
		      "Kbuild module name differs from <uapi/samples.h>")

#endif
