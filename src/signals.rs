//! Step 2 of the order of work: block every catchable signal so none is
//! lost, make sure SIGCHLD is not ignored, become a child subreaper when
//! not PID 1, and open the signalfd that `--wait-for` and supervision read.

use crate::error::Error;
use crate::sys::process;
use crate::sys::signal::{self, Disposition, SigSet, SIGCHLD};
use crate::sys::watch;
use crate::sys::Fd;

/// What step 2 leaves for the later phases.
pub struct Signals {
    /// The mask proctor inherited, restored in the child.
    pub inherited: SigSet,
    /// Every blocked signal, readable (non-blocking, close-on-exec).
    pub fd: Fd,
}

/// Block the signals, reset an ignored SIGCHLD (the kernel would reap for
/// us and lose the status) and become a subreaper when not PID 1. A real
/// fault inside proctor still kills it: the kernel forces synchronous
/// faults through a blocked mask.
pub fn prepare(is_pid1: bool) -> Result<Signals, Error> {
    let inherited = signal::block(SigSet::FULL).map_err(|e| Error::sys("sigprocmask", e))?;
    if signal::disposition(SIGCHLD) == Ok(Disposition::Ignore) {
        signal::set_disposition(SIGCHLD, Disposition::Default)
            .map_err(|e| Error::sys("sigaction", e))?;
    }
    if !is_pid1 {
        if let Err(e) = process::prctl(process::PR_SET_CHILD_SUBREAPER, 1, 0) {
            log!(
                Verbose,
                "cannot become a subreaper ({}): orphans go to the real init",
                crate::error::ErrnoName(e)
            );
        }
    }
    let fd = watch::signalfd(SigSet::FULL).map_err(|e| Error::sys("signalfd", e))?;
    Ok(Signals { inherited, fd })
}
