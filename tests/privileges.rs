//! What the command keeps: ids, groups, capabilities, no_new_privs,
//! descriptors; what proctor does without the privileges it needs; and the
//! refusal of every malformed value of these options.
mod common;
use common::fault;
use common::*;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

const CAP_SETGID: u32 = 6;
const CAP_SETUID: u32 = 7;
const CAP_SETPCAP: u32 = 8;
const CAP_NET_BIND_SERVICE: u32 = 10;
const ZERO: &str = "0000000000000000";

/// Run `cat /proc/self/status` under proctor prepared by `cmd`.
fn status_of(cmd: Command) -> String {
    let out = run_cmd(cmd, Duration::from_secs(60));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    stdout(&out)
}

fn status(mode: Mode, opts: &[&str]) -> String {
    let mut args = opts.to_vec();
    args.extend(["cat", "/proc/self/status"]);
    status_of(command(mode, &args))
}

/// A status line's fields, whitespace-separated.
fn fields(status: &str, key: &str) -> Vec<String> {
    status_line(status, key)
        .unwrap_or_else(|| panic!("no {key} in {status}"))
        .split_whitespace()
        .map(String::from)
        .collect()
}

fn assert_no_capabilities(status: &str, ctx: &str) {
    for key in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(
            status_line(status, key).as_deref(),
            Some(ZERO),
            "{ctx}: {key}"
        );
    }
    assert_eq!(
        status_line(status, "NoNewPrivs").as_deref(),
        Some("1"),
        "{ctx}"
    );
}

#[test]
fn root_command_keeps_uid_0_and_nothing_else() {
    skip_unless!(ready());
    for mode in MODES {
        let s = status(mode, &[]);
        assert_eq!(fields(&s, "Uid"), ["0"; 4], "{mode:?}");
        assert_eq!(fields(&s, "Gid"), ["0"; 4], "{mode:?}");
        assert_eq!(fields(&s, "Groups"), Vec::<String>::new(), "{mode:?}");
        assert_no_capabilities(&s, &format!("{mode:?}"));
    }
}

#[test]
fn user_and_groups_set_all_four_ids() {
    skip_unless!(ready());
    for mode in MODES {
        let s = status(mode, &["--user", "1234:2345", "--groups", "9,7,8"]);
        assert_eq!(fields(&s, "Uid"), ["1234"; 4], "{mode:?}");
        assert_eq!(fields(&s, "Gid"), ["2345"; 4], "{mode:?}");
        assert_eq!(fields(&s, "Groups"), ["7", "8", "9"], "{mode:?}");
        assert_no_capabilities(&s, &format!("{mode:?} --user"));
        // The gid defaults to the uid, never to root's group; no groups.
        let s = status(mode, &["--user=4321"]);
        assert_eq!(fields(&s, "Uid"), ["4321"; 4], "{mode:?}");
        assert_eq!(fields(&s, "Gid"), ["4321"; 4], "{mode:?}");
        assert_eq!(fields(&s, "Groups"), Vec::<String>::new(), "{mode:?}");
        // --groups alone keeps uid 0.
        let s = status(mode, &["--groups", "5"]);
        assert_eq!(fields(&s, "Uid"), ["0"; 4], "{mode:?}");
        assert_eq!(fields(&s, "Groups"), ["5"], "{mode:?}");
        assert_no_capabilities(&s, &format!("{mode:?} --groups"));
    }
}

#[test]
fn keep_caps_keeps_proctors_capabilities_with_a_warning() {
    skip_unless!(ready());
    let own = std::fs::read_to_string("/proc/self/status").unwrap();
    for mode in MODES {
        let out = run(mode, &["--keep-caps", "cat", "/proc/self/status"]);
        assert_eq!(code(&out), 0);
        assert!(
            stderr(&out).contains("warning: --keep-caps"),
            "{}",
            stderr(&out)
        );
        let s = stdout(&out);
        for key in ["CapPrm", "CapEff", "CapBnd"] {
            assert_eq!(
                status_line(&s, key),
                status_line(&own, key),
                "{mode:?} {key}"
            );
        }
        assert_ne!(status_line(&s, "CapEff").as_deref(), Some(ZERO));
        // no_new_privs and the filter stay on.
        assert_eq!(status_line(&s, "NoNewPrivs").as_deref(), Some("1"));
        assert_eq!(status_line(&s, "Seccomp").as_deref(), Some("2"));
    }
}

/// Raise `CAP_NET_BIND_SERVICE` into the ambient set of `cmd` before exec.
fn with_ambient_cap(cmd: &mut Command) {
    // SAFETY: capget/capset/prctl are async-signal-safe; nothing allocates.
    unsafe {
        cmd.pre_exec(|| {
            let mut hdr = [0x2008_0522u32, 0];
            let mut data = [0u32; 6];
            let get = libc::syscall(libc::SYS_capget, hdr.as_mut_ptr(), data.as_mut_ptr());
            data[2] |= 1 << CAP_NET_BIND_SERVICE; // inheritable, low word
            let set = libc::syscall(libc::SYS_capset, hdr.as_mut_ptr(), data.as_ptr());
            let raise = libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_RAISE,
                CAP_NET_BIND_SERVICE as libc::c_ulong,
                0,
                0,
            );
            if get != 0 || set != 0 || raise != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[test]
fn ambient_capabilities_are_cleared() {
    skip_unless!(ready());
    let ambient = format!("{:016x}", 1u64 << CAP_NET_BIND_SERVICE);
    for mode in MODES {
        let mut cmd = command(mode, &["--keep-caps", "cat", "/proc/self/status"]);
        with_ambient_cap(&mut cmd);
        let s = status_of(cmd);
        assert_eq!(
            status_line(&s, "CapAmb"),
            Some(ambient.clone()),
            "{mode:?}: the setup works"
        );
        let mut cmd = command(mode, &["cat", "/proc/self/status"]);
        with_ambient_cap(&mut cmd);
        assert_no_capabilities(&status_of(cmd), &format!("{mode:?} ambient"));
    }
}

#[test]
fn without_cap_setpcap_the_bounding_set_is_skipped_not_fatal() {
    skip_unless!(ready());
    for mode in MODES {
        let mut cmd = command(mode, &["-v", "cat", "/proc/self/status"]);
        without_caps(&mut cmd, &[CAP_SETPCAP]);
        with_ambient_cap(&mut cmd);
        let out = run_cmd(cmd, Duration::from_secs(60));
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("no CAP_SETPCAP"), "{}", stderr(&out));
        let s = stdout(&out);
        assert_ne!(status_line(&s, "CapBnd").as_deref(), Some(ZERO), "{mode:?}");
        // Everything else is still dropped, the ambient set included.
        for key in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
            assert_eq!(
                status_line(&s, key).as_deref(),
                Some(ZERO),
                "{mode:?} {key}"
            );
        }
        assert_eq!(status_line(&s, "NoNewPrivs").as_deref(), Some("1"));
    }
}

#[test]
fn user_without_the_privilege_fails_naming_it() {
    skip_unless!(ready());
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let touch = format!("touch {}", marker.display());
    for mode in MODES {
        for (caps, opts, named) in [
            (&[CAP_SETUID][..], &["--user", "1000"][..], "CAP_SETUID"),
            (&[CAP_SETGID][..], &["--user", "1000"][..], "CAP_SETGID"),
            (&[CAP_SETGID][..], &["--groups", "5"][..], "CAP_SETGID"),
        ] {
            let mut args = opts.to_vec();
            args.extend(["sh", "-c", &touch]);
            let mut cmd = command(mode, &args);
            without_caps(&mut cmd, caps);
            let out = run_cmd(cmd, Duration::from_secs(60));
            let err = stderr(&out);
            assert_eq!(code(&out), 125, "{mode:?} {opts:?}: {err}");
            assert!(err.contains(named), "{opts:?}: {err}");
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(!marker.exists(), "{mode:?} {opts:?}: the command ran");
        }
        // Without CAP_SETGID, the groups are not touched unless asked for.
        let mut cmd = command(mode, &["cat", "/proc/self/status"]);
        without_caps(&mut cmd, &[CAP_SETGID]);
        assert_eq!(fields(&status_of(cmd), "Uid"), ["0"; 4]);
    }
}

/// `ls` of the command's descriptors, with `/dev/null` inherited at 5 and 6,
/// proctor running under `faults` (tests/common/fault.rs).
fn command_fds_faulty(mode: Mode, opts: &[&str], faults: &[fault::Fault]) -> Vec<String> {
    let null = std::fs::File::open("/dev/null").unwrap();
    let fd = null.as_raw_fd();
    let mut args = opts.to_vec();
    args.extend(["sh", "-c", "ls /proc/$$/fd"]);
    let mut cmd = fault::command(mode, faults, &args);
    // SAFETY: fcntl, dup2 and close are async-signal-safe; the new
    // descriptors are not close-on-exec. `/dev/null` is first copied above
    // 9: opened while other tests run, it may itself be 5 or 6, and dup2 onto
    // itself would leave it close-on-exec.
    unsafe {
        cmd.pre_exec(move || {
            let src = libc::fcntl(fd, libc::F_DUPFD, 10);
            if src < 0 || libc::dup2(src, 5) != 5 || libc::dup2(src, 6) != 6 {
                return Err(std::io::Error::last_os_error());
            }
            libc::close(src);
            Ok(())
        });
    }
    let out = run_cmd(cmd, Duration::from_secs(60));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    stdout(&out).lines().map(String::from).collect()
}

fn command_fds(mode: Mode, opts: &[&str]) -> Vec<String> {
    command_fds_faulty(mode, opts, &[])
}

#[test]
fn inherited_descriptors_are_closed_unless_kept() {
    skip_unless!(ready());
    for mode in MODES {
        assert_eq!(command_fds(mode, &[]), ["0", "1", "2"], "{mode:?}");
        assert_eq!(command_fds(mode, &["--keep-fd", "5"]), ["0", "1", "2", "5"]);
        assert_eq!(
            command_fds(mode, &["--keep-fd=6", "--keep-fd", "5", "--keep-fd", "99"]),
            ["0", "1", "2", "5", "6"],
            "{mode:?}: a kept descriptor that is not open is no error"
        );
        assert_eq!(command_fds(mode, &["--keep-fd", "2"]), ["0", "1", "2"]);
    }
}

#[test]
fn descriptors_are_closed_without_close_range_too() {
    skip_unless!(ready());
    // close_range answers ENOSYS, as on kernels before 5.9: proctor then
    // walks /proc/self/fd.
    let faults = [fault::fail(libc::SYS_close_range, libc::ENOSYS)];
    for mode in MODES {
        let fds = |opts| command_fds_faulty(mode, opts, &faults);
        assert_eq!(fds(&[]), ["0", "1", "2"], "{mode:?}");
        assert_eq!(fds(&["--keep-fd", "6"]), ["0", "1", "2", "6"], "{mode:?}");
    }
}

#[test]
fn proctors_own_descriptors_never_leak_even_if_named() {
    skip_unless!(ready());
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let mut args = vec!["--report", report.to_str().unwrap(), "--timeout", "1"];
    let kept: Vec<String> = (3..=20).map(|fd: i32| fd.to_string()).collect();
    for fd in &kept {
        args.extend(["--keep-fd", fd]);
    }
    // What the test itself passes on (a jobserver pipe, say) is kept rightly.
    let mut want: Vec<String> = (0..=20)
        // SAFETY: F_GETFD only reads the descriptor's flags.
        .filter(|&fd| fd < 3 || unsafe { libc::fcntl(fd, libc::F_GETFD) } == 0)
        .map(|fd| fd.to_string())
        .collect();
    want.sort();
    for mode in MODES {
        // The report's directory and the error pipe stay proctor's: had the
        // command kept the pipe, proctor would wait for it to close, and the
        // timeout would never fire.
        args.extend(["sh", "-c", "ls /proc/$$/fd; exec sleep 30"]);
        let out = run(mode, &args);
        args.truncate(args.len() - 3);
        assert_eq!(code(&out), 124, "{mode:?}: {}", stderr(&out));
        assert_eq!(stdout(&out).lines().collect::<Vec<_>>(), want, "{mode:?}");
    }
}

#[test]
fn malformed_values_are_refused_before_anything_happens() {
    skip_unless!(ready());
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let touch = format!("touch {}", marker.display());
    let cases: &[(&str, &str)] = &[
        ("--rlimit", ""),
        ("--rlimit", "nofile"),
        ("--rlimit", "nofile="),
        ("--rlimit", "=5"),
        ("--rlimit", "foo=1"),
        ("--rlimit", "NOFILE=1"),
        ("--rlimit", "nofile=abc"),
        ("--rlimit", "nofile=-1"),
        ("--rlimit", "nofile=+1"),
        ("--rlimit", "nofile=1x"),
        ("--rlimit", "nofile=1.5"),
        ("--rlimit", "nofile=18446744073709551616"),
        ("--rlimit", "nofile=18446744073709551615"),
        ("--rlimit", "nofile=16777216t"),
        ("--rlimit", "nofile=2:1"),
        ("--rlimit", "nofile=unlimited:5"),
        ("--rlimit", "nofile=1:"),
        ("--rlimit", "nofile=:1"),
        ("--rlimit", "nofile=1:2:3"),
        ("--rlimit", "nofile=infinity"),
        ("--user", ""),
        ("--user", "root"),
        ("--user", "1000:staff"),
        ("--user", "-1"),
        ("--user", "4294967295"),
        ("--user", "4294967296"),
        ("--user", "1000:"),
        ("--user", ":1000"),
        ("--user", "1.5"),
        ("--user", "0x10"),
        ("--groups", ""),
        ("--groups", "wheel"),
        ("--groups", "1,,2"),
        ("--groups", "1,"),
        ("--groups", "-3"),
        ("--groups", "1 2"),
        ("--keep-fd", ""),
        ("--keep-fd", "-1"),
        ("--keep-fd", "x"),
        ("--keep-fd", "2147483648"),
        ("--keep-fd", "3.0"),
        ("--env", ""),
        ("--env", "NOEQ"),
        ("--env", "=v"),
        ("--unset-env", ""),
        ("--unset-env", "A=B"),
        ("--keep-env", ""),
        ("--keep-env", "A=B"),
        ("--seccomp", ""),
        ("--seccomp", "strict"),
        ("--seccomp", "off"),
        ("--seccomp", "Default"),
    ];
    for &(opt, value) in cases {
        for joined in [false, true] {
            let eq = format!("{opt}={value}");
            let mut args = if joined {
                vec![eq.as_str()]
            } else {
                vec![opt, value]
            };
            args.extend(["sh", "-c", &touch]);
            let out = run(Mode::Pid1, &args);
            let err = assert_refused(&out, 125, &[]);
            assert!(
                err.starts_with(&format!("proctor: {opt}: \"{value}\"")),
                "{args:?}: {err}"
            );
            assert!(!marker.exists(), "{args:?}: the command ran");
        }
    }
    // Flags take no value; value options need one.
    for args in [
        &["--keep-caps=yes", "true"][..],
        &["--clear-env=1", "true"][..],
        &["true", "--user"][..],
    ] {
        let out = run(Mode::Pid1, args);
        if args[0] == "true" {
            // After the command, everything is the command's.
            assert_eq!(code(&out), 0, "{args:?}");
            continue;
        }
        assert_eq!(code(&out), 125, "{args:?}");
        assert!(stderr(&out).contains("takes no value"), "{}", stderr(&out));
    }
    let out = run(Mode::Pid1, &["--user"]);
    assert_eq!(code(&out), 125);
    assert_eq!(stderr(&out), "proctor: --user: missing value\n");
}
