//! `--poweroff`: proctor as the init of a (micro-)VM.

use crate::log;
use crate::sys::mount::{self, MS_NODEV, MS_NOEXEC, MS_NOSUID};
use crate::sys::{fs, process};
use core::ffi::CStr;

/// Mount /proc, /sys and /dev where they are absent (a bare initramfs).
pub fn mount_basics() {
    let basics: [(&CStr, &CStr, &CStr, u64); 3] = [
        (
            c"/proc",
            c"/proc/self",
            c"proc",
            MS_NOSUID | MS_NODEV | MS_NOEXEC,
        ),
        (
            c"/sys",
            c"/sys/kernel",
            c"sysfs",
            MS_NOSUID | MS_NODEV | MS_NOEXEC,
        ),
        (c"/dev", c"/dev/null", c"devtmpfs", MS_NOSUID),
    ];
    for (dir, probe, fstype, flags) in basics {
        if fs::stat_at(fs::AT_FDCWD, probe, 0).is_ok() {
            continue;
        }
        let _ = mount::mkdir_at(fs::AT_FDCWD, dir, 0o755);
        if let Err(e) = mount::mount(fstype, dir, fstype, flags, None) {
            log!(
                Warning,
                "warning: mount {}: {}",
                fstype.to_str().unwrap_or("?"),
                crate::error::ErrnoName(e)
            );
        }
    }
}

/// Print the exit status on the console, flush the disks and power off.
pub fn power_off(code: u8) -> ! {
    let mut line = log::Line::new();
    let _ = ufmt::uwrite!(line, "exit status {}", code);
    line.finish();
    fs::sync();
    // Not allowed to power off (not PID 1 of the machine, or no CAP_SYS_BOOT): just exit.
    let _ = process::reboot(process::Reboot::PowerOff);
    process::exit(code)
}
