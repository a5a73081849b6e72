//! Drop-in compatibility with tini, dumb-init and Docker's `--init`: tini's
//! `-p -e -w -l`, dumb-init's `-r`, their environment variables, and the
//! `docker-init` personality — each run against the real binary, as PID 1
//! of a throwaway PID namespace and as a plain subreaper.
mod common;
mod helper;
use common::*;
use std::path::Path;
use std::time::{Duration, Instant};

/// Poll until `path` exists (a report written by a proctor we cannot wait for).
fn wait_for_file(path: &Path, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(50)); // renamed into place whole; let it settle
}

#[test]
fn exit_code_mapped_to_zero_keeps_the_original_in_the_report() {
    skip_unless!(ready());
    let dir = tempfile::tempdir().unwrap();
    let rep = dir.path().join("r.json");
    for mode in MODES {
        let r = rep.to_str().unwrap();
        let out = run(
            mode,
            &["-e", "3", "-e", "4", "--report", r, "sh", "-c", "exit 3"],
        );
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        let v = common::report(&rep);
        assert_eq!(
            (v["exit_code"].as_u64(), v["command_exit_code"].as_u64()),
            (Some(0), Some(3))
        );
        assert_eq!(v["status"], "exited");
        // A code not in the list passes through unchanged.
        let out = run(mode, &["-e", "3", "--report", r, "sh", "-c", "exit 5"]);
        assert_eq!(code(&out), 5, "{mode:?}");
        let v = common::report(&rep);
        assert_eq!(
            (v["exit_code"].as_u64(), v["command_exit_code"].as_u64()),
            (Some(5), Some(5))
        );
    }
}

/// The command under `-r`/`--rewrite`: records each of HUP, QUIT, TERM it
/// receives in `log`, exits 0 on QUIT or TERM.
fn signal_recorder(dir: &Path) -> String {
    let log = dir.join("log");
    let started = dir.join("started");
    format!(
        "trap 'echo HUP >> {l}' HUP; trap 'echo QUIT >> {l}; exit 0' QUIT; \
         trap 'echo TERM >> {l}; exit 0' TERM; touch {s}; while :; do sleep 0.02; done",
        l = log.display(),
        s = started.display()
    )
}

#[test]
fn rewrite_forwards_term_as_quit_and_drops_hup() {
    skip_unless!(ready());
    for mode in MODES {
        let dir = tempfile::tempdir().unwrap();
        let script = signal_recorder(dir.path());
        let cmd = command(
            mode,
            &["-r", "15:3", "--rewrite", "SIGHUP:0", "sh", "-c", &script],
        );
        let (child, pid) = helper::start(cmd, &dir.path().join("started"));
        let log = dir.path().join("log");
        // SAFETY: kill has no memory preconditions.
        unsafe { libc::kill(pid as i32, libc::SIGHUP) };
        std::thread::sleep(Duration::from_millis(200));
        // SAFETY: as above.
        unsafe { libc::kill(pid as i32, libc::SIGTERM) };
        let out = helper::wait_limited(child, Duration::from_secs(20));
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        let seen = std::fs::read_to_string(&log).unwrap_or_default();
        assert_eq!(
            seen, "QUIT\n",
            "{mode:?}: HUP dropped, TERM arrives as QUIT"
        );
    }
}

/// proctor's parent dies: with `-p SIGTERM` proctor gets SIGTERM, forwards it
/// and ends with the command's status, which the report records.
#[test]
fn parent_death_signal_is_forwarded() {
    skip_unless!(ready());
    for mode in MODES {
        let dir = tempfile::tempdir().unwrap();
        let rep = dir.path().join("r.json");
        let script = format!(
            "trap 'exit 143' TERM; touch {}; while :; do sleep 0.02; done",
            dir.path().join("started").display()
        );
        let args = [
            "-p",
            "SIGTERM",
            "--report",
            rep.to_str().unwrap(),
            "sh",
            "-c",
            &script,
        ];
        let mut c = throwaway_pid_namespace();
        match mode {
            Mode::Pid1 => {
                c.arg(proctor());
            }
            // The namespace's init waits on a middle shell, proctor's parent,
            // which the test kills; `; :` keeps the shell from exec'ing proctor.
            Mode::Subreaper => {
                c.args([
                    "sh",
                    "-c",
                    "sh -c '\"$0\" \"$@\"; :' \"$0\" \"$@\"; sleep 20",
                ]);
                c.arg(proctor());
            }
        }
        c.args(args);
        let (mut child, pid) = helper::start(c, &dir.path().join("started"));
        let parent = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let parent: i32 = parent[parent.rfind(')').unwrap() + 2..]
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        // SAFETY: kill has no memory preconditions.
        unsafe { libc::kill(parent, libc::SIGKILL) };
        wait_for_file(&rep, Duration::from_secs(20));
        let v = common::report(&rep);
        assert_eq!(v["exit_code"], 143, "{mode:?}: {v}");
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[test]
fn w_logs_reaped_orphans_and_l_prints_the_licence() {
    skip_unless!(ready());
    for mode in MODES {
        let out = run(mode, &["-w", "sh", "-c", "sleep 0.1 & exit 0"]);
        assert_eq!(code(&out), 0, "{mode:?}");
        let err = stderr(&out);
        assert!(
            err.contains("reaped"),
            "{mode:?}: -w logs the orphan: {err}"
        );
    }
    let mut c = std::process::Command::new(proctor());
    c.arg("-l");
    let out = run_cmd(c, Duration::from_secs(5));
    assert_eq!(code(&out), 0);
    assert!(
        stdout(&out).contains("MIT OR Apache-2.0"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn bad_compat_values_are_refused_with_one_line() {
    for (args, needle) in [
        (
            &["-p", "SIGFOO", "true"][..],
            "-p: \"SIGFOO\" is not a signal",
        ),
        (&["-e", "256", "true"], "-e: \"256\" is not an exit code"),
        (
            &["--rewrite", "15", "true"],
            "--rewrite: \"15\" is not SIGNAL:SIGNAL",
        ),
        (
            &["-r", "TERM:BOGUS", "true"],
            "--rewrite: \"TERM:BOGUS\" is not a signal",
        ),
    ] {
        let mut c = std::process::Command::new(proctor());
        c.args(args);
        let out = run_cmd(c, Duration::from_secs(5));
        assert_eq!(code(&out), 125, "{args:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

/// Invoked as `docker-init`, proctor changes nothing about the container's
/// privileges: capabilities and no seccomp filter, and no warning about it.
#[test]
fn docker_init_personality_keeps_privileges() {
    skip_unless!(ready());
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("docker-init");
    std::os::unix::fs::symlink(proctor(), &link).unwrap();
    let script = "grep -E '^(CapEff|Seccomp):' /proc/self/status";
    let mut c = throwaway_pid_namespace();
    c.arg(&link).args(["sh", "-c", script]);
    let out = run_cmd(c, Duration::from_secs(20));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_caps_kept(&stdout(&out), "0");
    assert_eq!(stderr(&out), "", "no --keep-caps warning");
    // Under its own name, the sandbox defaults stay.
    let out = run(Mode::Pid1, &["sh", "-c", script]);
    let text = stdout(&out);
    assert_eq!(
        status_line(&text, "CapEff").as_deref(),
        Some("0000000000000000"),
        "{text}"
    );
    assert_eq!(
        status_line(&text, "Seccomp").as_deref(),
        Some("2"),
        "{text}"
    );
}

#[test]
fn tini_environment_configures_proctor_and_stays_out_of_the_command() {
    skip_unless!(ready());
    let mut c = command(Mode::Subreaper, &["sh", "-c", "env"]);
    c.env("TINI_VERBOSITY", "2")
        .env("TINI_SUBREAPER", "1")
        .env("TINI_KILL_PROCESS_GROUP", "1");
    let out = run_cmd(c, Duration::from_secs(20));
    assert_eq!(code(&out), 0);
    assert!(!stdout(&out).contains("TINI_"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("proctor: "),
        "TINI_VERBOSITY=2 is -v: {}",
        stderr(&out)
    );
}
