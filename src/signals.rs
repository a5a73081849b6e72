//! Step 2 of the order of work: block every catchable signal so none is
//! lost, make sure SIGCHLD is not ignored, become a child subreaper when
//! not PID 1. The signalfd that `--wait-for` and supervision read is opened
//! on first use: a run that polls no descriptor waits with `rt_sigtimedwait`
//! and never pays for one.

use crate::error::Error;
use crate::msg;
use crate::sys::process;
use crate::sys::signal::{self, Disposition, SigSet, SIGCHLD};
use crate::sys::watch;
use crate::sys::{Errno, Fd};

/// What step 2 leaves for the later phases.
pub struct Signals {
    /// The mask proctor inherited, restored in the child.
    pub inherited: SigSet,
    /// Every blocked signal, readable (non-blocking, close-on-exec), once
    /// [`Signals::fd`] has been asked for it.
    fd: Option<Fd>,
}

impl Signals {
    /// The signalfd of every blocked signal, opened the first time it is
    /// asked for. Signals that arrived before stay pending: it reads them.
    pub fn fd(&mut self) -> Result<i32, Errno> {
        if let Some(fd) = &self.fd {
            return Ok(fd.raw());
        }
        Ok(self.fd.insert(watch::signalfd(SigSet::FULL)?).raw())
    }
}

/// tini's `-p`: the signal proctor gets when its parent dies, and the
/// parent it had at start.
#[derive(Clone, Copy)]
pub struct ParentDeath {
    pub signal: u8,
    pub parent: process::Pid,
}

/// Block the signals, reset an ignored SIGCHLD (the kernel would reap for
/// us and lose the status), become a subreaper when not PID 1, and arm the
/// parent-death signal. A real fault inside proctor still kills it: the
/// kernel forces synchronous faults through a blocked mask.
pub fn prepare(is_pid1: bool, parent_death: Option<ParentDeath>) -> Result<Signals, Error> {
    let inherited = signal::block(SigSet::FULL).map_err(|e| Error::sys(msg!("sigprocmask"), e))?;
    if signal::disposition(SIGCHLD) == Ok(Disposition::Ignore) {
        signal::set_disposition(SIGCHLD, Disposition::Default)
            .map_err(|e| Error::sys(msg!("sigaction"), e))?;
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
    if let Some(pd) = parent_death {
        arm_parent_death(pd)?;
    }
    Ok(Signals {
        inherited,
        fd: None,
    })
}

/// Armed after the subreaper setup, as tini does. A parent that died before
/// that sent nothing: proctor then has a new parent, and sends the signal
/// itself; blocked, it waits for the wait or the supervision loop, which
/// handle it as if the kernel had sent it.
fn arm_parent_death(pd: ParentDeath) -> Result<(), Error> {
    let sig = i32::from(pd.signal);
    process::prctl(process::PR_SET_PDEATHSIG, sig as usize, 0)
        .map_err(|e| Error::sys(msg!("prctl(PR_SET_PDEATHSIG)"), e))?;
    if process::getppid() != pd.parent {
        let _ = process::kill(process::getpid(), sig);
    }
    Ok(())
}
