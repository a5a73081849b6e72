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

use crate::args::Nanos;
use crate::mounts;
use crate::supervise;
use crate::sys::fs;
use crate::sys::process::{self, Exit, Pid, Usage};
use crate::sys::signal::{self, SigSet, SIGCHLD, SIGKILL, SI_QUEUE};
use crate::sys::{Errno, Fd};
use crate::Error;

/// Where proctor asks the inner init to deliver a signal (the value of a
/// queued signal): the command's process group, or the command alone.
const TO_GROUP: i32 = 1;
const TO_COMMAND: i32 = 2;

/// The pipe through which the inner init reports to proctor; made before the fork.
pub struct Link {
    read: Fd,
    write: Fd,
}

impl Link {
    pub fn new() -> Result<Link, Error> {
        let (read, write) = fs::pipe().map_err(|e| Error::sys("--pid-ns: pipe", e))?;
        Ok(Link { read, write })
    }

    /// proctor's side, once the inner init runs: the reading end alone, so
    /// that it reads end-of-file when the inner init has ended.
    pub fn into_reader(self) -> Reader {
        Reader(self.read)
    }
}

/// The inner init's settings, prepared before the fork.
pub struct Init<'a> {
    pub link: &'a Link,
    /// `-c`: plain signals go to the command alone, not to its group.
    pub single_child: bool,
    /// How long leftovers get to die (`--kill-after`).
    pub grace: Nanos,
}

/// Fork the inner init into a new PID namespace: `Ok(0)` in the inner init,
/// which then calls [`init`]; its pid in proctor.
pub fn fork_init() -> Result<Pid, Errno> {
    process::fork_into_new_pid_namespace()
}

/// The inner init (in the child of [`fork_init`]): mount `/proc`, fork
/// `command` as PID 2, supervise it, report, exit. Returns only when the
/// command could not be started (spawn's pipe, still open, then tells
/// proctor): what failed, an index in `mounts::PROC_MOUNTS` (one past its
/// end: the fork), and the errno.
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
        Err(e) => return (mounts::PROC_MOUNTS.len(), e),
    };
    // Keep only the report pipe (and 0, 1, 2): proctor then reads
    // end-of-file on spawn's pipe when the command's execve closes the last
    // copy, and nothing of proctor's stays open in the namespace.
    let report = cfg.link.write.raw();
    if report > 3 {
        let _ = fs::close_range(3, report as u32 - 1, false);
    }
    let _ = fs::close_range(report as u32 + 1, u32::MAX, false);
    let exit = supervise_command(pid, cfg.single_child);
    send(report, Message::Ended(exit));
    let leftovers = supervise::kill_leftovers(true, cfg.grace, None);
    let usage = process::children_usage();
    send(report, Message::Finished { leftovers, usage });
    process::exit(0)
}

/// PID 1's loop until the command ends: reap every child, forward every
/// signal. A signal proctor queued says where it goes; any other (a
/// `kill` from outside, or from inside: the command's own tree, which could
/// signal itself anyway) goes where proctor's own signals go.
fn supervise_command(pid: Pid, single_child: bool) -> Exit {
    loop {
        match signal::wait_info(SigSet::FULL, None) {
            Ok(Some(info)) if info.signo == SIGCHLD => {
                if let Some(exit) = supervise::reap(pid) {
                    return exit;
                }
            }
            Ok(Some(info)) if info.signo != 0 => {
                let alone = match (info.code, info.pid, info.value) {
                    (SI_QUEUE, 0, TO_GROUP) => false,
                    (SI_QUEUE, 0, TO_COMMAND) => true,
                    _ => single_child,
                };
                supervise::send(pid, info.signo, alone);
            }
            Ok(_) => {}
            // Cannot wait for signals any more: wait for the command alone.
            Err(_) => return process::wait_pid(pid).unwrap_or(Exit::Code(125)),
        }
    }
}

/// What the inner init tells proctor, one message per write (well under
/// `PIPE_BUF`, so each arrives whole), as [`WORDS`] words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Message {
    /// The command ended.
    Ended(Exit),
    /// The leftovers were killed and reaped: their count, and the rusage of
    /// everything the inner init reaped.
    Finished { leftovers: u32, usage: Usage },
}

/// Words of a message: a tag, then the fields.
const WORDS: usize = 5;

impl Message {
    fn to_words(self) -> [u64; WORDS] {
        match self {
            Message::Ended(Exit::Code(c)) => [1, 0, c as u64, 0, 0],
            Message::Ended(Exit::Signal(s)) => [1, 1, s as u64, 0, 0],
            Message::Finished { leftovers, usage } => [
                2,
                leftovers as u64,
                usage.user_us,
                usage.sys_us,
                usage.max_rss_kib,
            ],
        }
    }

    fn from_words(words: &[u64]) -> Option<Message> {
        Some(match *words {
            [1, 0, c, _, _] => Message::Ended(Exit::Code(c as u8)),
            [1, _, s, _, _] => Message::Ended(Exit::Signal(s as u8)),
            [2, leftovers, user_us, sys_us, max_rss_kib] => Message::Finished {
                leftovers: leftovers as u32,
                usage: Usage {
                    user_us,
                    sys_us,
                    max_rss_kib,
                },
            },
            _ => return None,
        })
    }
}

fn send(fd: i32, msg: Message) {
    // proctor gone: nobody to tell.
    let _ = fs::write_words(fd, &msg.to_words());
}

/// Send `sig` to the command through the inner init `init`: to the
/// command's process group, or with `alone` to the command only.
pub fn signal_command(init: Pid, sig: i32, alone: bool) {
    let to = if alone { TO_COMMAND } else { TO_GROUP };
    let _ = signal::queue(init, sig, to);
}

/// End the namespace: SIGKILL to the inner init, and the kernel kills
/// every process left in it.
pub fn kill_namespace(init: Pid) {
    let _ = process::kill(init, SIGKILL);
}

/// proctor's end of the report pipe.
pub struct Reader(Fd);

/// What the inner init reported: how the command ended (`None` when the
/// inner init was killed first, e.g. by the timeout's SIGKILL), how many
/// leftovers it killed, and the rusage of the command's whole tree.
#[derive(Clone, Copy, Debug, Default)]
pub struct Report {
    pub exit: Option<Exit>,
    pub leftovers: u32,
    pub usage: Option<Usage>,
}

impl Reader {
    /// Everything the inner init sent; call it once the inner init has been
    /// reaped, when the pipe is at end-of-file.
    pub fn read(&self) -> Report {
        let mut words = [0u64; 2 * WORDS];
        let mut got = 0;
        while let Some(rest) = words.get_mut(got..).filter(|r| !r.is_empty()) {
            match fs::read_words(self.0.raw(), rest) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        let mut report = Report::default();
        for msg in words.get(..got).unwrap_or_default().chunks_exact(WORDS) {
            match Message::from_words(msg) {
                Some(Message::Ended(exit)) => report.exit = Some(exit),
                Some(Message::Finished { leftovers, usage }) => {
                    report.leftovers = leftovers;
                    report.usage = Some(usage);
                }
                None => {}
            }
        }
        report
    }
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
        for msg in [
            Message::Ended(Exit::Code(0)),
            Message::Ended(Exit::Code(255)),
            Message::Ended(Exit::Signal(9)),
            Message::Finished {
                leftovers: 300,
                usage,
            },
        ] {
            assert_eq!(Message::from_words(&msg.to_words()), Some(msg));
        }
        assert_eq!(Message::from_words(&[0; WORDS]), None);
        assert_eq!(Message::from_words(&[1, 0, 3]), None, "cut short");
    }
}
