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
    MemoryLimit,
    CpuTimeout,
    OutputLimit,
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
            Status::MemoryLimit => "memory_limit",
            Status::CpuTimeout => "cpu_timeout",
            Status::OutputLimit => "output_limit",
        }
    }
}

/// A limit that ended the command: the verdict a grading platform shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// `--timeout` (wall clock): 124.
    Timeout,
    /// `--cpu-time` of the whole tree: 124.
    CpuTimeout,
    /// Killed by SIGKILL while the cgroup's OOM-kill count rose: 137.
    MemoryLimit,
    /// `--output-limit` reached: 137.
    OutputLimit,
}

impl Verdict {
    fn status(self) -> Status {
        match self {
            Verdict::Timeout => Status::Timeout,
            Verdict::CpuTimeout => Status::CpuTimeout,
            Verdict::MemoryLimit => Status::MemoryLimit,
            Verdict::OutputLimit => Status::OutputLimit,
        }
    }

    /// proctor's exit status: 124 as coreutils `timeout`, 137 for a kill.
    fn exit_code(self) -> u8 {
        match self {
            Verdict::Timeout | Verdict::CpuTimeout => 124,
            Verdict::MemoryLimit | Verdict::OutputLimit => 137,
        }
    }

    fn message(self) -> &'static [u8] {
        match self {
            Verdict::Timeout => b"the command exceeded --timeout",
            Verdict::CpuTimeout => b"the command's process tree exceeded --cpu-time",
            Verdict::MemoryLimit => {
                b"the command was killed for exceeding --memory (out of memory)"
            }
            Verdict::OutputLimit => b"the command's output exceeded --output-limit",
        }
    }
}

/// Whole-tree accounting from the command's cgroup (schema 2); each field
/// `None` where the hierarchy or the kernel does not keep it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TreeUsage {
    pub cpu_ms: Option<u64>,
    pub memory_peak_kib: Option<u64>,
    pub oom_kills: Option<u64>,
    pub pids_peak: Option<u64>,
}

/// What `--output-limit` carried (schema 2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutputCount {
    /// Bytes of stdout + stderr the command wrote, up to the limit.
    pub bytes: u64,
    pub truncated: bool,
}

/// The limits that applied, as given (schema 2's `limits`); absent ones are
/// left out of the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    pub memory: Option<u64>,
    pub pids: Option<u64>,
    /// In millionths of a CPU, printed as a decimal (`1.5`).
    pub cpus_micro: Option<u64>,
    pub cpu_time_ms: Option<u64>,
    pub output: Option<u64>,
    pub timeout_ms: Option<u64>,
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
    /// Schema 2: the command's own exit code before any `-e` mapping.
    pub command_exit_code: Option<u8>,
    /// Schema 2: from the command's cgroup, `None` without one.
    pub tree: Option<TreeUsage>,
    /// Schema 2: with `--output-limit`, else `None`.
    pub output: Option<OutputCount>,
    pub limits: Limits,
}

impl Outcome {
    /// The command ran and ended, by itself or by the `verdict` of a limit.
    pub fn ran(
        exit: Exit,
        verdict: Option<Verdict>,
        usage: RunUsage,
        leftovers_killed: u32,
    ) -> Outcome {
        let (status, exit_code) = match (verdict, exit) {
            (Some(v), _) => (v.status(), v.exit_code()),
            (None, Exit::Code(c)) => (Status::Exited, c),
            (None, Exit::Signal(s)) => (Status::Signaled, 128u8.wrapping_add(s)),
        };
        let (signal, command_exit_code) = match exit {
            Exit::Code(c) => (None, Some(c)),
            Exit::Signal(s) => (Some(s), None),
        };
        // Out of memory, the message is left empty rather than crash.
        let message = verdict.map(|v| {
            let mut m = Vec::new();
            let _ = extend(&mut m, v.message());
            m
        });
        Outcome {
            status,
            exit_code,
            signal,
            usage: Some(usage),
            leftovers_killed,
            message,
            command_exit_code,
            tree: None,
            output: None,
            limits: Limits::default(),
        }
    }

    /// tini's `-e`: an exit code in `codes` is reported and returned as 0;
    /// `command_exit_code` keeps the original.
    pub fn map_exit_codes_to_zero(&mut self, codes: &[u8]) {
        if self.status == Status::Exited && codes.contains(&self.exit_code) {
            self.exit_code = 0;
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
            command_exit_code: None,
            tree: None,
            output: None,
            limits: Limits::default(),
        }
    }

    /// The report as one line of JSON (with its newline). The room for it is
    /// taken first, so that it is either whole or an out-of-memory error.
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        let message = self.message.as_deref().unwrap_or_default();
        // Fixed text and numbers fit in 1 KiB; a message byte takes at most 6.
        let room = message.len().saturating_mul(6).saturating_add(1024);
        let mut t = Text::default();
        t.0.try_reserve(room).map_err(|_| oom())?;
        let _ = ufmt::uwrite!(
            t,
            "{{\"schema\":2,\"proctor\":\"{}\",\"status\":\"{}\",\"exit_code\":{},\"signal\":",
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
        let tree = self.tree;
        let output = self.output;
        for (key, v) in [
            ("cpu_ms", tree.and_then(|t| t.cpu_ms)),
            ("memory_peak_kib", tree.and_then(|t| t.memory_peak_kib)),
            ("oom_kills", tree.and_then(|t| t.oom_kills)),
            ("pids_peak", tree.and_then(|t| t.pids_peak)),
            ("output_bytes", output.map(|o| o.bytes)),
        ] {
            let _ = ufmt::uwrite!(t, ",\"{}\":", key);
            opt(&mut t, v);
        }
        let _ = t.write_str(",\"output_truncated\":");
        let _ = t.write_str(match output {
            Some(OutputCount {
                truncated: true, ..
            }) => "true",
            Some(_) => "false",
            None => "null",
        });
        let _ = t.write_str(",\"command_exit_code\":");
        opt(&mut t, self.command_exit_code.map(u64::from));
        self.limits.write(&mut t);
        extend(&mut t.0, b"}\n")?;
        Ok(t.0)
    }
}

impl Limits {
    /// `,"limits":{...}` with the limits that are present, in a fixed order.
    fn write(&self, t: &mut Text) {
        let _ = t.write_str(",\"limits\":{");
        let mut sep = "";
        for (key, v) in [
            ("memory", self.memory),
            ("pids", self.pids),
            ("cpus", self.cpus_micro),
            ("cpu_time_ms", self.cpu_time_ms),
            ("output", self.output),
            ("timeout_ms", self.timeout_ms),
        ] {
            let Some(v) = v else { continue };
            let _ = ufmt::uwrite!(t, "{}\"{}\":", sep, key);
            if key == "cpus" {
                decimal_micro(t, v);
            } else {
                let _ = ufmt::uwrite!(t, "{}", v);
            }
            sep = ",";
        }
        let _ = t.write_str("}");
    }
}

/// `v` millionths as a decimal without trailing zeros: 1500000 → `1.5`.
fn decimal_micro(t: &mut Text, v: u64) {
    let (whole, mut frac) = (v / 1_000_000, v % 1_000_000);
    let _ = ufmt::uwrite!(t, "{}", whole);
    if frac == 0 {
        return;
    }
    let mut digits = 6;
    while frac % 10 == 0 {
        frac /= 10;
        digits -= 1;
    }
    let _ = t.write_str(".");
    // Leading zeros of the fraction: 0.05 is 50000 millionths, five digits.
    let mut width = 1;
    let mut f = frac;
    while f >= 10 {
        f /= 10;
        width += 1;
    }
    for _ in width..digits {
        let _ = t.write_str("0");
    }
    let _ = ufmt::uwrite!(t, "{}", frac);
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
            None,
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
            "{\"schema\":2,\"proctor\":\"0.2.0\",\"status\":\"exited\",\"exit_code\":3,\"signal\":null,\"wall_ms\":12,\"cpu_user_ms\":4,\"cpu_sys_ms\":2,\"max_rss_kib\":3120,\"leftovers_killed\":0,\"message\":null,\"cpu_ms\":null,\"memory_peak_kib\":null,\"oom_kills\":null,\"pids_peak\":null,\"output_bytes\":null,\"output_truncated\":null,\"command_exit_code\":3,\"limits\":{}}\n"
        );
    }

    #[test]
    fn signal_and_timeout_codes() {
        let u = RunUsage::default();
        let s = Outcome::ran(Exit::Signal(9), None, u, 0);
        assert_eq!(
            (s.status, s.exit_code, s.signal),
            (Status::Signaled, 137, Some(9))
        );
        let t = Outcome::ran(Exit::Signal(15), Some(Verdict::Timeout), u, 2);
        assert_eq!(
            (t.status, t.exit_code, t.signal),
            (Status::Timeout, 124, Some(15))
        );
        let f = Outcome::failed(Status::SetupError, 125, &Error::sys("fork", Errno::EAGAIN));
        assert!(String::from_utf8(f.to_json().unwrap())
            .unwrap()
            .contains("\"wall_ms\":null"));
    }

    #[test]
    fn verdicts_statuses_and_codes() {
        let u = RunUsage::default();
        for (v, status, code) in [
            (Verdict::CpuTimeout, "cpu_timeout", 124),
            (Verdict::MemoryLimit, "memory_limit", 137),
            (Verdict::OutputLimit, "output_limit", 137),
        ] {
            let o = Outcome::ran(Exit::Signal(9), Some(v), u, 0);
            assert_eq!(
                (o.exit_code, o.signal, o.command_exit_code),
                (code, Some(9), None)
            );
            let json = String::from_utf8(o.to_json().unwrap()).unwrap();
            assert!(
                json.contains(&std::format!("\"status\":\"{status}\"")),
                "{json}"
            );
            assert!(!json.contains("\"message\":null"), "{json}");
        }
    }

    #[test]
    fn schema2_fields_and_limits() {
        let mut o = Outcome::ran(Exit::Code(0), None, RunUsage::default(), 1);
        o.tree = Some(TreeUsage {
            cpu_ms: Some(6),
            memory_peak_kib: Some(5210),
            oom_kills: Some(0),
            pids_peak: None,
        });
        o.output = Some(OutputCount {
            bytes: 1048576,
            truncated: true,
        });
        o.limits = Limits {
            memory: Some(268435456),
            pids: Some(64),
            cpus_micro: Some(1_500_000),
            cpu_time_ms: Some(10000),
            output: Some(1048576),
            timeout_ms: Some(30000),
        };
        let json = String::from_utf8(o.to_json().unwrap()).unwrap();
        assert!(json.ends_with(
            "\"cpu_ms\":6,\"memory_peak_kib\":5210,\"oom_kills\":0,\"pids_peak\":null,\"output_bytes\":1048576,\"output_truncated\":true,\"command_exit_code\":0,\"limits\":{\"memory\":268435456,\"pids\":64,\"cpus\":1.5,\"cpu_time_ms\":10000,\"output\":1048576,\"timeout_ms\":30000}}\n"
        ), "{json}");
    }

    #[test]
    fn cpus_print_as_decimals() {
        for (v, text) in [
            (1_000_000, "1"),
            (500_000, "0.5"),
            (50_000, "0.05"),
            (2_000_001, "2.000001"),
        ] {
            let mut t = Text::default();
            decimal_micro(&mut t, v);
            assert_eq!(std::str::from_utf8(&t.0).unwrap(), text);
        }
    }

    #[test]
    fn exit_codes_mapped_to_zero_keep_the_original() {
        let mut o = Outcome::ran(Exit::Code(3), None, RunUsage::default(), 0);
        o.map_exit_codes_to_zero(&[3]);
        assert_eq!((o.exit_code, o.command_exit_code), (0, Some(3)));
        let mut t = Outcome::ran(
            Exit::Code(3),
            Some(Verdict::Timeout),
            RunUsage::default(),
            0,
        );
        t.map_exit_codes_to_zero(&[124, 3]);
        assert_eq!(t.exit_code, 124, "only a command's own exit is mapped");
    }
}
