// SPDX-License-Identifier: GPL-2.0
//! Module parameters (6.12's `module!` macro has none).
//!
//! [`param!`](crate::krust::param::param) declares a static holding the
//! value and the two things the kernel reads at load: a `struct kernel_param`
//! in the `__param` section (what `module_param_named()` emits in C; the
//! loader parses `insmod` arguments and creates
//! `/sys/module/<name>/parameters/` from it) and the `parm`/`parmtype`
//! strings in `.modinfo` (what `modinfo` and the lab's parameter checks read).

use core::cell::UnsafeCell;
use core::ffi::c_void;
use kernel::bindings;
use kernel::str::CStr;

/// The storage of one module parameter.
///
/// # Invariants
///
/// The kernel's `param_ops_*` write the value through [`Param::as_ptr`]
/// before `init` runs and, for a writable parameter, at any time through
/// sysfs.  Rust code therefore only reads it, with one volatile load of a
/// naturally aligned value of at most 8 bytes (never torn on x86-64): a read
/// racing a sysfs write sees the old or the new value, as the C drivers' plain
/// loads do.
#[repr(transparent)]
pub struct Param<T>(UnsafeCell<T>);

// SAFETY: shared access is read-only from Rust (type invariant); the
// kernel's writes are single stores of a `Copy` value.
unsafe impl<T: Copy> Sync for Param<T> {}

impl<T: Copy> Param<T> {
    /// A parameter whose value is `v` until the kernel sets it.
    pub const fn new(v: T) -> Self {
        Self(UnsafeCell::new(v))
    }

    /// Where the kernel writes the value (the `arg` of `struct kernel_param`).
    pub const fn as_ptr(&self) -> *mut T {
        self.0.get()
    }

    /// The current value.
    #[inline(always)]
    pub fn get(&self) -> T {
        // SAFETY: valid, aligned, initialised; see the type invariant.
        unsafe { core::ptr::read_volatile(self.0.get()) }
    }
}

/// One `struct kernel_param` of the `__param` section.
#[repr(transparent)]
pub struct KernelParam(bindings::kernel_param);

// SAFETY: the kernel only reads it; its pointers are to statics.
unsafe impl Sync for KernelParam {}

impl KernelParam {
    /// The entry for parameter `name` of this module, set and shown by `ops`
    /// at `arg`, with sysfs permission bits `perm` (0: not in sysfs).
    pub const fn new(
        name: &'static CStr,
        ops: *const bindings::kernel_param_ops,
        perm: u16,
        arg: *mut c_void,
    ) -> Self {
        Self(bindings::kernel_param {
            name: name.as_char_ptr(),
            mod_: crate::THIS_MODULE.as_ptr(),
            ops,
            perm,
            level: -1,
            flags: 0,
            __bindgen_anon_1: bindings::kernel_param__bindgen_ty_1 { arg },
        })
    }
}

/// `s` as an array of exactly `N` bytes, for `.modinfo` strings built at
/// compile time (`N` must be `s.len()`).
pub const fn modinfo<const N: usize>(s: &str) -> [u8; N] {
    let b = s.as_bytes();
    assert!(b.len() == N);
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = b[i];
        i += 1;
    }
    out
}

/// Declares module parameter `$name` stored in static `$store` (a
/// [`Param`]): `param!(STORE: u32 = 0, "name", uint, 0o644, "description")`.
/// The type word (`uint`, `ushort`, `charp`, ...) picks the kernel's
/// `param_ops_<type>`, so storage type and parser cannot disagree unless
/// `$ty` does not match it (the C rule is the same).
// `#[used(compiler)]`, as 6.12's `module!`: rustc >= 1.89 makes a plain
// `#[used]` `used(linker)` (SHF_GNU_RETAIN), which puts each static in a
// section of its own, and modpost reads only the last `.modinfo` of the object
// ("missing MODULE_LICENSE()").
macro_rules! param {
    ($store:ident : $ty:ty = $init:expr, $name:literal, $kind:ident, $perm:expr, $desc:expr) => {
        pub(crate) static $store: $crate::krust::param::Param<$ty> =
            $crate::krust::param::Param::new($init);
        const _: () = {
            #[link_section = "__param"]
            #[used(compiler)]
            static KP: $crate::krust::param::KernelParam = $crate::krust::param::KernelParam::new(
                kernel::c_str!($name),
                // Only the address of the kernel's ops table is taken.
                ::kernel::macros::paste! {
                    ::core::ptr::addr_of!(::kernel::bindings::[<param_ops_ $kind>])
                },
                $perm,
                $store.as_ptr().cast(),
            );
            const TYPE: &str = concat!("parmtype=", $name, ":", stringify!($kind), "\0");
            const DESC: &str = concat!("parm=", $name, ":", $desc, "\0");
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static MT: [u8; TYPE.len()] = $crate::krust::param::modinfo(TYPE);
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static MD: [u8; DESC.len()] = $crate::krust::param::modinfo(DESC);
        };
    };
}
pub(crate) use param;
