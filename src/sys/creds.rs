//! Credentials: user and group ids, capabilities, no_new_privs.

use super::process::prctl;
use super::Result;
use syscalls::{raw_syscall, syscall, Sysno};

/// Replace the supplementary groups.
pub fn setgroups(groups: &[u32]) -> Result<()> {
    // SAFETY: groups is a valid array of gid_t of the given length.
    unsafe { syscall!(Sysno::setgroups, groups.len(), groups.as_ptr()) }.map(drop)
}

/// Set real, effective and saved group id.
pub fn setresgid(gid: u32) -> Result<()> {
    // SAFETY: setresgid takes three integers.
    unsafe { syscall!(Sysno::setresgid, gid, gid, gid) }.map(drop)
}

/// Set real, effective and saved user id.
pub fn setresuid(uid: u32) -> Result<()> {
    // SAFETY: setresuid takes three integers.
    unsafe { syscall!(Sysno::setresuid, uid, uid, uid) }.map(drop)
}

/// The real user id (the one RLIMIT_NPROC is counted for).
#[inline(never)]
pub fn getuid() -> u32 {
    // SAFETY: getuid takes no arguments and cannot fail.
    unsafe { raw_syscall!(Sysno::getuid) as u32 }
}

/// The effective user and group ids (those file permissions are checked against).
pub fn effective_ids() -> (u32, u32) {
    // SAFETY: geteuid and getegid take no arguments and cannot fail.
    unsafe {
        (
            raw_syscall!(Sysno::geteuid) as u32,
            raw_syscall!(Sysno::getegid) as u32,
        )
    }
}

const PR_CAPBSET_READ: u32 = 23;
const PR_CAPBSET_DROP: u32 = 24;
const PR_SET_NO_NEW_PRIVS: u32 = 38;
const PR_CAP_AMBIENT: u32 = 47;
const PR_CAP_AMBIENT_CLEAR_ALL: usize = 4;

/// Whether capability `cap` exists in this kernel (`PR_CAPBSET_READ`).
#[inline(never)]
pub fn cap_exists(cap: u32) -> bool {
    prctl(PR_CAPBSET_READ, cap as usize, 0).is_ok()
}

/// Drop `cap` from the bounding set (needs CAP_SETPCAP).
pub fn drop_bounding(cap: u32) -> Result<()> {
    prctl(PR_CAPBSET_DROP, cap as usize, 0).map(drop)
}

/// Clear the ambient set (Linux 4.3+).
pub fn clear_ambient() -> Result<()> {
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0).map(drop)
}

/// `_LINUX_CAPABILITY_VERSION_3`: capget/capset on two 32-bit words per set.
const CAP_VERSION_3: u32 = 0x2008_0522;
/// Capability numbers proctor checks before it starts.
pub const CAP_KILL: u32 = 5;
pub const CAP_SETGID: u32 = 6;
pub const CAP_SETUID: u32 = 7;
pub const CAP_SYS_ADMIN: u32 = 21;

/// This thread's effective capability set, one bit per capability.
pub fn effective() -> u64 {
    let header = [CAP_VERSION_3, 0u32]; // version, pid 0 = this thread
                                        // Two struct __user_cap_data_struct {effective, permitted, inheritable}.
    let mut data = [0u32; 6];
    // SAFETY: header and data have the layout of capget's v3 structures.
    match unsafe { syscall!(Sysno::capget, header.as_ptr(), data.as_mut_ptr()) } {
        Ok(_) => data[0] as u64 | (data[3] as u64) << 32,
        Err(_) => 0,
    }
}

/// Zero the effective, permitted and inheritable sets.
pub fn clear_caps() -> Result<()> {
    let header = [CAP_VERSION_3, 0u32]; // version, pid 0 = this thread
                                        // Two struct __user_cap_data_struct of zeros: 64 bits per set.
    let data = [0u32; 6];
    // SAFETY: header and data have the layout of capset's v3 structures.
    unsafe { syscall!(Sysno::capset, header.as_ptr(), data.as_ptr()) }.map(drop)
}

/// Forbid gaining privileges through execve (setuid bits, file capabilities).
pub fn set_no_new_privs() -> Result<()> {
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0).map(drop)
}
