//! Input and output through the real binary: `--stdin`, `--stdout`,
//! `--stderr`, `--stderr-to-stdout` and `--output-limit` — exact
//! pass-through, the limit (also with a leftover holding the pipe), the
//! supervision during a flood (timeout, signal latency), the refusals, and
//! Docker's log under a flood.
mod common;
mod helper;
use common::*;
use helper::*;
use std::hash::{DefaultHasher, Hasher};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;

fn hash(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    h.write(bytes);
    h.finish()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn run_args(mode: Mode, args: &[&str]) -> Output {
    run_cmd(command(mode, args), Duration::from_secs(120))
}

/// A scratch directory and a report path in it; `None` (the test skips,
/// visibly) when proctor cannot run as PID 1 here.
fn scratch() -> Option<(tempfile::TempDir, PathBuf)> {
    if let Err(why) = ready() {
        skipped(&why);
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let rep = dir.path().join("report.json");
    Some((dir, rep))
}

/// `sh -c SCRIPT` under `--output-limit LIMIT`, with a report at `rep`
/// and the `extra` options.
fn limited_sh(mode: Mode, limit: &str, rep: &Path, extra: &[&str], script: &str) -> Output {
    let mut args = vec!["--output-limit", limit, "--report", s(rep)];
    args.extend(extra);
    args.extend(["sh", "-c", script]);
    run_args(mode, &args)
}

/// 64 MiB of random bytes through `--output-limit 1g` arrive whole and in
/// order, to a `--stdout` file and to proctor's own stdout (a pipe).
#[test]
fn random_bytes_pass_through_exactly() {
    skip_unless!(ready());
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("random");
    let mut data = vec![0u8; (64 * MIB) as usize];
    let mut x = 0x9e3779b97f4a7c15u64;
    for chunk in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_ne_bytes()[..chunk.len()]);
    }
    std::fs::write(&src, &data).unwrap();
    let want = hash(&data);
    let (dst, rep) = (dir.path().join("out"), dir.path().join("report.json"));
    for mode in MODES {
        let args = [
            "--output-limit",
            "1g",
            "--stdout",
            s(&dst),
            "--report",
            s(&rep),
            "cat",
            s(&src),
        ];
        let out = run_args(mode, &args);
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        let got = std::fs::read(&dst).unwrap();
        assert_eq!(got.len(), data.len(), "{mode:?}");
        assert_eq!(hash(&got), want, "{mode:?}: the bytes differ");
        let r = report(&rep);
        assert_eq!(r["status"], "exited", "{r}");
        assert_eq!(r["output_bytes"], 64 * MIB, "{r}");
        assert_eq!(r["output_truncated"], false, "{r}");
        assert_eq!(r["limits"]["output"], 1u64 << 30, "{r}");
        // To proctor's own stdout, a pipe to this test.
        let out = run_args(mode, &["--output-limit", "1g", "cat", s(&src)]);
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert_eq!(out.stdout.len(), data.len(), "{mode:?}");
        assert_eq!(hash(&out.stdout), want, "{mode:?}: the bytes differ");
    }
}

/// `--stderr-to-stdout`: one stream, in the order the command wrote it,
/// with and without `--output-limit`; both streams counted together.
#[test]
fn stderr_to_stdout_keeps_the_interleaving() {
    let Some((dir, rep)) = scratch() else { return };
    let dst = dir.path().join("out");
    let script = "i=0; while [ $i -lt 2000 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done";
    let want: String = (0..2000).map(|i| format!("out{i}\nerr{i}\n")).collect();
    for limit in [Some("1m"), None] {
        let mut args = vec![
            "--stderr-to-stdout",
            "--stdout",
            s(&dst),
            "--report",
            s(&rep),
        ];
        if let Some(l) = limit {
            args.extend(["--output-limit", l]);
        }
        args.extend(["sh", "-c", script]);
        let out = run_args(Mode::Pid1, &args);
        assert_eq!(code(&out), 0, "{limit:?}: {}", stderr(&out));
        assert_eq!(std::fs::read_to_string(&dst).unwrap(), want, "{limit:?}");
        let r = report(&rep);
        let counted = limit.map(|_| want.len());
        assert_eq!(r["output_bytes"].as_u64(), counted.map(|n| n as u64), "{r}");
    }
    // To proctor's own stdout: stderr goes where stdout goes.
    let out = run_args(
        Mode::Subreaper,
        &[
            "--stderr-to-stdout",
            "--output-limit",
            "1m",
            "sh",
            "-c",
            script,
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), want);
    assert_eq!(stderr(&out), "");
}

/// Separate `--stdout` and `--stderr` files, each getting its own stream;
/// the same path for both shares one file, as `>F 2>&1` does.
#[test]
fn separate_and_shared_output_files() {
    let Some((dir, _)) = scratch() else { return };
    let (o, e) = (dir.path().join("o"), dir.path().join("e"));
    for limit in [&["--output-limit", "1k"][..], &[]] {
        for (err, want_o, want_e) in [(&e, "one\nthree\n", "two\n"), (&o, "one\ntwo\nthree\n", "")]
        {
            let _ = std::fs::remove_file(&e);
            let mut args = vec!["--stdout", s(&o), "--stderr", s(err)];
            args.extend(limit);
            args.extend(["sh", "-c", "echo one; echo two >&2; echo three"]);
            let out = run_args(Mode::Pid1, &args);
            assert_eq!(code(&out), 0, "{}", stderr(&out));
            assert_eq!(std::fs::read_to_string(&o).unwrap(), want_o, "{limit:?}");
            let got_e = std::fs::read_to_string(&e).unwrap_or_default();
            assert_eq!(got_e, want_e, "{limit:?}");
        }
    }
}

/// A command that closes its stdout early: the stream ends, the other one
/// goes on, nothing hangs, and what was written before is all there.
#[test]
fn a_command_that_closes_stdout_early() {
    let Some((_dir, rep)) = scratch() else { return };
    for mode in MODES {
        let out = limited_sh(
            mode,
            "1m",
            &rep,
            &[],
            "echo before; exec >&-; sleep 0.3; echo after >&2; echo lost 2>/dev/null; exit 3",
        );
        assert_eq!(code(&out), 3, "{mode:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "before\n", "{mode:?}");
        // The command's stderr, after proctor's warning that it can write the report's directory.
        assert!(
            stderr(&out).ends_with(
                "directory: cover it with --ro or keep it out of the command's view\nafter\n"
            ),
            "{mode:?}: {}",
            stderr(&out)
        );
        let r = report(&rep);
        assert_eq!(r["status"], "exited", "{r}");
        assert_eq!(r["output_bytes"], 13, "{r}");
        assert_eq!(r["output_truncated"], false, "{r}");
    }
}

/// The output of exactly the limit is no verdict; one byte more is.
#[test]
fn exactly_the_limit_is_not_over_it() {
    let Some((dir, rep)) = scratch() else { return };
    let dst = dir.path().join("out");
    for (n, status, exit) in [(1024, "exited", 0), (1025, "output_limit", 137)] {
        let script = format!("head -c {n} /dev/zero");
        let out = limited_sh(Mode::Pid1, "1k", &rep, &["--stdout", s(&dst)], &script);
        assert_eq!(code(&out), exit, "{n}: {}", stderr(&out));
        let r = report(&rep);
        assert_eq!(r["status"], status, "{r}");
        assert_eq!(r["output_bytes"], 1024, "{r}");
        assert_eq!(r["output_truncated"], n > 1024, "{r}");
        assert_eq!(std::fs::metadata(&dst).unwrap().len(), 1024);
    }
}

fn check_flood_verdict(label: &str, out: &Output, dst: &Path, rep: &Path, started: Instant) {
    assert_eq!(code(out), 137, "{label}: {}", stderr(out));
    let r = report(rep);
    assert_eq!(r["status"], "output_limit", "{label}: {r}");
    assert_eq!(r["exit_code"], 137, "{label}: {r}");
    assert_eq!(r["output_bytes"], MIB, "{label}: {r}");
    assert_eq!(r["output_truncated"], true, "{label}: {r}");
    let got = std::fs::read(dst).unwrap();
    assert_eq!(
        got.len() as u64,
        MIB,
        "{label}: the destination holds exactly the limit"
    );
    assert!(
        got.chunks(2).all(|c| c == b"y\n"),
        "{label}: the first bytes, in order"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{label}: took {:?}",
        started.elapsed()
    );
}

/// A command writing forever under `--output-limit 1m`: output_limit, 137,
/// exactly 1 MiB at the destination; also when a child that left the
/// command's session holds the pipe open after the command is killed, and
/// under `--pid-ns`.
#[test]
fn a_flood_stops_at_the_limit() {
    let Some((dir, rep)) = scratch() else { return };
    let dst = dir.path().join("out");
    let cases = [
        ("yes", "exec yes", None),
        ("setsid child", "setsid yes & exec yes", None),
        (
            "setsid child, --pid-ns",
            "setsid yes & exec yes",
            Some("--pid-ns"),
        ),
    ];
    for mode in MODES {
        for (label, script, extra) in cases {
            let started = Instant::now();
            let mut args = vec!["--stdout", s(&dst)];
            args.extend(extra);
            let out = limited_sh(mode, "1m", &rep, &args, script);
            let label = format!("{label} ({mode:?})");
            check_flood_verdict(&label, &out, &dst, &rep, started);
        }
    }
}

/// A leftover that holds the pipe open after the command exited does not
/// hold proctor: it is killed, then the pipe drained and closed.
#[test]
fn a_leftover_holding_the_pipe_does_not_hang() {
    let Some((_dir, rep)) = scratch() else { return };
    for mode in MODES {
        let started = Instant::now();
        let out = limited_sh(mode, "1m", &rep, &[], "setsid sleep 100 & echo hi");
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "hi\n", "{mode:?}");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{mode:?}: {:?}",
            started.elapsed()
        );
        let r = report(&rep);
        assert_eq!(r["status"], "exited", "{r}");
        assert_eq!(r["output_bytes"], 3, "{r}");
        assert_eq!(r["leftovers_killed"], 1, "{r}");
    }
}

/// `--timeout 1` fires on time while the command floods.
#[test]
fn timeout_fires_during_a_flood() {
    let Some((_dir, rep)) = scratch() else { return };
    for mode in MODES {
        let started = Instant::now();
        let out = run_args(
            mode,
            &[
                "--output-limit",
                "1t",
                "--stdout",
                "/dev/null",
                "--timeout",
                "1",
                "--report",
                s(&rep),
                "yes",
            ],
        );
        let took = started.elapsed();
        assert_eq!(code(&out), 124, "{mode:?}: {}", stderr(&out));
        let r = report(&rep);
        assert_eq!(r["status"], "timeout", "{r}");
        let wall = r["wall_ms"].as_u64().unwrap();
        assert!((1000..1500).contains(&wall), "{mode:?}: wall_ms {wall}");
        assert!(r["output_bytes"].as_u64().unwrap() > MIB, "{r}");
        eprintln!("timeout during a flood ({mode:?}): wall_ms {wall}, whole run {took:?}");
    }
}

/// Signals sent to proctor while the command floods reach it promptly.
/// The latencies are printed; the bound only catches a starved loop.
#[test]
fn signals_reach_the_command_during_a_flood() {
    skip_unless!(ready());
    let dir = tempfile::tempdir().unwrap();
    let sink = dir.path().join("sink");
    for (label, dst) in [("/dev/null", "/dev/null"), ("a file", s(&sink))] {
        let times = dir.path().join("times");
        let argv = helper("flood-ping", &["300", s(&times)]);
        // A limit the flood cannot reach: /dev/null takes over 4 GiB/s on a quiet machine.
        let mut args = vec!["--output-limit", "1t", "--stdout", dst];
        args.extend(strs(&argv));
        let out = run_args(Mode::Pid1, &args);
        let _ = std::fs::remove_file(&sink);
        assert_eq!(code(&out), 0, "{label}: {}", stderr(&out));
        let mut us: Vec<u64> = std::fs::read_to_string(&times)
            .unwrap()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        us.sort();
        let (p50, p99, max) = (us[us.len() / 2], us[us.len() * 99 / 100], us[us.len() - 1]);
        eprintln!(
            "signal latency during a flood into {label}: p50 {p50} µs, p99 {p99} µs, max {max} µs"
        );
        assert!(max < 1_000_000, "{label}: a signal took {max} µs");
    }
}

/// The file options: the input given, outputs created 0644 (less the
/// umask, as a shell's `>`; an existing one truncated, its mode kept), and files that the
/// command's own namespace hides still reached.
#[test]
fn files_are_opened_at_start() {
    let Some((dir, _)) = scratch() else { return };
    let d = dir.path();
    let (input, out, err) = (d.join("in"), d.join("hidden/out"), d.join("err"));
    std::fs::create_dir(d.join("hidden")).unwrap();
    std::fs::write(&input, "line 1\nline 2\n").unwrap();
    std::fs::write(&err, "old content, longer than the new one\n").unwrap();
    std::fs::set_permissions(&err, std::fs::Permissions::from_mode(0o600)).unwrap();
    let tmpfs = s(&d.join("hidden")).to_string();
    let mut cmd = throwaway_pid_namespace();
    cmd.args(["sh", "-c", "umask 022; exec \"$@\"", "sh"]);
    cmd.arg(proctor());
    cmd.args([
        "--stdin",
        s(&input),
        "--stdout",
        s(&out),
        "--stderr",
        s(&err),
    ]);
    cmd.args(["--tmpfs", &tmpfs, "sh", "-c"]);
    cmd.arg("wc -l; echo e >&2; ls -A \"$0\" | wc -l");
    cmd.arg(&tmpfs);
    let o = run_cmd(cmd, Duration::from_secs(60));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "2\n0\n",
        "stdin read, hidden dir empty"
    );
    assert_eq!(std::fs::read_to_string(&err).unwrap(), "e\n");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&out), 0o644, "created 0644 (umask 022)");
    assert_eq!(mode(&err), 0o600, "an existing file keeps its mode");
}

/// Refused before anything runs (125, one line naming the option, a
/// setup_error report): a missing input, an output that cannot be created,
/// a directory as input, and a symlink at either path, including one
/// planted at the output path before start, whose target stays untouched.
#[test]
fn bad_files_are_refused() {
    let Some((dir, rep)) = scratch() else { return };
    let d = dir.path();
    let victim = d.join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let link = d.join("link");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let ran = d.join("ran");
    let missing_in = d.join("no-such-input");
    let no_dir_out = d.join("no-such-dir/out");
    let dir_path = d.to_path_buf();
    let (symlink, enoent, eisdir) = ("is a symlink (refused)", ": ENOENT", ": EISDIR");
    let cases = [
        ("--stdin", &missing_in, enoent),
        ("--stdin", &dir_path, eisdir),
        ("--stdin", &link, symlink),
        ("--stdout", &no_dir_out, enoent),
        ("--stdout", &link, symlink),
        ("--stderr", &link, symlink),
        ("--stdout", &dir_path, eisdir),
    ];
    let touch = format!("touch {}", s(&ran));
    for (opt, path, why) in cases {
        let space = if why == symlink { " " } else { "" };
        let line = format!("{opt}: \"{}\"{space}{why}", s(path));
        for limit in [&["--output-limit", "1m"][..], &[]] {
            let mut args = vec![opt, s(path), "--report", s(&rep)];
            args.extend(limit);
            args.extend(["sh", "-c", &touch]);
            let out = run_args(Mode::Pid1, &args);
            assert_eq!(code(&out), 125, "{opt} {path:?}: {}", stderr(&out));
            assert_eq!(stderr(&out), format!("proctor: {line}\n"));
            assert!(!ran.exists(), "{opt} {path:?}: the command ran");
            let r = report(&rep);
            assert_eq!(r["status"], "setup_error", "{r}");
            assert_eq!(r["message"], line.as_str(), "{r}");
        }
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    // Parse-time refusals: 125 before any file is touched.
    let never = d.join("never");
    for (args, line) in [
        (vec!["--output-limit", "0"], "--output-limit: \"0\" is not a positive number of bytes (k/m/g/t allowed)"),
        (vec!["--output-limit", "-1"], "--output-limit: \"-1\" is not a positive number of bytes (k/m/g/t allowed)"),
        (vec!["--output-limit", "99999999999999999999"], "--output-limit: \"99999999999999999999\" is not a positive number of bytes (k/m/g/t allowed)"),
        (vec!["--output-limit", "lots"], "--output-limit: \"lots\" is not a positive number of bytes (k/m/g/t allowed)"),
        (vec!["--stdout", s(&never), "--stderr", "e", "--stderr-to-stdout"], "--stderr-to-stdout: cannot be combined with --stderr"),
    ] {
        let mut a = args.clone();
        a.extend(["sh", "-c", &touch]);
        let out = run_args(Mode::Pid1, &a);
        assert_eq!(code(&out), 125, "{args:?}");
        assert_eq!(stderr(&out), format!("proctor: {line}\n"));
        assert!(!ran.exists() && !never.exists(), "{args:?}");
    }
}

/// `--stdin` wins over a terminal on proctor's stdin: the command reads the
/// file and has no controlling terminal.
#[test]
fn stdin_file_wins_over_a_terminal() {
    skip_unless!(ready(), tool("setsid", "makes proctor own the terminal"));
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::write(&input, "from the file\n").unwrap();
    let script = "read -r line; read -r s < /proc/self/stat; set -- $s; echo \"$line|$7\"";
    let out = run_on_terminal(pid1_session(&["--stdin", s(&input), "sh", "-c", script]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "from the file|0\n",
        "no controlling terminal (tty_nr 0)"
    );
}

/// Under Docker, a flood under `--output-limit 1m` leaves at most the limit
/// (plus proctor's own line) in the container's log, where without it a
/// flood fills the host's disk.
#[test]
fn docker_log_stays_under_the_limit() {
    let image = match common::docker::image() {
        Ok(image) => image,
        Err(why) => skip!("{why}"),
    };
    let stage = tempfile::tempdir().unwrap();
    std::fs::set_permissions(stage.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let line = "print('x' * 100) in a loop, as a Python submission would ".repeat(2);
    let flood = format!("while :; do echo '{line}'; done");
    let mut run = common::docker::DockerRun::new("output-flood");
    let out = run
        .volume(stage.path(), "/staging")
        .proctor("/init", image)
        .args(["--output-limit", "1m", "--timeout", "10"])
        .args(["--report", "/staging/report.json"])
        .args(["--", "sh", "-c", &flood])
        .run();
    let name = &run.container.0;
    let logs = common::docker::docker()
        .args(["logs", name])
        .output()
        .expect("docker logs");
    let log_path = common::docker::docker()
        .args(["inspect", "-f", "{{.LogPath}}", name])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    assert_eq!(out.code, Some(137), "{out}");
    let logged = logs.stdout.len() + logs.stderr.len();
    let file = log_path
        .ok()
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| m.len());
    eprintln!("docker: {logged} bytes in the container's log (json-file on disk: {file:?})");
    assert!(logged as u64 <= MIB + 4096, "{logged} bytes logged");
    assert!(logged as u64 >= MIB, "{logged} bytes logged");
    let r = report(&stage.path().join("report.json"));
    assert_eq!(r["status"], "output_limit", "{r}");
    assert_eq!(r["output_bytes"], MIB, "{r}");
}
