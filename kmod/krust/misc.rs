// SPDX-License-Identifier: GPL-2.0
//! Misc devices and their file operations.
//!
//! A driver implements [`MiscDevice`] for its device state and registers it
//! with [`Registration::new`]; the generic callbacks below turn the kernel's
//! `read`, `write` and `unlocked_ioctl` calls into calls on `&T`.  One
//! `file_operations` table exists per `T`, built at compile time, with only
//! the operations `T` implements (the `#[vtable]` `HAS_*` constants).

use kernel::ffi::{c_char, c_long, c_uint, c_ulong};
use core::marker::{PhantomData, PhantomPinned};
use core::mem::MaybeUninit;
use core::ptr::{addr_of, addr_of_mut};
use kernel::bindings;
use kernel::error::to_result;
use kernel::init::pin_init_from_closure;
use kernel::prelude::*;
use kernel::types::Opaque;
use kernel::uaccess::{UserSlice, UserSliceReader, UserSliceWriter};

/// The operations of a misc device whose state is `Self`.
///
/// Every open file of the device shares the one `Self`, so the operations
/// take `&self` and `Self` must be `Sync`: the state protects itself (a lock
/// or atomics).  An operation the type does not implement is absent from the
/// table (the kernel's default for it applies), never a stub.
#[vtable]
pub trait MiscDevice: Sync + Sized {
    /// `read(2)` at file position `*pos`: fill `out`, advance `*pos`, return the count.
    fn read(&self, _out: UserSliceWriter, _pos: &mut i64) -> Result<usize> {
        kernel::build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `write(2)` at file position `*pos`: consume `inp`, return the count.
    fn write(&self, _inp: UserSliceReader, _pos: &mut i64) -> Result<usize> {
        kernel::build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `ioctl(2)`; `arg` is the caller's argument (often a user pointer).
    fn ioctl(&self, _cmd: u32, _arg: usize) -> Result<isize> {
        kernel::build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }
}

/// A registered misc device together with its state `T`.
///
/// # Invariants
///
/// - `misc` is registered with the kernel from the end of [`Registration::new`]'s
///   initialiser until `drop`, and its `fops` is `FileOps::<T>::TABLE`.
/// - `dev` is initialised before `misc` is registered and dropped after it is
///   deregistered, so every file operation finds a live `T`.
/// - The value is pinned: the kernel keeps pointers to `misc`.
pub struct Registration<T: MiscDevice> {
    misc: Opaque<bindings::miscdevice>,
    dev: T,
    _pin: PhantomPinned,
}

// SAFETY: the kernel may call the file operations from any thread; they only
// hand out `&T`, and `T: Sync`.  `misc` is only touched by the kernel's misc
// code, under its own lock.
unsafe impl<T: MiscDevice> Sync for Registration<T> {}
// SAFETY: as above; the registration is owned by the module and dropped on
// module exit, possibly on another thread than the one that created it.
unsafe impl<T: MiscDevice + Send> Send for Registration<T> {}

impl<T: MiscDevice> Registration<T> {
    /// Initialises `dev` in place, then registers `/dev/<name>` with
    /// permission bits `mode`.
    ///
    /// # Safety
    ///
    /// The registration must live until module exit (keep it in the state
    /// returned by `Module::init`).  An open file holds a reference on the
    /// module (`fops.owner`), not on the registration: dropping it earlier
    /// would leave open files pointing at freed memory.
    pub unsafe fn new<E>(
        name: &'static CStr,
        mode: u16,
        dev: impl PinInit<T, E>,
    ) -> impl PinInit<Self, Error>
    where
        Error: From<E>,
    {
        let init = move |slot: *mut Self| -> Result {
            // SAFETY: `slot` is valid for writes and will stay pinned
            // (`pin_init_from_closure`'s contract); `dev` is initialised in
            // place before the device becomes visible.
            unsafe {
                let dev_slot = addr_of_mut!((*slot).dev);
                dev.__pinned_init(dev_slot).map_err(Error::from)?;
                let misc = Opaque::raw_get(addr_of!((*slot).misc));
                misc.write(MaybeUninit::zeroed().assume_init());
                (*misc).minor = bindings::MISC_DYNAMIC_MINOR as _;
                (*misc).name = name.as_char_ptr();
                (*misc).fops = FileOps::<T>::table();
                (*misc).mode = mode;
                if let Err(e) = to_result(bindings::misc_register(misc)) {
                    core::ptr::drop_in_place(dev_slot);
                    return Err(e);
                }
            }
            Ok(())
        };
        // SAFETY: the closure initialises every field or, on error, leaves
        // nothing initialised (it drops `dev` again); it never moves `*slot`.
        unsafe { pin_init_from_closure(init) }
    }

    /// The device state.
    pub fn dev(&self) -> &T {
        &self.dev
    }

    /// The state of the device an open file belongs to.
    ///
    /// # Safety
    ///
    /// `file` is an open file of a device registered by a `Registration<T>`
    /// (the kernel only calls `FileOps::<T>` callbacks for those).
    unsafe fn from_file<'a>(file: *mut bindings::file) -> &'a T {
        // SAFETY: misc_open() stores the `struct miscdevice` in
        // `private_data`; it is the `misc` field of a live, pinned
        // `Registration<T>` (type invariant, and the open file keeps the
        // module, which owns the registration, loaded).
        unsafe {
            let misc = (*file).private_data.cast::<bindings::miscdevice>();
            let reg = kernel::container_of!(misc, Self, misc);
            &(*reg).dev
        }
    }
}

impl<T: MiscDevice> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: registered since `new` (type invariant); `dev` is dropped
        // only after this returns.
        unsafe { bindings::misc_deregister(self.misc.get()) };
    }
}

/// `simple_read_from_buffer()` for a [`UserSliceWriter`]: copies what is
/// left of `data` after `*pos` (as much as fits), advances `*pos`, returns
/// the count; 0 at or past the end.  A fault fails the whole copy with
/// `EFAULT` (the C helper returns a short count when part was copied).
pub fn read_from_buffer(out: &mut UserSliceWriter, pos: &mut i64, data: &[u8]) -> Result<usize> {
    if *pos < 0 {
        return Err(EINVAL);
    }
    let start = *pos as usize;
    if start >= data.len() || out.is_empty() {
        return Ok(0);
    }
    let n = core::cmp::min(out.len(), data.len() - start);
    out.write_slice(&data[start..start + n])?;
    *pos += n as i64;
    Ok(n)
}

type IoctlFn = Option<unsafe extern "C" fn(*mut bindings::file, c_uint, c_ulong) -> c_long>;

/// `compat_ptr_ioctl`, as the C drivers set it: a function with CONFIG_COMPAT,
/// else the C header's `NULL` (and no binding exists).
#[cfg(CONFIG_COMPAT)]
const COMPAT_PTR_IOCTL: IoctlFn = Some(bindings::compat_ptr_ioctl);
#[cfg(not(CONFIG_COMPAT))]
const COMPAT_PTR_IOCTL: IoctlFn = None;

/// The `file_operations` table of `T` and its C-ABI callbacks.
struct FileOps<T>(PhantomData<T>);

impl<T: MiscDevice> FileOps<T> {
    const TABLE: bindings::file_operations = bindings::file_operations {
        owner: crate::THIS_MODULE.as_ptr(),
        llseek: Some(bindings::default_llseek),
        read: if T::HAS_READ { Some(Self::read) } else { None },
        write: if T::HAS_WRITE { Some(Self::write) } else { None },
        unlocked_ioctl: if T::HAS_IOCTL { Some(Self::ioctl) } else { None },
        compat_ioctl: if T::HAS_IOCTL { COMPAT_PTR_IOCTL } else { None },
        // SAFETY: all-zero is a valid `file_operations` (no operations).
        ..unsafe { MaybeUninit::zeroed().assume_init() }
    };

    /// The table, as a `'static` reference: the constant is promoted to
    /// static memory (a compile error if it could not be).
    const fn table() -> &'static bindings::file_operations {
        &Self::TABLE
    }

    /// # Safety
    ///
    /// Called by the VFS with an open file of a `Registration<T>` device and a
    /// valid `pos`.
    unsafe extern "C" fn read(
        file: *mut bindings::file,
        buf: *mut c_char,
        count: usize,
        pos: *mut bindings::loff_t,
    ) -> isize {
        // SAFETY: the function's contract.
        let (dev, pos) = unsafe { (Registration::<T>::from_file(file), &mut *pos) };
        match dev.read(UserSlice::new(buf as usize, count).writer(), pos) {
            Ok(n) => n as isize,
            Err(e) => e.to_errno() as isize,
        }
    }

    /// # Safety
    ///
    /// As for `read`.
    unsafe extern "C" fn write(
        file: *mut bindings::file,
        buf: *const c_char,
        count: usize,
        pos: *mut bindings::loff_t,
    ) -> isize {
        // SAFETY: the function's contract.
        let (dev, pos) = unsafe { (Registration::<T>::from_file(file), &mut *pos) };
        match dev.write(UserSlice::new(buf as usize, count).reader(), pos) {
            Ok(n) => n as isize,
            Err(e) => e.to_errno() as isize,
        }
    }

    /// # Safety
    ///
    /// Called by the VFS with an open file of a `Registration<T>` device.
    unsafe extern "C" fn ioctl(file: *mut bindings::file, cmd: c_uint, arg: c_ulong) -> c_long {
        // SAFETY: the function's contract.
        let dev = unsafe { Registration::<T>::from_file(file) };
        match dev.ioctl(cmd, arg as usize) {
            Ok(n) => n as c_long,
            Err(e) => e.to_errno() as c_long,
        }
    }
}
