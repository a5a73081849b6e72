//! proctor itself under pressure: few descriptors, little address space, a
//! command that fork-bombs to its pid limit or floods signals, proctor
//! stopped and continued from outside. It stays correct: the right exit
//! status, a report, no hang (run_cmd's limit).
mod common;
use common::*;

use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// prlimit(1), which every test here runs proctor under.
fn prlimit() -> Result<(), String> {
    tool("prlimit", "limits proctor alone")
}

/// proctor under `prlimit LIMITS`, which execs it inside the namespace.
fn limited(mode: Mode, limits: &[&str], args: &[&str]) -> Output {
    let mut wrapper: Vec<&OsStr> = vec!["prlimit".as_ref()];
    wrapper.extend(limits.iter().map(OsStr::new));
    run_cmd(wrapped(mode, &wrapper, args), Duration::from_secs(60))
}

#[test]
fn eight_descriptors_are_enough() {
    skip_unless!(ready(), prlimit());
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("r.json");
    let r = r.to_str().unwrap();
    let ready_file = dir.path().to_str().unwrap();
    for mode in MODES {
        // --wait-for (inotify), the report's directory, the error pipe and the
        // scan of /proc for the leftover sleep all fit in 8 descriptors.
        let out = limited(
            mode,
            &["--nofile=8:8"],
            &[
                "--wait-for",
                ready_file,
                "--report",
                r,
                "sh",
                "-c",
                "sleep 30 & exit 5",
            ],
        );
        assert_eq!(code(&out), 5, "{mode:?}: {}", stderr(&out));
        let rep = report(Path::new(r));
        assert_eq!(rep["status"], "exited", "{mode:?}");
        assert_eq!(rep["leftovers_killed"], 1, "{mode:?}");
    }
}

#[test]
fn no_spare_descriptor_is_a_clear_125() {
    skip_unless!(ready(), prlimit());
    for mode in MODES {
        // Only stdin, stdout and stderr: not even the error pipe fits.
        let out = limited(mode, &["--nofile=3:3"], &["true"]);
        assert_eq!(code(&out), 125, "{mode:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.starts_with("proctor: ") && err.contains("EMFILE"),
            "{mode:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{mode:?}: {err}");
    }
}

/// Variables enough that proctor's heap must grow beyond its first 16 KiB.
const FILLERS: usize = 5000;

#[test]
fn four_mib_of_address_space_are_enough() {
    skip_unless!(ready(), prlimit());
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("r.json");
    for mode in MODES {
        let args = [
            "--rlimit",
            "as=unlimited", // the soft limit was only proctor's
            "--report",
            r.to_str().unwrap(),
            "sh",
            "-c",
            "env | grep -c ^FILLER_; exit 6",
        ];
        let mut cmd = wrapped(
            mode,
            &["prlimit".as_ref(), "--as=4194304:unlimited".as_ref()],
            &args,
        );
        for i in 0..FILLERS {
            cmd.env(format!("FILLER_{i}"), "x");
        }
        let out = run_cmd(cmd, Duration::from_secs(60));
        assert_eq!(code(&out), 6, "{mode:?}: {}", stderr(&out));
        assert_eq!(stdout(&out).trim(), FILLERS.to_string(), "{mode:?}");
        assert_eq!(report(&r)["status"], "exited");
    }
}

#[test]
fn too_little_address_space_is_a_clear_125() {
    skip_unless!(ready(), prlimit());
    for mode in MODES {
        let mut cmd = wrapped(
            mode,
            &["prlimit".as_ref(), "--as=786432:unlimited".as_ref()],
            // Not enough for 2 × FILLERS variables (a limit so low that proctor's
            // stack cannot grow kills it with SIGSEGV, as it would any process).
            &["true"],
        );
        for i in 0..FILLERS * 2 {
            cmd.env(format!("FILLER_{i}"), "x");
        }
        let out = run_cmd(cmd, Duration::from_secs(60));
        let err = stderr(&out);
        assert_eq!(code(&out), 125, "{mode:?}: {err}");
        assert!(err.contains("out of memory"), "{mode:?}: {err}");
    }
}

/// Numeric ids for tests that count processes per uid (RLIMIT_NPROC counts
/// across the machine): one per test, unused by any other test (limits.rs
/// has 61001-61004).
const BOMB_UID: &str = "61101";
const ESCAPING_BOMB_UID: &str = "61102";

#[test]
fn a_command_that_forks_to_its_pid_limit() {
    skip_unless!(ready(), prlimit());
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("r.json");
    for mode in MODES {
        // Sleepers until fork fails; dash then exits with 2, leaving 39 behind.
        let out = run(
            mode,
            &[
                "--user",
                BOMB_UID,
                "--rlimit",
                "nproc=40",
                "--report",
                r.to_str().unwrap(),
                "sh",
                "-c",
                "while :; do sleep 60 & done",
            ],
        );
        assert_eq!(code(&out), 2, "{mode:?}: {}", stderr(&out));
        let rep = report(&r);
        assert_eq!(rep["status"], "exited", "{mode:?}");
        assert_eq!(rep["leftovers_killed"], 39, "{mode:?}: {rep}");
    }
}

#[test]
fn a_fork_bomb_that_escapes_its_group_ends_at_the_timeout() {
    skip_unless!(
        ready(),
        prlimit(),
        tool("setsid", "the bomb leaves the command's process group")
    );
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("r.json");
    // A bomb in a session of its own forks sleepers up to the limit (60
    // processes of the uid): the timeout's group signal misses them all, so
    // proctor must find and kill them itself.
    let bomb = "sleep 30 & setsid sh -c 'while :; do sleep 60 & done' 2>/dev/null; wait";
    for mode in MODES {
        let out = run(
            mode,
            &[
                "--user",
                ESCAPING_BOMB_UID,
                "--rlimit",
                "nproc=60",
                "--timeout",
                "1",
                "--kill-after",
                "0.5",
                "--report",
                r.to_str().unwrap(),
                "sh",
                "-c",
                bomb,
            ],
        );
        assert_eq!(code(&out), 124, "{mode:?}: {}", stderr(&out));
        let rep = report(&r);
        assert_eq!(rep["status"], "timeout", "{mode:?}");
        assert!(
            rep["leftovers_killed"].as_u64().unwrap() > 0,
            "{mode:?}: {rep}"
        );
    }
}

#[test]
fn a_command_that_floods_its_own_group_and_proctor_with_signals() {
    skip_unless!(ready(), prlimit());
    // USR1 at its own group, USR2 at its parent (proctor, which forwards it
    // back to the group; as PID 1 the kernel drops it), both ignored.
    let flood = "trap '' USR1 USR2; i=0; while [ $i -lt 2000 ]; do \
                 kill -USR1 0; kill -USR2 $PPID; i=$((i+1)); done; exit 9";
    for mode in MODES {
        let out = run(mode, &["sh", "-c", flood]);
        assert_eq!(code(&out), 9, "{mode:?}: {}", stderr(&out));
    }
}

/// proctor's pid, seen from here: the process running proctor's binary whose
/// command line holds `token` and whose parent does not (the command, between
/// fork and exec, runs proctor's binary too).
fn find_proctor(token: &str) -> Option<i32> {
    let exe = proctor().canonicalize().ok()?;
    let runs_proctor = |pid: &str| {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        std::fs::read_link(format!("/proc/{pid}/exe")).ok().as_ref() == Some(&exe)
            && String::from_utf8_lossy(&cmdline).contains(token)
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let pid = entry.file_name().to_string_lossy().into_owned();
            if pid.parse::<i32>().is_err() || !runs_proctor(&pid) {
                continue;
            }
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let ppid = stat
                .rsplit(')')
                .next()?
                .split_whitespace()
                .nth(1)?
                .to_string();
            if !runs_proctor(&ppid) {
                return pid.parse().ok();
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// proctor, found from outside through a pidfd, so that a signal can never
/// reach another process that reuses its pid once it has ended.
struct Target(std::os::fd::OwnedFd);

impl Target {
    fn find(token: &str) -> Target {
        let pid = find_proctor(token).expect("proctor is running");
        // SAFETY: pidfd_open takes a pid and flags; the result is a new descriptor.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        assert!(fd >= 0, "pidfd_open: {}", std::io::Error::last_os_error());
        // SAFETY: the descriptor was just returned to us and is owned here only.
        let target = Target(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd as i32) });
        // Wait until proctor blocks its signals: before that, any signal whose
        // default is to terminate would end it, as it would any process.
        let status = format!("/proc/{pid}/status");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let text = std::fs::read_to_string(&status).unwrap_or_default();
            if status_line(&text, "SigBlk").is_some_and(|m| !m.trim_start_matches('0').is_empty()) {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        target
    }

    fn signal(&self, sig: i32) {
        use std::os::fd::AsRawFd;
        // SAFETY: the pidfd is ours; a null siginfo is allowed.
        unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.0.as_raw_fd(),
                sig,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
    }
}

/// Run proctor with `args` while `torment(proctor)` runs alongside.
fn tormented(
    mode: Mode,
    args: &[&str],
    torment: impl FnOnce(&Target, &AtomicBool) + Send + 'static,
) -> Output {
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let run_id = RUNS.fetch_add(1, Ordering::Relaxed);
    let token = format!("PRESSURE_TOKEN={}-{run_id}", std::process::id());
    let mut all = vec!["--env", &token];
    all.extend(args);
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    let find = token.clone();
    let tormentor = std::thread::spawn(move || torment(&Target::find(&find), &flag));
    let out = run(mode, &all);
    done.store(true, Ordering::Relaxed);
    tormentor.join().expect("the tormentor found proctor");
    out
}

#[test]
fn signals_flooded_at_proctor_from_outside() {
    skip_unless!(ready(), prlimit());
    for mode in MODES {
        // The flood starts once the shell ignores USR1 and WINCH: forwarded
        // before its `trap`, they would kill it (a race the test once lost).
        let dir = tempfile::tempdir().unwrap();
        let trapped = dir.path().join("trapped");
        let script = format!(
            "trap '' USR1 WINCH; : > {}; sleep 1; exit 8",
            trapped.display()
        );
        let out = tormented(mode, &["sh", "-c", &script], move |proctor, done| {
            while !trapped.exists() && !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(1));
            }
            while !done.load(Ordering::Relaxed) {
                for sig in [libc::SIGWINCH, libc::SIGUSR1, libc::SIGCHLD, libc::SIGCONT] {
                    proctor.signal(sig);
                }
            }
        });
        assert_eq!(code(&out), 8, "{mode:?}: {}", stderr(&out));
    }
}

#[test]
fn proctor_stopped_and_continued_from_outside() {
    skip_unless!(ready(), prlimit());
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("r.json");
    let stop_go = |proctor: &Target, done: &AtomicBool| {
        while !done.load(Ordering::Relaxed) {
            proctor.signal(libc::SIGSTOP);
            std::thread::sleep(Duration::from_millis(3));
            proctor.signal(libc::SIGCONT);
            std::thread::sleep(Duration::from_millis(3));
        }
    };
    for mode in MODES {
        let out = tormented(mode, &["sh", "-c", "sleep 1; exit 8"], stop_go);
        assert_eq!(code(&out), 8, "{mode:?}: {}", stderr(&out));
        // The timeout is still enforced, counted across the stops.
        let out = tormented(
            mode,
            &[
                "--timeout",
                "1",
                "--report",
                r.to_str().unwrap(),
                "sleep",
                "30",
            ],
            stop_go,
        );
        assert_eq!(code(&out), 124, "{mode:?}: {}", stderr(&out));
        let rep = report(&r);
        assert_eq!(rep["status"], "timeout");
        assert!(rep["wall_ms"].as_u64().unwrap() >= 1000, "{rep}");
    }
}

#[test]
fn the_command_ends_while_proctor_is_stopped() {
    skip_unless!(ready(), prlimit());
    for mode in MODES {
        let out = tormented(mode, &["sh", "-c", "sleep 0.3; exit 8"], |proctor, _| {
            proctor.signal(libc::SIGSTOP);
            std::thread::sleep(Duration::from_millis(1000));
            proctor.signal(libc::SIGCONT);
        });
        assert_eq!(code(&out), 8, "{mode:?}: {}", stderr(&out));
    }
}
