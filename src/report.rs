//! The outcome of a run: proctor's exit code, and the JSON report written
//! atomically through the directory descriptor opened at start.

use crate::error::{extend, oom, push, Error, Show, Text};
use crate::sys::fs::{self, Stat};
use crate::sys::process::{Exit, Usage};
use crate::sys::{Errno, Fd};
use alloc::vec::Vec;
use core::ffi::CStr;
use ufmt::uWrite;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// How the run ended, as the report's `status` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Exited,
    Signaled,
    Timeout,
    ExecError,
    SetupError,
    WaitTimeout,
    Cancelled,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::Exited => "exited",
            Status::Signaled => "signaled",
            Status::Timeout => "timeout",
            Status::ExecError => "exec_error",
            Status::SetupError => "setup_error",
            Status::WaitTimeout => "wait_timeout",
            Status::Cancelled => "cancelled",
        }
    }
}

/// What the command used, when it ran.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunUsage {
    pub wall_ms: u64,
    pub cpu_user_ms: u64,
    pub cpu_sys_ms: u64,
    pub max_rss_kib: u64,
}

impl RunUsage {
    pub fn new(wall_ns: u64, u: Usage) -> RunUsage {
        RunUsage {
            wall_ms: wall_ns / 1_000_000,
            cpu_user_ms: u.user_us / 1000,
            cpu_sys_ms: u.sys_us / 1000,
            max_rss_kib: u.max_rss_kib,
        }
    }
}

/// Everything the report says.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    pub exit_code: u8,
    pub signal: Option<u8>,
    pub usage: Option<RunUsage>,
    pub leftovers_killed: u32,
    pub message: Option<Vec<u8>>,
}

impl Outcome {
    /// The command ran and ended.
    pub fn ran(exit: Exit, timed_out: bool, usage: RunUsage, leftovers_killed: u32) -> Outcome {
        let (status, exit_code, signal) = match (exit, timed_out) {
            (Exit::Code(c), false) => (Status::Exited, c, None),
            (Exit::Signal(s), false) => (Status::Signaled, 128u8.wrapping_add(s), Some(s)),
            (Exit::Code(_), true) => (Status::Timeout, 124, None),
            (Exit::Signal(s), true) => (Status::Timeout, 124, Some(s)),
        };
        // Out of memory, the message is left empty rather than crash.
        let message = timed_out.then(|| {
            let mut m = Vec::new();
            let _ = extend(&mut m, b"the command exceeded --timeout");
            m
        });
        Outcome {
            status,
            exit_code,
            signal,
            usage: Some(usage),
            leftovers_killed,
            message,
        }
    }

    /// The command never ran.
    pub fn failed(status: Status, exit_code: u8, error: &Error) -> Outcome {
        Outcome {
            status,
            exit_code,
            signal: None,
            usage: None,
            leftovers_killed: 0,
            message: Some(error.text()),
        }
    }

    /// The report as one line of JSON (with its newline). The room for it is
    /// taken first, so that it is either whole or an out-of-memory error.
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        let message = self.message.as_deref().unwrap_or_default();
        // Fixed text and numbers fit in 512 bytes; a message byte takes at most 6.
        let room = message.len().saturating_mul(6).saturating_add(512);
        let mut t = Text::default();
        t.0.try_reserve(room).map_err(|_| oom())?;
        let _ = ufmt::uwrite!(
            t,
            "{{\"schema\":1,\"proctor\":\"{}\",\"status\":\"{}\",\"exit_code\":{},\"signal\":",
            VERSION,
            self.status.name(),
            self.exit_code
        );
        opt(&mut t, self.signal.map(u64::from));
        let u = self.usage;
        for (key, v) in [
            ("wall_ms", u.map(|u| u.wall_ms)),
            ("cpu_user_ms", u.map(|u| u.cpu_user_ms)),
            ("cpu_sys_ms", u.map(|u| u.cpu_sys_ms)),
            ("max_rss_kib", u.map(|u| u.max_rss_kib)),
        ] {
            let _ = ufmt::uwrite!(t, ",\"{}\":", key);
            opt(&mut t, v);
        }
        let _ = ufmt::uwrite!(
            t,
            ",\"leftovers_killed\":{},\"message\":",
            self.leftovers_killed
        );
        match &self.message {
            Some(m) => json_string(&mut t.0, m)?,
            None => extend(&mut t.0, b"null")?,
        }
        extend(&mut t.0, b"}\n")?;
        Ok(t.0)
    }
}

fn opt(t: &mut Text, v: Option<u64>) {
    let _ = match v {
        Some(n) => ufmt::uwrite!(t, "{}", n),
        None => t.write_str("null"),
    };
}

/// Append `s` as a JSON string: quotes, backslashes and control characters
/// escaped; invalid UTF-8 bytes replaced by U+FFFD so the output stays valid.
pub fn json_string(out: &mut Vec<u8>, s: &[u8]) -> Result<(), Error> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    push(out, b'"')?;
    for chunk in s.utf8_chunks() {
        for &b in chunk.valid().as_bytes() {
            match b {
                b'"' => extend(out, b"\\\"")?,
                b'\\' => extend(out, b"\\\\")?,
                b'\n' => extend(out, b"\\n")?,
                b'\r' => extend(out, b"\\r")?,
                b'\t' => extend(out, b"\\t")?,
                0..=0x1f | 0x7f => {
                    extend(out, b"\\u00")?;
                    push(out, HEX[(b >> 4) as usize])?;
                    push(out, HEX[(b & 15) as usize])?;
                }
                _ => push(out, b)?,
            }
        }
        if !chunk.invalid().is_empty() {
            extend(out, "\u{fffd}".as_bytes())?;
        }
    }
    push(out, b'"')
}

/// Where the report goes: the directory, opened at start so that no later
/// mount can hide it, and the file name in it.
pub struct Destination<'a> {
    dir: Fd,
    name: &'a CStr,
    /// proctor's original mount namespace, held open when proctor will
    /// leave it (see [`Destination::open`]).
    _namespace: Option<Fd>,
}

impl<'a> Destination<'a> {
    /// Open the directory of `path` (`O_PATH`). With `pin_namespace` (proctor
    /// is about to unshare its mount namespace), also hold that namespace:
    /// when proctor is the last process in it (PID 1 of a container), leaving
    /// would tear its mounts down, and a report bind-mounted as a single file
    /// (Kubernetes' `/dev/termination-log`) would land in the detached
    /// directory underneath instead of the file the operator reads.
    pub fn open(path: &'a CStr, pin_namespace: bool) -> Result<Destination<'a>, Error> {
        let bytes = path.to_bytes();
        let slash = bytes.iter().rposition(|&b| b == b'/');
        let name_at = slash.map_or(0, |s| s + 1);
        let name = path.to_bytes_with_nul().get(name_at..);
        let name = name
            .and_then(|n| CStr::from_bytes_with_nul(n).ok())
            .unwrap_or(c"");
        if name.is_empty() || name.to_bytes() == b"." || name.to_bytes() == b".." {
            return Err(crate::err!(
                "--report",
                None,
                "\"{}\" does not name a file",
                Show(bytes)
            ));
        }
        let mut dir_path: Vec<u8> = Vec::new();
        match slash {
            Some(0) => extend(&mut dir_path, b"/\0")?,
            Some(s) => {
                extend(&mut dir_path, bytes.get(..s).unwrap_or_default())?;
                push(&mut dir_path, 0)?;
            }
            None => extend(&mut dir_path, b".\0")?,
        }
        let dir_c = CStr::from_bytes_with_nul(&dir_path).unwrap_or(c".");
        let dir = fs::open(dir_c, fs::O_PATH | fs::O_DIRECTORY)
            .map_err(|e| crate::err!("--report", Some(e), "{}", Show(bytes)))?;
        // Found now, not after the grading: a directory can never take the report.
        if fs::stat_at(dir.raw(), name, fs::AT_SYMLINK_NOFOLLOW)
            .is_ok_and(|s| s.kind() == fs::S_IFDIR)
        {
            return Err(crate::err!(
                "--report",
                None,
                "\"{}\" is a directory",
                Show(bytes)
            ));
        }
        // Without /proc there is nothing to hold: the report is written as before.
        let _namespace = pin_namespace
            .then(|| fs::open(c"/proc/self/ns/mnt", fs::O_RDONLY).ok())
            .flatten();
        Ok(Destination {
            dir,
            name,
            _namespace,
        })
    }

    /// Write the report: a temporary file renamed over the name, or in
    /// place where the name cannot be replaced (a mount point, FIFO, terminal).
    pub fn write(&self, text: &[u8]) -> Result<(), Error> {
        let fail = |e: Errno| crate::err!("report", Some(e), "{}", Show(self.name.to_bytes()));
        let existing = fs::stat_at(self.dir.raw(), self.name, fs::AT_SYMLINK_NOFOLLOW).ok();
        let special = existing.is_some_and(|s: Stat| matches!(s.kind(), fs::S_IFIFO | fs::S_IFCHR));
        if !special {
            match self.replace(text) {
                Ok(()) => return Ok(()),
                Err(Errno::EBUSY | Errno::EXDEV | Errno::EACCES | Errno::EPERM)
                    if existing.is_some() => {}
                Err(e) => return Err(fail(e)),
            }
        }
        let flags = fs::O_WRONLY
            | fs::O_NOFOLLOW
            | fs::O_NONBLOCK
            | fs::O_NOCTTY
            | if special { 0 } else { fs::O_TRUNC };
        let fd = fs::openat(self.dir.raw(), self.name, flags, 0).map_err(fail)?;
        fs::write_all(fd.raw(), text).map_err(fail)?;
        // A serial port of a VM about to power off: let the report out first.
        if fs::is_terminal(fd.raw()) {
            let _ = fs::drain_terminal(fd.raw());
        }
        Ok(())
    }

    fn replace(&self, text: &[u8]) -> Result<(), Errno> {
        let mut tmp: Vec<u8> = Vec::new();
        [&b"."[..], self.name.to_bytes(), b".proctor-tmp\0"]
            .iter()
            .try_for_each(|part| crate::sys::vec::extend(&mut tmp, part))?;
        let tmp = CStr::from_bytes_with_nul(&tmp).map_err(|_| Errno::EINVAL)?;
        let _ = fs::unlink_at(self.dir.raw(), tmp); // a stale one from a crash
        let flags = fs::O_WRONLY | fs::O_CREAT | fs::O_EXCL | fs::O_NOFOLLOW;
        let fd = fs::openat(self.dir.raw(), tmp, flags, 0o644)?;
        let written = fs::write_all(fd.raw(), text).and_then(|()| fs::fsync(fd.raw()));
        let renamed = written.and_then(|()| fs::rename_at(self.dir.raw(), tmp, self.name));
        if renamed.is_err() {
            let _ = fs::unlink_at(self.dir.raw(), tmp);
        }
        renamed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;

    #[test]
    fn json_escapes_quotes_backslashes_controls_and_bad_utf8() {
        let mut out = Vec::new();
        json_string(&mut out, b"a\"b\\c\nd\x01\xffe").unwrap();
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "\"a\\\"b\\\\c\\nd\\u0001\u{fffd}e\""
        );
    }

    #[test]
    fn exited_report_layout() {
        let o = Outcome::ran(
            Exit::Code(3),
            false,
            RunUsage {
                wall_ms: 12,
                cpu_user_ms: 4,
                cpu_sys_ms: 2,
                max_rss_kib: 3120,
            },
            0,
        );
        let json = std::string::String::from_utf8(o.to_json().unwrap()).unwrap();
        assert_eq!(
            json,
            "{\"schema\":1,\"proctor\":\"0.1.0\",\"status\":\"exited\",\"exit_code\":3,\"signal\":null,\"wall_ms\":12,\"cpu_user_ms\":4,\"cpu_sys_ms\":2,\"max_rss_kib\":3120,\"leftovers_killed\":0,\"message\":null}\n"
        );
    }

    #[test]
    fn signal_and_timeout_codes() {
        let u = RunUsage::default();
        let s = Outcome::ran(Exit::Signal(9), false, u, 0);
        assert_eq!(
            (s.status, s.exit_code, s.signal),
            (Status::Signaled, 137, Some(9))
        );
        let t = Outcome::ran(Exit::Signal(15), true, u, 2);
        assert_eq!(
            (t.status, t.exit_code, t.signal),
            (Status::Timeout, 124, Some(15))
        );
        let f = Outcome::failed(Status::SetupError, 125, &Error::sys("fork", Errno::EAGAIN));
        assert!(String::from_utf8(f.to_json().unwrap())
            .unwrap()
            .contains("\"wall_ms\":null"));
    }
}
