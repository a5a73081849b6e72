//! Signals: masks, dispositions, synchronous waiting.

use super::time::{Nanos, Timespec};
use super::{Errno, Result};
use syscalls::{syscall, Sysno};

pub const SIGHUP: i32 = 1;
pub const SIGKILL: i32 = 9;
pub const SIGPIPE: i32 = 13;
pub const SIGTERM: i32 = 15;
pub const SIGCHLD: i32 = 17;
pub const SIGCONT: i32 = 18;
pub const SIGSTOP: i32 = 19;
pub const SIGTSTP: i32 = 20;
pub const SIGTTIN: i32 = 21;
pub const SIGTTOU: i32 = 22;
/// Highest signal number (the last real-time signal).
pub const SIGMAX: i32 = 64;

/// A kernel signal set (64 signals, bit N-1 for signal N).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct SigSet(pub u64);

impl SigSet {
    pub const EMPTY: SigSet = SigSet(0);
    pub const FULL: SigSet = SigSet(!0);

    pub const fn of(sigs: &[i32]) -> SigSet {
        let (mut mask, mut i) = (0, 0);
        while i < sigs.len() {
            mask |= bit(sigs[i]);
            i += 1;
        }
        SigSet(mask)
    }

    pub fn contains(self, sig: i32) -> bool {
        self.0 & bit(sig) != 0
    }
}

const fn bit(sig: i32) -> u64 {
    if 1 <= sig && sig <= SIGMAX {
        1 << (sig - 1)
    } else {
        0
    }
}

const SIG_BLOCK: usize = 0;
const SIG_SETMASK: usize = 2;

fn sigprocmask(how: usize, set: SigSet) -> Result<SigSet> {
    let mut old = SigSet::EMPTY;
    // SAFETY: both sets are valid 8-byte kernel sigsets.
    unsafe {
        syscall!(
            Sysno::rt_sigprocmask,
            how,
            &set as *const SigSet,
            &mut old as *mut SigSet,
            8
        )
    }?;
    Ok(old)
}

/// Add `set` to the blocked signals; returns the previous mask.
pub fn block(set: SigSet) -> Result<SigSet> {
    sigprocmask(SIG_BLOCK, set)
}

/// Replace the blocked signals with `set`.
pub fn set_mask(set: SigSet) -> Result<()> {
    sigprocmask(SIG_SETMASK, set).map(drop)
}

/// A signal's disposition, as far as proctor cares: default or ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    Default,
    Ignore,
    Handler,
}

/// Kernel `struct sigaction` (x86_64 and aarch64 share this layout).
#[repr(C)]
#[derive(Default)]
struct KSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

const SIG_DFL: usize = 0;
const SIG_IGN: usize = 1;

/// The current disposition of `sig`.
pub fn disposition(sig: i32) -> Result<Disposition> {
    let mut old = KSigaction::default();
    // SAFETY: a null new action only reads the old one into a valid struct.
    unsafe { syscall!(Sysno::rt_sigaction, sig, 0, &mut old as *mut KSigaction, 8) }?;
    Ok(match old.handler {
        SIG_DFL => Disposition::Default,
        SIG_IGN => Disposition::Ignore,
        _ => Disposition::Handler,
    })
}

/// Set `sig` to its default action or to ignored.
pub fn set_disposition(sig: i32, d: Disposition) -> Result<()> {
    let handler = if d == Disposition::Ignore {
        SIG_IGN
    } else {
        SIG_DFL
    };
    let act = KSigaction {
        handler,
        ..Default::default()
    };
    // SAFETY: act is a valid struct sigaction with no handler function.
    unsafe { syscall!(Sysno::rt_sigaction, sig, &act as *const KSigaction, 0, 8) }.map(drop)
}

/// `si_code` of a signal sent by `sigqueue`.
pub const SI_QUEUE: i32 = -1;

/// What proctor reads of a `siginfo_t`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigInfo {
    pub signo: i32,
    /// `SI_USER`, `SI_QUEUE`, `SI_KERNEL`, a `CLD_*` code…
    pub code: i32,
    /// The sender; 0 when it is outside the receiver's PID namespace.
    pub pid: i32,
    /// `si_int`: the value a queued signal carries.
    pub value: i32,
}

/// Wait for one signal of `set` (which must be blocked). `None` when
/// `timeout` passed first; `Some(0)` when interrupted (`EINTR`), which the
/// caller treats like a spurious wake-up.
pub fn wait(set: SigSet, timeout: Option<Nanos>) -> Result<Option<i32>> {
    wait_info(set, timeout).map(|got| got.map(|info| info.signo))
}

/// [`wait`], with what the kernel says about the signal (signal number 0
/// when interrupted).
pub fn wait_info(set: SigSet, timeout: Option<Nanos>) -> Result<Option<SigInfo>> {
    // siginfo_t is 128 bytes: signo, errno, code, padding, then (for kill,
    // sigqueue and SIGCHLD alike) the sender's pid, its uid, and the value.
    let mut info = core::mem::MaybeUninit::<[i32; 32]>::uninit();
    let ts = timeout.map(Timespec::from_nanos);
    let tsp = ts
        .as_ref()
        .map_or(core::ptr::null(), |t| t as *const Timespec);
    // SAFETY: set and info are valid; tsp is null or a valid timespec.
    match unsafe {
        syscall!(
            Sysno::rt_sigtimedwait,
            &set as *const SigSet,
            info.as_mut_ptr(),
            tsp,
            8
        )
    } {
        Ok(_) => {
            // SAFETY: the kernel wrote the whole siginfo_t (it copies all
            // 128 bytes out); not zeroing it first saves code.
            let info = unsafe { info.assume_init() };
            Ok(Some(SigInfo {
                signo: info[0],
                code: info[2],
                pid: info[4],
                value: info[6],
            }))
        }
        Err(Errno::EAGAIN) => Ok(None),
        Err(Errno::EINTR) => Ok(Some(SigInfo::default())),
        Err(e) => Err(e),
    }
}

/// Queue `sig` with `value` to process `pid` (`rt_sigqueueinfo`, `SI_QUEUE`).
/// The receiver sees sender pid 0 when it is in a PID namespace below ours.
pub fn queue(pid: i32, sig: i32, value: i32) -> Result<()> {
    let mut info = [0i32; 32];
    info[0] = sig;
    info[2] = SI_QUEUE;
    info[6] = value;
    // SAFETY: info is a valid 128-byte siginfo_t.
    unsafe { syscall!(Sysno::rt_sigqueueinfo, pid, sig, info.as_ptr()) }.map(drop)
}
