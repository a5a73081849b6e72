//! The aarch64 build: cross-compiled for aarch64-unknown-linux-musl and run
//! under Debian's qemu-user-static as PID 1 of a throwaway PID namespace.
//! The commands it starts are the host's own (qemu-user hands their execve
//! to the host kernel), so what runs emulated is exactly proctor: its
//! `_start`, syscall ABI, signal loop, reaping and report.
mod common;
use common::*;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const TARGET: &str = "aarch64-unknown-linux-musl";

/// Build the aarch64 binary once (cargo serialises concurrent builds).
fn binary() -> Option<PathBuf> {
    for (tool, why) in [
        (
            "aarch64-linux-gnu-gcc",
            "links the aarch64 binary (gcc-aarch64-linux-gnu)",
        ),
        (
            "qemu-aarch64-static",
            "runs the aarch64 binary (qemu-user-static)",
        ),
        ("unshare", "runs it as PID 1"),
    ] {
        if !require(tool, why) {
            return None;
        }
    }
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    if !installed.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(TARGET)) {
        assert!(!in_ci(), "rustup target {TARGET} is required in CI");
        eprintln!("SKIP: rustup target {TARGET} not installed");
        return None;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target_dir = root.join("target/aarch64");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--bin",
            "proctor",
            "--target",
            TARGET,
            "--target-dir",
        ])
        .arg(&target_dir)
        .current_dir(&root)
        .status()
        .expect("cargo");
    assert!(status.success(), "aarch64 build failed");
    Some(target_dir.join(TARGET).join("release/proctor"))
}

/// Run the aarch64 proctor. qemu-user cannot install a seccomp filter for
/// the guest (it answers EINVAL, and proctor rightly refuses to run the
/// command unfiltered), so these runs say `--seccomp none`; the filter's
/// aarch64 program is unit-tested instruction by instruction instead.
fn run_a64(bin: &PathBuf, args: &[&str]) -> std::process::Output {
    let mut c = throwaway_pid_namespace();
    c.arg("qemu-aarch64-static")
        .arg(bin)
        .args(["--seccomp", "none"])
        .args(args);
    run_cmd(c, Duration::from_secs(60))
}

#[test]
fn aarch64_binary_is_static_and_runs_as_pid1() {
    let Some(bin) = binary() else { return };
    let elf = std::fs::read(&bin).unwrap();
    assert_eq!(&elf[..4], b"\x7fELF");
    assert_eq!(
        u16::from_le_bytes([elf[18], elf[19]]),
        183,
        "e_machine is EM_AARCH64"
    );
    assert_eq!(
        u16::from_le_bytes([elf[16], elf[17]]),
        2,
        "ET_EXEC: static, not PIE"
    );
    let headers = Command::new("readelf")
        .arg("-lW")
        .arg(&bin)
        .output()
        .unwrap();
    let headers = String::from_utf8_lossy(&headers.stdout);
    assert!(
        !headers.contains("INTERP") && !headers.contains("DYNAMIC"),
        "{headers}"
    );

    let version = run_a64(&bin, &["--version"]);
    assert_eq!(
        stdout(&version),
        concat!("proctor ", env!("CARGO_PKG_VERSION"), "\n")
    );

    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let out = run_a64(
        &bin,
        &[
            "--report",
            report.to_str().unwrap(),
            "sh",
            "-c",
            "sleep 30 & setsid sleep 30 & echo $PPID; exit 7",
        ],
    );
    assert_eq!(code(&out), 7, "{}", stderr(&out));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["status"], "exited");
    assert_eq!(r["exit_code"], 7);
    assert_eq!(
        r["leftovers_killed"], 2,
        "both background sleeps were killed"
    );

    let killed = run_a64(&bin, &["sh", "-c", "kill -USR1 $$; sleep 5"]);
    assert_eq!(code(&killed), 128 + 10);

    let timeout = run_a64(
        &bin,
        &[
            "--timeout",
            "0.3",
            "--kill-after",
            "0.2",
            "sh",
            "-c",
            "trap '' TERM; sleep 5",
        ],
    );
    assert_eq!(code(&timeout), 124, "{}", stderr(&timeout));

    let missing = run_a64(&bin, &["no-such-command-anywhere"]);
    assert_eq!(code(&missing), 127);
    assert!(
        stderr(&missing).contains("exec: no-such-command-anywhere: ENOENT"),
        "{}",
        stderr(&missing)
    );
}
