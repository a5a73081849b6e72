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
use crate::error::{extend, push, Error, Show, Text};
use crate::report::TreeUsage;
use crate::sys::cgroup as sys;
use crate::sys::fs::{self, O_DIRECTORY, O_RDONLY, O_WRONLY};
use crate::sys::mount::{self, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_REMOUNT};
use crate::sys::process::{self, Namespace, Pid};
use crate::sys::signal::SIGKILL;
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
const NAMES: [(Controllers, &str); 5] = [
    (MEMORY, "memory"),
    (PIDS, "pids"),
    (CPU, "cpu"),
    (CPUACCT, "cpuacct"),
    (FREEZER, "freezer"),
];

/// `--cpu-time` is checked at least this often.
pub const CPU_POLL: Nanos = 50_000_000;

/// The controllers the limits need; without them proctor refuses to run.
pub fn required(r: &Resources) -> Controllers {
    let mut c = 0;
    for (given, ctrl) in [
        (r.memory.is_some(), MEMORY),
        (r.pids.is_some(), PIDS),
        (r.cpus_micro.is_some(), CPU),
        (r.cpu_time.is_some(), CPUACCT),
    ] {
        if given {
            c |= ctrl;
        }
    }
    c
}

/// The controllers used when present: the report's accounting and the kill.
const USEFUL: Controllers = MEMORY | PIDS | CPUACCT | FREEZER;

/// Where one hierarchy keeps proctor's own cgroup.
#[derive(Debug, PartialEq, Eq)]
pub struct Place {
    /// The controllers of this hierarchy proctor will use.
    pub controllers: Controllers,
    /// proctor's own cgroup directory, absolute.
    pub dir: Vec<u8>,
    /// The cgroup filesystem's mount point, and whether it is read-only.
    pub mount_point: Vec<u8>,
    pub read_only: bool,
}

/// The hierarchies proctor will use.
#[derive(Debug, PartialEq, Eq)]
pub enum Layout {
    V2(Place),
    V1(Vec<Place>),
}

/// Find proctor's cgroup for the `wanted` controllers from the texts of
/// `/proc/self/cgroup` and `/proc/self/mountinfo`: the v1 hierarchies that
/// hold any of them, else the cgroup2 mount. `Err` says what is missing.
#[inline(never)]
pub fn locate(cgroups: &[u8], mountinfo: &[u8], wanted: Controllers) -> Result<Layout, Error> {
    let mut v1: Vec<Place> = Vec::new();
    let mut v2: Option<Place> = None;
    let mut covered = 0;
    for line in mountinfo.split(|&b| b == b'\n') {
        let Some(m) = MountLine::parse(line) else {
            continue;
        };
        if m.fstype == b"cgroup2" && v2.is_none() {
            if let Some(p) = place(cgroups, &m, |c| c.is_empty(), wanted)? {
                v2 = Some(p);
            }
        } else if m.fstype == b"cgroup" {
            let ctrls = controllers_of(m.super_options) & wanted & !covered;
            if ctrls == 0 {
                continue;
            }
            let hierarchy = |c: &[u8]| controllers_of(c) & ctrls != 0;
            if let Some(mut p) = place(cgroups, &m, hierarchy, ctrls)? {
                p.controllers = ctrls;
                covered |= ctrls;
                push(&mut v1, p)?;
            }
        }
    }
    if !v1.is_empty() {
        return Ok(Layout::V1(v1));
    }
    v2.map(Layout::V2).ok_or_else(|| {
        err!(
            "cgroup",
            None,
            "no cgroup filesystem is mounted (neither cgroup2 nor a v1 controller)"
        )
    })
}

/// The fields of one `/proc/self/mountinfo` line proctor needs.
struct MountLine<'a> {
    root: &'a [u8],
    mount_point: &'a [u8],
    options: &'a [u8],
    fstype: &'a [u8],
    super_options: &'a [u8],
}

impl<'a> MountLine<'a> {
    /// `id parent dev root mount-point options [optional…] - fstype source super-options`
    fn parse(line: &'a [u8]) -> Option<MountLine<'a>> {
        let mut f = line.split(|&b| b == b' ');
        let (_, _, _) = (f.next()?, f.next()?, f.next()?);
        let (root, mount_point, options) = (f.next()?, f.next()?, f.next()?);
        for sep in f.by_ref() {
            if sep == b"-" {
                break;
            }
        }
        let (fstype, _, super_options) = (f.next()?, f.next()?, f.next()?);
        Some(MountLine {
            root,
            mount_point,
            options,
            fstype,
            super_options,
        })
    }
}

/// The controllers named in a list (comma-separated in mountinfo and
/// `/proc/self/cgroup`, space-separated in v2's control files).
fn controllers_of(list: &[u8]) -> Controllers {
    list.split(|&b| matches!(b, b',' | b' ' | b'\n'))
        .filter_map(|n| NAMES.iter().find(|(_, name)| name.as_bytes() == n))
        .fold(0, |c, (bit, _)| c | bit)
}

/// proctor's cgroup in the hierarchy mounted by `m`, whose line in
/// `/proc/self/cgroup` has a controller list accepted by `hierarchy`;
/// `None` when that cgroup lies outside what the mount shows.
fn place(
    cgroups: &[u8],
    m: &MountLine,
    hierarchy: impl Fn(&[u8]) -> bool,
    controllers: Controllers,
) -> Result<Option<Place>, Error> {
    let Some(path) = cgroups.split(|&b| b == b'\n').find_map(|l| {
        let mut f = l.splitn(3, |&b| b == b':');
        let (_, list, path) = (f.next()?, f.next()?, f.next()?);
        hierarchy(list).then_some(path)
    }) else {
        return Ok(None);
    };
    let root = unescape(m.root)?;
    let relative = if root == b"/" {
        path
    } else {
        match path.strip_prefix(root.as_slice()) {
            Some(rest) if rest.is_empty() || rest.first() == Some(&b'/') => rest,
            _ => return Ok(None),
        }
    };
    let mount_point = unescape(m.mount_point)?;
    let mut dir = Vec::new();
    extend(&mut dir, &mount_point)?;
    extend(&mut dir, relative)?;
    Ok(Some(Place {
        controllers,
        dir,
        mount_point,
        read_only: m.options.split(|&b| b == b',').any(|o| o == b"ro"),
    }))
}

/// A mountinfo field with its `\ooo` escapes (space, tab, newline, backslash) decoded.
fn unescape(field: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut rest = field;
    while let Some((&b, tail)) = rest.split_first() {
        let octal = tail
            .get(..3)
            .filter(|d| b == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                let v = d.iter().fold(0u32, |v, c| v * 8 + u32::from(c - b'0'));
                push(&mut out, v as u8)?;
                rest = tail.get(3..).unwrap_or_default();
            }
            None => {
                push(&mut out, b)?;
                rest = tail;
            }
        }
    }
    Ok(out)
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

/// v2: the leaf proctor moved itself into, to be left and removed at the end.
struct Leaf {
    parent: Fd,
    /// The controllers proctor enabled in its parent's `cgroup.subtree_control`.
    enabled: Controllers,
}

/// The command's cgroup, ready for the command.
pub struct Cgroup {
    v2: bool,
    nodes: Vec<Node>,
    leaf: Option<Leaf>,
    /// `command`, or `command-PID` beside other proctors (not PID 1).
    name: Vec<u8>,
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
    let cgroups = read_proc(c"/proc/self/cgroup")?;
    let mountinfo = read_proc(c"/proc/self/mountinfo")?;
    let layout = locate(&cgroups, &mountinfo, need | USEFUL)?;
    let places: &[Place] = match &layout {
        Layout::V2(p) => core::slice::from_ref(p),
        Layout::V1(ps) => ps,
    };
    let v2 = matches!(layout, Layout::V2(_));
    let found = places.iter().fold(0, |c, p| c | p.controllers);
    if !v2 {
        missing(need & !found, "cgroup v1: no", "hierarchy is mounted")?;
    }
    let owns = open_own(places)?;
    let suffix = (!is_pid1).then(process::getpid);
    let mut cg = Cgroup {
        v2,
        nodes: Vec::new(),
        leaf: None,
        name: name(b"command", suffix)?,
        cpu_usage: None,
        cpu_limit: r.cpu_time,
        cpu_exceeded: false,
    };
    match cg.build(places, owns, r, suffix) {
        Ok(()) => Ok(cg),
        Err(e) => {
            cg.remove();
            Err(e)
        }
    }
}

/// Refuse when `absent` names any controller.
fn missing(absent: Controllers, before: &str, after: &str) -> Result<(), Error> {
    match NAMES.iter().find(|(bit, _)| absent & bit != 0) {
        Some((_, name)) => Err(err!("cgroup", None, "{} {} {}", before, *name, after)),
        None => Ok(()),
    }
}

/// A whole `/proc` file.
fn read_proc(path: &CStr) -> Result<Vec<u8>, Error> {
    let fd = fs::open(path, O_RDONLY)
        .map_err(|e| err!("cgroup", Some(e), "{}", Show(path.to_bytes())))?;
    read_all(fd.raw()).map_err(|e| err!("cgroup", Some(e), "{}", Show(path.to_bytes())))
}

/// Read `fd` to its end.
fn read_all(fd: i32) -> Result<Vec<u8>, Errno> {
    let mut out: Vec<u8> = Vec::new();
    loop {
        let len = out.len();
        crate::sys::vec::extend_zeroed(&mut out, 4096)?;
        let n = fs::read(fd, out.get_mut(len..).unwrap_or_default())?;
        out.truncate(len + n);
        if n == 0 {
            return Ok(out);
        }
    }
}

/// `base` or `base-PID`, NUL-terminated.
fn name(base: &[u8], pid: Option<Pid>) -> Result<Vec<u8>, Error> {
    let mut t = Text::default();
    extend(&mut t.0, base)?;
    if let Some(pid) = pid {
        let _ = ufmt::uwrite!(t, "-{}", pid);
    }
    push(&mut t.0, 0)?;
    Ok(t.0)
}

fn cstr(name: &[u8]) -> &CStr {
    CStr::from_bytes_with_nul(name).unwrap_or(c"")
}

/// Open proctor's own cgroup directories. A read-only cgroup filesystem is
/// remounted writable in a mount namespace of its own, the directories are
/// opened there, and proctor goes back to its namespace: the descriptors
/// keep the writable mount, and no process ever sees it.
#[inline(never)]
fn open_own(places: &[Place]) -> Result<Vec<Fd>, Error> {
    let home = if places.iter().any(|p| p.read_only) {
        let ns = fs::open(c"/proc/self/ns/mnt", O_RDONLY)
            .map_err(|e| err!("cgroup", Some(e), "/proc/self/ns/mnt"))?;
        process::unshare(Namespace::Mount).map_err(|e| read_only(e, b"unshare(CLONE_NEWNS)"))?;
        for p in places.iter().filter(|p| p.read_only) {
            let mp = owned(&p.mount_point)?;
            let flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC;
            mount::mount(c"none", cstr(&mp), c"", flags, None)
                .map_err(|e| read_only(e, &p.mount_point))?;
        }
        Some(ns)
    } else {
        None
    };
    let mut fds = Vec::new();
    for p in places {
        let dir = owned(&p.dir)?;
        let fd = fs::open(cstr(&dir), O_RDONLY | O_DIRECTORY)
            .map_err(|e| err!("cgroup", Some(e), "{}", Show(&p.dir)))?;
        push(&mut fds, fd)?;
    }
    if let Some(ns) = home {
        sys::enter_mount_namespace(ns.raw())
            .map_err(|e| err!("cgroup", Some(e), "setns back to proctor's mount namespace"))?;
    }
    Ok(fds)
}

fn read_only(e: Errno, what: &[u8]) -> Error {
    err!(
        "cgroup",
        Some(e),
        "the cgroup filesystem is read-only; remounting it writable ({}) needs CAP_SYS_ADMIN",
        Show(what)
    )
}

fn owned(path: &[u8]) -> Result<Vec<u8>, Error> {
    let mut v = Vec::new();
    extend(&mut v, path)?;
    push(&mut v, 0)?;
    Ok(v)
}

fn file_error(doing: &str, place: &Place, file: &[u8], e: Errno) -> Error {
    err!(
        "cgroup",
        Some(e),
        "{} {}/{}",
        doing,
        Show(&place.dir),
        Show(file)
    )
}

/// Create the cgroup `name` in `own` and open it; a stale empty one (from a
/// proctor that was killed) is removed first.
fn make(own: &Fd, name: &[u8], place: &Place) -> Result<Fd, Error> {
    let name = cstr(name);
    let created = match mount::mkdir_at(own.raw(), name, 0o755) {
        Err(Errno::EEXIST) => {
            sys::remove(own.raw(), name).and_then(|()| mount::mkdir_at(own.raw(), name, 0o755))
        }
        other => other,
    };
    created.map_err(|e| file_error("creating", place, name.to_bytes(), e))?;
    fs::openat(own.raw(), name, O_RDONLY | O_DIRECTORY, 0)
        .map_err(|e| file_error("opening", place, name.to_bytes(), e))
}

impl Cgroup {
    /// Create the command's cgroups in proctor's own, `owns`, and limit them.
    #[inline(never)]
    fn build(
        &mut self,
        places: &[Place],
        owns: Vec<Fd>,
        r: &Resources,
        suffix: Option<Pid>,
    ) -> Result<(), Error> {
        let need = required(r);
        for (place, own) in places.iter().zip(owns) {
            let mut controllers = place.controllers;
            if self.v2 {
                controllers = self.enter_leaf(&own, place, need, suffix)?;
            }
            let dir = make(&own, &self.name, place)?;
            let node = Node {
                controllers,
                parent: own,
                dir,
                procs: None,
            };
            let procs = fs::openat(node.dir.raw(), c"cgroup.procs", O_WRONLY, 0);
            push(&mut self.nodes, node)?;
            let procs = procs.map_err(|e| file_error("opening", place, b"cgroup.procs", e))?;
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

    /// v2: move proctor into a leaf of its own cgroup, then enable the
    /// controllers for the command's sibling; returns those available.
    #[inline(never)]
    fn enter_leaf(
        &mut self,
        own: &Fd,
        place: &Place,
        need: Controllers,
        suffix: Option<Pid>,
    ) -> Result<Controllers, Error> {
        let mut buf = [0u8; 256];
        let offered = sys::read(own.raw(), c"cgroup.controllers", &mut buf)
            .map_err(|e| file_error("reading", place, b"cgroup.controllers", e))?;
        let offered = controllers_of(offered);
        // cpu.stat, cgroup.kill and cgroup.freeze are in every v2 cgroup.
        let available = offered | CPUACCT | FREEZER;
        missing(
            need & !available,
            "cgroup v2: the",
            "controller is not delegated to proctor's cgroup",
        )?;
        let mut buf = [0u8; 256];
        let on = sys::read(own.raw(), c"cgroup.subtree_control", &mut buf)
            .map_err(|e| file_error("reading", place, b"cgroup.subtree_control", e))?;
        let on = controllers_of(on);
        let leaf = name(b"proctor", suffix)?;
        let leaf_dir = make(own, &leaf, place)?;
        sys::write(leaf_dir.raw(), c"cgroup.procs", b"0")
            .map_err(|e| file_error("moving proctor into", place, b"proctor/cgroup.procs", e))?;
        drop(leaf_dir);
        let enable = (need | MEMORY | PIDS) & offered & !on;
        self.leaf = Some(Leaf {
            parent: fs::openat(own.raw(), c".", O_RDONLY | O_DIRECTORY, 0)
                .map_err(|e| file_error("opening", place, b".", e))?,
            enabled: 0,
        });
        if enable != 0 {
            let change = control_list(b'+', enable)?;
            sys::write(own.raw(), c"cgroup.subtree_control", &change).map_err(|e| {
                if e == Errno::EBUSY {
                    err!(
                        "cgroup",
                        Some(e),
                        "{} holds other processes: give proctor a cgroup of its own",
                        Show(&place.dir)
                    )
                } else {
                    file_error(
                        "enabling controllers in",
                        place,
                        b"cgroup.subtree_control",
                        e,
                    )
                }
            })?;
            if let Some(leaf) = &mut self.leaf {
                leaf.enabled = enable;
            }
        }
        Ok(available & (on | enable | CPUACCT | FREEZER))
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
            self.set(MEMORY, max, bytes)?;
            // Without swap accounting there is no such file, and no swap to limit.
            match self.set(MEMORY, swap, if v2 { 0 } else { bytes }) {
                Err(Error {
                    errno: Some(Errno::ENOENT),
                    ..
                }) => {}
                other => other?,
            }
        }
        if let Some(n) = r.pids {
            self.set(PIDS, c"pids.max", n)?;
        }
        if let Some(micro) = r.cpus_micro {
            // A quota per period of 100 ms: one CPU is 100,000 µs.
            let quota = micro / 10;
            if v2 {
                let mut t = Text::default();
                let _ = ufmt::uwrite!(t, "{} 100000", quota);
                self.write(CPU, c"cpu.max", &t.0)?;
            } else {
                self.set(CPU, c"cpu.cfs_period_us", 100_000)?;
                self.set(CPU, c"cpu.cfs_quota_us", quota)?;
            }
        }
        Ok(())
    }

    fn node(&self, c: Controllers) -> Option<&Node> {
        self.nodes.iter().find(|n| n.controllers & c != 0)
    }

    fn set(&self, c: Controllers, file: &CStr, value: u64) -> Result<(), Error> {
        let mut t = Text::default();
        let _ = ufmt::uwrite!(t, "{}", value);
        self.write(c, file, &t.0)
    }

    fn write(&self, c: Controllers, file: &CStr, value: &[u8]) -> Result<(), Error> {
        let node = self
            .node(c)
            .ok_or_else(|| err!("cgroup", None, "no cgroup for {}", Show(file.to_bytes())))?;
        sys::write(node.dir.raw(), file, value).map_err(|e| {
            err!(
                "cgroup",
                Some(e),
                "writing {} to {}/{}",
                Show(value),
                Show(cstr(&self.name).to_bytes()),
                Show(file.to_bytes())
            )
        })
    }

    /// v2: the command's cgroup, for `clone3(CLONE_INTO_CGROUP)`.
    pub fn clone_into(&self) -> Option<i32> {
        self.v2
            .then(|| self.nodes.first().map(|n| n.dir.raw()))
            .flatten()
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
            crate::args::parse_u64(text.split(|&b| b == b'\n').next()?)
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
        if self.cpu_used().is_some_and(|used| used >= limit) {
            self.cpu_exceeded = true;
            log!(
                log::VERBOSE,
                "--cpu-time ran out: killing the command's cgroup"
            );
            self.kill(&mut Vec::new());
            return true;
        }
        false
    }

    /// Whether `--cpu-time` ran out.
    pub fn cpu_exceeded(&self) -> bool {
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
        if self.v2 {
            let members = self.members(node);
            if sys::write(dir, c"cgroup.kill", b"1").is_ok() {
                note(killed, &members);
                return;
            }
        }
        // Frozen, no member can fork while the list is read and killed.
        let (freeze, thaw, file): (&[u8], &[u8], &CStr) = if self.v2 {
            (b"1", b"0", c"cgroup.freeze")
        } else {
            (b"FROZEN", b"THAWED", c"freezer.state")
        };
        let frozen = node.controllers & FREEZER != 0 && sys::write(dir, file, freeze).is_ok();
        if frozen && !self.v2 {
            // v1 freezes in the background: wait (a little) until it is done.
            for _ in 0..100 {
                let mut buf = [0u8; 16];
                if sys::read(dir, file, &mut buf).is_ok_and(|s| s.starts_with(b"FROZEN")) {
                    break;
                }
                let _ =
                    crate::sys::signal::wait(crate::sys::signal::SigSet::of(&[]), Some(1_000_000));
            }
        }
        let members = self.members(node);
        for &pid in &members {
            let _ = process::kill(pid, SIGKILL);
        }
        note(killed, &members);
        if frozen {
            let _ = sys::write(dir, file, thaw);
        }
    }

    /// The processes in `node` now.
    fn members(&self, node: &Node) -> Vec<Pid> {
        let mut pids = Vec::new();
        let Ok(fd) = sys::open_read(node.dir.raw(), c"cgroup.procs") else {
            return pids;
        };
        let text = read_all(fd.raw()).unwrap_or_default();
        for line in text.split(|&b| b == b'\n') {
            if let Some(pid) = crate::args::parse_u64(line) {
                if push(&mut pids, pid as Pid).is_err() {
                    break;
                }
            }
        }
        pids
    }

    /// Whether no process is left in the command's cgroup.
    pub fn is_empty(&self) -> bool {
        self.nodes
            .first()
            .is_none_or(|n| self.members(n).is_empty())
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
        let text = sys::read(node.dir.raw(), file, &mut buf).ok()?;
        field(text, b"oom_kill")
    }

    /// The whole tree's accounting, for the report.
    pub fn usage(&self) -> TreeUsage {
        let read_number = |c: Controllers, file: &CStr| {
            let mut buf = [0u8; 64];
            let node = self.node(c)?;
            let text = sys::read(node.dir.raw(), file, &mut buf).ok()?;
            crate::args::parse_u64(text.split(|&b| b == b'\n').next()?)
        };
        let peak = if self.v2 {
            c"memory.peak"
        } else {
            c"memory.max_usage_in_bytes"
        };
        TreeUsage {
            cpu_ms: self.cpu_used().map(|ns| ns / 1_000_000),
            memory_peak_kib: read_number(MEMORY, peak).map(|b| b / 1024),
            oom_kills: self.oom_kills(),
            pids_peak: read_number(PIDS, c"pids.peak"),
        }
    }

    /// Remove the command's cgroups (their processes are gone), and on v2
    /// leave proctor's leaf for its own cgroup again and remove it.
    pub fn remove(self) {
        let name = cstr(&self.name);
        for n in &self.nodes {
            if let Err(e) = sys::remove(n.parent.raw(), name) {
                log!(
                    log::NORMAL,
                    "warning: cgroup: removing {}: {}",
                    Show(name.to_bytes()),
                    crate::error::ErrnoName(e)
                );
            }
        }
        // As PID 1 the container's cgroup goes with it; a subreaper tidies up.
        let Some(leaf) = self.leaf.filter(|_| self.name.contains(&b'-')) else {
            return;
        };
        let parent = leaf.parent.raw();
        let restored = control_list(b'-', leaf.enabled)
            .ok()
            .filter(|_| leaf.enabled != 0)
            .map_or(Ok(()), |change| {
                sys::write(parent, c"cgroup.subtree_control", &change)
            })
            .and_then(|()| sys::write(parent, c"cgroup.procs", b"0"));
        let leaf_name = name_of_leaf(&self.name);
        if restored
            .and_then(|()| sys::remove(parent, cstr(&leaf_name)))
            .is_err()
        {
            log!(log::VERBOSE, "cgroup: proctor's own leaf stays");
        }
    }
}

/// Add the `members` not yet in `killed` (out of memory, the count falls short).
fn note(killed: &mut Vec<Pid>, members: &[Pid]) {
    for &p in members {
        if !killed.contains(&p) && push(killed, p).is_err() {
            return;
        }
    }
}

/// `proctor-PID` for the command's `command-PID`.
fn name_of_leaf(command: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    let _ = extend(&mut v, b"proctor");
    let _ = extend(&mut v, command.get(b"command".len()..).unwrap_or_default());
    v
}

/// `+memory +pids …` (or `-…`) for `cgroup.subtree_control`.
fn control_list(sign: u8, c: Controllers) -> Result<Vec<u8>, Error> {
    let mut v = Vec::new();
    // cpu.stat and the kill need no controller on v2.
    let c = c & !(CPUACCT | FREEZER);
    for (_, name) in NAMES.iter().filter(|(bit, _)| c & bit != 0) {
        if !v.is_empty() {
            push(&mut v, b' ')?;
        }
        push(&mut v, sign)?;
        extend(&mut v, name.as_bytes())?;
    }
    Ok(v)
}

/// The number after `key ` in a `key value` per line file.
fn field(text: &[u8], key: &[u8]) -> Option<u64> {
    text.split(|&b| b == b'\n').find_map(|l| {
        let value = l.strip_prefix(key)?.strip_prefix(b" ")?;
        crate::args::parse_u64(value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;

    const HYBRID_CGROUP: &[u8] = b"9:name=systemd:/\n8:pids:/\n6:freezer:/\n4:memory:/process_api/6b1b\n2:cpuacct:/\n1:cpu:/\n0::/\n";
    const HYBRID_MOUNTS: &[u8] =
        b"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    fn dirs(l: &Layout) -> std::vec::Vec<(Controllers, std::string::String, bool)> {
        let ps = match l {
            Layout::V2(p) => std::slice::from_ref(p),
            Layout::V1(ps) => ps.as_slice(),
        };
        ps.iter()
            .map(|p| {
                (
                    p.controllers,
                    std::string::String::from_utf8(p.dir.clone()).unwrap(),
                    p.read_only,
                )
            })
            .collect()
    }

    #[test]
    fn hybrid_host_uses_the_v1_hierarchies() {
        let l = locate(HYBRID_CGROUP, HYBRID_MOUNTS, USEFUL | CPU).unwrap();
        assert!(matches!(l, Layout::V1(_)));
        assert_eq!(
            dirs(&l),
            [
                (CPU, "/sys/fs/cgroup/cpu/".into(), false),
                (CPUACCT, "/sys/fs/cgroup/cpuacct/".into(), false),
                (
                    MEMORY,
                    "/sys/fs/cgroup/memory/process_api/6b1b".into(),
                    false
                ),
                (FREEZER, "/sys/fs/cgroup/freezer/".into(), false),
                (PIDS, "/sys/fs/cgroup/pids/".into(), false),
            ]
        );
        // Without --cpus, the cpu hierarchy is left alone.
        let l = locate(HYBRID_CGROUP, HYBRID_MOUNTS, USEFUL).unwrap();
        assert_eq!(dirs(&l).len(), 4);
    }

    #[test]
    fn docker_v1_mounts_show_the_container_cgroup_as_their_root() {
        let cgroup = b"12:cpu,cpuacct:/docker/abc\n5:memory:/docker/abc\n0::/docker/abc\n";
        let mounts = b"50 40 0:40 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro,nosuid,nodev,noexec,relatime master:20 - cgroup cgroup rw,cpu,cpuacct
51 40 0:41 /docker/abc /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime master:21 - cgroup cgroup rw,memory
";
        let l = locate(cgroup, mounts, USEFUL | CPU).unwrap();
        assert_eq!(
            dirs(&l),
            [
                (CPU | CPUACCT, "/sys/fs/cgroup/cpu,cpuacct".into(), true),
                (MEMORY, "/sys/fs/cgroup/memory".into(), true),
            ]
        );
    }

    #[test]
    fn pure_v2_and_private_namespace() {
        let mounts = b"29 23 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate\n";
        let l = locate(b"0::/\n", mounts, USEFUL).unwrap();
        assert!(matches!(l, Layout::V2(_)));
        assert_eq!(dirs(&l), [(USEFUL, "/sys/fs/cgroup/".into(), true)]);
        let l = locate(b"0::/user.slice/x\n", mounts, USEFUL).unwrap();
        assert_eq!(dirs(&l)[0].1, "/sys/fs/cgroup/user.slice/x");
    }

    #[test]
    fn nothing_mounted_or_outside_the_mount() {
        let e = locate(b"0::/\n", b"1 0 0:1 / / rw - ext4 /dev/sda rw\n", USEFUL).unwrap_err();
        assert_eq!(
            e.text(),
            b"cgroup: no cgroup filesystem is mounted (neither cgroup2 nor a v1 controller)"
        );
        let mounts = b"29 23 0:26 /other /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        assert!(locate(b"0::/mine\n", mounts, USEFUL).is_err());
        let escaped = b"29 23 0:26 / /a\\040b rw - cgroup2 cgroup2 rw\n";
        assert_eq!(
            dirs(&locate(b"0::/\n", escaped, USEFUL).unwrap())[0].1,
            "/a b/"
        );
    }

    #[test]
    fn requirements_and_files() {
        let r = Resources {
            memory: Some(1),
            cpu_time: Some(1),
            ..Resources::default()
        };
        assert_eq!(required(&r), MEMORY | CPUACCT);
        assert_eq!(
            control_list(b'+', MEMORY | PIDS | CPU | FREEZER).unwrap(),
            b"+memory +pids +cpu"
        );
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
        assert_eq!(name_of_leaf(b"command-42\0"), b"proctor-42\0");
    }
}
