//! `--pid-ns` through the real binary (SPEC: PID namespace): the command's
//! attacks on proctor fail, nothing outlives the namespace, the fresh /proc
//! and its read-only knobs, the PID-1 matrix as PID 1 and as a subreaper,
//! the privilege it needs, and the other options beside it.
mod common;
mod helper;
use common::*;
use helper::*;
use std::process::Command;
use std::time::Duration;

/// `args` after `--pid-ns`.
fn pid_ns<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--pid-ns"];
    v.extend_from_slice(args);
    v
}

/// proctor as a subreaper under a throwaway PID 1, given pid 30000 there
/// (`ns_last_pid`): a number no process of the command's namespace has, so
/// a signal to it that lands is a real hit. The shell says `proctor=PID`.
fn subreaper_at_30000(args: &[&str]) -> Command {
    let mut c = throwaway_pid_namespace();
    c.args([
        "sh",
        "-c",
        "echo 29999 > /proc/sys/kernel/ns_last_pid; \"$0\" \"$@\" & echo proctor=$! >&2; wait $!",
    ]);
    c.arg(proctor());
    c.args(args);
    c
}

/// The issue's attacks, by a command with proctor's uid (root, without
/// capabilities): signals to proctor's real pid find no such process;
/// SIGKILL and SIGSTOP to its parent (the inner init) are dropped by the
/// kernel, SIGTERM comes back to the command's own group; `/proc` shows
/// only the command's processes, so neither proctor nor the inner init's
/// `fd`, `environ` or `cmdline`; and the report arrives.
#[test]
fn the_command_cannot_reach_proctor() {
    skip_unless!(ready());
    let script = r#"P=$1
for s in KILL STOP TERM; do
  kill -$s $P 2>/dev/null && echo "proctor $s: sent" || echo "proctor $s: no such process"
done
got=
trap 'got=1' TERM
for s in KILL STOP TERM; do kill -$s $PPID && echo "parent $PPID $s: sent"; done
i=0; while [ -z "$got" ] && [ $i -lt 100000 ]; do i=$((i+1)); done
[ -n "$got" ] && echo "TERM came back to the command"
kill -0 $PPID && echo "parent alive"
echo seen: /proc/[0-9]*
[ -e /proc/$P ] || echo "no /proc/$P"
ls /proc/1/fd >/dev/null 2>&1 || echo "/proc/1/fd: refused"
cat /proc/1/environ >/dev/null 2>&1 || echo "/proc/1/environ: refused"
cat /proc/1/cmdline >/dev/null 2>&1 || echo "/proc/1/cmdline: refused"
exit 7"#;
    let dir = tempfile::tempdir().unwrap();
    let rep = dir.path().join("r.json");
    let args = pid_ns(&[
        "--report",
        rep.to_str().unwrap(),
        "sh",
        "-c",
        script,
        "sh",
        "30000",
    ]);
    let out = run_cmd(subreaper_at_30000(&args), Duration::from_secs(60));
    assert!(stderr(&out).contains("proctor=30000"), "{}", stderr(&out));
    assert_eq!(code(&out), 7, "{}{}", stdout(&out), stderr(&out));
    assert_eq!(
        stdout(&out),
        "proctor KILL: no such process\n\
         proctor STOP: no such process\n\
         proctor TERM: no such process\n\
         parent 1 KILL: sent\n\
         parent 1 STOP: sent\n\
         parent 1 TERM: sent\n\
         TERM came back to the command\n\
         parent alive\n\
         seen: /proc/2\n\
         no /proc/30000\n\
         /proc/1/fd: refused\n\
         /proc/1/environ: refused\n\
         /proc/1/cmdline: refused\n"
    );
    let r = report(&rep);
    assert_eq!(r["status"], "exited", "{r}");
    assert_eq!(r["exit_code"], 7, "{r}");
    assert_eq!(r["leftovers_killed"], 0, "{r}");
}

/// A fork-and-exit chain (each link forks the next and exits, to stay
/// ahead of any scan) and a `setsid` daemon: 100 runs as a subreaper, and
/// after each nothing but the throwaway namespace's init is left.
#[test]
fn chains_and_daemons_leave_nothing_in_100_runs() {
    skip_unless!(ready());
    let command = "f() { f & }; f; setsid sleep 1000 & sleep 0.01";
    let script = format!(
        "for i in $(seq 100); do \
           \"$0\" -q --pid-ns -- sh -c '{command}' || {{ echo \"run $i: $?\"; exit 1; }}; \
           for p in /proc/[0-9]*; do \
             [ \"$p\" = /proc/$$ ] && continue; \
             {{ read -r st < $p/stat; }} 2>/dev/null || continue; \
             echo \"run $i left: $st\"; exit 1; \
           done; \
         done; echo clean"
    );
    let mut c = throwaway_pid_namespace();
    c.args(["sh", "-c", &script]).arg(proctor());
    let out = run_cmd(c, Duration::from_secs(120));
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert_eq!(stdout(&out), "clean\n", "{}", stderr(&out));
}

/// The command's own /proc is the namespace's (`NSpid` one level there); the
/// /proc of the namespace above, handed in as a descriptor, shows two levels.
/// `/proc/sys` is read-only (writing `core_pattern` is EROFS) though the
/// /proc outside is writable, and so are sysrq-trigger, irq and bus;
/// /proc itself is nosuid,nodev,noexec.
#[test]
fn a_fresh_proc_with_read_only_knobs() {
    skip_unless!(ready());
    let script = r#"cat /proc/self/status /dev/fd/7/self/status | grep NSpid
v=$(cat /proc/sys/kernel/core_pattern)
{ printf '%s\n' "$v" > /proc/sys/kernel/core_pattern; } 2>&1 && echo "core_pattern: written"
cat /proc/self/mountinfo"#;
    let mut c = throwaway_pid_namespace();
    c.args([
        "sh",
        "-c",
        "[ -w /proc/sys/kernel/core_pattern ] && echo outer: writable; exec 7</proc; exec \"$0\" \"$@\"",
    ]);
    c.arg(proctor());
    c.args(["--pid-ns", "--keep-fd", "7", "sh", "-c", script]);
    let out = run_cmd(c, Duration::from_secs(60));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("outer: writable"));
    let inner: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    let outer: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    let erofs = lines.next().unwrap();
    assert_eq!(inner.len(), 2, "one level in the fresh /proc: {text}");
    assert_eq!(
        outer.len(),
        3,
        "two levels from the namespace above: {text}"
    );
    assert_eq!(inner[1], outer[2], "the same process: {text}");
    assert!(
        erofs.ends_with("Read-only file system"),
        "core_pattern: {text}"
    );
    assert!(!text.contains("core_pattern: written"), "{text}");
    // mountinfo: "ID PARENT DEV ROOT POINT OPTIONS ..."; the last mount at a point wins.
    let options = |point: &str| {
        text.lines()
            .rfind(|l| l.split(' ').nth(4) == Some(point))
            .map(|l| l.split(' ').nth(5).unwrap().to_owned())
            .unwrap_or_else(|| panic!("{point} not mounted: {text}"))
    };
    let proc = options("/proc");
    for flag in ["rw", "nosuid", "nodev", "noexec"] {
        assert!(proc.split(',').any(|f| f == flag), "/proc {proc}");
    }
    for knob in ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"] {
        if std::path::Path::new(knob).exists() {
            let o = options(knob);
            assert!(o.starts_with("ro,"), "{knob}: {o}");
        }
    }
}

/// The PID-1 matrix with `--pid-ns`, as PID 1 and as a subreaper: exit
/// codes, death by signal, every signal forwarded in order (to the group,
/// and with -c to the command alone), SIGTERM from outside, orphans reaped.
#[test]
fn matrix_exit_codes_signals_and_orphans() {
    skip_unless!(ready());
    let sigs: Vec<String> = (1..=31)
        .filter(|s| ![libc::SIGKILL, libc::SIGSTOP, libc::SIGCHLD].contains(s))
        .chain([34, 35, 42, 50, 63, 64])
        .map(|s| s.to_string())
        .collect();
    for mode in MODES {
        for n in [0, 1, 3, 77, 255] {
            let script = format!("exit {n}");
            let out = run(mode, &pid_ns(&["sh", "-c", &script]));
            assert_eq!(code(&out), n, "{mode:?}: {}", stderr(&out));
        }
        for (sig, want) in [("TERM", 143), ("KILL", 137), ("SEGV", 139)] {
            let script = format!("kill -{sig} $$");
            let out = run(mode, &pid_ns(&["sh", "-c", &script]));
            assert_eq!(code(&out), want, "{mode:?} {sig}: {}", stderr(&out));
        }
        for single in [false, true] {
            let mut args: Vec<&str> = sigs.iter().map(String::as_str).collect();
            args.insert(0, if single { "single" } else { "group" });
            let argv = helper("signals", &args);
            let mut cmd = pid_ns(&strs(&argv));
            if single {
                cmd.insert(0, "-c");
            }
            let out = run(mode, &cmd);
            assert_eq!(code(&out), 0, "{mode:?} -c={single}: {}", stderr(&out));
            let text = stdout(&out);
            let got: Vec<&str> = text.lines().collect();
            assert_eq!(got, strs(&sigs), "{mode:?} -c={single}: in order");
            assert_eq!(stderr(&out), "", "{mode:?}");
        }
        let argv = helper("burst", &["40", "100"]);
        let out = run(mode, &pid_ns(&strs(&argv)));
        assert_eq!(stdout(&out), "got 100\n", "{mode:?}: {}", stderr(&out));
        let argv = helper("zombies", &["300"]);
        let out = run(mode, &pid_ns(&strs(&argv)));
        assert_eq!(code(&out), 0, "{mode:?}: {}{}", stdout(&out), stderr(&out));
        assert_eq!(stdout(&out), "made 300 orphaned zombies; none left\n");
        // `docker stop`: SIGTERM to proctor from outside.
        let dir = tempfile::tempdir().unwrap();
        let flag = dir.path().join("started");
        let script = format!("touch {}; exec sleep 60", flag.display());
        let (child, pid) = start(command(mode, &pid_ns(&["-vv", "sh", "-c", &script])), &flag);
        // SAFETY: kill has no memory preconditions.
        assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGTERM) }, 0);
        let out = wait_limited(child, Duration::from_secs(30));
        assert_eq!(code(&out), 143, "{mode:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("forwarded signal 15"),
            "{mode:?}: {}",
            stderr(&out)
        );
    }
}

/// The matrix's timeouts: SIGTERM to the command's group through the inner
/// init (124, signal 15), and for a command that ignores it, SIGKILL to the
/// inner init --kill-after later (124, signal 9): the namespace ends whole.
#[test]
fn matrix_timeouts() {
    skip_unless!(ready());
    for mode in MODES {
        let dir = tempfile::tempdir().unwrap();
        let rep = dir.path().join("r.json");
        let rep_s = rep.to_str().unwrap();
        // A grandchild in the group must get the TERM too, even with -c.
        let out = run(
            mode,
            &pid_ns(&[
                "-c",
                "--timeout",
                "0.3",
                "--report",
                rep_s,
                "sh",
                "-c",
                "sleep 60 & wait",
            ]),
        );
        assert_eq!(code(&out), 124, "{mode:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("proctor: timeout: sending SIGTERM"));
        assert!(!stderr(&out).contains("SIGKILL"), "{}", stderr(&out));
        let r = report(&rep);
        assert_eq!(
            (r["status"].as_str(), r["signal"].as_u64()),
            (Some("timeout"), Some(15)),
            "{r}"
        );
        assert!(r["wall_ms"].as_u64().unwrap() >= 300, "{r}");

        assert_timeout_kills_a_term_ignorer(mode, &["--pid-ns"]);
    }
}

/// The timeout's SIGKILL keeps the report's usage: a command that spins
/// before it ignores SIGTERM still has its CPU time and RSS counted, as
/// without `--pid-ns` (the kernel would reap a dying namespace without
/// accounting).
#[test]
fn a_timeout_keeps_the_usage() {
    skip_unless!(ready());
    let script = "trap '' TERM; i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; sleep 60";
    for mode in MODES {
        for extra in [&[][..], &["--pid-ns"][..]] {
            let dir = tempfile::tempdir().unwrap();
            let rep = dir.path().join("r.json");
            let mut args = extra.to_vec();
            let rep_s = rep.to_str().unwrap();
            args.extend([
                "-q",
                "--timeout",
                "0.5",
                "--kill-after",
                "0.2",
                "--report",
                rep_s,
            ]);
            args.extend(["sh", "-c", script]);
            let out = run(mode, &args);
            assert_eq!(code(&out), 124, "{mode:?} {extra:?}: {}", stderr(&out));
            let r = report(&rep);
            assert_eq!(r["signal"], 9, "{r}");
            assert!(
                r["cpu_user_ms"].as_u64().unwrap() >= 50,
                "{mode:?} {extra:?}: {r}"
            );
            assert!(
                r["max_rss_kib"].as_u64().unwrap() > 0,
                "{mode:?} {extra:?}: {r}"
            );
        }
    }
}

/// The matrix's report contents: usage of the whole tree (an orphan's CPU
/// and RSS count), leftovers killed and counted by the inner init (and, as
/// a subreaper, nothing alive afterwards), exec errors 126/127 and a setup
/// error 125 naming the step.
#[test]
fn matrix_report_and_exec_errors() {
    skip_unless!(ready());
    for mode in MODES {
        let dir = tempfile::tempdir().unwrap();
        let rep = dir.path().join("r.json");
        let rep_s = rep.to_str().unwrap();
        let argv = helper("burn", &["100", "32768"]);
        let mut args = vec!["--report", rep_s];
        args.extend(strs(&argv));
        let out = run(mode, &pid_ns(&args));
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        let r = report(&rep);
        assert_eq!(r["status"], "exited", "{r}");
        assert!(r["cpu_user_ms"].as_u64().unwrap() >= 100, "{mode:?}: {r}");
        assert!(r["max_rss_kib"].as_u64().unwrap() >= 32768, "{mode:?}: {r}");
        assert!(r["max_rss_kib"].as_u64().unwrap() < 4 * 32768, "{r}");
        assert!(r["wall_ms"].as_u64().unwrap() >= 100, "{mode:?}: {r}");
        assert_eq!(r["leftovers_killed"], 0, "{r}");

        let argv = helper("leftovers", &[]);
        let mut args = vec!["-v", "--report", rep_s];
        args.extend(strs(&argv));
        let cmd = match mode {
            Mode::Pid1 => command(mode, &pid_ns(&args)),
            Mode::Subreaper => subreaper_then(
                "for p in /proc/[0-9]*; do [ $p = /proc/1 ] || echo alive: $p; done",
                &pid_ns(&args),
            ),
        };
        let out = run_cmd(cmd, Duration::from_secs(60));
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "left 3 processes behind\n", "{mode:?}");
        assert!(stderr(&out).contains("killed 3 leftover process(es)"));
        assert_eq!(report(&rep)["leftovers_killed"], 3, "{mode:?}");

        for (cmd, want, line) in [
            (
                "/nonexistent/cmd",
                127,
                "proctor: exec: /nonexistent/cmd: ENOENT\n",
            ),
            ("/", 126, "proctor: exec: /: EACCES\n"),
        ] {
            let out = run(mode, &pid_ns(&["--report", rep_s, cmd]));
            assert_eq!(code(&out), want, "{mode:?}: {}", stderr(&out));
            assert_eq!(stderr(&out), line, "{mode:?}");
            let r = report(&rep);
            assert_eq!(r["status"], "exec_error", "{r}");
            assert!(r["wall_ms"].is_null(), "{r}");
        }
        let out = run(
            mode,
            &pid_ns(&["--report", rep_s, "--chdir", "/nonexistent", "true"]),
        );
        assert_eq!(code(&out), 125, "{mode:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), "proctor: chdir: /nonexistent: ENOENT\n");
        assert_eq!(report(&rep)["status"], "setup_error");
    }
}

/// With a terminal on stdin (proctor owns it, as under `docker run -t`),
/// the command, PID 2 of its namespace, takes it and is its foreground group.
#[test]
fn the_command_takes_the_terminal() {
    skip_unless!(ready(), tool("setsid", "makes proctor own the terminal"));
    let script = "read -r s < /proc/self/stat; set -- $s; echo \"$1 $5 $7 $8\"";
    let out = run_on_terminal(pid1_session(&pid_ns(&["-vv", "sh", "-c", script])));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let f: Vec<i64> = stdout(&out)
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(f.len(), 4, "{}", stdout(&out));
    assert_eq!(f[0], 2, "the command as pid 2");
    assert_eq!(f[1], 2, "in a group of its own");
    assert_ne!(f[2], 0, "with a controlling terminal");
    assert_eq!(f[3], 2, "and in the foreground");
    let err = stderr(&out);
    assert!(!err.contains("warning"), "{err}");
    assert!(!err.contains("forwarded signal"), "{err}");
}

/// Without CAP_SYS_ADMIN: 125 naming the privilege, before the command runs.
#[test]
fn without_cap_sys_admin_it_is_refused() {
    skip_unless!(
        ready(),
        tool("setpriv", "runs proctor without CAP_SYS_ADMIN")
    );
    for mode in MODES {
        let dir = tempfile::tempdir().unwrap();
        let rep = dir.path().join("r.json");
        let flag = dir.path().join("ran");
        let script = format!("touch {}", flag.display());
        // setpriv execs proctor with CAP_SYS_ADMIN out of its bounding set.
        let wrapper = ["setpriv".as_ref(), "--bounding-set=-sys_admin".as_ref()];
        let args = pid_ns(&["--report", rep.to_str().unwrap(), "sh", "-c", &script]);
        let out = run_cmd(wrapped(mode, &wrapper, &args), Duration::from_secs(60));
        assert_eq!(code(&out), 125, "{mode:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with("proctor: --pid-ns: ")
                && stderr(&out).contains("CAP_SYS_ADMIN"),
            "{mode:?}: {}",
            stderr(&out)
        );
        assert!(!flag.exists(), "the command never runs");
        assert_eq!(report(&rep)["status"], "setup_error");
    }
}

/// Everything else keeps working beside it: mounts, `--net none`, `--user`,
/// capabilities dropped, seccomp, no_new_privs.
#[test]
fn with_mounts_network_user_and_seccomp() {
    skip_unless!(ready());
    let script = "echo pid $$; id -u; id -g; \
        grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status; \
        touch /scratch/x && echo scratch: writable; \
        touch /etc/x 2>/dev/null || echo root: read-only; \
        sed -n '3,$p' /proc/net/dev | cut -d: -f1 | tr -d ' '";
    for mode in MODES {
        let out = run(
            mode,
            &pid_ns(&[
                "--net",
                "none",
                "--ro",
                "/",
                "--tmpfs",
                "/scratch",
                "--user",
                "1000:1000",
                "sh",
                "-c",
                script,
            ]),
        );
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert_eq!(
            stdout(&out),
            "pid 2\n1000\n1000\nCapEff:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n\
             scratch: writable\nroot: read-only\nlo\n",
            "{mode:?}: {}",
            stderr(&out)
        );
    }
}

/// The example grader image (examples/Dockerfile, FROM scratch with a
/// static busybox) under a tag of this file's own; Err: why it cannot be built.
fn docker_image() -> Result<&'static str, String> {
    const IMAGE: &str = "proctor-pidns-grader:latest";
    static BUILT: std::sync::OnceLock<Result<&'static str, String>> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            let info = Command::new("docker").arg("info").output();
            if !info.is_ok_and(|o| o.status.success()) {
                return Err("no Docker daemon answers (docker info)".into());
            }
            if !std::path::Path::new("/bin/busybox").is_file() {
                return Err("/bin/busybox (busybox-static) is not installed".into());
            }
            let ctx = tempfile::tempdir().map_err(|e| e.to_string())?;
            let c = ctx.path();
            std::fs::copy(repo.join("examples/Dockerfile"), c.join("Dockerfile")).unwrap();
            std::fs::create_dir(c.join("grader")).unwrap();
            std::fs::copy(
                repo.join("examples/grader/grade.sh"),
                c.join("grader/grade.sh"),
            )
            .unwrap();
            std::fs::copy("/bin/busybox", c.join("busybox")).unwrap();
            let out = Command::new("docker")
                .env("DOCKER_BUILDKIT", "0")
                .args(["build", "-q", "-t", IMAGE])
                .arg(c)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "docker build: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Ok(IMAGE)
        })
        .clone()
}

/// The grading flow in Docker with `--pid-ns`, as docs/deployment.md runs
/// it: the submission arrives later, is bound read-only, the grader runs as
/// 1000:1000 in a PID namespace of its own. This submission also tries to
/// kill and stop its init and leaves a `setsid` daemon: the grade, the exit
/// status and the report are those of the plain failing sample, and the
/// daemon is counted among the leftovers.
#[test]
fn docker_grading_flow_with_pid_ns() {
    let image = match docker_image() {
        Ok(i) => i,
        Err(reason) => return missing(&reason),
    };
    use std::os::unix::fs::PermissionsExt;
    let stage = tempfile::tempdir().unwrap();
    let st = stage.path();
    std::fs::set_permissions(st, std::fs::Permissions::from_mode(0o755)).unwrap();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let sub = st.join("sub");
    std::fs::create_dir(&sub).unwrap();
    let solution = std::fs::read_to_string(repo.join("examples/submission/solution.sh")).unwrap();
    let hostile = "kill -KILL 1 2>/dev/null; kill -STOP 1 2>/dev/null\n\
                   setsid sleep 1000 </dev/null >/dev/null 2>&1 &\n";
    std::fs::write(sub.join("solution.sh"), format!("{hostile}{solution}")).unwrap();
    std::fs::write(st.join("ready"), b"").unwrap();
    let name = format!("proctor-pidns-{}", std::process::id());
    let _ = Command::new("docker").args(["rm", "-f", &name]).output();
    let out = Command::new("docker")
        .args(["run", "--name", &name, "--network", "none"])
        .args([
            "--cap-add",
            "SYS_ADMIN",
            "--security-opt",
            "apparmor=unconfined",
        ])
        .args(["-v", &format!("{}:/init:ro", proctor().display())])
        .arg("-v")
        .arg(format!("{}:/staging", st.display()))
        .args(["--entrypoint", "/init", image])
        .args(["--wait-for", "/staging/ready", "--pid-ns"])
        .args(["--bind", "/staging/sub:/shared/submission"])
        .args(["--tmpfs", "/tmp", "--user", "1000:1000", "--timeout", "60"])
        .args(["--report", "/staging/report.json", "--", "/grader/grade.sh"])
        .output()
        .unwrap();
    let _ = Command::new("docker").args(["rm", "-f", &name]).output();
    let (so, se) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{so}{se}");
    assert!(
        so.contains("PASS wordcount") && so.contains("FAIL fizzbuzz"),
        "{so}"
    );
    assert!(so.contains("\"score\": 2"), "{so}");
    assert!(se.contains("grader: uid 1000, gid 1000"), "{se}");
    assert!(se.contains("the submission directory is read-only"), "{se}");
    let r = report(&st.join("report.json"));
    assert_eq!(r["status"], "exited", "{r}");
    assert_eq!(r["exit_code"], 1, "{r}");
    assert!(r["max_rss_kib"].as_u64().unwrap() > 0, "{r}");
    assert!(
        r["leftovers_killed"].as_u64().unwrap() >= 1,
        "the daemon: {r}"
    );
}

/// proctor slow to wake (stopped here) while the inner init reports the
/// command's end and then its leftovers: both messages wait in the pipe
/// together, and the leftovers are still counted.
#[test]
fn a_slow_proctor_still_counts_the_leftovers() {
    skip_unless!(ready());
    let dir = tempfile::tempdir().unwrap();
    let (flag, fifo, rep) = (
        dir.path().join("flag"),
        dir.path().join("fifo"),
        dir.path().join("r.json"),
    );
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let script = format!(
        "exec 3<>{fifo}; touch {flag}; read x <&3; setsid sleep 100 & exit 0",
        fifo = fifo.display(),
        flag = flag.display()
    );
    let args = pid_ns(&["--report", rep.to_str().unwrap(), "sh", "-c", &script]);
    let (child, pid) = start(command(Mode::Subreaper, &args), &flag);
    // SAFETY: kill has no memory preconditions.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGSTOP) }, 0);
    std::fs::write(&fifo, "go\n").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGCONT) }, 0);
    let out = wait_limited(child, Duration::from_secs(30));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let r = report(&rep);
    assert_eq!(r["leftovers_killed"], 1, "{r}");
    assert_eq!(r["status"], "exited", "{r}");
}

/// As PID 1 of a container proctor may have children that are not the
/// command's (a process started before it, `docker exec` orphans): they
/// neither hold it until `--kill-after` runs out nor get killed.
#[test]
fn other_children_of_pid1_do_not_hold_it() {
    skip_unless!(ready());
    let mut c = throwaway_pid_namespace();
    c.args(["sh", "-c", "sleep 60 & exec \"$0\" \"$@\""]);
    c.arg(proctor());
    c.args(["--pid-ns", "--kill-after", "60", "sh", "-c", "exit 5"]);
    let started = std::time::Instant::now();
    let out = run_cmd(c, Duration::from_secs(120));
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "held until --kill-after"
    );
    assert_eq!(stderr(&out), "");
}
