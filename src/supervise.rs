//! The parent's loop while the command runs: forward signals, reap every
//! child, enforce `--timeout`; then kill and reap what the command left.

use crate::args::Nanos;
use crate::cgroup::Cgroup;
use crate::error::push;
use crate::{log, pidns};
use crate::sys::fs;
use crate::sys::process::{self, Exit, Pid};
use crate::sys::signal::{self, SigSet, SIGCHLD, SIGCONT, SIGKILL, SIGSTOP, SIGTERM};
use crate::sys::time::monotonic;
use crate::sys::Errno;
use alloc::vec::Vec;

/// How the command ended.
#[derive(Clone, Copy, Debug)]
pub struct Ended {
    pub exit: Exit,
    pub timed_out: bool,
    /// `--cpu-time` ran out and the command's cgroup was killed.
    pub cpu_timed_out: bool,
    /// From the command's `execve` to its end.
    pub wall: Nanos,
}

/// What proctor supervises: the command, or (`--pid-ns`) the inner init
/// that runs it as PID 2 of its namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Child {
    Command(Pid),
    InnerInit(Pid),
}

impl Child {
    fn pid(self) -> Pid {
        match self {
            Child::Command(pid) | Child::InnerInit(pid) => pid,
        }
    }

    /// Send `sig` to the command's group, or with `alone` to the command only.
    fn signal(self, sig: i32, alone: bool) {
        match (self, sig) {
            (Child::Command(pid), _) => send(pid, sig, alone),
            // The end of the inner init is the end of everything in the namespace.
            (Child::InnerInit(init), SIGKILL) => pidns::kill_namespace(init),
            (Child::InnerInit(init), _) => pidns::signal_command(init, sig, alone),
        }
        log!(
            log::DEBUG,
            "forwarded signal {} to {}{}",
            sig,
            if alone { "" } else { "group " },
            self.pid()
        );
    }
}

/// Supervise `child`, the command started at `started` (monotonic), until
/// it ends (with `--pid-ns`: until the inner init ends); with a cgroup,
/// `--cpu-time` is checked at every wake-up and at least every
/// [`crate::cgroup::CPU_POLL`].
#[inline(never)]
pub fn supervise(
    child: Child,
    single_child: bool,
    timeout: Option<Nanos>,
    kill_after: Nanos,
    started: Nanos,
    mut cgroup: Option<&mut Cgroup>,
) -> Ended {
    let mut deadline = timeout.map(|t| started.saturating_add(t));
    let mut timed_out = false;
    let mut cpu_timed_out = false;
    loop {
        let mut sleep = deadline.map(|d| d.saturating_sub(monotonic()));
        if let Some(cg) = cgroup.as_deref_mut() {
            cpu_timed_out |= cg.check_cpu_time();
            sleep = match (sleep, cg.poll_interval()) {
                (Some(s), Some(p)) => Some(s.min(p)),
                (s, p) => s.or(p),
            };
        }
        let exit = match signal::wait(SigSet::FULL, sleep) {
            Ok(Some(SIGCHLD)) => reap(child.pid()),
            Ok(Some(0)) => None,
            Ok(Some(sig)) => {
                child.signal(sig, single_child);
                None
            }
            // A --cpu-time poll, or a deadline passed while the tree was killed.
            Ok(None) if cpu_timed_out || deadline.is_none_or(|d| monotonic() < d) => None,
            Ok(None) if !timed_out => {
                timed_out = true;
                log!(
                    log::NORMAL,
                    "timeout: sending SIGTERM to the command's process group"
                );
                child.signal(SIGTERM, false);
                // A stopped command could not act on SIGTERM (coreutils timeout does the same).
                child.signal(SIGCONT, false);
                deadline = Some(monotonic().saturating_add(kill_after));
                None
            }
            Ok(None) => {
                log!(
                    log::NORMAL,
                    "timeout: sending SIGKILL to the command's process group"
                );
                child.signal(SIGKILL, false);
                deadline = None;
                None
            }
            Err(e) => {
                // Cannot wait for signals any more: fall back to waiting for the command alone.
                log!(
                    log::NORMAL,
                    "error: rt_sigtimedwait: {}",
                    crate::error::ErrnoName(e)
                );
                Some(process::wait_pid(child.pid()).unwrap_or(Exit::Code(125)))
            }
        };
        if let Some(exit) = exit {
            return Ended {
                exit,
                timed_out,
                cpu_timed_out,
                wall: monotonic().saturating_sub(started),
            };
        }
    }
}

/// Send `sig` to the process group of `pid` (or to `pid` alone). Before
/// the child's `setsid` its group does not exist yet: fall back to it.
pub fn send(pid: Pid, sig: i32, alone: bool) {
    let sent = if alone {
        process::kill(pid, sig)
    } else {
        process::kill(-pid, sig)
    };
    if sent == Err(Errno::ESRCH) && !alone {
        let _ = process::kill(pid, sig);
    }
}

/// Reap every ended child; the command's exit when it was among them. The
/// loop runs until no ended child remains, so coalesced SIGCHLDs lose nothing.
pub fn reap(pid: Pid) -> Option<Exit> {
    let mut main = None;
    while let Ok(Some((p, exit))) = process::reap_any() {
        log!(log::DEBUG, "reaped pid {}", p);
        if p == pid {
            main = Some(exit);
        }
    }
    main
}

/// However short `--kill-after`, leftovers get this long to be killed, die
/// and be reaped (and counted): with no time at all, a subreaper would kill
/// nothing and PID 1 would count nothing.
const MIN_GRACE: Nanos = 1_000_000_000;

/// Kill and reap everything the command left behind, within `grace` for
/// processes that will not die (uninterruptible sleep): with a cgroup, all
/// of its members at once first. Returns how many processes were killed.
#[inline(never)]
pub fn kill_leftovers(is_pid1: bool, grace: Nanos, cgroup: Option<&Cgroup>) -> u32 {
    let deadline = monotonic().saturating_add(grace.max(MIN_GRACE));
    let _ = reap(0);
    let mut killed = 0;
    if let Some(cg) = cgroup {
        let mut pids = Vec::new();
        while !cg.is_empty() && monotonic() < deadline {
            cg.kill(&mut pids);
            let _ = signal::wait(SigSet::of(&[SIGCHLD]), Some(1_000_000));
            let _ = reap(0);
        }
        let _ = reap(0);
        killed = pids.len() as u32;
    }
    // Without any child left, as PID 1 or subreaper, nothing is left.
    if process::reap_any() != Err(Errno::ECHILD) {
        killed += if is_pid1 {
            let _ = process::kill(-1, SIGKILL);
            count_reaped_until(deadline)
        } else {
            kill_descendants(deadline)
        };
    }
    if killed > 0 {
        log!(log::VERBOSE, "killed {} leftover process(es)", killed);
    }
    killed
}

/// Reap until no child is left or the deadline passes; returns the count.
fn count_reaped_until(deadline: Nanos) -> u32 {
    let mut n = 0;
    loop {
        match process::reap_any() {
            Ok(Some((p, _))) => {
                log!(log::DEBUG, "reaped leftover pid {}", p);
                n += 1;
            }
            Ok(None) => {
                let now = monotonic();
                if now >= deadline {
                    log!(
                        log::NORMAL,
                        "warning: leftover processes did not die in time"
                    );
                    return n;
                }
                let _ = signal::wait(SigSet::of(&[SIGCHLD]), Some(deadline - now));
            }
            Err(_) => return n,
        }
    }
}

/// As a subreaper: stop, then kill, every descendant found in `/proc`,
/// until none is left (orphans of killed processes come back to us).
fn kill_descendants(deadline: Nanos) -> u32 {
    let me = process::getpid();
    let mut killed: Vec<Pid> = Vec::new();
    while monotonic() < deadline {
        let victims = descendants(me);
        if victims.is_empty() {
            break;
        }
        // Stopped processes cannot fork: a fork bomb cannot outrun the scan.
        for &p in &victims {
            let _ = process::kill(p, SIGSTOP);
        }
        for &p in &victims {
            // Out of memory, the count may fall short; the kill itself never does.
            if process::kill(p, SIGKILL).is_ok() && !killed.contains(&p) {
                let _ = push(&mut killed, p);
            }
        }
        // Give the killed a moment to become zombies before the next scan.
        let _ = signal::wait(SigSet::of(&[SIGCHLD]), Some(1_000_000));
        let _ = reap(0);
    }
    count_reaped_until(deadline);
    killed.len() as u32
}

/// Live (non-zombie) descendants of `root`, from `/proc/*/stat`; out of
/// memory, those found so far (the caller scans again until none is left).
fn descendants(root: Pid) -> Vec<Pid> {
    let all = processes();
    let mut found: Vec<Pid> = Vec::new();
    let mut frontier: Vec<Pid> = Vec::new();
    let _ = push(&mut frontier, root);
    'scan: while let Some(parent) = frontier.pop() {
        for &(pid, _, _) in all.iter().filter(|p| p.1 == parent) {
            if !found.contains(&pid)
                && (push(&mut found, pid).is_err() || push(&mut frontier, pid).is_err())
            {
                break 'scan;
            }
        }
    }
    found.retain(|p| all.iter().any(|&(q, _, state)| q == *p && state != b'Z'));
    found
}

/// (pid, ppid, state) of every process in `/proc`.
fn processes() -> Vec<(Pid, Pid, u8)> {
    let mut out = Vec::new();
    let Ok(proc) = fs::open(c"/proc", fs::O_RDONLY | fs::O_DIRECTORY) else {
        log!(
            log::NORMAL,
            "warning: /proc is not mounted: leftover processes cannot be found"
        );
        return out;
    };
    let mut buf = [0u8; 2048];
    while let Ok(n) = fs::getdents(proc.raw(), &mut buf) {
        if n == 0 {
            break;
        }
        for name in fs::dirents(buf.get(..n).unwrap_or_default()) {
            if let Some(entry) = stat_of(proc.raw(), name) {
                if push(&mut out, entry).is_err() {
                    return out;
                }
            }
        }
    }
    out
}

/// Parse `/proc/<name>/stat`: "pid (comm) S ppid …".
fn stat_of(proc: i32, name: &[u8]) -> Option<(Pid, Pid, u8)> {
    let pid = crate::args::parse_u64(name)? as Pid;
    let mut path = [0u8; 32];
    let tail = b"/stat\0";
    let len = name.len() + tail.len();
    path.get_mut(..name.len())?.copy_from_slice(name);
    path.get_mut(name.len()..len)?.copy_from_slice(tail);
    let path = core::ffi::CStr::from_bytes_with_nul(path.get(..len)?).ok()?;
    let fd = fs::openat(proc, path, fs::O_RDONLY, 0).ok()?;
    let mut buf = [0u8; 512];
    let n = fs::read(fd.raw(), &mut buf).ok()?;
    let text = buf.get(..n)?;
    let close = text.iter().rposition(|&b| b == b')')?;
    let mut fields = text.get(close + 2..)?.split(|&b| b == b' ');
    let state = *fields.next()?.first()?;
    let ppid = crate::args::parse_u64(fields.next()?)? as Pid;
    Some((pid, ppid, state))
}

/// Order of work, step 2: block every catchable signal so none is lost
/// (returns the inherited mask, for the child), make sure SIGCHLD is not
/// ignored (the kernel would reap for us and lose the status), and become
/// a child subreaper when not PID 1.
pub fn prepare(is_pid1: bool) -> Result<SigSet, crate::Error> {
    let inherited =
        signal::block(SigSet::FULL).map_err(|e| crate::Error::sys("block signals", e))?;
    if signal::disposition(SIGCHLD) == Ok(signal::Disposition::Ignore) {
        signal::set_disposition(SIGCHLD, signal::Disposition::Default)
            .map_err(|e| crate::Error::sys("reset SIGCHLD", e))?;
    }
    if !is_pid1 {
        if let Err(e) = process::prctl(process::PR_SET_CHILD_SUBREAPER, 1, 0) {
            log!(
                log::VERBOSE,
                "cannot become a subreaper ({}): orphans go to the real init",
                crate::error::ErrnoName(e)
            );
        }
    }
    Ok(inherited)
}
