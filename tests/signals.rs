//! Signals through the real binary, as PID 1 and as a plain subreaper:
//! forwarding (to the group, or with -c to the command only), a signal from
//! outside the namespace, the signal state the command inherits, and
//! --timeout's SIGTERM-then-SIGKILL.
mod common;
mod helper;
use common::*;
use helper::*;
use std::os::unix::process::CommandExt;
use std::time::Duration;

/// Every signal proctor forwards: 1–31 but KILL, STOP and CHLD, and a few
/// real-time ones (glibc keeps 32 and 33 for itself, so the helper cannot wait for them).
fn forwardable() -> Vec<String> {
    (1..=31)
        .filter(|s| ![libc::SIGKILL, libc::SIGSTOP, libc::SIGCHLD].contains(s))
        .chain([34, 35, 42, 50, 63, 64])
        .map(|s| s.to_string())
        .collect()
}

fn forward_case(mode: Mode, single: bool) {
    let sigs = forwardable();
    let mut args: Vec<&str> = sigs.iter().map(String::as_str).collect();
    args.insert(0, if single { "single" } else { "group" });
    let argv = helper("signals", &args);
    let mut cmd: Vec<&str> = argv.iter().map(String::as_str).collect();
    if single {
        cmd.insert(0, "-c");
    }
    let out = run(mode, &cmd);
    assert_eq!(
        code(&out),
        0,
        "{mode:?} single={single}: {}{}",
        stdout(&out),
        stderr(&out)
    );
    let got: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(got, sigs, "{mode:?} single={single}: signals in order");
    assert_eq!(stderr(&out), "", "{mode:?}: proctor says nothing");
}

#[test]
fn every_signal_reaches_the_group_in_order() {
    skip_unless!(ready());
    for mode in MODES {
        forward_case(mode, false);
    }
}

#[test]
fn single_child_forwards_to_the_command_only() {
    skip_unless!(ready());
    for mode in MODES {
        forward_case(mode, true);
    }
}

/// Real-time signals queue: a burst of them reaches the command whole.
#[test]
fn a_burst_of_realtime_signals_arrives_whole() {
    skip_unless!(ready());
    for mode in MODES {
        for single in [false, true] {
            let argv = helper("burst", &["40", "100"]);
            let mut args = strs(&argv);
            if single {
                args.insert(0, "-c");
            }
            let out = run(mode, &args);
            assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
            assert_eq!(stdout(&out), "got 100\n", "{mode:?}");
        }
    }
}

/// `docker stop`: SIGTERM from outside the namespace ends the command → 143.
#[test]
fn sigterm_from_outside_ends_the_command() {
    skip_unless!(ready());
    for mode in MODES {
        let dir = tempfile::tempdir().unwrap();
        let flag = dir.path().join("started");
        let script = format!("touch {}; exec sleep 60", flag.display());
        let (child, pid) = start(command(mode, &["-vv", "sh", "-c", &script]), &flag);
        // SAFETY: kill has no memory preconditions.
        assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGTERM) }, 0);
        let out = wait_limited(child, Duration::from_secs(30));
        assert_eq!(code(&out), 143, "{mode:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("forwarded signal 15"),
            "{mode:?}: -vv logs the forwarded signal: {}",
            stderr(&out)
        );
    }
}

fn status_hex(status: &str, key: &str) -> u64 {
    u64::from_str_radix(&status_line(status, key).unwrap(), 16).unwrap()
}

/// The command gets the signal state proctor inherited: ignored signals
/// stay ignored, but an ignored SIGCHLD is reset (and proctor still sees
/// the command's status); the blocked mask comes back (checked as PID 1
/// only: in the other mode the shell between us and proctor resets it).
#[test]
fn command_inherits_ignored_signals_and_mask() {
    skip_unless!(ready());
    for mode in MODES {
        let mut cmd = command(mode, &["cat", "/proc/self/status"]);
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::signal(libc::SIGUSR1, libc::SIG_IGN);
                libc::signal(libc::SIGCHLD, libc::SIG_IGN);
                let mut set = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGUSR2);
                libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
                Ok(())
            });
        }
        let out = run_cmd(cmd, Duration::from_secs(60));
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        let status = stdout(&out);
        // With SIGCHLD ignored, proctor still learns the command's status.
        let mut cmd = command(mode, &["sh", "-c", "exit 7"]);
        // SAFETY: signal is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::signal(libc::SIGCHLD, libc::SIG_IGN);
                Ok(())
            });
        }
        assert_eq!(code(&run_cmd(cmd, Duration::from_secs(60))), 7, "{mode:?}");
        let bit = |s: i32| 1u64 << (s - 1);
        let ign = status_hex(&status, "SigIgn");
        assert_ne!(ign & bit(libc::SIGUSR1), 0, "{mode:?}: USR1 stays ignored");
        assert_eq!(ign & bit(libc::SIGCHLD), 0, "{mode:?}: CHLD is reset");
        let blk = status_hex(&status, "SigBlk");
        if mode == Mode::Pid1 {
            assert_eq!(blk, bit(libc::SIGUSR2), "{mode:?}: the inherited mask");
        } else {
            assert_eq!(blk, 0, "{mode:?}: nothing of proctor's own mask");
        }
    }
}

/// A command that ends on SIGTERM: 124, and the report names signal 15.
#[test]
fn timeout_terminates_with_sigterm() {
    skip_unless!(ready());
    for mode in MODES {
        let dir = tempfile::tempdir().unwrap();
        let rep = dir.path().join("report.json");
        let rep_s = rep.to_str().unwrap();
        let out = run(
            mode,
            &["--timeout", "0.3", "--report", rep_s, "sleep", "60"],
        );
        assert_eq!(code(&out), 124, "{mode:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("proctor: timeout: sending SIGTERM"),
            "{mode:?}: {}",
            stderr(&out)
        );
        assert!(!stderr(&out).contains("SIGKILL"), "{}", stderr(&out));
        let r = report(&rep);
        assert_eq!(r["status"], "timeout", "{r}");
        assert_eq!(r["exit_code"], 124, "{r}");
        assert_eq!(r["signal"], 15, "{r}");
        assert!(r["message"].as_str().unwrap().contains("timeout"), "{r}");
        assert!(r["wall_ms"].as_u64().unwrap() >= 300, "{r}");
    }
}

/// A command that survives SIGTERM gets SIGKILL --kill-after later: it saw
/// TERM first (its log), the report names signal 9, and not before the grace.
#[test]
fn timeout_kills_a_command_that_ignores_sigterm() {
    skip_unless!(ready());
    for mode in MODES {
        assert_timeout_kills_a_term_ignorer(mode, &[]);
    }
}

/// With a terminal on stdin (proctor a session leader that owns it, as
/// under `docker run -t`), the command's new session takes the terminal and
/// is its foreground group; the SIGHUP and SIGCONT that proctor's release
/// causes are swallowed, not forwarded.
#[test]
fn the_command_takes_the_terminal() {
    skip_unless!(ready(), tool("setsid", "makes proctor own the terminal"));
    let script = "read -r s < /proc/self/stat; set -- $s; echo \"$1 $5 $7 $8\"";
    let out = run_on_terminal(pid1_session(&["-vv", "sh", "-c", script]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let f: Vec<i64> = stdout(&out)
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    let [pid, pgrp, tty, tpgid] = f[..] else {
        panic!("{}", stdout(&out))
    };
    assert_eq!(pid, 2, "the command as pid 2");
    assert_eq!(pgrp, 2, "in a group of its own");
    assert_ne!(tty, 0, "with a controlling terminal");
    assert_eq!(tpgid, 2, "and in the foreground");
    let err = stderr(&out);
    assert!(!err.contains("warning"), "{err}");
    assert!(!err.contains("forwarded signal"), "{err}");
}

/// A command stopped when the timeout comes still ends on SIGTERM: the
/// SIGCONT that goes with it lets it act, instead of waiting for SIGKILL.
#[test]
fn timeout_wakes_a_stopped_command() {
    skip_unless!(ready());
    for mode in MODES {
        let dir = tempfile::tempdir().unwrap();
        let rep = dir.path().join("report.json");
        let rep_s = rep.to_str().unwrap();
        let out = run(
            mode,
            &[
                "--timeout",
                "0.3",
                "--kill-after",
                "30",
                "--report",
                rep_s,
                "sh",
                "-c",
                "kill -STOP $$; sleep 60",
            ],
        );
        assert_eq!(code(&out), 124, "{mode:?}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("SIGKILL"),
            "{mode:?}: {}",
            stderr(&out)
        );
        assert_eq!(report(&rep)["signal"], 15, "{mode:?}");
    }
}
