//! cgroup v2 under a real kernel: one QEMU boot (TCG, Debian's cloud kernel that
//! tests/setup.sh caches) with proctor as `/init`, where it mounts cgroup2
//! itself (`--poweroff`). The grader then runs proctor again, from the
//! initramfs:
//!
//! - as PID 1 of a new PID namespace, `--memory 64m` over a static memory
//!   hog (`busybox dd`): `memory_limit`, 137, `oom_kills` ≥ 1, a peak of
//!   about 64 MiB (`memory.max`, `memory.swap.max`, `memory.events`,
//!   `memory.peak`, `CLONE_INTO_CGROUP`);
//! - as a subreaper, `--cpu-time 1` over two spinners: `cpu_timeout`, 124,
//!   `cpu_ms` ≥ 1000 (`cpu.stat`);
//! - as a subreaper, `--cgroup` over a command that leaves a daemon in a
//!   session of its own: the daemon is killed by `cgroup.kill`, and no
//!   cgroup of proctor's is left behind;
//! - alone in a cgroup below the root (as systemd's `Delegate=yes` gives
//!   one): the memory verdict, and its leaf and controllers undone; in a
//!   cgroup that another process shares: 125, and nothing left.
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
/init --memory 64m --pids 20 --cpus 0.5 -- sh -c 'd=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)
    for f in memory.max memory.swap.max pids.max cpu.max; do echo "LIMIT_$f=$(cat $d/$f)"; done'
echo "CGROUPS_LEFT=$(cd /sys/fs/cgroup && ls -d command* proctor-* 2>/dev/null | tr '\n' ' ')"
# Below the root, in a cgroup delegated to proctor alone (as a systemd unit
# with Delegate=yes gives one), and in one that other processes share.
unshare -m sh -c '
    mount -o remount,bind,rw /sys/fs/cgroup && mkdir /sys/fs/cgroup/box /sys/fs/cgroup/busy
    sh -c "echo \$\$ >/sys/fs/cgroup/box/cgroup.procs && exec /init --report /tmp/box.json --memory 64m -- dd if=/dev/zero of=/dev/null bs=200M count=1"
    echo "BOX_RC=$?"
    echo "BOX_REPORT=$(cat /tmp/box.json)"
    echo "BOX_LEFT=$(cd /sys/fs/cgroup/box && ls -d */ 2>/dev/null | tr "\n" " ")"
    echo "BOX_SUBTREE=$(cat /sys/fs/cgroup/box/cgroup.subtree_control)"
    sh -c "echo \$\$ >/sys/fs/cgroup/busy/cgroup.procs && { sleep 3 & exec /init --memory 64m -- true; }" 2>/tmp/busy.err
    echo "BUSY_RC=$?"
    echo "BUSY_ERR=$(cat /tmp/busy.err)"
    echo "BUSY_LEFT=$(cd /sys/fs/cgroup/busy && ls -d */ 2>/dev/null | tr "\n" " ")"
'
echo "GRADER_END=1"
# Time for the console to show the last lines before the VM powers off.
sleep 1
"#;

#[test]
fn v2_verdicts_and_cgroup_kill_in_a_vm() {
    let kernel = cached("cloud/vmlinuz");
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

    // With the controllers already on in the root (the PID 1 run left them),
    // the accounting is still there.
    assert!(
        cpu["memory_peak_kib"].is_u64() && cpu["pids_peak"].is_u64(),
        "{cpu}"
    );

    // What the limits wrote, read by the command in its own cgroup.
    for (file, value) in [
        ("memory.max", "67108864"),
        ("memory.swap.max", "0"),
        ("pids.max", "20"),
        ("cpu.max", "50000 100000"),
    ] {
        assert_eq!(b.value(&format!("LIMIT_{file}")), Some(value), "{file}");
    }

    let kill = report("KILL_REPORT");
    assert_eq!(b.value("KILL_RC"), Some("0"), "{kill}");
    assert!(kill["leftovers_killed"].as_u64().unwrap() >= 1, "{kill}");
    assert_eq!(b.value("DAEMON"), Some("gone"));
    // The subreapers left nothing; PID 1 of the PID namespace leaves its
    // leaf `proctor` (a container's cgroup goes with the container).
    assert_eq!(b.value("CGROUPS_LEFT"), Some(""), "cgroups left behind");

    // A delegated cgroup below the root: the leaf, the controllers and the
    // command's cgroup, all undone at the end.
    let boxed = report("BOX_REPORT");
    assert_eq!(b.value("BOX_RC"), Some("137"), "{boxed}");
    assert_eq!(boxed["status"], "memory_limit", "{boxed}");
    assert_eq!(b.value("BOX_LEFT"), Some(""));
    assert_eq!(b.value("BOX_SUBTREE"), Some(""));
    // Sharing its cgroup, proctor cannot delegate controllers: 125, and it
    // leaves its leaf again.
    assert_eq!(b.value("BUSY_RC"), Some("125"));
    assert_eq!(
        b.value("BUSY_ERR"),
        Some("proctor: cgroup: other processes share proctor's cgroup; give it one of its own: EBUSY")
    );
    assert_eq!(b.value("BUSY_LEFT"), Some(""));
}
