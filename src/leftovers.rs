//! Step 7 of the order of work: when the command has ended, SIGKILL
//! everything it left behind and reap it, within `--kill-after`, so that a
//! process stuck in uninterruptible sleep cannot hold proctor forever.
//!
//! As PID 1 of a namespace, `kill(-1)` reaches exactly the namespace. Never
//! elsewhere: there, every descendant found in `/proc` is stopped, then
//! killed, pass after pass until one finds none.

use crate::cgroup::Cgroup;
use crate::rt::num::parse_u64;
use crate::rt::vec::push;
use crate::sys::cgroup::read as read_file;
use crate::sys::fs;
use crate::sys::process::{self, Pid};
use crate::sys::signal::{self, SigSet, SIGCHLD, SIGKILL, SIGSTOP};
use crate::sys::time::{monotonic, Nanos};
use crate::sys::Errno;
use alloc::vec::Vec;

/// However short `--kill-after`, leftovers get this long to be killed, die
/// and be reaped (and counted): with no time at all, a subreaper would kill
/// nothing and PID 1 would count nothing.
const MIN_GRACE: Nanos = 1_000_000_000;

/// Kill and reap everything the command left behind, within `grace` for
/// processes that will not die (uninterruptible sleep): with a cgroup, all
/// of its members at once first. Returns how many processes were killed.
pub fn kill(is_pid1: bool, grace: Nanos, cgroup: Option<&Cgroup>) -> u32 {
    // Without any child left (and no cgroup), as PID 1 or subreaper,
    // nothing is left: the common case, done without a clock.
    if !reap_ended() && cgroup.is_none() {
        return 0;
    }
    let deadline = deadline(grace);
    let mut killed = cgroup.map_or(0, |cg| kill_cgroup(cg, deadline));
    // Without any child left, as PID 1 or subreaper, nothing is left.
    if process::reap_any() != Err(Errno::ECHILD) {
        killed += if is_pid1 {
            let _ = process::kill_all_in_namespace(SIGKILL);
            reap_until(deadline, -1)
        } else {
            kill_descendants(deadline)
        };
    }
    if killed > 0 {
        log!(Verbose, "killed {} leftover process(es)", killed);
    }
    killed
}

/// Reap every child that has ended (none is the command any more);
/// whether any child is left.
fn reap_ended() -> bool {
    loop {
        match process::reap_any() {
            Ok(Some((p, _))) => crate::log::reaped(p, false),
            Ok(None) => return true,
            Err(e) => return e != Errno::ECHILD,
        }
    }
}

/// Give the killed a moment (1 ms, or until a child ends) to become
/// zombies, and reap them.
fn reap_after_a_moment() {
    let _ = signal::wait(const { SigSet::of(&[SIGCHLD]) }, Some(1_000_000));
    let _ = reap_ended();
}

/// When the leftovers of a run with `--kill-after` `grace` must be gone.
pub fn deadline(grace: Nanos) -> Nanos {
    monotonic().saturating_add(grace.max(MIN_GRACE))
}

/// Kill every member of the command's cgroup at once, until it is empty
/// or the deadline passes; returns how many were killed.
pub fn kill_cgroup(cg: &Cgroup, deadline: Nanos) -> u32 {
    let mut pids = Vec::new();
    while !cg.is_empty() && monotonic() < deadline {
        cg.kill(Some(&mut pids));
        reap_after_a_moment();
    }
    let _ = reap_ended();
    pids.len() as u32
}

/// Reap the child `who` (-1: every child) until it is gone or the
/// deadline passes; returns how many others than `who` were reaped.
pub fn reap_until(deadline: Nanos, who: Pid) -> u32 {
    let mut n = 0;
    loop {
        match process::reap(who) {
            Ok(Some((p, _))) if who == -1 => {
                crate::log::reaped(p, false);
                n += 1;
            }
            Ok(None) => {
                let now = monotonic();
                if now >= deadline {
                    log!(Warning, "warning: leftover processes did not die in time");
                    return n;
                }
                let _ = signal::wait(const { SigSet::of(&[SIGCHLD]) }, Some(deadline - now));
            }
            _ => return n,
        }
    }
}

/// As a subreaper: kill every descendant, pass after pass, until a whole
/// pass finds none. Each pass first reads proctor's own children — where
/// every orphan lands — and kills them at once: a chain that forks and lets
/// its parent exit to get a new pid is caught between two forks (a kill
/// that arrives during a fork aborts it). Then the deeper descendants,
/// found in `/proc`, are stopped first, so that a fork bomb cannot outrun
/// the scan, and killed.
fn kill_descendants(deadline: Nanos) -> u32 {
    let me = process::getpid();
    let mut killed: Vec<Pid> = Vec::new();
    loop {
        let mut found = false;
        for_each_child(|p| {
            found = true;
            if process::kill(p, SIGKILL).is_ok() {
                note(&mut killed, p);
            }
        });
        let victims = descendants(me);
        for &p in &victims {
            let _ = process::kill(p, SIGSTOP);
        }
        for &p in &victims {
            if process::kill(p, SIGKILL).is_ok() {
                note(&mut killed, p);
            }
        }
        if !found && victims.is_empty() {
            break;
        }
        if monotonic() >= deadline {
            break; // count_reaped_until says so
        }
        reap_after_a_moment();
    }
    reap_until(deadline, -1);
    killed.len() as u32
}

/// Count `pid` among the `killed` (once). Out of memory, the count may
/// fall short; the kill itself never does.
#[inline(never)]
pub fn note(killed: &mut Vec<Pid>, pid: Pid) {
    if !killed.contains(&pid) {
        let _ = push(killed, pid);
    }
}

/// Call `f` with each pid in proctor's own children list (its only thread's:
/// `/proc/thread-self/children`, Linux 3.17+ with CONFIG_PROC_CHILDREN;
/// without it, the `/proc` scan alone finds them). Children that have
/// ended but are not reaped yet are among them.
fn for_each_child(mut f: impl FnMut(Pid)) {
    // "pid pid … ": a number cut at the end of the buffer is left for the next pass.
    let mut buf = [0u8; 4096];
    let children = read_file(fs::AT_FDCWD, c"/proc/thread-self/children", &mut buf);
    let mut rest = children.unwrap_or_default();
    while let Some(end) = fs::position(rest, b' ') {
        if let Some(pid) = rest.get(..end).and_then(parse_u64) {
            f(pid as Pid);
        }
        rest = rest.get(end + 1..).unwrap_or_default();
    }
}

/// Live (non-zombie) descendants of `root`, from `/proc/*/stat`; out of
/// memory, those found so far (the caller scans again until none is left).
fn descendants(root: Pid) -> Vec<Pid> {
    let all = processes();
    let mut found: Vec<Pid> = Vec::new();
    let mut frontier: Vec<Pid> = Vec::new();
    let _ = push(&mut frontier, root);
    'scan: while let Some(parent) = frontier.pop() {
        for &(pid, _, state) in all.iter().filter(|p| p.1 == parent) {
            // A zombie is no victim, but the scan goes on below it.
            let victim = state != b'Z';
            if !found.contains(&pid)
                && ((victim && push(&mut found, pid).is_err()) || push(&mut frontier, pid).is_err())
            {
                break 'scan;
            }
        }
    }
    found
}

/// (pid, ppid, state) of every process in `/proc`.
// Not inlined: smaller so (measured).
#[inline(never)]
fn processes() -> Vec<(Pid, Pid, u8)> {
    let mut out = Vec::new();
    let Ok(proc) = fs::open(c"/proc", fs::O_RDONLY | fs::O_DIRECTORY) else {
        log!(
            Warning,
            "warning: /proc is not mounted: leftover processes cannot be found"
        );
        return out;
    };
    let mut buf = [0u8; 2048];
    // Out of memory, the processes found so far.
    'read: while let Ok(n @ 1..) = fs::getdents(proc.raw(), &mut buf) {
        for name in fs::dirents(buf.get(..n).unwrap_or_default()) {
            let entry = stat_of(proc.raw(), name);
            if entry.is_some_and(|e| push(&mut out, e).is_err()) {
                break 'read;
            }
        }
    }
    out
}

/// Parse `/proc/<name>/stat`: "pid (comm) S ppid …".
fn stat_of(proc: i32, name: &[u8]) -> Option<(Pid, Pid, u8)> {
    let pid = parse_u64(name)? as Pid;
    let mut path = fs::StackCStr::default();
    path.push(name).ok()?;
    path.push(b"/stat").ok()?;
    let mut buf = [0u8; 512];
    let text = read_file(proc, path.c(), &mut buf).ok()?;
    // After the command's name: ") S PPID ", S one letter.
    let close = text.iter().rposition(|&b| b == b')')?;
    let state = *text.get(close + 2)?;
    let ppid = text.get(close + 4..)?;
    let ppid = parse_u64(ppid.get(..fs::position(ppid, b' ')?)?)? as Pid;
    Some((pid, ppid, state))
}
