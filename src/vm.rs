//! `--poweroff`, `--reboot`: proctor as the init of a (micro-)VM. It gives
//! the command what a bare initramfs lacks (the API filesystems, loopback,
//! `/dev/pts`, `/dev/shm`, cgroup2), loads the drivers a distribution
//! kernel builds as modules, hides the kernel's knobs behind read-only
//! mounts, and at the end stops the machine.

use crate::args::{Config, Module};
use crate::error::{ErrnoName, Error, Show};
use crate::sys::fs::{self, O_PATH, O_RDONLY};
use crate::sys::module;
use crate::sys::mount::{self, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY};
use crate::sys::process::{self, MachineEnd};
use crate::sys::Errno;
use crate::{err, log, mounts, net};
use core::ffi::CStr;

/// A filesystem the command expects at a fixed place.
struct Basic {
    dir: &'static CStr,
    /// The directory `dir` is in: `dir` is mounted when it is on another mount.
    parent: &'static CStr,
    fstype: &'static CStr,
    flags: u64,
    data: Option<&'static CStr>,
}

const NOSUID_NODEV_NOEXEC: u64 = MS_NOSUID | MS_NODEV | MS_NOEXEC;

/// In order: each one's directory is on an earlier one.
const BASICS: [Basic; 6] = [
    Basic {
        dir: c"/proc",
        parent: c"/",
        fstype: c"proc",
        flags: NOSUID_NODEV_NOEXEC,
        data: None,
    },
    Basic {
        dir: c"/sys",
        parent: c"/",
        fstype: c"sysfs",
        flags: NOSUID_NODEV_NOEXEC,
        data: None,
    },
    Basic {
        dir: c"/dev",
        parent: c"/",
        fstype: c"devtmpfs",
        flags: MS_NOSUID,
        data: None,
    },
    // Terminals for the command (`script`, `expect`, pty-based test runners).
    Basic {
        dir: c"/dev/pts",
        parent: c"/dev",
        fstype: c"devpts",
        flags: MS_NOSUID | MS_NOEXEC,
        data: Some(c"newinstance,ptmxmode=0666"),
    },
    // POSIX shared memory and semaphores (Python's multiprocessing).
    Basic {
        dir: c"/dev/shm",
        parent: c"/dev",
        fstype: c"tmpfs",
        flags: MS_NOSUID | MS_NODEV,
        data: Some(c"mode=1777"),
    },
    Basic {
        dir: c"/sys/fs/cgroup",
        parent: c"/sys/fs",
        fstype: c"cgroup2",
        flags: NOSUID_NODEV_NOEXEC,
        data: None,
    },
];

/// What the kernel's knobs are: read-only for the command.
const KNOBS: [&CStr; 3] = [c"/proc/sys", c"/proc/sysrq-trigger", c"/sys"];

/// First of all, as PID 1: the filesystems a bare initramfs lacks, each
/// unless its directory already is a mount; a failure is a warning (the
/// command may not need it).
pub fn mount_basics() {
    for basic in &BASICS {
        mount_basic(basic);
    }
}

/// Before the wait: the modules (`--module`, in order), then loopback up.
/// Only as PID 1: in a container proctor leaves the machine alone, and
/// refuses to load modules into it.
pub fn init(cfg: &Config, is_pid1: bool) -> Result<(), Error> {
    if !is_pid1 {
        return match cfg.modules.first() {
            Some(m) => Err(err!(
                "--module",
                None,
                "{}: proctor is not PID 1, not the init of a VM",
                Show(m.file.to_bytes())
            )),
            None => Ok(()),
        };
    }
    cfg.modules.iter().try_for_each(load)?;
    if let Err(e) = net::bring_up_loopback() {
        log!(log::NORMAL, "warning: bringing up lo: {}", ErrnoName(e));
    }
    Ok(())
}

fn mount_basic(b: &Basic) {
    if mount_point(b.dir, b.parent) {
        return;
    }
    // EEXIST is the common case; any other failure shows in the mount below.
    let _ = mount::mkdir_at(fs::AT_FDCWD, b.dir, 0o755);
    match mount::mount(b.fstype, b.dir, b.fstype, b.flags, b.data) {
        Ok(()) => log!(
            log::VERBOSE,
            "mounted {} at {}",
            Show(b.fstype.to_bytes()),
            Show(b.dir.to_bytes())
        ),
        Err(e) => log!(
            log::NORMAL,
            "warning: mount {} at {}: {}",
            Show(b.fstype.to_bytes()),
            Show(b.dir.to_bytes()),
            ErrnoName(e)
        ),
    }
}

/// Whether `dir` is on another mount than `parent`.
fn mount_point(dir: &CStr, parent: &CStr) -> bool {
    let (Ok(d), Ok(p)) = (
        fs::stat_at(fs::AT_FDCWD, dir, fs::AT_SYMLINK_NOFOLLOW),
        fs::stat_at(fs::AT_FDCWD, parent, 0),
    ) else {
        return false;
    };
    d.mnt_id != p.mnt_id || d.dev != p.dev
}

/// `--module FILE[:PARAMS]`: one already loaded is fine.
fn load(m: &Module) -> Result<(), Error> {
    let file = Show(m.file.to_bytes());
    let fd = fs::open(&m.file, O_RDONLY).map_err(|e| err!("--module", Some(e), "{}", file))?;
    match module::load_module(fd.raw(), m.params) {
        Ok(()) => log!(log::VERBOSE, "loaded module {}", file),
        Err(Errno::EEXIST) => log!(log::VERBOSE, "module {} was already loaded", file),
        Err(e) => return Err(err!("--module", Some(e), "{}", file)),
    }
    Ok(())
}

/// After the mounts: `/proc/sys`, `/proc/sysrq-trigger` and `/sys` become
/// read-only, so a command running as uid 0 cannot turn the kernel's knobs
/// (core_pattern, sysrq, a cgroup's limits). One already read-only is left
/// as it is; a failure is a warning.
pub fn protect_knobs() {
    for knob in KNOBS {
        let read_only = fs::open(knob, O_PATH)
            .and_then(|fd| mount::mount_flags(fd.raw()))
            .is_ok_and(|flags| flags & MS_RDONLY != 0);
        if read_only {
            continue;
        }
        if let Err(e) = mounts::make_read_only(knob) {
            log!(log::NORMAL, "warning: {}", e);
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
    let e = process::end_machine(how);
    log!(log::VERBOSE, "reboot: {}", ErrnoName(e));
    process::exit(code)
}
