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

/// Take one pending signal from a signalfd; `None` when none is pending.
pub fn read_signal(fd: i32) -> Result<Option<i32>> {
    let mut info = [0u32; 32]; // struct signalfd_siginfo: 128 bytes, ssi_signo first
                               // SAFETY: info is writable for its 128 bytes.
    match unsafe { syscall!(Sysno::read, fd, info.as_mut_ptr(), 128) } {
        Ok(_) => Ok(Some(info[0] as i32)),
        Err(Errno::EAGAIN) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Read and discard everything readable on a non-blocking descriptor.
pub fn drain(fd: i32) {
    let mut buf = [0u64; 512];
    // SAFETY: buf is writable for its 4096 bytes.
    while unsafe { syscall!(Sysno::read, fd, buf.as_mut_ptr(), 4096) }.is_ok_and(|n| n > 0) {}
}

/// Block until one of `fds` is readable or `timeout` passes, without
/// changing the signal mask; `EINTR` counts as a wake-up. A negative
/// descriptor is ignored.
pub fn wait_readable(fds: [i32; 2], timeout: Nanos) -> Result<()> {
    #[repr(C)]
    struct PollFd {
        fd: i32,
        events: i16,
        revents: i16,
    }
    const POLLIN: i16 = 1;
    let mut polls = fds.map(|fd| PollFd {
        fd,
        events: POLLIN,
        revents: 0,
    });
    let ts = Timespec::from_nanos(timeout);
    // SAFETY: polls is a valid array of struct pollfd; ts is a valid
    // timespec; a null sigmask keeps the current mask.
    match unsafe {
        syscall!(
            Sysno::ppoll,
            polls.as_mut_ptr(),
            polls.len(),
            &ts as *const Timespec,
            0,
            8
        )
    } {
        Ok(_) | Err(Errno::EINTR) => Ok(()),
        Err(e) => Err(e),
    }
}

/// A kernel `struct pollfd`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PollFd {
    pub fd: i32,
    pub events: i16,
    pub revents: i16,
}

impl PollFd {
    /// An entry `ppoll` ignores (a negative descriptor).
    pub const UNUSED: PollFd = PollFd {
        fd: -1,
        events: 0,
        revents: 0,
    };
}

pub const POLLIN: i16 = 0x1;
pub const POLLOUT: i16 = 0x4;
pub const POLLERR: i16 = 0x8;
pub const POLLHUP: i16 = 0x10;

/// Block until one of `fds` is ready or `timeout` passes (`None`: no
/// limit), without changing the signal mask; `EINTR` counts as a wake-up
/// with nothing ready.
pub fn ppoll(fds: &mut [PollFd], timeout: Option<Nanos>) -> Result<()> {
    let ts = timeout.map(Timespec::from_nanos);
    let tsp = ts
        .as_ref()
        .map_or(core::ptr::null(), |t| t as *const Timespec);
    // SAFETY: fds is a valid array of struct pollfd; tsp is null or a valid
    // timespec; a null sigmask keeps the current mask.
    match unsafe { syscall!(Sysno::ppoll, fds.as_mut_ptr(), fds.len(), tsp, 0, 8) } {
        Ok(_) => Ok(()),
        Err(Errno::EINTR) => {
            fds.iter_mut().for_each(|p| p.revents = 0);
            Ok(())
        }
        Err(e) => Err(e),
    }
}
