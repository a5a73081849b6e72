//! Mounts and namespaces: the classic `mount(2)` and the descriptor-based
//! calls of Linux 5.2+ (`open_tree`, `move_mount`), 5.6 (`openat2`) and
//! 5.12 (`mount_setattr`).

use super::fs::{AT_EMPTY_PATH, O_CLOEXEC};
use super::{retry, Fd, Result};
use core::ffi::CStr;
use syscalls::{raw_syscall, syscall, Sysno};

pub const MS_RDONLY: u64 = 1;
pub const MS_NOSUID: u64 = 2;
pub const MS_NODEV: u64 = 4;
pub const MS_NOEXEC: u64 = 8;
pub const MS_REMOUNT: u64 = 32;
pub const MS_NOATIME: u64 = 1024;
pub const MS_NODIRATIME: u64 = 2048;
pub const MS_BIND: u64 = 4096;
pub const MS_REC: u64 = 16384;
pub const MS_PRIVATE: u64 = 1 << 18;
pub const MS_RELATIME: u64 = 1 << 21;

/// `MOUNT_ATTR_RDONLY`; `MOUNT_ATTR_NOSUID`, `_NODEV`, `_NOEXEC` have the
/// values of the `MS_*` flags of the same names.
pub const MOUNT_ATTR_RDONLY: u64 = 0x1;

const AT_RECURSIVE: u32 = 0x8000;
const OPEN_TREE_CLONE: u32 = 1;
const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x4;
const MOVE_MOUNT_T_EMPTY_PATH: u32 = 0x40;
const RESOLVE_NO_SYMLINKS: u64 = 0x04;

/// Classic `mount(2)`. `src` and `fstype` are ignored by the kernel for
/// binds and remounts.
#[inline(never)]
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

/// `openat2(dir, path, O_PATH, RESOLVE_NO_SYMLINKS)`: an `O_PATH` descriptor
/// of `path`, refusing (`ELOOP`) a symbolic link anywhere in it.
pub fn open_path_no_symlinks(dir: i32, path: &CStr) -> Result<Fd> {
    #[repr(C)]
    struct OpenHow {
        flags: u64,
        mode: u64,
        resolve: u64,
    }
    let how = OpenHow {
        flags: (super::fs::O_PATH | O_CLOEXEC) as u64,
        mode: 0,
        resolve: RESOLVE_NO_SYMLINKS,
    };
    // SAFETY: path is NUL-terminated; how is a valid struct open_how of the given size.
    let fd = retry(|| unsafe {
        syscall!(
            Sysno::openat2,
            dir,
            path.as_ptr(),
            &how as *const OpenHow,
            core::mem::size_of::<OpenHow>()
        )
    })?;
    Ok(Fd::from_raw(fd as i32))
}

/// A detached copy of the mount at `fd` (`open_tree(OPEN_TREE_CLONE)`), with
/// the mounts below it when `recursive`.
pub fn clone_tree(fd: i32, recursive: bool) -> Result<Fd> {
    let rec = if recursive { AT_RECURSIVE } else { 0 };
    let flags = OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH | rec;
    // SAFETY: the empty path is NUL-terminated.
    let fd = unsafe { syscall!(Sysno::open_tree, fd, c"".as_ptr(), flags) }?;
    Ok(Fd::from_raw(fd as i32))
}

/// Set `attrs` (`MOUNT_ATTR_*`) on the mount at `fd`, and on every mount
/// below it when `recursive` (`mount_setattr`).
pub fn set_attrs(fd: i32, attrs: u64, recursive: bool) -> Result<()> {
    #[repr(C)]
    struct MountAttr {
        set: u64,
        clear: u64,
        propagation: u64,
        userns_fd: u64,
    }
    let attr = MountAttr {
        set: attrs,
        clear: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let flags = AT_EMPTY_PATH | if recursive { AT_RECURSIVE } else { 0 };
    // SAFETY: the empty path is NUL-terminated; attr is a valid struct mount_attr.
    unsafe {
        syscall!(
            Sysno::mount_setattr,
            fd,
            c"".as_ptr(),
            flags,
            &attr as *const MountAttr,
            core::mem::size_of::<MountAttr>()
        )
    }
    .map(drop)
}

/// Attach the detached mount `tree` on top of the object `target` refers to.
pub fn move_mount(tree: i32, target: i32) -> Result<()> {
    let flags = MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH;
    // SAFETY: both paths are the empty NUL-terminated string.
    unsafe {
        syscall!(
            Sysno::move_mount,
            tree,
            c"".as_ptr(),
            target,
            c"".as_ptr(),
            flags
        )
    }
    .map(drop)
}

/// The `MS_*` flags of the mount holding `fd` (`fstatfs`'s `f_flags`).
pub fn mount_flags(fd: i32) -> Result<u64> {
    // struct statfs is 15 words on x86_64 and on the 64-bit generic ABI;
    // f_flags is word 10 (f_fsid takes one word).
    let mut buf = [0u64; 15];
    // SAFETY: buf is a writable, aligned struct statfs.
    retry(|| unsafe { syscall!(Sysno::fstatfs, fd, buf.as_mut_ptr()) })?;
    Ok(buf[10])
}

/// Set the file mode creation mask; returns the previous one.
pub fn umask(mask: u32) -> u32 {
    // SAFETY: umask takes only a mask and cannot fail.
    unsafe { raw_syscall!(Sysno::umask, mask) as u32 }
}
