//! `--poweroff`, `--reboot`: proctor as the init of a (micro-)VM. It gives
//! the command what a bare initramfs lacks (the API filesystems, loopback,
//! `/dev/pts`, `/dev/shm`, cgroup2), loads the drivers a distribution
//! kernel builds as modules, hides the kernel's knobs behind read-only
//! mounts, and at the end stops the machine.

use crate::args::{Config, Module};
use crate::error::{ErrnoName, Error, Show};
use crate::rt::pack::Msg;
use crate::sys::fs::{self, O_PATH, O_RDONLY};
use crate::sys::module;
use crate::sys::mount::{self, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY};
use crate::sys::process::{self, MachineEnd};
use crate::sys::Errno;
use crate::{err, log, mounts, msg, net};

/// The filesystems the command expects at fixed places, in order (each
/// one's directory is on an earlier one): directory, type and data, each
/// NUL-terminated (as a table of `&CStr` it would cost 48 bytes of data a
/// row), with their flags in [`BASIC_FLAGS`].
const BASICS: &str = concat!(
    "/proc\0proc\0\0",
    "/sys\0sysfs\0\0",
    "/dev\0devtmpfs\0\0",
    // Terminals for the command (`script`, `expect`, pty-based test runners).
    "/dev/pts\0devpts\0newinstance,ptmxmode=0666\0",
    // POSIX shared memory and semaphores (Python's multiprocessing).
    "/dev/shm\0tmpfs\0mode=1777\0",
    "/sys/fs/cgroup\0cgroup2\0\0",
);

/// The mount flags of each of [`BASICS`].
const BASIC_FLAGS: [u32; 6] = [
    NOSUID_NODEV_NOEXEC,
    NOSUID_NODEV_NOEXEC,
    MS_NOSUID as u32,
    (MS_NOSUID | MS_NOEXEC) as u32,
    (MS_NOSUID | MS_NODEV) as u32,
    NOSUID_NODEV_NOEXEC,
];

const NOSUID_NODEV_NOEXEC: u32 = (MS_NOSUID | MS_NODEV | MS_NOEXEC) as u32;

/// What the kernel's knobs are, NUL-terminated: read-only for the command.
const KNOBS: &[u8] = b"/proc/sys\0/proc/sysrq-trigger\0/sys\0";

/// First of all, as PID 1: the filesystems a bare initramfs lacks, each
/// unless its directory already is a mount; a failure is a warning (the
/// command may not need it).
pub fn mount_basics() {
    let mut strings = mounts::c_strings(BASICS.as_bytes());
    for &flags in &BASIC_FLAGS {
        let (Some(dir), Some(fstype), Some(data)) =
            (strings.next(), strings.next(), strings.next())
        else {
            return;
        };
        let mounted = fs::stat_at(fs::AT_FDCWD, dir, fs::AT_SYMLINK_NOFOLLOW);
        if mounted.is_ok_and(|s| s.mount_root) {
            continue;
        }
        // EEXIST is the common case; any other failure shows in the mount.
        let _ = mount::mkdir_at(fs::AT_FDCWD, dir, 0o755);
        if let Err(e) = mount::mount(fstype, dir, fstype, flags as u64, Some(data)) {
            warn(msg!("mount "), dir.to_bytes(), e);
        }
    }
}

/// `warning: <what><path>: <ERRNO>`: the line of each of the machine's
/// steps that may fail without ending the run, formatted in one place.
fn warn(what: Msg, path: &[u8], e: Errno) {
    log!(Warning, "warning: {}{}: {}", what, Show(path), ErrnoName(e));
}

/// `warning: <error>`: the line of a protection that failed, formatted once.
fn warn_error(e: Error) {
    log!(Warning, "warning: {}", e);
}

/// Before the wait: the modules (`--module`, in order), then loopback up.
/// Only as PID 1: in a container proctor leaves the machine alone, and
/// refuses to load modules into it.
pub fn init(cfg: &Config, is_pid1: bool) -> Result<(), Error> {
    if !is_pid1 && !cfg.modules.is_empty() {
        return Err(err!(
            "--module",
            None,
            "proctor is not PID 1, not the init of a VM"
        ));
    }
    cfg.modules.iter().try_for_each(load)?;
    if is_pid1 {
        disable_module_autoload();
    }
    if let Err(e) = net::bring_up_loopback() {
        warn(msg!("bringing up lo"), b"", e);
    }
    Ok(())
}

/// For a protocol or device it lacks, the kernel runs `/sbin/modprobe` as
/// root with every capability — in a VM, a path in the image that a uid-0
/// command can write: code of its own, outside every restriction. proctor
/// empties `kernel.modprobe`, which turns autoloading off; the modules a VM
/// needs come from `--module`. A kernel without modules has no such knob.
// Not inlined: smaller so (measured).
#[inline(never)]
fn disable_module_autoload() {
    let off = fs::open(c"/proc/sys/kernel/modprobe", fs::O_WRONLY)
        .and_then(|fd| fs::write_all(fd.raw(), b"\n"));
    if let Err(e) = off.or_else(|e| if e == Errno::ENOENT { Ok(()) } else { Err(e) }) {
        warn(msg!("kernel.modprobe"), b"", e);
    }
}

/// `--module FILE[:PARAMS]`: one already loaded is fine.
// Not inlined: smaller so (measured).
#[inline(never)]
fn load(m: &Module) -> Result<(), Error> {
    let loaded = fs::open(&m.file, O_RDONLY).and_then(|fd| module::load_module(fd.raw(), m.params));
    match loaded {
        Ok(()) | Err(Errno::EEXIST) => Ok(()),
        Err(e) => {
            // "--module: /virtio.ko: ENOENT"; out of memory, the file goes unnamed.
            Err(crate::err!(
                "--module",
                Some(e),
                "{}",
                Show(m.file.to_bytes())
            ))
        }
    }
}

/// After the mounts, in the command's own mount namespace: `/proc/sys`,
/// `/proc/sysrq-trigger` and `/sys` become read-only, so a command running
/// as uid 0 cannot turn the kernel's knobs (core_pattern, sysrq, its
/// cgroup's limits), and a report device (a second serial port) is covered
/// with `/dev/null`, so that the command cannot forge the report there;
/// proctor writes it through the directory it opened before, in its first
/// namespace. One knob already read-only is left as it is; a failure is a
/// warning.
pub fn protect(cfg: &Config) {
    // (--pid-ns made one already.)
    if cfg.mounts.is_empty() && !cfg.pid_ns {
        let step = if cfg.reboot {
            msg!("--reboot")
        } else {
            msg!("--poweroff")
        };
        if let Err(e) = mounts::private_namespace(step) {
            return warn_error(e);
        }
    }
    for knob in mounts::c_strings(KNOBS) {
        let read_only = fs::open(knob, O_PATH)
            .and_then(|fd| mount::mount_flags(fd.raw()))
            .is_ok_and(|flags| flags & MS_RDONLY != 0);
        if read_only {
            continue;
        }
        if let Err(e) = mounts::make_read_only(knob) {
            warn_error(e);
        }
    }
    let device = cfg.report.filter(|r| {
        let kind = fs::stat_at(fs::AT_FDCWD, r, 0).map(|s| s.kind());
        r.to_bytes() != b"/dev/console" && kind == Ok(fs::S_IFCHR)
    });
    if let Some(report) = device {
        if let Err(e) = mount::mount(c"/dev/null", report, c"", mount::MS_BIND, None) {
            warn(msg!("covering "), report.to_bytes(), e);
        }
    }
}

/// The end of the machine: sync the disks, print the exit status on the
/// console — the last line there, since every other process is gone — and
/// power off (`--poweroff`) or reboot (`--reboot`). A VMM without ACPI
/// power-off (Firecracker on x86_64, QEMU's microvm) stops only on the
/// reboot. Without the privilege to do either, proctor just exits.
pub fn end(cfg: &Config, code: u8) -> ! {
    fs::sync();
    // On a line of its own, even after a line the command left unfinished.
    let _ = fs::write_all(2, b"\n");
    let mut line = log::Line::new();
    let _ = ufmt::uwrite!(line, "exit status {}", code);
    line.finish();
    let _ = fs::drain_terminal(2);
    let how = if cfg.reboot {
        MachineEnd::Restart
    } else {
        MachineEnd::PowerOff
    };
    // Not allowed (no CAP_SYS_BOOT): proctor just exits.
    let _ = process::end_machine(how);
    process::exit(code)
}
