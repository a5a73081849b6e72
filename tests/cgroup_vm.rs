//! cgroup v2 under a real kernel: one QEMU boot (TCG, Debian's kernel that
//! tests/setup.sh caches) with proctor as `/init`, where it mounts cgroup2
//! itself (`--poweroff`). The grader then runs proctor again, from the
//! initramfs, three times in the root cgroup:
//!
//! - as PID 1 of a new PID namespace, `--memory 64m` over a static memory
//!   hog (`busybox dd`): `memory_limit`, 137, `oom_kills` ≥ 1, a peak of
//!   about 64 MiB (`memory.max`, `memory.swap.max`, `memory.events`,
//!   `memory.peak`, `CLONE_INTO_CGROUP`);
//! - as a subreaper, `--cpu-time 1` over two spinners: `cpu_timeout`, 124,
//!   `cpu_ms` ≥ 1000 (`cpu.stat`);
//! - as a subreaper, `--cgroup` over a command that leaves a daemon in a
//!   session of its own: the daemon is killed by `cgroup.kill`, and no
//!   cgroup of proctor's is left behind.
//!
//! Needs qemu-system-x86_64, the cached kernel and /bin/busybox (all from
//! tests/setup.sh); without them the test fails when CI=true and is skipped,
//! with the reason printed, otherwise.

mod common;
mod vmkit;
use common::missing;
use vmkit::{boot, cached, which, Cpio};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const PROCTOR: &str = env!("CARGO_BIN_EXE_proctor");

/// Runs the three inner proctors; prints KEY=VALUE lines.
const GRADER: &str = r#"#!/bin/sh
export PATH=/bin
echo "GRADER_START=1"
echo "MOUNT_CGROUP=$(grep ' /sys/fs/cgroup ' /proc/self/mounts)"
/init --report /tmp/mem.json --memory 64m -- dd if=/dev/zero of=/dev/null bs=200M count=1
echo "MEM_RC=$?"
echo "MEM_REPORT=$(cat /tmp/mem.json)"
unshare -p -f /init --report /tmp/mem1.json --memory 64m -- dd if=/dev/zero of=/dev/null bs=200M count=1
echo "MEM1_RC=$?"
echo "MEM1_REPORT=$(cat /tmp/mem1.json)"
/init --report /tmp/cpu.json --cpu-time 1 -- sh -c 'sh -c "while :; do :; done" & while :; do :; done'
echo "CPU_RC=$?"
echo "CPU_REPORT=$(cat /tmp/cpu.json)"
/init --report /tmp/kill.json --cgroup -- sh -c 'setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $! >/tmp/daemon; exit 0'
echo "KILL_RC=$?"
echo "KILL_REPORT=$(cat /tmp/kill.json)"
if kill -0 "$(cat /tmp/daemon)" 2>/dev/null; then echo "DAEMON=alive"; else echo "DAEMON=gone"; fi
echo "CGROUPS_LEFT=$(cd /sys/fs/cgroup && ls -d command* proctor-* 2>/dev/null | tr '\n' ' ')"
echo "GRADER_END=1"
"#;

#[test]
fn v2_verdicts_and_cgroup_kill_in_a_vm() {
    let kernel = cached("vmlinuz");
    let Some(qemu) = which("qemu-system-x86_64") else {
        return missing("qemu-system-x86_64 is not installed");
    };
    if !kernel.is_file() {
        return missing(&format!("no cached kernel at {}", kernel.display()));
    }
    let busybox = PathBuf::from("/bin/busybox");
    if !busybox.is_file() {
        return missing("/bin/busybox (busybox-static) is not installed");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let initrd = dir.path().join("initramfs.cpio");
    let mut c = Cpio::new();
    c.bare_root(Path::new(PROCTOR));
    c.busybox(&busybox);
    c.file("grader.sh", 0o755, GRADER.as_bytes());
    std::fs::write(&initrd, c.finish()).expect("write initramfs");

    // The grader keeps root's powers and no seccomp filter: the inner
    // proctors mount, unshare and write the cgroup files.
    let append = "console=ttyS0 panic=-1 quiet \
                  -- --poweroff --keep-caps --seccomp none --timeout 300 /grader.sh";
    let mut q = Command::new(qemu);
    q.args(["-M", "pc", "-accel", "tcg", "-m", "512", "-smp", "2"])
        .args(["-display", "none", "-monitor", "none", "-no-reboot"])
        .args(["-serial", "stdio", "-kernel"])
        .arg(&kernel)
        .arg("-initrd")
        .arg(&initrd)
        .arg("-append")
        .arg(append);
    let b = boot(q, Duration::from_secs(300));
    b.show("cgroup v2 VM");
    assert!(!b.timed_out, "the VM did not end");
    assert_eq!(
        b.value("GRADER_END"),
        Some("1"),
        "the grader did not finish"
    );
    assert_eq!(b.last_exit_line(), Some("proctor: exit status 0"));
    let mount = b.value("MOUNT_CGROUP").unwrap_or_default();
    assert!(
        mount.starts_with("cgroup2 /sys/fs/cgroup cgroup2"),
        "{mount}"
    );
    let report = |key: &str| -> serde_json::Value {
        let text = b.value(key).unwrap_or_else(|| panic!("no {key}"));
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{key}: {e}: {text}"))
    };

    for (rc, key) in [("MEM_RC", "MEM_REPORT"), ("MEM1_RC", "MEM1_REPORT")] {
        let mem = report(key);
        assert_eq!(b.value(rc), Some("137"), "{mem}");
        assert_eq!(mem["status"], "memory_limit", "{mem}");
        assert!(mem["oom_kills"].as_u64().unwrap() >= 1, "{mem}");
        let peak = mem["memory_peak_kib"].as_u64().unwrap();
        assert!((60 << 10..=(64 << 10) + 512).contains(&peak), "{mem}");
    }

    let cpu = report("CPU_REPORT");
    assert_eq!(b.value("CPU_RC"), Some("124"), "{cpu}");
    assert_eq!(cpu["status"], "cpu_timeout", "{cpu}");
    assert!(cpu["cpu_ms"].as_u64().unwrap() >= 1000, "{cpu}");
    // Under TCG a poll can come late; the kill still comes at the first.
    assert!(cpu["cpu_ms"].as_u64().unwrap() < 1500, "{cpu}");

    let kill = report("KILL_REPORT");
    assert_eq!(b.value("KILL_RC"), Some("0"), "{kill}");
    assert!(kill["leftovers_killed"].as_u64().unwrap() >= 1, "{kill}");
    assert_eq!(b.value("DAEMON"), Some("gone"));
    // The subreapers left nothing; PID 1 of the PID namespace leaves its
    // leaf `proctor` (a container's cgroup goes with the container).
    assert_eq!(b.value("CGROUPS_LEFT"), Some(""), "cgroups left behind");
}
