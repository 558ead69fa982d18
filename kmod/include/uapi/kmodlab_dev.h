/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kmodlab_dev.h - the one rule, for C and C++ user space, that turns a
 * driver's base name and a variant into its module name and device node,
 * and a node path back into driver, variant and minor index:
 *
 *   module  <base>_<variant>            scull_c, counter_cxx, lkp_enc_c
 *   node    /dev/<base>-<variant>[N]    /dev/scull-c0, /dev/counter-cxx
 *
 * N is present exactly for the drivers that create several nodes
 * (KMODLAB_DRIVERS, numbered 1), and absent for the others.  The names
 * themselves are the ABI macros of kmodlab.h, scull.h, counter.h,
 * lkp_enc.h and scullpipe.h.  Python reads this header through
 * analysis/devnames.py (analysis/tests/test_devnames.py checks that both
 * give the same names).
 *
 * No tool spells a node or module name by hand: it calls these functions.
 */
#ifndef _UAPI_KMODLAB_DEV_H
#define _UAPI_KMODLAB_DEV_H

#ifdef __KERNEL__
#error "kmodlab_dev.h is for user space; drivers use the name macros directly"
#endif

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "kmodlab.h"
#include "lkp_enc.h"
#include "scull.h"
#include "scullpipe.h"

/* The defines are aligned by hand, kernel style. */
/* clang-format off */

#define KMODLAB_DEV_DIR		"/dev/"
/* Separator between base name and variant in a module name. */
#define KMODLAB_MODULE_SEP	"_"

/* Every driver: X(base name, numbered nodes). */
#define KMODLAB_DRIVERS(X)	\
	X(SCULL_NAME, 1)	\
	X(COUNTER_NAME, 0)	\
	X(LKP_ENC_NAME, 0)	\
	X(SCULLPIPE_NAME, 1)

/* Every variant, C first. */
#define KMODLAB_VARIANTS(X)	\
	X(KMODLAB_VARIANT_C)	\
	X(KMODLAB_VARIANT_CXX)

/* Variants only some drivers have, X(variant, driver): the rule makes names
 * for exactly these pairs (counter in Rust: module counter_rust, node
 * /dev/counter-rust, on the lab's Rust kernel only, vm/rust-kernel/). */
#define KMODLAB_PARTIAL_VARIANTS(X)	\
	X(KMODLAB_VARIANT_RUST, COUNTER_NAME)

/* clang-format on */

/* kmodlab_dev_parse looks for the separator as one character. */
typedef char kmodlab_dev_sep_is_one_char[sizeof(KMODLAB_DEV_SEP) == 2 ? 1 : -1];

struct kmodlab_driver {
	const char *name; /* base name, e.g. SCULL_NAME */
	int numbered; /* nodes carry a minor index: /dev/scull-c0 */
};

/* The driver table, in KMODLAB_DRIVERS order; *n gets its length. */
static inline const struct kmodlab_driver *kmodlab_drivers(size_t *n)
{
#define KMODLAB_DRIVER_ENTRY(name, numbered) { name, numbered },
	static const struct kmodlab_driver all[] = { KMODLAB_DRIVERS(KMODLAB_DRIVER_ENTRY) };
#undef KMODLAB_DRIVER_ENTRY
	*n = sizeof(all) / sizeof(all[0]);
	return all;
}

/* The variant names, in KMODLAB_VARIANTS order (KMODLAB_NR_VARIANTS). */
static inline const char *const *kmodlab_variants(void)
{
#define KMODLAB_VARIANT_ENTRY(name) name,
	static const char *const all[] = { KMODLAB_VARIANTS(KMODLAB_VARIANT_ENTRY) };
#undef KMODLAB_VARIANT_ENTRY
	typedef char
		nr_variants_matches[sizeof(all) / sizeof(all[0]) == KMODLAB_NR_VARIANTS ? 1 : -1];

	(void)sizeof(nr_variants_matches);
	return all;
}

/* The driver whose base name is the first len bytes of s, or NULL. */
static inline const struct kmodlab_driver *kmodlab_driver_find(const char *s, size_t len)
{
	const struct kmodlab_driver *d;
	size_t n, i;

	d = kmodlab_drivers(&n);
	for (i = 0; i < n; i++)
		if (strlen(d[i].name) == len && !memcmp(d[i].name, s, len))
			return &d[i];
	return NULL;
}

/* The variant name equal to the first len bytes of s, or NULL. */
static inline const char *kmodlab_variant_find(const char *s, size_t len)
{
	const char *const *v = kmodlab_variants();
	int i;

	for (i = 0; i < KMODLAB_NR_VARIANTS; i++)
		if (strlen(v[i]) == len && !memcmp(v[i], s, len))
			return v[i];
	return NULL;
}

/* The variant name equal to the first len bytes of s that driver d exists
 * in (every KMODLAB_VARIANTS one, a KMODLAB_PARTIAL_VARIANTS one only for
 * its driver), or NULL. */
static inline const char *kmodlab_driver_variant_find(const struct kmodlab_driver *d, const char *s,
						      size_t len)
{
	const char *v = kmodlab_variant_find(s, len);

	if (v)
		return v;
#define KMODLAB_PARTIAL_ENTRY(var, drv)                                          \
	if (!strcmp(d->name, drv) && strlen(var) == len && !memcmp(var, s, len)) \
		return var;
	KMODLAB_PARTIAL_VARIANTS(KMODLAB_PARTIAL_ENTRY)
#undef KMODLAB_PARTIAL_ENTRY
	return NULL;
}

/*
 * Module name of base in variant: "scull_c".  Returns the length written
 * (snprintf's), or -1 when base or variant is not one of the lab's or the
 * name does not fit in size bytes.
 */
static inline int kmodlab_module_name(char *buf, size_t size, const char *base, const char *variant)
{
	const struct kmodlab_driver *d = kmodlab_driver_find(base, strlen(base));
	int n;

	if (!d || !kmodlab_driver_variant_find(d, variant, strlen(variant)))
		return -1;
	n = snprintf(buf, size, "%s" KMODLAB_MODULE_SEP "%s", base, variant);
	return n >= 0 && (size_t)n < size ? n : -1;
}

/*
 * Node path of base in variant: "/dev/counter-cxx", or with the minor
 * index for a numbered driver: "/dev/scull-c0".  minor must be >= 0 for a
 * numbered driver and -1 for the others.  Returns the length written, or -1
 * when an argument breaks the rule or the path does not fit in size bytes.
 */
static inline int kmodlab_dev_path(char *buf, size_t size, const char *base, const char *variant,
				   int minor)
{
	const struct kmodlab_driver *d = kmodlab_driver_find(base, strlen(base));
	int n;

	if (!d || !kmodlab_driver_variant_find(d, variant, strlen(variant)))
		return -1;
	if (d->numbered ? minor < 0 : minor != -1)
		return -1;
	if (d->numbered)
		n = snprintf(buf, size, KMODLAB_DEV_DIR "%s" KMODLAB_DEV_SEP "%s%d", base, variant,
			     minor);
	else
		n = snprintf(buf, size, KMODLAB_DEV_DIR "%s" KMODLAB_DEV_SEP "%s", base, variant);
	return n >= 0 && (size_t)n < size ? n : -1;
}

/* The node every driver has: minor 0 of a numbered driver ("/dev/scull-c0"),
 * the only node of the others ("/dev/counter-c").  Returns as kmodlab_dev_path. */
static inline int kmodlab_dev_first_path(char *buf, size_t size, const char *base,
					 const char *variant)
{
	const struct kmodlab_driver *d = kmodlab_driver_find(base, strlen(base));

	return d ? kmodlab_dev_path(buf, size, base, variant, d->numbered ? 0 : -1) : -1;
}

struct kmodlab_dev_name {
	const struct kmodlab_driver *driver;
	const char *variant; /* one of kmodlab_variants(), or a partial one of the driver */
	int minor; /* -1 for an unnumbered driver */
};

/*
 * Parse a node path (only the name after the last '/' counts, so a copy of
 * a node elsewhere parses too).  Returns 0 and fills *out for a name the rule
 * makes, -1 for anything else (/dev/null, /dev/scull-c without its index,
 * /dev/counter-c1).  The variant follows the last separator: a base name
 * may contain '_' but never the separator.
 */
static inline int kmodlab_dev_parse(const char *path, struct kmodlab_dev_name *out)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *sep = strrchr(name, KMODLAB_DEV_SEP[0]);
	const char *rest, *digits, *end;
	long minor = -1;

	if (!sep)
		return -1;
	rest = sep + strlen(KMODLAB_DEV_SEP);
	end = rest + strlen(rest);
	for (digits = end; digits > rest && digits[-1] >= '0' && digits[-1] <= '9'; digits--)
		;
	out->driver = kmodlab_driver_find(name, (size_t)(sep - name));
	out->variant = out->driver ? kmodlab_driver_variant_find(out->driver, rest,
								 (size_t)(digits - rest)) :
				     NULL;
	if (!out->driver || !out->variant)
		return -1;
	if (digits < end) {
		if (end - digits > 9) /* keeps minor within int */
			return -1;
		minor = strtol(digits, NULL, 10);
	}
	if (out->driver->numbered ? minor < 0 : minor != -1)
		return -1;
	out->minor = (int)minor;
	return 0;
}

#endif /* _UAPI_KMODLAB_DEV_H */
