//! Thin, typed wrappers over raw Linux system calls, grouped by subsystem.
//!
//! Every `unsafe` block of proctor that talks to the kernel lives here; the
//! rest of the crate sees typed arguments and `Result<_, Errno>`. Only
//! syscalls that exist in the generic table are used (`openat`, `pipe2`,
//! `dup3`, `renameat2`, `clone`…), so the same code serves x86_64 and aarch64.

pub mod cgroup;
pub mod creds;
pub mod fs;
pub mod landlock;
pub mod mm;
pub mod module;
pub mod mount;
pub mod net;
pub mod process;
pub mod random;
pub mod seccomp;
pub mod signal;
pub mod time;
pub mod watch;

pub use syscalls::Errno;

/// The result of a system call.
pub type Result<T> = core::result::Result<T, Errno>;

/// An owned file descriptor, closed when dropped.
#[derive(Debug)]
pub struct Fd(i32);

impl Fd {
    /// Take ownership of a descriptor number the kernel just returned.
    pub fn from_raw(fd: i32) -> Fd {
        Fd(fd)
    }

    /// The descriptor number.
    pub fn raw(&self) -> i32 {
        self.0
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: we own the descriptor, and only this drop closes it.
        // Errors of close are not actionable here. The kernel takes an
        // unsigned int; zero-extending it is shorter code at every drop.
        let _ = unsafe { syscalls::syscall!(syscalls::Sysno::close, self.0 as u32) };
    }
}

/// Retry a system call for as long as it answers `EINTR`.
pub fn retry<T>(mut f: impl FnMut() -> Result<T>) -> Result<T> {
    loop {
        match f() {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}
