//! Fork the command and run the child's ordered plan up to `execve`.
//!
//! Everything the child needs is prepared before the fork, so the child
//! allocates nothing. A failing step sends (step, errno, detail) through a
//! close-on-exec pipe; the parent reads end-of-file when `execve` succeeded.

use crate::args::User;
use crate::cgroup::Cgroup;
use crate::error::{Error, Show};
use crate::limits::{self, Limit};
use crate::privileges::{self, IdStep};
use crate::seccomp::{self, Insn};
use crate::sys::process::{self, Pid};
use crate::sys::signal::{self, SigSet};
use crate::sys::{fs, Errno};
use crate::{err, landlock, log, mounts, pidns};
use core::ffi::{c_char, CStr};

/// The child's plan, prepared before the fork.
pub struct Plan<'a> {
    /// The command's argv, a null-terminated array (argv[0] is the command).
    pub argv: *const *const c_char,
    pub command: &'a CStr,
    /// The command's environment, a null-terminated array.
    pub envp: *const *const c_char,
    /// `PATH` to search when the command has no `/`.
    pub search_path: &'a [u8],
    /// The signal mask proctor inherited.
    pub mask: SigSet,
    pub take_terminal: bool,
    pub limits: &'a [Limit],
    pub keep_fds: &'a [i32],
    /// The last capability to drop from the bounding set; `None` with `--keep-caps`.
    pub drop_caps: Option<u32>,
    pub user: Option<User>,
    pub groups: &'a [u32],
    pub chdir: Option<&'a CStr>,
    pub seccomp: &'a [Insn],
    /// The command's cgroup, joined before anything else.
    pub cgroup: Option<&'a Cgroup>,
    /// The Landlock ruleset to enforce, built before the fork.
    pub landlock: Option<landlock::Enforce>,
    /// `--pid-ns`: the command runs under an inner init, PID 1 of a new
    /// PID namespace, which is the child proctor supervises.
    pub pid_ns: Option<pidns::Init<'a>>,
}

/// The steps of the child, in order; the number travels through the pipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
enum Step {
    Setsid = 1,
    Signals,
    Rlimit,
    Fds,
    Bounding,
    Groups,
    Gid,
    Uid,
    Capabilities,
    NoNewPrivs,
    Landlock,
    Chdir,
    Seccomp,
    Exec,
    Cgroup,
    /// The inner init's: mounting `PROC_MOUNTS[aux]`, or forking the command (aux 5).
    PidNs,
}

const STEPS: [(Step, &str); 16] = [
    (Step::Setsid, "setsid"),
    (Step::Signals, "signal mask"),
    (Step::Rlimit, "rlimit"),
    (Step::Fds, "descriptors"),
    (Step::Bounding, "bounding set"),
    (Step::Groups, "setgroups"),
    (Step::Gid, "setresgid"),
    (Step::Uid, "setresuid"),
    (Step::Capabilities, "capabilities"),
    (Step::NoNewPrivs, "no_new_privs"),
    (Step::Landlock, "landlock"),
    (Step::Chdir, "chdir"),
    (Step::Seccomp, "seccomp"),
    (Step::Exec, "exec"),
    (Step::Cgroup, "joining the cgroup"),
    (Step::PidNs, "--pid-ns"),
];

/// Why the command did not start: the error and proctor's exit code
/// (127 not found, 126 not executable, 125 any other step).
pub struct Failed {
    pub error: Error,
    pub code: u8,
}

/// Fork and start the command; returns its pid once `execve` succeeded
/// (with `--pid-ns`, the inner init's pid).
pub fn spawn(plan: &Plan) -> Result<Pid, Failed> {
    let setup = |e: Error| Failed {
        error: e,
        code: 125,
    };
    if plan.take_terminal {
        release_terminal();
    }
    let (rd, wr) = fs::pipe().map_err(|e| setup(Error::sys("pipe", e)))?;
    let (pid, placed) = fork(plan).map_err(|e| {
        let e = match plan.pid_ns {
            Some(_) => mounts::mount_error("--pid-ns", b"clone(CLONE_NEWPID)", e),
            None => Error::sys("fork", e),
        };
        setup(e)
    })?;
    if pid == 0 {
        drop(rd);
        match &plan.pid_ns {
            None => child(plan, wr.raw(), placed),
            Some(init) => {
                // The inner init joins the cgroup first; the command inherits it.
                if let Err(e) = join_cgroup(plan, placed) {
                    fail(wr.raw(), Step::Cgroup, e, 0);
                }
                let (what, e) = pidns::init(init, || child(plan, wr.raw(), true));
                fail(wr.raw(), Step::PidNs, e, what as u32)
            }
        }
    }
    drop(wr);
    let mut msg = [0u8; 12];
    let mut got = 0;
    while got < msg.len() {
        match fs::read(rd.raw(), msg.get_mut(got..).unwrap_or_default()) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    if got == 0 {
        return Ok(pid);
    }
    // The child failed before execve and exits; collect it before reporting.
    let _ = process::wait_pid(pid);
    let word = |i: usize| {
        let bytes = msg.get(i..i + 4).and_then(|w| w.try_into().ok());
        u32::from_ne_bytes(bytes.unwrap_or_default())
    };
    let (step, errno, aux) = (word(0), Errno::new(word(4) as i32), word(8));
    Err(describe(plan, step, errno, aux))
}

/// Fork; with a cgroup v2, straight into the command's cgroup
/// (`CLONE_INTO_CGROUP`), which `placed` says.
fn fork(plan: &Plan) -> Result<(Pid, bool), Errno> {
    let new_pid_ns = plan.pid_ns.is_some();
    if let Some(dir) = plan.cgroup.and_then(Cgroup::clone_into) {
        match crate::sys::cgroup::fork_into(dir, new_pid_ns) {
            Ok(pid) => return Ok((pid, true)),
            // A kernel before 5.7, or a seccomp profile that hides clone3:
            // the child writes itself into cgroup.procs instead.
            Err(Errno::ENOSYS | Errno::E2BIG | Errno::EPERM | Errno::EINVAL) => {}
            Err(e) => return Err(e),
        }
    }
    let pid = if new_pid_ns {
        pidns::fork_init()
    } else {
        process::fork()
    };
    pid.map(|pid| (pid, false))
}

/// Turn the child's (step, errno, detail) into a message and exit code.
fn describe(plan: &Plan, step: u32, errno: Errno, aux: u32) -> Failed {
    let name = STEPS
        .iter()
        .find(|s| s.0 as u32 == step)
        .map_or("child", |s| s.1);
    let error = if step == Step::Exec as u32 {
        err!(name, Some(errno), "{}", Show(plan.command.to_bytes()))
    } else if step == Step::Rlimit as u32 {
        let hint = if errno == Errno::EPERM {
            " (raising a hard limit needs CAP_SYS_RESOURCE)"
        } else {
            ""
        };
        err!(name, Some(errno), "{}{}", limits::name(aux), hint)
    } else if step == Step::PidNs as u32 {
        let what = mounts::PROC_MOUNTS.get(aux as usize).map_or(c"fork", |p| p);
        mounts::mount_error(name, what.to_bytes(), errno)
    } else if step == Step::Chdir as u32 {
        err!(
            name,
            Some(errno),
            "{}",
            Show(plan.chdir.map_or(&b"?"[..], |d| d.to_bytes()))
        )
    } else if errno == Errno::EPERM && (step == Step::Groups as u32 || step == Step::Gid as u32) {
        err!(name, Some(errno), "needs CAP_SETGID")
    } else if errno == Errno::EPERM && step == Step::Uid as u32 {
        err!(name, Some(errno), "needs CAP_SETUID")
    } else {
        Error::sys(name, errno)
    };
    let code = match (step == Step::Exec as u32, errno) {
        (true, Errno::ENOENT | Errno::ENOTDIR) => 127,
        (true, _) => 126,
        _ => 125,
    };
    Failed { error, code }
}

/// Let go of the controlling terminal so the child's new session can take
/// it, swallowing the SIGHUP and SIGCONT a session leader gets for it.
fn release_terminal() {
    if fs::release_terminal(0).is_ok() && process::getsid() == process::getpid() {
        let hangup = SigSet::of(&[signal::SIGHUP, signal::SIGCONT]);
        while let Ok(Some(_)) = signal::wait(hangup, Some(0)) {}
    }
}

/// Tell the parent through `pipe` that `step` failed, and exit.
fn fail(pipe: i32, step: Step, e: Errno, aux: u32) -> ! {
    let mut msg = [0u8; 12];
    let words = [step as u32, e.into_raw() as u32, aux].map(u32::to_ne_bytes);
    for (slot, &b) in msg.iter_mut().zip(words.iter().flatten()) {
        *slot = b;
    }
    let _ = fs::write_all(pipe, &msg);
    process::exit(125)
}

/// Write this process into the command's cgroup, unless `placed` there by
/// the fork already.
fn join_cgroup(plan: &Plan, placed: bool) -> Result<(), Errno> {
    let procs = plan.cgroup.filter(|_| !placed).into_iter();
    procs
        .flat_map(Cgroup::procs)
        .try_for_each(|fd| crate::sys::cgroup::write_fd(fd, b"0"))
}

/// The child: each step in the SPEC's order, then `execve`. Never returns.
fn child(plan: &Plan, pipe: i32, placed: bool) -> ! {
    let fail = |step: Step, e: Errno, aux: u32| -> ! { fail(pipe, step, e, aux) };
    // No code of the command may run outside its cgroup.
    if let Err(e) = join_cgroup(plan, placed) {
        fail(Step::Cgroup, e, 0);
    }
    if let Err(e) = process::setsid() {
        fail(Step::Setsid, e, 0);
    }
    if plan.take_terminal && fs::take_terminal(0).is_err() {
        log!(
            log::NORMAL,
            "warning: the command could not take the terminal as its controlling terminal"
        );
    }
    if let Err(e) = signal::set_mask(plan.mask) {
        fail(Step::Signals, e, 0);
    }
    if let Err((resource, e)) = limits::apply(plan.limits) {
        fail(Step::Rlimit, e, resource);
    }
    if let Err(e) = privileges::close_inherited_fds(plan.keep_fds) {
        fail(Step::Fds, e, 0);
    }
    if let Some(last) = plan.drop_caps {
        match privileges::drop_bounding_set(last) {
            Ok(()) => {}
            Err(Errno::EPERM) => log!(log::VERBOSE, "no CAP_SETPCAP: bounding set left as it is"),
            Err(e) => fail(Step::Bounding, e, 0),
        }
    }
    if let Err((step, e)) = privileges::set_ids(plan.user, plan.groups) {
        let step = match step {
            IdStep::Groups => Step::Groups,
            IdStep::Gid => Step::Gid,
            IdStep::Uid => Step::Uid,
        };
        fail(step, e, 0);
    }
    if plan.drop_caps.is_some() {
        if let Err(e) = privileges::clear_capabilities() {
            fail(Step::Capabilities, e, 0);
        }
    }
    if let Err(e) = privileges::no_new_privs() {
        fail(Step::NoNewPrivs, e, 0);
    }
    if let Some(sandbox) = plan.landlock {
        if let Err(e) = landlock::enforce(sandbox) {
            fail(Step::Landlock, e, 0);
        }
    }
    if let Some(dir) = plan.chdir {
        if let Err(e) = fs::chdir(dir) {
            fail(Step::Chdir, e, 0);
        }
    }
    if !plan.seccomp.is_empty() {
        if let Err(e) = seccomp::install(plan.seccomp) {
            fail(Step::Seccomp, e, 0);
        }
    }
    fail(Step::Exec, exec(plan), 0)
}

/// `execve` the command, searching `PATH` when its name has no `/`, as
/// `execvp` does: `EACCES` from any candidate wins over "not found".
fn exec(plan: &Plan) -> Errno {
    let name = plan.command.to_bytes();
    if name.contains(&b'/') {
        // SAFETY: argv and envp are null-terminated arrays of C strings that live
        // until the process image is replaced.
        return unsafe { process::execve(plan.command, plan.argv, plan.envp) };
    }
    let mut denied = false;
    let mut buf = [0u8; 4096];
    for dir in plan.search_path.split(|&b| b == b':') {
        let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
        let Some(path) = join(&mut buf, dir, name) else {
            continue;
        };
        // SAFETY: as above; path is NUL-terminated.
        match unsafe { process::execve(path, plan.argv, plan.envp) } {
            Errno::EACCES => denied = true,
            Errno::ENOENT | Errno::ENOTDIR | Errno::ENAMETOOLONG => {}
            e => return e,
        }
    }
    if denied {
        Errno::EACCES
    } else {
        Errno::ENOENT
    }
}

/// `dir/name` as a C string in `buf`; `None` when it does not fit or `name` is empty.
fn join<'b>(buf: &'b mut [u8], dir: &[u8], name: &[u8]) -> Option<&'b CStr> {
    if name.is_empty() {
        return None;
    }
    let len = dir.len() + 1 + name.len();
    let path = buf.get_mut(..=len)?;
    let bytes = dir.iter().chain(b"/").chain(name).chain(b"\0");
    for (slot, &b) in path.iter_mut().zip(bytes) {
        *slot = b;
    }
    CStr::from_bytes_with_nul(path).ok()
}
