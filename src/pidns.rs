//! `--pid-ns`: the command in a PID namespace of its own (SPEC: PID namespace).
//!
//! proctor forks an inner init with `clone(CLONE_NEWPID)`: PID 1 of the new
//! namespace, proctor's own code (no exec), allocating nothing. It mounts
//! `/proc` afresh for the namespace, with the kernel's knobs read-only
//! ([`mounts::mount_proc`]), forks the command as PID 2 (which runs spawn's
//! child plan and reports a failed step through spawn's pipe, as without
//! `--pid-ns`), and then keeps PID 1's duties: it reaps every orphan and
//! forwards the signals it gets to the command's process group (or, with
//! `-c`, to the command alone). When the command has ended, it sends its
//! status up the report pipe ([`Link`]), kills and reaps what is left, sends
//! their count and the rusage of the whole tree, and exits. Its end ends the
//! namespace: the kernel kills whatever is still in it, so proctor's SIGKILL
//! to the inner init (the timeout's last step, or proctor's own death by
//! `PR_SET_PDEATHSIG`) is an atomic cleanup.
//!
//! The command cannot see, signal or trace proctor: proctor has no pid in
//! the namespace. The inner init, the one process of proctor's it can see,
//! is protected by the kernel as any namespace init is (SIGKILL and SIGSTOP
//! from inside are ignored) and is not dumpable (`/proc/1/fd`, `environ`).
//!
//! The inner init mounts `/proc` in proctor's own private mount namespace:
//! from then on, proctor's `/proc` is the namespace's, where proctor itself
//! has no entry (`/proc/self` does not resolve). Nothing in proctor reads
//! `/proc` once the command runs: with `--pid-ns` there is no leftover scan.

use crate::args::Config;
use crate::error::Error;
use crate::msg;
use crate::sys::fs;
use crate::sys::process::{self, Exit, Pid, Usage};
use crate::sys::signal::{self, SigSet, SIGCHLD, SIGKILL, SI_QUEUE};
use crate::sys::time::{monotonic, Nanos};
use crate::sys::watch::{self, PollFd};
use crate::sys::{Errno, Fd};
use crate::{leftovers, mounts, supervise};

/// proctor's requests to the inner init are signals it queues with a
/// value: this mark, the bit `ALONE` (to the command alone, not its group),
/// and the bit `KILL`: SIGKILL, which cannot be queued for someone else to
/// pass on, is asked for with [`KILL_CARRIER`] (real-time, so it is never
/// merged with a pending signal of the same number).
const MARK: i32 = 0x7072_0000;
const ALONE: i32 = 1;
const KILL: i32 = 2;
const KILL_CARRIER: i32 = signal::SIGMAX;

/// The inner init's settings and the pipe through which it reports to
/// proctor, prepared before the fork.
pub struct Init {
    read: Fd,
    write: Fd,
    /// `-c`: plain signals go to the command alone, not to its group.
    single_child: bool,
    /// How long leftovers get to die (`--kill-after`).
    grace: Nanos,
}

impl Init {
    /// With `--pid-ns`, everything the inner init will need.
    pub fn plan(cfg: &Config) -> Result<Option<Init>, Error> {
        if !cfg.pid_ns {
            return Ok(None);
        }
        let (read, write) = fs::pipe().map_err(|e| Error::sys(msg!("pipe"), e))?;
        Ok(Some(Init {
            read,
            write,
            single_child: cfg.single_child,
            grace: cfg.kill_after,
        }))
    }

    /// proctor's side, once the inner init runs: the reading end alone, so
    /// that it reads end-of-file when the inner init has ended.
    pub fn into_reader(self) -> Reader {
        Reader(self.read)
    }
}

/// Fork the inner init into a new PID namespace: `Ok(0)` in the inner init,
/// which then calls [`init`]; its pid in proctor.
pub fn fork_init() -> Result<Pid, Errno> {
    process::fork_into_new_pid_namespace()
}

/// The inner init (in the child of [`fork_init`]): mount `/proc`, fork
/// `command` as PID 2, supervise it, report, exit. Returns only when the
/// command could not be started (spawn's pipe, still open, then tells
/// proctor): what failed, the index of a `mounts::proc_mount` (`usize::MAX`
/// for the fork), and the errno.
pub fn init(cfg: &Init, command: impl FnOnce()) -> (usize, Errno) {
    // Should proctor die (killed from outside), the namespace dies with it.
    let _ = process::prctl(process::PR_SET_PDEATHSIG, SIGKILL as usize, 0);
    if let Err(failed) = mounts::mount_proc() {
        return failed;
    }
    let pid = match process::fork() {
        Ok(0) => {
            command(); // runs the child plan, which never returns
            process::exit(125)
        }
        Ok(pid) => pid,
        Err(e) => return (usize::MAX, e),
    };
    // Keep only the report pipe (and 0, 1, 2): proctor then reads
    // end-of-file on spawn's pipe when the command's execve closes the last
    // copy, and nothing of proctor's stays open in the namespace.
    let report = cfg.write.raw();
    if report > 3 {
        let _ = fs::close_range(3, report as u32 - 1, false);
    }
    let _ = fs::close_range(report as u32 + 1, u32::MAX, false);
    let exit = supervise_command(pid, cfg.single_child);
    send(report, ended_words(exit));
    let leftovers = leftovers::kill(true, cfg.grace, None);
    let usage = process::children_usage();
    let finished = [
        FINISHED,
        leftovers as u64,
        usage.user_us,
        usage.sys_us,
        usage.max_rss_kib,
    ];
    send(report, finished);
    process::exit(0)
}

/// PID 1's loop until the command ends: reap every child, forward every
/// signal. A signal proctor queued says where it goes; any other (a
/// `kill` from outside, or from inside: the command's own tree, which could
/// signal itself anyway) goes where proctor's own signals go.
// Inlined into its one caller: smaller so (measured).
#[inline(always)]
fn supervise_command(pid: Pid, single_child: bool) -> Exit {
    loop {
        match signal::wait_info(SigSet::FULL, None) {
            Ok(Some(info)) if info.signo == SIGCHLD => {
                if let Some(exit) = supervise::reap(pid) {
                    return exit;
                }
            }
            Ok(Some(info)) if info.signo != 0 => {
                let asked = info.code == SI_QUEUE && info.pid == 0 && info.value & !3 == MARK;
                let (sig, alone) = match (asked, info.value) {
                    (false, _) => (info.signo, single_child),
                    (true, v) if v & KILL != 0 => (SIGKILL, v & ALONE != 0),
                    (true, v) => (info.signo, v & ALONE != 0),
                };
                supervise::send(pid, sig, alone);
            }
            Ok(_) => {}
            // Cannot wait for signals any more: wait for the command alone.
            Err(_) => return process::wait_pid(pid).unwrap_or(Exit::Code(125)),
        }
    }
}

/// What the inner init tells proctor, one message per write (well under
/// `PIPE_BUF`, so each arrives whole), as [`WORDS`] words: a tag, then the
/// fields. [`ENDED`]: the command ended, by its code (0) or a signal (1),
/// and the number. [`FINISHED`]: the leftovers were killed and reaped, their
/// count, and the rusage of everything the inner init reaped (user µs,
/// system µs, max RSS KiB).
const WORDS: usize = 5;
const ENDED: u64 = 1;
const FINISHED: u64 = 2;

fn ended_words(exit: Exit) -> [u64; WORDS] {
    let (kind, n) = match exit {
        Exit::Code(c) => (0, c),
        Exit::Signal(s) => (1, s),
    };
    [ENDED, kind, n as u64, 0, 0]
}

/// Take one message's `words` into `report`; an unknown one is ignored.
fn read_message(words: &[u64], report: &mut Report) {
    match *words {
        [ENDED, kind, n, _, _] => {
            let n = n as u8;
            report.exit = Some(if kind == 0 {
                Exit::Code(n)
            } else {
                Exit::Signal(n)
            });
        }
        [FINISHED, leftovers, user_us, sys_us, max_rss_kib] => {
            report.leftovers = leftovers as u32;
            report.usage = Some(Usage {
                user_us,
                sys_us,
                max_rss_kib,
            });
        }
        _ => {}
    }
}

fn send(fd: i32, words: [u64; WORDS]) {
    // proctor gone: nobody to tell.
    let _ = fs::write_words(fd, &words);
}

/// Send `sig` to the command through the inner init `init`: to the
/// command's process group, or with `alone` to the command only.
pub fn signal_command(init: Pid, sig: i32, alone: bool) {
    let value = MARK | if alone { ALONE } else { 0 };
    let _ = match sig {
        SIGKILL => signal::queue(init, KILL_CARRIER, value | KILL),
        _ => signal::queue(init, sig, value),
    };
}

/// End the namespace: SIGKILL to the inner init, and the kernel kills
/// every process left in it. Only once the command has ended (the
/// timeout's SIGKILL goes through the inner init, as SIGTERM does): the
/// kernel reaps the processes of a dying namespace without accounting,
/// so the command's CPU time and RSS would be lost with it.
fn kill_namespace(init: Pid) {
    let _ = process::kill(init, SIGKILL);
}

/// proctor's end of the report pipe.
pub struct Reader(Fd);

/// What the inner init reported: how the command ended (`None` when the
/// inner init was killed first, e.g. by the timeout's SIGKILL, or when
/// supervision already read it), how many leftovers it killed, and the
/// rusage of the command's whole tree.
#[derive(Clone, Copy, Debug, Default)]
pub struct Report {
    pub exit: Option<Exit>,
    pub leftovers: u32,
    pub usage: Option<Usage>,
}

impl Reader {
    /// The descriptor to poll: readable when the command has ended (or the
    /// inner init is gone).
    pub fn fd(&self) -> i32 {
        self.0.raw()
    }
}

/// Read what is ready on the report pipe `fd` into `report`, at most
/// `words.len() / WORDS` messages (each arrives whole); false at its end.
fn receive(fd: i32, words: &mut [u64], report: &mut Report) -> bool {
    let n = match fs::read_words(fd, words) {
        Ok(0) | Err(_) => return false,
        Ok(n) => n,
    };
    for msg in words.get(..n).unwrap_or_default().chunks_exact(WORDS) {
        read_message(msg, report);
    }
    true
}

/// Supervision: the report pipe `fd` is readable. `Some` with the command's
/// exit when that is what the inner init said; `None` when the pipe has
/// ended without it (the inner init is gone: its SIGCHLD will tell).
// Not inlined into supervision: 0.1 KiB smaller so (measured).
#[inline(never)]
pub fn ended(fd: i32) -> Option<Exit> {
    let mut report = Report::default();
    // One message: what follows it is for `finish`.
    receive(fd, &mut [0; WORDS], &mut report);
    report.exit
}

/// After supervision: wait, within `grace`, for the inner init `init` to
/// report the leftovers it killed; then end the namespace (SIGKILL to the
/// inner init, which has exited or is stuck) and reap it. Until then
/// proctor must not look for leftovers itself: its `/proc` is the
/// namespace's, whose pids mean other processes in proctor's namespace.
// Out of line: inlined into run, it would cost more (measured).
#[inline(never)]
pub fn finish(reader: Reader, init: Pid, grace: Nanos) -> Report {
    let deadline = leftovers::deadline(grace);
    let mut report = Report::default();
    let mut words = [0; 2 * WORDS];
    loop {
        let mut poll = [PollFd::readable(reader.fd())];
        let left = deadline.saturating_sub(monotonic());
        let ready = watch::poll(&mut poll, Some(left)).is_ok() && poll[0].ready();
        if left == 0 || !ready || !receive(reader.fd(), &mut words, &mut report) {
            break;
        }
        if report.usage.is_some() {
            break; // the last message: the inner init is exiting
        }
    }
    kill_namespace(init);
    // The inner init alone: other children (PID 1 of a container adopts
    // strangers) must not hold proctor until the deadline.
    leftovers::reap_until(deadline, init);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let usage = Usage {
            user_us: 1_234_567,
            sys_us: 89,
            max_rss_kib: 32_768,
        };
        for exit in [Exit::Code(0), Exit::Code(255), Exit::Signal(9)] {
            let mut report = Report::default();
            read_message(&ended_words(exit), &mut report);
            assert_eq!(report.exit, Some(exit));
            assert_eq!(report.usage, None);
        }
        let mut report = Report::default();
        read_message(&[FINISHED, 300, 1_234_567, 89, 32_768], &mut report);
        assert_eq!(
            (report.exit, report.leftovers, report.usage),
            (None, 300, Some(usage))
        );
        read_message(&[0; WORDS], &mut report);
        read_message(&[ENDED, 0, 3], &mut report); // cut short
        assert_eq!(report.exit, None);
    }
}
