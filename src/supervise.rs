//! Step 6 of the order of work: the parent's loop while the command runs.
//!
//! Every signal stays blocked; one `ppoll` sleeps on the signalfd and on
//! the descriptors of the [`Watch`]es (output pipes, for instance), or,
//! with no descriptor to watch, one `rt_sigtimedwait` (no signalfd: what an
//! option adds costs nothing when it is absent). At every
//! wake-up, whatever woke proctor, every deadline (`--timeout`,
//! `--kill-after`, each watch's own) is checked first, and each wake-up
//! handles a bounded number of signals: neither a flood of signals nor one
//! of output can starve a deadline. Signals are forwarded to the command's
//! process group; on SIGCHLD every ended child is reaped.

use crate::msg;
use crate::pidns;
use crate::report::Verdict;
use crate::rt::pack::Msg;
use crate::signals::Signals;
use crate::sys::process::{self, Exit, Pid};
use crate::sys::signal::{self, SigSet, SIGCHLD, SIGCONT, SIGKILL, SIGTERM};
use crate::sys::time::{monotonic, Nanos};
use crate::sys::watch::{self, PollFd, SigInfo};
use crate::sys::Errno;

/// How the command ended.
#[derive(Clone, Copy, Debug)]
pub struct Ended {
    pub exit: Exit,
    /// The limit that ended it, if one did (the first to trip).
    pub verdict: Option<Verdict>,
    /// From the command's `execve` to its end.
    pub wall: Nanos,
}

/// The command under supervision.
#[derive(Clone, Copy, Debug)]
pub struct Command<'a> {
    pub pid: Pid,
    /// When its `execve` succeeded (monotonic).
    pub started: Nanos,
    /// `-c`: signals go to the command only, not to its process group.
    pub single_child: bool,
    /// `-r S:R`: a received S is forwarded as R, or dropped when R is 0.
    pub rewrite: &'a [(u8, u8)],
    /// `--pid-ns`: `pid` is the inner init, which reports the command's end
    /// on this pipe; signals go to the command through it.
    pub inner_init: Option<i32>,
}

/// Where forwarded signals go: the command, or (`--pid-ns`) the command
/// through the inner init `pid`.
#[derive(Clone, Copy, Debug)]
struct Target {
    pid: Pid,
    inner_init: bool,
}

/// How to end a command that tripped a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// SIGTERM (and SIGCONT, for a stopped command) to its process group,
    /// SIGKILL `--kill-after` later: as `--timeout`.
    Graceful,
    /// SIGKILL to its process group at once.
    Kill,
    /// The watch has ended it itself (a cgroup's kill): only the verdict.
    Done,
}

/// Something else supervision watches, checked at every wake-up: a limit
/// with a descriptor to wait on, a period of its own, or both.
pub trait Watch {
    /// A descriptor to wait on until it is readable or hung up; negative: none.
    fn fd(&self) -> i32 {
        -1
    }

    /// What to wait for: by default [`Watch::fd`] readable (the output
    /// carrier waits for a destination to take bytes again instead).
    fn poll(&self) -> PollFd {
        PollFd::readable(self.fd())
    }

    /// The longest sleep before [`Watch::check`] must run again; `None`: no period.
    fn period(&self) -> Option<Nanos> {
        None
    }

    /// A limit ends the command with [`Ending::Kill`]: kill its whole tree
    /// at once, if this watch can (a cgroup), beside the group's SIGKILL.
    fn kill_tree(&mut self) {}

    /// The descriptor is ready (readable, hung up or in error).
    fn ready(&mut self) -> Option<(Verdict, Ending)> {
        None
    }

    /// Called at every wake-up, whatever woke proctor.
    fn check(&mut self) -> Option<(Verdict, Ending)> {
        None
    }
}

/// Only the first this many watches have their descriptor polled (output
/// carries two pipes); the periods and checks of all of them run.
pub const MAX_WATCH_FDS: usize = 4;

/// Supervise `cmd` until it ends. With a descriptor to poll (a watch's, the
/// inner init's) it sleeps in `ppoll` beside the signalfd; without one,
/// in `rt_sigtimedwait`, and no signalfd is opened.
pub fn supervise(
    cmd: Command,
    signals: &mut Signals,
    timeout: Option<Nanos>,
    kill_after: Nanos,
    watches: &mut [&mut dyn Watch],
) -> Ended {
    let mut limits = Limits {
        to: Target {
            pid: cmd.pid,
            inner_init: cmd.inner_init.is_some(),
        },
        kill_after,
        verdict: None,
        deadline: timeout.map(|t| cmd.started.saturating_add(t)),
        terminating: false,
    };
    // Unused entries keep descriptor -1, which ppoll skips.
    let mut polls = [PollFd::readable(-1); 2 + MAX_WATCH_FDS];
    let mut inner_init = cmd.inner_init.unwrap_or(-1);
    let signalfd = if inner_init >= 0 || watches.iter().any(|w| !w.poll().is_unused()) {
        signals.fd()
    } else {
        Ok(-1)
    };
    // Where each wake-up's signals are read.
    let mut buf = [SigInfo::EMPTY; 16];
    let exit = 'supervising: loop {
        let signalfd = match signalfd {
            Ok(fd) => fd,
            Err(e) => break fall_back(cmd.pid, e),
        };
        // The clock is read only when a deadline needs it: while there is
        // one, and when a limit trips (which may set one).
        let mut now = if limits.deadline.is_some() {
            monotonic()
        } else {
            0
        };
        limits.check(now);
        // The earliest of the periods and the deadline; none: until woken.
        let mut sleep = Nanos::MAX;
        for w in watches.iter_mut() {
            if let Some((verdict, ending)) = w.check() {
                now = monotonic();
                limits.end(verdict, ending, now);
            }
            sleep = sleep.min(w.period().unwrap_or(Nanos::MAX));
        }
        if let Some(at) = limits.deadline {
            sleep = sleep.min(at.saturating_sub(now));
        }
        let sleep = (sleep < Nanos::MAX).then_some(sleep);
        let [signal_poll, init_poll, watched @ ..] = &mut polls;
        *signal_poll = PollFd::readable(signalfd);
        *init_poll = PollFd::readable(inner_init);
        for (p, w) in watched.iter_mut().zip(watches.iter()) {
            *p = w.poll();
        }
        // One batch per wake-up: the deadlines come again before the next one.
        let waited = if signalfd < 0 {
            wait_signal(sleep, &mut buf)
        } else {
            poll_signals(&mut polls, sleep, &mut buf)
        };
        let sigs = match waited {
            Ok(sigs) => sigs,
            Err(e) => break fall_back(cmd.pid, e),
        };
        let [_, init_poll, watched @ ..] = &polls;
        for sig in sigs.iter().map(SigInfo::signal) {
            if sig != SIGCHLD {
                if let Some(sig) = rewritten(sig, cmd.rewrite) {
                    forward(limits.to, sig, cmd.single_child);
                }
            } else if let Some(exit) = reap(cmd.pid) {
                break 'supervising exit;
            }
        }
        // --pid-ns: the inner init says when the command has ended.
        if init_poll.ready() {
            match pidns::ended(inner_init) {
                Some(exit) => break exit,
                // Gone without a word (killed): its SIGCHLD tells.
                None => inner_init = -1,
            }
        }
        let mut tripped = None;
        for (p, w) in watched.iter().zip(watches.iter_mut()) {
            if p.ready() {
                tripped = w.ready().or(tripped);
            }
        }
        if let Some((verdict, ending)) = tripped {
            if ending == Ending::Kill {
                // The whole tree at once, those that left the group included.
                watches.iter_mut().for_each(|w| w.kill_tree());
            }
            limits.end(verdict, ending, monotonic());
        }
    };
    Ended {
        exit,
        verdict: limits.verdict,
        wall: monotonic().saturating_sub(cmd.started),
    }
}

/// Sleep in `ppoll` on `polls` (the signalfd first) until one is ready or
/// `sleep` passes; the signals then pending, read at once.
fn poll_signals<'b>(
    polls: &mut [PollFd],
    sleep: Option<Nanos>,
    buf: &'b mut [SigInfo],
) -> Result<&'b [SigInfo], Errno> {
    watch::poll(polls, sleep)?;
    match polls.first() {
        Some(signals) if signals.ready() => watch::read_signals(signals.raw(), buf),
        _ => Ok(&[]),
    }
}

/// Nothing but signals to wait for: sleep in `rt_sigtimedwait` until one
/// comes or `sleep` passes; one signal a wake-up.
fn wait_signal(sleep: Option<Nanos>, buf: &mut [SigInfo]) -> Result<&[SigInfo], Errno> {
    let n = match (signal::wait(SigSet::FULL, sleep)?, buf.first_mut()) {
        (Some(sig), Some(slot)) if sig > 0 => {
            slot.set_signal(sig);
            1
        }
        _ => 0,
    };
    Ok(buf.get(..n).unwrap_or_default())
}

/// The deadlines of the command's ending.
struct Limits {
    to: Target,
    kill_after: Nanos,
    /// The first limit that tripped.
    verdict: Option<Verdict>,
    /// Until the command is ending, `--timeout` (SIGTERM then); after
    /// the SIGTERM, `--kill-after` past it (SIGKILL then).
    deadline: Option<Nanos>,
    /// SIGTERM (or SIGKILL) was sent.
    terminating: bool,
}

impl Limits {
    /// Act on the deadline if it has passed.
    fn check(&mut self, now: Nanos) {
        let passed = |l: &Limits| l.deadline.is_some_and(|t| now >= t);
        if !self.terminating && passed(self) {
            self.end(Verdict::Timeout, Ending::Graceful, now);
        }
        // Also right after that SIGTERM, with `--kill-after 0`.
        if self.terminating && passed(self) {
            self.deadline = None;
            self.send(
                self.verdict.map_or(msg!("limit"), reason),
                SIGKILL,
                msg!("SIGKILL"),
            );
        }
    }

    /// Say why, and send `sig` (named `name`) to the command's process group.
    fn send(&self, why: Msg, sig: i32, name: Msg) {
        log!(
            Warning,
            "{}: sending {} to the command's process group",
            why,
            name
        );
        forward(self.to, sig, false);
    }

    /// End the command for `verdict`; the first limit to trip gives the
    /// verdict, a later one can only hasten the ending.
    fn end(&mut self, verdict: Verdict, ending: Ending, now: Nanos) {
        self.verdict.get_or_insert(verdict);
        match ending {
            Ending::Graceful => {
                if !self.terminating {
                    self.terminating = true;
                    self.send(reason(verdict), SIGTERM, msg!("SIGTERM"));
                    // A stopped command could not act on SIGTERM (coreutils timeout does the same).
                    forward(self.to, SIGCONT, false);
                    self.deadline = Some(now.saturating_add(self.kill_after));
                }
            }
            Ending::Kill => {
                self.terminating = true;
                self.deadline = Some(now);
                self.check(now);
            }
            Ending::Done => {}
        }
    }
}

/// A verdict as log lines name it.
fn reason(verdict: Verdict) -> Msg {
    match verdict {
        Verdict::Timeout => msg!("timeout"),
        Verdict::CpuTimeout => msg!("cpu time"),
        Verdict::MemoryLimit => msg!("memory limit"),
        Verdict::OutputLimit => msg!("output limit"),
    }
}

/// Signals can no longer be read: wait for the command alone, as the
/// last resort of an init that must still report how it ended.
fn fall_back(pid: Pid, e: Errno) -> Exit {
    log!(
        Warning,
        "error: supervision: {}: waiting for the command alone",
        crate::error::ErrnoName(e)
    );
    process::wait_pid(pid).unwrap_or(Exit::Code(125))
}

/// dumb-init's `-r`: the signal to forward for a received `sig`, `None` to drop it.
fn rewritten(sig: i32, rewrite: &[(u8, u8)]) -> Option<i32> {
    let to = match rewrite.iter().find(|&&(from, _)| i32::from(from) == sig) {
        Some(&(_, to)) => i32::from(to),
        None => sig,
    };
    (to != 0).then_some(to)
}

/// Forward `sig` to the command's process group (or to the command
/// alone); with `--pid-ns` through the inner init.
fn forward(to: Target, sig: i32, single_child: bool) {
    if to.inner_init {
        pidns::signal_command(to.pid, sig, single_child);
    } else {
        send(to.pid, sig, single_child);
    }
    log!(
        Debug,
        "forwarded signal {} to {}{}",
        sig,
        if single_child {
            msg!("")
        } else {
            msg!("group ")
        },
        to.pid
    );
}

/// Send `sig` to the process group of `pid` (or to `pid` alone). Before
/// the child's `setsid` its group does not exist yet: fall back to it.
pub fn send(pid: Pid, sig: i32, alone: bool) {
    let sent = if alone {
        process::kill(pid, sig)
    } else {
        process::kill_process_group(pid, sig)
    };
    if sent == Err(Errno::ESRCH) && !alone {
        let _ = process::kill(pid, sig);
    }
}

/// Reap every ended child; the exit of `command` when it was among them.
/// The loop runs until no ended child remains, so coalesced SIGCHLDs lose
/// nothing.
pub fn reap(command: Pid) -> Option<Exit> {
    let mut main = None;
    while let Ok(Some((p, exit))) = process::reap_any() {
        crate::log::reaped(p, p == command);
        if p == command {
            main = Some(exit);
        }
    }
    main
}

#[cfg(test)]
mod tests {
    use super::rewritten;

    #[test]
    fn rewrite_maps_drops_and_passes_through() {
        let table = [(15, 3), (1, 0)];
        assert_eq!(rewritten(15, &table), Some(3));
        assert_eq!(rewritten(1, &table), None);
        assert_eq!(rewritten(10, &table), Some(10));
        assert_eq!(rewritten(10, &[]), Some(10));
    }
}
