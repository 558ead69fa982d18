// SPDX-License-Identifier: GPL-2.0
//! krust - the lab's Rust support layer for Linux 6.12 (kmod/krust/README.md).
//!
//! 6.12's `kernel` crate has locks, `UserSlice`, errors and the `module!`
//! macro, but no misc device, no file operations and no module parameters.
//! krust adds exactly those, on top of the generated `bindings`, in the
//! style of the `kernel` crate: each piece small, its invariants written
//! down, the unsafe part behind a safe interface where the kernel's rules can
//! be expressed in types.
//!
//! A driver crate includes it as a module (out-of-tree Rust modules in 6.12
//! are single crates): `#[path = "../krust/mod.rs"] mod krust;`.  krust uses
//! the crate root's `THIS_MODULE`, which `module!` defines.
// Included into each driver crate: `pub` items are reachable from that
// crate only, and a driver uses part of them.
#![allow(dead_code, unreachable_pub)]

pub mod misc;
pub mod param;
pub mod planted;
