// SPDX-License-Identifier: GPL-2.0
//! The planted cost of the lab's calibration (kmod/include/kmodlab/extra_work.h).
//!
//! [`extra_work!`](crate::krust::planted::extra_work) executes the very
//! instructions the C and C++ drivers execute: one asm block that loads the
//! parameter RIP-relative (`sym`, as C's `"m"` operand compiles), tests it and
//! spins `dec; jnz` that many times.  So KMODLAB_EXTRA_WORK_INSN_BASE (3) and
//! KMODLAB_EXTRA_WORK_INSN_PER_ITER (2) hold for Rust too, checked by the same
//! icount known-answer test.

/// Runs the planted cost once; `$param` is a `Param<u32>` static declared with
/// `param!(..., uint, 0o644, ...)` (read with a plain load: calibration
/// changes it through sysfs at run time).
macro_rules! extra_work {
    ($param:path) => {
        // SAFETY: reads the 4-byte parameter (a `Param<u32>` is a
        // `repr(transparent)` u32) and changes only the scratch register and flags.
        unsafe {
            ::core::arch::asm!(
                "mov {n}(%rip), {left:e}",
                "test {left:e}, {left:e}",
                "jz 3f",
                "2:",
                "dec {left:e}",
                "jnz 2b",
                "3:",
                n = sym $param,
                left = out(reg) _,
                options(att_syntax, nostack),
            )
        }
    };
}
pub(crate) use extra_work;
