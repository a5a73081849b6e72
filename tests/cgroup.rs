//! Resource control (SPEC "Resource control (cgroups)") on this machine's
//! cgroup v1/hybrid layout, with real cgroups and real OOM kills: proctor as
//! PID 1 of a fresh PID namespace and as a subreaper.
//!
//! Every test starts proctor inside a parent cgroup of its own
//! (`/sys/fs/cgroup/<controller>/proctor-test-<pid>-<n>`), never in the
//! cgroup of the session, checks that proctor left no cgroup behind in it,
//! and removes it.
//!
//! Needs root, `unshare` and the v1 `memory`, `pids`, `cpu`, `cpuacct`,
//! `freezer` hierarchies under /sys/fs/cgroup, and `busybox` (the static
//! memory hog is `busybox dd`); without them the tests fail when CI=true
//! and are skipped, with the reason printed, otherwise.

mod common;

use common::{code, ready, skip_unless, stderr, stdout, tool, Mode, MODES};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

const CONTROLLERS: [&str; 5] = ["memory", "pids", "cpu", "cpuacct", "freezer"];
const HOG: &str = "busybox dd if=/dev/zero of=/dev/null bs=200M count=1";

/// What the tests need beyond `ready()` (see the module's doc).
fn cgroups() -> Result<(), String> {
    tool("busybox", "the static memory hog")?;
    for c in CONTROLLERS {
        if !Path::new(&format!("/sys/fs/cgroup/{c}/cgroup.clone_children")).exists() {
            return Err(format!(
                "the cgroup v1 {c} hierarchy at /sys/fs/cgroup/{c} is missing"
            ));
        }
    }
    Ok(())
}

/// A parent cgroup of the test's own in every v1 hierarchy proctor uses.
struct Parent {
    dirs: Vec<PathBuf>,
}

impl Parent {
    fn new() -> Parent {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "proctor-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let dirs: Vec<PathBuf> = CONTROLLERS
            .iter()
            .map(|c| Path::new("/sys/fs/cgroup").join(c).join(&name))
            .collect();
        for d in &dirs {
            std::fs::create_dir(d).unwrap_or_else(|e| panic!("mkdir {}: {e}", d.display()));
        }
        Parent { dirs }
    }

    /// `cmd` starts in this cgroup (it writes itself into each `cgroup.procs` before exec).
    fn enter(&self, cmd: &mut Command) {
        let procs: Vec<std::ffi::CString> = self
            .dirs
            .iter()
            .map(|d| std::ffi::CString::new(d.join("cgroup.procs").to_str().unwrap()).unwrap())
            .collect();
        // SAFETY: open/write/close are async-signal-safe; nothing is allocated.
        unsafe {
            cmd.pre_exec(move || {
                for p in &procs {
                    let fd = libc::open(p.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                    if fd < 0 || libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                        return Err(std::io::Error::last_os_error());
                    }
                    libc::close(fd);
                }
                Ok(())
            });
        }
    }

    /// The cgroups proctor left in this one (there must be none).
    fn children(&self) -> Vec<PathBuf> {
        self.dirs
            .iter()
            .flat_map(|d| std::fs::read_dir(d).unwrap())
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect()
    }

    /// Processes still in this cgroup.
    fn members(&self) -> String {
        std::fs::read_to_string(self.dirs[0].join("cgroup.procs")).unwrap()
    }
}

impl Drop for Parent {
    fn drop(&mut self) {
        for d in &self.dirs {
            // A memory cgroup may take a moment to let go of its last process.
            for _ in 0..100 {
                if std::fs::remove_dir(d).is_ok() || !d.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Run proctor in `mode` with `args` inside a fresh parent cgroup; returns
/// its output and the report, after checking that no cgroup was left.
fn run(mode: Mode, args: &[&str]) -> (Output, serde_json::Value) {
    run_then(mode, None, args)
}

/// As [`run`]; as a subreaper, `after` runs in the namespace once proctor
/// has exited (see `common::subreaper_then`).
fn run_then(mode: Mode, after: Option<&str>, args: &[&str]) -> (Output, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let mut all = vec!["--report", report.to_str().unwrap()];
    all.extend_from_slice(args);
    let parent = Parent::new();
    let mut cmd = match after {
        Some(after) => common::subreaper_then(after, &all),
        None => common::command(mode, &all),
    };
    parent.enter(&mut cmd);
    let out = common::run_cmd(cmd, Duration::from_secs(60));
    assert_eq!(
        parent.children(),
        Vec::<PathBuf>::new(),
        "cgroups left behind"
    );
    assert_eq!(parent.members(), "", "processes left in the cgroup");
    let r = common::report(&report);
    (out, r)
}

fn show(out: &Output, r: &serde_json::Value) -> String {
    format!("report {r}\nstdout {}\nstderr {}", stdout(out), stderr(out))
}

#[test]
fn static_memory_hog_is_memory_limit() {
    skip_unless!(ready(), cgroups());
    for mode in MODES {
        let (out, r) = run(
            mode,
            &["--memory", "64m", "--", "sh", "-c", &format!("exec {HOG}")],
        );
        let why = show(&out, &r);
        assert_eq!(code(&out), 137, "{mode:?}: {why}");
        assert_eq!(r["status"], "memory_limit", "{why}");
        assert_eq!(r["signal"], 9, "{why}");
        assert!(r["oom_kills"].as_u64().unwrap() >= 1, "{why}");
        let peak = r["memory_peak_kib"].as_u64().unwrap();
        assert!((60 << 10..=(64 << 10) + 512).contains(&peak), "{why}");
        assert_eq!(
            r["limits"],
            serde_json::json!({"memory": 64 << 20}),
            "{why}"
        );
        assert!(
            stderr(&out).contains("proctor: the command was killed by the out-of-memory killer: memory limit exceeded"),
            "{why}"
        );
    }
}

#[test]
fn a_grandchild_oom_killed_keeps_the_command_status() {
    skip_unless!(ready(), cgroups());
    for mode in MODES {
        let script = format!("{HOG}; echo dd=$?; exit 3");
        let (out, r) = run(mode, &["--memory", "64m", "--", "sh", "-c", &script]);
        let why = show(&out, &r);
        assert_eq!(code(&out), 3, "{mode:?}: {why}");
        assert_eq!(stdout(&out), "dd=137\n", "{why}");
        assert_eq!(r["status"], "exited", "{why}");
        assert_eq!(r["command_exit_code"], 3, "{why}");
        assert!(r["oom_kills"].as_u64().unwrap() >= 1, "{why}");
    }
}

#[test]
fn the_command_starts_in_its_cgroup_in_every_hierarchy() {
    skip_unless!(ready(), cgroups());
    // On v1 the child writes itself into each hierarchy's `tasks` (its one
    // thread) before exec: the command's first look finds it in every one,
    // also as the inner init's child under --pid-ns.
    for (mode, pid_ns) in [
        (Mode::Pid1, false),
        (Mode::Subreaper, false),
        (Mode::Pid1, true),
    ] {
        let mut args = vec!["--memory", "64m", "--pids", "20", "--cpu-time", "5"];
        if pid_ns {
            args.push("--pid-ns");
        }
        args.extend(["--", "cat", "/proc/self/cgroup"]);
        let (out, r) = run(mode, &args);
        let why = show(&out, &r);
        assert_eq!(code(&out), 0, "{mode:?}: {why}");
        let text = stdout(&out);
        for c in ["memory", "pids", "cpuacct", "freezer"] {
            let line = text
                .lines()
                .find(|l| l.split(':').nth(1).unwrap().split(',').any(|x| x == c))
                .unwrap_or_else(|| panic!("no {c} line: {why}"));
            let leaf = line.rsplit('/').next().unwrap();
            assert!(
                leaf == "command" || leaf.starts_with("command-"),
                "{mode:?} --pid-ns {pid_ns}: {c} in {line:?}: {why}"
            );
        }
    }
}

#[test]
fn fork_bomb_is_held_by_pids() {
    skip_unless!(ready(), cgroups());
    for mode in MODES {
        // Each bomb forks two more for ever; the command survives it (with
        // builtins only: no process is left for it to fork) and exits.
        let script = "sh -c 'bomb() { bomb | bomb & }; bomb' & i=0; \
                      while [ $i -lt 100000 ]; do i=$((i+1)); done; echo survived";
        let (out, r) = run(mode, &["--pids", "20", "--", "sh", "-c", script]);
        let why = show(&out, &r);
        assert_eq!(code(&out), 0, "{mode:?}: {why}");
        assert_eq!(stdout(&out), "survived\n", "{why}");
        let peak = r["pids_peak"].as_u64().unwrap();
        assert!((10..=20).contains(&peak), "{why}");
        assert_eq!(r["limits"], serde_json::json!({"pids": 20}), "{why}");
    }
}

#[test]
fn cpu_time_stops_two_spinners() {
    skip_unless!(ready(), cgroups());
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    for mode in MODES {
        let load = std::fs::read_to_string("/proc/loadavg").unwrap();
        let busy = load.split(' ').next().unwrap().parse::<f64>().unwrap() >= cpus as f64;
        let spin = "while :; do :; done";
        let script = format!("sh -c '{spin}' & {spin}");
        let (out, r) = run(mode, &["--cpu-time", "1", "--", "sh", "-c", &script]);
        let why = show(&out, &r);
        assert_eq!(code(&out), 124, "{mode:?}: {why}");
        assert_eq!(r["status"], "cpu_timeout", "{why}");
        assert_eq!(r["signal"], 9, "{why}");
        // Stopped within 50 ms of the limit: at most 50 ms of each CPU more.
        let cpu = r["cpu_ms"].as_u64().unwrap();
        assert!((1000..=1000 + 50 * cpus + 20).contains(&cpu), "{why}");
        // Two spinners use 1 s of CPU in 0.5 s on two idle CPUs.
        let wall = r["wall_ms"].as_u64().unwrap();
        if busy {
            eprintln!("note: load {load:?} on {cpus} CPUs: wall time {wall} ms not held to 1.5 s");
            assert!(wall < 20_000, "{why}");
        } else {
            assert!(wall < 1500, "{why}");
        }
        assert_eq!(
            r["limits"],
            serde_json::json!({"cpu_time_ms": 1000}),
            "{why}"
        );
    }
}

#[test]
fn fork_and_exit_chain_leaves_nothing_as_subreaper() {
    skip_unless!(ready(), cgroups());
    // Each generation starts the next and exits at once, so that a scan of
    // /proc never finds the same process twice; the command exits at once.
    let script = r#"export C='sh -c "$C" & exit 0'; sh -c "$C"; sleep 0.2"#;
    // A while after proctor, every process of the namespace but its PID 1.
    let after = r#"sleep 0.3; for p in /proc/[0-9]*; do case ${p#/proc/} in 1) ;;
        *) s=$(cat $p/stat 2>/dev/null) && echo "left: $s";; esac; done"#;
    let (out, r) = run_then(
        Mode::Subreaper,
        Some(after),
        &["--cgroup", "--", "sh", "-c", script],
    );
    let why = show(&out, &r);
    assert_eq!(code(&out), 0, "{why}");
    assert!(!stdout(&out).contains("left:"), "{why}");
    assert!(r["leftovers_killed"].as_u64().unwrap() >= 1, "{why}");
    assert!(
        r["cpu_ms"].is_u64() && r["pids_peak"].as_u64().unwrap() >= 2,
        "{why}"
    );
    assert_eq!(r["limits"], serde_json::json!({}), "{why}");
}

#[test]
fn leftovers_that_left_the_session_are_killed_at_once() {
    skip_unless!(ready(), cgroups());
    for mode in MODES {
        let script = "setsid sleep 100 & (sh -c 'sleep 200 & exec sleep 300' &); sleep 0.2; exit 5";
        let (out, r) = run(mode, &["--cgroup", "--", "sh", "-c", script]);
        let why = show(&out, &r);
        assert_eq!(code(&out), 5, "{mode:?}: {why}");
        assert!(r["leftovers_killed"].as_u64().unwrap() >= 3, "{why}");
        for key in ["cpu_ms", "memory_peak_kib", "oom_kills", "pids_peak"] {
            assert!(r[key].is_u64(), "{key}: {why}");
        }
    }
}

/// `--output-limit` with a cgroup: at the limit the whole tree goes at
/// once (the cgroup's kill), a flooder that left the session included; none
/// is left for the leftovers' pass.
#[test]
fn output_limit_kills_the_whole_cgroup() {
    skip_unless!(ready(), cgroups());
    for mode in MODES {
        let script = "setsid sh -c 'sleep 9 & sleep 9 & sleep 0.5; exec yes' & exec yes";
        let args = ["--cgroup", "--output-limit", "1m", "--stdout", "/dev/null"];
        let (out, r) = run(mode, &[&args[..], &["sh", "-c", script]].concat());
        let why = show(&out, &r);
        assert_eq!(code(&out), 137, "{mode:?}: {why}");
        assert_eq!(r["status"], "output_limit", "{why}");
        assert_eq!(r["output_bytes"], 1 << 20, "{why}");
        assert_eq!(r["leftovers_killed"], 0, "{mode:?}: {why}");
    }
}

/// A cgroup filesystem mounted read-only (as Docker does) is used through a
/// writable remount the command never sees; without CAP_SYS_ADMIN, 125.
#[test]
fn read_only_cgroupfs_stays_read_only_for_the_command() {
    skip_unless!(
        ready(),
        cgroups(),
        tool("setpriv", "starts proctor without CAP_SYS_ADMIN")
    );
    let check = "grep ' /sys/fs/cgroup/memory ' /proc/self/mountinfo | cut -d' ' -f6; \
                 mkdir /sys/fs/cgroup/memory/x 2>/dev/null && echo WRITABLE; exit 0";
    for drop_admin in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("report.json");
        let parent = Parent::new();
        let mut cmd = common::throwaway_pid_namespace();
        cmd.args(["--mount", "sh", "-c"]);
        cmd.arg(
            "mount --make-rprivate / && mount -o remount,ro,bind /sys/fs/cgroup/memory && exec \"$@\"",
        );
        cmd.arg("sh");
        if drop_admin {
            cmd.args(["setpriv", "--bounding-set", "-sys_admin"]);
        }
        cmd.arg(common::proctor());
        cmd.args([
            "--report",
            report.to_str().unwrap(),
            "--memory",
            "64m",
            "--",
            "sh",
            "-c",
            check,
        ]);
        parent.enter(&mut cmd);
        let out = common::run_cmd(cmd, Duration::from_secs(60));
        let r = common::report(&report);
        let why = show(&out, &r);
        if drop_admin {
            assert_eq!(code(&out), 125, "{why}");
            assert_eq!(r["status"], "setup_error", "{why}");
            let m = r["message"].as_str().unwrap();
            assert!(
                m.contains("read-only") && m.contains("CAP_SYS_ADMIN"),
                "{why}"
            );
        } else {
            assert_eq!(code(&out), 0, "{why}");
            assert!(stdout(&out).starts_with("ro,"), "{why}");
            assert!(!stdout(&out).contains("WRITABLE"), "{why}");
            assert_eq!(r["limits"]["memory"], 64 << 20, "{why}");
        }
        assert_eq!(
            parent.children(),
            Vec::<PathBuf>::new(),
            "cgroups left behind"
        );
    }
}

/// Without a usable cgroup an option that needs one is refused (125) and
/// says what is missing; bad values are refused before anything runs.
#[test]
fn no_usable_cgroup_or_bad_values_are_125() {
    skip_unless!(ready(), cgroups());
    let mut cmd = common::throwaway_pid_namespace();
    cmd.args(["--mount", "sh", "-c"]);
    cmd.arg("mount --make-rprivate / && umount -l /sys/fs/cgroup && exec \"$@\"");
    cmd.arg("sh");
    cmd.arg(common::proctor());
    cmd.args(["--memory", "64m", "--", "true"]);
    let out = common::run_cmd(cmd, Duration::from_secs(60));
    assert_eq!(code(&out), 125, "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "proctor: cgroup: opening proctor's cgroup: ENOENT\n"
    );
    for (args, line) in [
        (
            ["--memory", "abc"],
            "--memory: \"abc\" is not a size in bytes with k/m/g/t",
        ),
        (
            ["--cpus", "0"],
            "--cpus: \"0\" is not a number of CPUs from 0.01 on (decimal allowed)",
        ),
        (
            ["--pids", "-1"],
            "--pids: \"-1\" is not a number of processes from 1 to 4194304",
        ),
    ] {
        let out = common::run(Mode::Pid1, &[args[0], args[1], "true"]);
        assert_eq!(code(&out), 125);
        assert_eq!(stderr(&out), format!("proctor: {line}\n"));
    }
}

/// Without a cgroup option, proctor makes no cgroup system call at all.
#[test]
fn no_cgroup_option_touches_no_cgroup() {
    skip_unless!(
        ready(),
        cgroups(),
        tool("strace", "counts proctor's system calls")
    );
    let mut cmd = common::throwaway_pid_namespace();
    cmd.args([
        "strace",
        "-f",
        "-e",
        "trace=openat,mkdirat,clone3,setns,unlinkat",
        "--",
    ]);
    cmd.arg(common::proctor());
    cmd.args(["--", "true"]);
    let out = common::run_cmd(cmd, Duration::from_secs(60));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // Syscall names and cgroup paths only: the checkout's own path may
    // hold anything (a CI clone named `…clone3` did).
    let trace = stderr(&out);
    assert!(
        !trace.contains("/cgroup") && !trace.contains("cgroup.") && !trace.contains("clone3("),
        "{trace}"
    );
    assert!(
        !trace.contains("mkdirat(") && !trace.contains("setns("),
        "{trace}"
    );
}

/// proctor as the `/init` of a Docker container (the engine here runs
/// cgroup v1, mounts the cgroup filesystems read-only, and shows the
/// container's cgroup as their root): the same memory verdict, under
/// `--memory` and under the container's own limit with `--cgroup`.
#[test]
fn docker_init_memory_verdict() {
    let image = match common::docker::image() {
        Ok(image) => image,
        Err(why) => return common::skipped(&why),
    };
    // --memory 64m; then the container's own limit (docker run --memory)
    // with --cgroup alone: the OOM kill is counted in the command's cgroup.
    for (docker_args, proctor_args) in [
        (&[][..], &["--memory", "64m"][..]),
        (
            &["--memory", "64m", "--memory-swap", "64m"][..],
            &["--cgroup"][..],
        ),
    ] {
        let out_dir = tempfile::tempdir().unwrap();
        let out = common::docker::DockerRun::new("cgroup-memory")
            .args(docker_args)
            .mount_privileges()
            .volume(out_dir.path(), "/out")
            .proctor("/init", image)
            .args(["--report", "/out/report.json"])
            .args(proctor_args)
            .arg("--")
            .args(HOG.split(' '))
            .output(Duration::from_secs(120));
        let r = common::report(&out_dir.path().join("report.json"));
        let why = show(&out, &r);
        assert_eq!(code(&out), 137, "{proctor_args:?}: {why}");
        assert_eq!(r["status"], "memory_limit", "{why}");
        assert!(r["oom_kills"].as_u64().unwrap() >= 1, "{why}");
        let peak = r["memory_peak_kib"].as_u64().unwrap();
        assert!((56 << 10..=(64 << 10) + 512).contains(&peak), "{why}");
    }
}
