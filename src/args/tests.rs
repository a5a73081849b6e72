use super::*;
extern crate std;
use std::ffi::CString;
use std::vec::Vec;

/// The arguments after the program name, as `proctor` with no
/// compatibility variables set.
fn parse<'a>(args: &[&'a CStr]) -> Result<Action<'a>, UsageError<'a>> {
    parse_as(b"proctor", &[], args)
}

fn with<R>(args: &[&str], f: impl FnOnce(Result<Action<'_>, UsageError<'_>>) -> R) -> R {
    let owned: Vec<CString> = args.iter().map(|a| CString::new(*a).unwrap()).collect();
    let refs: Vec<&CStr> = owned.iter().map(|c| c.as_c_str()).collect();
    f(parse(&refs))
}

fn config<R>(args: &[&str], f: impl FnOnce(&Config) -> R) -> R {
    with(args, |r| match r {
        Ok(Action::Run(c)) => f(&c),
        _ => panic!("{args:?} did not parse"),
    })
}

fn message(args: &[&str]) -> std::string::String {
    with(args, |r| match r {
        Err(e) => {
            let mut t = crate::error::Text::default();
            ufmt::uwrite!(t, "{}", e).unwrap();
            std::string::String::from_utf8(t.0).unwrap()
        }
        Ok(_) => panic!("{args:?} parsed"),
    })
}

#[test]
fn command_starts_at_first_non_option_or_after_dashes() {
    config(&["-v", "true", "-x"], |c| {
        assert_eq!((c.command, c.verbosity), (1, Level::Verbose))
    });
    config(&["--", "-x"], |c| assert_eq!(c.command, 1));
    config(&["--timeout=1.5", "--timeout", "2", "x"], |c| {
        assert_eq!((c.timeout, c.command), (Some(2_000_000_000), 3))
    });
    config(&["-vv", "x"], |c| assert_eq!(c.verbosity, Level::Debug));
}

#[test]
fn numbers() {
    assert_eq!(parse_seconds(b"0.25"), Some(250_000_000));
    assert_eq!(parse_seconds(b"1.0000000019"), Some(1_000_000_001));
    for bad in [
        &b""[..],
        b"-1",
        b"1.",
        b".5",
        b"abc",
        b"1e3",
        b"18446744074",
    ] {
        assert_eq!(parse_seconds(bad), None, "{bad:?}");
    }
    assert_eq!(parse_size(b"64m"), Some(64 << 20));
    assert_eq!(parse_size(b"2K"), Some(2048));
    assert_eq!(parse_size(b"16777216t"), None);
    assert_eq!(parse_id(b"4294967295"), None);
    assert_eq!(parse_id(b"4294967294"), Some(u32::MAX - 1));
}

#[test]
fn bad_input_names_option_and_value() {
    assert_eq!(
        message(&["--timeout", "abc", "x"]),
        "--timeout: \"abc\" is not a number of seconds"
    );
    assert_eq!(
        message(&["--bogus", "x"]),
        "unknown option \"--bogus\" (see --help)"
    );
    assert_eq!(message(&["--timeout"]), "--timeout: missing value");
    assert_eq!(
        message(&["--quiet=1", "x"]),
        "--quiet: takes no value, got \"1\""
    );
    assert_eq!(message(&["-v"]), "no command given (see --help)");
    assert!(message(&["--user", "nobody", "x"]).contains("never reads /etc/passwd"));
    assert!(message(&["--bind", "/a", "x"]).starts_with("--bind: \"/a\""));
    assert!(message(&["--bind", "a:/b", "x"]).contains("SRC"));
    assert!(message(&["--rlimit", "bogus=1", "x"]).contains("names no resource"));
    assert!(message(&["--rlimit", "nofile=10:5", "x"]).contains("soft limit above"));
    assert!(message(&["--tmpfs", "/t:mode=9", "x"]).contains("mode"));
    assert!(message(&["--net", "host", "x"]).contains("only \"none\""));
}

#[test]
fn mounts_keep_order_and_defaults() {
    config(
        &[
            "--ro",
            "/",
            "--bind",
            "/s:/d:rw,noexec",
            "--tmpfs",
            "/t",
            "x",
        ],
        |c| {
            assert!(matches!(c.mounts[0], Mount::ReadOnly { .. }));
            assert!(matches!(
                c.mounts[1],
                Mount::Bind {
                    writable: true,
                    noexec: true,
                    ..
                }
            ));
            assert!(matches!(
                c.mounts[2],
                Mount::Tmpfs {
                    size: TMPFS_SIZE,
                    mode: TMPFS_MODE,
                    noexec: false,
                    ..
                }
            ));
        },
    );
    config(&["--user", "1000", "x"], |c| {
        assert_eq!(
            c.user,
            Some(User {
                uid: 1000,
                gid: 1000
            })
        )
    });
    config(&["--rlimit", "nofile=1k:unlimited", "x"], |c| {
        assert_eq!((c.rlimits[0].soft, c.rlimits[0].hard), (1024, u64::MAX))
    });
}

#[test]
fn defaults() {
    config(&["x"], |c| {
        assert_eq!(c.verbosity, Level::Warning);
        assert_eq!(c.kill_after, KILL_AFTER);
        assert_eq!(c.kill_after, 2_000_000_000);
        assert!(c.seccomp && !c.single_child && !c.clear_env && !c.keep_caps && !c.poweroff);
        assert!(!c.net_none && c.mounts.is_empty() && c.rlimits.is_empty());
        assert_eq!(
            (c.timeout, c.wait_timeout, c.chdir, c.report),
            (None, None, None, None)
        );
        assert_eq!(c.command, 0);
    });
}

#[test]
fn every_value_option_in_both_forms() {
    for (sep, at) in [(false, 2), (true, 1)] {
        let a = |o: &str, v: &str| -> std::vec::Vec<std::string::String> {
            if sep {
                std::vec![std::format!("{o}={v}")]
            } else {
                std::vec![o.into(), v.into()]
            }
        };
        let check = |o: &str, v: &str, f: &dyn Fn(&Config)| {
            let mut args = a(o, v);
            args.push("cmd".into());
            let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
            config(&refs, |c| {
                assert_eq!(c.command, at, "{o}");
                f(c)
            });
        };
        check("--wait-for", "/ready", &|c| {
            assert_eq!(c.wait_for, [c"/ready"])
        });
        check("--wait-timeout", "1.5", &|c| {
            assert_eq!(c.wait_timeout, Some(1_500_000_000))
        });
        check("--bind", "/s:/d", &|c| {
            assert_eq!(
                c.mounts[0],
                Mount::Bind {
                    src: OwnedCStr::new(b"/s").unwrap(),
                    dst: OwnedCStr::new(b"/d").unwrap(),
                    writable: false,
                    noexec: false
                }
            )
        });
        check("--tmpfs", "/t:size=1k,mode=700,noexec", &|c| {
            assert_eq!(
                c.mounts[0],
                Mount::Tmpfs {
                    dst: OwnedCStr::new(b"/t").unwrap(),
                    size: 1024,
                    mode: 0o700,
                    noexec: true
                }
            )
        });
        check("--ro", "/", &|c| {
            assert_eq!(c.mounts[0], Mount::ReadOnly { path: c"/" })
        });
        check("--net", "none", &|c| assert!(c.net_none));
        check("--chdir", "rel/dir", &|c| {
            assert_eq!(c.chdir, Some(c"rel/dir"))
        });
        check("--timeout", "0", &|c| assert_eq!(c.timeout, Some(0)));
        check("--kill-after", "0.001", &|c| {
            assert_eq!(c.kill_after, 1_000_000)
        });
        check("--rlimit", "nofile=10:20", &|c| {
            assert_eq!(
                c.rlimits[0],
                Limit {
                    resource: 7,
                    soft: 10,
                    hard: 20
                }
            )
        });
        check("--user", "1000:2000", &|c| {
            assert_eq!(
                c.user,
                Some(User {
                    uid: 1000,
                    gid: 2000
                })
            )
        });
        check("--groups", "1,2,3", &|c| assert_eq!(c.groups, [1, 2, 3]));
        check("--env", "A=b=c", &|c| {
            assert_eq!(c.env, [EnvOp::Set(c"A=b=c")])
        });
        check("--env", "A=", &|c| assert_eq!(c.env, [EnvOp::Set(c"A=")]));
        check("--unset-env", "A", &|c| {
            assert_eq!(c.env, [EnvOp::Unset(b"A")])
        });
        check("--keep-env", "A", &|c| {
            assert_eq!(c.env, [EnvOp::Keep(b"A")])
        });
        check("--keep-fd", "7", &|c| assert_eq!(c.keep_fds, [7]));
        check("--seccomp", "none", &|c| assert!(!c.seccomp));
        check("--report", "r.json", &|c| {
            assert_eq!(c.report, Some(c"r.json"))
        });
    }
}

#[test]
fn flags_short_long_and_clustered() {
    config(&["-sgc", "x"], |c| assert!(c.single_child));
    config(&["--single-child", "--subreaper", "--pgroup", "x"], |c| {
        assert!(c.single_child)
    });
    config(
        &["--clear-env", "--keep-caps", "--poweroff", "--quiet", "x"],
        |c| {
            assert!(c.clear_env && c.keep_caps && c.poweroff);
            assert_eq!(c.verbosity, Level::Fatal);
        },
    );
    config(&["-vvvvv", "x"], |c| assert_eq!(c.verbosity, Level::Debug));
    // Levels count: -q then -v is back to the default.
    config(&["-q", "-v", "x"], |c| {
        assert_eq!(c.verbosity, Level::Warning)
    });
    config(&["-v", "-q", "x"], |c| {
        assert_eq!(c.verbosity, Level::Fatal)
    });
}

#[test]
fn help_and_version_stop_parsing() {
    with(&["-h", "--bogus"], |r| {
        assert!(matches!(r, Ok(Action::Help)))
    });
    with(&["-vV"], |r| assert!(matches!(r, Ok(Action::Version))));
    with(&["--version", "--timeout"], |r| {
        assert!(matches!(r, Ok(Action::Version)))
    });
    // ...but an error before them wins, and after the command they are arguments.
    with(&["--bogus", "-h"], |r| assert!(r.is_err()));
    config(&["cmd", "-h", "--version"], |c| assert_eq!(c.command, 0));
}

#[test]
fn command_boundaries() {
    config(&["-"], |c| assert_eq!(c.command, 0));
    config(&["", "-v"], |c| assert_eq!(c.command, 0));
    config(&["--", "--"], |c| assert_eq!(c.command, 1));
    config(&["-v", "--", "--timeout", "x"], |c| {
        assert_eq!((c.command, c.timeout), (2, None))
    });
    // A value that looks like an option is still the value.
    config(&["--chdir", "-v", "x"], |c| {
        assert_eq!((c.chdir, c.verbosity), (Some(c"-v"), Level::Warning))
    });
    for none in [&[][..], &["--"], &["-v", "-q"], &["--timeout", "1"]] {
        with(none, |r| assert_eq!(r.err(), Some(UsageError::NoCommand)));
    }
}

#[test]
fn repeatable_options_keep_order() {
    config(
        &[
            "--wait-for",
            "/b",
            "--wait-for=/a",
            "--env",
            "X=1",
            "--unset-env",
            "Y",
            "--keep-env=Z",
            "--env",
            "X=2",
            "--keep-fd",
            "9",
            "--keep-fd=4",
            "x",
        ],
        |c| {
            assert_eq!(c.wait_for, [c"/b", c"/a"]);
            assert_eq!(
                c.env,
                [
                    EnvOp::Set(c"X=1"),
                    EnvOp::Unset(b"Y"),
                    EnvOp::Keep(b"Z"),
                    EnvOp::Set(c"X=2")
                ]
            );
            assert_eq!(c.keep_fds, [9, 4]);
        },
    );
    config(&["--timeout", "1", "--timeout=2.5", "x"], |c| {
        assert_eq!(c.timeout, Some(2_500_000_000))
    });
}

#[test]
fn number_edges() {
    assert_eq!(parse_seconds(b"0"), Some(0));
    assert_eq!(parse_seconds(b"0.000000001"), Some(1));
    assert_eq!(parse_seconds(b"0.0000000009"), Some(0));
    assert_eq!(parse_seconds(b"007.5"), Some(7_500_000_000));
    assert_eq!(parse_seconds(b"18446744073.709551615"), Some(u64::MAX));
    assert_eq!(parse_seconds(b"18446744073.709551616"), None);
    for bad in [
        &b"1..2"[..],
        b"1.2.3",
        b"1.-2",
        b"1. 2",
        b"\xff",
        b"\xd9\xa1",
    ] {
        assert_eq!(parse_seconds(bad), None, "{bad:?}");
    }
    assert_eq!(parse_size(b"0"), Some(0));
    assert_eq!(parse_size(b"1t"), Some(1 << 40));
    assert_eq!(parse_size(b"16777215t"), Some(16777215 << 40));
    for bad in [&b"k"[..], b"1kk", b"-1", b"1 k", b"1.5k", b"1K "] {
        assert_eq!(parse_size(bad), None, "{bad:?}");
    }
    assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
    assert_eq!(parse_u64(b"18446744073709551616"), None);
    assert_eq!(parse_id(b"0"), Some(0));
}

/// The unit-level bad-input matrix: every refusal names the option and the
/// value the user gave (the integration tests check the exit code and that
/// nothing ran).
#[test]
fn every_refusal_names_option_and_value() {
    let cases: &[&[&str]] = &[
        &["--wait-timeout", "-1"],
        &["--wait-timeout=abc"],
        &["--timeout", "1e3"],
        &["--kill-after", "18446744074"],
        &["--keep-fd", "-1"],
        &["--keep-fd", "2147483648"],
        &["--user", "nobody"],
        &["--user", "1:2:3"],
        &["--groups", "1,,2"],
        &["--rlimit", "nofile=1x"],
        &["--rlimit", "nofile=99999999999999999999"],
        &["--bind", "/a:/b:exec"],
        &["--tmpfs", "/t:size=0"],
        &["--ro", "rel"],
        &["--net", "host"],
        &["--env", "NOEQ"],
        &["--unset-env", "A=B"],
        &["--keep-env", "=B"],
        &["--seccomp", "strict"],
    ];
    for case in cases {
        let mut args: Vec<&str> = case.to_vec();
        args.push("x");
        let (option, value) = match case {
            [o, v] => (*o, *v),
            [ov] => ov.split_once('=').unwrap(),
            _ => unreachable!(),
        };
        let m = message(&args);
        assert!(
            m.starts_with(&std::format!("{option}: \"{value}\" ")),
            "{case:?}: {m}"
        );
    }
    for flag in [
        "--help",
        "--quiet",
        "--clear-env",
        "--keep-caps",
        "--poweroff",
    ] {
        let m = message(&[&std::format!("{flag}=yes"), "x"]);
        assert!(m.starts_with(flag) && m.contains("\"yes\""), "{m}");
    }
    assert_eq!(
        message(&["--x=1", "y"]),
        "unknown option \"--x=1\" (see --help)"
    );
    assert_eq!(
        message(&["-vx", "y"]),
        "unknown option \"-vx\" (see --help)"
    );
    assert_eq!(
        message(&["--timeout", "1\n2", "y"]),
        "--timeout: \"1\\x0a2\" is not a number of seconds"
    );
}

#[test]
fn input_and_output_options() {
    config(
        &[
            "--stdin",
            "in",
            "--stdout=/o",
            "--stderr",
            "e",
            "--output-limit",
            "1m",
            "x",
        ],
        |c| {
            assert_eq!(c.stdin, Some(c"in"));
            assert_eq!(c.stdout, Some(c"/o"));
            assert_eq!(c.stderr, Some(c"e"));
            assert_eq!(c.output_limit, Some(1 << 20));
            assert!(!c.stderr_to_stdout);
        },
    );
    config(&["--stderr-to-stdout", "--output-limit=1", "x"], |c| {
        assert!(c.stderr_to_stdout);
        assert_eq!(c.output_limit, Some(1));
    });
    config(&["x"], |c| {
        assert_eq!(
            (c.stdin, c.stdout, c.stderr, c.output_limit),
            (None, None, None, None)
        );
        assert!(!c.stderr_to_stdout);
    });
    for bad in [
        "0",
        "-1",
        "abc",
        "1x",
        "18446744073709551616",
        "17179869184g",
        "1.5m",
    ] {
        assert_eq!(
            message(&["--output-limit", bad, "x"]),
            std::format!(
                "--output-limit: \"{bad}\" is not a positive number of bytes (k/m/g/t allowed)"
            )
        );
    }
    assert_eq!(
        message(&["--output-limit", "", "x"]),
        "--output-limit: \"\" is empty"
    );
    assert_eq!(message(&["--stdin", "", "x"]), "--stdin: \"\" is empty");
    assert_eq!(message(&["--stdout"]), "--stdout: missing value");
    assert_eq!(
        message(&["--stderr", "e", "--stderr-to-stdout", "x"]),
        "--stderr-to-stdout: cannot be combined with --stderr"
    );
    assert_eq!(
        message(&["--stderr-to-stdout=1", "x"]),
        "--stderr-to-stdout: takes no value, got \"1\""
    );
}

fn with_as<R>(
    argv0: &str,
    env: &[&str],
    args: &[&str],
    f: impl FnOnce(Result<Action<'_>, UsageError<'_>>) -> R,
) -> R {
    let owned: Vec<CString> = args.iter().map(|a| CString::new(*a).unwrap()).collect();
    let refs: Vec<&CStr> = owned.iter().map(|c| c.as_c_str()).collect();
    let env: Vec<CString> = env.iter().map(|a| CString::new(*a).unwrap()).collect();
    let env: Vec<&CStr> = env.iter().map(|c| c.as_c_str()).collect();
    f(parse_as(argv0.as_bytes(), &env, &refs))
}

#[test]
fn tini_flags() {
    config(&["-p", "SIGTERM", "-e", "3", "-e4", "-w", "x"], |c| {
        assert_eq!(c.pdeathsig, Some(15));
        assert_eq!(c.exit_zero, [3, 4]);
        assert!(c.log_reaped);
        assert_eq!(c.command, 6);
    });
    config(&["-pKILL", "-s", "-g", "x"], |c| {
        assert_eq!(c.pdeathsig, Some(9))
    });
    config(&["-vwp", "HUP", "x"], |c| {
        assert_eq!(
            (c.pdeathsig, c.log_reaped, c.verbosity),
            (Some(1), true, Level::Verbose)
        )
    });
    with(&["-l", "x"], |r| assert!(matches!(r, Ok(Action::License))));
    assert_eq!(
        message(&["-p", "SIGFOO", "x"]),
        "-p: \"SIGFOO\" is not a signal (a name such as TERM or SIGTERM, or 1 to 64)"
    );
    assert_eq!(
        message(&["-p", "0", "x"]).get(..13),
        Some("-p: \"0\" is no")
    );
    assert_eq!(
        message(&["-e", "256", "x"]),
        "-e: \"256\" is not an exit code (0 to 255)"
    );
    assert_eq!(
        message(&["-e", "-1", "x"]),
        "-e: \"-1\" is not an exit code (0 to 255)"
    );
    assert_eq!(message(&["-e"]), "-e: missing value");
}

#[test]
fn dumb_init_rewrite() {
    config(
        &[
            "-r",
            "15:3",
            "--rewrite=SIGHUP:0",
            "--rewrite",
            "USR1:TERM",
            "x",
        ],
        |c| assert_eq!(c.rewrite, [(15, 3), (1, 0), (10, 15)]),
    );
    config(&["-r15:3", "x"], |c| assert_eq!(c.rewrite, [(15, 3)]));
    assert_eq!(
        message(&["--rewrite", "15", "x"]),
        "--rewrite: \"15\" is not SIGNAL:SIGNAL"
    );
    assert!(message(&["-r", "15:99", "x"]).contains("is not a signal"));
    assert!(message(&["-r", "0:1", "x"]).contains("is not a signal"));
}

#[test]
fn signal_names() {
    assert_eq!(parse_signal(b"TERM"), Some(15));
    assert_eq!(parse_signal(b"SIGSYS"), Some(31));
    assert_eq!(parse_signal(b"64"), Some(64));
    assert_eq!(parse_signal(b"65"), None);
    assert_eq!(parse_signal(b"term"), None);
    assert_eq!(parse_signal(b"SIG"), None);
}

#[test]
fn docker_init_personality_and_compat_environment() {
    with_as("/usr/bin/docker-init", &[], &["sh"], |r| match r {
        Ok(Action::Run(c)) => assert!(c.keep_caps && !c.seccomp && c.docker_init),
        _ => panic!(),
    });
    with_as(
        "docker-init",
        &[],
        &["--seccomp", "default", "sh"],
        |r| match r {
            Ok(Action::Run(c)) => assert!(c.keep_caps && c.seccomp),
            _ => panic!(),
        },
    );
    with_as(
        "/sbin/proctor",
        &["TINI_VERBOSITY=3", "DUMB_INIT_SETSID=0"],
        &["sh"],
        |r| match r {
            Ok(Action::Run(c)) => {
                assert!(!c.keep_caps && c.seccomp && !c.docker_init);
                assert_eq!((c.verbosity, c.single_child), (Level::Debug, true));
            }
            _ => panic!(),
        },
    );
    with_as(
        "proctor",
        &["TINI_VERBOSITY=0"],
        &["-v", "sh"],
        |r| match r {
            Ok(Action::Run(c)) => assert_eq!(c.verbosity, Level::Warning),
            _ => panic!(),
        },
    );
}

#[test]
fn landlock_options() {
    config(&["x"], |c| {
        assert!(!c.landlock && !c.no_tcp && c.writable.is_empty());
    });
    config(
        &[
            "--landlock",
            "--writable",
            "/tmp",
            "--no-tcp",
            "--writable=/work/out",
            "x",
        ],
        |c| {
            assert!(c.landlock && c.no_tcp);
            let w: Vec<&[u8]> = c.writable.iter().map(|p| p.to_bytes()).collect();
            assert_eq!(w, [&b"/tmp"[..], b"/work/out"]);
        },
    );
    // --no-tcp stands alone; --writable needs --landlock, wherever it comes.
    config(&["--no-tcp", "x"], |c| assert!(c.no_tcp && !c.landlock));
    config(&["--writable", "/tmp", "--landlock", "x"], |c| {
        assert!(c.landlock)
    });
    assert_eq!(
        message(&["--writable", "/tmp", "x"]),
        "--writable: \"/tmp\" needs --landlock"
    );
    assert_eq!(
        message(&["--landlock", "--writable", "tmp", "x"]),
        "--writable: \"tmp\" is not an absolute path"
    );
    assert_eq!(
        message(&["--landlock", "--writable", "/a/../etc", "x"]),
        "--writable: \"/a/../etc\" must not contain \"..\""
    );
    assert_eq!(
        message(&["--landlock", "--writable=", "x"]),
        "--writable: \"\" is empty"
    );
    assert_eq!(
        message(&["--landlock=1", "x"]),
        "--landlock: takes no value, got \"1\""
    );
    assert_eq!(
        message(&["--landlock", "--writable"]),
        "--writable: missing value"
    );
}

#[test]
fn cgroup_options_parse_into_resources() {
    config(&["x"], |c| assert_eq!(c.cgroup, None));
    config(&["--cgroup", "x"], |c| {
        assert_eq!(c.cgroup, Some(Resources::default()))
    });
    config(
        &[
            "--memory",
            "64m",
            "--pids=20",
            "--cpus",
            "1.5",
            "--cpu-time",
            "0.25",
            "x",
        ],
        |c| {
            assert_eq!(
                c.cgroup,
                Some(Resources {
                    memory: Some(64 << 20),
                    pids: Some(20),
                    cpus_micro: Some(1_500_000),
                    cpu_time: Some(250_000_000),
                })
            )
        },
    );
    config(&["--cpus", "0.01", "--memory", "1048576", "x"], |c| {
        let r = c.cgroup.unwrap();
        assert_eq!((r.cpus_micro, r.memory), (Some(10_000), Some(1 << 20)))
    });
}

#[test]
fn cgroup_values_are_refused_at_parse_time() {
    for (option, value, why) in [
        ("--memory", "abc", "is not a size in bytes with k/m/g/t"),
        ("--memory", "-1", "is not a size in bytes with k/m/g/t"),
        (
            "--memory",
            "99999999999t",
            "is not a size in bytes with k/m/g/t",
        ),
        (
            "--memory",
            "4096",
            "is below 1m, too little for any command",
        ),
        ("--memory", "9000000t", "is larger than the kernel takes"),
        (
            "--pids",
            "-1",
            "is not a number of processes from 1 to 4194304",
        ),
        (
            "--pids",
            "0",
            "is not a number of processes from 1 to 4194304",
        ),
        (
            "--pids",
            "4194305",
            "is not a number of processes from 1 to 4194304",
        ),
        (
            "--pids",
            "99999999999999999999",
            "is not a number of processes from 1 to 4194304",
        ),
        (
            "--cpus",
            "0",
            "is not a number of CPUs from 0.01 on (decimal allowed)",
        ),
        (
            "--cpus",
            "0.001",
            "is not a number of CPUs from 0.01 on (decimal allowed)",
        ),
        (
            "--cpus",
            "-2",
            "is not a number of CPUs from 0.01 on (decimal allowed)",
        ),
        (
            "--cpus",
            "1e3",
            "is not a number of CPUs from 0.01 on (decimal allowed)",
        ),
        (
            "--cpu-time",
            "0",
            "is not a number of seconds from 0.001 on",
        ),
        (
            "--cpu-time",
            "abc",
            "is not a number of seconds from 0.001 on",
        ),
        (
            "--cpu-time",
            "18446744074",
            "is not a number of seconds from 0.001 on",
        ),
    ] {
        assert_eq!(
            message(&[option, value, "x"]),
            std::format!("{option}: \"{value}\" {why}")
        );
    }
    assert_eq!(
        message(&["--cgroup=1", "x"]),
        "--cgroup: takes no value, got \"1\""
    );
}

#[test]
fn vm_options() {
    config(
        &[
            "--reboot",
            "--module",
            "/m/virtio.ko",
            "--module=/m/virtio_blk.ko:queue_depth=64:x",
            "--mount",
            "/dev/vda:/submission:ext4",
            "--mount",
            "/dev/vdb:/data:squashfs:rw,noexec",
            "x",
        ],
        |c| {
            assert!(c.reboot && !c.poweroff && c.vm());
            let modules: Vec<(&[u8], &[u8])> = c
                .modules
                .iter()
                .map(|m| (m.file.to_bytes(), m.params.to_bytes()))
                .collect();
            assert_eq!(
                modules,
                [
                    (&b"/m/virtio.ko"[..], &b""[..]),
                    (b"/m/virtio_blk.ko", b"queue_depth=64:x")
                ]
            );
            assert_eq!(
                c.mounts[0],
                Mount::Device {
                    dev: OwnedCStr::new(b"/dev/vda").unwrap(),
                    dst: OwnedCStr::new(b"/submission").unwrap(),
                    fstype: c"ext4",
                    writable: false,
                    noexec: false,
                }
            );
            assert!(matches!(
                &c.mounts[1],
                Mount::Device { fstype, writable: true, noexec: true, .. } if *fstype == c"squashfs"
            ));
        },
    );
    config(&["--poweroff", "--module", "/a.ko", "x"], |c| {
        assert!(c.poweroff && !c.reboot && c.vm())
    });
    config(&["--mount", "/dev/vda:/s:vfat", "x"], |c| assert!(!c.vm()));
}

#[test]
fn vm_refusals() {
    assert_eq!(
        message(&["--reboot", "--poweroff", "x"]),
        "--reboot: cannot be combined with --poweroff"
    );
    assert_eq!(
        message(&["--poweroff", "--reboot", "x"]),
        "--reboot: cannot be combined with --poweroff"
    );
    assert_eq!(
        message(&["--module", "/a.ko", "x"]),
        "--module: needs --poweroff or --reboot (proctor as the init of a VM)"
    );
    assert!(message(&["--module", "a.ko", "--reboot", "x"]).contains("FILE"));
    assert!(message(&["--mount", "/dev/vda:/s:btrfs", "x"]).contains("FSTYPE"));
    assert!(message(&["--mount", "/dev/vda:/s", "x"]).contains("DEV:DST:FSTYPE"));
    assert!(message(&["--mount", "vda:/s:ext4", "x"]).contains("DEV"));
    assert!(message(&["--mount", "/dev/vda:/s/../x:ext4", "x"]).contains("DST"));
    assert!(message(&["--mount", "/dev/vda:/s:ext4:ro,rw", "x"]).contains("both ro and rw"));
    assert!(message(&["--reboot=1", "x"]).contains("takes no value"));
}

#[test]
fn pid_ns_flag() {
    config(&["x"], |c| assert!(!c.pid_ns));
    config(&["--pid-ns", "x"], |c| {
        assert!(c.pid_ns && c.mounts.is_empty())
    });
    config(&["-c", "--pid-ns", "--", "x"], |c| {
        assert!(c.pid_ns && c.single_child)
    });
    let m = message(&["--pid-ns=1", "x"]);
    assert_eq!(m, "--pid-ns: takes no value, got \"1\"");
}
