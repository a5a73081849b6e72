//! Hostile commands against proctor itself (issue 12): each test runs an
//! attack that got through 0.1 (a small static C program built here, or a
//! shell script) against the real binary, as PID 1 and as a subreaper.
mod common;
mod vmkit;
use common::*;

use std::ffi::OsStr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const HOSTILE: &str = r#"
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static void show(const char *name, long r) { printf("%s=%d\n", name, r < 0 ? errno : 0); fflush(stdout); }
static volatile sig_atomic_t got;
static void note(int sig) { (void)sig; got++; }

int main(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "";
    if (!strcmp(what, "inject") && argc > 2) {
        /* Type argv[2] into the controlling terminal, as if the user had. */
        int err = 0;
        for (const char *p = argv[2]; *p; p++)
            if (ioctl(0, TIOCSTI, p) < 0) { err = errno; break; }
        fprintf(stderr, "inject=%d\n", err);
        return 0;
    }
    if (!strcmp(what, "probe")) {
        char c = 0;
        long s;
        errno = 0; show("tiocsti", syscall(SYS_ioctl, 0, TIOCSTI, &c));
        errno = 0; show("tiocsti_high", syscall(SYS_ioctl, 0, 0x100000000UL | TIOCSTI, &c));
        errno = 0; show("tioclinux", syscall(SYS_ioctl, 0, TIOCLINUX, &c));
        errno = 0; show("tcgets", syscall(SYS_ioctl, 0, 0x5401, &c) < 0 && errno == ENOTTY ? 0 : -1);
        errno = 0; s = syscall(SYS_socket, AF_VSOCK, SOCK_STREAM, 0); show("vsock", s); if (s >= 0) close(s);
        errno = 0; s = syscall(SYS_socket, 0x100000000UL | AF_VSOCK, SOCK_STREAM, 0); show("vsock_high", s); if (s >= 0) close(s);
        errno = 0; s = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0); show("unix", s); if (s >= 0) close(s);
        errno = 0; show("personality_query", syscall(SYS_personality, 0xffffffffUL));
        errno = 0; show("personality_uname26", syscall(SYS_personality, 0x0008));
        errno = 0; show("personality_read_implies_exec", syscall(SYS_personality, 0x0400000));
        errno = 0; show("personality_no_randomize", syscall(SYS_personality, 0x0040000));
        syscall(SYS_personality, 0);
#ifdef SYS_modify_ldt
        char ldt[16];
        errno = 0; show("modify_ldt", syscall(SYS_modify_ldt, 0, ldt, sizeof ldt));
#endif
        return 0;
    }
    if (!strcmp(what, "flood")) {
        /* Keep proctor busy with signals it forwards back to us: a
           real-time one queues, so a backlog builds up however fast
           proctor reads them. */
        signal(SIGUSR1, SIG_IGN); signal(SIGRTMIN + 1, SIG_IGN); signal(SIGTERM, SIG_IGN);
        pid_t p = getppid();
        if (fork() < 0) return 3;
        for (;;) { kill(p, SIGRTMIN + 1); kill(p, SIGUSR1); }
    }
    if (!strcmp(what, "chain")) {
        /* Fork, let the parent exit, again and again: always a new pid. */
        for (;;) {
            pid_t c = fork();
            if (c > 0) _exit(0);
            if (c == 0) setsid();
        }
    }
    if (!strcmp(what, "traceme")) {
        /* proctor becomes our tracer: every signal now stops us for it. */
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0) return 10;
        signal(SIGUSR1, note);
        raise(SIGUSR1);
        raise(SIGUSR1);
        if (got != 2) return 11;
        if (argc > 2) { execv(argv[2], argv + 2); return 12; }
        return 0;
    }
    if (!strcmp(what, "autoload")) {
        /* Protocol families nobody loaded: the kernel asks modprobe for them. */
        for (int f = 3; f < 46; f++) { int s = socket(f, SOCK_DGRAM, 0); if (s >= 0) close(s); }
        return 0;
    }
    if (!strcmp(what, "debugger")) {
        /* A debugger inside the grader: trace a child, continue it, see it exit. */
        pid_t c = fork();
        if (c == 0) { ptrace(PTRACE_TRACEME, 0, 0, 0); raise(SIGSTOP); _exit(7); }
        int st;
        if (waitpid(c, &st, 0) != c || !WIFSTOPPED(st)) return 20;
        if (ptrace(PTRACE_CONT, c, 0, 0) < 0) return 21;
        if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 7) return 22;
        puts("debugger=ok");
        return 0;
    }
    return 2;
}
"#;

/// The hostile program, compiled once (static, so it runs in any view).
fn hostile() -> Result<&'static str, String> {
    static ONCE: OnceLock<Result<String, String>> = OnceLock::new();
    compile_c(&ONCE, "hardening-hostile", HOSTILE, &["-static"])
}

/// A scratch directory anyone may write to, like a Kubernetes emptyDir.
fn open_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

// ---- 1. A forged report -------------------------------------------------

/// What the command does to the report's directory `$1` before it exits 3.
const FORGERIES: [(&str, &str); 5] = [
    // A fake report, and a directory at 0.1's fixed temporary name.
    (
        "forged file, temporary name blocked",
        r#"echo '{"status":"exited","exit_code":0}' > "$1/report.json"; mkdir "$1/.report.json.proctor-tmp""#,
    ),
    // A FIFO with no reader: writing in place fails with ENXIO.
    ("FIFO planted", r#"mkfifo "$1/report.json""#),
    // A directory with content: no file can be renamed over it.
    (
        "directory planted",
        r#"mkdir -p "$1/report.json/x" && echo '{"exit_code":0}' > "$1/report.json/x/y""#,
    ),
    ("empty directory planted", r#"mkdir "$1/report.json""#),
    // A symlink out of the directory: never followed.
    (
        "symlink planted",
        r#"ln -s "$1/elsewhere" "$1/report.json"; echo keep > "$1/elsewhere""#,
    ),
];

#[test]
fn a_command_that_can_write_the_directory_cannot_forge_or_hide_the_report() {
    skip_unless!(ready(), hostile());
    for mode in MODES {
        for (what, script) in FORGERIES {
            let dir = open_dir();
            let d = dir.path().to_str().unwrap();
            let path = dir.path().join("report.json");
            let rep = path.to_str().unwrap();
            let script = format!("{script}; exit 3");
            let args = [
                "--user", "65534", "--report", rep, "--", "sh", "-c", &script, "sh", d,
            ];
            let out = run(mode, &args);
            let err = stderr(&out);
            assert_eq!(code(&out), 3, "{mode:?} {what}: {err}");
            let meta = std::fs::symlink_metadata(&path).unwrap_or_else(|e| {
                panic!("{mode:?} {what}: no report: {e}; {err}");
            });
            assert!(meta.file_type().is_file(), "{mode:?} {what}: {meta:?}");
            let r = report(&path);
            assert_eq!(r["exit_code"], 3, "{mode:?} {what}: {r}");
            assert_eq!(r["status"], "exited", "{mode:?} {what}: {r}");
            assert!(
                err.contains("warning: --report: the command can write to"),
                "{err}"
            );
            if what == "symlink planted" {
                let kept = std::fs::read_to_string(dir.path().join("elsewhere")).unwrap();
                assert_eq!(kept, "keep\n", "{mode:?}: the symlink was followed");
            }
            // No temporary file is left beside it; a planted directory that
            // could not be removed (not empty) was swapped out under one.
            let left: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap())
                .filter(|e| e.file_name().to_string_lossy().starts_with(".proctor"))
                .collect();
            let dirs = left
                .iter()
                .filter(|e| e.file_type().unwrap().is_dir())
                .count();
            let planted_dir = usize::from(what == "directory planted");
            assert_eq!(
                (left.len(), dirs),
                (planted_dir, planted_dir),
                "{mode:?} {what}: {left:?}"
            );
        }
    }
}

#[test]
fn a_report_that_cannot_be_written_leaves_no_forgery_behind() {
    skip_unless!(ready(), hostile());
    // A 256 KiB tmpfs the command fills after forging the report: proctor's
    // own report cannot be written, and the forgery must not stay.
    let out_dir = tempfile::tempdir().unwrap();
    let seen = out_dir.path().join("seen");
    let mnt = out_dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let script = r#"echo '{"status":"exited","exit_code":0}' > "$1/report.json"; cat /dev/zero > "$1/fill" 2>/dev/null; exit 3"#;
    for mode in MODES {
        let mut c = throwaway_pid_namespace();
        let run_proctor = if mode == Mode::Pid1 {
            // PID 1 is the shell; proctor as its child would be a subreaper too,
            // so PID 1 mode runs proctor in a nested namespace of its own.
            r#"unshare --pid --fork --mount-proc --kill-child "$@""#
        } else {
            r#""$@""#
        };
        c.args(["sh", "-c"]);
        c.arg(format!(
            r#"d={mnt} && mount -t tmpfs -o size=256k,mode=0777 none "$d" &&
            {run_proctor} --user 65534 --report "$d/report.json" -- sh -c '{script}' sh "$d"; rc=$?
            ls -A "$d" > {seen}; exit $rc"#,
            mnt = mnt.display(),
            seen = seen.display()
        ));
        c.arg("sh").arg(proctor());
        let out = run_cmd(c, Duration::from_secs(60));
        let err = stderr(&out);
        assert_eq!(code(&out), 3, "{mode:?}: {err}");
        assert!(err.contains("proctor: --report:"), "{mode:?}: {err}");
        let left = std::fs::read_to_string(&seen).unwrap();
        assert_eq!(
            left.trim(),
            "fill",
            "{mode:?}: left in the directory: {left:?}; {err}"
        );
    }
}

#[test]
fn no_warning_when_the_command_cannot_write_the_directory() {
    skip_unless!(ready(), hostile());
    for mode in MODES {
        // Covered with --ro.
        let dir = open_dir();
        let rep = dir.path().join("report.json");
        let d = dir.path().to_str().unwrap();
        let out = run(
            mode,
            &[
                "--user",
                "65534",
                "--ro",
                d,
                "--report",
                rep.to_str().unwrap(),
                "--",
                "true",
            ],
        );
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert!(
            !stderr(&out).contains("warning"),
            "{mode:?}: {}",
            stderr(&out)
        );
        assert_eq!(report(&rep)["exit_code"], 0);
        // A directory only root may write to, and a command that is not root.
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let rep = dir.path().join("report.json");
        let out = run(
            mode,
            &[
                "--user",
                "65534",
                "--report",
                rep.to_str().unwrap(),
                "--",
                "true",
            ],
        );
        assert!(
            !stderr(&out).contains("warning"),
            "{mode:?}: {}",
            stderr(&out)
        );
        // The same directory and a root command that keeps its capabilities.
        let out = run(
            mode,
            &[
                "--keep-caps",
                "--report",
                rep.to_str().unwrap(),
                "--",
                "true",
            ],
        );
        assert!(
            stderr(&out).contains("the command can write to"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn a_fifo_there_at_start_is_written_in_place() {
    skip_unless!(ready(), hostile());
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    for mode in MODES {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("report.fifo");
        assert!(Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        // A reader that is there before proctor writes (O_NONBLOCK: no writer yet).
        let mut reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .unwrap();
        let out = run(
            mode,
            &[
                "--report",
                fifo.to_str().unwrap(),
                "--",
                "sh",
                "-c",
                "exit 4",
            ],
        );
        assert_eq!(code(&out), 4, "{}", stderr(&out));
        let mut got = String::new();
        reader.read_to_string(&mut got).unwrap();
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
        let r = parse_report(&got);
        assert_eq!(r["exit_code"], 4, "{mode:?}: {}", stderr(&out));
    }
}

// ---- 4. Terminal injection ----------------------------------------------

/// A pseudo-terminal pair: (master, slave).
fn openpty() -> (OwnedFd, OwnedFd) {
    // SAFETY: plain libc calls; every descriptor is checked and owned once.
    unsafe {
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        assert!(m >= 0, "posix_openpt");
        assert_eq!(libc::grantpt(m), 0);
        assert_eq!(libc::unlockpt(m), 0);
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(m, name.as_mut_ptr(), name.len()), 0);
        let s = libc::open(
            name.as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        );
        assert!(s >= 0, "open the pty slave");
        (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s))
    }
}

/// A root shell on a terminal runs proctor, which leads the terminal's
/// session; the command pushes `touch MARKER` into the terminal; the shell
/// then goes on reading commands from the terminal. Returns whether the
/// injected line ran, and everything the terminal showed.
fn inject(mode: Mode, opts: &[&str]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("injected");
    let (master, slave) = openpty();
    let session = match mode {
        // unshare's child is PID 1; setsid makes it the session leader and
        // takes the terminal (-c), then becomes proctor.
        Mode::Pid1 => "unshare --pid --fork --mount-proc --kill-child setsid -c \"$@\"",
        Mode::Subreaper => "unshare --pid --fork --mount-proc --kill-child sh -c 'setsid -c \"$@\"; exit $?' sh \"$@\"",
    };
    let script = format!("{session}; echo proctor-done; exec sh");
    let mut c = Command::new("sh");
    c.arg("-c").arg(script).arg("sh").arg(proctor()).args(opts);
    c.args(["--", hostile().expect("the hostile program"), "inject"]);
    c.arg(format!("touch {}\n", marker.display()));
    let fd = |f: &OwnedFd| Stdio::from(f.try_clone().unwrap());
    c.stdin(fd(&slave)).stdout(fd(&slave)).stderr(fd(&slave));
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe. A session of its own without a
    // controlling terminal, so that proctor can take this one.
    unsafe {
        c.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = c.spawn().unwrap();
    drop(slave);
    let (tx, rx) = std::sync::mpsc::channel();
    let mut reader = std::fs::File::from(master.try_clone().unwrap());
    std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut shown = Vec::new();
    let start = Instant::now();
    while !String::from_utf8_lossy(&shown).contains("proctor-done") {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "hung: {}",
            String::from_utf8_lossy(&shown)
        );
        if let Ok(b) = rx.recv_timeout(Duration::from_millis(100)) {
            shown.extend(b);
        }
    }
    // The shell reads what is queued on the terminal first, then this.
    // SAFETY: writing a byte string to the master we own.
    let n = unsafe { libc::write(master.as_raw_fd(), b"exit\n".as_ptr().cast(), 5) };
    assert_eq!(n, 5);
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "the shell did not exit: {}",
                String::from_utf8_lossy(&shown)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
        while let Ok(b) = rx.try_recv() {
            shown.extend(b);
        }
    }
    (
        marker.exists(),
        String::from_utf8_lossy(&shown).into_owned(),
    )
}

#[test]
fn the_command_cannot_type_into_the_callers_terminal() {
    skip_unless!(
        ready(),
        hostile(),
        tool("setsid", "makes proctor a session leader")
    );
    for mode in MODES {
        // Without the filter (and with CAP_SYS_ADMIN, which kernels with
        // dev.tty.legacy_tiocsti=0 require) the attack works: the caller's
        // shell runs the injected line.
        let (ran, shown) = inject(mode, &["--keep-caps", "--seccomp", "none"]);
        assert!(
            ran,
            "{mode:?}: the attack did not work without the filter: {shown}"
        );
        assert!(shown.contains("inject=0"), "{mode:?}: {shown}");
        for opts in [&[][..], &["--keep-caps"][..]] {
            let (ran, shown) = inject(mode, opts);
            assert!(!ran, "{mode:?} {opts:?}: the injected line ran: {shown}");
            assert!(
                shown.contains("inject=1"),
                "{mode:?} {opts:?}: not EPERM: {shown}"
            );
        }
    }
}

// ---- 6. proctor's memory ------------------------------------------------

const SECRET: &str = "wJalrXUtnFEMI-hunter2-secret";
const URI: &str = "/v2/credentials/5ecret-uri";

/// The command reads proctor's /proc entries (its parent is proctor in both modes).
const SNOOP: &str = r#"p=$PPID
echo "environ:$(cat /proc/$p/environ 2>&1 | tr '\0' ' ')"
echo "fd:$(ls /proc/$p/fd 2>&1 | tr '\n' ' ')"
echo "cwd:$(ls /proc/$p/cwd/ 2>&1 | tr '\n' ' ')"
echo "own:$AWS_SESSION_TOKEN"
"#;

fn snoop(mode: Mode, unprivileged: bool, opts: &[&str]) -> String {
    let mut args: Vec<&str> = opts.to_vec();
    args.extend(["--keep-env", "AWS_SESSION_TOKEN", "--", "sh", "-c", SNOOP]);
    let setpriv = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--pdeathsig=KILL",
    ]
    .map(OsStr::new);
    let mut c = if unprivileged {
        wrapped(mode, &setpriv, &args)
    } else {
        command(mode, &args)
    };
    c.env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", URI)
        .env("AWS_SESSION_TOKEN", "kept-token");
    let out = run_cmd(c, Duration::from_secs(60));
    assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
    stdout(&out)
}

#[test]
fn a_same_uid_command_cannot_read_proctors_memory() {
    skip_unless!(
        ready(),
        hostile(),
        tool("setpriv", "runs proctor without privileges")
    );
    for mode in MODES {
        // proctor and the command share uid 65534 and have no capabilities.
        let seen = snoop(mode, true, &[]);
        assert!(
            !seen.contains(SECRET) && !seen.contains(URI),
            "{mode:?}: {seen}"
        );
        let line = |k: &str| {
            seen.lines()
                .find(|l| l.starts_with(k))
                .unwrap_or("")
                .to_string()
        };
        assert!(
            line("environ:").contains("Permission denied"),
            "{mode:?}: {seen}"
        );
        assert!(
            line("fd:").contains("Permission denied"),
            "{mode:?}: {seen}"
        );
        assert!(
            line("cwd:").contains("Permission denied"),
            "{mode:?}: {seen}"
        );
        assert_eq!(line("own:"), "own:kept-token", "{mode:?}: {seen}");
    }
}

#[test]
fn withheld_credentials_are_wiped_from_proctors_memory() {
    skip_unless!(ready(), hostile());
    for mode in MODES {
        // With --keep-caps (CAP_SYS_PTRACE) a root command may read
        // /proc/<proctor>/environ: the names are there, the values are not.
        let seen = snoop(mode, false, &["--keep-caps"]);
        let environ = seen.lines().find(|l| l.starts_with("environ:")).unwrap();
        assert!(
            environ.contains("AWS_SECRET_ACCESS_KEY="),
            "{mode:?}: {seen}"
        );
        assert!(
            !environ.contains(SECRET) && !environ.contains(URI),
            "{mode:?}: {seen}"
        );
        // What --keep-env passes on is left alone.
        assert!(
            environ.contains("AWS_SESSION_TOKEN=kept-token"),
            "{mode:?}: {seen}"
        );
        assert!(seen.contains("own:kept-token"), "{mode:?}: {seen}");
    }
}

// ---- 7. Seccomp gaps ----------------------------------------------------

fn probe(mode: Mode, opts: &[&str]) -> std::collections::BTreeMap<String, i32> {
    let mut args = opts.to_vec();
    args.extend(["--", hostile().expect("the hostile program"), "probe"]);
    let out = run(mode, &args);
    assert_eq!(code(&out), 0, "{mode:?} {opts:?}: {}", stderr(&out));
    name_numbers(&out)
}

#[test]
fn vsock_personality_ldt_and_terminal_ioctls_are_refused() {
    skip_unless!(ready(), hostile());
    for mode in MODES {
        let off = probe(mode, &["--keep-caps", "--seccomp", "none"]);
        let on = probe(mode, &[]);
        // stdin is /dev/null: the terminal ioctls fail otherwise without the filter.
        for name in ["tiocsti", "tiocsti_high", "tioclinux"] {
            assert_eq!(on[name], libc::EPERM, "{mode:?} {name}: {on:?}");
            assert_ne!(off[name], libc::EPERM, "{mode:?} {name}: {off:?}");
        }
        for name in ["vsock", "vsock_high"] {
            assert_eq!(on[name], libc::EAFNOSUPPORT, "{mode:?} {name}: {on:?}");
        }
        for name in ["personality_read_implies_exec", "personality_no_randomize"] {
            assert_eq!(off[name], 0, "{mode:?} {name}: {off:?}");
            assert_eq!(on[name], libc::EPERM, "{mode:?} {name}: {on:?}");
        }
        for name in ["personality_query", "personality_uname26", "unix", "tcgets"] {
            assert_eq!(on[name], 0, "{mode:?} {name} must still work: {on:?}");
        }
        if cfg!(target_arch = "x86_64") {
            assert_eq!(off["modify_ldt"], 0, "{mode:?}: {off:?}");
            assert_eq!(on["modify_ldt"], libc::EPERM, "{mode:?}: {on:?}");
        }
    }
}

#[test]
fn vsock_is_reachable_without_the_filter_where_the_kernel_has_it() {
    skip_unless!(ready(), hostile());
    // The kernel answers EAFNOSUPPORT itself without vsock support: then the
    // test above cannot tell the filter from the kernel, and this one says so.
    let off = probe(Mode::Subreaper, &["--keep-caps", "--seccomp", "none"]);
    if off["vsock"] == libc::EAFNOSUPPORT {
        skip!("a kernel with AF_VSOCK sockets");
    }
    assert_eq!(off["vsock"], 0, "{off:?}");
}

#[test]
fn debuggers_inside_the_grader_keep_working() {
    skip_unless!(ready(), hostile());
    for mode in MODES {
        let out = run(
            mode,
            &["--", hostile().expect("the hostile program"), "debugger"],
        );
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert_eq!(stdout(&out).trim(), "debugger=ok");
    }
}

// ---- 2. Leftovers that outrun the cleanup -------------------------------

#[test]
fn a_fork_and_exit_chain_does_not_outlive_a_subreaper() {
    skip_unless!(ready(), tool("timeout", "bounds each run"));
    // The chain inherits the pipe to `cat`: `cat` sees its end only when
    // proctor and every process of the chain are gone.
    let script = r#"
        for i in $(seq 100); do
            "$0" "$@" | timeout 10 cat > /dev/null
            if [ $? -ne 0 ]; then echo "the chain outlived run $i"; exit 1; fi
        done
        echo "100 runs clean""#;
    let mut c = throwaway_pid_namespace();
    c.args(["sh", "-c", script]).arg(proctor());
    c.args(["--", hostile().unwrap(), "chain"]);
    let out = run_cmd(c, Duration::from_secs(600));
    assert_eq!(stdout(&out).trim(), "100 runs clean", "{}", stderr(&out));
    assert_eq!(code(&out), 0);
}

// ---- 3. A stop read as a death ------------------------------------------

#[test]
fn a_command_that_makes_proctor_its_tracer_is_not_read_as_dead() {
    skip_unless!(ready());
    for mode in MODES {
        let dir = tempfile::tempdir().unwrap();
        let rep = dir.path().join("report.json");
        let rep = rep.to_str().unwrap();
        // Two signals while traced by proctor: each must reach its handler.
        let out = run(
            mode,
            &["--report", rep, "--", hostile().unwrap(), "traceme"],
        );
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        let r = report(Path::new(rep));
        assert_eq!(
            (&r["status"], &r["signal"]),
            (&"exited".into(), &serde_json::Value::Null),
            "{r}"
        );
        // execve while traced: the legacy SIGTRAP of exec is not passed on.
        let args = [
            "--report",
            rep,
            "--",
            hostile().unwrap(),
            "traceme",
            "/bin/sh",
            "-c",
            "exit 5",
        ];
        let out = run(mode, &args);
        assert_eq!(code(&out), 5, "{mode:?}: {}", stderr(&out));
        assert_eq!(report(Path::new(rep))["exit_code"], 5);
    }
}

// ---- 5. A signal flood against the timeout ------------------------------

#[test]
fn a_signal_flood_does_not_starve_the_timeout() {
    skip_unless!(
        ready(),
        tool("setpriv", "runs proctor and the command as one uid")
    );
    // proctor and the command share a uid of their own: the queued signals
    // count against its RLIMIT_SIGPENDING, not root's (whose timers the
    // rest of the machine needs). The uid change clears the parent-death
    // signal: --pdeathsig sets it again, so that a hang ends with the test.
    let uid = [
        "setpriv",
        "--reuid=61212",
        "--regid=61212",
        "--clear-groups",
        "--pdeathsig=KILL",
    ]
    .map(OsStr::new);
    for mode in MODES {
        let dir = open_dir();
        let rep = dir.path().join("report.json");
        let rep = rep.to_str().unwrap();
        // A command with proctor's uid sends it signals without pause and
        // ignores SIGTERM: the timeout's SIGTERM, then SIGKILL, must still come.
        let args = [
            "--timeout",
            "2",
            "--kill-after",
            "1",
            "--report",
            rep,
            "--",
            hostile().unwrap(),
            "flood",
        ];
        let start = Instant::now();
        let out = run_cmd(wrapped(mode, &uid, &args), Duration::from_secs(30));
        let took = start.elapsed();
        assert_eq!(code(&out), 124, "{mode:?}: {}", stderr(&out));
        let r = report(Path::new(rep));
        assert_eq!(
            (&r["status"], &r["signal"]),
            (&"timeout".into(), &9.into()),
            "{r}"
        );
        // About 3 s (2 s, then 1 s more for SIGKILL); the bound only catches a hang.
        assert!(took < Duration::from_secs(15), "{mode:?}: took {took:?}");
    }
}

// ---- In a VM: the kernel's modprobe helper ------------------------------

/// Run as uid 0 without capabilities by proctor, the init of a VM: plant a
/// `/sbin/modprobe` in the initramfs, then ask for protocols nobody loaded.
const AUTOLOAD_GRADER: &str = r#"#!/bin/sh
export PATH=/bin
mkdir -p /sbin
printf '#!/bin/sh\necho "ESCAPED=$(grep CapEff /proc/self/status | cut -f2)" > /dev/console\necho "proctor: exit status 0" > /dev/console\n' > /sbin/modprobe
chmod 755 /sbin/modprobe
/hostile autoload
sleep 1
echo "GRADER_END=1"
exit 3
"#;

#[test]
fn a_vm_command_cannot_run_code_as_the_kernels_modprobe() {
    let kernel = vmkit::cached("cloud/vmlinuz");
    let qemu = vmkit::which("qemu-system-x86_64");
    let (Some(qemu), true, Ok(hostile)) = (qemu, kernel.is_file(), hostile()) else {
        skip!("qemu-system-x86_64, the kernel tests/setup.sh caches, or gcc is missing");
    };
    let dir = tempfile::tempdir().unwrap();
    let initrd = dir.path().join("initramfs.cpio");
    let mut c = vmkit::Cpio::new();
    c.bare_root(&proctor());
    c.busybox(Path::new("/bin/busybox"));
    c.copy("hostile", 0o755, Path::new(hostile));
    c.file("grader.sh", 0o755, AUTOLOAD_GRADER.as_bytes());
    std::fs::write(&initrd, c.finish()).unwrap();
    let append = "console=ttyS0 reboot=t panic=-1 tsc_early_khz=2000000 quiet \
                  -- --reboot --timeout 60 /grader.sh";
    let vm = vmkit::qemu(&qemu, "microvm,acpi=off", &kernel, &initrd, append);
    let b = vmkit::boot(vm, Duration::from_secs(180));
    b.show("modprobe helper");
    assert_eq!(
        b.value("GRADER_END"),
        Some("1"),
        "the grader did not finish"
    );
    assert_eq!(b.value("ESCAPED"), None, "the planted modprobe ran as root");
    assert_eq!(b.last_exit_line(), Some("proctor: exit status 3"));
}
