//! The outcome of a run: proctor's exit code, and the JSON report written
//! atomically through the directory descriptor opened at start.

use crate::args::User;
use crate::error::{Error, Show, Text};
use crate::msg;
use crate::rt::cstr::OwnedCStr;
use crate::rt::pack::Msg;
use crate::rt::utf8::char_len;
use crate::rt::vec::{extend, push, OutOfMemory};
use crate::sys::fs::{self, Stat};
use crate::sys::process::{self, Exit, Usage};
use crate::sys::{creds, random, time, Errno, Fd};
use alloc::vec::Vec;
use core::ffi::CStr;
use ufmt::uWrite;

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
    /// The report's name of the status.
    fn name(self) -> Msg {
        match self {
            Status::Exited => msg!("exited"),
            Status::Signaled => msg!("signaled"),
            Status::Timeout => msg!("timeout"),
            Status::ExecError => msg!("exec_error"),
            Status::SetupError => msg!("setup_error"),
            Status::WaitTimeout => msg!("wait_timeout"),
            Status::Cancelled => msg!("cancelled"),
            Status::MemoryLimit => msg!("memory_limit"),
            Status::CpuTimeout => msg!("cpu_timeout"),
            Status::OutputLimit => msg!("output_limit"),
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

    fn message(self) -> Msg {
        match self {
            Verdict::Timeout => msg!("the command exceeded --timeout"),
            Verdict::CpuTimeout => msg!("the command's process tree exceeded --cpu-time"),
            Verdict::MemoryLimit => {
                msg!("the command was killed by the out-of-memory killer: memory limit exceeded")
            }
            Verdict::OutputLimit => msg!("the command's output exceeded --output-limit"),
        }
    }
}

/// Why the command never ran: the status and exit code it gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// proctor's own work failed (usage, mounts, limits, privileges): 125.
    Setup,
    /// `--wait-timeout` passed: 125.
    WaitTimeout,
    /// A signal ended `--wait-for`: 128 + N.
    Cancelled(u8),
    /// `execve` found no such command: 127.
    NotFound,
    /// The command exists but cannot be executed: 126.
    NotExecutable,
}

impl Failure {
    fn status(self) -> Status {
        match self {
            Failure::Setup => Status::SetupError,
            Failure::WaitTimeout => Status::WaitTimeout,
            Failure::Cancelled(_) => Status::Cancelled,
            Failure::NotFound | Failure::NotExecutable => Status::ExecError,
        }
    }

    fn exit_code(self) -> u8 {
        match self {
            Failure::Setup | Failure::WaitTimeout => 125,
            Failure::Cancelled(sig) => 128u8.wrapping_add(sig),
            Failure::NotFound => 127,
            Failure::NotExecutable => 126,
        }
    }
}

/// Why the command never ran, with the error that tells it: what the `?`
/// of the setup phases carries up to `main`.
#[derive(Debug)]
pub struct Failed {
    pub why: Failure,
    pub error: Error,
}

/// Any error of the setup phases is a setup error unless said otherwise.
impl From<Error> for Failed {
    fn from(error: Error) -> Failed {
        Failed {
            why: Failure::Setup,
            error,
        }
    }
}

impl From<OutOfMemory> for Failed {
    fn from(e: OutOfMemory) -> Failed {
        Error::from(e).into()
    }
}

impl From<Failed> for Outcome {
    fn from(f: Failed) -> Outcome {
        Outcome::failed(f.why, &f.error)
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
            let mut m = Text::default();
            let _ = ufmt::uwrite!(m, "{}", v.message());
            m.0
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
        if self.status == Status::Exited && fs::position(codes, self.exit_code).is_some() {
            self.exit_code = 0;
        }
    }

    /// The command never ran, for `why`, which `error` tells.
    pub fn failed(why: Failure, error: &Error) -> Outcome {
        Outcome {
            status: why.status(),
            exit_code: why.exit_code(),
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
        let message = self.message.as_deref();
        // Fixed text and numbers fit in 1 KiB; a message byte takes at most 6.
        let room = message.unwrap_or_default().len();
        let mut t = Text::default();
        t.0.try_reserve(room.saturating_mul(6).saturating_add(1024))
            .map_err(|_| OutOfMemory)?;
        let u = self.usage;
        let tree = self.tree.unwrap_or_default();
        // The numbers of LAYOUT, in its order.
        let numbers = [
            Some(self.exit_code.into()),
            self.signal.map(u64::from),
            u.map(|u| u.wall_ms),
            u.map(|u| u.cpu_user_ms),
            u.map(|u| u.cpu_sys_ms),
            u.map(|u| u.max_rss_kib),
            Some(self.leftovers_killed.into()),
            tree.cpu_ms,
            tree.memory_peak_kib,
            tree.oom_kills,
            tree.pids_peak,
            self.output.map(|o| o.bytes),
            self.command_exit_code.map(u64::from),
        ];
        let mut numbers = numbers.into_iter();
        for &b in LAYOUT.as_bytes() {
            match b {
                NUMBER => match numbers.next().flatten() {
                    Some(n) => decimal(&mut t, n),
                    None => extend(&mut t.0, b"null")?,
                },
                STATUS => {
                    let _ = ufmt::uwrite!(t, "{}", self.status.name());
                }
                MESSAGE => match message {
                    Some(m) => json_string(&mut t.0, m)?,
                    None => extend(&mut t.0, b"null")?,
                },
                TRUNCATED => match self.output {
                    Some(o) if o.truncated => extend(&mut t.0, b"true")?,
                    Some(_) => extend(&mut t.0, b"false")?,
                    None => extend(&mut t.0, b"null")?,
                },
                LIMITS => self.limits.write(&mut t),
                _ => push(&mut t.0, b)?,
            }
        }
        Ok(t.0)
    }
}

/// The report's line: each control character stands for a value that
/// [`Outcome::to_json`] writes there.
const LAYOUT: &str = concat!(
    "{\"schema\":2,\"proctor\":\"",
    env!("CARGO_PKG_VERSION"),
    "\",\"status\":\"\x02\",\"exit_code\":\x01,\"signal\":\x01,\"wall_ms\":\x01,",
    "\"cpu_user_ms\":\x01,\"cpu_sys_ms\":\x01,\"max_rss_kib\":\x01,\"leftovers_killed\":\x01,",
    "\"message\":\x03,\"cpu_ms\":\x01,\"memory_peak_kib\":\x01,\"oom_kills\":\x01,",
    "\"pids_peak\":\x01,\"output_bytes\":\x01,\"output_truncated\":\x04,",
    "\"command_exit_code\":\x01,\"limits\":{\x05}}\n",
);
/// The next number, or `null`.
const NUMBER: u8 = 1;
const STATUS: u8 = 2;
/// The message as a JSON string, or `null`.
const MESSAGE: u8 = 3;
/// `output_truncated`: `true`, `false`, or `null` without `--output-limit`.
const TRUNCATED: u8 = 4;
/// The limits that are present (see [`Limits::write`]).
const LIMITS: u8 = 5;

impl Limits {
    /// `"key":value` for each limit present, in a fixed order.
    fn write(&self, t: &mut Text) {
        limit(t, msg!("\"memory\":"), self.memory);
        limit(t, msg!("\"pids\":"), self.pids);
        limit(t, msg!("\"cpus\":"), self.cpus_micro);
        limit(t, msg!("\"cpu_time_ms\":"), self.cpu_time_ms);
        limit(t, msg!("\"output\":"), self.output);
        limit(t, msg!("\"timeout_ms\":"), self.timeout_ms);
    }
}

/// `"key":` and the value if `v` is present, after a comma unless it comes
/// first. `cpus` is in millionths, printed as a decimal (`1.5`).
fn limit(t: &mut Text, key: Msg, v: Option<u64>) {
    let Some(v) = v else { return };
    if t.0.last() != Some(&b'{') {
        let _ = t.write_str(",");
    }
    let _ = ufmt::uwrite!(t, "{}", key);
    if key == msg!("\"cpus\":") {
        decimal_micro(t, v);
    } else {
        decimal(t, v);
    }
}

fn decimal(t: &mut Text, v: u64) {
    let _ = ufmt::uwrite!(t, "{}", v);
}

/// `v` millionths as a decimal without trailing zeros: 1500000 → `1.5`.
fn decimal_micro(t: &mut Text, v: u64) {
    decimal(t, v / 1_000_000);
    let mut frac = v % 1_000_000;
    if frac == 0 {
        return;
    }
    // Without its trailing zeros, after a 1 that keeps its leading ones
    // (0.05 is 50000 millionths: 105), which then becomes the point.
    let mut one = 1_000_000;
    while frac.is_multiple_of(10) {
        frac /= 10;
        one /= 10;
    }
    let point = t.0.len();
    decimal(t, one + frac);
    if let Some(b) = t.0.get_mut(point) {
        *b = b'.';
    }
}

/// Append `s` as a JSON string: quotes, backslashes and control characters
/// escaped; invalid UTF-8 bytes replaced by U+FFFD so the output stays valid.
pub fn json_string(out: &mut Vec<u8>, s: &[u8]) -> Result<(), Error> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    push(out, b'"')?;
    let mut rest = s;
    while let [first, tail @ ..] = rest {
        let (len, valid) = match char_len(*first, tail) {
            Ok(len) => (len, true),
            Err(len) => (len, false),
        };
        match *first {
            _ if !valid => extend(out, "\u{fffd}".as_bytes())?,
            b'"' => extend(out, b"\\\"")?,
            b'\\' => extend(out, b"\\\\")?,
            b'\n' => extend(out, b"\\n")?,
            b'\r' => extend(out, b"\\r")?,
            b'\t' => extend(out, b"\\t")?,
            b @ (0..=0x1f | 0x7f) => {
                extend(out, b"\\u00")?;
                push(out, HEX[(b >> 4) as usize])?;
                push(out, HEX[(b & 15) as usize])?;
            }
            _ => extend(out, rest.get(..len).unwrap_or_default())?,
        }
        rest = rest.get(len..).unwrap_or_default();
    }
    Ok(push(out, b'"')?)
}

/// Where the report goes: the directory, opened at start so that no later
/// mount can hide it, the file name in it, and what stood at that name then.
pub struct Destination<'a> {
    dir: Fd,
    /// The directory as named, to look it up again as the command sees it.
    dir_path: OwnedCStr,
    name: &'a CStr,
    /// What stood at the name at start, if anything.
    at_start: Option<Stat>,
    /// It was a mount point, a FIFO or a terminal: written in place.
    in_place: bool,
    /// proctor's original mount namespace, held open when proctor will
    /// leave it (see [`Destination::open`]).
    _namespace: Option<Fd>,
}

impl<'a> Destination<'a> {
    /// Open the directory of `path` (`O_PATH`) and note what stands at
    /// `path`. With `pin_namespace` (proctor is about to unshare its mount
    /// namespace), also hold that namespace: when proctor is the last
    /// process in it (PID 1 of a container), leaving would tear its mounts
    /// down, and a report bind-mounted as a single file (Kubernetes'
    /// `/dev/termination-log`) would land in the detached directory
    /// underneath instead of the file the operator reads.
    pub fn open(path: &'a CStr, pin_namespace: bool) -> Result<Destination<'a>, Error> {
        let bytes = path.to_bytes();
        let slash = bytes.iter().rposition(|&b| b == b'/');
        let name_at = slash.map_or(0, |s| s + 1);
        let name = crate::rt::cstr::tail(path, name_at);
        if name.is_empty() || name.to_bytes() == b"." || name.to_bytes() == b".." {
            return Err(refused(bytes, msg!(" does not name a file")));
        }
        let dir: &[u8] = match slash {
            Some(0) => b"/",
            Some(s) => bytes.get(..s).unwrap_or_default(),
            None => b".",
        };
        // The bytes of a CStr hold no NUL: only memory can run out here.
        let dir_path = OwnedCStr::new(dir).map_err(|_| OutOfMemory)?;
        let dir =
            fs::open(&dir_path, fs::O_PATH | fs::O_DIRECTORY).map_err(|e| unwritable(bytes, e))?;
        let at_start = fs::stat_at(dir.raw(), name, fs::AT_SYMLINK_NOFOLLOW).ok();
        // Found now, not after the grading: a directory can never take the report.
        if at_start.as_ref().is_some_and(|s| s.kind() == fs::S_IFDIR) {
            return Err(refused(bytes, msg!(" is a directory")));
        }
        let in_place = match (&at_start, fs::stat_fd(dir.raw())) {
            (Some(s), Ok(d)) => written_in_place(s, &d),
            _ => false,
        };
        // Without /proc there is nothing to hold: the report is written as before.
        let _namespace = pin_namespace
            .then(|| fs::open(c"/proc/self/ns/mnt", fs::O_RDONLY).ok())
            .flatten();
        Ok(Destination {
            dir,
            dir_path,
            name,
            at_start,
            in_place,
            _namespace,
        })
    }

    /// The report's directory as named (relative to proctor's directory at start).
    pub fn dir_path(&self) -> &CStr {
        &self.dir_path
    }

    /// Warn when the command could create or replace names in the report's
    /// directory as it sees it (after the mounts): the report itself is
    /// safe, but the command could still fill or litter the directory.
    pub fn warn_if_exposed(&self, user: Option<User>, groups: &[u32], keep_caps: bool) {
        if self.exposed(user, groups, keep_caps) {
            log!(
                Warning,
                "warning: --report: the command can write to the report's directory: cover it with --ro or keep it out of the command's view"
            );
        }
    }

    fn exposed(&self, user: Option<User>, groups: &[u32], keep_caps: bool) -> bool {
        let dir_c: &CStr = &self.dir_path;
        // Hidden (a tmpfs over it), replaced or read-only in the command's view: out of its reach.
        let (Ok(dir), Ok(seen)) = (
            fs::stat_fd(self.dir.raw()),
            fs::stat_at(fs::AT_FDCWD, dir_c, 0),
        ) else {
            return false;
        };
        if !dir.same_file(&seen) || fs::on_read_only_mount(dir_c).unwrap_or(true) {
            return false;
        }
        let (uid, gid) = user.map_or_else(creds::effective_ids, |u| (u.uid, u.gid));
        // Root that keeps its capabilities writes anywhere (CAP_DAC_OVERRIDE).
        (keep_caps && uid == 0) || may_write(&seen, uid, gid, groups)
    }

    /// Write the report. In place if a mount point, FIFO or terminal stood
    /// at the name at start and still does; else a temporary file with an
    /// unpredictable name, renamed over whatever stands there now. A report
    /// proctor did not write is never left: if this fails, whatever stands
    /// at the name is removed.
    pub fn write(&self, text: &[u8]) -> Result<(), Error> {
        self.place(text)
            .map_err(|e| unwritable(self.name.to_bytes(), e))
    }

    /// [`Destination::write`]'s work, failing with the errno it met.
    fn place(&self, text: &[u8]) -> Result<(), Errno> {
        let now = fs::stat_at(self.dir.raw(), self.name, fs::AT_SYMLINK_NOFOLLOW).ok();
        let unchanged = match (&self.at_start, &now) {
            (Some(a), Some(b)) => a.same_file(b) && a.kind() == b.kind(),
            _ => false,
        };
        if self.in_place && unchanged {
            return self.write_in_place(text);
        }
        match self.replace(text) {
            // The regular file that stood there at start, which cannot be
            // replaced: a mount point on a kernel before 5.8 (EBUSY), or a
            // directory proctor may not write to. Rewritten whole, in place.
            Err(Errno::EBUSY | Errno::EACCES | Errno::EPERM | Errno::EROFS)
                if unchanged && now.is_some_and(|s| s.kind() == fs::S_IFREG) =>
            {
                self.write_in_place(text)
            }
            Err(e) => {
                let _ = remove(self.dir.raw(), self.name);
                Err(e)
            }
            Ok(()) => Ok(()),
        }
    }

    /// Write into what stood at the name at start, checked to be the same file.
    fn write_in_place(&self, text: &[u8]) -> Result<(), Errno> {
        let flags = fs::O_WRONLY | fs::O_NOFOLLOW | fs::O_NONBLOCK | fs::O_NOCTTY;
        let fd = fs::openat(self.dir.raw(), self.name, flags, 0)?;
        let now = fs::stat_fd(fd.raw())?;
        if !self.at_start.as_ref().is_some_and(|s| s.same_file(&now)) {
            return Err(Errno::ESTALE);
        }
        if now.kind() == fs::S_IFREG {
            fs::truncate(fd.raw(), 0)?;
        }
        fs::write_all(fd.raw(), text)?;
        // A serial port of a VM about to power off: let the report out first.
        if fs::is_terminal(fd.raw()) {
            let _ = fs::drain_terminal(fd.raw());
        }
        Ok(())
    }

    /// A temporary file renamed over the name.
    fn replace(&self, text: &[u8]) -> Result<(), Errno> {
        let (tmp, fd) = create_temporary(self.dir.raw())?;
        let tmp = fs::until_nul(&tmp).ok_or(Errno::EINVAL)?;
        let written = fs::write_all(fd.raw(), text).and_then(|()| fs::fsync(fd.raw()));
        drop(fd);
        let placed = written.and_then(|()| self.rename_over(tmp));
        if placed.is_err() {
            let _ = fs::unlink_at(self.dir.raw(), tmp, 0);
        }
        placed
    }

    /// Rename `tmp` over the name, whatever stands there: a directory
    /// planted during the run is swapped out and removed.
    fn rename_over(&self, tmp: &CStr) -> Result<(), Errno> {
        let dir = self.dir.raw();
        match fs::rename_at(dir, tmp, self.name, 0) {
            Err(Errno::EISDIR | Errno::ENOTEMPTY | Errno::EEXIST) => {}
            r => return r,
        }
        if fs::rename_at(dir, tmp, self.name, fs::RENAME_EXCHANGE).is_ok() {
            // The planted object now has the temporary name; a directory
            // that is not empty stays there, out of the report's way.
            let _ = remove(dir, tmp);
            return Ok(());
        }
        remove(dir, self.name)?;
        fs::rename_at(dir, tmp, self.name, 0)
    }
}

/// `--report: "PATH" WHY`.
fn refused(path: &[u8], why: Msg) -> Error {
    crate::err!("--report", None, "\"{}\"{}", Show(path), why)
}

/// `--report: PATH: ERRNO`, when a call failed.
fn unwritable(path: &[u8], e: Errno) -> Error {
    crate::err!("--report", Some(e), "{}", Show(path))
}

/// Whether what stood at the name at start is written in place: a mount
/// point (a bind-mounted file), a FIFO or a terminal (any character device).
fn written_in_place(s: &Stat, dir: &Stat) -> bool {
    let mount_point = s.mount_root || (s.mnt_id != 0 && s.mnt_id != dir.mnt_id);
    matches!(s.kind(), fs::S_IFIFO | fs::S_IFCHR) || mount_point
}

/// Whether `uid` with `gid` and `groups`, without capabilities, may create
/// and remove names in the directory `dir` (write and search permission).
pub fn may_write(dir: &Stat, uid: u32, gid: u32, groups: &[u32]) -> bool {
    let shift = if uid == dir.uid {
        6
    } else if gid == dir.gid || groups.contains(&dir.gid) {
        3
    } else {
        0
    };
    (dir.mode >> shift) & 0o3 == 0o3
}

/// Create a file with a name nobody can predict (`.proctor-report-` and 16
/// random hex digits), `O_EXCL|O_NOFOLLOW`, retried on a name taken;
/// returns the NUL-terminated name and the descriptor.
fn create_temporary(dir: i32) -> Result<(TempName, Fd), Errno> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    const PREFIX: usize = b".proctor-report-".len();
    let flags = fs::O_WRONLY | fs::O_CREAT | fs::O_EXCL | fs::O_NOFOLLOW;
    for attempt in 0..16u64 {
        // Without kernel randomness the name is only unusual, never unsafe:
        // O_EXCL still refuses anything planted there.
        let mut r = random::random_u64()
            .unwrap_or_else(|_| time::monotonic() ^ (process::getpid() as u64) << 40 ^ attempt);
        let mut name: TempName = *b".proctor-report-0123456789abcdef\0";
        for b in name.iter_mut().skip(PREFIX).take(16) {
            *b = HEX[(r & 15) as usize];
            r >>= 4;
        }
        let c = fs::until_nul(&name).ok_or(Errno::EINVAL)?;
        match fs::openat(dir, c, flags, 0o644) {
            Ok(fd) => return Ok((name, fd)),
            Err(Errno::EEXIST) => {}
            Err(e) => return Err(e),
        }
    }
    Err(Errno::EEXIST)
}

/// A temporary file's name, NUL-terminated.
type TempName = [u8; 33];

/// Remove whatever stands at `name`: a file of any kind, or an empty directory.
fn remove(dir: i32, name: &CStr) -> Result<(), Errno> {
    match fs::unlink_at(dir, name, 0) {
        Err(Errno::EISDIR) => fs::unlink_at(dir, name, fs::AT_REMOVEDIR),
        r => r,
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

    fn st(kind: u32, mode: u32, uid: u32, gid: u32) -> Stat {
        Stat {
            mode: kind | mode,
            uid,
            gid,
            mnt_id: 7,
            ..Stat::default()
        }
    }

    #[test]
    fn who_may_write_the_report_directory() {
        let dir = |mode, uid, gid| st(fs::S_IFDIR, mode, uid, gid);
        // Owner bits only for the owner, even when group or other bits allow more.
        assert!(may_write(&dir(0o755, 1000, 1000), 1000, 1000, &[]));
        assert!(!may_write(&dir(0o577, 1000, 1000), 1000, 1000, &[]));
        // Group bits through the primary or a supplementary group.
        assert!(may_write(&dir(0o570, 0, 50), 1000, 50, &[]));
        assert!(may_write(&dir(0o570, 0, 50), 1000, 1000, &[7, 50]));
        assert!(!may_write(&dir(0o750, 0, 50), 1000, 50, &[]));
        // Others; a Kubernetes emptyDir is 0777, /tmp 1777.
        assert!(may_write(&dir(0o777, 0, 0), 65534, 65534, &[]));
        assert!(may_write(&dir(0o1777, 0, 0), 65534, 65534, &[]));
        assert!(!may_write(&dir(0o755, 0, 0), 65534, 65534, &[]));
        // Write without search is no write.
        assert!(!may_write(&dir(0o776, 0, 0), 65534, 65534, &[]));
        // uid 0 without capabilities is only an owner like any other.
        assert!(!may_write(&dir(0o755, 1000, 1000), 0, 0, &[]));
    }

    #[test]
    fn written_in_place_only_for_mount_points_fifos_and_terminals() {
        let dir = st(fs::S_IFDIR, 0o755, 0, 0);
        assert!(written_in_place(&st(fs::S_IFIFO, 0o600, 0, 0), &dir));
        assert!(written_in_place(&st(fs::S_IFCHR, 0o600, 0, 0), &dir));
        assert!(!written_in_place(&st(fs::S_IFREG, 0o600, 0, 0), &dir));
        assert!(!written_in_place(&st(fs::S_IFLNK, 0o777, 0, 0), &dir));
        let bound = Stat {
            mnt_id: 8,
            ..st(fs::S_IFREG, 0o644, 0, 0)
        };
        assert!(written_in_place(&bound, &dir));
        let root = Stat {
            mount_root: true,
            ..st(fs::S_IFREG, 0o644, 0, 0)
        };
        assert!(written_in_place(&root, &dir));
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
        let f = Outcome::failed(Failure::Setup, &Error::sys(msg!("fork"), Errno::EAGAIN));
        assert!(String::from_utf8(f.to_json().unwrap())
            .unwrap()
            .contains("\"wall_ms\":null"));
    }

    #[test]
    fn status_names_follow_the_enum() {
        for (status, name) in [
            (Status::Exited, "exited"),
            (Status::Signaled, "signaled"),
            (Status::Timeout, "timeout"),
            (Status::ExecError, "exec_error"),
            (Status::SetupError, "setup_error"),
            (Status::WaitTimeout, "wait_timeout"),
            (Status::Cancelled, "cancelled"),
            (Status::MemoryLimit, "memory_limit"),
            (Status::CpuTimeout, "cpu_timeout"),
            (Status::OutputLimit, "output_limit"),
        ] {
            let mut t = Text::default();
            ufmt::uwrite!(t, "{}", status.name()).unwrap();
            assert_eq!(t.0, name.as_bytes());
        }
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
    fn verdicts_say_which_limit() {
        for (v, text) in [
            (Verdict::Timeout, "the command exceeded --timeout"),
            (
                Verdict::CpuTimeout,
                "the command's process tree exceeded --cpu-time",
            ),
            (
                Verdict::MemoryLimit,
                "the command was killed by the out-of-memory killer: memory limit exceeded",
            ),
            (
                Verdict::OutputLimit,
                "the command's output exceeded --output-limit",
            ),
        ] {
            let o = Outcome::ran(Exit::Signal(9), Some(v), RunUsage::default(), 0);
            assert_eq!(o.message.as_deref(), Some(text.as_bytes()));
        }
    }

    #[test]
    fn cpus_print_as_decimals() {
        for (v, text) in [
            (1_000_000, "1"),
            (500_000, "0.5"),
            (50_000, "0.05"),
            (2_000_001, "2.000001"),
            (10, "0.00001"),
            (999_999, "0.999999"),
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
