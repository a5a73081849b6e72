//! `--wait-for`: block until every path exists, without busy-looping.
//!
//! One `ppoll` sleeps on two descriptors: an inotify instance watching the
//! nearest existing ancestor of each missing path (re-aimed lower as
//! directories appear), and a signalfd for the signals proctor keeps blocked.
//! A ≈100 ms timeout bounds the sleep, because inotify never hears of files
//! written from another host (NFS, EFS, virtiofs, 9p).

use crate::args::{Config, Mount};
use crate::error::{Error, Show};
use crate::msg;
use crate::report::{Failed, Failure};
use crate::rt::vec::{extend, push};
use crate::signals::Signals;
use crate::sys::fs;
use crate::sys::signal;
use crate::sys::time::{monotonic, Nanos};
use crate::sys::watch::{
    self, SigInfo, IN_CREATE, IN_DELETE_SELF, IN_MOVED_TO, IN_MOVE_SELF, IN_ONLYDIR,
};
use crate::sys::{Errno, Fd};
use alloc::vec::Vec;
use core::ffi::CStr;
use core::mem::ManuallyDrop;

/// Step 3: wait for the `--wait-for` paths, then for the devices of
/// `--mount` (drivers probe asynchronously, after the modules are loaded).
/// Returns what [`wait_for`] does; `signals` is the signalfd of every
/// blocked signal.
// Not inlined into main: 0.1 KiB smaller so (measured).
#[inline(never)]
pub fn wait(cfg: &Config, signals: &mut Signals) -> Result<Option<Fd>, Failed> {
    // Lives until exit, like the Config it points into: no drop glue.
    let mut paths = ManuallyDrop::new(Vec::new());
    for path in cfg.wait_for.iter().copied().chain(devices(cfg)) {
        push(&mut paths, path)?;
    }
    wait_for(&paths, cfg, signals)
}

/// The devices of `--mount`.
fn devices<'c>(cfg: &'c Config) -> impl Iterator<Item = &'c CStr> {
    cfg.mounts.iter().filter_map(|m| match m {
        Mount::Device { dev, .. } => Some(&**dev),
        _ => None,
    })
}

/// The wait timed out: name a `--mount` device still missing, if one is.
fn timed_out(cfg: &Config) -> Error {
    match devices(cfg).find(|dev| !exists(dev)) {
        Some(dev) => {
            // "--mount: /dev/vdb: ENOENT"; out of memory, the device goes unnamed.
            crate::err!("--mount", Some(Errno::ENOENT), "{}", Show(dev.to_bytes()))
        }
        None => crate::err!("--wait-for", None, "gave up after --wait-timeout"),
    }
}

/// Slow poll period, which also catches files written from another host.
const POLL: Nanos = 100_000_000;

/// Wait until every path of `paths` exists, at most `--wait-timeout`, and
/// only until a signal whose default action terminates arrives. Returns the
/// inotify descriptor, if one was used, for the caller to close once the
/// command has started: closing an inotify instance that had watches waits
/// for an SRCU grace period (8–400 ms measured here), which must not delay
/// the command.
///
/// `signals` gives the signalfd of every blocked signal (see `signals.rs`).
fn wait_for(paths: &[&CStr], cfg: &Config, signals: &mut Signals) -> Result<Option<Fd>, Failed> {
    if paths.is_empty() {
        return Ok(None);
    }
    log!(Verbose, "waiting for {} path(s)", paths.len());
    // Often the submission is already there: no descriptors needed.
    if all_exist(paths) {
        return Ok(None);
    }
    let signals = signals.fd().map_err(|e| Error::sys(msg!("signalfd"), e))?;
    let deadline = cfg.wait_timeout.map(|t| monotonic().saturating_add(t));
    // Without inotify (no kernel support, descriptor limit) the poll still works.
    let inotify = watch::inotify().ok();
    let inotify_fd = inotify.as_ref().map_or(-1, |fd| fd.raw());
    // A few bytes the arena would hardly reuse: no drop glue at each return.
    let mut scratch = ManuallyDrop::new(Vec::new());
    loop {
        if inotify_fd >= 0 {
            for path in paths.iter().filter(|p| !exists(p)) {
                watch_nearest(inotify_fd, path, &mut scratch);
            }
            // A path that appeared before its directory was watched raised no event.
            if all_exist(paths) {
                return Ok(inotify);
            }
        }
        let now = monotonic();
        let left = match deadline {
            Some(d) if now >= d => {
                return Err(Failed {
                    why: Failure::WaitTimeout,
                    error: timed_out(cfg),
                })
            }
            Some(d) => (d - now).min(POLL),
            None => POLL,
        };
        let mut polls = [
            watch::PollFd::readable(signals),
            watch::PollFd::readable(inotify_fd),
        ];
        // One batch per wake-up: a flood of signals cannot starve the timeout.
        let mut buf = [SigInfo::EMPTY; 16];
        let sigs = match watch::poll(&mut polls, Some(left)) {
            Err(e) => Err((msg!("ppoll"), e)),
            Ok(()) => watch::read_signals(signals, &mut buf).map_err(|e| (msg!("read"), e)),
        };
        let sigs = match sigs {
            Ok(sigs) => sigs,
            Err((call, e)) => return Err(Error::noted(msg!("--wait-for"), Some(e), call).into()),
        };
        if let Some(sig) = sigs.iter().map(SigInfo::signal).find(|&s| terminates(s)) {
            return Err(Failed {
                why: Failure::Cancelled(sig as u8),
                error: crate::err!("--wait-for", None, "cancelled by signal {}", sig),
            });
        }
        if inotify_fd >= 0 {
            watch::drain(inotify_fd);
        }
        if all_exist(paths) {
            return Ok(inotify);
        }
    }
}

/// Whether every path exists. Not inlined: called at three points (measured).
#[inline(never)]
fn all_exist(paths: &[&CStr]) -> bool {
    paths.iter().all(exists)
}

/// Whether `path` exists (a dangling symlink does not).
fn exists(path: &&CStr) -> bool {
    fs::stat_at(fs::AT_FDCWD, path, 0).is_ok()
}

/// Watch the nearest existing ancestor of `path` for new entries; `scratch`
/// holds the ancestor's NUL-terminated name.
fn watch_nearest(inotify: i32, path: &CStr, scratch: &mut Vec<u8>) {
    const MASK: u32 = IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
    let mut rest = path.to_bytes();
    while let Some(parent) = parent(rest) {
        scratch.clear();
        if extend(scratch, parent)
            .and_then(|()| push(scratch, 0))
            .is_err()
        {
            return; // out of memory: the slow poll still finds the path
        }
        let Some(dir) = fs::until_nul(scratch) else {
            return;
        };
        match watch::add_watch(inotify, dir, MASK) {
            Err(Errno::ENOENT | Errno::ENOTDIR) => rest = parent,
            // Watched, or not watchable (EACCES, ENOSPC: too many watches): the poll covers it.
            _ => return,
        }
    }
}

/// The directory holding `path` (`/` for `/a`, `.` for `a`); `None` above the top.
fn parent(path: &[u8]) -> Option<&[u8]> {
    let trimmed = match path {
        [init @ .., b'/'] => init,
        _ => path,
    };
    if matches!(trimmed, [] | [b'.']) {
        return None;
    }
    Some(match trimmed.iter().rposition(|&b| b == b'/') {
        Some(0) => b"/",
        Some(i) => trimmed.get(..i)?,
        None => b".",
    })
}

/// Whether a signal's default action ends the process.
pub fn terminates(sig: i32) -> bool {
    use signal::*;
    sig > 0
        && !const { SigSet::of(&[SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, 23, 28]) }
            .contains(sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_climb_to_the_top() {
        assert_eq!(parent(b"/a/b/c"), Some(&b"/a/b"[..]));
        assert_eq!(parent(b"/a/b/"), Some(&b"/a"[..]));
        assert_eq!(parent(b"/a"), Some(&b"/"[..]));
        assert_eq!(parent(b"/"), None);
        assert_eq!(parent(b"a/b"), Some(&b"a"[..]));
        assert_eq!(parent(b"a"), Some(&b"."[..]));
        assert_eq!(parent(b"."), None);
    }

    #[test]
    fn only_terminating_signals_cancel() {
        for sig in [1, 2, 3, 9, 10, 14, 15, 34, 64] {
            assert!(terminates(sig), "{sig}");
        }
        for sig in [0, 17, 18, 19, 20, 21, 22, 23, 28] {
            assert!(!terminates(sig), "{sig}");
        }
    }
}
