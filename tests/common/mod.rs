//! Helpers shared by the integration tests: where the binary is, how to run
//! it as PID 1 of a throwaway PID namespace or as a plain subreaper, the rule
//! for missing tools (fail under CI=true, skip visibly with a reason
//! locally), the strict report reader, refusals, fault injection
//! ([`fault`]) and Docker runs ([`docker`]). tests/README.md says which file
//! a new test goes in.
#![allow(dead_code, unused_imports, unused_macros)]

pub mod docker;
pub mod fault;
mod report;
pub use report::{parse_report, report};

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// The proctor binary cargo built for these tests.
pub fn proctor() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_proctor"))
}

/// The repository's top directory.
pub fn repo() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Whether we run in CI, where a missing tool is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Skip the calling test because `reason` (a missing tool, file or
/// privilege): under CI=true this fails the test; otherwise one
/// `SKIPPED test: reason` line goes straight to stderr, where libtest's
/// capture of passing tests cannot hide it. Use it through [`skip!`] or
/// [`skip_unless!`], which also return from the test.
pub fn skipped(reason: &str) {
    assert!(!in_ci(), "CI=true and {reason}; run tests/setup.sh");
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {reason} (run tests/setup.sh; with CI=true this fails)"
    );
}

/// `skip!("no kernel at {}", path)`: skip the calling test (see [`skipped`]) and return.
macro_rules! skip {
    ($($why:tt)+) => {{
        $crate::common::skipped(&format!($($why)+));
        return;
    }};
}
pub(crate) use skip;

/// `skip_unless!(ready(), tool("strace", "why"))`: skip the calling test (and
/// return) with the reason of the first requirement that is not met.
macro_rules! skip_unless {
    ($($need:expr),+ $(,)?) => {
        $(if let Err(why) = $need {
            $crate::common::skipped(&why);
            return;
        })+
    };
}
pub(crate) use skip_unless;

/// `tool` is on PATH, or why the test cannot run (`why`: what it is for).
pub fn tool(tool: &str, why: &str) -> Result<(), String> {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        Ok(())
    } else {
        Err(format!("{tool} not found ({why})"))
    }
}

/// We are root (namespaces, mounts and ids need it), or why not.
pub fn root() -> Result<(), String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        Ok(())
    } else {
        Err("needs root".into())
    }
}

/// The same rule as a plain call, for helpers that return early themselves:
/// [`skipped`] with `reason`. Tests use [`skip!`] instead.
pub fn missing(reason: &str) {
    skipped(reason);
}

/// `true` if `tool` is on PATH, else [`skipped`] and `false` (prefer
/// `skip_unless!(tool(…))` in a test).
pub fn require(tool: &str, why: &str) -> bool {
    self::tool(tool, why).map_err(|e| skipped(&e)).is_ok()
}

/// `true` as root, else [`skipped`] and `false` (prefer `skip_unless!(root())`).
pub fn require_root() -> bool {
    root().map_err(|e| skipped(&e)).is_ok()
}

/// What every test that runs proctor through [`command`] needs: root and
/// `unshare` (for the throwaway PID namespace).
pub fn ready() -> Result<(), String> {
    tool(
        "unshare",
        "runs proctor as PID 1 of a throwaway PID namespace",
    )?;
    root()
}

/// `unshare` ready to run a program as PID 1 of a throwaway PID namespace
/// (with its own /proc), killed with the test if it outlives it.
pub fn throwaway_pid_namespace() -> Command {
    let mut c = Command::new("unshare");
    c.args(["--pid", "--fork", "--mount-proc", "--kill-child"]);
    c
}

/// How proctor is started by a test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// PID 1 of a fresh PID namespace (`unshare --pid --fork --mount-proc`).
    Pid1,
    /// A plain child subreaper, itself under a throwaway PID 1 so that a bug
    /// that signals -1 cannot hit the machine (see NOTES).
    Subreaper,
}

pub const MODES: [Mode; 2] = [Mode::Pid1, Mode::Subreaper];

/// A command line that runs proctor with `args` in `mode`.
pub fn command(mode: Mode, args: &[&str]) -> Command {
    let mut c = throwaway_pid_namespace();
    match mode {
        Mode::Pid1 => {
            c.arg(proctor());
        }
        // A busybox-free way to stay PID 1 while proctor runs as its child:
        // the shell waits for proctor and exits with its status.
        Mode::Subreaper => {
            c.args(["sh", "-c", "\"$0\" \"$@\"; exit $?"]);
            c.arg(proctor());
        }
    }
    c.args(args);
    c
}

/// As [`command`], with `wrapper` (e.g. `prlimit --nofile=8`) exec'ing proctor,
/// so that only proctor (and what it starts) is affected, not the namespace's setup.
pub fn wrapped(mode: Mode, wrapper: &[&std::ffi::OsStr], args: &[&str]) -> Command {
    let base = command(mode, args);
    let mut c = Command::new(base.get_program());
    let mut at_proctor = base.get_args().position(|a| a == proctor().as_os_str());
    for (i, a) in base.get_args().enumerate() {
        if at_proctor == Some(i) {
            c.args(wrapper);
            at_proctor = None;
        }
        c.arg(a);
    }
    c
}

/// Run proctor with `args` in `mode`, with a time limit, and collect its output.
pub fn run(mode: Mode, args: &[&str]) -> Output {
    run_cmd(command(mode, args), Duration::from_secs(60))
}

/// Run a prepared command, killing it if it outlives `limit`.
pub fn run_cmd(mut cmd: Command, limit: Duration) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawn");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            // SAFETY: kill has no memory preconditions.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("command hung for more than {limit:?}: {cmd:?}");
        }
    }
}

/// The exit code, with 128+N for a signal, as a shell would show it.
pub fn code(out: &Output) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    out.status
        .code()
        .unwrap_or_else(|| 128 + out.status.signal().unwrap_or(0))
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A value of the command's `/proc/self/status` line `key`, read by `sh`.
pub fn status_line(out: &str, key: &str) -> Option<String> {
    out.lines().find_map(|l| {
        l.strip_prefix(&format!("{key}:"))
            .map(|v| v.trim().to_string())
    })
}

/// Like [`run_cmd`], but feeds `input` to proctor's stdin (from a thread, so
/// a command that writes before it reads cannot deadlock).
pub fn run_input(mut cmd: Command, input: Vec<u8>, limit: Duration) -> Output {
    use std::io::Write;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(limit) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            // SAFETY: kill has no memory preconditions.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("command hung for more than {limit:?}: {cmd:?}");
        }
    };
    let _ = writer.join();
    out
}

/// proctor as a plain subreaper (as in [`Mode::Subreaper`]), followed by the
/// shell code `after`, run by the namespace's PID 1 once proctor has exited
/// (`$rc` holds proctor's status, which stays the exit status): to see what
/// proctor left behind before the namespace is torn down.
pub fn subreaper_then(after: &str, args: &[&str]) -> Command {
    let mut c = throwaway_pid_namespace();
    c.args(["sh", "-c"]);
    c.arg(format!("\"$0\" \"$@\"; rc=$?; {after}; exit $rc"));
    c.arg(proctor());
    c.args(args);
    c
}

/// Make `cmd` start without `caps` (capability numbers): they are dropped
/// from the bounding set just before `exec`, so the root that runs `cmd`
/// (and proctor under it) no longer gets them.
pub fn without_caps(cmd: &mut Command, caps: &'static [u32]) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe; the closure allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            for &cap in caps {
                if libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

/// proctor as PID 1 and a session leader that makes its stdin terminal its
/// controlling terminal (`setsid -c`), as under `docker run -t`.
pub fn pid1_session(args: &[&str]) -> Command {
    let mut c = throwaway_pid_namespace();
    c.args(["setsid", "-c"]);
    c.arg(proctor());
    c.args(args);
    c
}

/// A refusal: proctor exited with `code` after one line on stderr,
/// `proctor: …`, that contains every one of `needles`, and wrote nothing on
/// stdout. Returns that line, for further checks.
#[track_caller]
pub fn assert_refused(out: &Output, code: i32, needles: &[&str]) -> String {
    let err = stderr(out);
    assert_eq!(self::code(out), code, "exit status; stderr: {err}");
    assert!(
        err.starts_with("proctor: ") && err.ends_with('\n') && err.lines().count() == 1,
        "one `proctor: ` line on stderr: {err:?}"
    );
    for needle in needles {
        assert!(err.contains(needle), "{needle:?} not in {err:?}");
    }
    assert_eq!(stdout(out), "", "nothing on stdout; stderr: {err}");
    err
}

/// Run `cmd` in a session of its own whose stdin is a fresh pseudo-terminal
/// (no controlling terminal yet: `setsid -c` in [`pid1_session`] takes it).
pub fn run_on_terminal(mut cmd: Command) -> Output {
    use std::os::unix::process::CommandExt;
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors; no name, termios or size given.
    let r = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(r, 0, "openpty");
    for fd in [master, slave] {
        // SAFETY: plain fcntl: no other test's child inherits the pair.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    // SAFETY: setsid and dup2 are async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            // A session of our own, without a terminal, and the pty as stdin.
            libc::setsid();
            if libc::dup2(slave, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = run_cmd(cmd, Duration::from_secs(60));
    // SAFETY: closing our own descriptors after the run.
    unsafe {
        libc::close(slave);
        libc::close(master);
    }
    out
}

/// `setpriv` arguments that run what follows as uid and gid 1000, with no
/// groups and no capability at all (as `docker run --cap-drop ALL --user 1000`).
pub const AS_UID_1000: [&str; 7] = [
    "setpriv",
    "--reuid=1000",
    "--regid=1000",
    "--clear-groups",
    "--inh-caps=-all",
    "--bounding-set=-all",
    "--",
];

/// Compile the C program `source` once per test binary into
/// `CARGO_TARGET_TMPDIR/name` with gcc and `flags` (`-static` for a program
/// that must run in any view); its path, or why not (skip) without gcc.
pub fn compile_c(
    once: &'static std::sync::OnceLock<Result<String, String>>,
    name: &str,
    source: &str,
    flags: &[&str],
) -> Result<&'static str, String> {
    once.get_or_init(|| {
        tool("gcc", "compiles the test's C program")?;
        let dir = env!("CARGO_TARGET_TMPDIR");
        let src = format!("{dir}/{name}.c");
        let bin = format!("{dir}/{name}");
        std::fs::write(&src, source).unwrap();
        let out = Command::new("gcc")
            .args(flags)
            .args(["-O1", "-o", &bin, &src])
            .output()
            .unwrap();
        assert!(out.status.success(), "gcc: {}", stderr(&out));
        Ok(bin)
    })
    .as_deref()
    .map_err(String::clone)
}

/// A probe's `name=number` lines on stdout (errnos, by convention), by name.
pub fn name_numbers(out: &Output) -> std::collections::BTreeMap<String, i32> {
    stdout(out)
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('=').expect("name=number");
            (k.to_string(), v.parse().expect("a number"))
        })
        .collect()
}

/// `text` holds a command's `CapEff` and `Seccomp` lines from
/// `/proc/self/status`: it kept capabilities, under seccomp mode `seccomp`.
pub fn assert_caps_kept(text: &str, seccomp: &str) {
    assert_ne!(
        status_line(text, "CapEff").as_deref(),
        Some("0000000000000000"),
        "{text}"
    );
    assert_eq!(
        status_line(text, "Seccomp").as_deref(),
        Some(seccomp),
        "{text}"
    );
}

/// Start `cmd` with SIGTERM ignored (inherited through proctor by the
/// command): a helper can never die of a TERM that arrives before its own
/// handler is installed.
pub fn ignoring_term(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: signal is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGTERM, libc::SIG_IGN);
            Ok(())
        });
    }
}
