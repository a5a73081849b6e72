//! Reaping and clean-up through the real binary, as PID 1 and as a plain
//! subreaper: orphaned zombies, the coalesced-SIGCHLD race of catatonit#4,
//! and everything the command leaves behind killed at exit.
mod common;
mod helper;
use common::*;
use helper::*;
use std::time::Duration;

/// Run by the namespace's PID 1 after proctor (as a subreaper) exited:
/// prints `alive:` and the pids of live processes but PID 1 itself, once
/// none is left or after 3 s (killed processes take a moment to die).
const ALIVE: &str = "i=0; while :; do left=''; \
    for p in /proc/[0-9]*; do n=${p#/proc/}; [ \"$n\" = 1 ] && continue; \
      { read -r st < $p/stat; } 2>/dev/null || continue; set -- $st; \
      [ \"$3\" = Z ] || left=\"$left $n\"; \
    done; [ -z \"$left\" ] && break; i=$((i+1)); [ $i -ge 300 ] && break; sleep 0.01; \
  done; echo \"alive:$left\"";

/// 300 zombies are orphaned to proctor while the command runs; the command
/// watches /proc until no process is in state Z.
#[test]
fn orphaned_zombies_are_reaped_while_the_command_runs() {
    if !ready() {
        return;
    }
    for mode in MODES {
        let argv = helper("zombies", &["300"]);
        let out = run(mode, &strs(&argv));
        assert_eq!(code(&out), 0, "{mode:?}: {}{}", stdout(&out), stderr(&out));
        assert_eq!(stdout(&out), "made 300 orphaned zombies; none left\n");
    }
}

/// catatonit#4: the command's SIGCHLD coalesces with an orphan's; proctor
/// must still see the command end. Many rounds, two runners per mode.
#[test]
fn coalesced_sigchld_never_hangs() {
    if !ready() || !require("bash", "the catatonit#4 reproducer") {
        return;
    }
    const ROUNDS: usize = 200;
    let script = "bash -c 'sleep 0.01 & kill -9 $BASHPID'; sleep 0.0087";
    let runners: Vec<_> = MODES
        .iter()
        .flat_map(|&mode| [mode, mode])
        .map(|mode| {
            std::thread::spawn(move || {
                for round in 0..ROUNDS / 2 {
                    let cmd = command(mode, &["bash", "-c", script]);
                    let out = run_cmd(cmd, Duration::from_secs(20));
                    assert_eq!(code(&out), 0, "{mode:?} round {round}: {}", stderr(&out));
                }
            })
        })
        .collect();
    for r in runners {
        r.join().expect("a round failed or hung");
    }
}

/// proctor with `args`; as a subreaper, followed by [`ALIVE`].
fn checked(mode: Mode, args: &[&str]) -> std::process::Command {
    match mode {
        Mode::Pid1 => command(mode, args),
        Mode::Subreaper => subreaper_then(ALIVE, args),
    }
}

/// A background child, a setsid daemon and a double-forked daemon are killed
/// when the command exits, and the report counts them. As a subreaper,
/// nothing is left once proctor has exited (the namespace's PID 1 looks).
#[test]
fn leftovers_are_killed_and_counted() {
    if !ready() {
        return;
    }
    for mode in MODES {
        leftovers_case(mode, &[]);
        // No grace at all still kills them (at least one pass).
        leftovers_case(mode, &["--kill-after", "0"]);
    }
}

fn leftovers_case(mode: Mode, extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let rep = dir.path().join("r.json");
    let mut args = vec!["-v", "--report", rep.to_str().unwrap()];
    args.extend(extra);
    let argv = helper("leftovers", &[]);
    args.extend(strs(&argv));
    let out = run_cmd(checked(mode, &args), Duration::from_secs(60));
    assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
    let r = report(&rep);
    assert_eq!(r["leftovers_killed"], 3, "{mode:?}: {r}");
    assert_eq!(r["status"], "exited", "{r}");
    assert!(
        stderr(&out).contains("proctor: killed 3 leftover process(es)"),
        "{mode:?}: {}",
        stderr(&out)
    );
    if mode == Mode::Subreaper {
        assert_eq!(
            stdout(&out),
            "left 3 processes behind\nalive:\n",
            "only the namespace's init is left"
        );
    }
}

/// A leftover that keeps forking is stopped and killed all the same.
#[test]
fn a_forking_leftover_is_killed() {
    if !ready() {
        return;
    }
    for mode in MODES {
        let dir = tempfile::tempdir().unwrap();
        let rep = dir.path().join("r.json");
        let mut args = vec!["--report", rep.to_str().unwrap()];
        let argv = helper("forker", &["400"]);
        args.extend(strs(&argv));
        let out = run_cmd(checked(mode, &args), Duration::from_secs(60));
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        // Nothing but the warning that a root command may write to its report's directory.
        let other = stderr(&out)
            .lines()
            .filter(|l| !l.contains("--report"))
            .count();
        assert_eq!(other, 0, "{mode:?}: {}", stderr(&out));
        let r = report(&rep);
        assert!(
            r["leftovers_killed"].as_u64().unwrap() >= 2,
            "{mode:?}: {r}"
        );
        if mode == Mode::Subreaper {
            assert_eq!(
                stdout(&out),
                "alive:\n",
                "only the namespace's init is left"
            );
        }
    }
}

/// Without leftovers, nothing is counted.
#[test]
fn no_leftovers_no_count() {
    if !ready() {
        return;
    }
    for mode in MODES {
        let dir = tempfile::tempdir().unwrap();
        let rep = dir.path().join("r.json");
        let out = run(
            mode,
            &[
                "--report",
                rep.to_str().unwrap(),
                "sh",
                "-c",
                "sleep 0 & wait",
            ],
        );
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert_eq!(report(&rep)["leftovers_killed"], 0, "{mode:?}");
    }
}
