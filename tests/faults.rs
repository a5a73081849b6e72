//! Fault injection (tests/common/fault.rs): system calls made to fail under
//! proctor, as on an old kernel, under a container's seccomp profile, or
//! when the kernel runs out of something. Whatever fails, proctor falls back
//! or ends with a clear 125 message and a report; it never hangs (run_cmd's
//! limit) or crashes.
mod common;
use common::*;

use common::fault::{fail, fail_all, Fault, When, NEW_MOUNT_API};
use libc::c_int;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The calls of kernels newer than the 4.18 minimum, answering `errno`:
/// ENOSYS as on 4.18, or EPERM as under Docker 20.10's seccomp profile
/// (which answers ENOSYS for clone3, so that libc falls back to clone).
fn newer_syscalls(errno: c_int) -> Vec<Fault> {
    let mut faults = vec![fail(libc::SYS_clone3, libc::ENOSYS)];
    faults.extend(fail_all(&NEW_MOUNT_API, errno));
    faults.extend(fail_all(
        &[
            libc::SYS_close_range,
            libc::SYS_pidfd_open,
            libc::SYS_pidfd_send_signal,
        ],
        errno,
    ));
    faults
}

#[test]
fn newer_syscalls_missing_fall_back() {
    skip_unless!(ready());
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
            let mut cmd = common::fault::command(
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
        let out = common::fault::run(mode, faults, &all);
        assert_refused(&out, 125, &[message]);
        let rep = report(&r);
        assert_eq!(rep["status"], "setup_error", "{mode:?}");
        assert_eq!(rep["exit_code"], 125, "{mode:?}");
        assert!(rep["message"].as_str().unwrap().contains(message), "{rep}");
        assert!(rep["wall_ms"].is_null(), "{mode:?}: the command never ran");
    }
}

/// [`assert_setup_error`] with `options` and a command that leaves a mark:
/// the command never ran.
fn assert_setup_error_before_the_command(faults: &[Fault], options: &[&str], message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let touch = format!("touch {}", marker.display());
    let mut args = options.to_vec();
    args.extend(["sh", "-c", &touch]);
    assert_setup_error(faults, &args, message);
    assert!(!marker.exists(), "the command never runs");
}

#[test]
fn fork_failure_is_a_setup_error() {
    skip_unless!(ready());
    let faults = [
        fail(libc::SYS_clone, libc::EAGAIN),
        fail(libc::SYS_clone3, libc::EAGAIN),
    ];
    assert_setup_error_before_the_command(&faults, &[], "fork: EAGAIN");
}

/// The signalfd is opened only when supervision polls a descriptor beside
/// it (output pipes, the inner init's pipe), and then before the command
/// starts: a failure is a setup error, never a command left unsupervised.
/// Without such a descriptor no signalfd is needed at all.
#[test]
fn no_signalfd_is_a_setup_error_only_where_one_is_needed() {
    skip_unless!(ready());
    let faults = [fail(libc::SYS_signalfd4, libc::EMFILE)];
    assert_setup_error_before_the_command(&faults, &["--output-limit", "1m"], "signalfd: EMFILE");
    for mode in MODES {
        let out = common::fault::run(mode, &faults, &["sh", "-c", "exit 3"]);
        assert_eq!(code(&out), 3, "{mode:?}: {}", stderr(&out));
    }
}

#[test]
fn no_pipe_is_a_setup_error() {
    skip_unless!(ready());
    assert_setup_error(
        &[fail(libc::SYS_pipe2, libc::EMFILE)],
        &["true"],
        "pipe: EMFILE",
    );
}

#[test]
fn no_descriptors_at_start_is_a_clear_125() {
    skip_unless!(ready());
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("r.json");
    for mode in MODES {
        let out = common::fault::run(
            mode,
            &[fail(libc::SYS_openat, libc::EMFILE)],
            &["--report", r.to_str().unwrap(), "true"],
        );
        assert_refused(&out, 125, &["--report", "EMFILE"]);
        assert!(!r.exists(), "no directory, no report");
    }
}

#[test]
fn a_report_that_cannot_be_created_is_logged_and_the_status_kept() {
    skip_unless!(ready());
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("r.json");
    // Only creating files fails: the command (and its loader) open nothing with O_CREAT.
    let creat = Fault {
        nr: libc::SYS_openat,
        when: When::ArgHas(2, libc::O_CREAT as u32),
        errno: libc::EMFILE,
    };
    for mode in MODES {
        let out = common::fault::run(
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
    skip_unless!(ready());
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("r.json");
    for mode in MODES {
        let mut cmd = common::fault::command(
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
    skip_unless!(ready());
    // The command is proctor itself (static, no libc): nothing in the run maps memory.
    let me = proctor();
    let me = me.to_str().unwrap();
    for mode in MODES {
        let faults = [
            fail(libc::SYS_mmap, libc::ENOMEM),
            fail(libc::SYS_brk, libc::ENOMEM),
        ];
        let out = common::fault::run(mode, &faults, &["--seccomp", "none", me, "--version"]);
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert!(stdout(&out).starts_with("proctor "), "{mode:?}");
    }
}

#[test]
fn the_filter_of_this_harness_works() {
    skip_unless!(ready());
    // The injection itself, checked on a plain shell (not proctor): an
    // unrelated fault changes nothing, a refused execve is seen.
    let status = common::fault::plain(
        &[fail(libc::SYS_getppid, libc::EPERM)],
        "sh",
        &["-c", "exit 4"],
    )
    .status()
    .unwrap();
    assert_eq!(status.code(), Some(4));
    let refused = common::fault::plain(
        &[fail(libc::SYS_execve, libc::EPERM)],
        "sh",
        &["-c", "exit 4"],
    )
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
    skip_unless!(ready(), tool("setpriv", "runs proctor as uid 1000"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let r = dir.path().join("r.json");
    let as_1000: Vec<&std::ffi::OsStr> = AS_UID_1000.iter().map(|s| s.as_ref()).collect();
    for errno in [libc::ENOSYS, libc::EOPNOTSUPP] {
        let faults = [fail(libc::SYS_landlock_create_ruleset, errno)];
        for mode in MODES {
            for option in ["--landlock", "--no-tcp"] {
                let args = ["--report", r.to_str().unwrap(), option, "echo", "RAN"];
                let cmd = common::fault::wrapped(mode, &as_1000, &faults, &args);
                let out = run_cmd(cmd, Duration::from_secs(60));
                eprintln!("case: {mode:?} {option}");
                let err = assert_refused(&out, 125, &[]);
                assert!(
                    err.starts_with(&format!("proctor: {option}: the kernel offers no Landlock")),
                    "{mode:?} {option}: {err}"
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
        let faults = [fail(libc::SYS_openat2, errno)];
        let run_1000 = |mode, args: &[&str]| {
            let cmd = common::fault::wrapped(mode, &as_1000, &faults, args);
            run_cmd(cmd, Duration::from_secs(60))
        };
        for mode in MODES {
            let out = run_1000(mode, &["--landlock", "--writable", w, "sh", "-c", &write]);
            assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
            assert_eq!(stdout(&out), "ok\n");
            let link = link.to_str().unwrap();
            let out = run_1000(mode, &["--landlock", "--writable", link, "true"]);
            assert_refused(&out, 125, &["link: is a symbolic link"]);
        }
    }
}

/// `--pid-ns` where the runtime refuses what it needs: the PID namespace
/// (`clone(CLONE_NEWPID)`), or the inner init's fresh /proc (a seccomp or
/// AppArmor profile refusing the mount). 125 naming the step, before the
/// command runs.
#[test]
fn pid_ns_refused_is_a_setup_error() {
    skip_unless!(ready());
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
