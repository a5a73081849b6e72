//! `proctor: ` lines on stderr, at the chosen verbosity. A line is built in a
//! small buffer and written with one `write` where it fits, so lines of
//! proctor and of the command do not interleave mid-line.

use crate::sys::fs;
use crate::sys::signal::{self, SigSet, SIGPIPE};
use crate::sys::Errno;
use core::sync::atomic::{AtomicU8, Ordering};
use ufmt::uWrite;

/// Verbosity levels: `-q` 0, default 1, `-v` 2, `-vv` 3.
pub const QUIET: u8 = 0;
pub const NORMAL: u8 = 1;
pub const VERBOSE: u8 = 2;
pub const DEBUG: u8 = 3;

static LEVEL: AtomicU8 = AtomicU8::new(NORMAL);

pub fn set_level(level: u8) {
    LEVEL.store(level, Ordering::Relaxed);
}

pub fn enabled(level: u8) -> bool {
    level <= LEVEL.load(Ordering::Relaxed)
}

/// One log line being built.
pub struct Line {
    buf: [u8; 256],
    len: usize,
}

impl Line {
    pub fn new() -> Line {
        let mut line = Line {
            buf: [0; 256],
            len: 0,
        };
        let _ = line.write_str("proctor: ");
        line
    }

    /// End the line and write it out.
    pub fn finish(mut self) {
        let _ = self.write_str("\n");
        self.flush();
    }

    fn flush(&mut self) {
        // Nothing sensible can be done if stderr is gone; the exit code still tells.
        if fs::write_all(2, self.buf.get(..self.len).unwrap_or_default()) == Err(Errno::EPIPE) {
            // The kernel queued a SIGPIPE for this write (blocked, so pending):
            // take it, or it would be forwarded to the command as if sent to
            // proctor, and at -vv its own log line would raise the next one.
            let _ = signal::wait(SigSet::of(&[SIGPIPE]), Some(0));
        }
        self.len = 0;
    }
}

impl Default for Line {
    fn default() -> Self {
        Line::new()
    }
}

impl uWrite for Line {
    type Error = core::convert::Infallible;
    fn write_str(&mut self, s: &str) -> Result<(), Self::Error> {
        for &b in s.as_bytes() {
            if self.len >= self.buf.len() {
                self.flush();
            }
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            }
        }
        Ok(())
    }
}

/// Write a line at `level` (see the constants): `log!(log::VERBOSE, "…", args)`.
#[macro_export]
macro_rules! log {
    ($level:expr, $($arg:tt)*) => {
        if $crate::log::enabled($level) {
            let mut line = $crate::log::Line::new();
            let _ = ufmt::uwrite!(line, $($arg)*);
            line.finish();
        }
    };
}
