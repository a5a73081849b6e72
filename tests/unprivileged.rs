//! proctor without privileges (`docker run --user 1000`, Kubernetes'
//! restricted profile, Fargate): still a correct init — it runs the command,
//! reaps, forwards signals, passes exit codes — skipping with a `-v` line
//! what it was not asked for, and failing with 125 and the missing
//! privilege's name for what it was asked for.
mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

/// How proctor loses its privileges before it starts (`setpriv` execs it).
#[derive(Clone, Copy, Debug)]
enum Who {
    /// uid and gid 1000, no groups, no capabilities at all.
    User1000,
    /// uid 0 with an empty bounding set, so no capability (CAP_SETPCAP included).
    CaplessRoot,
}

const WHO: [Who; 2] = [Who::User1000, Who::CaplessRoot];

impl Who {
    fn setpriv(self) -> &'static [&'static str] {
        match self {
            Who::User1000 => &AS_UID_1000,
            Who::CaplessRoot => &["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--"],
        }
    }
}

/// As `common::command`, with `wrapper` run between the throwaway PID 1 and
/// proctor (in Pid1 mode `setpriv` execs proctor, which stays PID 1).
fn command_via(mode: Mode, wrapper: &[&str], args: &[&str]) -> Command {
    let mut c = throwaway_pid_namespace();
    if mode == Mode::Subreaper {
        c.args(["sh", "-c", "\"$0\" \"$@\"; exit $?"]);
    }
    c.args(wrapper).arg(proctor()).args(args);
    c
}

fn run_as(who: Who, mode: Mode, args: &[&str]) -> std::process::Output {
    run_cmd(
        command_via(mode, who.setpriv(), args),
        Duration::from_secs(60),
    )
}

/// setpriv(1), which every test here runs proctor under.
fn setpriv() -> Result<(), String> {
    tool(
        "setpriv",
        "drops uid and capabilities before proctor starts",
    )
}

/// A scratch directory every uid may write into.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

#[test]
fn the_premise_holds_proctor_itself_has_no_capability() {
    skip_unless!(ready(), setpriv());
    for who in WHO {
        // In Pid1 mode /proc/1 is proctor.
        let out = run_as(who, Mode::Pid1, &["sh", "-c", "cat /proc/1/status"]);
        assert_eq!(code(&out), 0, "{who:?}: {}", stderr(&out));
        let status = stdout(&out);
        for key in ["CapPrm", "CapEff", "CapBnd"] {
            assert_eq!(
                status_line(&status, key).as_deref(),
                Some("0000000000000000"),
                "{who:?} {key}"
            );
        }
        let uid = status_line(&status, "Uid").unwrap();
        let expected = match who {
            Who::User1000 => "1000",
            Who::CaplessRoot => "0",
        };
        assert_eq!(uid.split_whitespace().next(), Some(expected), "{who:?}");
    }
}

#[test]
fn exit_codes_and_signal_deaths_pass_through() {
    skip_unless!(ready(), setpriv());
    for who in WHO {
        for mode in MODES {
            for (script, expected) in [
                ("exit 0", 0),
                ("exit 7", 7),
                ("exit 255", 255),
                ("kill -TERM $$", 143),
            ] {
                let out = run_as(who, mode, &["sh", "-c", script]);
                assert_eq!(
                    code(&out),
                    expected,
                    "{who:?} {mode:?} {script}: {}",
                    stderr(&out)
                );
            }
            let out = run_as(who, mode, &["/nonexistent/command"]);
            assert_eq!(code(&out), 127, "{who:?} {mode:?}: {}", stderr(&out));
        }
    }
}

#[test]
fn orphans_are_reaped_and_leftovers_killed() {
    skip_unless!(ready(), setpriv());
    // An orphan that exits at once becomes proctor's; after a pause no
    // zombie is left. A daemon left behind is killed and counted.
    let script = "(sh -c 'exit 0' &); sleep 0.3; \
                  grep -l '^[0-9]* (.*) Z ' /proc/[0-9]*/stat 2>/dev/null; \
                  sleep 100 & exit 4";
    for who in WHO {
        for mode in MODES {
            let dir = scratch();
            let report = dir.path().join("report.json");
            let out = run_as(
                who,
                mode,
                &[
                    "-vv",
                    "--report",
                    report.to_str().unwrap(),
                    "sh",
                    "-c",
                    script,
                ],
            );
            assert_eq!(code(&out), 4, "{who:?} {mode:?}: {}", stderr(&out));
            assert_eq!(stdout(&out), "", "{who:?} {mode:?}: zombies left");
            let reaped = stderr(&out).matches("proctor: reaped pid").count();
            assert!(reaped >= 2, "{who:?} {mode:?}: {}", stderr(&out));
            let json = common::report(&report);
            assert_eq!(json["status"], "exited", "{who:?} {mode:?}");
            assert_eq!(json["leftovers_killed"], 1, "{who:?} {mode:?}: {json}");
        }
    }
}

#[test]
fn signals_are_forwarded_and_the_timeout_works() {
    skip_unless!(ready(), setpriv());
    // The command signals proctor, which sends the signal back to the
    // command's group: the trap's exit code proves the round trip.
    let script = "trap 'exit 42' USR1; kill -USR1 $PPID; while :; do sleep 0.05; done";
    for who in WHO {
        for mode in MODES {
            for single in [false, true] {
                let mut args = vec!["sh", "-c", script];
                if single {
                    args.insert(0, "-c");
                }
                let out = run_as(who, mode, &args);
                assert_eq!(
                    code(&out),
                    42,
                    "{who:?} {mode:?} -c={single}: {}",
                    stderr(&out)
                );
            }
            let out = run_as(who, mode, &["--timeout", "0.3", "sleep", "30"]);
            assert_eq!(code(&out), 124, "{who:?} {mode:?}: {}", stderr(&out));
        }
    }
}

#[test]
fn verbose_names_each_skipped_step() {
    skip_unless!(ready(), setpriv());
    for who in WHO {
        for mode in MODES {
            let out = run_as(who, mode, &["-v", "sh", "-c", "cat /proc/self/status"]);
            assert_eq!(code(&out), 0, "{who:?} {mode:?}: {}", stderr(&out));
            let err = stderr(&out);
            for line in [
                "proctor: no CAP_SETPCAP: bounding set left as it is",
                "proctor: no CAP_SETGID: supplementary groups left as they are",
            ] {
                assert!(
                    err.contains(line),
                    "{who:?} {mode:?}: missing {line:?} in {err}"
                );
            }
            // What needs no privilege is still done.
            let status = stdout(&out);
            assert_eq!(status_line(&status, "NoNewPrivs").as_deref(), Some("1"));
            assert_eq!(
                status_line(&status, "CapEff").as_deref(),
                Some("0000000000000000")
            );
            // Without -v the skipped steps say nothing.
            let quiet = run_as(who, mode, &["true"]);
            assert_eq!(code(&quiet), 0);
            assert_eq!(stderr(&quiet), "", "{who:?} {mode:?}");
        }
    }
}

/// Asking for `opts` fails with 125 and one line naming `privilege` (also in
/// the report), and the command never runs.
fn assert_refused(who: Who, opts: &[&str], privilege: &str) {
    let dir = scratch();
    let (marker, report) = (dir.path().join("ran"), dir.path().join("report.json"));
    let touch = format!("touch {}", marker.display());
    let mut args = vec!["--report", report.to_str().unwrap()];
    args.extend(opts);
    args.extend(["sh", "-c", &touch]);
    let out = run_as(who, Mode::Subreaper, &args);
    let err = stderr(&out);
    assert_eq!(code(&out), 125, "{who:?} {opts:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{who:?} {opts:?}: {err}");
    assert!(
        err.starts_with("proctor: ") && err.contains(privilege),
        "{who:?} {opts:?}: {err} should name {privilege}"
    );
    assert!(!marker.exists(), "{who:?} {opts:?}: the command ran");
    let json = common::report(&report);
    assert_eq!(json["status"], "setup_error", "{who:?} {opts:?}");
    assert!(
        json["message"].as_str().unwrap().contains(privilege),
        "{who:?} {opts:?}: {json}"
    );
}

#[test]
fn asked_for_ids_net_and_limits_fail_with_125_naming_the_privilege() {
    skip_unless!(ready(), setpriv());
    let cases: [(&[&str], &str); 5] = [
        (&["--user", "1001"], "needs CAP_SETGID CAP_SETUID CAP_KILL"),
        (&["--user", "1000:1000"], "CAP_SETGID"),
        (&["--groups", "5"], "CAP_SETGID"),
        (&["--net", "none"], "CAP_SYS_ADMIN"),
        (&["--rlimit", "nofile=64:unlimited"], "CAP_SYS_RESOURCE"),
    ];
    for who in WHO {
        for (opts, privilege) in cases {
            assert_refused(who, opts, privilege);
        }
    }
}

#[test]
fn asked_for_mounts_fail_with_125_naming_the_privilege() {
    skip_unless!(ready(), setpriv());
    let cases: [&[&str]; 3] = [
        &["--tmpfs", "/tmp"],
        &["--ro", "/"],
        &["--bind", "/etc:/mnt"],
    ];
    for who in WHO {
        for opts in cases {
            assert_refused(who, opts, "CAP_SYS_ADMIN");
        }
    }
}

#[test]
fn net_none_without_cap_net_admin_names_it() {
    skip_unless!(ready(), setpriv());
    // Docker's `--cap-add SYS_ADMIN` alone: the namespace can be made, but
    // loopback cannot be brought up in it.
    let wrapper = [
        "setpriv",
        "--inh-caps=-all",
        "--bounding-set=-net_admin",
        "--",
    ];
    let out = run_cmd(
        command_via(Mode::Subreaper, &wrapper, &["--net", "none", "true"]),
        Duration::from_secs(60),
    );
    assert_eq!(code(&out), 125, "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "proctor: --net none: bringing up loopback needs CAP_NET_ADMIN (docker run --cap-add NET_ADMIN): EPERM\n"
    );
}

#[test]
fn user_without_cap_kill_is_refused_before_the_timeout_could_fail() {
    skip_unless!(ready(), setpriv());
    // Root with CAP_SETUID and CAP_SETGID but not CAP_KILL could start the
    // command as uid 1000 but never signal it: no timeout, no forwarding.
    let wrapper = ["setpriv", "--inh-caps=-all", "--bounding-set=-kill", "--"];
    for mode in MODES {
        let args = ["--user", "1000", "--timeout", "0.2", "sleep", "30"];
        let out = run_cmd(command_via(mode, &wrapper, &args), Duration::from_secs(20));
        assert_eq!(code(&out), 125, "{mode:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out),
            "proctor: --user: running the command as another uid needs CAP_KILL\n"
        );
        // Its own uid needs no CAP_KILL.
        let out = run_cmd(
            command_via(
                mode,
                &wrapper,
                &["--user", "0", "--timeout", "0.2", "sleep", "30"],
            ),
            Duration::from_secs(20),
        );
        assert_eq!(code(&out), 124, "{mode:?}: {}", stderr(&out));
    }
}

#[test]
fn rlimit_nproc_for_uid_0_warns_that_the_kernel_ignores_it() {
    skip_unless!(ready(), setpriv());
    let warning = "the kernel does not apply RLIMIT_NPROC to uid 0";
    for (who, user, warns) in [
        (Some(Who::CaplessRoot), None, true),
        (None, None, true),
        (None, Some("0"), true),
        (None, Some("1000"), false),
        (Some(Who::User1000), None, false),
    ] {
        let mut args = vec!["--rlimit", "nproc=1000"];
        if let Some(u) = user {
            args.extend(["--user", u]);
        }
        args.push("true");
        let out = match who {
            Some(who) => run_as(who, Mode::Subreaper, &args),
            None => run(Mode::Subreaper, &args),
        };
        assert_eq!(code(&out), 0, "{who:?} {user:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out).contains(warning),
            warns,
            "{who:?} {user:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn what_needs_no_privilege_still_applies() {
    skip_unless!(ready(), setpriv());
    // Lowering limits, the environment and the working directory need no privilege.
    let script = "echo $(ulimit -Sn) $(ulimit -Hn) $(ulimit -c) \"$GREETING\" \"${AWS_SECRET_ACCESS_KEY-unset}\" $PWD";
    for who in WHO {
        for mode in MODES {
            let mut cmd = command_via(
                mode,
                who.setpriv(),
                &[
                    "--rlimit",
                    "nofile=64:128",
                    "--env",
                    "GREETING=hi",
                    "--chdir",
                    "/",
                    "sh",
                    "-c",
                    script,
                ],
            );
            cmd.env("AWS_SECRET_ACCESS_KEY", "leak");
            let out = run_cmd(cmd, Duration::from_secs(60));
            assert_eq!(code(&out), 0, "{who:?} {mode:?}: {}", stderr(&out));
            assert_eq!(stdout(&out), "64 128 0 hi unset /\n", "{who:?} {mode:?}");
        }
    }
}

#[test]
fn ambient_capabilities_do_not_reach_the_command() {
    skip_unless!(ready(), setpriv());
    // uid 1000 with an ambient capability (systemd's AmbientCapabilities,
    // `setpriv --ambient-caps`): proctor cannot touch the bounding set, but
    // zeroing its own sets takes the ambient one along.
    let wrapper = [
        "setpriv",
        "--reuid=1000",
        "--regid=1000",
        "--clear-groups",
        "--inh-caps=-all,+net_bind_service",
        "--ambient-caps=+net_bind_service",
        "--bounding-set=-all,+net_bind_service",
        "--",
    ];
    for mode in MODES {
        let args = [
            "sh",
            "-c",
            "cat /proc/self/status; echo ---; cat /proc/1/status",
        ];
        let out = run_cmd(command_via(mode, &wrapper, &args), Duration::from_secs(60));
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        let text = stdout(&out);
        let (command, pid1) = text.split_once("---").unwrap();
        for key in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
            assert_eq!(
                status_line(command, key).as_deref(),
                Some("0000000000000000"),
                "{mode:?} {key}"
            );
        }
        if mode == Mode::Pid1 {
            // The premise: proctor itself had it.
            assert_eq!(
                status_line(pid1, "CapAmb").as_deref(),
                Some("0000000000000400")
            );
        }
    }
}
