//! Shedding privileges in the child: descriptors, capabilities, groups and
//! ids, no_new_privs. Each function is one step of the child's plan and
//! answers the errno of its failure; the parent names the step.

use crate::args::User;
use crate::sys::{creds, fs, Errno};

/// The highest capability number this kernel knows, probed with
/// `PR_CAPBSET_READ` (no /proc needed): binary search over 0..=63.
pub fn last_cap() -> u32 {
    let (mut lo, mut hi) = (0u32, 63u32);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if creds::cap_exists(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// Mark every descriptor from 3 on close-on-exec, except `keep`; they then
/// close at `execve`, while the error pipe keeps working until then.
pub fn close_inherited_fds(keep: &[i32]) -> Result<(), Errno> {
    match fs::close_range(3, u32::MAX, true) {
        Ok(()) => {}
        Err(Errno::ENOSYS | Errno::EINVAL) => mark_each_fd()?,
        Err(e) => return Err(e),
    }
    for &fd in keep.iter().filter(|&&fd| fd >= 3) {
        match fs::set_cloexec(fd, false) {
            Ok(()) | Err(Errno::EBADF) => {} // kept if open; nothing to keep otherwise
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The fallback for kernels before 5.11: walk `/proc/self/fd`.
fn mark_each_fd() -> Result<(), Errno> {
    let dir = fs::open(c"/proc/self/fd", fs::O_RDONLY | fs::O_DIRECTORY)?;
    let mut buf = [0u8; 1024];
    loop {
        let n = fs::getdents(dir.raw(), &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        for name in fs::dirents(&buf[..n]) {
            match crate::args::parse_u64(name) {
                Some(fd) if fd >= 3 && fd as i32 != dir.raw() => fs::set_cloexec(fd as i32, true)?,
                _ => {}
            }
        }
    }
}

/// Empty the bounding set and the ambient set. Must run while the child
/// still has CAP_SETPCAP, i.e. before the uid changes. `EPERM` means
/// proctor lacks CAP_SETPCAP.
pub fn drop_bounding_set(last_cap: u32) -> Result<(), Errno> {
    for cap in 0..=last_cap {
        creds::drop_bounding(cap)?;
    }
    match creds::clear_ambient() {
        Err(Errno::EINVAL) | Ok(()) => Ok(()), // EINVAL: a kernel before 4.3 has no ambient set
        Err(e) => Err(e),
    }
}

/// Which id step failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdStep {
    Groups,
    Gid,
    Uid,
}

/// Supplementary groups (none unless `--groups`), then gid and uid.
/// Without `--user` or `--groups`, clearing the groups is skipped when
/// proctor may not (it was not asked for).
pub fn set_ids(user: Option<User>, groups: &[u32]) -> Result<(), (IdStep, Errno)> {
    match creds::setgroups(groups) {
        Err(Errno::EPERM) if user.is_none() && groups.is_empty() => crate::log!(
            crate::log::VERBOSE,
            "no CAP_SETGID: supplementary groups left as they are"
        ),
        r => r.map_err(|e| (IdStep::Groups, e))?,
    }
    if let Some(u) = user {
        creds::setresgid(u.gid).map_err(|e| (IdStep::Gid, e))?;
        creds::setresuid(u.uid).map_err(|e| (IdStep::Uid, e))?;
    }
    Ok(())
}

/// Zero the effective, permitted and inheritable capability sets.
pub fn clear_capabilities() -> Result<(), Errno> {
    creds::clear_caps()
}

/// `PR_SET_NO_NEW_PRIVS`: no setuid bit or file capability ever raises the command.
pub fn no_new_privs() -> Result<(), Errno> {
    creds::set_no_new_privs()
}
