//! Mounts and namespaces.

use super::Result;
use core::ffi::CStr;
use syscalls::{syscall, Sysno};

pub const MS_RDONLY: u64 = 1;
pub const MS_NOSUID: u64 = 2;
pub const MS_NODEV: u64 = 4;
pub const MS_NOEXEC: u64 = 8;

/// Classic `mount(2)`.
pub fn mount(
    src: &CStr,
    target: &CStr,
    fstype: &CStr,
    flags: u64,
    data: Option<&CStr>,
) -> Result<()> {
    let data = data.map_or(core::ptr::null(), |d| d.as_ptr());
    // SAFETY: all strings are NUL-terminated; data is null or a string.
    unsafe {
        syscall!(
            Sysno::mount,
            src.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            flags,
            data
        )
    }
    .map(drop)
}

/// Create `path` as a directory with `mode` (relative to `dir`).
pub fn mkdir_at(dir: i32, path: &CStr, mode: u32) -> Result<()> {
    // SAFETY: path is NUL-terminated.
    unsafe { syscall!(Sysno::mkdirat, dir, path.as_ptr(), mode) }.map(drop)
}
