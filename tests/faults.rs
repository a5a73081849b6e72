//! Fault injection: the test harness (never proctor) installs a seccomp
//! filter that makes chosen system calls fail, then execs proctor under it.
//! Whatever fails, proctor falls back or ends with a clear 125 message and
//! a report; it never hangs (run_cmd's limit) or crashes.
//!
//! The filter is installed by this test binary itself, re-executed as
//! `faults --fault-filter HEX PROCTOR ARGS…` in place of proctor inside
//! the throwaway PID namespace of tests/common: an `.init_array` hook runs
//! before the test harness, installs the filter and execs proctor, which
//! thus stays PID 1 (or the subreaper) exactly as in every other test.
mod common;
use common::*;

use libc::{c_char, c_int, sock_filter};
use std::ffi::CStr;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7;

/// Which calls of a system call fail.
#[derive(Clone, Copy)]
enum When {
    Always,
    /// The low 32 bits of argument `n` have one of these bits set.
    ArgHas(u32, u32),
}

/// Make system call `nr` answer `errno` (when `when` holds).
#[derive(Clone, Copy)]
struct Fault {
    nr: libc::c_long,
    when: When,
    errno: c_int,
}

fn fail(nr: libc::c_long, errno: c_int) -> Fault {
    Fault {
        nr,
        when: When::Always,
        errno,
    }
}

/// The classic BPF program: other architectures and other calls are allowed.
fn program(faults: &[Fault]) -> Vec<sock_filter> {
    const LD_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
    const JEQ: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
    const JSET: u16 = (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16;
    const RET: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
    let op = |code, jt, jf, k| sock_filter { code, jt, jf, k };
    let mut p = vec![
        op(LD_ABS, 0, 0, 4), // seccomp_data.arch
        op(JEQ, 1, 0, AUDIT_ARCH),
        op(RET, 0, 0, libc::SECCOMP_RET_ALLOW),
    ];
    for f in faults {
        let errno = op(RET, 0, 0, libc::SECCOMP_RET_ERRNO | f.errno as u32);
        p.push(op(LD_ABS, 0, 0, 0)); // seccomp_data.nr
        match f.when {
            When::Always => p.extend([op(JEQ, 0, 1, f.nr as u32), errno]),
            When::ArgHas(n, bits) => p.extend([
                op(JEQ, 0, 3, f.nr as u32),
                op(LD_ABS, 0, 0, 16 + 8 * n), // low word of seccomp_data.args[n]
                op(JSET, 0, 1, bits),
                errno,
            ]),
        }
    }
    p.push(op(RET, 0, 0, libc::SECCOMP_RET_ALLOW));
    p
}

fn hex(p: &[sock_filter]) -> String {
    p.iter()
        .map(|i| format!("{:04x}{:02x}{:02x}{:08x}", i.code, i.jt, i.jf, i.k))
        .collect()
}

fn unhex(s: &[u8]) -> Option<Vec<sock_filter>> {
    let num = |b: &[u8]| u32::from_str_radix(std::str::from_utf8(b).ok()?, 16).ok();
    s.chunks(16)
        .map(|c| {
            (c.len() == 16).then_some(())?;
            Some(sock_filter {
                code: num(&c[..4])? as u16,
                jt: num(&c[4..6])? as u8,
                jf: num(&c[6..8])? as u8,
                k: num(&c[8..])?,
            })
        })
        .collect()
}

/// Runs before the test harness: `--fault-filter HEX PROGRAM ARGS…`
/// installs the filter and execs PROGRAM; any other command line is a test run.
#[used]
#[link_section = ".init_array"]
static FAULT_HELPER: extern "C" fn(c_int, *const *const c_char, *const *const c_char) = helper;

extern "C" fn helper(argc: c_int, argv: *const *const c_char, _envp: *const *const c_char) {
    // SAFETY: glibc passes the process's argc/argv/envp to .init_array functions.
    let arg = |i: usize| unsafe { CStr::from_ptr(*argv.add(i)) };
    if argc < 4 || arg(1) != c"--fault-filter" {
        return;
    }
    let Some(prog) = unhex(arg(2).to_bytes()) else {
        // SAFETY: _exit has no preconditions.
        unsafe { libc::_exit(120) }
    };
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_ptr() as *mut sock_filter,
    };
    // SAFETY: plain prctl/seccomp calls with a valid program; execve gets
    // the process's own null-terminated argv tail and envp.
    unsafe {
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        let on = libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &fprog as *const libc::sock_fprog,
        );
        if on == 0 {
            libc::execvp(*argv.add(3), argv.add(3));
        }
        libc::_exit(121)
    }
}

/// Proctor with `args` in `mode`, under a filter that injects `faults`.
fn command_with(mode: Mode, faults: &[Fault], args: &[&str]) -> Command {
    let me = std::env::current_exe().expect("test binary");
    let filter = hex(&program(faults));
    wrapped(
        mode,
        &[me.as_os_str(), "--fault-filter".as_ref(), filter.as_ref()],
        args,
    )
}

fn run_with(mode: Mode, faults: &[Fault], args: &[&str]) -> Output {
    run_cmd(command_with(mode, faults, args), Duration::from_secs(60))
}

fn report(path: &Path) -> serde_json::Value {
    let text = std::fs::read(path).expect("the report was written");
    serde_json::from_slice(&text).expect("the report is JSON")
}

fn ready() -> bool {
    require("unshare", "runs proctor in a throwaway PID namespace") && require_root()
}

/// The calls of kernels newer than the 4.18 minimum, answering `errno`:
/// ENOSYS as on 4.18, or EPERM as under Docker 20.10's seccomp profile
/// (which answers ENOSYS for clone3, so that libc falls back to clone).
fn newer_syscalls(errno: c_int) -> Vec<Fault> {
    let mut faults = vec![fail(libc::SYS_clone3, libc::ENOSYS)];
    faults.extend(
        [
            libc::SYS_close_range,
            libc::SYS_openat2,
            libc::SYS_open_tree,
            libc::SYS_move_mount,
            libc::SYS_mount_setattr,
            libc::SYS_fsopen,
            libc::SYS_fsconfig,
            libc::SYS_fsmount,
            libc::SYS_pidfd_open,
            libc::SYS_pidfd_send_signal,
        ]
        .into_iter()
        .map(|nr| fail(nr, errno)),
    );
    faults
}

#[test]
fn newer_syscalls_missing_fall_back() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let r = format!("{d}/r.json");
    std::fs::create_dir(format!("{d}/src")).unwrap();
    std::fs::write(format!("{d}/src/f"), "hello\n").unwrap();
    std::fs::create_dir(format!("{d}/ro")).unwrap();
    // Every mount kind, each through the fallback when the new mount API is missing.
    let bind = format!("{d}/src:{d}/dst");
    let tmpfs = format!("{d}/tmp");
    let ro = format!("{d}/ro");
    let script = format!(
        "ls /proc/self/fd; cat {d}/dst/f; touch {d}/dst/x 2>/dev/null && echo bind-writable; \
         touch {d}/tmp/y && echo tmpfs-ok; touch {d}/ro/z 2>/dev/null && echo ro-writable; exit 3"
    );
    // A descriptor proctor inherits without close-on-exec: it must not reach the command.
    let leak = std::fs::File::open("/dev/null").unwrap();
    let leak_fd = std::os::fd::AsRawFd::as_raw_fd(&leak);
    for mode in MODES {
        for faults in [newer_syscalls(libc::ENOSYS), newer_syscalls(libc::EPERM)] {
            let mut cmd = command_with(
                mode,
                &faults,
                &[
                    "--report", &r, "--bind", &bind, "--tmpfs", &tmpfs, "--ro", &ro, "--", "sh",
                    "-c", &script,
                ],
            );
            // SAFETY: dup2 is async-signal-safe.
            unsafe {
                cmd.pre_exec(move || {
                    libc::dup2(leak_fd, 9);
                    Ok(())
                });
            }
            let out = run_cmd(cmd, Duration::from_secs(60));
            assert_eq!(code(&out), 3, "{mode:?}: {}", stderr(&out));
            let words: Vec<String> = stdout(&out).split_whitespace().map(String::from).collect();
            assert!(
                !words.contains(&"9".to_string()),
                "{mode:?}: fd 9 leaked: {words:?}"
            );
            for (word, expected) in [
                ("hello", true),
                ("tmpfs-ok", true),
                ("bind-writable", false),
                ("ro-writable", false),
            ] {
                assert_eq!(
                    words.contains(&word.to_string()),
                    expected,
                    "{mode:?}: {words:?}"
                );
            }
            assert_eq!(report(Path::new(&r))["status"], "exited");
        }
    }
}

/// Run proctor with `--report R` and `args` under `faults` in both modes:
/// each run is a setup error (125, one line on stderr, report status
/// `setup_error`, no usage figures) whose message contains `message`.
fn assert_setup_error(faults: &[Fault], args: &[&str], message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("r.json");
    for mode in MODES {
        let mut all = vec!["--report", r.to_str().unwrap()];
        all.extend(args);
        let out = run_with(mode, faults, &all);
        let err = stderr(&out);
        assert_eq!(code(&out), 125, "{mode:?}: {err}");
        assert!(err.contains(message), "{mode:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{mode:?}: {err}");
        let rep = report(&r);
        assert_eq!(rep["status"], "setup_error", "{mode:?}");
        assert_eq!(rep["exit_code"], 125, "{mode:?}");
        assert!(rep["message"].as_str().unwrap().contains(message), "{rep}");
        assert!(rep["wall_ms"].is_null(), "{mode:?}: the command never ran");
    }
}

#[test]
fn fork_failure_is_a_setup_error() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let touch = format!("touch {}", marker.display());
    let faults = [
        fail(libc::SYS_clone, libc::EAGAIN),
        fail(libc::SYS_clone3, libc::EAGAIN),
    ];
    assert_setup_error(&faults, &["sh", "-c", &touch], "fork: EAGAIN");
    assert!(!marker.exists(), "the command never runs");
}

#[test]
fn no_pipe_is_a_setup_error() {
    if !ready() {
        return;
    }
    assert_setup_error(
        &[fail(libc::SYS_pipe2, libc::EMFILE)],
        &["true"],
        "pipe: EMFILE",
    );
}

#[test]
fn no_descriptors_at_start_is_a_clear_125() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("r.json");
    for mode in MODES {
        let out = run_with(
            mode,
            &[fail(libc::SYS_openat, libc::EMFILE)],
            &["--report", r.to_str().unwrap(), "true"],
        );
        assert_eq!(code(&out), 125, "{mode:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("--report") && err.contains("EMFILE"),
            "{mode:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(!r.exists(), "no directory, no report");
    }
}

#[test]
fn a_report_that_cannot_be_created_is_logged_and_the_status_kept() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("r.json");
    // Only creating files fails: the command (and its loader) open nothing with O_CREAT.
    let creat = Fault {
        nr: libc::SYS_openat,
        when: When::ArgHas(2, libc::O_CREAT as u32),
        errno: libc::EMFILE,
    };
    for mode in MODES {
        let out = run_with(
            mode,
            &[creat],
            &["--report", r.to_str().unwrap(), "sh", "-c", "exit 3"],
        );
        assert_eq!(code(&out), 3, "{mode:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("report: r.json: EMFILE"),
            "{mode:?}: {}",
            stderr(&out)
        );
        assert!(!r.exists());
    }
}

/// Many variables, so that proctor's first heap (16 KiB in .bss) is not enough.
fn big_environment(cmd: &mut Command) {
    for i in 0..5000 {
        cmd.env(format!("FILLER_{i}"), "x");
    }
}

#[test]
fn out_of_memory_is_a_clear_125() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("r.json");
    for mode in MODES {
        let mut cmd = command_with(
            mode,
            &[
                fail(libc::SYS_mmap, libc::ENOMEM),
                fail(libc::SYS_brk, libc::ENOMEM),
            ],
            &["--report", r.to_str().unwrap(), "true"],
        );
        big_environment(&mut cmd);
        let out = run_cmd(cmd, Duration::from_secs(60));
        assert_eq!(code(&out), 125, "{mode:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("out of memory"),
            "{mode:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn a_normal_run_needs_no_memory_from_the_kernel() {
    if !ready() {
        return;
    }
    // The command is proctor itself (static, no libc): nothing in the run maps memory.
    let me = proctor();
    let me = me.to_str().unwrap();
    for mode in MODES {
        let faults = [
            fail(libc::SYS_mmap, libc::ENOMEM),
            fail(libc::SYS_brk, libc::ENOMEM),
        ];
        let out = run_with(mode, &faults, &["--seccomp", "none", me, "--version"]);
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert!(stdout(&out).starts_with("proctor "), "{mode:?}");
    }
}

#[test]
fn the_filter_of_this_harness_works() {
    if !ready() {
        return;
    }
    // The injection itself, checked on a plain shell (not proctor): an
    // unrelated fault changes nothing, a refused execve is seen.
    let status = Command::new(std::env::current_exe().unwrap())
        .arg("--fault-filter")
        .arg(hex(&program(&[fail(libc::SYS_getppid, libc::EPERM)])))
        .args(["sh", "-c", "exit 4"])
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(4));
    let refused = Command::new(std::env::current_exe().unwrap())
        .arg("--fault-filter")
        .arg(hex(&program(&[fail(libc::SYS_execve, libc::EPERM)])))
        .args(["sh", "-c", "exit 4"])
        .status()
        .unwrap();
    assert_eq!(refused.code(), Some(121), "execve refused by the filter");
}

/// Issue 19: a kernel without Landlock (`ENOSYS`; `EOPNOTSUPP` when it is
/// built but disabled at boot) answers `landlock_create_ruleset`: proctor,
/// as uid 1000 without capabilities, refuses `--landlock` and `--no-tcp`
/// with 125 and one line naming Landlock; the command never runs.
#[test]
fn a_kernel_without_landlock_is_a_125_naming_it() {
    if !ready() || !require("setpriv", "runs proctor as uid 1000") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let r = dir.path().join("r.json");
    let me = std::env::current_exe().expect("test binary");
    for errno in [libc::ENOSYS, libc::EOPNOTSUPP] {
        let filter = hex(&program(&[fail(libc::SYS_landlock_create_ruleset, errno)]));
        let mut wrapper: Vec<&std::ffi::OsStr> = AS_UID_1000.iter().map(|s| s.as_ref()).collect();
        wrapper.extend([me.as_os_str(), "--fault-filter".as_ref(), filter.as_ref()]);
        for mode in MODES {
            for option in ["--landlock", "--no-tcp"] {
                let args = ["--report", r.to_str().unwrap(), option, "echo", "RAN"];
                let out = run_cmd(wrapped(mode, &wrapper, &args), Duration::from_secs(60));
                let err = stderr(&out);
                assert_eq!(code(&out), 125, "{mode:?} {option}: {err}");
                assert_eq!(err.lines().count(), 1, "{mode:?} {option}: {err}");
                assert!(
                    err.starts_with(&format!("proctor: {option}: the kernel offers no Landlock")),
                    "{mode:?} {option}: {err}"
                );
                assert!(
                    !stdout(&out).contains("RAN"),
                    "{mode:?} {option}: the command ran"
                );
                let rep = report(&r);
                assert_eq!(rep["status"], "setup_error", "{mode:?} {option}");
                assert!(
                    rep["message"].as_str().unwrap().contains("Landlock"),
                    "{rep}"
                );
            }
        }
    }
    // Without openat2 (ENOSYS, or EPERM from a seccomp profile), --writable
    // is resolved by the component walk: still writable, symlinks still refused.
    let w = dir.path().join("w");
    std::fs::create_dir(&w).unwrap();
    std::fs::set_permissions(&w, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    std::os::unix::fs::symlink(&w, dir.path().join("link")).unwrap();
    let (w, link) = (w.to_str().unwrap(), dir.path().join("link/x"));
    let write = format!("echo ok > {w}/f && cat {w}/f");
    for errno in [libc::ENOSYS, libc::EPERM] {
        let filter = hex(&program(&[fail(libc::SYS_openat2, errno)]));
        let mut wrapper: Vec<&std::ffi::OsStr> = AS_UID_1000.iter().map(|s| s.as_ref()).collect();
        wrapper.extend([me.as_os_str(), "--fault-filter".as_ref(), filter.as_ref()]);
        for mode in MODES {
            let args = ["--landlock", "--writable", w, "sh", "-c", &write];
            let out = run_cmd(wrapped(mode, &wrapper, &args), Duration::from_secs(60));
            assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
            assert_eq!(stdout(&out), "ok\n");
            let args = ["--landlock", "--writable", link.to_str().unwrap(), "true"];
            let out = run_cmd(wrapped(mode, &wrapper, &args), Duration::from_secs(60));
            assert_eq!(code(&out), 125, "{mode:?}");
            assert!(
                stderr(&out).contains("link: is a symbolic link"),
                "{}",
                stderr(&out)
            );
        }
    }
}

/// `--pid-ns` where the runtime refuses what it needs: the PID namespace
/// (`clone(CLONE_NEWPID)`), or the inner init's fresh /proc (a seccomp or
/// AppArmor profile refusing the mount). 125 naming the step, before the
/// command runs.
#[test]
fn pid_ns_refused_is_a_setup_error() {
    if !ready() {
        return;
    }
    const CLONE_NEWPID: u32 = libc::CLONE_NEWPID as u32;
    const MS_NOEXEC: u32 = libc::MS_NOEXEC as u32;
    let new_pid_ns = Fault {
        nr: libc::SYS_clone,
        when: When::ArgHas(0, CLONE_NEWPID),
        errno: libc::EPERM,
    };
    assert_setup_error(
        &[new_pid_ns],
        &["--pid-ns", "true"],
        "--pid-ns: clone(CLONE_NEWPID): needs CAP_SYS_ADMIN (and, on AppArmor hosts, apparmor=unconfined): EPERM",
    );
    // Only the fresh /proc is mounted noexec (before its knobs' remounts).
    let proc = Fault {
        nr: libc::SYS_mount,
        when: When::ArgHas(3, MS_NOEXEC),
        errno: libc::EACCES,
    };
    assert_setup_error(
        &[proc],
        &["--pid-ns", "true"],
        "--pid-ns: /proc: needs CAP_SYS_ADMIN (and, on AppArmor hosts, apparmor=unconfined): EACCES",
    );
}
