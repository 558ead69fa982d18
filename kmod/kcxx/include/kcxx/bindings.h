/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/bindings.h - the exported kernel functions kcxx calls, declared for
 * C++ (Rust-for-Linux: the bindings crate).
 *
 * The list itself is kcxx/bindings.def (one entry per function, written
 * once); this header expands it into extern "C" declarations, and
 * kabi/proto-check.c expands the same list in C against the real kernel
 * headers, so every prototype here is checked at build time.
 *
 * Only out-of-line, EXPORT_SYMBOL'd functions appear, so a C++ call is the
 * same single direct call the C driver makes.  Kernel inline functions are
 * either re-expressed in kcxx at generated offsets (field accessors, the
 * get_user/put_user asm calls, copy_{to,from}_user's size checks) or
 * wrapped in kcxx/glue/kcxx_helpers.c; kmod-report.sh counts the latter.
 *
 * Drivers never call these directly (scripts/check-cxx-raw-calls.sh fails
 * the build when a driver source in kmod/cxx names one): they go through kcxx types.
 */
#ifndef KCXX_BINDINGS_H
#define KCXX_BINDINGS_H

#include <kcxx/kabi.h>

/* The C++ spelling of each KT_ token of bindings.def (C's: proto-check.c). */
#define KT_mutex kcxx::kabi::mutex
#define KT_raw_spinlock kcxx::kabi::spinlock /* spinlock_t starts with its raw_spinlock */
#define KT_spinlock kcxx::kabi::spinlock
#define KT_lock_class_key kcxx::kabi::lock_class_key
#define KT_cdev kcxx::kabi::cdev
#define KT_wait_queue_head kcxx::kabi::wait_queue_head
#define KT_wait_queue_entry kcxx::kabi::wait_queue_entry
#define KT_file_operations kcxx::kabi::file_operations
#define KT_miscdevice kcxx::kabi::miscdevice
#define KT_pci_driver kcxx::kabi::pci_driver
#define KT_class struct class_
#if KABI_CLASS_ARG_CONST
#define KT_cclass const struct class_
#else
#define KT_cclass struct class_
#endif
#define KT_refcount void
#define KT_refcount_saturation int
#define KT_kernel_param_ops kcxx::kabi::kernel_param_ops

extern "C" {
using kcxx::loff_t;
using kcxx::ssize_t;
using kcxx::u32;
using kcxx::u8;
using kcxx::usize;
using kcxx::kabi::dev_t;
using kcxx::kabi::gfp_t;
using kcxx::kabi::slab_flags_t;

extern struct module __this_module;

#define KCXX_FN(ret, name, params, attrs) ret name params attrs;
#define KCXX_FN_AS(ret, name, sym, params, attrs) ret name params __asm__(#sym) attrs;
#define KCXX_HELPER(ret, name, params, attrs) ret name params attrs;
#define KCXX_VAR(type, name) extern type name;
#include <kcxx/bindings.def>
#undef KCXX_FN
#undef KCXX_FN_AS
#undef KCXX_HELPER
#undef KCXX_VAR
}

#endif
