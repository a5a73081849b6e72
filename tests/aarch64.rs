//! The aarch64 build: cross-compiled for aarch64-unknown-linux-musl and run
//! under Debian's qemu-user-static as PID 1 of a throwaway PID namespace.
//! The commands it starts are the host's own (qemu-user hands their execve
//! to the host kernel), so what runs emulated is exactly proctor: its
//! `_start`, syscall ABI, signal loop, reaping and report.
//!
//! Then booted for real: `/init` of Debian's arm64 kernel under
//! `qemu-system-aarch64 -M virt -cpu cortex-a57` (TCG), where its seccomp
//! filter meets a real aarch64 kernel.
mod common;
mod vmkit;
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

/// The command of the aarch64 VM: its seccomp state, calls the filter
/// must refuse (with every capability kept, so that only the filter can
/// refuse them), then every syscall of the aarch64 deny-list (DENIED, put
/// in from proctor's own table) with invalid arguments, the filters on
/// arguments (clone flags, personality, TIOCSTI), and an orphan for
/// proctor to reap; exits 5.
const PROBE: &str = r#"
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <termios.h>
#include <sys/wait.h>
#include <unistd.h>
static const char *res(long r) { return r == 0 ? "ok" : errno == EPERM ? "EPERM" : strerror(errno); }
int main(void) {
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "Seccomp:", 8)) printf("SECCOMP=%s", line + 9 + strspn(line + 9, " \t"));
    printf("PPID=%d\n", getppid());
    printf("UNSHARE_USER=%s\n", res(unshare(CLONE_NEWUSER)));
    printf("MOUNT=%s\n", res(mount("none", "/tmp", "tmpfs", 0, 0)));
    printf("KEYCTL=%s\n", res(syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0)));
    static const long denied[] = { DENIED };
    printf("NOT_EPERM=");
    for (unsigned i = 0; i < sizeof denied / sizeof *denied; i++)
        if (syscall(denied[i], -1L, -1L, -1L, -1L, -1L, -1L) != -1 || errno != EPERM)
            printf("%ld:%s ", denied[i], strerror(errno));
    printf("\n");
    printf("CLONE3=%s\n", syscall(435, -1L, -1L) == -1 && errno == ENOSYS ? "ENOSYS" : strerror(errno));
    printf("CLONE_NEWNS=%s\n", res(syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0)));
    /* The filters on arguments: personality, ioctl. */
    printf("PERSONALITY_QUERY=%s\n", syscall(SYS_personality, 0xffffffffUL) == -1 ? strerror(errno) : "ok");
    printf("PERSONALITY_NORANDOM=%s\n", res(syscall(SYS_personality, 0x0040000UL)));
    char c = 'x';
    printf("TIOCSTI=%s\n", res(ioctl(0, TIOCSTI, &c)));
    struct termios t;
    printf("TCGETS=%s\n", res(ioctl(0, TCGETS, &t)));
    int p[2];
    pipe(p);
    if (fork() == 0) {
        pid_t g = fork();
        if (g == 0) { usleep(200000); _exit(0); }
        write(p[1], &g, sizeof g);
        _exit(0);
    }
    pid_t orphan = 0;
    read(p[0], &orphan, sizeof orphan);
    wait(0);
    usleep(1000000);
    /* A zombie still answers kill(0); a reaped process does not. */
    printf("ORPHAN_REAPED=%s\n", kill(orphan, 0) == -1 && errno == ESRCH ? "yes" : "no");
    printf("GRADER_END=1\n");
    fflush(stdout);
    return 5;
}
"#;

#[test]
fn aarch64_boots_a_debian_kernel_as_init() {
    let kernel = vmkit::cached("arm64/vmlinuz");
    if vmkit::which("qemu-system-aarch64").is_none() {
        return missing("qemu-system-aarch64 (qemu-system-arm) is not installed");
    }
    if !kernel.is_file() {
        return missing(&format!("no cached kernel at {}", kernel.display()));
    }
    let Some(bin) = binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let probe = dir.path().join("probe");
    use proctor::seccomp::{AARCH64, CLONE3, DENIED_COMMON};
    let denied: Vec<String> = AARCH64
        .denied
        .iter()
        .chain(&DENIED_COMMON)
        .map(|n| n.to_string())
        .collect();
    assert!(!denied.contains(&CLONE3.to_string()));
    let src = PROBE.replace("DENIED", &denied.join(", "));
    vmkit::static_c("aarch64-linux-gnu-gcc", &src, &probe);
    let mut c = vmkit::Cpio::new();
    c.bare_root(&bin);
    c.copy("probe", 0o755, &probe);
    let initrd = dir.path().join("initramfs.cpio");
    std::fs::write(&initrd, c.finish()).unwrap();

    let mut qemu = Command::new("qemu-system-aarch64");
    qemu.args(["-M", "virt", "-cpu", "cortex-a57", "-accel", "tcg"])
        .args(["-m", "512", "-smp", "1", "-no-reboot"])
        .args(["-display", "none", "-monitor", "none", "-serial", "stdio"])
        .arg("-kernel")
        .arg(&kernel)
        .arg("-initrd")
        .arg(&initrd)
        .arg("-append")
        .arg("console=ttyAMA0 panic=-1 quiet -- --poweroff --keep-caps --timeout 120 /probe");
    let b = vmkit::boot(qemu, Duration::from_secs(300));
    b.show("aarch64 virt --poweroff");
    assert!(!b.timed_out, "the VM did not power off");
    assert!(!b.console.contains("Kernel panic"), "kernel panic");
    assert_eq!(b.status, Some(0), "qemu's exit status");
    assert_eq!(b.value("GRADER_END"), Some("1"), "the probe did not finish");
    assert_eq!(b.last_exit_line(), Some("proctor: exit status 5"));
    assert_eq!(b.value("PPID"), Some("1"));
    assert_eq!(b.value("SECCOMP"), Some("2"));
    for call in ["UNSHARE_USER", "MOUNT", "KEYCTL"] {
        assert_eq!(b.value(call), Some("EPERM"), "{call}");
    }
    assert_eq!(
        b.value("NOT_EPERM"),
        Some(""),
        "denied syscalls that were not EPERM"
    );
    assert_eq!(b.value("CLONE3"), Some("ENOSYS"));
    assert_eq!(b.value("CLONE_NEWNS"), Some("EPERM"));
    assert_eq!(b.value("PERSONALITY_QUERY"), Some("ok"));
    assert_eq!(b.value("PERSONALITY_NORANDOM"), Some("EPERM"));
    assert_eq!(b.value("TIOCSTI"), Some("EPERM"));
    assert_eq!(b.value("TCGETS"), Some("ok"));
    assert_eq!(b.value("ORPHAN_REAPED"), Some("yes"));
}
