//! `--wait-for`: block until every path exists, without busy-looping.

use crate::args::Nanos;
use crate::error::Error;
use crate::sys::fs;
use crate::sys::signal::{self, SigSet};
use crate::sys::time::monotonic;
use core::ffi::CStr;

/// Why the wait ended without the paths.
pub enum Interrupted {
    /// `--wait-timeout` passed.
    Timeout,
    /// A signal whose default action terminates arrived.
    Cancelled(i32),
    Failed(Error),
}

/// Slow poll period, which also catches files written from another host.
const POLL: Nanos = 100_000_000;

/// Wait until every path of `paths` exists.
pub fn wait_for(paths: &[&CStr], timeout: Option<Nanos>) -> Result<(), Interrupted> {
    let deadline = timeout.map(|t| monotonic().saturating_add(t));
    loop {
        if paths
            .iter()
            .all(|p| fs::stat_at(fs::AT_FDCWD, p, 0).is_ok())
        {
            return Ok(());
        }
        let now = monotonic();
        let left = match deadline {
            Some(d) if now >= d => return Err(Interrupted::Timeout),
            Some(d) => (d - now).min(POLL),
            None => POLL,
        };
        match signal::wait(SigSet::FULL, Some(left)) {
            Ok(Some(sig)) if terminates(sig) => return Err(Interrupted::Cancelled(sig)),
            Ok(_) => {}
            Err(e) => return Err(Interrupted::Failed(Error::sys("wait-for", e))),
        }
    }
}

/// Whether a signal's default action ends the process.
pub fn terminates(sig: i32) -> bool {
    use signal::*;
    sig > 0
        && !SigSet::of(&[SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, 23, 28])
            .contains(sig)
}
