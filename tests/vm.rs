//! The VM options on the host, where no VM is needed: the refusals of
//! `--reboot`, `--module` and `--mount` (each 125 and one line, the command
//! never runs), and `--mount` of a real block device (a loop device holding
//! an ext4 image). The VMs themselves boot in tests/qemu.rs and
//! tests/aarch64.rs.

mod common;
use common::*;
use std::process::Command;

/// 125, exactly one line on stderr containing `want`, and the command never ran.
fn refused(out: &std::process::Output, want: &str) {
    let err = stderr(out);
    assert_eq!(code(out), 125, "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(
        err.starts_with("proctor: ") && err.contains(want),
        "{err:?}"
    );
    assert!(!stdout(out).contains("RAN"), "the command ran");
}

#[test]
fn reboot_with_poweroff_is_refused() {
    let out = run(Mode::Pid1, &["--reboot", "--poweroff", "echo", "RAN"]);
    refused(&out, "--reboot: cannot be combined with --poweroff");
}

#[test]
fn module_outside_vm_mode_is_refused() {
    let out = run(Mode::Pid1, &["--module", "/lib/x.ko", "echo", "RAN"]);
    refused(&out, "--module: needs --poweroff or --reboot");
    // With --poweroff, but not as PID 1: not the init of a machine.
    let out = run(
        Mode::Subreaper,
        &["--poweroff", "--module", "/lib/x.ko", "echo", "RAN"],
    );
    refused(&out, "--module: proctor is not PID 1, not the init of a VM");
}

#[test]
fn mount_of_an_unknown_fstype_is_refused() {
    let out = run(
        Mode::Pid1,
        &["--mount", "/dev/vda:/sub:btrfs", "echo", "RAN"],
    );
    refused(
        &out,
        "--mount: \"/dev/vda:/sub:btrfs\" has a FSTYPE that is not ext4, ext2, squashfs, iso9660, vfat or erofs",
    );
}

#[test]
fn mount_of_a_symlinked_device_is_refused() {
    if !require_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("disk");
    std::os::unix::fs::symlink("/dev/loop0", &link).unwrap();
    let spec = format!("{}:/sub:ext4", link.display());
    let out = run(Mode::Pid1, &["--mount", &spec, "echo", "RAN"]);
    refused(
        &out,
        &format!("mount: {}: is a symbolic link: ELOOP", link.display()),
    );
    // A symbolic link in a directory of the path, too.
    std::os::unix::fs::symlink("/dev", dir.path().join("devdir")).unwrap();
    let spec = format!("{}/devdir/loop0:/sub:ext4", dir.path().display());
    let out = run(Mode::Pid1, &["--mount", &spec, "echo", "RAN"]);
    refused(&out, "is a symbolic link: ELOOP");
    // Not a block device at all.
    let spec = "/dev/null:/sub:ext4";
    let out = run(Mode::Pid1, &["--mount", spec, "echo", "RAN"]);
    refused(&out, "mount: /dev/null: ENOTBLK");
}

#[test]
fn mount_of_a_missing_device_waits_then_is_refused() {
    if !require_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let started = std::time::Instant::now();
    let out = run(
        Mode::Pid1,
        &[
            "--wait-timeout",
            "0.5",
            "--report",
            report.to_str().unwrap(),
            "--mount",
            "/dev/proctor-no-such-disk:/sub:ext4",
            "echo",
            "RAN",
        ],
    );
    refused(&out, "--mount: /dev/proctor-no-such-disk: ");
    assert!(
        stderr(&out).trim_end().ends_with("ENOENT"),
        "{}",
        stderr(&out)
    );
    assert!(started.elapsed().as_secs_f64() >= 0.5, "did not wait");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["status"], "wait_timeout", "{r}");
    assert_eq!(r["exit_code"], 125, "{r}");
}

/// A loop device attached to an image for the life of the test.
struct Loop(String);

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.0]).status();
    }
}

#[test]
fn mount_of_a_block_device_is_read_only_nosuid_nodev() {
    if !require_root()
        || !require("losetup", "attaches the image (util-linux)")
        || !require("mkfs.ext4", "makes the image (e2fsprogs)")
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("submission");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("solution.txt"), "42\n").unwrap();
    let image = dir.path().join("sub.ext4");
    let mk = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-d"])
        .arg(&sub)
        .arg(&image)
        .arg("4M")
        .output()
        .unwrap();
    assert!(
        mk.status.success(),
        "{}",
        String::from_utf8_lossy(&mk.stderr)
    );
    let attach = Command::new("losetup")
        .args(["--find", "--show", "--read-only"])
        .arg(&image)
        .output()
        .unwrap();
    if !attach.status.success() {
        let why = String::from_utf8_lossy(&attach.stderr);
        return missing(&format!("no loop device: {why}"));
    }
    let dev = Loop(String::from_utf8_lossy(&attach.stdout).trim().to_string());
    let mnt = dir.path().join("mnt");
    let spec = format!("{}:{}:ext4", dev.0, mnt.display());
    let script = format!(
        "cat {m}/solution.txt; grep ' {m} ' /proc/self/mounts; \
         touch {m}/x 2>/dev/null && echo WRITABLE; exit 3",
        m = mnt.display()
    );
    let out = run(Mode::Pid1, &["--mount", &spec, "sh", "-c", &script]);
    let text = stdout(&out);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(text.starts_with("42\n"), "{text}");
    let line = text.lines().nth(1).unwrap_or_default();
    let opts: Vec<&str> = line
        .split(' ')
        .nth(3)
        .unwrap_or_default()
        .split(',')
        .collect();
    assert_eq!(line.split(' ').nth(2), Some("ext4"), "{line}");
    for o in ["ro", "nosuid", "nodev"] {
        assert!(opts.contains(&o), "{o} missing: {line}");
    }
    assert!(!text.contains("WRITABLE"), "{text}");
    assert!(
        !mnt.join("solution.txt").exists(),
        "the mount leaked out of proctor's namespace"
    );
}
