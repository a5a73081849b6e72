//! `--wait-for` and `--wait-timeout`: the command starts only once every
//! path exists, promptly (inotify on the nearest existing ancestor, climbing),
//! and a timeout or a terminating signal ends the wait with the command
//! never started.
mod common;
use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Start proctor in the background.
fn start(mode: Mode, args: &[&str]) -> Child {
    let mut cmd = command(mode, args);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

/// Wait for a background proctor, killing it if it hangs.
fn finish(child: Child) -> Output {
    let pid = child.id() as i32;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            // SAFETY: kill has no memory preconditions.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("proctor hung");
        }
    }
}

fn ppid(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.split(' ').nth(1)?.parse().ok()
}

/// The host pid of the proctor process below `root`, once it has blocked
/// its signals (so that a signal sent now is not lost).
fn proctor_below(root: u32) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(Instant::now() < deadline, "proctor never showed up");
        for entry in fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let mut p = pid;
            let below = loop {
                match ppid(p) {
                    Some(q) if q == root => break true,
                    Some(q) if q > 1 => p = q,
                    _ => break false,
                }
            };
            let is_proctor =
                fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|e| e == proctor());
            let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let blocked =
                status_line(&status, "SigBlk").is_some_and(|m| !m.trim_matches('0').is_empty());
            if below && is_proctor && blocked {
                return pid;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Inode numbers that proctor's inotify descriptors watch.
fn watched_inodes(pid: u32) -> Vec<u64> {
    let mut inodes = Vec::new();
    for entry in fs::read_dir(format!("/proc/{pid}/fdinfo"))
        .unwrap()
        .flatten()
    {
        let info = fs::read_to_string(entry.path()).unwrap_or_default();
        for line in info.lines().filter(|l| l.starts_with("inotify wd:")) {
            let ino = line
                .split(' ')
                .find_map(|f| f.strip_prefix("ino:"))
                .unwrap();
            inodes.push(u64::from_str_radix(ino, 16).unwrap());
        }
    }
    inodes
}

fn inode(p: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(p).unwrap().ino()
}

/// Poll (generously) until `cond` holds.
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Create `path` atomically (written aside, renamed into place); returns when (ns).
fn deliver(path: &Path) -> u128 {
    let tmp = path.with_extension("part");
    fs::write(&tmp, "ok").unwrap();
    let at = now_ns();
    fs::rename(&tmp, path).unwrap();
    at
}

#[test]
fn command_starts_after_the_marker_with_the_watch_climbing() {
    skip_unless!(ready());
    for mode in MODES {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let marker = a.join("b/ready");
        let script = format!("date +%s%N; test -e {} && echo SAW", marker.display());
        let child = start(
            mode,
            &[
                "--wait-for",
                marker.to_str().unwrap(),
                "--",
                "sh",
                "-c",
                &script,
            ],
        );
        let pid = proctor_below(child.id());
        // The nearest existing ancestor is watched, then each new level.
        let top = inode(dir.path());
        eventually("a watch on the existing ancestor", || {
            watched_inodes(pid).contains(&top)
        });
        fs::create_dir(&a).unwrap();
        eventually("the watch climbing into a/", || {
            watched_inodes(pid).contains(&inode(&a))
        });
        fs::create_dir(a.join("b")).unwrap();
        eventually("the watch climbing into a/b/", || {
            watched_inodes(pid).contains(&inode(&a.join("b")))
        });
        let delivered = deliver(&marker);
        let out = finish(child);
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        let so = stdout(&out);
        let mut lines = so.lines();
        let started: u128 = lines.next().unwrap().parse().unwrap();
        assert_eq!(lines.next(), Some("SAW"), "{mode:?}");
        assert!(started > delivered, "{mode:?}: started before the marker");
        eprintln!(
            "{mode:?}: command started {} µs after the marker",
            (started - delivered) / 1000
        );
    }
}

#[test]
fn every_path_must_exist() {
    skip_unless!(ready());
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    let child = start(
        Mode::Subreaper,
        &[
            "--wait-for",
            one.to_str().unwrap(),
            "--wait-for",
            two.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            "echo started",
        ],
    );
    let pid = proctor_below(child.id());
    deliver(&one);
    // Several poll periods later proctor is still waiting for the second.
    std::thread::sleep(Duration::from_millis(400));
    let children = fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .filter(|&p| ppid(p) == Some(pid))
        .count();
    assert_eq!(children, 0, "the command started with a path missing");
    deliver(&two);
    let out = finish(child);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "started\n");
}

#[test]
fn existing_paths_do_not_wait() {
    skip_unless!(ready());
    let out = run(
        Mode::Pid1,
        &[
            "--wait-for",
            "/",
            "--wait-for",
            "/proc",
            "--wait-timeout",
            "0",
            "true",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn wait_timeout_is_125_and_the_command_never_runs() {
    skip_unless!(ready());
    for mode in MODES {
        let dir = tempfile::tempdir().unwrap();
        let (marker, ran, rep) = (
            dir.path().join("never"),
            dir.path().join("ran"),
            dir.path().join("r.json"),
        );
        let out = run(
            mode,
            &[
                "--wait-for",
                marker.to_str().unwrap(),
                "--wait-timeout",
                "0.3",
                "--report",
                rep.to_str().unwrap(),
                "--",
                "touch",
                ran.to_str().unwrap(),
            ],
        );
        assert_eq!(code(&out), 125, "{mode:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("wait-timeout"), "{}", stderr(&out));
        assert!(!ran.exists());
        let r = report(&rep);
        assert_eq!(r["status"], "wait_timeout", "{r}");
        assert_eq!(r["exit_code"], 125);
        assert!(r["wall_ms"].is_null() && r["message"].is_string(), "{r}");
    }
}

#[test]
fn terminating_signals_cancel_the_wait() {
    skip_unless!(ready());
    for mode in MODES {
        for (sig, name) in [
            (libc::SIGTERM, "TERM"),
            (libc::SIGINT, "INT"),
            (libc::SIGHUP, "HUP"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let (marker, ran, rep) = (
                dir.path().join("never"),
                dir.path().join("ran"),
                dir.path().join("r.json"),
            );
            let child = start(
                mode,
                &[
                    "--wait-for",
                    marker.to_str().unwrap(),
                    "--report",
                    rep.to_str().unwrap(),
                    "--",
                    "touch",
                    ran.to_str().unwrap(),
                ],
            );
            let pid = proctor_below(child.id());
            // SAFETY: kill has no memory preconditions.
            assert_eq!(unsafe { libc::kill(pid as i32, sig) }, 0);
            let out = finish(child);
            let ctx = format!("{mode:?} SIG{name}: {}", stderr(&out));
            assert_eq!(code(&out), 128 + sig, "{ctx}");
            assert!(!ran.exists(), "{ctx}");
            let r = report(&rep);
            assert_eq!(r["status"], "cancelled", "{ctx}: {r}");
            assert_eq!(r["exit_code"], 128 + sig);
        }
    }
}

#[test]
fn harmless_signals_do_not_cancel_the_wait() {
    skip_unless!(ready());
    let dir = tempfile::tempdir().unwrap();
    let marker: PathBuf = dir.path().join("ready");
    let child = start(
        Mode::Pid1,
        &["--wait-for", marker.to_str().unwrap(), "--", "echo", "ran"],
    );
    let pid = proctor_below(child.id()) as i32;
    for sig in [libc::SIGWINCH, libc::SIGCHLD, libc::SIGCONT, libc::SIGURG] {
        // SAFETY: kill has no memory preconditions.
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
    }
    std::thread::sleep(Duration::from_millis(200));
    deliver(&marker);
    let out = finish(child);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "ran\n");
}

#[test]
fn malformed_wait_values_are_refused() {
    skip_unless!(ready());
    let dir = tempfile::tempdir().unwrap();
    let ran = dir.path().join("ran");
    let touch = ran.to_str().unwrap();
    for args in [
        vec!["--wait-timeout", "abc", "--wait-for", "/", "touch", touch],
        vec!["--wait-timeout", "-1", "--wait-for", "/", "touch", touch],
        vec!["--wait-timeout", "", "--wait-for", "/", "touch", touch],
        vec!["--wait-timeout", "1e999", "--wait-for", "/", "touch", touch],
        vec!["--wait-for", "/", "--wait-timeout"],
        vec!["--wait-for"],
    ] {
        let out = run(Mode::Pid1, &args);
        let err = stderr(&out);
        assert_eq!(code(&out), 125, "{args:?}: {err}");
        assert!(err.contains("--wait-"), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(!ran.exists(), "{args:?}");
    }
}
