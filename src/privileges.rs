//! Shedding privileges in the child: descriptors, capabilities, groups and
//! ids, no_new_privs. Each function is one step of the child's plan and
//! answers the errno of its failure; the parent names the step.

use crate::args::User;
use crate::rt::num::parse_u64;
use crate::spawn::Step;
use crate::sys::{creds, fs, Errno};

/// The highest capability number this kernel knows, probed with
/// `PR_CAPBSET_READ` (no /proc needed): binary search over 0..=63.
// Not inlined into main: smaller so (measured).
#[inline(never)]
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
///
/// Kept descriptors are skipped, not unmarked: an inherited one is open
/// across `execve` already (a close-on-exec one could not have survived the
/// `execve` that started proctor), and proctor's own (all opened with
/// `O_CLOEXEC`, the error pipe among them) must not leak even if named.
pub fn close_inherited_fds(keep: &[i32]) -> Result<(), Errno> {
    let mut from = 3u32;
    loop {
        // The lowest kept descriptor from `from` on.
        let mut next = None;
        for k in keep.iter().map(|&k| k as u32) {
            if k >= from && next.is_none_or(|n| k < n) {
                next = Some(k);
            }
        }
        if next != Some(from) {
            match fs::close_range(from, next.map_or(u32::MAX, |k| k - 1), true) {
                Ok(()) => {}
                // EPERM: a container seccomp profile older than the call (as for the mount API).
                Err(Errno::ENOSYS | Errno::EINVAL | Errno::EPERM) => return mark_each_fd(keep),
                Err(e) => return Err(e),
            }
        }
        match next {
            Some(k) => from = k + 1,
            None => return Ok(()),
        }
    }
}

/// The fallback for kernels before 5.11: walk `/proc/self/fd`.
fn mark_each_fd(keep: &[i32]) -> Result<(), Errno> {
    let dir = fs::open(c"/proc/self/fd", fs::O_RDONLY | fs::O_DIRECTORY)?;
    let mut buf = [0u8; 1024];
    loop {
        let n = fs::getdents(dir.raw(), &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        for name in fs::dirents(buf.get(..n).unwrap_or_default()) {
            let Some(fd) = parse_u64(name).and_then(|n| i32::try_from(n).ok()) else {
                continue;
            };
            if fd >= 3 && fd != dir.raw() && !keep.contains(&fd) {
                fs::set_cloexec(fd, true)?;
            }
        }
    }
}

/// Empty the ambient set, then the bounding set. The ambient set needs no
/// privilege, so it is cleared even when the bounding set cannot be (`EPERM`:
/// proctor lacks CAP_SETPCAP). Must run before the uid changes, which takes
/// CAP_SETPCAP away.
pub fn drop_bounding_set(last_cap: u32) -> Result<(), Errno> {
    match creds::clear_ambient() {
        Err(Errno::EINVAL) | Ok(()) => {} // EINVAL: a kernel before 4.3 has no ambient set
        Err(e) => return Err(e),
    }
    (0..last_cap + 1).try_for_each(creds::drop_bounding)
}

/// Supplementary groups (none unless `--groups`), then gid and uid.
/// Without CAP_SETGID, clearing the groups is skipped (with a `-v` line)
/// only when nobody asked for it (neither `--user` nor `--groups`).
pub fn set_ids(user: Option<User>, groups: &[u32]) -> Result<(), (Step, Errno)> {
    match creds::setgroups(groups) {
        Err(Errno::EPERM) if user.is_none() && groups.is_empty() => crate::log!(
            Verbose,
            "no CAP_SETGID: supplementary groups left as they are"
        ),
        r => r.map_err(|e| (Step::Groups, e))?,
    }
    if let Some(u) = user {
        creds::setresgid(u.gid).map_err(|e| (Step::Gid, e))?;
        creds::setresuid(u.uid).map_err(|e| (Step::Uid, e))?;
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
