//! The command line → [`Config`]. Pure: no system call, no side effect, so
//! every malformed input is refused before proctor touches anything.

pub mod rlimit;

use crate::error::Show;
use crate::log::Level;
use crate::msg;
use crate::rt::cstr::{tail, OwnedCStr};
use crate::rt::num::parse_u64;
use crate::rt::pack::{Msg, Names};
use crate::rt::vec::{push, OutOfMemory};
use crate::sys::time::Nanos;
use alloc::vec::Vec;
use core::ffi::CStr;
use core::mem::ManuallyDrop;
use rlimit::Limit;
use ufmt::{uDisplay, uWrite, Formatter};

/// What the command line asks for.
#[allow(clippy::large_enum_variant)] // built once, moved once: boxing buys nothing
pub enum Action<'a> {
    Help,
    Version,
    License,
    Run(Config<'a>),
}

/// Everything proctor will do, validated.
#[derive(Debug)]
pub struct Config<'a> {
    pub verbosity: Level,
    pub single_child: bool,
    pub wait_for: Vec<&'a CStr>,
    pub wait_timeout: Option<Nanos>,
    pub mounts: Vec<Mount<'a>>,
    pub net_none: bool,
    pub chdir: Option<&'a CStr>,
    pub timeout: Option<Nanos>,
    pub kill_after: Nanos,
    pub rlimits: Vec<Limit>,
    pub user: Option<User>,
    pub groups: Vec<u32>,
    pub clear_env: bool,
    pub env: Vec<EnvOp<'a>>,
    pub keep_fds: Vec<i32>,
    pub keep_caps: bool,
    pub seccomp: bool,
    pub report: Option<&'a CStr>,
    pub poweroff: bool,
    /// `--stdin`, `--stdout`, `--stderr`: files proctor opens at start.
    pub stdin: Option<&'a CStr>,
    pub stdout: Option<&'a CStr>,
    pub stderr: Option<&'a CStr>,
    pub stderr_to_stdout: bool,
    /// `--output-limit`: bytes of stdout + stderr together, never 0.
    pub output_limit: Option<u64>,
    /// tini's `-p`: the parent-death signal.
    pub pdeathsig: Option<u8>,
    /// tini's `-e`: command exit codes reported and returned as 0.
    pub exit_zero: Vec<u8>,
    /// tini's `-w`: log every reaped process that was not the command.
    pub log_reaped: bool,
    /// dumb-init's `-r S:R`: (received, forwarded) pairs, forwarded 0 = dropped.
    pub rewrite: Vec<(u8, u8)>,
    /// Invoked as `docker-init`: pure init mode by default, without its warning.
    pub docker_init: bool,
    /// `--landlock`: write only under `writable` (and the SPEC's devices).
    pub landlock: bool,
    pub writable: Vec<&'a CStr>,
    /// `--no-tcp`: neither bind nor connect TCP sockets (Landlock ABI 4).
    pub no_tcp: bool,
    /// The command's cgroup (`--memory --pids --cpus --cpu-time --cgroup`);
    /// `None`: proctor touches no cgroup.
    pub cgroup: Option<Resources>,
    pub reboot: bool,
    pub modules: Vec<Module<'a>>,
    /// `--pid-ns`: the command in a PID namespace of its own.
    pub pid_ns: bool,
    /// Index of the command in the argument slice given to [`parse`].
    pub command: usize,
}

/// One mount, in command-line order.
#[derive(Debug, PartialEq, Eq)]
pub enum Mount<'a> {
    Bind {
        src: OwnedCStr,
        dst: OwnedCStr,
        writable: bool,
        noexec: bool,
    },
    Tmpfs {
        dst: OwnedCStr,
        size: u64,
        mode: u32,
        noexec: bool,
    },
    ReadOnly {
        path: &'a CStr,
    },
    /// `--mount DEV:DST:FSTYPE[:OPTS]`: a block device (a VM's submission drive).
    Device {
        dev: OwnedCStr,
        dst: OwnedCStr,
        fstype: &'static CStr,
        writable: bool,
        noexec: bool,
    },
}

/// `--module FILE[:PARAMS]`: a kernel module to load as the init of a VM.
#[derive(Debug, PartialEq, Eq)]
pub struct Module<'a> {
    pub file: OwnedCStr,
    /// The module's parameter string (empty without `:PARAMS`).
    pub params: &'a CStr,
}

/// The filesystems `--mount` accepts: common, read-mostly images of a
/// submission, none of which needs a helper program to mount. A static:
/// a const table is copied to the stack to be searched.
pub static DEVICE_FSTYPES: [&CStr; 6] =
    [c"ext4", c"ext2", c"squashfs", c"iso9660", c"vfat", c"erofs"];

impl Config<'_> {
    /// The defaults, before any option; as `docker-init` if `docker_init`.
    /// Built in `proctor::run` again: measured 72 bytes smaller than out of
    /// line (or than written over zeros) since `set_value` is out of line.
    fn new(docker_init: bool, command: usize) -> Self {
        Config {
            verbosity: Level::Warning,
            single_child: false,
            wait_for: Vec::new(),
            wait_timeout: None,
            mounts: Vec::new(),
            net_none: false,
            chdir: None,
            timeout: None,
            kill_after: KILL_AFTER,
            rlimits: Vec::new(),
            user: None,
            groups: Vec::new(),
            clear_env: false,
            env: Vec::new(),
            keep_fds: Vec::new(),
            keep_caps: docker_init,
            seccomp: !docker_init,
            report: None,
            poweroff: false,
            stdin: None,
            stdout: None,
            stderr: None,
            stderr_to_stdout: false,
            output_limit: None,
            pdeathsig: None,
            exit_zero: Vec::new(),
            log_reaped: false,
            rewrite: Vec::new(),
            docker_init,
            landlock: false,
            writable: Vec::new(),
            no_tcp: false,
            cgroup: None,
            reboot: false,
            modules: Vec::new(),
            pid_ns: false,
            command,
        }
    }

    /// Whether proctor runs as the init of a VM (`--poweroff` or `--reboot`).
    pub fn vm(&self) -> bool {
        self.poweroff || self.reboot
    }
}

/// The limits of the command's cgroup, each `None` when not given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// `--memory`, in bytes.
    pub memory: Option<u64>,
    /// `--pids`.
    pub pids: Option<u64>,
    /// `--cpus`, in millionths of a CPU.
    pub cpus_micro: Option<u64>,
    /// `--cpu-time`.
    pub cpu_time: Option<Nanos>,
}

/// `--user UID[:GID]`; the gid defaults to the uid, never to root's group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
}

/// One environment option; `--clear-env` is a flag of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvOp<'a> {
    /// `--env NAME=VALUE`, the whole `NAME=VALUE` string.
    Set(&'a CStr),
    Unset(&'a [u8]),
    Keep(&'a [u8]),
}

/// A refused command line.
#[derive(Debug, PartialEq, Eq)]
pub enum UsageError<'a> {
    Unknown(&'a [u8]),
    MissingValue(&'static str),
    NoValueAllowed(&'static str, &'a [u8]),
    Bad {
        option: &'static str,
        value: &'a [u8],
        why: Msg,
    },
    NoCommand,
    OutOfMemory,
    /// An option refused with the rest of the command line: (option, why).
    Refused(&'static str, Msg),
}

impl uDisplay for UsageError<'_> {
    fn fmt<W: uWrite + ?Sized>(&self, f: &mut Formatter<'_, W>) -> Result<(), W::Error> {
        // All but two are HEAD MID[ "VALUE"][ WHY]: one sequence of writes.
        let (head, mid, value, why) = match *self {
            UsageError::Unknown(o) => ("unknown option", "", Some(o), Some(msg!("(see --help)"))),
            UsageError::MissingValue(o) => (o, ": missing value", None, None),
            UsageError::NoValueAllowed(o, v) => (o, ": takes no value, got", Some(v), None),
            UsageError::Bad { option, value, why } => (option, ":", Some(value), Some(why)),
            UsageError::Refused(o, why) => (o, ":", None, Some(why)),
            UsageError::NoCommand => return msg!("no command given (see --help)").fmt(f),
            UsageError::OutOfMemory => return crate::error::OUT_OF_MEMORY.fmt(f),
        };
        f.write_str(head)?;
        f.write_str(mid)?;
        if let Some(v) = value {
            f.write_str(" \"")?;
            Show(v).fmt(f)?;
            f.write_str("\"")?;
        }
        if let Some(why) = why {
            f.write_str(" ")?;
            why.fmt(f)?;
        }
        Ok(())
    }
}

impl From<OutOfMemory> for UsageError<'_> {
    fn from(_: OutOfMemory) -> Self {
        UsageError::OutOfMemory
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Opt {
    // Options that stop the parsing.
    Help,
    Version,
    License,
    // Flags.
    Verbose,
    Quiet,
    Subreaper,
    Pgroup,
    SingleChild,
    ClearEnv,
    KeepCaps,
    Poweroff,
    StderrToStdout,
    WarnReaped,
    Landlock,
    NoTcp,
    Cgroup,
    Reboot,
    PidNs,
    // Options that take a value: from WaitFor on.
    WaitFor,
    Bind,
    Tmpfs,
    Ro,
    DeviceMount,
    Net,
    Rlimit,
    User,
    Groups,
    Env,
    UnsetEnv,
    KeepEnv,
    Seccomp,
    Chdir,
    Report,
    Stdin,
    Stdout,
    Stderr,
    Pdeathsig,
    Rewrite,
    Writable,
    Module,
    // Options whose value is one number (see `number`).
    WaitTimeout,
    Timeout,
    KillAfter,
    KeepFd,
    OutputLimit,
    ExitZero,
    Memory,
    Pids,
    Cpus,
    CpuTime,
}

/// (long name, short letter, option); tini's short-only options have no
/// long name. An option takes a value if it comes after [`Opt::WaitFor`].
const OPTIONS: [(&str, u8, Opt); 50] = [
    ("--help", b'h', Opt::Help),
    ("--version", b'V', Opt::Version),
    ("--verbose", b'v', Opt::Verbose),
    ("--quiet", b'q', Opt::Quiet),
    ("--subreaper", b's', Opt::Subreaper),
    ("--pgroup", b'g', Opt::Pgroup),
    ("--single-child", b'c', Opt::SingleChild),
    ("--wait-for", 0, Opt::WaitFor),
    ("--wait-timeout", 0, Opt::WaitTimeout),
    ("--bind", 0, Opt::Bind),
    ("--tmpfs", 0, Opt::Tmpfs),
    ("--ro", 0, Opt::Ro),
    ("--net", 0, Opt::Net),
    ("--chdir", 0, Opt::Chdir),
    ("--timeout", 0, Opt::Timeout),
    ("--kill-after", 0, Opt::KillAfter),
    ("--rlimit", 0, Opt::Rlimit),
    ("--user", 0, Opt::User),
    ("--groups", 0, Opt::Groups),
    ("--env", 0, Opt::Env),
    ("--unset-env", 0, Opt::UnsetEnv),
    ("--clear-env", 0, Opt::ClearEnv),
    ("--keep-env", 0, Opt::KeepEnv),
    ("--keep-fd", 0, Opt::KeepFd),
    ("--keep-caps", 0, Opt::KeepCaps),
    ("--seccomp", 0, Opt::Seccomp),
    ("--report", 0, Opt::Report),
    ("--poweroff", 0, Opt::Poweroff),
    ("--stdin", 0, Opt::Stdin),
    ("--stdout", 0, Opt::Stdout),
    ("--stderr", 0, Opt::Stderr),
    ("--stderr-to-stdout", 0, Opt::StderrToStdout),
    ("--output-limit", 0, Opt::OutputLimit),
    ("-p", b'p', Opt::Pdeathsig),
    ("-e", b'e', Opt::ExitZero),
    ("-w", b'w', Opt::WarnReaped),
    ("-l", b'l', Opt::License),
    ("--rewrite", b'r', Opt::Rewrite),
    ("--landlock", 0, Opt::Landlock),
    ("--writable", 0, Opt::Writable),
    ("--no-tcp", 0, Opt::NoTcp),
    ("--memory", 0, Opt::Memory),
    ("--pids", 0, Opt::Pids),
    ("--cpus", 0, Opt::Cpus),
    ("--cpu-time", 0, Opt::CpuTime),
    ("--cgroup", 0, Opt::Cgroup),
    ("--reboot", 0, Opt::Reboot),
    ("--mount", 0, Opt::DeviceMount),
    ("--module", 0, Opt::Module),
    ("--pid-ns", 0, Opt::PidNs),
];

/// OPTIONS as the binary stores it: a table of `&str` is relocated data of
/// 24 bytes a row, so the long names are packed (rt::pack::Names) and ROWS
/// keeps the rest, both derived from OPTIONS at compile time.
const LONG: [&str; OPTIONS.len()] = {
    let mut long = [""; OPTIONS.len()];
    let mut i = 0;
    while i < OPTIONS.len() {
        long[i] = OPTIONS[i].0;
        i += 1;
    }
    long
};
static LONG_NAMES: Names<{ OPTIONS.len() }> = crate::names!(LONG);
static ROWS: [(u8, Opt); OPTIONS.len()] = {
    let mut rows = [(0, Opt::Help); OPTIONS.len()];
    let mut i = 0;
    while i < OPTIONS.len() {
        rows[i] = (OPTIONS[i].1, OPTIONS[i].2);
        i += 1;
    }
    rows
};

/// The option called `long`, or with the short letter `short` (not 0):
/// its long name and the option.
fn find(long: &[u8], short: u8) -> Option<(&'static str, Opt)> {
    let i = match short {
        0 => LONG_NAMES.position(long)?,
        _ => ROWS.iter().position(|&(letter, _)| letter == short)?,
    };
    Some((LONG_NAMES.get(i)?, ROWS.get(i)?.1))
}

/// The default tmpfs size (64 MiB) and mode (1777).
pub const TMPFS_SIZE: u64 = 64 << 20;
pub const TMPFS_MODE: u32 = 0o1777;
/// The default grace between SIGTERM and SIGKILL after `--timeout`.
pub const KILL_AFTER: Nanos = 2_000_000_000;

/// Parse the arguments after the program name `argv0`, in the environment
/// `environ` (tini's and dumb-init's variables apply first; options win).
pub fn parse_as<'a>(
    argv0: &[u8],
    environ: &[&CStr],
    args: &[&'a CStr],
) -> Result<Action<'a>, UsageError<'a>> {
    let docker_init = argv0.rsplit(|&b| b == b'/').next() == Some(b"docker-init");
    // Never dropped: after a refusal or --help proctor exits, and the
    // arena would reuse none of it (no drop glue for a Config).
    let mut cfg = ManuallyDrop::new(Config::new(docker_init, args.len()));
    compat_environment(&mut cfg, environ);
    match read_options(&mut cfg, args)? {
        Some(Opt::Help) => Ok(Action::Help),
        Some(Opt::Version) => Ok(Action::Version),
        Some(_) => Ok(Action::License),
        None => {
            check(&cfg, args.len())?;
            Ok(Action::Run(ManuallyDrop::into_inner(cfg)))
        }
    }
}

/// Read the options into `cfg` up to the command; `Some` of an option that
/// stops there (`--help`, `--version`, `-l`).
fn read_options<'a>(
    cfg: &mut Config<'a>,
    args: &[&'a CStr],
) -> Result<Option<Opt>, UsageError<'a>> {
    let mut i = 0;
    while let Some(&arg) = args.get(i) {
        let bytes = arg.to_bytes();
        i += 1;
        if bytes == b"--" {
            cfg.command = i;
            break;
        }
        let (Some(b'-'), Some(&second)) = (bytes.first(), bytes.get(1)) else {
            cfg.command = i - 1;
            break;
        };
        let long = second == b'-';
        // A long option once; a cluster of short ones letter by letter.
        let mut at = 1;
        while let Some(&letter) = bytes.get(at) {
            at += 1;
            // Where the option's value starts within this argument, if it does.
            let (found, inline) = if long {
                let eq = bytes.iter().position(|&b| b == b'=');
                let name = bytes.get(..eq.unwrap_or(bytes.len())).unwrap_or_default();
                at = bytes.len();
                (find(name, 0), eq.map(|e| e + 1))
            } else {
                // getopt's rule: a value is the rest of the cluster, else the next argument.
                (find(b"", letter), (at < bytes.len()).then_some(at))
            };
            let Some((name, opt)) = found else {
                return Err(UsageError::Unknown(bytes));
            };
            if opt >= Opt::WaitFor {
                let v = match inline {
                    Some(at) => tail(arg, at),
                    None => {
                        let v = args.get(i).copied().ok_or(UsageError::MissingValue(name))?;
                        i += 1;
                        v
                    }
                };
                apply_value(cfg, opt, name, v)?;
                break;
            }
            if let (true, Some(at)) = (long, inline) {
                return Err(UsageError::NoValueAllowed(name, tail(arg, at).to_bytes()));
            }
            if apply_flag(cfg, opt) {
                return Ok(Some(opt));
            }
        }
    }
    Ok(None)
}

/// What only the whole command line can tell.
fn check<'a>(cfg: &Config<'a>, args: usize) -> Result<(), UsageError<'a>> {
    if cfg.command >= args {
        return Err(UsageError::NoCommand);
    }
    check_landlock(cfg)?;
    check_vm(cfg)?;
    if cfg.stderr_to_stdout && cfg.stderr.is_some() {
        return Err(UsageError::Refused(
            "--stderr-to-stdout",
            msg!("cannot be combined with --stderr"),
        ));
    }
    Ok(())
}

/// Set a flag; true for one that stops the parsing (`--help`, `--version`, `-l`).
/// One store through a reference rather than one per flag.
fn apply_flag(cfg: &mut Config, opt: Opt) -> bool {
    let flag = match opt {
        Opt::Help | Opt::Version | Opt::License => return true,
        Opt::Verbose => {
            cfg.verbosity = cfg.verbosity.more();
            return false;
        }
        Opt::Quiet => {
            cfg.verbosity = Level::Fatal;
            return false;
        }
        Opt::Cgroup => {
            resources(cfg);
            return false;
        }
        // Accepted for tini compatibility: proctor always does both.
        Opt::Subreaper | Opt::Pgroup => return false,
        Opt::WarnReaped => &mut cfg.log_reaped,
        Opt::SingleChild => &mut cfg.single_child,
        Opt::ClearEnv => &mut cfg.clear_env,
        Opt::KeepCaps => &mut cfg.keep_caps,
        Opt::Poweroff => &mut cfg.poweroff,
        Opt::StderrToStdout => &mut cfg.stderr_to_stdout,
        Opt::Landlock => &mut cfg.landlock,
        Opt::NoTcp => &mut cfg.no_tcp,
        Opt::Reboot => &mut cfg.reboot,
        Opt::PidNs => &mut cfg.pid_ns,
        // Options with a value never come here.
        _ => return false,
    };
    *flag = true;
    false
}

fn apply_value<'a>(
    cfg: &mut Config<'a>,
    opt: Opt,
    option: &'static str,
    v: &'a CStr,
) -> Result<(), UsageError<'a>> {
    // Every refusal of a value is built here, once, not at each check.
    match set_value(cfg, opt, v) {
        Ok(()) => Ok(()),
        Err(Refusal::Bad(why)) => Err(UsageError::Bad {
            option,
            value: v.to_bytes(),
            why,
        }),
        Err(Refusal::OutOfMemory) => Err(UsageError::OutOfMemory),
    }
}

/// Why [`set_value`] refused a value: what [`UsageError::Bad`] says after
/// the value, or running out of memory.
enum Refusal {
    Bad(Msg),
    OutOfMemory,
}

impl From<Msg> for Refusal {
    fn from(why: Msg) -> Refusal {
        Refusal::Bad(why)
    }
}

impl From<OutOfMemory> for Refusal {
    fn from(_: OutOfMemory) -> Refusal {
        Refusal::OutOfMemory
    }
}

/// Out of line: its refusals then stay small (a `Refusal` in registers),
/// measured 100 bytes smaller than inlined.
#[inline(never)]
fn set_value<'a>(cfg: &mut Config<'a>, opt: Opt, v: &'a CStr) -> Result<(), Refusal> {
    let value = v.to_bytes();
    if value.is_empty() {
        return Err(msg!("is empty").into());
    }
    match opt {
        Opt::WaitFor => push(&mut cfg.wait_for, v)?,
        Opt::Bind | Opt::Tmpfs | Opt::Ro | Opt::DeviceMount => {
            push(&mut cfg.mounts, parse_mount(opt, v)?)?
        }
        Opt::Net if word(value) == Some(NONE) => cfg.net_none = true,
        Opt::Net => return Err(msg!("is not a network mode (only \"none\")").into()),
        Opt::Rlimit => push(&mut cfg.rlimits, parse_rlimit(value)?)?,
        Opt::User => cfg.user = Some(parse_user(value)?),
        Opt::Groups => {
            cfg.groups.clear();
            for g in value.split(|&b| b == b',') {
                let gid =
                    parse_id(g).ok_or(msg!("is not a comma-separated list of numeric gids"))?;
                push(&mut cfg.groups, gid)?;
            }
            if cfg.groups.len() > 65536 {
                return Err(msg!("has more groups than the kernel allows (65536)").into());
            }
        }
        Opt::Env => {
            let (name, _) = split(value, b'=').ok_or(msg!("is not NAME=VALUE"))?;
            check_env_name(name)?;
            push(&mut cfg.env, EnvOp::Set(v))?;
        }
        Opt::UnsetEnv | Opt::KeepEnv => {
            check_env_name(value)?;
            let op = if opt == Opt::KeepEnv {
                EnvOp::Keep(value)
            } else {
                EnvOp::Unset(value)
            };
            push(&mut cfg.env, op)?;
        }
        Opt::Seccomp if word(value) == Some(NONE) => cfg.seccomp = false,
        Opt::Seccomp if word(value) == Some(DEFAULT) => cfg.seccomp = true,
        Opt::Seccomp => return Err(msg!("is not a seccomp mode (\"default\" or \"none\")").into()),
        // Paths, used as given.
        Opt::Chdir | Opt::Report | Opt::Stdin | Opt::Stdout | Opt::Stderr => {
            let path = match opt {
                Opt::Chdir => &mut cfg.chdir,
                Opt::Report => &mut cfg.report,
                Opt::Stdin => &mut cfg.stdin,
                Opt::Stdout => &mut cfg.stdout,
                _ => &mut cfg.stderr,
            };
            *path = Some(v);
        }
        Opt::Pdeathsig => cfg.pdeathsig = Some(signal(value, 1)?),
        Opt::Rewrite => {
            let (from, to) = split(value, b':').ok_or(msg!("is not SIGNAL:SIGNAL"))?;
            let from = signal(from, 1)?;
            push(&mut cfg.rewrite, (from, signal(to, 0)?))?;
        }
        Opt::Writable => {
            check_mount_path(value)?;
            push(&mut cfg.writable, v)?;
        }
        Opt::Module => push(&mut cfg.modules, parse_module(v)?)?,
        // The options whose value is one number (no flag comes here).
        _ => {
            let n = number(opt, value)?;
            let slot = match opt {
                Opt::KillAfter => {
                    cfg.kill_after = n;
                    return Ok(());
                }
                Opt::KeepFd => return Ok(push(&mut cfg.keep_fds, n as i32)?),
                Opt::ExitZero => return Ok(push(&mut cfg.exit_zero, n as u8)?),
                Opt::WaitTimeout => &mut cfg.wait_timeout,
                Opt::Timeout => &mut cfg.timeout,
                Opt::OutputLimit => &mut cfg.output_limit,
                _ => {
                    let r = resources(cfg);
                    match opt {
                        Opt::Memory => &mut r.memory,
                        Opt::Pids => &mut r.pids,
                        Opt::Cpus => &mut r.cpus_micro,
                        _ => &mut r.cpu_time,
                    }
                }
            };
            *slot = Some(n);
        }
    }
    Ok(())
}

/// The command's cgroup limits, a cgroup from now on (`--cgroup` or a limit).
#[inline(never)]
fn resources<'c>(cfg: &'c mut Config) -> &'c mut Resources {
    cfg.cgroup.get_or_insert_default()
}

/// The value of an option that is one number: how it is read, its bounds,
/// what a refusal says.
fn number(opt: Opt, value: &[u8]) -> Result<u64, Msg> {
    let (n, min, max, why) = match opt {
        Opt::WaitTimeout | Opt::Timeout | Opt::KillAfter => (
            parse_seconds(value),
            0,
            u64::MAX,
            msg!("is not a number of seconds"),
        ),
        Opt::Memory => return parse_memory(value),
        Opt::KeepFd => (
            parse_u64(value),
            0,
            i32::MAX as u64,
            msg!("is not a descriptor number"),
        ),
        Opt::OutputLimit => (
            parse_size(value),
            1,
            u64::MAX,
            msg!("is not a positive number of bytes (k/m/g/t allowed)"),
        ),
        Opt::ExitZero => (
            parse_u64(value),
            0,
            255,
            msg!("is not an exit code (0 to 255)"),
        ),
        Opt::Pids => (
            parse_u64(value),
            1,
            MAX_PIDS,
            msg!("is not a number of processes from 1 to 4194304"),
        ),
        // In millionths: from 0.01 (the kernel's smallest quota, 1 ms per
        // 100 ms period) to a million CPUs.
        Opt::Cpus => (
            parse_seconds(value).map(|ns| ns / 1000),
            10_000,
            1_000_000_000_000,
            msg!("is not a number of CPUs from 0.01 on (decimal allowed)"),
        ),
        _ => (
            parse_seconds(value),
            1_000_000,
            u64::MAX,
            msg!("is not a number of seconds from 0.001 on"),
        ),
    };
    within(n, min, max).ok_or(why)
}

/// `n` if it is a number from `min` to `max`.
fn within(n: Option<u64>, min: u64, max: u64) -> Option<u64> {
    n.filter(|n| (min..=max).contains(n))
}

/// A signal from `min` on (0 is "no signal", where that means something).
fn signal(s: &[u8], min: u8) -> Result<u8, Msg> {
    match parse_signal(s) {
        Some(sig) if sig >= min => Ok(sig),
        _ => Err(NOT_A_SIGNAL),
    }
}

/// `s` split at its first `sep`, without it.
#[inline(never)]
fn split(s: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let at = s.iter().position(|&b| b == sep)?;
    Some((s.get(..at)?, s.get(at + 1..)?))
}

/// The words option values are compared with, in one table: a comparison
/// with a literal is code at each site.
const WORDS: [&str; 6] = ["none", "default", "ro", "rw", "noexec", "unlimited"];
static WORD_TABLE: Names<6> = crate::names!(WORDS);
const NONE: usize = 0;
const DEFAULT: usize = 1;
const RO: usize = 2;
const RW: usize = 3;
const NOEXEC: usize = 4;
const UNLIMITED: usize = 5;

/// Which of [`WORDS`] `s` is.
fn word(s: &[u8]) -> Option<usize> {
    WORD_TABLE.position(s)
}

const NOT_A_SIGNAL: Msg = msg!("is not a signal (a name such as TERM or SIGTERM, or 1 to 64)");

/// The standard signals' names, numbered from 1 (the same on x86_64 and
/// aarch64).
const SIGNALS: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];
static SIGNAL_NAMES: Names<31> = crate::names!(SIGNALS);

/// A signal by number (0 to 64) or by name, with or without `SIG`.
pub fn parse_signal(s: &[u8]) -> Option<u8> {
    if let Some(n) = parse_u64(s) {
        return (n <= 64).then_some(n as u8);
    }
    let name = s.strip_prefix(b"SIG").unwrap_or(s);
    let at = SIGNAL_NAMES.position(name)?;
    Some(at as u8 + 1)
}

/// tini's and dumb-init's variables; proctor's own defaults already do what
/// `TINI_SUBREAPER` and `TINI_KILL_PROCESS_GROUP` ask for.
fn compat_environment(cfg: &mut Config, environ: &[&CStr]) {
    for var in environ {
        let var = var.to_bytes();
        if let Some(v) = var.strip_prefix(b"TINI_VERBOSITY=") {
            // tini's 0..3 are proctor's quiet, normal, verbose, debug.
            if let Some(level) = parse_u64(v) {
                cfg.verbosity = match level {
                    0 => Level::Fatal,
                    1 => Level::Warning,
                    2 => Level::Verbose,
                    _ => Level::Debug,
                };
            }
        } else if var == b"DUMB_INIT_SETSID=0" {
            cfg.single_child = true;
        }
    }
}

/// Seconds with an optional decimal fraction (`30`, `0.25`), as nanoseconds.
pub fn parse_seconds(s: &[u8]) -> Option<Nanos> {
    let (int, frac) = match split(s, b'.') {
        Some((int, frac)) if !frac.is_empty() => (int, frac),
        Some(_) => return None,
        None => (s, &b""[..]),
    };
    let mut ns = parse_u64(int)?.checked_mul(1_000_000_000)?;
    // Digits past the ninth count for nothing, but must be digits.
    let mut scale = 100_000_000;
    for &d in frac {
        if !d.is_ascii_digit() {
            return None;
        }
        ns = ns.checked_add((d - b'0') as u64 * scale)?;
        scale /= 10;
    }
    Some(ns)
}

/// A size or count with an optional `k m g t` suffix (powers of 1024).
pub fn parse_size(s: &[u8]) -> Option<u64> {
    let (last, digits) = s.split_last()?;
    let shift = match last.to_ascii_lowercase() {
        b'k' => 10,
        b'm' => 20,
        b'g' => 30,
        b't' => 40,
        _ => return parse_u64(s),
    };
    parse_u64(digits)?.checked_mul(1 << shift)
}

/// A numeric uid or gid; `4294967295` is refused (it means "unchanged" to the kernel).
pub fn parse_id(s: &[u8]) -> Option<u32> {
    parse_u64(s)
        .filter(|&n| n < u32::MAX as u64)
        .map(|n| n as u32)
}

fn parse_user(s: &[u8]) -> Result<User, Msg> {
    const NOT_NUMERIC: Msg =
        msg!("is not a numeric UID[:GID] (names are refused: proctor never reads /etc/passwd)");
    let (u, g) = split(s, b':').unwrap_or((s, s));
    let (Some(uid), Some(gid)) = (parse_id(u), parse_id(g)) else {
        return Err(NOT_NUMERIC);
    };
    Ok(User { uid, gid })
}

fn parse_rlimit(s: &[u8]) -> Result<Limit, Msg> {
    let (name, rest) = split(s, b'=').ok_or(msg!("is not NAME=SOFT[:HARD]"))?;
    let resource = rlimit::resource(name).ok_or(
        msg!("names no resource (as core cpu data fsize locks memlock msgqueue nice nofile nproc rss rtprio rttime sigpending stack)"),
    )?;
    let (soft, hard) = split(rest, b':').unwrap_or((rest, rest));
    let (Some(soft), Some(hard)) = (limit(soft), limit(hard)) else {
        return Err(msg!(
            "has a limit that is not a number with k/m/g/t or \"unlimited\""
        ));
    };
    if soft > hard {
        return Err(msg!("has a soft limit above its hard limit"));
    }
    Ok(Limit {
        resource,
        soft,
        hard,
    })
}

/// One limit of `--rlimit`: a size, or `unlimited` (`RLIM_INFINITY`, which
/// no number may spell).
fn limit(v: &[u8]) -> Option<u64> {
    if word(v) == Some(UNLIMITED) {
        return Some(u64::MAX);
    }
    parse_size(v).filter(|&n| n != u64::MAX)
}

/// The smallest `--memory`: below it not even a static binary starts.
pub const MIN_MEMORY: u64 = 1 << 20;
/// The largest `--pids` the kernel takes (`PID_MAX_LIMIT`).
pub const MAX_PIDS: u64 = 1 << 22;

fn parse_memory(s: &[u8]) -> Result<u64, Msg> {
    let n = parse_size(s).ok_or(msg!("is not a size in bytes with k/m/g/t"))?;
    if n < MIN_MEMORY {
        return Err(msg!("is below 1m, too little for any command"));
    }
    if n > i64::MAX as u64 {
        return Err(msg!("is larger than the kernel takes"));
    }
    Ok(n)
}

fn check_mount_path(p: &[u8]) -> Result<(), Msg> {
    if p.first() != Some(&b'/') {
        return Err(msg!("is not an absolute path"));
    }
    if p.split(|&b| b == b'/').any(|c| c == b"..") {
        return Err(msg!("must not contain \"..\""));
    }
    Ok(())
}

/// A copy of part of an argument, NUL-terminated. An argument holds no NUL:
/// only memory can run out.
fn owned(p: &[u8]) -> Option<OwnedCStr> {
    OwnedCStr::new(p).ok()
}

/// Why [`owned`] failed. An `Option` from `owned`, not a `Result` with this
/// message: less code at each of its sites.
const NO_MEMORY: Msg = msg!("out of memory");

/// `--bind SRC:DST[:OPTS]`, `--mount DEV:DST:FSTYPE[:OPTS]`, `--tmpfs DST[:OPTS]`, `--ro PATH`.
fn parse_mount<'a>(opt: Opt, v: &'a CStr) -> Result<Mount<'a>, Msg> {
    let s = v.to_bytes();
    match opt {
        Opt::Ro => {
            check_mount_path(s)?;
            Ok(Mount::ReadOnly { path: v })
        }
        Opt::Tmpfs => parse_tmpfs(s),
        _ => parse_source_mount(s, opt == Opt::DeviceMount),
    }
}

/// `--bind SRC:DST[:OPTS]`, or with `device` `--mount DEV:DST:FSTYPE[:OPTS]`.
fn parse_source_mount(s: &[u8], device: bool) -> Result<Mount<'static>, Msg> {
    let (form, not_src) = if device {
        (
            msg!("is not DEV:DST:FSTYPE[:OPTS]"),
            msg!("has a DEV that is not an absolute path without \"..\""),
        )
    } else {
        (
            msg!("is not SRC:DST[:OPTS]"),
            msg!("has a SRC that is not an absolute path without \"..\""),
        )
    };
    let mut parts = s.splitn(3 + device as usize, |&b| b == b':');
    let src = parts.next().unwrap_or_default();
    let dst = parts.next().ok_or(form)?;
    let fstype = if device {
        Some(parts.next().ok_or(form)?)
    } else {
        None
    };
    check_mount_path(src).or(Err(not_src))?;
    check_mount_path(dst).or(Err(msg!(
        "has a DST that is not an absolute path without \"..\""
    )))?;
    let fstype = match fstype {
        Some(name) => Some(
            DEVICE_FSTYPES
                .iter()
                .copied()
                .find(|t| t.to_bytes() == name)
                .ok_or(msg!(
                    "has a FSTYPE that is not ext4, ext2, squashfs, iso9660, vfat or erofs"
                ))?,
        ),
        None => None,
    };
    let (writable, noexec) = parse_access(parts.next())?;
    let (src, dst) = (owned(src).ok_or(NO_MEMORY)?, owned(dst).ok_or(NO_MEMORY)?);
    Ok(match fstype {
        Some(fstype) => Mount::Device {
            dev: src,
            dst,
            fstype,
            writable,
            noexec,
        },
        None => Mount::Bind {
            src,
            dst,
            writable,
            noexec,
        },
    })
}

/// The OPTS of `--bind` and `--mount`: `ro` (default), `rw`, `noexec`,
/// comma-separated; gives (writable, noexec).
fn parse_access(opts: Option<&[u8]>) -> Result<(bool, bool), Msg> {
    let (mut writable, mut noexec, mut ro) = (false, false, false);
    if let Some(opts) = opts {
        for opt in opts.split(|&b| b == b',') {
            match word(opt) {
                Some(RO) => ro = true,
                Some(RW) => writable = true,
                Some(NOEXEC) => noexec = true,
                _ => return Err(msg!("has an option that is not ro, rw or noexec")),
            }
        }
    }
    if ro && writable {
        return Err(msg!("asks for both ro and rw"));
    }
    Ok((writable, noexec))
}

/// `FILE[:PARAMS]`: PARAMS is everything after the first `:`.
fn parse_module(v: &CStr) -> Result<Module<'_>, Msg> {
    let value = v.to_bytes();
    let (file, params) = match split(value, b':') {
        Some((file, _)) => (file, tail(v, file.len() + 1)),
        None => (value, c""),
    };
    check_mount_path(file).or(Err(msg!(
        "has a FILE that is not an absolute path without \"..\""
    )))?;
    Ok(Module {
        file: owned(file).ok_or(NO_MEMORY)?,
        params,
    })
}

/// `--poweroff` and `--reboot` exclude each other; `--module` needs one.
fn check_vm<'a>(cfg: &Config<'a>) -> Result<(), UsageError<'a>> {
    if cfg.poweroff && cfg.reboot {
        return Err(UsageError::Refused(
            "--reboot",
            msg!("cannot be combined with --poweroff"),
        ));
    }
    if !cfg.modules.is_empty() && !cfg.vm() {
        return Err(UsageError::Refused(
            "--module",
            msg!("needs --poweroff or --reboot (proctor as the init of a VM)"),
        ));
    }
    Ok(())
}

fn parse_tmpfs(s: &[u8]) -> Result<Mount<'static>, Msg> {
    let (dst, opts) = match split(s, b':') {
        Some((dst, opts)) => (dst, Some(opts)),
        None => (s, None),
    };
    check_mount_path(dst)?;
    let (mut size, mut mode, mut noexec) = (TMPFS_SIZE, TMPFS_MODE, false);
    if let Some(opts) = opts {
        for opt in opts.split(|&b| b == b',') {
            if let Some(v) = opt.strip_prefix(b"size=") {
                let why = msg!("has a size that is not a number with k/m/g/t");
                size = within(parse_size(v), 1, u64::MAX).ok_or(why)?;
            } else if let Some(v) = opt.strip_prefix(b"mode=") {
                let why = msg!("has a mode that is not octal up to 7777");
                mode = within(parse_octal(v), 0, 0o7777).ok_or(why)? as u32;
            } else if word(opt) == Some(NOEXEC) {
                noexec = true;
            } else {
                return Err(msg!(
                    "has an option that is not size=N, mode=OCTAL or noexec"
                ));
            }
        }
    }
    Ok(Mount::Tmpfs {
        dst: owned(dst).ok_or(NO_MEMORY)?,
        size,
        mode,
        noexec,
    })
}

fn parse_octal(s: &[u8]) -> Option<u64> {
    if s.len() > 6 {
        return None;
    }
    let mut n = 0;
    for &b in s {
        if !matches!(b, b'0'..=b'7') {
            return None;
        }
        n = n * 8 + (b - b'0') as u64;
    }
    s.first().map(|_| n)
}

/// `--writable` only means something under `--landlock`.
fn check_landlock<'a>(cfg: &Config<'a>) -> Result<(), UsageError<'a>> {
    match cfg.writable.first() {
        Some(path) if !cfg.landlock => Err(UsageError::Bad {
            option: "--writable",
            value: path.to_bytes(),
            why: msg!("needs --landlock"),
        }),
        _ => Ok(()),
    }
}

fn check_env_name(name: &[u8]) -> Result<(), Msg> {
    if name.is_empty() || split(name, b'=').is_some() {
        return Err(msg!("is not a variable name"));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
