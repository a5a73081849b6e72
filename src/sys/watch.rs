//! Waiting on several event sources at once: inotify, signalfd, ppoll.

use super::signal::SigSet;
use super::time::{Nanos, Timespec};
use super::{Errno, Fd, Result};
use core::ffi::CStr;
use syscalls::{syscall, Sysno};

const FLAGS: u32 = super::fs::O_NONBLOCK | super::fs::O_CLOEXEC;

/// Something appeared in a watched directory (created, or renamed into it).
pub const IN_CREATE: u32 = 0x100;
pub const IN_MOVED_TO: u32 = 0x80;
/// The watched directory itself went away.
pub const IN_DELETE_SELF: u32 = 0x400;
pub const IN_MOVE_SELF: u32 = 0x800;
pub const IN_ONLYDIR: u32 = 0x0100_0000;

/// A new, non-blocking inotify instance.
pub fn inotify() -> Result<Fd> {
    // SAFETY: inotify_init1 takes only flags.
    let fd = unsafe { syscall!(Sysno::inotify_init1, FLAGS) }?;
    Ok(Fd::from_raw(fd as i32))
}

/// Watch `path` for `mask` events (adding to a watch replaces its mask).
pub fn add_watch(inotify: i32, path: &CStr, mask: u32) -> Result<()> {
    // SAFETY: path is NUL-terminated.
    unsafe { syscall!(Sysno::inotify_add_watch, inotify, path.as_ptr(), mask) }.map(drop)
}

/// A non-blocking descriptor that reads the signals of `set` (which must be blocked).
pub fn signalfd(set: SigSet) -> Result<Fd> {
    // SAFETY: set is a valid 8-byte kernel sigset; -1 asks for a new descriptor.
    let fd = unsafe { syscall!(Sysno::signalfd4, -1i32, &set as *const SigSet, 8, FLAGS) }?;
    Ok(Fd::from_raw(fd as i32))
}

/// One signal read from a signalfd (`struct signalfd_siginfo`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SigInfo {
    signo: u32,
    rest: [u32; 31],
}

impl SigInfo {
    pub const EMPTY: SigInfo = SigInfo {
        signo: 0,
        rest: [0; 31],
    };

    /// Record a signal taken some other way (`rt_sigtimedwait`), for the
    /// same loop.
    #[inline(never)]
    pub fn set_signal(&mut self, signal: i32) {
        self.signo = signal as u32;
    }

    /// The signal's number.
    pub fn signal(&self) -> i32 {
        self.signo as i32
    }
}

/// Take as many pending signals from a signalfd as `buf` holds, with one
/// `read`, in the kernel's order; none when none is pending.
pub fn read_signals(fd: i32, buf: &mut [SigInfo]) -> Result<&[SigInfo]> {
    let size = core::mem::size_of_val(buf);
    // SAFETY: buf is writable for `size` bytes.
    let len = match unsafe { syscall!(Sysno::read, fd, buf.as_mut_ptr(), size) } {
        Ok(len) => len,
        Err(Errno::EAGAIN) => 0,
        Err(e) => return Err(e),
    };
    let n = len / core::mem::size_of::<SigInfo>();
    Ok(buf.get(..n).unwrap_or_default())
}

/// Read and discard everything readable on a non-blocking descriptor.
pub fn drain(fd: i32) {
    let mut buf = [0u64; 512];
    // SAFETY: buf is writable for its 4096 bytes.
    while unsafe { syscall!(Sysno::read, fd, buf.as_mut_ptr(), 4096) }.is_ok_and(|n| n > 0) {}
}

/// One entry of `ppoll`'s array (`struct pollfd`), waiting for input.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
}

impl PollFd {
    /// Wait for `fd` to be readable (or hung up); a negative `fd` is skipped.
    #[inline(never)]
    pub fn readable(fd: i32) -> PollFd {
        const POLLIN: i16 = 1;
        PollFd {
            fd,
            events: POLLIN,
            revents: 0,
        }
    }

    /// Wait for `fd` to take output again.
    pub fn writable(fd: i32) -> PollFd {
        const POLLOUT: i16 = 4;
        PollFd {
            fd,
            events: POLLOUT,
            revents: 0,
        }
    }

    /// Whether the last [`poll`] found it readable, hung up or in error.
    pub fn ready(&self) -> bool {
        self.fd >= 0 && self.revents != 0
    }

    /// The descriptor.
    pub fn raw(&self) -> i32 {
        self.fd
    }

    /// An entry `poll` skips (a negative descriptor).
    pub fn is_unused(&self) -> bool {
        self.fd < 0
    }

    /// Whether the last [`poll`] found bytes to read (not only a hang-up).
    pub fn has_input(&self) -> bool {
        self.revents & 1 != 0
    }
}

/// Block until one of `fds` is ready or `timeout` passes (`None`: no
/// timeout), without changing the signal mask; `EINTR` counts as a wake-up.
pub fn poll(fds: &mut [PollFd], timeout: Option<Nanos>) -> Result<()> {
    let ts = timeout.map(Timespec::from_nanos);
    let tsp = ts
        .as_ref()
        .map_or(core::ptr::null(), |t| t as *const Timespec);
    // SAFETY: fds is a valid array of struct pollfd; tsp is null or a valid
    // timespec; a null sigmask keeps the current mask.
    match unsafe { syscall!(Sysno::ppoll, fds.as_mut_ptr(), fds.len(), tsp, 0, 8) } {
        Ok(_) | Err(Errno::EINTR) => Ok(()),
        Err(e) => Err(e),
    }
}
