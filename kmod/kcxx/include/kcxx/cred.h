/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/cred.h - capability checks of the calling task
 * (Rust-for-Linux: kernel::cred).
 *
 * Invariant: only capabilities kcxx_kabi.h knows can be named (Cap is an
 * enum of generated values), and the check is the exported capable(), the
 * call C drivers make (it records the use for audit, like C).
 */
#ifndef KCXX_CRED_H
#define KCXX_CRED_H

#include <kcxx/bindings.h>

namespace kcxx {
enum class Cap : int { sys_admin = KABI_CAP_SYS_ADMIN };

[[gnu::always_inline]] inline bool has_capability(Cap c)
{
	return capable(static_cast<int>(c));
}
} // namespace kcxx

#endif
