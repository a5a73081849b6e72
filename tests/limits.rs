//! `--rlimit`: the values the command sees, the default core=0, and the
//! limits actually stopping a writer, a fork bomb and a memory hog.
mod common;
use common::*;
use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;

/// `/proc/self/limits` of the command: the row name → (soft, hard).
fn limits(text: &str) -> BTreeMap<String, (String, String)> {
    text.lines()
        .skip(1)
        .map(|l| {
            let (name, rest) = l.split_at(26);
            let mut v = rest.split_whitespace();
            let (soft, hard) = (v.next().unwrap(), v.next().unwrap());
            (
                name.trim().to_string(),
                (soft.to_string(), hard.to_string()),
            )
        })
        .collect()
}

fn command_limits(mode: Mode, opts: &[&str]) -> BTreeMap<String, (String, String)> {
    let mut args = opts.to_vec();
    args.extend(["cat", "/proc/self/limits"]);
    let out = run(mode, &args);
    assert_eq!(code(&out), 0, "{opts:?}: {}", stderr(&out));
    limits(&stdout(&out))
}

#[test]
fn every_resource_reaches_the_command() {
    skip_unless!(ready());
    // (option, row of /proc/self/limits, soft, hard): all below the hard
    // limits a test runner has, since raising them needs CAP_SYS_RESOURCE.
    let cases = [
        ("cpu=100:200", "Max cpu time", "100", "200"),
        ("fsize=10m:20m", "Max file size", "10485760", "20971520"),
        ("data=1g:2g", "Max data size", "1073741824", "2147483648"),
        ("stack=4m:8m", "Max stack size", "4194304", "8388608"),
        ("core=1k:2K", "Max core file size", "1024", "2048"),
        (
            "rss=1t:2t",
            "Max resident set",
            "1099511627776",
            "2199023255552",
        ),
        ("nproc=1000:2000", "Max processes", "1000", "2000"),
        ("nofile=100:200", "Max open files", "100", "200"),
        ("memlock=64k:128k", "Max locked memory", "65536", "131072"),
        (
            "as=4g:unlimited",
            "Max address space",
            "4294967296",
            "unlimited",
        ),
        ("locks=10:20", "Max file locks", "10", "20"),
        ("sigpending=100:200", "Max pending signals", "100", "200"),
        ("msgqueue=1k:2k", "Max msgqueue size", "1024", "2048"),
        ("nice=0:0", "Max nice priority", "0", "0"),
        ("rtprio=0", "Max realtime priority", "0", "0"),
        ("rttime=1000:2000", "Max realtime timeout", "1000", "2000"),
    ];
    let mut opts = Vec::new();
    for (opt, ..) in &cases {
        opts.extend(["--rlimit", opt]);
    }
    for mode in MODES {
        let got = command_limits(mode, &opts);
        for (opt, row, soft, hard) in &cases {
            let want = (soft.to_string(), hard.to_string());
            assert_eq!(got[*row], want, "{mode:?} --rlimit {opt}");
        }
    }
}

#[test]
fn hard_defaults_to_soft_and_the_last_setting_wins() {
    skip_unless!(ready());
    let got = command_limits(
        Mode::Pid1,
        &[
            "--rlimit",
            "nofile=300",
            "--rlimit=cpu=7",
            "--rlimit",
            "cpu=5:6",
        ],
    );
    assert_eq!(got["Max open files"], ("300".into(), "300".into()));
    assert_eq!(got["Max cpu time"], ("5".into(), "6".into()));
    // `unlimited` where the hard limit already is unlimited.
    let got = command_limits(Mode::Pid1, &["--rlimit", "fsize=unlimited"]);
    assert_eq!(
        got["Max file size"],
        ("unlimited".into(), "unlimited".into())
    );
}

#[test]
fn core_is_zero_unless_given() {
    skip_unless!(ready());
    for mode in MODES {
        let got = command_limits(mode, &[]);
        assert_eq!(
            got["Max core file size"],
            ("0".into(), "0".into()),
            "{mode:?}"
        );
        // The other limits are left as proctor found them.
        let own = limits(&std::fs::read_to_string("/proc/self/limits").unwrap());
        assert_eq!(got["Max open files"], own["Max open files"], "{mode:?}");
        let got = command_limits(mode, &["--rlimit", "core=4k"]);
        assert_eq!(got["Max core file size"], ("4096".into(), "4096".into()));
    }
}

#[test]
fn fsize_kills_a_writer_with_sigxfsz() {
    skip_unless!(ready());
    let dir = tempfile::tempdir().unwrap();
    for mode in MODES {
        let file = dir.path().join(format!("{mode:?}"));
        let of = format!("of={}", file.display());
        let out = run(
            mode,
            &[
                "--rlimit",
                "fsize=1m",
                "dd",
                "if=/dev/zero",
                &of,
                "bs=64k",
                "count=64",
            ],
        );
        assert_eq!(
            code(&out),
            128 + libc::SIGXFSZ,
            "{mode:?}: {}",
            stderr(&out)
        );
        assert_eq!(std::fs::metadata(&file).unwrap().len(), 1 << 20);
    }
}

#[test]
fn nproc_caps_the_processes_of_the_command_user() {
    skip_unless!(ready());
    // RLIMIT_NPROC counts per real uid across the machine: a uid of its own
    // per run, since tests run in parallel.
    for (mode, uid) in [(Mode::Pid1, "61001"), (Mode::Subreaper, "61002")] {
        let script = "n=0; while [ $n -lt 100 ]; do sleep 1000 & n=$((n+1)); echo $n; done";
        let out = run(
            mode,
            &["--user", uid, "--rlimit", "nproc=10", "sh", "-c", script],
        );
        // sh counts itself: 9 sleeps, then fork fails and sh gives up.
        let started: u32 = stdout(&out).lines().last().unwrap().parse().unwrap();
        assert_eq!(started, 9, "{mode:?}: {}", stderr(&out));
        assert_eq!(code(&out), 2, "{mode:?}: sh's status for a failed fork");
        assert!(stderr(&out).contains("fork"), "{mode:?}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("RLIMIT_NPROC"),
            "no warning with --user"
        );
    }
}

#[test]
fn a_fork_bomb_under_nproc_leaves_proctor_in_control() {
    skip_unless!(
        ready(),
        tool("setsid", "lets the bomb leave the command's group")
    );
    let dir = tempfile::tempdir().unwrap();
    for (mode, uid) in [(Mode::Pid1, "61003"), (Mode::Subreaper, "61004")] {
        let report = dir.path().join(format!("{mode:?}.json"));
        // Each process forks two more, then becomes a sleeper in a session
        // of its own (out of reach of the timeout's SIGTERM to the command's
        // group); a process whose fork fails dies, a zombie under a sleeper
        // still counts against the limit.
        let bomb = "b() { b & b & exec setsid sleep 1000; }; b 2>/dev/null & exec sleep 1000";
        let out = run(
            mode,
            &[
                "--user",
                uid,
                "--rlimit",
                "nproc=30",
                "--timeout",
                "2",
                "--kill-after",
                "1",
                "--report",
                report.to_str().unwrap(),
                "sh",
                "-c",
                bomb,
            ],
        );
        // The timeout still fires and everything the bomb left is killed.
        assert_eq!(code(&out), 124, "{mode:?}: {}", stderr(&out));
        let r = common::report(&report);
        assert_eq!(r["status"], "timeout", "{mode:?}");
        // The limit held: fewer than 30 processes of that uid were left
        // (PID 1 counts the zombies it reaps too, a subreaper the live ones).
        let left = r["leftovers_killed"].as_u64().unwrap();
        assert!((10..30).contains(&left), "{mode:?}: {r}");
    }
}

#[test]
fn nproc_for_root_warns_before_the_command_runs() {
    skip_unless!(ready());
    let out = run(Mode::Pid1, &["--rlimit", "nproc=10", "true"]);
    assert_eq!(code(&out), 0);
    assert!(
        stderr(&out)
            .contains("warning: --rlimit nproc: the kernel does not apply RLIMIT_NPROC to uid 0"),
        "{}",
        stderr(&out)
    );
    let out = run(Mode::Pid1, &["--user", "0", "--rlimit", "nproc=10", "true"]);
    assert!(
        stderr(&out).contains("RLIMIT_NPROC"),
        "--user 0 is root too"
    );
    let out = run(Mode::Pid1, &["-q", "--rlimit", "nproc=10", "true"]);
    assert_eq!(stderr(&out), "", "-q silences warnings");
}

#[test]
fn as_stops_a_memory_hog() {
    skip_unless!(ready());
    // dd allocates its whole block at once.
    let hog = ["dd", "bs=100M", "count=1", "if=/dev/zero", "of=/dev/null"];
    for mode in MODES {
        let out = run(mode, &hog);
        assert_eq!(code(&out), 0, "{mode:?} without a limit: {}", stderr(&out));
        let mut args = vec!["--rlimit", "as=64m"];
        args.extend(hog);
        let out = run(mode, &args);
        assert_eq!(code(&out), 1, "{mode:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("memory exhausted"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn raising_a_hard_limit_without_cap_sys_resource_fails() {
    skip_unless!(ready());
    const CAP_SYS_RESOURCE: u32 = 24;
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let touch = format!("touch {}", marker.display());
    for mode in MODES {
        let report = dir.path().join("report.json");
        let report_arg = report.to_str().unwrap();
        let start = |limit: &str| {
            let args = [
                "--report", report_arg, "--rlimit", limit, "sh", "-c", &touch,
            ];
            let mut cmd = command(mode, &args);
            without_caps(&mut cmd, &[CAP_SYS_RESOURCE]);
            // SAFETY: setrlimit is async-signal-safe.
            unsafe {
                cmd.pre_exec(|| {
                    let l = libc::rlimit {
                        rlim_cur: 100,
                        rlim_max: 100,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &l) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            run_cmd(cmd, std::time::Duration::from_secs(60))
        };
        let out = start("nofile=50:200");
        assert_eq!(code(&out), 125, "{mode:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("nofile") && err.contains("CAP_SYS_RESOURCE"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(!marker.exists(), "{mode:?}: the command ran");
        let r = common::report(&report);
        assert_eq!(r["status"], "setup_error");
        assert_eq!(r["exit_code"], 125);
        // Lowering needs no privilege.
        let out = start("nofile=50:80");
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert!(marker.exists());
        std::fs::remove_file(&marker).unwrap();
    }
}
