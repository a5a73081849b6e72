//! Processes: fork, exec, wait, kill, prctl, limits, usage.

use super::{retry, Errno, Result};
use core::ffi::{c_char, CStr};
use syscalls::{raw_syscall, syscall, Sysno};

/// A process id.
pub type Pid = i32;

/// This process's id.
pub fn getpid() -> Pid {
    // SAFETY: getpid has no arguments and cannot fail.
    unsafe { raw_syscall!(Sysno::getpid) as Pid }
}

pub fn getppid() -> Pid {
    // SAFETY: getppid has no arguments and cannot fail.
    unsafe { raw_syscall!(Sysno::getppid) as Pid }
}

/// `fork()`: `Ok(0)` in the child, the child's pid in the parent.
pub fn fork() -> Result<Pid> {
    clone_fork(0)
}

/// `fork()` into a new PID namespace (`clone(CLONE_NEWPID)`): the child is
/// its first process, PID 1 there. Needs CAP_SYS_ADMIN.
pub fn fork_into_new_pid_namespace() -> Result<Pid> {
    const CLONE_NEWPID: usize = 0x2000_0000;
    clone_fork(CLONE_NEWPID)
}

fn clone_fork(flags: usize) -> Result<Pid> {
    const SIGCHLD: usize = 17;
    // SAFETY: clone with an exit signal, no new stack and no flag that shares
    // memory behaves as fork; proctor is single-threaded, so the child's copy
    // of memory is consistent.
    unsafe { syscall!(Sysno::clone, flags | SIGCHLD, 0, 0, 0, 0) }.map(|p| p as Pid)
}

/// Replace this process image. Only returns on failure.
///
/// # Safety
/// `argv` and `envp` must be null-terminated arrays of pointers to
/// NUL-terminated strings that stay valid for the call.
#[inline(never)]
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

/// What `wait4` reports about a child.
enum Change {
    Ended(Exit),
    /// Stopped with this signal: without `WUNTRACED`, only a tracee stops
    /// for its tracer.
    Stopped(u8),
}

impl Change {
    fn from_status(status: i32) -> Change {
        let low = status & 0x7f;
        let high = ((status >> 8) & 0xff) as u8;
        match low {
            0 => Change::Ended(Exit::Code(high)),
            0x7f => Change::Stopped(high),
            sig => Change::Ended(Exit::Signal(sig as u8)),
        }
    }
}

/// `wait4` for `pid` (-1: any child) until one has ended: an exit or a
/// death by signal; `None` with `WNOHANG` when none has yet. A child that
/// made proctor its tracer (`PTRACE_TRACEME`) and stopped for it is let
/// go on the way ([`release_tracee`]): a stop is no ending.
fn wait_ended(pid: isize, flags: usize) -> Result<Option<(Pid, Exit)>> {
    loop {
        let mut status = 0i32;
        // SAFETY: status is writable; a null rusage is allowed.
        let got =
            retry(|| unsafe { syscall!(Sysno::wait4, pid, &mut status as *mut i32, flags, 0) })?;
        if got == 0 {
            return Ok(None);
        }
        match Change::from_status(status) {
            Change::Ended(exit) => return Ok(Some((got as Pid, exit))),
            Change::Stopped(sig) => release_tracee(got as Pid, sig),
        }
    }
}

/// Detach a tracee stopped for proctor (`PTRACE_DETACH`), passing on the
/// signal that stopped it — but for the `SIGTRAP` the kernel sends a
/// tracee at `execve` (to itself, `SI_USER`), which nobody would have sent
/// it untraced. proctor never traces anything itself.
#[inline(never)]
fn release_tracee(pid: Pid, sig: u8) {
    const PTRACE_DETACH: usize = 17;
    const PTRACE_GETSIGINFO: usize = 0x4202;
    const SIGTRAP: u8 = 5;
    const SI_USER: i32 = 0;
    let mut pass = sig as usize;
    if sig == SIGTRAP {
        // siginfo_t: si_signo, si_errno, si_code, padding, then si_pid (offset 16).
        let mut info = core::mem::MaybeUninit::<[i32; 32]>::uninit();
        // SAFETY: info is a writable 128-byte siginfo_t.
        let got = unsafe { syscall!(Sysno::ptrace, PTRACE_GETSIGINFO, pid, 0, info.as_mut_ptr()) };
        if got.is_ok() {
            // SAFETY: the kernel wrote the whole siginfo_t (it copies all
            // 128 bytes out); not zeroing it first saves code.
            let info = unsafe { info.assume_init() };
            if info[2] == SI_USER && info[4] == pid {
                pass = 0;
            }
        }
    }
    // SAFETY: PTRACE_DETACH takes the signal to deliver as its data argument.
    let _ = unsafe { syscall!(Sysno::ptrace, PTRACE_DETACH, pid, 0, pass) };
}

/// Reap one ended child without blocking: `None` when children exist but
/// none has ended yet; `ECHILD` when there are no children at all.
pub fn reap_any() -> Result<Option<(Pid, Exit)>> {
    reap(-1)
}

/// Reap the child `pid` (-1: any) without blocking: `None` while it runs.
pub fn reap(pid: Pid) -> Result<Option<(Pid, Exit)>> {
    const WNOHANG: usize = 1;
    wait_ended(pid as isize, WNOHANG)
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

/// `prctl` with up to two arguments. Not inlined: it has many callers.
#[inline(never)]
pub fn prctl(option: u32, arg2: usize, arg3: usize) -> Result<usize> {
    // SAFETY: the options proctor uses take integers, not pointers.
    unsafe { syscall!(Sysno::prctl, option, arg2, arg3, 0, 0) }
}

pub const PR_SET_DUMPABLE: u32 = 4;
pub const PR_SET_PDEATHSIG: u32 = 1;
pub const PR_SET_CHILD_SUBREAPER: u32 = 36;

/// Resource usage of all reaped descendants (`RUSAGE_CHILDREN`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
    let ended = wait_ended(pid as isize, 0)?;
    ended.map(|(_, exit)| exit).ok_or(Errno::ECHILD)
}

/// The session id of this process.
pub fn getsid() -> Pid {
    // SAFETY: getsid(0) asks about this process and cannot fail.
    unsafe { raw_syscall!(Sysno::getsid, 0) as Pid }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exits_and_deaths_by_signal_are_endings() {
        let ended = |s| match Change::from_status(s) {
            Change::Ended(e) => Some(e),
            Change::Stopped(_) => None,
        };
        assert_eq!(ended(0x0300), Some(Exit::Code(3)));
        assert_eq!(ended(0x0009), Some(Exit::Signal(9)));
        assert_eq!(ended(0x0086), Some(Exit::Signal(6))); // with a core dump
                                                          // A tracee's stops (SIGTRAP, SIGSTOP, SIGUSR1): 0x7f in the low byte.
        for (status, sig) in [(0x057f, 5), (0x137f, 19), (0x0a7f, 10)] {
            assert!(matches!(Change::from_status(status), Change::Stopped(s) if s == sig));
        }
    }
}
