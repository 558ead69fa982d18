/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/print.h - logging (Rust-for-Linux: kernel::print, pr_info! ...,
 * and dev_info!/dev_err! of kernel::device).
 *
 * pr_*: the format string is prefixed with "<level>modname: " at compile
 * time, like C's pr_fmt, and checked by GCC's printf format attribute; the
 * call is the same single _printk() call C's pr_info() makes.
 *
 * dev_*(d, fmt, ...): d is a kcxx device handle (anything with a dev()
 * giving its struct device, e.g. pci::PciDevice); the message carries the
 * driver and device names ("lkp_enc_cxx 0000:00:04.0: ...") exactly as
 * C's dev_err() prints them, through the same _dev_err()/_dev_info() call,
 * printf-checked.  Macros, so that -Wformat sees the literal format.
 */
#ifndef KCXX_PRINT_H
#define KCXX_PRINT_H

#include <kcxx/bindings.h>
#include <linux/kern_levels.h>

#define kcxx_pr(level, fmt, ...) _printk(level KBUILD_MODNAME ": " fmt, ##__VA_ARGS__)
#define pr_emerg(fmt, ...) kcxx_pr(KERN_EMERG, fmt, ##__VA_ARGS__)
#define pr_err(fmt, ...) kcxx_pr(KERN_ERR, fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) kcxx_pr(KERN_WARNING, fmt, ##__VA_ARGS__)
#define pr_notice(fmt, ...) kcxx_pr(KERN_NOTICE, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) kcxx_pr(KERN_INFO, fmt, ##__VA_ARGS__)

#define dev_err(d, fmt, ...) _dev_err((d).dev(), fmt, ##__VA_ARGS__)
#define dev_info(d, fmt, ...) _dev_info((d).dev(), fmt, ##__VA_ARGS__)

#endif
