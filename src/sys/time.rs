//! Clocks.

use syscalls::{syscall, Sysno};

const CLOCK_MONOTONIC: usize = 1;

/// A time in nanoseconds.
pub type Nanos = u64;

/// Kernel `struct timespec`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

impl Timespec {
    pub fn from_nanos(ns: Nanos) -> Timespec {
        Timespec {
            sec: (ns / 1_000_000_000) as i64,
            nsec: (ns % 1_000_000_000) as i64,
        }
    }
}

/// Nanoseconds on the monotonic clock (which never jumps with the wall clock).
// Not inlined: a dozen callers.
#[inline(never)]
pub fn monotonic() -> Nanos {
    let mut ts = Timespec::default();
    // SAFETY: ts is a valid, writable timespec; CLOCK_MONOTONIC always exists,
    // so the call cannot fail.
    let _ = unsafe {
        syscall!(
            Sysno::clock_gettime,
            CLOCK_MONOTONIC,
            &mut ts as *mut Timespec
        )
    };
    ts.sec as u64 * 1_000_000_000 + ts.nsec as u64
}
