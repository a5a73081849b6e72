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

use crate::args::{Nanos, Resources};
use crate::error::{push, Error, Show};
use crate::report::TreeUsage;
use crate::sys::cgroup as sys;
use crate::sys::fs::{self, O_DIRECTORY, O_RDONLY, O_WRONLY};
use crate::sys::mount::{self, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REMOUNT};
use crate::sys::process::{self, Namespace, Pid};
use crate::sys::signal::{self, SigSet, SIGKILL};
use crate::sys::{Errno, Fd};
use crate::{err, log};
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

/// The controllers used when present: the report's accounting and the kill.
const USEFUL: Controllers = MEMORY | PIDS | CPUACCT | FREEZER;

/// `--cpu-time` is checked at least this often.
pub const CPU_POLL: Nanos = 50_000_000;

/// Where the cgroup filesystems are mounted (systemd, Docker, Kubernetes,
/// and proctor itself in a VM): cgroup2 there, or each v1 hierarchy below
/// it, named by its controller list (`memory`, `cpu,cpuacct`).
const ROOT: &[u8] = b"/sys/fs/cgroup";

/// The controllers the limits need; without them proctor refuses to run.
pub fn required(r: &Resources) -> Controllers {
    [r.memory, r.pids, r.cpus_micro, r.cpu_time]
        .iter()
        .zip([MEMORY, PIDS, CPU, CPUACCT])
        .fold(0, |c, (v, bit)| if v.is_some() { c | bit } else { c })
}

/// The controllers named in a list (comma-separated in `/proc/self/cgroup`,
/// space-separated in v2's control files).
fn controllers_of(list: &[u8]) -> Controllers {
    let names = list.split(|&b| matches!(b, b',' | b' ' | b'\n'));
    names.fold(0, |c, n| {
        let bit = NAMES.iter().position(|name| name.as_bytes() == n);
        c | bit.map_or(0, |i| 1 << i)
    })
}

/// One hierarchy of `/proc/self/cgroup` proctor will use.
#[derive(Debug, PartialEq, Eq)]
pub struct Hierarchy<'a> {
    /// The controllers proctor will use in it (v2: those wanted).
    pub controllers: Controllers,
    /// Its controller list: the name of its mount under `/sys/fs/cgroup`; empty for v2.
    pub list: &'a [u8],
    /// proctor's cgroup in it.
    pub path: &'a [u8],
}

/// From the text of `/proc/self/cgroup`: the v1 hierarchies that hold any
/// of the `wanted` controllers, else the v2 one.
#[inline(never)]
pub fn hierarchies(text: &[u8], wanted: Controllers) -> Result<Vec<Hierarchy<'_>>, Error> {
    let mut v1 = Vec::new();
    let mut v2 = None;
    let mut covered = 0;
    for line in text.split(|&b| b == b'\n') {
        let mut f = line.splitn(3, |&b| b == b':');
        let (Some(_), Some(list), Some(path)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let controllers = controllers_of(list) & wanted & !covered;
        let h = Hierarchy {
            controllers,
            list,
            path,
        };
        if list.is_empty() {
            v2 = Some(Hierarchy {
                controllers: wanted,
                ..h
            });
        } else if controllers != 0 {
            covered |= controllers;
            push(&mut v1, h)?;
        }
    }
    if v1.is_empty() {
        let h = v2.ok_or_else(|| err!("cgroup", None, "the kernel has no cgroup"))?;
        push(&mut v1, h)?;
    }
    Ok(v1)
}

/// One cgroup of the command (v2: the only one; v1: one per hierarchy).
struct Node {
    controllers: Controllers,
    /// proctor's own cgroup, which holds it.
    parent: Fd,
    dir: Fd,
    /// Its `cgroup.procs`, open for writing until the command is placed.
    procs: Option<Fd>,
}

/// The command's cgroup, ready for the command.
pub struct Cgroup {
    v2: bool,
    nodes: Vec<Node>,
    /// v2, not PID 1: the controllers proctor enabled in its own cgroup
    /// after moving into its leaf, to undo at the end.
    leaf: Option<Controllers>,
    /// `command`, or `command-PID` beside other proctors (not PID 1).
    name: Name,
    /// The CPU-usage file (`cpu.stat`, v1 `cpuacct.usage`), kept open for the polls.
    cpu_usage: Option<Fd>,
    cpu_limit: Option<Nanos>,
    /// `--cpu-time` ran out and the tree was killed.
    cpu_exceeded: bool,
}

/// Find, create and limit the command's cgroup (order of work, step 4).
#[inline(never)]
pub fn setup(r: &Resources, is_pid1: bool) -> Result<Cgroup, Error> {
    let need = required(r);
    let mut buf = [0u8; 2048];
    let text = sys::read(fs::AT_FDCWD, c"/proc/self/cgroup", &mut buf)
        .map_err(|e| fail(e, b"reading /proc/self/cgroup"))?;
    let found = hierarchies(text, need | USEFUL)?;
    let v2 = found.first().is_some_and(|h| h.list.is_empty());
    if !v2 {
        let have = found.iter().fold(0, |c, h| c | h.controllers);
        missing(need & !have, "cgroup v1: no", "hierarchy")?;
    }
    let suffix = (!is_pid1).then(process::getpid);
    let mut cg = Cgroup {
        v2,
        nodes: Vec::new(),
        leaf: None,
        name: Name::new(b"command", suffix),
        cpu_usage: None,
        cpu_limit: r.cpu_time,
        cpu_exceeded: false,
    };
    match cg.build(&found, r, suffix) {
        Ok(()) => Ok(cg),
        Err(e) => {
            cg.remove();
            Err(e)
        }
    }
}

/// Refuse when `absent` names any controller.
#[inline(never)]
fn missing(absent: Controllers, before: &str, after: &str) -> Result<(), Error> {
    match NAMES.get(absent.trailing_zeros() as usize) {
        Some(name) => Err(err!("cgroup", None, "{} {} {}", before, *name, after)),
        None => Ok(()),
    }
}

/// A failed cgroup step: `cgroup: WHAT: ERRNO`.
#[inline(never)]
fn fail(e: Errno, what: &[u8]) -> Error {
    err!("cgroup", Some(e), "{}", Show(what))
}

/// A cgroup's name: `command`/`proctor`, and `-PID` beside other proctors.
#[derive(Clone, Copy)]
struct Name {
    buf: [u8; 24],
}

impl Name {
    fn new(base: &[u8; 7], pid: Option<Pid>) -> Name {
        let mut buf = [0u8; 24];
        for (slot, &b) in buf.iter_mut().zip(base) {
            *slot = b;
        }
        if let Some(pid) = pid {
            buf[7] = b'-';
            let mut digits = [0u8; 24];
            let n = decimal(pid as u64, &mut digits).len();
            for (slot, &d) in buf.iter_mut().skip(8).zip(digits.iter().take(n)) {
                *slot = d;
            }
        }
        Name { buf }
    }

    fn c(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.buf).unwrap_or(c"")
    }
}

/// `n` in decimal, at the start of `buf`.
fn decimal(n: u64, buf: &mut [u8; 24]) -> &[u8] {
    let mut unit = core::num::NonZeroU64::MIN;
    while let Some(next) = unit.checked_mul(core::num::NonZeroU64::new(10).unwrap_or(unit)) {
        if n / unit < 10 {
            break;
        }
        unit = next;
    }
    let mut len = 0;
    for slot in buf.iter_mut() {
        *slot = b'0' + (n / unit % 10) as u8;
        len += 1;
        match core::num::NonZeroU64::new(unit.get() / 10) {
            Some(u) => unit = u,
            None => break,
        }
    }
    buf.get(..len).unwrap_or_default()
}

/// A path built in place, NUL-terminated.
struct Path {
    buf: [u8; 512],
    len: usize,
}

impl Path {
    fn push(&mut self, part: &[u8]) -> Result<(), Errno> {
        let end = self.len + part.len();
        let room = self.buf.get_mut(self.len..end).filter(|_| end < 512);
        for (slot, &b) in room.ok_or(Errno::ENAMETOOLONG)?.iter_mut().zip(part) {
            *slot = b;
        }
        self.len = end;
        Ok(())
    }

    fn c(&mut self, len: usize) -> &CStr {
        self.len = len.min(511);
        self.buf[self.len] = 0;
        CStr::from_bytes_until_nul(&self.buf).unwrap_or(c"")
    }
}

/// proctor's own cgroup in one hierarchy: `/sys/fs/cgroup[/LIST]PATH`, the
/// length of its mount point's part, and its directory.
struct Own {
    path: Path,
    mount_len: usize,
    fd: Fd,
}

impl Own {
    /// Where PATH is not there, the mount's root is proctor's cgroup: a
    /// container's view of its own cgroup.
    #[inline(never)]
    fn open(h: &Hierarchy) -> Result<Own, Error> {
        let mut path = Path {
            buf: [0; 512],
            len: 0,
        };
        let built = path.push(ROOT).and_then(|()| match h.list {
            [] => Ok(()),
            list => path.push(b"/").and_then(|()| path.push(list)),
        });
        let mount_len = path.len;
        built
            .and_then(|()| path.push(h.path))
            .map_err(|e| fail(e, h.path))?;
        let full = path.len;
        let fd = match fs::open(path.c(full), O_RDONLY | O_DIRECTORY) {
            Err(Errno::ENOENT) => fs::open(path.c(mount_len), O_RDONLY | O_DIRECTORY),
            other => other,
        };
        let fd = fd.map_err(|e| fail(e, &path.buf[..path.len.min(511)]))?;
        Ok(Own {
            path,
            mount_len,
            fd,
        })
    }
}

/// Open proctor's own cgroup directories. A read-only cgroup filesystem is
/// remounted writable in a mount namespace of its own, the directories are
/// opened again there, and proctor goes back to its namespace: the
/// descriptors keep the writable mount, and no process ever sees it.
#[inline(never)]
fn open_own(found: &[Hierarchy]) -> Result<Vec<Own>, Error> {
    let mut owns = Vec::new();
    for h in found {
        push(&mut owns, Own::open(h)?)?;
    }
    let read_only = |o: &Own| mount::mount_flags(o.fd.raw()).is_ok_and(|f| f & MS_RDONLY != 0);
    if !owns.iter().any(read_only) {
        return Ok(owns);
    }
    const RO: &[u8] =
        b"the cgroup filesystem is read-only, and remounting it writable needs CAP_SYS_ADMIN";
    let home = fs::open(c"/proc/self/ns/mnt", O_RDONLY).map_err(|e| fail(e, RO))?;
    process::unshare(Namespace::Mount).map_err(|e| fail(e, RO))?;
    for o in owns.iter_mut() {
        let dir = o.path.len;
        if read_only(o) {
            let flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC;
            mount::mount(c"none", o.path.c(o.mount_len), c"", flags, None)
                .map_err(|e| fail(e, RO))?;
        }
        o.fd = fs::open(o.path.c(dir), O_RDONLY | O_DIRECTORY).map_err(|e| fail(e, RO))?;
    }
    sys::enter_mount_namespace(home.raw()).map_err(|e| fail(e, b"setns"))?;
    Ok(owns)
}

/// Create the cgroup `name` in `own` and open it; a stale empty one (from a
/// proctor that was killed) is removed first.
#[inline(never)]
fn make(own: &Fd, name: Name) -> Result<Fd, Error> {
    let name = name.c();
    let created = match mount::mkdir_at(own.raw(), name, 0o755) {
        Err(Errno::EEXIST) => {
            sys::remove(own.raw(), name).and_then(|()| mount::mkdir_at(own.raw(), name, 0o755))
        }
        other => other,
    };
    created
        .and_then(|()| fs::openat(own.raw(), name, O_RDONLY | O_DIRECTORY, 0))
        .map_err(|e| fail(e, name.to_bytes()))
}

impl Cgroup {
    /// Create the command's cgroups in proctor's own and limit them.
    #[inline(never)]
    fn build(
        &mut self,
        found: &[Hierarchy],
        r: &Resources,
        suffix: Option<Pid>,
    ) -> Result<(), Error> {
        let need = required(r);
        for (h, own) in found.iter().zip(open_own(found)?) {
            let mut controllers = h.controllers;
            if self.v2 {
                controllers = self.enter_leaf(&own.fd, need, suffix)?;
            }
            let dir = make(&own.fd, self.name)?;
            let procs = fs::openat(dir.raw(), c"cgroup.procs", O_WRONLY, 0);
            push(
                &mut self.nodes,
                Node {
                    controllers,
                    parent: own.fd,
                    dir,
                    procs: None,
                },
            )?;
            let procs = procs.map_err(|e| fail(e, b"cgroup.procs"))?;
            if let Some(n) = self.nodes.last_mut() {
                n.procs = Some(procs);
            }
        }
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

    /// v2: move proctor into a leaf of its own cgroup (a cgroup that hands
    /// controllers to its children may hold no process), then enable the
    /// controllers for the command's sibling; returns those it has.
    #[inline(never)]
    fn enter_leaf(
        &mut self,
        own: &Fd,
        need: Controllers,
        suffix: Option<Pid>,
    ) -> Result<Controllers, Error> {
        let mut buf = [0u8; 256];
        let offered = sys::read(own.raw(), c"cgroup.controllers", &mut buf)
            .map_err(|e| fail(e, b"cgroup.controllers"))?;
        let offered = controllers_of(offered);
        missing(
            need & !(offered | CPUACCT),
            "cgroup v2: no",
            "controller is delegated to proctor's cgroup",
        )?;
        let leaf = make(own, Name::new(b"proctor", suffix))?;
        sys::write(leaf.raw(), c"cgroup.procs", b"0")
            .map_err(|e| fail(e, b"moving proctor into its leaf"))?;
        let enable = (need | MEMORY | PIDS) & offered;
        if enable != 0 {
            sys::write(
                own.raw(),
                c"cgroup.subtree_control",
                &control_list(b'+', enable),
            )
            .map_err(|e| {
                let why: &[u8] = match e {
                    Errno::EBUSY => {
                        b"other processes share proctor's cgroup: give it one of its own"
                    }
                    _ => b"enabling controllers in cgroup.subtree_control",
                };
                fail(e, why)
            })?;
        }
        self.leaf = suffix.map(|_| enable);
        // cpu.stat, cgroup.kill and cgroup.freeze are in every v2 cgroup.
        Ok(enable | CPUACCT | FREEZER)
    }

    /// Write the limits.
    #[inline(never)]
    fn limit(&self, r: &Resources) -> Result<(), Error> {
        let v2 = self.v2;
        if let Some(bytes) = r.memory {
            let (max, swap) = if v2 {
                (c"memory.max", c"memory.swap.max")
            } else {
                // memsw is memory + swap: equal to the limit, it allows no swap.
                (c"memory.limit_in_bytes", c"memory.memsw.limit_in_bytes")
            };
            self.set(MEMORY, max, bytes, b"")?;
            // Without swap accounting there is no such file, and no swap to limit.
            match self.set(MEMORY, swap, if v2 { 0 } else { bytes }, b"") {
                Err(Error {
                    errno: Some(Errno::ENOENT),
                    ..
                }) => {}
                other => other?,
            }
        }
        if let Some(n) = r.pids {
            self.set(PIDS, c"pids.max", n, b"")?;
        }
        if let Some(micro) = r.cpus_micro {
            // A quota per period of 100 ms: one CPU is 100,000 µs.
            let quota = micro / 10;
            if v2 {
                self.set(CPU, c"cpu.max", quota, b" 100000")?;
            } else {
                self.set(CPU, c"cpu.cfs_period_us", 100_000, b"")?;
                self.set(CPU, c"cpu.cfs_quota_us", quota, b"")?;
            }
        }
        Ok(())
    }

    fn node(&self, c: Controllers) -> Option<&Node> {
        self.nodes.iter().find(|n| n.controllers & c != 0)
    }

    /// Write `value` and then `tail` to `file` of the cgroup of controller `c`.
    fn set(&self, c: Controllers, file: &CStr, value: u64, tail: &[u8]) -> Result<(), Error> {
        let mut buf = [0u8; 24];
        let n = decimal(value, &mut buf).len();
        let mut text = [0u8; 40];
        for (slot, &b) in text.iter_mut().zip(buf.iter().take(n).chain(tail)) {
            *slot = b;
        }
        let dir = self.node(c).map_or(-1, |n| n.dir.raw());
        let value = text.get(..n + tail.len()).unwrap_or_default();
        sys::write(dir, file, value).map_err(|e| fail(e, file.to_bytes()))
    }

    /// v2: the command's cgroup, for `clone3(CLONE_INTO_CGROUP)`.
    pub fn clone_into(&self) -> Option<i32> {
        let first = self.nodes.first().filter(|_| self.v2);
        first.map(|n| n.dir.raw())
    }

    /// The `cgroup.procs` files the child writes itself into before anything else.
    pub fn procs(&self) -> impl Iterator<Item = i32> + '_ {
        self.nodes
            .iter()
            .filter_map(|n| n.procs.as_ref().map(Fd::raw))
    }

    /// The command is in its cgroup: the `cgroup.procs` files are no longer needed.
    pub fn placed(&mut self) {
        for n in &mut self.nodes {
            n.procs = None;
        }
    }

    /// CPU time used by the whole tree so far.
    pub fn cpu_used(&self) -> Option<Nanos> {
        let fd = self.cpu_usage.as_ref()?;
        let mut buf = [0u8; 512];
        let text = sys::read_at_start(fd.raw(), &mut buf).ok()?;
        if self.v2 {
            field(text, b"usage_usec")?.checked_mul(1000)
        } else {
            first_number(text)
        }
    }

    /// How long supervision may sleep before the next `--cpu-time` check:
    /// every 50 ms, more often as the limit comes near; `None` without one.
    pub fn poll_interval(&self) -> Option<Nanos> {
        let limit = self.cpu_limit.filter(|_| !self.cpu_exceeded)?;
        let left = limit.saturating_sub(self.cpu_used().unwrap_or(0));
        Some((left / 8).clamp(1_000_000, CPU_POLL))
    }

    /// At every wake-up: when `--cpu-time` ran out, kill the whole tree at
    /// once and say so (once).
    pub fn check_cpu_time(&mut self) -> bool {
        let Some(limit) = self.cpu_limit.filter(|_| !self.cpu_exceeded) else {
            return false;
        };
        self.cpu_exceeded = self.cpu_used().is_some_and(|used| used >= limit);
        if self.cpu_exceeded {
            log!(
                log::VERBOSE,
                "--cpu-time ran out: killing the command's cgroup"
            );
            self.kill(&mut Vec::new());
        }
        self.cpu_exceeded
    }

    /// Kill every process of the command's tree at once, those that left
    /// its session included (v2 `cgroup.kill`; else freeze, SIGKILL every
    /// member, thaw), adding those signalled to `killed`. Called again
    /// until [`Cgroup::is_empty`]: a kill catches every member, but those
    /// forked while it ran need the next one.
    pub fn kill(&self, killed: &mut Vec<Pid>) {
        let Some(node) = self.node(FREEZER).or(self.nodes.first()) else {
            return;
        };
        let dir = node.dir.raw();
        if self.v2 && sys::write(dir, c"cgroup.kill", b"1").is_ok() {
            members(dir, killed, |_| {});
            return;
        }
        // Frozen, no member can fork while the list is read and killed.
        let (freeze, thaw, file): (&[u8], &[u8], &CStr) = if self.v2 {
            (b"1", b"0", c"cgroup.freeze")
        } else {
            (b"FROZEN", b"THAWED", c"freezer.state")
        };
        let frozen = sys::write(dir, file, freeze).is_ok();
        // v1 freezes in the background: wait (a little) until it is done.
        for _ in 0..100 {
            let mut buf = [0u8; 16];
            let done = |s: &[u8]| s.starts_with(b"FROZEN");
            if !frozen || self.v2 || sys::read(dir, file, &mut buf).is_ok_and(done) {
                break;
            }
            let _ = signal::wait(SigSet::of(&[]), Some(1_000_000));
        }
        members(dir, killed, |pid| {
            let _ = process::kill(pid, SIGKILL);
        });
        if frozen {
            let _ = sys::write(dir, file, thaw);
        }
    }

    /// Whether no process is left in the command's cgroup.
    pub fn is_empty(&self) -> bool {
        let mut buf = [0u8; 8];
        let dir = self.nodes.first().map_or(-1, |n| n.dir.raw());
        sys::read(dir, c"cgroup.procs", &mut buf).is_ok_and(|t| t.is_empty())
    }

    /// OOM kills in the command's cgroup so far.
    pub fn oom_kills(&self) -> Option<u64> {
        let node = self.node(MEMORY)?;
        let mut buf = [0u8; 1024];
        let file = if self.v2 {
            c"memory.events"
        } else {
            c"memory.oom_control"
        };
        field(sys::read(node.dir.raw(), file, &mut buf).ok()?, b"oom_kill")
    }

    /// The whole tree's accounting, for the report.
    pub fn usage(&self) -> TreeUsage {
        let read = |c: Controllers, file: &CStr| {
            let mut buf = [0u8; 32];
            first_number(sys::read(self.node(c)?.dir.raw(), file, &mut buf).ok()?)
        };
        let peak = if self.v2 {
            c"memory.peak"
        } else {
            c"memory.max_usage_in_bytes"
        };
        TreeUsage {
            cpu_ms: self.cpu_used().map(|ns| ns / 1_000_000),
            memory_peak_kib: read(MEMORY, peak).map(|b| b / 1024),
            oom_kills: self.oom_kills(),
            pids_peak: read(PIDS, c"pids.peak"),
        }
    }

    /// Remove the command's cgroups (their processes are gone); a
    /// subreaper on v2 also leaves its leaf for its own cgroup again and
    /// removes it (as PID 1, the container's cgroup goes with proctor).
    pub fn remove(self) {
        let command = self.name.c();
        for n in &self.nodes {
            if let Err(e) = sys::remove(n.parent.raw(), command) {
                log!(log::NORMAL, "warning: {}", fail(e, command.to_bytes()));
            }
        }
        let (Some(enabled), Some(n)) = (self.leaf, self.nodes.first()) else {
            return;
        };
        let own = n.parent.raw();
        let undo = control_list(b'-', enabled);
        let leaf = Name::new(b"proctor", Some(process::getpid()));
        let left = match enabled {
            0 => Ok(()),
            _ => sys::write(own, c"cgroup.subtree_control", &undo),
        }
        .and_then(|()| sys::write(own, c"cgroup.procs", b"0"))
        .and_then(|()| sys::remove(own, leaf.c()));
        if left.is_err() {
            log!(log::VERBOSE, "cgroup: proctor's own leaf stays");
        }
    }
}

/// Call `each` for every process in the cgroup `dir` and add it to `seen`
/// once (out of memory, the count falls short). A list longer than the
/// buffer is taken in turns: the caller calls again until none is left.
fn members(dir: i32, seen: &mut Vec<Pid>, mut each: impl FnMut(Pid)) {
    let mut buf = [0u8; 4096];
    let text = sys::read(dir, c"cgroup.procs", &mut buf).unwrap_or_default();
    for pid in text
        .split(|&b| b == b'\n')
        .filter_map(crate::args::parse_u64)
    {
        let pid = pid as Pid;
        each(pid);
        if !seen.contains(&pid) {
            let _ = push(seen, pid);
        }
    }
}

/// `+memory +pids +cpu` (or `-…`) for `cgroup.subtree_control`.
fn control_list(sign: u8, c: Controllers) -> [u8; 24] {
    let mut out = [b' '; 24];
    let mut at = 0;
    for (i, name) in NAMES.iter().enumerate().take(3) {
        if c & (1 << i) != 0 {
            for (slot, &b) in out
                .iter_mut()
                .skip(at)
                .zip([sign].iter().chain(name.as_bytes()))
            {
                *slot = b;
            }
            at += name.len() + 2;
        }
    }
    out
}

/// The number after `key ` in a `key value` per line file.
fn field(text: &[u8], key: &[u8]) -> Option<u64> {
    text.split(|&b| b == b'\n').find_map(|l| {
        let value = l.strip_prefix(key)?.strip_prefix(b" ")?;
        crate::args::parse_u64(value)
    })
}

/// The number on the first line.
fn first_number(text: &[u8]) -> Option<u64> {
    crate::args::parse_u64(text.split(|&b| b == b'\n').next()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;

    const HYBRID: &[u8] = b"9:name=systemd:/\n8:pids:/\n6:freezer:/\n4:memory:/process_api/6b1b\n2:cpuacct:/\n1:cpu:/\n0::/\n";

    fn found(text: &[u8], wanted: Controllers) -> std::vec::Vec<(Controllers, &str, &str)> {
        let s = |b| std::str::from_utf8(b).unwrap();
        let hs = hierarchies(text, wanted).unwrap();
        hs.iter()
            .map(|h| (h.controllers, s(h.list), s(h.path)))
            .collect()
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
        assert_eq!(found(b"0::/a:b\n", MEMORY), [(MEMORY, "", "/a:b")]);
        let e = hierarchies(b"", USEFUL).unwrap_err();
        assert_eq!(e.text(), b"cgroup: the kernel has no cgroup");
    }

    #[test]
    fn names_numbers_and_files() {
        let r = Resources {
            memory: Some(1),
            cpu_time: Some(1),
            ..Resources::default()
        };
        assert_eq!(required(&r), MEMORY | CPUACCT);
        assert_eq!(
            &control_list(b'+', MEMORY | PIDS | CPU | FREEZER),
            b"+memory +pids +cpu      "
        );
        assert_eq!(&control_list(b'-', PIDS), b"-pids                   ");
        assert_eq!(Name::new(b"command", None).c(), c"command");
        assert_eq!(Name::new(b"proctor", Some(4194304)).c(), c"proctor-4194304");
        assert_eq!(decimal(0, &mut [0; 24]), b"0");
        assert_eq!(decimal(u64::MAX, &mut [0; 24]), b"18446744073709551615");
        assert_eq!(
            field(b"usage_usec 1500\nuser_usec 3\n", b"usage_usec"),
            Some(1500)
        );
        assert_eq!(
            field(
                b"oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
                b"oom_kill"
            ),
            Some(2)
        );
        let e = missing(PIDS | CPU, "cgroup v1: no", "hierarchy").unwrap_err();
        assert_eq!(e.text(), b"cgroup: cgroup v1: no pids hierarchy");
    }
}
