//! cgroup files and the calls only the cgroup phase needs: control files
//! read and written whole, directories removed, the command forked straight
//! into its cgroup (`clone3` with `CLONE_INTO_CGROUP`), and the mount
//! namespace entered again by descriptor.

use super::fs::{self, O_RDONLY, O_WRONLY};
use super::process::Pid;
use super::{retry, Fd, Result};
use core::ffi::CStr;
use syscalls::{syscall, Sysno};

/// Write `value` to the control file `name` in the cgroup directory `dir`,
/// in one `write` (a cgroup file takes each write as one command).
#[inline(never)]
pub fn write(dir: i32, name: &CStr, value: &[u8]) -> Result<()> {
    let fd = fs::openat(dir, name, O_WRONLY, 0)?;
    write_fd(fd.raw(), value)
}

/// Write `value` to an open control file in one `write`.
pub fn write_fd(fd: i32, value: &[u8]) -> Result<()> {
    // SAFETY: value is valid for reads of its length.
    retry(|| unsafe { syscall!(Sysno::write, fd, value.as_ptr(), value.len()) }).map(drop)
}

/// Open the control file `name` in `dir` for reading, to be read again and
/// again with [`read_at_start`].
pub fn open_read(dir: i32, name: &CStr) -> Result<Fd> {
    fs::openat(dir, name, O_RDONLY, 0)
}

/// Read an open control file from its start into `buf` (`pread` at 0: the
/// kernel renders it afresh); the bytes read.
pub fn read_at_start(fd: i32, buf: &mut [u8]) -> Result<&[u8]> {
    let mut got = 0;
    loop {
        let rest = buf.get_mut(got..).unwrap_or_default();
        if rest.is_empty() {
            break;
        }
        // SAFETY: rest is writable for its length.
        let n =
            retry(|| unsafe { syscall!(Sysno::pread64, fd, rest.as_mut_ptr(), rest.len(), got) })?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(buf.get(..got).unwrap_or_default())
}

/// Read the control file `name` in `dir` into `buf` (as far as it goes);
/// `/proc` files too (the leftover scan).
#[inline(never)]
pub fn read<'b>(dir: i32, name: &CStr, buf: &'b mut [u8]) -> Result<&'b [u8]> {
    let fd = open_read(dir, name)?;
    read_at_start(fd.raw(), buf)
}

/// Remove the (empty) cgroup directory `name` in `dir`.
#[inline(never)]
pub fn remove(dir: i32, name: &CStr) -> Result<()> {
    const AT_REMOVEDIR: u32 = 0x200;
    // SAFETY: name is NUL-terminated.
    unsafe { syscall!(Sysno::unlinkat, dir, name.as_ptr(), AT_REMOVEDIR) }.map(drop)
}

/// `fork()` whose child starts in the cgroup v2 directory `cgroup` (an open
/// descriptor): `clone3` with `CLONE_INTO_CGROUP` (Linux 5.7), and with
/// `new_pid_ns` into a new PID namespace too. `Ok(0)` in the child, its pid
/// in the parent.
pub fn fork_into(cgroup: i32, new_pid_ns: bool) -> Result<Pid> {
    const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
    const CLONE_NEWPID: u64 = 0x2000_0000;
    const SIGCHLD: u64 = 17;
    // struct clone_args, version 2 (88 bytes): flags, pidfd, child_tid,
    // parent_tid, exit_signal, stack, stack_size, tls, set_tid,
    // set_tid_size, cgroup.
    let mut args = [0u64; 11];
    args[0] = CLONE_INTO_CGROUP | if new_pid_ns { CLONE_NEWPID } else { 0 };
    args[4] = SIGCHLD;
    args[10] = cgroup as u64;
    // SAFETY: no new stack and no shared memory: the child is a copy of this
    // single-threaded process, as after fork; args is a valid clone_args.
    unsafe { syscall!(Sysno::clone3, args.as_ptr(), core::mem::size_of_val(&args)) }
        .map(|p| p as Pid)
}

/// Enter the mount namespace `ns` (an open `/proc/…/ns/mnt`) again.
pub fn enter_mount_namespace(ns: i32) -> Result<()> {
    const CLONE_NEWNS: usize = 0x0002_0000;
    // SAFETY: setns takes a descriptor and a flag.
    unsafe { syscall!(Sysno::setns, ns, CLONE_NEWNS) }.map(drop)
}
