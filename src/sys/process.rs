//! Processes: fork, exec, wait, kill, prctl, limits, usage.

use super::{retry, Errno, Result};
use core::ffi::{c_char, CStr};
use syscalls::{syscall, Sysno};

/// A process id.
pub type Pid = i32;

/// This process's id.
pub fn getpid() -> Pid {
    // SAFETY: getpid has no arguments and cannot fail.
    unsafe { syscall!(Sysno::getpid) }.unwrap_or(0) as Pid
}

pub fn getppid() -> Pid {
    // SAFETY: getppid has no arguments and cannot fail.
    unsafe { syscall!(Sysno::getppid) }.unwrap_or(0) as Pid
}

/// `fork()`: `Ok(0)` in the child, the child's pid in the parent.
pub fn fork() -> Result<Pid> {
    const SIGCHLD: usize = 17;
    // SAFETY: clone with only an exit signal and no new stack behaves as fork;
    // proctor is single-threaded, so the child's copy of memory is consistent.
    unsafe { syscall!(Sysno::clone, SIGCHLD, 0, 0, 0, 0) }.map(|p| p as Pid)
}

/// Replace this process image. Only returns on failure.
///
/// # Safety
/// `argv` and `envp` must be null-terminated arrays of pointers to
/// NUL-terminated strings that stay valid for the call.
pub unsafe fn execve(path: &CStr, argv: *const *const c_char, envp: *const *const c_char) -> Errno {
    // SAFETY: the caller guarantees the arrays; path is NUL-terminated.
    match unsafe { syscall!(Sysno::execve, path.as_ptr(), argv, envp) } {
        Err(e) => e,
        Ok(_) => Errno::EINVAL, // execve does not return on success
    }
}

/// Exit every thread of this process.
pub fn exit(code: u8) -> ! {
    loop {
        // SAFETY: exit_group does not return.
        let _ = unsafe { syscall!(Sysno::exit_group, code) };
    }
}

/// Start a new session and process group led by this process.
pub fn setsid() -> Result<Pid> {
    // SAFETY: setsid takes no arguments.
    unsafe { syscall!(Sysno::setsid) }.map(|p| p as Pid)
}

/// How a child ended, as `wait4` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Code(u8),
    Signal(u8),
}

impl Exit {
    fn from_status(status: i32) -> Exit {
        let sig = status & 0x7f;
        if sig == 0 {
            Exit::Code(((status >> 8) & 0xff) as u8)
        } else {
            Exit::Signal(sig as u8)
        }
    }
}

/// Reap one ended child without blocking: `None` when children exist but
/// none has ended yet; `ECHILD` when there are no children at all.
pub fn reap_any() -> Result<Option<(Pid, Exit)>> {
    const WNOHANG: usize = 1;
    let mut status = 0i32;
    // SAFETY: status is writable; a null rusage is allowed.
    let pid =
        retry(|| unsafe { syscall!(Sysno::wait4, -1isize, &mut status as *mut i32, WNOHANG, 0) })?;
    Ok(if pid == 0 {
        None
    } else {
        Some((pid as Pid, Exit::from_status(status)))
    })
}

/// Send signal `sig` to the one process `pid`. A pid of 0 or below, which
/// `kill(2)` would widen to a group or to everyone, is refused (`ESRCH`):
/// those have names of their own below.
pub fn kill(pid: Pid, sig: i32) -> Result<()> {
    if pid <= 0 {
        return Err(Errno::ESRCH);
    }
    raw_kill(pid, sig)
}

/// Send `sig` to every process of the group `pgid` (`kill(-pgid)`).
pub fn kill_process_group(pgid: Pid, sig: i32) -> Result<()> {
    if pgid <= 0 {
        return Err(Errno::ESRCH);
    }
    raw_kill(-pgid, sig)
}

/// DANGEROUS: send `sig` to every process this one may signal (`kill(-1)`).
/// Only PID 1 of a PID namespace may call it: there, that is everything in
/// the namespace; anywhere else it hits every process of the caller's uid
/// (or, as root, of the machine).
pub fn kill_all_in_namespace(sig: i32) -> Result<()> {
    raw_kill(-1, sig)
}

fn raw_kill(pid: Pid, sig: i32) -> Result<()> {
    // SAFETY: kill takes two integers.
    unsafe { syscall!(Sysno::kill, pid as isize, sig) }.map(drop)
}

/// `prctl` with up to two arguments.
pub fn prctl(option: u32, arg2: usize, arg3: usize) -> Result<usize> {
    // SAFETY: the options proctor uses take integers, not pointers.
    unsafe { syscall!(Sysno::prctl, option, arg2, arg3, 0, 0) }
}

pub const PR_SET_DUMPABLE: u32 = 4;
pub const PR_SET_PDEATHSIG: u32 = 1;
pub const PR_SET_CHILD_SUBREAPER: u32 = 36;

/// Resource usage of all reaped descendants (`RUSAGE_CHILDREN`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    pub user_us: u64,
    pub sys_us: u64,
    pub max_rss_kib: u64,
}

/// Resource usage of every reaped descendant.
pub fn children_usage() -> Usage {
    const RUSAGE_CHILDREN: isize = -1;
    let mut ru = [0i64; 18]; // struct rusage: 2 timevals + 14 longs
                             // SAFETY: ru is a writable struct rusage.
    let _ = unsafe { syscall!(Sysno::getrusage, RUSAGE_CHILDREN, ru.as_mut_ptr()) };
    let us = |sec: i64, usec: i64| (sec.max(0) as u64) * 1_000_000 + usec.max(0) as u64;
    Usage {
        user_us: us(ru[0], ru[1]),
        sys_us: us(ru[2], ru[3]),
        max_rss_kib: ru[4].max(0) as u64,
    }
}

/// Set resource `resource` (`RLIMIT_*`) of this process to `soft` and `hard`.
pub fn set_rlimit(resource: u32, soft: u64, hard: u64) -> Result<()> {
    // struct rlimit64
    let limit = [soft, hard];
    // SAFETY: limit is a valid struct rlimit64; a null old-value pointer is allowed.
    unsafe { syscall!(Sysno::prlimit64, 0, resource, limit.as_ptr(), 0) }.map(drop)
}

/// Wait (blocking) for the child `pid` to end.
pub fn wait_pid(pid: Pid) -> Result<Exit> {
    let mut status = 0i32;
    // SAFETY: status is writable; a null rusage is allowed.
    retry(|| unsafe { syscall!(Sysno::wait4, pid as isize, &mut status as *mut i32, 0, 0) })?;
    Ok(Exit::from_status(status))
}

/// The session id of this process.
pub fn getsid() -> Pid {
    // SAFETY: getsid(0) asks about this process and cannot fail.
    unsafe { syscall!(Sysno::getsid, 0) }.unwrap_or(0) as Pid
}

/// A namespace `unshare` can give this process a new copy of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Namespace {
    Mount = 0x0002_0000,
    Network = 0x4000_0000,
}

/// Move this process into a new namespace of kind `ns` (needs CAP_SYS_ADMIN).
pub fn unshare(ns: Namespace) -> Result<()> {
    // SAFETY: unshare takes flags only.
    unsafe { syscall!(Sysno::unshare, ns as usize) }.map(drop)
}

/// How [`end_machine`] ends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum MachineEnd {
    /// `LINUX_REBOOT_CMD_POWER_OFF`: halts a machine without ACPI but does not stop it.
    PowerOff = 0x4321_fedc,
    /// `LINUX_REBOOT_CMD_RESTART` (`RB_AUTOBOOT`): a VMM without power-off stops on it.
    Restart = 0x0123_4567,
}

/// `reboot(2)`: power the machine off or restart it, at once (sync first).
/// Returns only on failure: not allowed (no CAP_SYS_BOOT) or, in a PID
/// namespace, never (the kernel ends the namespace's init instead).
pub fn end_machine(how: MachineEnd) -> Errno {
    const MAGIC1: usize = 0xfee1_dead;
    const MAGIC2: usize = 0x2812_1969;
    // SAFETY: reboot with the documented magic numbers; on success it does not return.
    match unsafe { syscall!(Sysno::reboot, MAGIC1, MAGIC2, how as usize, 0) } {
        Err(e) => e,
        Ok(_) => Errno::EINVAL,
    }
}
