//! The core through the real binary, as PID 1 and as a plain subreaper:
//! exit codes, exec failures, help and version, log levels, stdin, large
//! argument lists and environments, working directories, the report, and
//! the bad-input matrix.
mod common;
mod helper;
use common::*;
use helper::*;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Only the report is left in its directory: no temporary file.
fn only_report_in(dir: &Path, name: &str) {
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, [name], "no temporary file left behind");
}

#[test]
fn exit_codes_pass_through() {
    if !ready() {
        return;
    }
    for mode in MODES {
        for c in [0, 1, 2, 3, 42, 100, 125, 126, 127, 128, 129, 200, 254, 255] {
            let out = run(mode, &["sh", "-c", &format!("exit {c}")]);
            assert_eq!(code(&out), c, "{mode:?}: {}", stderr(&out));
            assert_eq!(stderr(&out), "", "{mode:?} {c}");
        }
    }
}

#[test]
fn killed_by_signal_is_128_plus_n() {
    if !ready() {
        return;
    }
    for mode in MODES {
        for sig in [
            libc::SIGHUP,
            libc::SIGINT,
            libc::SIGQUIT,
            libc::SIGKILL,
            libc::SIGUSR1,
            libc::SIGSEGV,
            libc::SIGUSR2,
            libc::SIGTERM,
        ] {
            let argv = helper("die", &[&sig.to_string()]);
            let out = run(mode, &strs(&argv));
            assert_eq!(code(&out), 128 + sig, "{mode:?}: {}", stderr(&out));
        }
    }
}

/// One line on stderr, `proctor: exec: <name>: <ERRNO>`.
fn exec_failure(mode: Mode, args: &[&str], want: i32, name: &str, errno: &str) {
    let out = run(mode, args);
    assert_eq!(code(&out), want, "{mode:?} {args:?}: {}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!("proctor: exec: {name}: {errno}\n"),
        "{mode:?} {args:?}"
    );
    assert_eq!(stdout(&out), "");
}

#[test]
fn exec_failures_are_126_and_127() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    std::fs::write(&plain, "#!/bin/sh\nexit 0\n").unwrap();
    let script = dir.path().join("noshebang");
    std::fs::write(&script, "exit 0\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::copy(&plain, bin.join("notexec")).unwrap();
    let search = format!("PATH={}", path(&bin));
    for mode in MODES {
        exec_failure(mode, &[path(&plain)], 126, path(&plain), "EACCES");
        exec_failure(mode, &[path(dir.path())], 126, path(dir.path()), "EACCES");
        // proctor never runs a shell: no `sh` fallback for a script without `#!`.
        exec_failure(mode, &[path(&script)], 126, path(&script), "ENOEXEC");
        exec_failure(
            mode,
            &["/nonexistent/cmd"],
            127,
            "/nonexistent/cmd",
            "ENOENT",
        );
        exec_failure(mode, &["-q", "/nonexistent"], 127, "/nonexistent", "ENOENT");
        let file_as_dir = format!("{}/x", path(&plain));
        exec_failure(mode, &[&file_as_dir], 127, &file_as_dir, "ENOTDIR");
        // Searched in PATH.
        exec_failure(
            mode,
            &["no-such-command-xyz"],
            127,
            "no-such-command-xyz",
            "ENOENT",
        );
        exec_failure(
            mode,
            &["--env", &search, "notexec"],
            126,
            "notexec",
            "EACCES",
        );
        let out = run(mode, &["--env", &search, "sh", "-c", "exit 0"]);
        assert_eq!(
            code(&out),
            127,
            "{mode:?}: only the command's PATH is searched"
        );
        // Found in the default PATH.
        let out = run(mode, &["--clear-env", "sh", "-c", "exit 4"]);
        assert_eq!(code(&out), 4, "{mode:?}: {}", stderr(&out));
    }
}

#[test]
fn help_and_version_on_stdout() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    for mode in MODES {
        for flag in ["-h", "--help", "-vh"] {
            let out = run(mode, &[flag, "touch", path(&marker)]);
            assert_eq!(code(&out), 0, "{mode:?} {flag}");
            assert!(stdout(&out).starts_with("usage: proctor "), "{flag}");
            for option in [
                "--timeout",
                "--kill-after",
                "--chdir",
                "--report",
                "--single-child",
            ] {
                assert!(stdout(&out).contains(option), "{flag} documents {option}");
            }
            assert_eq!(stderr(&out), "");
        }
        for flag in ["-V", "--version"] {
            let out = run(mode, &[flag, "touch", path(&marker)]);
            assert_eq!(code(&out), 0, "{mode:?} {flag}");
            assert_eq!(
                stdout(&out),
                format!("proctor {}\n", env!("CARGO_PKG_VERSION"))
            );
            assert_eq!(stderr(&out), "");
        }
        assert!(!marker.exists(), "the command never ran");
    }
}

fn lines_all_prefixed(err: &str) {
    for l in err.lines() {
        assert!(l.starts_with("proctor: "), "{l:?} in {err}");
    }
}

#[test]
fn log_levels() {
    if !ready() {
        return;
    }
    for mode in MODES {
        let pid = if mode == Mode::Pid1 { 2 } else { 3 };
        let quiet = run(mode, &["true"]);
        assert_eq!(
            (code(&quiet), stderr(&quiet)),
            (0, String::new()),
            "{mode:?}"
        );
        let out = run(mode, &["-v", "true"]);
        let err = stderr(&out);
        assert!(
            err.contains(&format!("proctor: started the command as pid {pid}\n")),
            "{err}"
        );
        assert!(!err.contains("reaped"), "{err}");
        lines_all_prefixed(&err);
        // An orphaned zombie (pid + 2: the helper's grandchild) is reaped and logged.
        let out = run(
            mode,
            &strs(&[vec!["-vv".to_owned()], helper("zombies", &["1"])].concat()),
        );
        let err = stderr(&out);
        assert_eq!(code(&out), 0, "{mode:?}: {err}");
        assert!(
            err.contains(&format!("proctor: reaped pid {}\n", pid + 2)),
            "{err}"
        );
        assert!(
            err.contains(&format!("proctor: reaped pid {pid}\n")),
            "{err}"
        );
        lines_all_prefixed(&err);
        // A command that signals proctor: -vv logs the forwarding.
        let out = run(mode, &["-vv", "sh", "-c", "trap '' USR1; kill -USR1 $PPID"]);
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("proctor: forwarded signal 10 to group {pid}\n")),
            "{}",
            stderr(&out)
        );
        let out = run(
            mode,
            &["-vv", "-c", "sh", "-c", "trap '' USR1; kill -USR1 $PPID"],
        );
        assert!(
            stderr(&out).contains(&format!("proctor: forwarded signal 10 to {pid}\n")),
            "{}",
            stderr(&out)
        );
        // -q silences everything but the fatal line.
        let out = run(mode, &["-v", "-q", "--timeout", "0.1", "sleep", "5"]);
        assert_eq!((code(&out), stderr(&out)), (124, String::new()), "{mode:?}");
        // The accepted tini flags change nothing.
        let out = run(
            mode,
            &["-s", "-g", "--subreaper", "--pgroup", "sh", "-c", "exit 6"],
        );
        assert_eq!((code(&out), stderr(&out)), (6, String::new()), "{mode:?}");
    }
}

#[test]
fn stdin_reaches_the_command() {
    if !ready() {
        return;
    }
    let data: Vec<u8> = (0..3u32 << 20).map(|i| (i * 7 + i / 251) as u8).collect();
    for mode in MODES {
        let out = run_input(
            command(mode, &["cat"]),
            data.clone(),
            Duration::from_secs(60),
        );
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert!(
            out.stdout == data,
            "{mode:?}: 3 MiB through stdin and stdout"
        );
    }
}

#[test]
fn ten_thousand_arguments_pass_intact() {
    if !ready() {
        return;
    }
    let tricky = [
        "-v",
        "--timeout",
        "--",
        "-c",
        "",
        " ",
        "a\"b\\c",
        "é€",
        "x=y",
        "--bogus=1",
    ];
    let args: Vec<String> = (0..10_000)
        .map(|i| match i % 13 {
            0..=9 => tricky[i % 13].to_owned(),
            _ => format!("arg-{i}-{}", "z".repeat(i % 37)),
        })
        .collect();
    let hash = args
        .iter()
        .fold(FNV_START, |h, a| fnv(fnv(h, a.as_bytes()), b"\0"));
    for mode in MODES {
        let mut argv = helper("argsum", &[]);
        argv.extend(args.iter().cloned());
        let out = run(mode, &strs(&argv));
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        let line = stdout(&out);
        assert!(
            line.starts_with(&format!("args 10000 {hash:016x} env 0 ")),
            "{mode:?}: {line}"
        );
    }
}

#[test]
fn a_large_environment_passes_intact() {
    if !ready() {
        return;
    }
    // 24 variables of 64 KiB each (one variable may not exceed 128 KiB).
    let vars: Vec<(String, String)> = (0..24)
        .map(|i| {
            let v: String = (0..64 * 1024)
                .map(|j: usize| (b'!' + ((j * 31 + i * 7 + j / 97) % 90) as u8) as char)
                .collect();
            (format!("CORETEST_BIG_{i:02}"), v)
        })
        .collect();
    let bytes: usize = vars.iter().map(|(k, v)| k.len() + v.len() + 1).sum();
    assert!(bytes >= 3 << 19, "at least 1.5 MiB");
    let hash = vars.iter().fold(FNV_START, |h, (k, v)| {
        fnv(fnv(fnv(h, k.as_bytes()), b"="), v.as_bytes())
    });
    for mode in MODES {
        let mut cmd = command(mode, &strs(&helper("argsum", &["x"])));
        cmd.envs(vars.iter().map(|(k, v)| (k, v)));
        let out = run_cmd(cmd, Duration::from_secs(60));
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert!(
            stdout(&out).ends_with(&format!(" env 24 {bytes} {hash:016x}\n")),
            "{mode:?}: {}",
            stdout(&out)
        );
    }
}

/// The command starts in proctor's directory (or --chdir, relative or
/// absolute); proctor itself moves to `/` so that it pins no mount (seen
/// from outside: the command has no capabilities to look at its parent).
#[test]
fn working_directories() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir_path = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::create_dir(dir_path.join("sub")).unwrap();
    for mode in MODES {
        let flag = dir_path.join("started");
        let _ = std::fs::remove_file(&flag);
        let script = format!("pwd > cwd; touch {}; exec sleep 60", flag.display());
        let mut cmd = command(mode, &["sh", "-c", &script]);
        cmd.current_dir(&dir_path);
        let (child, pid) = start(cmd, &flag);
        let deadline = Instant::now() + Duration::from_secs(30);
        let cwd = format!("/proc/{pid}/cwd");
        while std::fs::read_link(&cwd).unwrap() != Path::new("/") {
            assert!(
                Instant::now() < deadline,
                "{mode:?}: proctor stays in {cwd}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        // SAFETY: kill has no memory preconditions.
        unsafe { libc::kill(pid as i32, libc::SIGTERM) };
        let out = wait_limited(child, Duration::from_secs(30));
        assert_eq!(code(&out), 143, "{mode:?}: {}", stderr(&out));
        assert_eq!(
            std::fs::read_to_string(dir_path.join("cwd")).unwrap(),
            format!("{}\n", dir_path.display()),
            "{mode:?}: the command starts in proctor's directory"
        );

        let sub = dir_path.join("sub");
        let out = run(mode, &["--chdir", path(&sub), "pwd"]);
        assert_eq!(stdout(&out), format!("{}\n", sub.display()), "{mode:?}");
        let mut cmd = command(mode, &["--chdir=sub", "pwd"]);
        cmd.current_dir(&dir_path);
        let out = run_cmd(cmd, Duration::from_secs(60));
        assert_eq!(stdout(&out), format!("{}\n", sub.display()), "{mode:?}");
    }
}

#[test]
fn report_exited_and_signaled() {
    if !ready() {
        return;
    }
    for mode in MODES {
        let dir = tempfile::tempdir().unwrap();
        let rep = dir.path().join("report.json");
        let out = run(mode, &["--report", path(&rep), "sh", "-c", "exit 3"]);
        assert_eq!(code(&out), 3, "{mode:?}: {}", stderr(&out));
        let r = report(&rep);
        assert_eq!(r["status"], "exited");
        assert_eq!(r["exit_code"], 3);
        assert!(r["signal"].is_null() && r["message"].is_null(), "{r}");
        for k in ["wall_ms", "cpu_user_ms", "cpu_sys_ms", "max_rss_kib"] {
            assert!(r[k].is_u64(), "{k}: {r}");
        }
        assert!(r["max_rss_kib"].as_u64().unwrap() > 0, "{r}");
        assert_eq!(r["leftovers_killed"], 0);
        only_report_in(dir.path(), "report.json");

        let argv = helper("die", &["10"]);
        let mut args = vec!["--report", path(&rep)];
        args.extend(strs(&argv));
        let out = run(mode, &args);
        assert_eq!(code(&out), 138, "{mode:?}: {}", stderr(&out));
        let r = report(&rep);
        assert_eq!(r["status"], "signaled");
        assert_eq!(r["exit_code"], 138);
        assert_eq!(r["signal"], 10);
        assert!(r["message"].is_null() && r["wall_ms"].is_u64(), "{r}");
        only_report_in(dir.path(), "report.json");
    }
}

/// The usage fields of a command that never ran are null.
fn never_ran(r: &serde_json::Value) {
    for k in [
        "signal",
        "wall_ms",
        "cpu_user_ms",
        "cpu_sys_ms",
        "max_rss_kib",
    ] {
        assert!(r[k].is_null(), "{k}: {r}");
    }
    assert_eq!(r["leftovers_killed"], 0);
}

#[test]
fn report_exec_error_escapes_the_name() {
    if !ready() {
        return;
    }
    let weird = "/nonexistent/we\"ird\\name";
    for mode in MODES {
        let dir = tempfile::tempdir().unwrap();
        let rep = dir.path().join("report.json");
        let out = run(mode, &["--report", path(&rep), weird]);
        assert_eq!(code(&out), 127, "{mode:?}: {}", stderr(&out));
        let r = report(&rep);
        assert_eq!(r["status"], "exec_error");
        assert_eq!(r["exit_code"], 127);
        assert_eq!(r["message"], format!("exec: {weird}: ENOENT"), "{r}");
        never_ran(&r);
        only_report_in(dir.path(), "report.json");

        let notexec = dir.path().join("a\"b\\c");
        std::fs::write(&notexec, "").unwrap();
        let out = run(mode, &["--report", path(&rep), path(&notexec)]);
        assert_eq!(code(&out), 126, "{mode:?}: {}", stderr(&out));
        let r = report(&rep);
        assert_eq!(r["status"], "exec_error");
        assert_eq!(r["exit_code"], 126);
        assert_eq!(r["message"], format!("exec: {}: EACCES", path(&notexec)));
    }
}

#[test]
fn report_setup_error_for_a_bad_chdir() {
    if !ready() {
        return;
    }
    for mode in MODES {
        let dir = tempfile::tempdir().unwrap();
        let rep = dir.path().join("report.json");
        let marker = dir.path().join("ran");
        let bad = dir.path().join("no\"such\\dir");
        let out = run(
            mode,
            &[
                "--report",
                path(&rep),
                "--chdir",
                path(&bad),
                "touch",
                path(&marker),
            ],
        );
        assert_eq!(code(&out), 125, "{mode:?}: {}", stderr(&out));
        let msg = format!("chdir: {}: ENOENT", path(&bad));
        assert_eq!(stderr(&out), format!("proctor: {msg}\n"));
        assert!(!marker.exists(), "the command never ran");
        let r = report(&rep);
        assert_eq!(r["status"], "setup_error");
        assert_eq!(r["exit_code"], 125);
        assert_eq!(r["message"], msg);
        never_ran(&r);
    }
}

/// A symlink planted at the report path is replaced, never followed.
#[test]
fn report_replaces_a_planted_symlink() {
    if !ready() {
        return;
    }
    for mode in MODES {
        let dir = tempfile::tempdir().unwrap();
        let out_dir = dir.path().join("out");
        std::fs::create_dir(&out_dir).unwrap();
        let target = dir.path().join("precious");
        std::fs::write(&target, "keep me").unwrap();
        let rep = out_dir.join("report.json");
        std::os::unix::fs::symlink(&target, &rep).unwrap();
        let out = run(mode, &["--report", path(&rep), "true"]);
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert!(std::fs::symlink_metadata(&rep)
            .unwrap()
            .file_type()
            .is_file());
        assert_eq!(report(&rep)["status"], "exited");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
        only_report_in(&out_dir, "report.json");

        // A dangling one: its target is not created.
        let missing = dir.path().join("missing");
        std::fs::remove_file(&rep).unwrap();
        std::os::unix::fs::symlink(&missing, &rep).unwrap();
        let out = run(mode, &["--report", path(&rep), "true"]);
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert!(!missing.exists(), "{mode:?}");
        assert_eq!(report(&rep)["status"], "exited");

        // A symlinked temporary name is not followed either.
        let tmp = out_dir.join(".report.json.proctor-tmp");
        std::os::unix::fs::symlink(&target, &tmp).unwrap();
        let out = run(mode, &["--report", path(&rep), "true"]);
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
        // (0.1's fixed temporary name; the name proctor uses now is random.)
        std::fs::remove_file(&tmp).unwrap();
        only_report_in(&out_dir, "report.json");
    }
}

/// One case of the bad-input matrix: the options (the command `touch
/// MARKER` follows unless `last`), and what the message must name.
struct Bad {
    args: Vec<String>,
    names: Vec<String>,
    last: bool,
}

fn bad(args: &[&str], names: &[&str]) -> Bad {
    Bad {
        args: args.iter().map(|s| s.to_string()).collect(),
        names: names.iter().map(|s| s.to_string()).collect(),
        last: false,
    }
}

fn matrix() -> Vec<Bad> {
    let mut m = Vec::new();
    // Unknown options.
    for u in [
        "--bogus",
        "--bogus=3",
        "-x",
        "-vx",
        "-v=1",
        "--timeou",
        "--TIMEOUT",
        "---timeout",
        "--=1",
    ] {
        m.push(bad(&[u, "1"], &[u]));
    }
    // A value option at the end: missing value.
    for o in [
        "--wait-for",
        "--wait-timeout",
        "--bind",
        "--tmpfs",
        "--ro",
        "--net",
        "--chdir",
        "--timeout",
        "--kill-after",
        "--rlimit",
        "--user",
        "--groups",
        "--env",
        "--unset-env",
        "--keep-env",
        "--keep-fd",
        "--seccomp",
        "--report",
    ] {
        let mut b = bad(&[o], &[o, "missing value"]);
        b.last = true;
        m.push(b);
        // Empty, in both forms.
        m.push(bad(&[o, ""], &[o, "\"\""]));
        m.push(bad(&[&format!("{o}=")], &[o, "\"\""]));
    }
    // Flags given a value.
    for f in [
        "--help",
        "--version",
        "--verbose",
        "--quiet",
        "--subreaper",
        "--pgroup",
        "--single-child",
        "--clear-env",
        "--keep-caps",
        "--poweroff",
    ] {
        m.push(bad(&[&format!("{f}=1")], &[f, "1"]));
        m.push(bad(&[&format!("{f}=")], &[f]));
    }
    // Numbers of seconds.
    for o in ["--timeout", "--kill-after", "--wait-timeout"] {
        for v in [
            "abc",
            "-1",
            "1e3",
            "18446744074",
            "1.",
            ".5",
            " 1",
            "0x10",
            "1,5",
            "inf",
            "+1",
            "--",
        ] {
            m.push(bad(&[o, v], &[o, v]));
            m.push(bad(&[&format!("{o}={v}")], &[o, v]));
        }
    }
    let values: &[(&str, &[&str])] = &[
        (
            "--keep-fd",
            &["abc", "-1", "2147483648", "1.5", "99999999999999999999"],
        ),
        (
            "--user",
            &[
                "nobody",
                "-1",
                "4294967295",
                "4294967296",
                "1000:abc",
                "1000:",
                ":1000",
                "1000:1000:1000",
                "1.5",
                "root",
            ],
        ),
        (
            "--groups",
            &["a", "1,,2", "1,", ",1", "-1", "4294967296", "wheel"],
        ),
        (
            "--rlimit",
            &[
                "bogus=1",
                "nofile",
                "nofile=",
                "nofile=abc",
                "nofile=-1",
                "nofile=10:5",
                "nofile=99999999999999999999",
                "nofile=1x",
                "nofile=1:2:3",
                "=5",
                "NOFILE=1",
                "nofile=16777216t",
            ],
        ),
        (
            "--bind",
            &[
                "/a",
                "a:/b",
                "/a:b",
                "/a:/b:bogus",
                "/a:/b:ro,rw",
                "/a/../b:/c",
                "/a:/b/..",
                ":/b",
                "/a:",
            ],
        ),
        (
            "--tmpfs",
            &[
                "t",
                "/t:size=0",
                "/t:size=abc",
                "/t:mode=9",
                "/t:mode=17777",
                "/t:bogus",
                "/../t",
                "/t:size=-1",
            ],
        ),
        ("--ro", &["relative", "/a/../b", "."]),
        ("--net", &["host", "NONE", "bridge"]),
        ("--env", &["NOEQUALS", "=value"]),
        ("--unset-env", &["A=B"]),
        ("--keep-env", &["A=B"]),
        ("--seccomp", &["bogus", "DEFAULT", "off"]),
        ("--report", &["/tmp/x/", ".", "/"]),
    ];
    for (o, vs) in values {
        for v in *vs {
            m.push(bad(&[o, v], &[o, v]));
            m.push(bad(&[&format!("{o}={v}")], &[o, v]));
        }
    }
    // A report directory that does not exist is refused before anything runs.
    m.push(bad(
        &["--report", "/nonexistent-dir/r.json"],
        &["--report", "/nonexistent-dir/r.json"],
    ));
    // Values with a control character or a very long one stay one line.
    m.push(bad(&["--timeout", "1\n2"], &["--timeout"]));
    m.push(bad(&["--timeout", "1\r2\x1b[2J"], &["--timeout"]));
    let long = "9".repeat(5000);
    m.push(bad(&["--timeout", &long], &["--timeout", &long]));
    // No command at all.
    for none in [
        &[][..],
        &["-v"],
        &["--"],
        &["--timeout", "5"],
        &["-q", "--"],
    ] {
        let mut b = bad(none, &["no command"]);
        b.last = true;
        m.push(b);
    }
    m
}

/// Every malformed command line: exit 125, exactly one stderr line that
/// starts with `proctor: ` and names the option and the value, nothing on
/// stdout, the command never ran, and no report was written.
#[test]
fn bad_input_matrix() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let rep = dir.path().join("report.json");
    let cases = matrix();
    for mode in MODES {
        for case in &cases {
            let mut args: Vec<&str> = vec!["--report", path(&rep)];
            args.extend(strs(&case.args));
            if !case.last {
                args.extend(["touch", path(&marker)]);
            }
            let out = run(mode, &args);
            let err = stderr(&out);
            let what = format!("{mode:?} {:?}: {err:?}", case.args);
            assert_eq!(code(&out), 125, "{what}");
            assert!(err.starts_with("proctor: "), "{what}");
            assert!(
                err.ends_with('\n') && err.matches('\n').count() == 1,
                "one line: {what}"
            );
            assert!(
                !err.contains('\r') && !err.contains('\x1b'),
                "no raw control characters: {what}"
            );
            for name in &case.names {
                assert!(err.contains(name.as_str()), "names {name:?}: {what}");
            }
            assert_eq!(stdout(&out), "", "{what}");
            assert!(!marker.exists(), "the command ran: {what}");
            assert!(!rep.exists(), "a report was written: {what}");
        }
    }
}

/// A value that is not UTF-8 is shown escaped, still on one line.
#[test]
fn bad_input_not_utf8() {
    if !ready() {
        return;
    }
    use std::os::unix::ffi::OsStrExt;
    for mode in MODES {
        let mut cmd = command(mode, &["--timeout"]);
        cmd.arg(std::ffi::OsStr::from_bytes(b"1\xff\n"));
        cmd.arg("true");
        let out = run_cmd(cmd, Duration::from_secs(60));
        assert_eq!(code(&out), 125, "{mode:?}");
        let err = stderr(&out);
        assert_eq!(err.matches('\n').count(), 1, "{err:?}");
        assert!(
            err.starts_with("proctor: --timeout: ") && err.contains("\\xff"),
            "{err:?}"
        );
    }
}

/// A relative report path is resolved against proctor's starting directory,
/// even though proctor moves to `/` and the command to --chdir.
#[test]
fn relative_report_path() {
    if !ready() {
        return;
    }
    for mode in MODES {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = command(mode, &["--report", "r.json", "--chdir", "/", "true"]);
        cmd.current_dir(dir.path());
        let out = run_cmd(cmd, Duration::from_secs(60));
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert_eq!(
            report(&PathBuf::from(dir.path()).join("r.json"))["status"],
            "exited"
        );
        only_report_in(dir.path(), "r.json");
    }
}

/// A FIFO at the report path cannot be replaced: the report goes through it.
#[test]
fn report_through_a_fifo() {
    if !ready() {
        return;
    }
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    for mode in MODES {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("report.fifo");
        let c = std::ffi::CString::new(path(&fifo)).unwrap();
        // SAFETY: a valid path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // Open for reading first (non-blocking), so that proctor finds a reader.
        let mut reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .unwrap();
        let out = run(mode, &["--report", path(&fifo), "sh", "-c", "exit 5"]);
        assert_eq!(code(&out), 5, "{mode:?}: {}", stderr(&out));
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        let r: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (r["status"].as_str(), r["exit_code"].as_u64()),
            (Some("exited"), Some(5))
        );
        assert!(
            std::fs::symlink_metadata(&fifo)
                .unwrap()
                .file_type()
                .is_fifo(),
            "{mode:?}"
        );
        only_report_in(dir.path(), "report.fifo");
    }
}

/// proctor's own log line to a broken stderr raises a SIGPIPE for proctor;
/// it must not be forwarded to the command as if someone had sent it.
#[test]
fn a_broken_stderr_does_not_signal_the_command() {
    if !ready() {
        return;
    }
    use std::os::fd::{FromRawFd, OwnedFd};
    for mode in MODES {
        let mut fds = [0; 2];
        // SAFETY: fds has room for two descriptors.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: both descriptors are ours; the read end closes at once.
        let (read_end, write_end) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        drop(read_end);
        let mut cmd = command(mode, &["-vv", "sh", "-c", "sleep 1; exit 3"]);
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(write_end);
        let out = wait_limited(cmd.spawn().unwrap(), Duration::from_secs(60));
        assert_eq!(code(&out), 3, "{mode:?}");
    }
}

/// CPU time and peak RSS count the reaped descendants: an orphan that
/// proctor reaps spends 100 ms of CPU and touches 32 MiB.
#[test]
fn report_counts_usage_of_reaped_orphans() {
    if !ready() {
        return;
    }
    for mode in MODES {
        let dir = tempfile::tempdir().unwrap();
        let rep = dir.path().join("report.json");
        let mut args = vec!["--report", path(&rep)];
        let argv = helper("burn", &["100", "32768"]);
        args.extend(strs(&argv));
        let out = run(mode, &args);
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        let r = report(&rep);
        assert!(r["cpu_user_ms"].as_u64().unwrap() >= 100, "{mode:?}: {r}");
        assert!(r["max_rss_kib"].as_u64().unwrap() >= 32768, "{mode:?}: {r}");
        assert!(
            r["max_rss_kib"].as_u64().unwrap() < 4 * 32768,
            "not a sum: {r}"
        );
        assert!(r["wall_ms"].as_u64().unwrap() >= 100, "{mode:?}: {r}");
        assert_eq!(r["leftovers_killed"], 0, "{r}");
    }
}

/// A --report that names a directory is refused at start, not found at the end.
#[test]
fn report_naming_a_directory_is_refused_before_the_command() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    for mode in MODES {
        let out = run(
            mode,
            &[
                "--report",
                path(dir.path()),
                "sh",
                "-c",
                &format!("touch {}", path(&marker)),
            ],
        );
        assert_eq!(code(&out), 125, "{mode:?}");
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
        assert!(stderr(&out).contains("is a directory"), "{}", stderr(&out));
        assert!(!marker.exists(), "the command must not run");
    }
}
