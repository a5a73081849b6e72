//! The command's cgroup (`--memory`, `--pids`, `--cpus`, `--cpu-time`,
//! `--cgroup`): found, created and limited before the fork, joined by the
//! command before its `execve`, polled for CPU time while it runs, killed
//! at once at the end, read for the report, and removed.
//!
//! cgroup v2 first: proctor moves itself into a leaf of its own (`proctor`)
//! so that its cgroup may hand controllers to the command's sibling
//! (`command`). On v1 and hybrid hosts, each of the `memory`, `pids`,
//! `cpu`, `cpuacct` and `freezer` hierarchies gets a child cgroup. Where
//! the cgroup filesystem is mounted read-only (Docker's default), proctor
//! opens its directories through a writable remount made in a throwaway
//! mount namespace, then goes back: the command never sees a writable one.
//! The filesystems are where systemd, Docker, Kubernetes and proctor's own
//! VM mode put them: cgroup2 at `/sys/fs/cgroup`, each v1 hierarchy below
//! it, named by its controller list (`memory`, `cpu,cpuacct`).

use crate::args::Resources;
use crate::err;
use crate::error::Error;
use crate::msg;
use crate::report::{TreeUsage, Verdict};
use crate::rt::num::parse_u64;
use crate::rt::pack::{Msg, Names};
use crate::supervise::{Ending, Watch};
use crate::sys::cgroup as sys;
use crate::sys::fs::{self, StackCStr, O_DIRECTORY, O_RDONLY, O_WRONLY};
use crate::sys::mount::{self, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REMOUNT};
use crate::sys::process::{self, Namespace, Pid};
use crate::sys::signal::{self, SigSet, SIGKILL};
use crate::sys::time::Nanos;
use crate::sys::{Errno, Fd};
use alloc::vec::Vec;
use core::ffi::CStr;

/// A set of controllers, as bits.
pub type Controllers = u8;
pub const MEMORY: Controllers = 1;
pub const PIDS: Controllers = 2;
pub const CPU: Controllers = 4;
/// CPU usage: v1's `cpuacct`; on v2 every cgroup has `cpu.stat`.
pub const CPUACCT: Controllers = 8;
/// The atomic kill: v1's `freezer`; on v2 every cgroup has `cgroup.kill`.
pub const FREEZER: Controllers = 16;
const NAMES: [&str; 5] = ["memory", "pids", "cpu", "cpuacct", "freezer"];
static PACKED_NAMES: Names<5> = crate::names!(NAMES);

/// The controllers used when present: the report's accounting and the kill.
const USEFUL: Controllers = MEMORY | PIDS | CPUACCT | FREEZER;

/// `--cpu-time` is checked at least this often.
pub const CPU_POLL: Nanos = 50_000_000;

/// The controllers the limits need; without them proctor refuses to run.
// Out of line: smaller so (measured).
#[inline(never)]
pub fn required(r: &Resources) -> Controllers {
    r.memory.is_some() as u8
        | (r.pids.is_some() as u8) << 1
        | (r.cpus_micro.is_some() as u8) << 2
        | (r.cpu_time.is_some() as u8) << 3
}

/// The controllers named in a list (comma-separated in `/proc/self/cgroup`,
/// space-separated in v2's control files).
fn controllers_of(list: &[u8]) -> Controllers {
    let names = list.split(|&b| matches!(b, b',' | b' ' | b'\n'));
    names.fold(0, |c, n| {
        let bit = PACKED_NAMES.position(n);
        c | bit.map_or(0, |i| 1 << i)
    })
}

/// One hierarchy of `/proc/self/cgroup` proctor will use: the controllers
/// it will use there (v2: all wanted), its controller list (the name of
/// its mount under `/sys/fs/cgroup`; empty for v2) and proctor's cgroup.
pub type Hierarchy<'a> = (Controllers, &'a [u8], &'a [u8]);

/// From the text of `/proc/self/cgroup`: the v1 hierarchies that hold any
/// of the `wanted` controllers, else the v2 one; the `None`s come last.
// Out of line: inlined into its one caller, it would cost more.
#[inline(never)]
pub fn hierarchies(text: &[u8], wanted: Controllers) -> [Option<Hierarchy<'_>>; 5] {
    let mut found = [None; 5];
    let (mut covered, mut n) = (0, 0);
    for line in text.split(|&b| b == b'\n') {
        let mut f = line.splitn(3, |&b| b == b':');
        let (Some(_), Some(list), Some(path)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let controllers = controllers_of(list) & wanted & !covered;
        if list.is_empty() {
            // v2, until a v1 hierarchy takes the first slot.
            if covered == 0 {
                found[0] = Some((wanted, list, path));
            }
        } else if controllers != 0 {
            if let Some(slot) = found.get_mut(n) {
                n += 1;
                covered |= controllers;
                *slot = Some((controllers, list, path));
            }
        }
    }
    found
}

/// One cgroup of the command (v2: the only one; v1: one per hierarchy).
struct Node {
    controllers: Controllers,
    /// proctor's own cgroup, which holds it.
    parent: Fd,
    dir: Fd,
    /// Where the child writes itself (`cgroup.procs`, v1 `tasks`), open
    /// for writing until the command is placed.
    join: Option<Fd>,
}

/// The command's cgroup, ready for the command.
#[derive(Default)]
pub struct Cgroup {
    v2: bool,
    /// Filled from the first slot on: the first `None` ends them.
    nodes: [Option<Node>; 5],
    /// v2, not PID 1: proctor's own cgroup, where it goes back at the end
    /// from its leaf, and the controllers it enabled there, to disable.
    leaf: Option<(Fd, Controllers)>,
    /// Not PID 1: proctor's pid, which names its cgroups (`command-PID`)
    /// beside other proctors'.
    pid: Option<Pid>,
    /// The CPU-usage file (`cpu.stat`, v1 `cpuacct.usage`), kept open for the polls.
    cpu_usage: Option<Fd>,
    /// `--cpu-time`, until it ran out and the tree was killed.
    cpu_limit: Option<Nanos>,
}

/// Find, create and limit the command's cgroup (order of work, step 4).
// Out of line: inlined into its one caller, it would cost more.
#[inline(never)]
pub fn setup(r: &Resources, is_pid1: bool) -> Result<Cgroup, Error> {
    let mut cg = Cgroup {
        pid: (!is_pid1).then(process::getpid),
        cpu_limit: r.cpu_time,
        ..Cgroup::default()
    };
    let mut doing = msg!("reading /proc/self/cgroup");
    let mut absent = 0;
    if let Err(e) = cg.build(r, is_pid1, &mut doing, &mut absent) {
        let error = match PACKED_NAMES.get(absent.trailing_zeros() as usize) {
            Some(name) => missing(name),
            None => Error::noted(msg!("cgroup"), Some(e), doing),
        };
        cg.remove();
        return Err(error);
    }
    Ok(cg)
}

/// The controller `name` is not there to use.
fn missing(name: &str) -> Error {
    err!(
        "cgroup",
        None,
        "no {} controller: not mounted, or not delegated to proctor's cgroup",
        name
    )
}

/// A cgroup's name: `command`/`proctor`, and `-PID` beside other proctors.
fn name(base: &[u8], pid: Option<Pid>) -> StackCStr {
    let mut name = StackCStr::default();
    // At most 19 bytes: it fits.
    let _ = name.push(base);
    if let Some(pid) = pid {
        let _ = name.push(b"-");
        let _ = name.push_decimal(pid as u64);
    }
    name
}

fn open_dir(dir: i32, path: &CStr) -> Result<Fd, Errno> {
    fs::openat(dir, path, O_RDONLY | O_DIRECTORY, 0)
}

/// Create the cgroup `base[-PID]` in `own` and open it.
fn make(own: &Fd, base: &[u8], pid: Option<Pid>) -> Result<Fd, Errno> {
    let (own, name) = (own.raw(), name(base, pid));
    mount::mkdir_at(own, name.c(), 0o755)?;
    open_dir(own, name.c())
}

impl Cgroup {
    /// Create the command's cgroups in proctor's own and limit them;
    /// `doing` says what failed, `absent` which controller was missing.
    fn build(
        &mut self,
        r: &Resources,
        is_pid1: bool,
        doing: &mut Msg,
        absent: &mut Controllers,
    ) -> Result<(), Errno> {
        let need = required(r);
        let mut buf = [0u8; 2048];
        let text = sys::read(fs::AT_FDCWD, c"/proc/self/cgroup", &mut buf)?;
        let found = hierarchies(text, need | USEFUL);
        // v2 is the one hierarchy with no controller list.
        let mut have = 0;
        for h in found.iter().map_while(Option::as_ref) {
            have |= h.0;
            self.v2 = h.1.is_empty();
        }
        *absent = need & !have;
        if *absent != 0 || have == 0 {
            *doing = msg!("no hierarchy in /proc/self/cgroup");
            return Err(Errno::ENOENT);
        }
        // proctor's mount namespace while it works in a throwaway one.
        let mut home = None;
        let mut built: Result<(), Errno> = Ok(());
        for (slot, h) in self.nodes.iter_mut().zip(&found) {
            let Some(h) = h else { break };
            built = (|| {
                *doing = msg!("opening proctor's cgroup");
                let own = own(h, &mut home, doing)?;
                let mut controllers = h.0;
                // Where the child writes itself. v1: `tasks`, which moves
                // only the writing thread (the child has no other) and so
                // skips the kernel's global threadgroup lock, whose first
                // writer after a quiet spell waits out an RCU grace period
                // (5-35 ms measured here).
                let mut file = c"tasks";
                if self.v2 {
                    *doing = msg!("moving proctor into its leaf");
                    controllers = enter_leaf(&own, need, is_pid1, absent, &mut self.leaf, doing)?;
                    file = c"cgroup.procs";
                }
                *doing = msg!("creating the command's cgroup");
                let dir = make(&own, b"command", self.pid)?;
                let join = fs::openat(dir.raw(), file, O_WRONLY, 0);
                // Kept even without the file it writes to, to be removed.
                let node = slot.insert(Node {
                    controllers,
                    parent: own,
                    dir,
                    join: None,
                });
                node.join = Some(join?);
                Ok(())
            })();
            if built.is_err() {
                break;
            }
        }
        if let Some(ns) = home {
            sys::enter_mount_namespace(ns.raw())?;
        }
        built?;
        *doing = msg!("writing the limits");
        self.limit(r)?;
        self.cpu_usage = self.node(CPUACCT).and_then(|n| {
            let file = if self.v2 {
                c"cpu.stat"
            } else {
                c"cpuacct.usage"
            };
            sys::open_read(n.dir.raw(), file).ok()
        });
        Ok(())
    }

    /// Write the limits.
    fn limit(&self, r: &Resources) -> Result<(), Errno> {
        let v2 = self.v2;
        if let Some(bytes) = r.memory {
            let (max, swap) = if v2 {
                (c"memory.max", c"memory.swap.max")
            } else {
                // memsw is memory + swap: equal to the limit, it allows no swap.
                (c"memory.limit_in_bytes", c"memory.memsw.limit_in_bytes")
            };
            self.set(MEMORY, max, bytes, false)?;
            // Without swap accounting there is no such file, and no swap to limit.
            match self.set(MEMORY, swap, if v2 { 0 } else { bytes }, false) {
                Err(Errno::ENOENT) => {}
                other => other?,
            }
        }
        if let Some(n) = r.pids {
            self.set(PIDS, c"pids.max", n, false)?;
        }
        if let Some(micro) = r.cpus_micro {
            // A quota per period of 100 ms: one CPU is 100,000 µs.
            let quota = micro / 10;
            if v2 {
                self.set(CPU, c"cpu.max", quota, true)?;
            } else {
                self.set(CPU, c"cpu.cfs_period_us", 100_000, false)?;
                self.set(CPU, c"cpu.cfs_quota_us", quota, false)?;
            }
        }
        Ok(())
    }

    fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().map_while(Option::as_ref)
    }

    fn node(&self, c: Controllers) -> Option<&Node> {
        self.nodes().find(|n| n.controllers & c != 0)
    }

    /// Write `value` to `file` of the cgroup of controller `c`; with
    /// `per_period` (v2's `cpu.max`: a quota), the period after it.
    fn set(&self, c: Controllers, file: &CStr, value: u64, per_period: bool) -> Result<(), Errno> {
        let mut text = StackCStr::default();
        text.push_decimal(value)?;
        if per_period {
            text.push(b" 100000")?;
        }
        let dir = self.node(c).map_or(-1, |n| n.dir.raw());
        sys::write(dir, file, text.bytes())
    }

    /// v2: the command's cgroup, for `clone3(CLONE_INTO_CGROUP)`.
    pub fn clone_into(&self) -> Option<i32> {
        self.nodes().next().filter(|_| self.v2).map(|n| n.dir.raw())
    }

    /// The files (`cgroup.procs`, v1 `tasks`) the child writes itself into
    /// before anything else.
    pub fn join_files(&self) -> impl Iterator<Item = i32> + '_ {
        self.nodes().filter_map(|n| n.join.as_ref().map(Fd::raw))
    }

    /// The command is in its cgroup: those files are no longer needed.
    pub fn placed(&mut self) {
        for n in self.nodes.iter_mut().map_while(Option::as_mut) {
            n.join = None;
        }
    }

    /// CPU time used by the whole tree so far.
    pub fn cpu_used(&self) -> Option<Nanos> {
        let fd = self.cpu_usage.as_ref()?.raw();
        match self.v2 {
            true => number(fd, b"usage_usec ")?.checked_mul(1000),
            false => number(fd, b""),
        }
    }

    /// Kill every process of the command's tree at once, those that left
    /// its session included (v2 `cgroup.kill`; v1: freeze, SIGKILL every
    /// member, thaw), adding those signalled to `killed` if given. Called
    /// again until [`Cgroup::is_empty`]: processes forked while a kill ran
    /// (v2 before 5.14, v1 without a freezer) are caught by the next one.
    pub fn kill(&self, mut killed: Option<&mut Vec<Pid>>) {
        let Some(node) = self.node(FREEZER).or(self.nodes().next()) else {
            return;
        };
        let dir = node.dir.raw();
        let frozen = !self.v2 && sys::write(dir, c"freezer.state", b"FROZEN").is_ok();
        // v1 freezes in the background: wait (a little) until it is done.
        for _ in 0..100 {
            let mut buf = [0u8; 16];
            let state = sys::read(dir, c"freezer.state", &mut buf);
            if !frozen || state.is_ok_and(|s| s.starts_with(b"FROZEN")) {
                break;
            }
            let _ = signal::wait(const { SigSet::of(&[]) }, Some(1_000_000));
        }
        let mut buf = [0u8; 4096];
        let text = sys::read(dir, c"cgroup.procs", &mut buf).unwrap_or_default();
        let all_at_once = self.v2 && sys::write(dir, c"cgroup.kill", b"1").is_ok();
        for pid in text.split(|&b| b == b'\n').filter_map(parse_u64) {
            let pid = pid as Pid;
            if !all_at_once {
                let _ = process::kill(pid, SIGKILL);
            }
            if let Some(killed) = killed.as_deref_mut() {
                crate::leftovers::note(killed, pid);
            }
        }
        if frozen {
            let _ = sys::write(dir, c"freezer.state", b"THAWED");
        }
    }

    /// Whether no process is left in the command's cgroup.
    pub fn is_empty(&self) -> bool {
        let mut buf = [0u8; 8];
        let dir = self.nodes().next().map_or(-1, |n| n.dir.raw());
        sys::read(dir, c"cgroup.procs", &mut buf).is_ok_and(|t| t.is_empty())
    }

    /// OOM kills in the command's cgroup so far.
    pub fn oom_kills(&self) -> Option<u64> {
        let file = if self.v2 {
            c"memory.events"
        } else {
            c"memory.oom_control"
        };
        self.read(MEMORY, file, b"oom_kill ")
    }

    /// The number after `key` in `file` of the cgroup of controller `c`.
    fn read(&self, c: Controllers, file: &CStr, key: &[u8]) -> Option<u64> {
        let fd = sys::open_read(self.node(c)?.dir.raw(), file).ok()?;
        number(fd.raw(), key)
    }

    /// The whole tree's accounting, for the report.
    pub fn usage(&self) -> TreeUsage {
        let peak = if self.v2 {
            c"memory.peak"
        } else {
            c"memory.max_usage_in_bytes"
        };
        TreeUsage {
            cpu_ms: self.cpu_used().map(|ns| ns / 1_000_000),
            memory_peak_kib: self.read(MEMORY, peak, b"").map(|b| b / 1024),
            oom_kills: self.oom_kills(),
            pids_peak: self.read(PIDS, c"pids.peak", b""),
        }
    }

    /// Remove the command's cgroups (their processes are gone); a
    /// subreaper on v2 also leaves its leaf for its own cgroup again and
    /// removes it (as PID 1, the container's cgroup goes with proctor).
    pub fn remove(self) {
        let command = name(b"command", self.pid);
        for n in self.nodes() {
            if sys::remove(n.parent.raw(), command.c()).is_err() {
                log!(Warning, "warning: cgroup: the command's cgroup stays");
            }
        }
        let Some((own, enabled)) = &self.leaf else {
            return;
        };
        let (own, enabled) = (own.raw(), *enabled);
        let leaf = name(b"proctor", Some(process::getpid()));
        let left = match enabled {
            0 => Ok(()),
            _ => subtree_control(own, b'-', enabled),
        }
        .and_then(|()| sys::write(own, c"cgroup.procs", b"0"))
        .and_then(|()| sys::remove(own, leaf.c()));
        if left.is_err() {
            log!(Verbose, "cgroup: proctor's own leaf stays");
        }
    }
}

/// Open proctor's own cgroup in hierarchy `h`: `/sys/fs/cgroup/[LIST]PATH`,
/// or the mount's root where PATH is not there (a container's view of
/// its own cgroup). A read-only cgroup filesystem is remounted writable
/// in a throwaway mount namespace (entered once; `home` is proctor's),
/// where the root is opened again: the descriptors keep the writable
/// mount after proctor went home, and no process ever sees it.
// Out of line: inlined into its one caller, it would cost more.
#[inline(never)]
fn own(h: &Hierarchy, home: &mut Option<Fd>, doing: &mut Msg) -> Result<Fd, Errno> {
    // The mount: `/sys/fs/cgroup/` for v2, `/sys/fs/cgroup/LIST` for a v1 hierarchy.
    let mut path = StackCStr::default();
    path.push(b"/sys/fs/cgroup/")?;
    path.push(h.1)?;
    let mut root = open_dir(fs::AT_FDCWD, path.c())?;
    if mount::mount_flags(root.raw())? & MS_RDONLY != 0 {
        *doing = msg!("read-only; a writable remount needs CAP_SYS_ADMIN");
        if home.is_none() {
            *home = Some(fs::open(c"/proc/self/ns/mnt", O_RDONLY)?);
            process::unshare(Namespace::Mount)?;
        }
        let flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC;
        mount::mount(c"none", path.c(), c"", flags, None)?;
        root = open_dir(fs::AT_FDCWD, path.c())?;
    }
    path.push(h.2)?;
    match open_dir(fs::AT_FDCWD, path.c()) {
        Err(Errno::ENOENT) => Ok(root),
        other => other,
    }
}

/// v2: move proctor into a leaf of its own cgroup `own` (a cgroup that
/// hands controllers to its children may hold no process), then enable the
/// controllers for the command's sibling; returns those it will have.
/// A subreaper notes in `leaf` what to undo at the end.
// Out of line: inlined into its one caller, it would cost more.
#[inline(never)]
fn enter_leaf(
    own: &Fd,
    need: Controllers,
    is_pid1: bool,
    absent: &mut Controllers,
    leaf: &mut Option<(Fd, Controllers)>,
    doing: &mut Msg,
) -> Result<Controllers, Errno> {
    let mut buf = [0u8; 256];
    let offered = controllers_of(sys::read(own.raw(), c"cgroup.controllers", &mut buf)?);
    *absent = need & !(offered | CPUACCT);
    if *absent != 0 {
        return Err(Errno::ENOENT);
    }
    let dir = make(own, b"proctor", (!is_pid1).then(process::getpid))?;
    sys::write(dir.raw(), c"cgroup.procs", b"0")?;
    // From here on, a subreaper that fails goes back and removes its leaf.
    if !is_pid1 {
        *leaf = Some((open_dir(own.raw(), c".")?, 0));
    }
    // Only what is not on yet: in the root cgroup (a VM) others use them too.
    let on = controllers_of(sys::read(own.raw(), c"cgroup.subtree_control", &mut buf)?);
    let enable = (need | MEMORY | PIDS) & offered & !on;
    if enable != 0 {
        if let Err(e) = subtree_control(own.raw(), b'+', enable) {
            if e == Errno::EBUSY {
                *doing = msg!("other processes share proctor's cgroup; give it one of its own");
            }
            return Err(e);
        }
    }
    if let Some((_, enabled)) = leaf {
        *enabled = enable;
    }
    // cpu.stat, cgroup.kill and cgroup.freeze are in every v2 cgroup.
    Ok(((need | MEMORY | PIDS) & offered) | CPUACCT | FREEZER)
}

/// Enable (`sign` `+`) or disable (`-`) the controllers `c` for the
/// children of the cgroup `dir`.
fn subtree_control(dir: i32, sign: u8, c: Controllers) -> Result<(), Errno> {
    let mut list = StackCStr::default();
    control_list(&mut list, sign, c);
    sys::write(dir, c"cgroup.subtree_control", list.bytes())
}

/// Append `+memory +pids +cpu ` (or `-…`) for `cgroup.subtree_control` to `out`.
fn control_list(out: &mut StackCStr, sign: u8, c: Controllers) {
    for i in 0..3 {
        if let Some(name) = PACKED_NAMES.get(i).filter(|_| c & (1 << i) != 0) {
            // At most 20 bytes: it fits.
            let _ = out.push(&[sign]);
            let _ = out.push(name.as_bytes());
            let _ = out.push(b" ");
        }
    }
}

/// The number after `key` in the open control file `fd` (see [`field`]).
fn number(fd: i32, key: &[u8]) -> Option<u64> {
    let mut buf = [0u8; 1024];
    field(sys::read_at_start(fd, &mut buf).ok()?, key)
}

/// The number after `key` (`name `, its space included) on a line of
/// `text`; with an empty key, the number on the first line.
fn field(text: &[u8], key: &[u8]) -> Option<u64> {
    text.split(|&b| b == b'\n')
        .find_map(|l| parse_u64(l.strip_prefix(key)?))
}

/// `--cpu-time`, polled at every wake-up of the supervision and at least
/// every [`CPU_POLL`]; the cgroup is killed when it runs out. On the
/// reference: its `dyn Watch` then drops nothing (no drop of a `Cgroup`
/// compiled for its vtable).
impl Watch for &mut Cgroup {
    /// How long supervision may sleep before the next check: every 50 ms,
    /// more often as the limit comes near; `None` without one.
    fn period(&self) -> Option<Nanos> {
        let limit = self.cpu_limit?;
        let left = limit.saturating_sub(self.cpu_used().unwrap_or(0));
        Some((left / 8).clamp(1_000_000, CPU_POLL))
    }

    /// At every wake-up: when `--cpu-time` ran out, kill the whole tree at
    /// once and say so (once).
    fn check(&mut self) -> Option<(Verdict, Ending)> {
        let limit = self.cpu_limit?;
        let exceeded = self.cpu_used().is_some_and(|used| used >= limit);
        if exceeded {
            self.cpu_limit = None;
            self.kill(None);
        }
        exceeded.then_some((Verdict::CpuTimeout, Ending::Done))
    }

    fn kill_tree(&mut self) {
        self.kill(None);
        // A moment for the killed to exit (without taking a signal from
        // supervision), so that none of the tree counts as left over.
        for _ in 0..100 {
            if self.is_empty() {
                break;
            }
            let _ = crate::sys::watch::poll(&mut [], Some(1_000_000));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;

    const HYBRID: &[u8] = b"9:name=systemd:/\n8:pids:/\n6:freezer:/\n4:memory:/process_api/6b1b\n2:cpuacct:/\n1:cpu:/\n0::/\n";

    fn found(text: &[u8], wanted: Controllers) -> std::vec::Vec<(Controllers, &str, &str)> {
        let s = |b| std::str::from_utf8(b).unwrap();
        let hs = hierarchies(text, wanted);
        hs.iter().flatten().map(|h| (h.0, s(h.1), s(h.2))).collect()
    }

    #[test]
    fn hybrid_host_uses_the_v1_hierarchies() {
        assert_eq!(
            found(HYBRID, USEFUL | CPU),
            [
                (PIDS, "pids", "/"),
                (FREEZER, "freezer", "/"),
                (MEMORY, "memory", "/process_api/6b1b"),
                (CPUACCT, "cpuacct", "/"),
                (CPU, "cpu", "/"),
            ]
        );
        // Without --cpus, the cpu hierarchy is left alone.
        assert_eq!(found(HYBRID, USEFUL).len(), 4);
    }

    #[test]
    fn comounted_hierarchies_and_pure_v2() {
        let docker = b"12:cpu,cpuacct:/docker/abc\n5:memory:/docker/abc\n0::/\n";
        assert_eq!(
            found(docker, USEFUL | CPU),
            [
                (CPU | CPUACCT, "cpu,cpuacct", "/docker/abc"),
                (MEMORY, "memory", "/docker/abc")
            ]
        );
        assert_eq!(found(b"0::/\n", USEFUL), [(USEFUL, "", "/")]);
        assert_eq!(
            found(b"0::/\n5:memory:/m\n", USEFUL),
            [(MEMORY, "memory", "/m")]
        );
        assert_eq!(found(b"0::/a:b\n", MEMORY), [(MEMORY, "", "/a:b")]);
        assert_eq!(found(b"", USEFUL), []);
    }

    #[test]
    fn names_numbers_and_files() {
        let r = Resources {
            memory: Some(1),
            cpu_time: Some(1),
            ..Resources::default()
        };
        assert_eq!(required(&r), MEMORY | CPUACCT);
        let list = |sign, c| {
            let mut out = StackCStr::default();
            control_list(&mut out, sign, c);
            out
        };
        assert_eq!(
            list(b'+', MEMORY | PIDS | CPU | FREEZER).bytes(),
            b"+memory +pids +cpu "
        );
        assert_eq!(list(b'-', PIDS).bytes(), b"-pids ");
        assert_eq!(name(b"command", None).c(), c"command");
        assert_eq!(name(b"proctor", Some(4194304)).c(), c"proctor-4194304");
        let mut n = StackCStr::default();
        n.push_decimal(0).unwrap();
        n.push_decimal(u64::MAX).unwrap();
        assert_eq!(n.bytes(), b"018446744073709551615");
        assert_eq!(
            field(b"usage_usec 1500\nuser_usec 3\n", b"usage_usec "),
            Some(1500)
        );
        assert_eq!(
            field(
                b"oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
                b"oom_kill "
            ),
            Some(2)
        );
        assert_eq!(field(b"123\n", b""), Some(123));
        assert_eq!(
            missing("pids").text(),
            b"cgroup: no pids controller: not mounted, or not delegated to proctor's cgroup"
        );
    }
}
