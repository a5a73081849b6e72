//! `proctor: ` lines on stderr, at the chosen verbosity. A line is built in a
//! small buffer and written with one `write` where it fits, so lines of
//! proctor and of the command do not interleave mid-line.

use crate::error::{render, Arg};
use crate::msg;
use crate::rt::pack::Msg;
use crate::sys::fs;
use crate::sys::signal::{self, SigSet, SIGPIPE};
use crate::sys::Errno;
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use ufmt::{uWrite, Formatter};

/// What a line is, and so from which verbosity on it is written: `-q`
/// writes only `Fatal` lines, the default adds `Warning`, `-v` adds
/// `Verbose` (one line per phase), `-vv` adds `Debug` (every reaped pid and
/// forwarded signal). The verbosity itself is the most detailed level shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    /// The one line saying why proctor failed.
    Fatal,
    Warning,
    Verbose,
    Debug,
}

impl Level {
    /// One step more detailed (`-v` once more).
    pub fn more(self) -> Level {
        match self {
            Level::Fatal => Level::Warning,
            Level::Warning => Level::Verbose,
            Level::Verbose | Level::Debug => Level::Debug,
        }
    }
}

static VERBOSITY: AtomicU8 = AtomicU8::new(Level::Warning as u8);

/// Write lines up to `verbosity` from now on.
pub fn set_verbosity(verbosity: Level) {
    VERBOSITY.store(verbosity as u8, Ordering::Relaxed);
}

pub fn enabled(level: Level) -> bool {
    level as u8 <= VERBOSITY.load(Ordering::Relaxed)
}

/// tini's `-w`: reaped processes that were not the command are logged as
/// warnings, not only at `-vv`.
static REAPED_AS_WARNING: AtomicBool = AtomicBool::new(false);

pub fn log_reaped_processes() {
    REAPED_AS_WARNING.store(true, Ordering::Relaxed);
}

/// A process was reaped: the command (`command`) at `-vv`, any other at
/// `-vv` or, after [`log_reaped_processes`], as a warning.
pub fn reaped(pid: i32, command: bool) {
    let level = match !command && REAPED_AS_WARNING.load(Ordering::Relaxed) {
        true => Level::Warning,
        false => Level::Debug,
    };
    formatted(level, msg!("reaped pid {}"), &[pid.into()]);
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

    /// End the line and write it out. By reference: taking the 264-byte
    /// line by value would copy it at every `log!`.
    pub fn finish(&mut self) {
        let _ = self.write_str("\n");
        self.flush();
    }

    fn flush(&mut self) {
        // Nothing sensible can be done if stderr is gone; the exit code still tells.
        if fs::write_all(2, self.buf.get(..self.len).unwrap_or_default()) == Err(Errno::EPIPE) {
            // The kernel queued a SIGPIPE for this write (blocked, so pending):
            // take it, or it would be forwarded to the command as if sent to
            // proctor, and at -vv its own log line would raise the next one.
            let _ = signal::wait(const { SigSet::of(&[SIGPIPE]) }, Some(0));
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

/// A constant line at `level` (a `log!` without arguments), from the
/// message catalogue.
#[inline(never)]
pub fn say(level: Level, text: Msg) {
    if enabled(level) {
        let mut line = Line::new();
        let _ = ufmt::uwrite!(line, "{}", text);
        line.finish();
    }
}

/// A formatted line (a `log!` with arguments), its format from the
/// message catalogue.
#[inline(never)]
pub fn formatted(level: Level, format: Msg, args: &[Arg<'_>]) {
    if enabled(level) {
        let mut line = Line::new();
        let _ = render(&mut Formatter::new(&mut line), format, args);
        line.finish();
    }
}

/// Write a line at a [`Level`]: `log!(Verbose, "…", args)`.
#[macro_export]
macro_rules! log {
    ($level:ident, $text:literal) => {
        $crate::log::say($crate::log::Level::$level, {
            const _: () = $crate::error::check_format($text, 0);
            $crate::msg!($text)
        })
    };
    // One argument alone: no text around it to keep in the catalogue.
    ($level:ident, "{}", $arg:expr $(,)?) => {
        if $crate::log::enabled($crate::log::Level::$level) {
            let mut line = $crate::log::Line::new();
            let _ = ufmt::uwrite!(line, "{}", $arg);
            line.finish();
        }
    };
    ($level:ident, $format:literal, $($arg:expr),+ $(,)?) => {
        $crate::log::formatted(
            $crate::log::Level::$level,
            $crate::format_msg!($format, $($arg),+),
            &[$($crate::error::Arg::from($arg)),+],
        )
    };
}
