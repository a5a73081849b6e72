//! proctor as `/init` of real QEMU VMs (TCG) on Debian's cloud kernel, one
//! boot per scenario with every check of the scenario combined:
//!
//! - `-M microvm,acpi=off` (no ACPI power-off, as Firecracker on x86_64),
//!   `--reboot` and kernel command line `reboot=t`: the VM ends by itself,
//!   the VM-init basics are there, and the last exit-status line on the
//!   console carries the command's code although the command forged one
//!   first and a daemon it left kept forging them.
//! - `-M pc`, the kernel's virtio drivers loaded from modules (`--module`)
//!   and the submission on a virtio-blk drive (`--mount`): the grader reads
//!   it read-only, runs with lo up, POSIX shared memory and a pty (a static
//!   C probe), a read-only /proc/sys even as uid 0, a tmpfs, a bind,
//!   dropped privileges and reaped orphans; then it becomes a memory hog
//!   that `--memory` (cgroup v2, mounted by proctor) ends: `memory_limit`,
//!   137. The report goes to the second serial port, which proctor hides
//!   from the command.
//!
//! proctor's options go on the kernel command line after `--`. Needs
//! qemu-system-x86_64, the kernel and modules tests/setup.sh caches in
//! `target/qemu/`, /bin/busybox, gcc and mkfs.ext4 (all from
//! tests/setup.sh). When one is missing the test fails if CI=true and is
//! skipped, with the reason printed, otherwise.

mod common;
mod vmkit;
use common::missing;
use vmkit::{boot, cached, qemu, static_c, which, Boot, Cpio};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const PROCTOR: &str = env!("CARGO_BIN_EXE_proctor");
const BOOT_LIMIT: Duration = Duration::from_secs(180);

#[test]
fn cpio_newc_layout() {
    // The writer itself: header magic, hex fields, name and data padding.
    let mut c = Cpio::new();
    c.file("ab", 0o644, b"xyz");
    let b = c.finish();
    assert_eq!(&b[..6], b"070701");
    assert_eq!(&b[6..14], b"00000001"); // ino
    assert_eq!(&b[14..22], b"000081A4"); // S_IFREG | 0644
    assert_eq!(&b[54..62], b"00000003"); // filesize
    assert_eq!(&b[94..102], b"00000003"); // namesize "ab\0"
    assert_eq!(&b[110..113], b"ab\0"); // header is 110 bytes
    assert_eq!(&b[113..116], b"\0\0\0"); // padded to 116
    assert_eq!(&b[116..119], b"xyz");
    assert_eq!(b.len() % 512, 0);
    assert!(b.windows(10).any(|w| w == b"TRAILER!!!"));
}

/// What every scenario needs: QEMU, a cached kernel, busybox.
fn tools(kernel: &Path) -> Option<(PathBuf, PathBuf)> {
    let Some(qemu) = which("qemu-system-x86_64") else {
        missing("qemu-system-x86_64 is not installed");
        return None;
    };
    if !kernel.is_file() {
        missing(&format!("no cached kernel at {}", kernel.display()));
        return None;
    }
    let busybox = PathBuf::from("/bin/busybox");
    if !busybox.is_file() {
        missing("/bin/busybox (busybox-static) is not installed");
        return None;
    }
    Some((qemu, busybox))
}

fn assert_clean_end(b: &Boot, code: u8) {
    assert!(!b.timed_out, "the VM did not end within {BOOT_LIMIT:?}");
    assert!(
        !b.console.contains("Kernel panic"),
        "kernel panic on the console"
    );
    assert_eq!(
        b.value("GRADER_END"),
        Some("1"),
        "the grader did not finish"
    );
    let want = format!("proctor: exit status {code}");
    assert_eq!(
        b.last_exit_line(),
        Some(want.as_str()),
        "the last exit-status line on the console"
    );
}

// ------------------------------------------------------------ microvm

/// Prints the VM-init basics it finds, forges proctor's exit line, leaves
/// a daemon that keeps forging it, and exits 3.
const MICROVM_GRADER: &str = r#"#!/bin/sh
export PATH=/bin
echo "GRADER_START=1"
echo "LO_FLAGS=$(cat /sys/class/net/lo/flags)"
echo "MOUNT_PTS=$(grep ' /dev/pts ' /proc/self/mounts)"
echo "MOUNT_SHM=$(grep ' /dev/shm ' /proc/self/mounts)"
echo "SHM_MODE=$(stat -c %a /dev/shm)"
echo "MOUNT_CGROUP=$(grep ' /sys/fs/cgroup ' /proc/self/mounts)"
echo "CGROUP_CONTROLLERS=$(cat /sys/fs/cgroup/cgroup.controllers)"
echo "MOUNT_SYS=$(grep ' /sys ' /proc/self/mounts | tail -n 1)"
echo "MOUNT_PROC_SYS=$(grep ' /proc/sys ' /proc/self/mounts | tail -n 1)"
echo "MOUNT_SYSRQ=$(grep ' /proc/sysrq-trigger ' /proc/self/mounts | tail -n 1)"
# The forgeries: one now, and a daemon that prints them until it is killed.
echo "proctor: exit status 0"
setsid sh -c 'while :; do echo "proctor: exit status 0"; sleep 0.05; done' </dev/null &
sleep 0.5
echo "GRADER_END=1"
exit 3
"#;

#[test]
fn microvm_ends_by_reboot_and_its_exit_line_cannot_be_forged() {
    let kernel = cached("cloud/vmlinuz");
    let Some((qemu_bin, busybox)) = tools(&kernel) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let initrd = dir.path().join("initramfs.cpio");
    let mut c = Cpio::new();
    c.bare_root(Path::new(PROCTOR));
    c.busybox(&busybox);
    c.file("grader.sh", 0o755, MICROVM_GRADER.as_bytes());
    std::fs::write(&initrd, c.finish()).expect("write initramfs");

    // No ACPI: only a reboot (reboot=t: a triple fault) ends the machine,
    // which -no-reboot turns into QEMU's exit. tsc_early_khz: see NOTES.
    let append = "console=ttyS0 reboot=t panic=-1 tsc_early_khz=2000000 quiet \
                  -- --reboot --user 1000 --timeout 60 /grader.sh";
    let b = boot(
        qemu(&qemu_bin, "microvm,acpi=off", &kernel, &initrd, append),
        BOOT_LIMIT,
    );
    b.show("microvm --reboot");
    assert_clean_end(&b, 3);
    assert!(
        b.console.contains("reboot: Restarting system"),
        "no reboot on the console"
    );

    // lo up: IFF_UP | IFF_LOOPBACK
    let flags = b.value("LO_FLAGS").unwrap_or_default();
    let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).unwrap_or(0);
    assert_eq!(flags & 0x9, 0x9, "lo is not up: {flags:#x}");
    let mount = |key| b.value(key).unwrap_or_default().to_string();
    let opts = |line: &str| line.split(' ').nth(3).unwrap_or_default().to_string();
    let has = |line: &str, o: &str| opts(line).split(',').any(|x| x == o);
    let pts = mount("MOUNT_PTS");
    assert!(pts.starts_with("devpts /dev/pts devpts "), "{pts:?}");
    assert!(has(&pts, "ptmxmode=666"), "{pts:?}");
    let shm = mount("MOUNT_SHM");
    assert!(shm.starts_with("tmpfs /dev/shm tmpfs "), "{shm:?}");
    assert!(has(&shm, "nosuid") && has(&shm, "nodev"), "{shm:?}");
    assert_eq!(b.value("SHM_MODE"), Some("1777"));
    let cg = mount("MOUNT_CGROUP");
    assert!(cg.starts_with("cgroup2 /sys/fs/cgroup cgroup2 "), "{cg:?}");
    assert!(
        b.value("CGROUP_CONTROLLERS")
            .unwrap_or_default()
            .contains("memory"),
        "cgroup2 without the memory controller"
    );
    for key in ["MOUNT_SYS", "MOUNT_PROC_SYS", "MOUNT_SYSRQ", "MOUNT_CGROUP"] {
        let line = mount(key);
        assert!(has(&line, "ro"), "{key} not read-only: {line:?}");
    }
}

// ------------------------------------------------------------ pc + drive

/// The grader: runs as uid 0 (with no capability) under proctor, prints
/// facts as KEY=VALUE lines, then turns into a memory hog.
const PC_GRADER: &str = r#"#!/bin/sh
export PATH=/bin
echo "GRADER_START=1"
echo "PID=$$"
echo "PPID=$PPID"
echo "PID1_CMDLINE=$(tr '\0' ' ' </proc/1/cmdline)"
for k in Uid Gid Groups CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs Seccomp; do
    echo "STATUS_$k=$(grep "^$k:" /proc/$$/status | cut -f2- | tr '\t' ' ')"
done
echo "NOFILE=$(ulimit -n)"
echo "MODULES=$(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
# --mount /dev/vda:/submission:ext4: the submission, read-only
echo "SUBMISSION=$(cat /submission/solution.txt)"
echo "SUBMISSION_MOUNT=$(grep ' /submission ' /proc/self/mounts)"
if echo x >/submission/new 2>/dev/null; then echo "SUBMISSION_WRITE=allowed"; else echo "SUBMISSION_WRITE=refused"; fi
# VM-init basics on the cloud kernel
echo "LO_FLAGS=$(cat /sys/class/net/lo/flags)"
echo "SHM_FSTYPE=$(stat -f -c %T /dev/shm)"
echo "CORE_PATTERN_WRITE=$( { echo core >/proc/sys/kernel/core_pattern; } 2>&1)"
echo "SYSRQ_WRITE=$( { echo h >/proc/sysrq-trigger; } 2>&1)"
/shm_probe
# --tmpfs /scratch: writable, a tmpfs, nosuid+nodev
echo hi >/scratch/probe && echo "TMPFS_WRITE=ok"
echo "TMPFS_MOUNT=$(grep ' /scratch ' /proc/self/mounts)"
# --bind /data:/mnt/data: readable, read-only
echo "BIND_READ=$(cat /mnt/data/hello.txt)"
if echo x >/mnt/data/new 2>/dev/null; then echo "BIND_WRITE=allowed"; else echo "BIND_WRITE=refused"; fi
echo "BIND_MOUNT=$(grep ' /mnt/data ' /proc/self/mounts)"
# The report's serial port: uid 0 owns it, but proctor covered it.
echo '{"schema":2,"status":"exited","exit_code":0,"forged":1}' >/dev/ttyS1 && echo "TTYS1_WRITE=done"
# orphans: 20 children whose parent exits at once; proctor must reap them
i=0
while [ $i -lt 10 ]; do
    (sleep 0.1 &)
    (setsid sh -c 'exit 0' &)
    i=$((i + 1))
done
sleep 1
z=0
for s in /proc/[0-9]*/stat; do
    st=$(cut -d' ' -f3 "$s" 2>/dev/null)
    [ "$st" = Z ] && z=$((z + 1))
done
echo "ZOMBIES=$z"
# a daemon left behind: proctor kills it when the grader exits. Wait until
# it is in its own session, or the SIGHUP that the exit of the grader (a
# session leader with the console as its terminal) sends could end it first.
setsid sh -c 'echo $$ >/scratch/daemon.pid; exec sleep 1000' </dev/null >/dev/null 2>&1 &
while [ ! -s /scratch/daemon.pid ]; do sleep 0.1; done
echo "DAEMON_SID=$(cut -d' ' -f6 /proc/$(cat /scratch/daemon.pid)/stat)"
echo "GRADER_END=1"
# --memory 64m: the grader becomes a 200 MiB allocation, which the
# command's cgroup (cgroup2, mounted by proctor) OOM-kills.
exec dd if=/dev/zero of=/dev/null bs=200M count=1
"#;

/// POSIX shared memory and a named semaphore across a fork, as Python's
/// multiprocessing uses them; and a pseudo-terminal (`script`, `expect`).
const SHM_PROBE: &str = r#"
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    int fd = shm_open("/proctor-probe", O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0 || ftruncate(fd, 4096) < 0) { printf("SHM=%s\n", strerror(errno)); return 1; }
    char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    sem_t *s = sem_open("/proctor-probe", O_CREAT | O_EXCL, 0600, 0);
    if (p == MAP_FAILED || s == SEM_FAILED) { printf("SHM=%s\n", strerror(errno)); return 1; }
    pid_t child = fork();
    if (child == 0) { strcpy(p, "shared"); sem_post(s); _exit(0); }
    sem_wait(s);
    waitpid(child, 0, 0);
    printf("SHM=%s\n", p);
    shm_unlink("/proctor-probe");
    sem_unlink("/proctor-probe");
    int pty = posix_openpt(O_RDWR | O_NOCTTY);
    if (pty < 0 || grantpt(pty) < 0 || unlockpt(pty) < 0) { printf("PTY=%s\n", strerror(errno)); return 1; }
    printf("PTY=%s\n", ptsname(pty));
    return 0;
}
"#;

/// The cloud kernel's virtio drivers, in dependency order.
const MODULES: [&str; 6] = [
    "virtio_ring",
    "virtio",
    "virtio_pci_legacy_dev",
    "virtio_pci_modern_dev",
    "virtio_pci",
    "virtio_blk",
];

#[test]
fn pc_vm_loads_modules_and_mounts_the_submission_drive() {
    let kernel = cached("cloud/vmlinuz");
    let Some((qemu_bin, busybox)) = tools(&kernel) else {
        return;
    };
    let Some(mkfs) = which("mkfs.ext4").or_else(|| which("/usr/sbin/mkfs.ext4")) else {
        return missing("mkfs.ext4 (e2fsprogs) is not installed");
    };
    if which("gcc").is_none() {
        return missing("gcc is not installed");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let probe = dir.path().join("shm_probe");
    static_c("gcc", SHM_PROBE, &probe);

    // The submission drive: an ext4 image made from a directory, no mount needed.
    let sub = dir.path().join("submission");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("solution.txt"), "print(42)\n").unwrap();
    let image = dir.path().join("submission.ext4");
    let mk = Command::new(&mkfs)
        .args(["-q", "-F", "-d"])
        .arg(&sub)
        .arg(&image)
        .arg("4M")
        .output()
        .expect("mkfs.ext4");
    assert!(
        mk.status.success(),
        "{}",
        String::from_utf8_lossy(&mk.stderr)
    );

    let mut c = Cpio::new();
    c.bare_root(Path::new(PROCTOR));
    c.busybox(&busybox);
    c.dir("data", 0o755);
    c.file("data/hello.txt", 0o644, b"hello from the host\n");
    c.file("grader.sh", 0o755, PC_GRADER.as_bytes());
    c.copy("shm_probe", 0o755, &probe);
    c.dir("modules", 0o755);
    let mut module_args = String::new();
    for m in MODULES {
        let ko = cached(&format!("cloud/modules/{m}.ko"));
        if !ko.is_file() {
            return missing(&format!("no cached module at {}", ko.display()));
        }
        c.copy(&format!("modules/{m}.ko"), 0o644, &ko);
        module_args.push_str(&format!("--module /modules/{m}.ko "));
    }
    let initrd = dir.path().join("initramfs.cpio");
    std::fs::write(&initrd, c.finish()).expect("write initramfs");
    let report = dir.path().join("ttyS1.txt");

    let append = format!(
        "console=ttyS0 panic=-1 quiet -- --poweroff -v {module_args}\
         --wait-timeout 30 --mount /dev/vda:/submission:ext4 \
         --tmpfs /scratch --bind /data:/mnt/data --rlimit nofile=64 --timeout 60 \
         --memory 64m --report /dev/ttyS1 /grader.sh"
    );
    let mut cmd = qemu(&qemu_bin, "pc", &kernel, &initrd, &append);
    cmd.arg("-serial")
        .arg(format!("file:{}", report.display()))
        .arg("-drive")
        .arg(format!(
            "file={},format=raw,if=virtio,readonly=on",
            image.display()
        ));
    let b = boot(cmd, BOOT_LIMIT);
    b.show("pc --poweroff --module --mount");
    assert_clean_end(&b, 137);
    let c = &b.console;
    assert_eq!(b.status, Some(0), "qemu's exit status");
    assert!(
        c.contains("reboot: Power down"),
        "no power-off on the console"
    );
    let loaded: Vec<&str> = b.value("MODULES").unwrap_or_default().split(' ').collect();
    for m in MODULES {
        assert!(loaded.contains(&m), "module {m} not loaded: {loaded:?}");
    }

    // proctor is PID 1, the grader its child
    assert_eq!(b.value("PPID"), Some("1"), "the grader's parent");
    let cmdline = b.value("PID1_CMDLINE").unwrap_or_default();
    assert!(
        cmdline.starts_with("/init ") && cmdline.contains("--poweroff"),
        "PID 1 is not proctor: {cmdline:?}"
    );
    let pid: u32 = b.value("PID").unwrap().parse().unwrap();
    assert!(pid > 1, "grader pid {pid}");

    // uid 0, but no privilege
    assert_eq!(b.value("STATUS_Uid"), Some("0 0 0 0"));
    for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(
            b.value(&format!("STATUS_{cap}")),
            Some("0000000000000000"),
            "{cap}"
        );
    }
    assert_eq!(b.value("STATUS_NoNewPrivs"), Some("1"));
    assert_eq!(b.value("STATUS_Seccomp"), Some("2"));
    assert_eq!(b.value("NOFILE"), Some("64"), "--rlimit nofile=64");

    // the submission drive
    assert_eq!(b.value("SUBMISSION"), Some("print(42)"));
    assert_eq!(b.value("SUBMISSION_WRITE"), Some("refused"));
    let sm = b.value("SUBMISSION_MOUNT").unwrap_or_default();
    let sm_opts: Vec<&str> = sm
        .split(' ')
        .nth(3)
        .unwrap_or_default()
        .split(',')
        .collect();
    assert!(
        sm.split(' ').nth(2) == Some("ext4")
            && ["ro", "nosuid", "nodev"]
                .iter()
                .all(|o| sm_opts.contains(o)),
        "submission mount: {sm:?}"
    );

    // the basics, and the kernel's knobs out of reach of uid 0
    let flags = b.value("LO_FLAGS").unwrap_or_default();
    let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).unwrap_or(0);
    assert_eq!(flags & 0x9, 0x9, "lo is not up: {flags:#x}");
    assert_eq!(b.value("SHM_FSTYPE"), Some("tmpfs"));
    assert_eq!(
        b.value("SHM"),
        Some("shared"),
        "shm_open/sem_open across a fork"
    );
    assert!(
        b.value("PTY").unwrap_or_default().starts_with("/dev/pts/"),
        "no pseudo-terminal for the command"
    );
    let core = b.value("CORE_PATTERN_WRITE").unwrap_or_default();
    assert!(
        core.contains("Read-only file system"),
        "core_pattern: {core:?}"
    );
    let sysrq = b.value("SYSRQ_WRITE").unwrap_or_default();
    assert!(
        sysrq.contains("Read-only file system"),
        "sysrq-trigger: {sysrq:?}"
    );

    // --tmpfs and --bind
    assert_eq!(b.value("TMPFS_WRITE"), Some("ok"));
    let tm = b.value("TMPFS_MOUNT").unwrap_or_default();
    assert!(
        tm.starts_with("tmpfs /scratch tmpfs ") && tm.contains("nosuid") && tm.contains("nodev"),
        "tmpfs mount: {tm:?}"
    );
    assert_eq!(b.value("BIND_READ"), Some("hello from the host"));
    assert_eq!(b.value("BIND_WRITE"), Some("refused"));
    let bm = b.value("BIND_MOUNT").unwrap_or_default();
    let bm_opts = bm.split(' ').nth(3).unwrap_or_default();
    assert!(
        bm_opts.split(',').any(|o| o == "ro") && bm.contains("nosuid") && bm.contains("nodev"),
        "bind mount: {bm:?}"
    );

    let daemon = b.value("DAEMON_SID").unwrap_or_default();
    assert!(
        !daemon.is_empty() && daemon != pid.to_string(),
        "the daemon did not get a session of its own: {daemon:?}"
    );
    assert_eq!(b.value("ZOMBIES"), Some("0"), "zombies seen by the grader");

    // --report /dev/ttyS1: a terminal, so written in place, where the
    // command's forgery did not land; the daemon the grader left was killed
    assert_eq!(
        b.value("TTYS1_WRITE"),
        Some("done"),
        "the forgery was not even tried"
    );
    let ttys1 =
        String::from_utf8_lossy(&std::fs::read(&report).expect("the ttyS1 file")).into_owned();
    let report_line = ttys1
        .lines()
        .find(|l| l.trim_start().starts_with("{\"schema\""))
        .unwrap_or_else(|| panic!("no JSON report on ttyS1: {ttys1:?}"));
    let rep: serde_json::Value = serde_json::from_str(report_line.trim())
        .unwrap_or_else(|e| panic!("report is not JSON ({e}): {report_line}"));
    // --memory 64m: the verdict, from the cgroup
    assert_eq!(rep["status"], "memory_limit", "{rep}");
    assert_eq!(rep["exit_code"], 137, "{rep}");
    assert!(rep["oom_kills"].as_u64().unwrap_or(0) >= 1, "{rep}");
    let peak = rep["memory_peak_kib"].as_u64().unwrap_or(0);
    assert!((48 << 10..=(64 << 10) + 512).contains(&peak), "{rep}");
    assert!(
        rep["leftovers_killed"].as_u64().unwrap_or(0) >= 1,
        "the setsid daemon was not killed: {rep}"
    );
    assert!(
        !ttys1.contains("forged"),
        "the command wrote to ttyS1: {ttys1}"
    );
}
