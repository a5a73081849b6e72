//! Fork the command and run the child's ordered plan up to `execve`.
//!
//! Everything the child needs is prepared before the fork, so the child
//! allocates nothing. A failing step sends (step, errno, detail) through a
//! close-on-exec pipe; the parent reads end-of-file when `execve` succeeded.

use crate::args::rlimit;
use crate::args::Config;
use crate::cgroup::Cgroup;
use crate::error::{Error, Show};
use crate::output::Stdio;
use crate::report::{Failed, Failure};
use crate::rt::cstr::OwnedCStr;
use crate::rt::pack::Msg;
use crate::rt::vec::{extend, push};
use crate::sys::process::{self, Pid};
use crate::sys::seccomp::Insn;
use crate::sys::signal::{self, SigSet};
use crate::sys::{fs, Errno};
use crate::{env, err, landlock, limits, mounts, msg, pidns, privileges, seccomp};
use alloc::vec::Vec;
use core::convert::Infallible;
use core::ffi::{c_char, CStr};
use core::mem::ManuallyDrop;

/// The child's plan, prepared before the fork. It lives until exit, which
/// frees and closes it all: what [`Plan::prepare`] fills in is never dropped
/// (hence the `ManuallyDrop`s: filling a field would drop its empty value,
/// and a failure what was made before it, in code only).
// `repr(C)`: in this order, what the child's steps read most comes
// first, at offsets below 128 (one byte in an instruction, not four).
#[repr(C)]
pub struct Plan<'a> {
    /// The command's argv, a null-terminated array (argv[0] is the command).
    argv: *const *const c_char,
    command: &'a CStr,
    /// The command's environment as a null-terminated array.
    envp: Vec<*const c_char>,
    /// `PATH` to search when the command has no `/`.
    search_path: &'a [u8],
    /// The signal mask proctor inherited.
    mask: SigSet,
    /// What the options say (`--rlimit`, `--keep-fd`, `--user`, `--groups`).
    cfg: &'a Config<'a>,
    chdir: Option<&'a CStr>,
    /// The command's cgroup, joined before anything else.
    cgroup: Option<&'a Cgroup>,
    /// The last capability to drop from the bounding set; `None` with `--keep-caps`.
    drop_caps: Option<u32>,
    /// `--landlock`'s ruleset descriptor.
    landlock: Option<i32>,
    seccomp: ManuallyDrop<Vec<Insn>>,
    /// What to copy onto the command's descriptors 0, 1, 2 (-1: keep proctor's).
    stdio: Stdio,
    take_terminal: bool,
    /// The command's environment.
    vars: ManuallyDrop<Vec<&'a CStr>>,
    /// `--landlock`'s ruleset, held open until the fork.
    _sandbox: ManuallyDrop<Option<landlock::Sandbox>>,
    /// `--pid-ns`: the command runs under an inner init, PID 1 of a new
    /// PID namespace, which is the child proctor supervises.
    pid_ns: ManuallyDrop<Option<pidns::Init>>,
}

const DEFAULT_PATH: &[u8] = b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl<'a> Plan<'a> {
    /// What the child will need that cannot fail to be known: `args` are
    /// proctor's arguments, `argv` the command's argv array among them,
    /// `mask` the inherited signal mask, `cwd` the directory found by
    /// [`starting_directory`], `cgroup` the command's and `stdio` what
    /// becomes its 0, 1 and 2. [`Plan::prepare`] does the rest.
    pub fn new(
        cfg: &'a Config,
        args: &[&'a CStr],
        argv: *const *const c_char,
        mask: SigSet,
        cwd: Option<&'a CStr>,
        cgroup: Option<&'a Cgroup>,
        stdio: Stdio,
    ) -> Plan<'a> {
        Plan {
            argv,
            command: args.get(cfg.command).copied().unwrap_or_default(),
            vars: ManuallyDrop::new(Vec::new()),
            envp: Vec::new(),
            search_path: DEFAULT_PATH,
            mask,
            // `--stdin` wins over a terminal: the command gets no controlling terminal.
            take_terminal: cfg.stdin.is_none() && fs::is_terminal(0),
            stdio,
            cfg,
            drop_caps: (!cfg.keep_caps).then(privileges::last_cap),
            chdir: cfg.chdir.or(cwd),
            cgroup,
            _sandbox: ManuallyDrop::new(None),
            landlock: None,
            seccomp: ManuallyDrop::new(Vec::new()),
            pid_ns: ManuallyDrop::new(None),
        }
    }

    /// The parts that can fail: the command's environment from proctor's
    /// `environ`, `--landlock`'s ruleset from `sandbox` (finished now that
    /// the mounts are in place), the seccomp program, `--pid-ns`'s pipe.
    /// Filled in place: a `Plan` is large, and a `Result` of one is copied.
    /// On a failure, proctor exits: what was made stays (see [`Plan`]).
    // Not inlined into main: smaller so (measured).
    #[inline(never)]
    pub fn prepare(
        &mut self,
        cfg: &'a Config,
        environ: &[&'a CStr],
        sandbox: Option<landlock::Sandbox>,
    ) -> Result<(), Error> {
        let sandbox = ManuallyDrop::new(sandbox);
        env::build(&mut self.vars, environ, cfg.clear_env, &cfg.env)?;
        for p in self
            .vars
            .iter()
            .map(|v| v.as_ptr())
            .chain([core::ptr::null()])
        {
            push(&mut self.envp, p)?;
        }
        if let Some(path) = env::get(&self.vars, b"PATH") {
            self.search_path = path;
        }
        if cfg.keep_caps && !cfg.docker_init {
            log!(
                Warning,
                "warning: --keep-caps: the command keeps proctor's capabilities"
            );
        }
        if let Some(s) = &*sandbox {
            self.landlock = Some(s.finish(cfg)?);
        }
        self._sandbox = sandbox;
        filter(cfg, &mut self.seccomp)?;
        self.pid_ns = ManuallyDrop::new(pidns::Init::plan(cfg)?);
        Ok(())
    }
}

/// The seccomp program, into `p`: the deny-list (unless `--seccomp none`),
/// behind `--no-tcp`'s guard against TCP Fast Open.
fn filter(cfg: &Config, p: &mut Vec<Insn>) -> Result<(), Error> {
    if cfg.seccomp {
        extend(p, seccomp::program())?;
    }
    if cfg.no_tcp {
        landlock::guard_fast_open(p)?;
    }
    Ok(())
}

impl<'a> Plan<'a> {
    /// The command's environment (strings of proctor's own environment and
    /// command line).
    pub fn environment(&self) -> &[&'a CStr] {
        &self.vars
    }

    /// Once the command runs: with `--pid-ns`, the end of the pipe the
    /// inner init reports through (the other end is closed).
    pub fn take_inner_init(&mut self) -> Option<pidns::Reader> {
        self.pid_ns.take().map(pidns::Init::into_reader)
    }
}

/// Where the command starts when `--chdir` does not say: proctor's own
/// directory, taken before the mounts and looked up again by path after
/// them, so that the command sees what the mounts put there. `None` when
/// nothing is mounted (the child simply stays where it is).
pub fn starting_directory(cfg: &Config) -> Result<Option<OwnedCStr>, Error> {
    if cfg.mounts.is_empty() || cfg.chdir.is_some() {
        return Ok(None);
    }
    let mut buf = [0u8; 4096];
    let dir = fs::getcwd(&mut buf).map_err(|e| Error::sys(msg!("getcwd"), e))?;
    OwnedCStr::new(dir)
        .map(Some)
        .map_err(|e| Error::sys(msg!("getcwd"), e.into()))
}

/// The steps of the child, in order. A step's number (its discriminant)
/// is what crosses the pipe, and where [`NAMES`] names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Step {
    /// Joining the command's cgroup (before the SPEC's steps).
    Cgroup,
    Setsid,
    /// Copying a descriptor onto the command's 0, 1 or 2 (the detail).
    Stdio,
    Signals,
    /// Setting the resource `RLIMIT_*` of the detail.
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
    /// The inner init's (`--pid-ns`): mounting `mounts::proc_mount(detail)`,
    /// or with a detail past the last, forking the command.
    PidNs,
}

/// The steps as messages name them, by number.
const NAMES: [Msg; 17] = [
    msg!("joining the cgroup"),
    msg!("setsid"),
    msg!("stdin/stdout/stderr"),
    msg!("signal mask"),
    msg!("--rlimit"),
    msg!("descriptors"),
    msg!("bounding set"),
    msg!("setgroups"),
    msg!("setresgid"),
    msg!("setresuid"),
    msg!("capabilities"),
    msg!("no_new_privs"),
    msg!("landlock"),
    msg!("chdir"),
    msg!("seccomp"),
    msg!("exec"),
    msg!("--pid-ns"),
];
// One name per step: `numbered` and `name` rely on it.
const _: () = assert!(NAMES.len() == Step::PidNs as usize + 1);

impl Step {
    /// The step numbered `n` (its discriminant), if there is one.
    fn numbered(n: u32) -> Option<Step> {
        // SAFETY: `Step` is a fieldless `repr(u8)` enum with implicit
        // discriminants, so its values are exactly 0..=PidNs.
        (n <= Step::PidNs as u32).then(|| unsafe { core::mem::transmute::<u8, Step>(n as u8) })
    }

    /// The step as messages name it. (`get`: an index the compiler would
    /// check anyway; the fallback is never taken.)
    pub fn name(self) -> Msg {
        NAMES.get(self as usize).copied().unwrap_or(msg!("exec"))
    }

    /// The step failed with `errno`, on what `detail` says (a descriptor,
    /// a resource, a mount).
    pub fn failed(self, detail: u32, errno: Errno) -> ChildFailure {
        ChildFailure {
            step: self,
            detail,
            errno,
        }
    }
}

/// A step of the child that failed, as it travels through the pipe: three
/// native-endian words (step, errno, the step's detail).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChildFailure {
    pub step: Step,
    pub detail: u32,
    pub errno: Errno,
}

/// A step without detail that failed.
impl From<(Step, Errno)> for ChildFailure {
    fn from((step, errno): (Step, Errno)) -> ChildFailure {
        step.failed(0, errno)
    }
}

impl ChildFailure {
    pub const LEN: usize = 12;

    pub fn to_bytes(self) -> [u8; Self::LEN] {
        let [a0, a1, a2, a3] = (self.step as u32).to_ne_bytes();
        let [b0, b1, b2, b3] = self.errno.into_raw().to_ne_bytes();
        let [c0, c1, c2, c3] = self.detail.to_ne_bytes();
        [a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3]
    }

    /// `None` for a message no child of this proctor writes.
    pub fn from_bytes(bytes: &[u8; Self::LEN]) -> Option<ChildFailure> {
        let word = |i: usize| {
            let word = bytes.get(i..i + 4).and_then(|w| w.try_into().ok());
            u32::from_ne_bytes(word.unwrap_or_default())
        };
        let step = Step::numbered(word(0))?;
        Some(step.failed(word(8), Errno::new(word(4) as i32)))
    }
}

/// Fork and start the command; returns its pid once `execve` succeeded
/// (with `--pid-ns`, the inner init's).
pub fn spawn(plan: &Plan) -> Result<Pid, Failed> {
    if plan.take_terminal {
        release_terminal();
    }
    let setup = |call, e| Failed::from(Error::sys(call, e));
    let (rd, wr) = fs::pipe().map_err(|e| setup(msg!("pipe"), e))?;
    let (pid, placed) = fork(plan).map_err(|e| match *plan.pid_ns {
        Some(_) => mounts::mount_error(msg!("--pid-ns"), b"clone(CLONE_NEWPID)", e).into(),
        None => setup(msg!("fork"), e),
    })?;
    if pid == 0 {
        drop(rd);
        match &*plan.pid_ns {
            None => child(plan, wr.raw(), placed),
            Some(init) => inner_init(plan, init, wr.raw(), placed),
        }
    }
    drop(wr);
    let mut msg = [0u8; ChildFailure::LEN];
    // One read: the child's one write, shorter than PIPE_BUF, is atomic.
    if fs::read(rd.raw(), &mut msg).unwrap_or(0) == 0 {
        return Ok(pid);
    }
    // The child failed before execve and exits; collect it before reporting.
    let _ = process::wait_pid(pid);
    let failure = ChildFailure::from_bytes(&msg).unwrap_or(Step::Exec.failed(0, Errno::EIO));
    Err(describe(plan, failure))
}

/// Turn the child's failure into a message and its kind.
fn describe(
    plan: &Plan,
    ChildFailure {
        step,
        detail,
        errno,
    }: ChildFailure,
) -> Failed {
    let name = step.name();
    let mut why = Failure::Setup;
    let error = match (step, errno) {
        // What the command's name or the directory says.
        (Step::Exec | Step::Chdir, _) => {
            let shown = if step == Step::Exec {
                why = match errno {
                    Errno::ENOENT | Errno::ENOTDIR => Failure::NotFound,
                    _ => Failure::NotExecutable,
                };
                plan.command.to_bytes()
            } else {
                plan.chdir.map_or(&b"?"[..], |d| d.to_bytes())
            };
            err!(name, Some(errno), "{}", Show(shown))
        }
        (Step::Rlimit, _) => {
            let hint = if errno == Errno::EPERM {
                msg!(" (raising a hard limit needs CAP_SYS_RESOURCE)")
            } else {
                msg!("")
            };
            err!(name, Some(errno), "{}{}", rlimit::name(detail), hint)
        }
        (Step::Groups | Step::Gid | Step::Uid, Errno::EPERM) => {
            let needs = if step == Step::Uid {
                msg!("needs CAP_SETUID")
            } else {
                msg!("needs CAP_SETGID")
            };
            Error::noted(name, Some(errno), needs)
        }
        (Step::PidNs, _) => {
            let what = mounts::proc_mount(detail as usize).unwrap_or(c"fork");
            mounts::mount_error(name, what.to_bytes(), errno)
        }
        _ => Error::sys(name, errno),
    };
    Failed { why, error }
}

/// Let go of the controlling terminal so the child's new session can take
/// it, swallowing the SIGHUP and SIGCONT a session leader gets for it.
fn release_terminal() {
    if fs::release_terminal(0).is_ok() && process::getsid() == process::getpid() {
        let hangup = const { SigSet::of(&[signal::SIGHUP, signal::SIGCONT]) };
        while let Ok(Some(_)) = signal::wait(hangup, Some(0)) {}
    }
}

/// Fork (with `--pid-ns`, into a new PID namespace); with a cgroup v2,
/// straight into the command's cgroup (`CLONE_INTO_CGROUP`), which
/// `placed` says.
fn fork(plan: &Plan) -> Result<(Pid, bool), Errno> {
    let new_pid_ns = plan.pid_ns.is_some();
    if let Some(dir) = plan.cgroup.and_then(Cgroup::clone_into) {
        match crate::sys::cgroup::fork_into(dir, new_pid_ns) {
            Ok(pid) => return Ok((pid, true)),
            // A kernel before 5.7, or a seccomp profile that hides clone3:
            // the child writes itself into its cgroup instead.
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

/// The child: each step in the SPEC's order, then `execve`; a failure
/// goes through the pipe. Never returns.
fn child(plan: &Plan, pipe: i32, placed: bool) -> ! {
    let Err(failure) = steps(plan, placed);
    fail(pipe, failure)
}

/// With `--pid-ns`, the child is the inner init: in the command's cgroup
/// first (no code of the namespace runs outside it), it starts the command,
/// which inherits the cgroup. Never returns.
fn inner_init(plan: &Plan, init: &pidns::Init, pipe: i32, placed: bool) -> ! {
    let failure = match join_cgroup(plan, placed) {
        Err(e) => Step::Cgroup.failed(0, e),
        Ok(()) => {
            let (what, e) = pidns::init(init, || child(plan, pipe, true));
            Step::PidNs.failed(what as u32, e)
        }
    };
    fail(pipe, failure)
}

/// Tell the parent through `pipe` which step failed, and exit.
fn fail(pipe: i32, failure: ChildFailure) -> ! {
    let _ = fs::write_all(pipe, &failure.to_bytes());
    process::exit(125)
}

/// Write this process into the command's cgroup, unless the fork `placed`
/// it there.
fn join_cgroup(plan: &Plan, placed: bool) -> Result<(), Errno> {
    match plan.cgroup {
        Some(cg) if !placed => cg
            .join_files()
            .try_for_each(|fd| crate::sys::cgroup::write_fd(fd, b"0")),
        _ => Ok(()),
    }
}

/// Steps 5.1 to 5.12 of the SPEC's order of work, after joining the
/// command's cgroup unless the fork `placed` the child there.
fn steps(plan: &Plan, placed: bool) -> Result<Infallible, ChildFailure> {
    let at = |step: Step| move |e: Errno| step.failed(0, e);
    // No code of the command may run outside its cgroup.
    join_cgroup(plan, placed).map_err(at(Step::Cgroup))?;
    process::setsid().map_err(at(Step::Setsid))?;
    if plan.take_terminal && fs::take_terminal(0).is_err() {
        log!(
            Warning,
            "warning: the command could not take the terminal as its controlling terminal"
        );
    }
    for (target, &from) in (0..).zip(&plan.stdio) {
        if from >= 0 {
            fs::dup_onto(from, target).map_err(|e| Step::Stdio.failed(target as u32, e))?;
        }
    }
    signal::set_mask(plan.mask).map_err(at(Step::Signals))?;
    limits::apply(&plan.cfg.rlimits)?;
    privileges::close_inherited_fds(&plan.cfg.keep_fds).map_err(at(Step::Fds))?;
    if let Some(last) = plan.drop_caps {
        match privileges::drop_bounding_set(last) {
            Ok(()) => {}
            Err(Errno::EPERM) => log!(Verbose, "no CAP_SETPCAP: bounding set left as it is"),
            Err(e) => return Err(Step::Bounding.failed(0, e)),
        }
    }
    privileges::set_ids(plan.cfg.user, &plan.cfg.groups)?;
    if plan.drop_caps.is_some() {
        privileges::clear_capabilities().map_err(at(Step::Capabilities))?;
    }
    privileges::no_new_privs().map_err(at(Step::NoNewPrivs))?;
    if let Some(ruleset) = plan.landlock {
        landlock::enforce(ruleset).map_err(at(Step::Landlock))?;
    }
    if let Some(dir) = plan.chdir {
        fs::chdir(dir).map_err(at(Step::Chdir))?;
    }
    if !plan.seccomp.is_empty() {
        seccomp::install(&plan.seccomp).map_err(at(Step::Seccomp))?;
    }
    Err(Step::Exec.failed(0, exec(plan)))
}

/// `execve` the command, searching `PATH` when its name has no `/`, as
/// `execvp` does: `EACCES` from any candidate wins over "not found".
fn exec(plan: &Plan) -> Errno {
    let name = plan.command.to_bytes();
    if fs::position(name, b'/').is_some() {
        // SAFETY: argv and envp are null-terminated arrays of C strings that live
        // until the process image is replaced.
        return unsafe { process::execve(plan.command, plan.argv, plan.envp.as_ptr()) };
    }
    let mut denied = false;
    let mut buf = [0u8; 4096];
    // `split(b':')` by hand: core's Split is more code.
    let mut rest = Some(plan.search_path);
    while let Some(path) = rest {
        let (dir, next) = match fs::position(path, b':') {
            Some(i) => (path.get(..i), path.get(i + 1..)),
            None => (Some(path), None),
        };
        rest = next;
        let dir = dir.filter(|d| !d.is_empty()).unwrap_or(b".");
        let Some(path) = join(&mut buf, dir, name) else {
            continue;
        };
        // SAFETY: as above; path is NUL-terminated.
        match unsafe { process::execve(path, plan.argv, plan.envp.as_ptr()) } {
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
// Not inlined: smaller so (measured).
#[inline(never)]
fn join<'b>(buf: &'b mut [u8], dir: &[u8], name: &[u8]) -> Option<&'b CStr> {
    if name.is_empty() {
        return None;
    }
    let mut len = 0;
    for part in [dir, b"/", name, b"\0"].iter() {
        buf.get_mut(len..len + part.len())?.copy_from_slice(part);
        len += part.len();
    }
    fs::until_nul(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_failures_cross_the_pipe_whole() {
        for number in 0..=Step::PidNs as u32 {
            let step = Step::numbered(number).unwrap();
            assert_eq!(step as u32, number);
            let sent = step.failed(7, Errno::EACCES);
            assert_eq!(ChildFailure::from_bytes(&sent.to_bytes()), Some(sent));
            assert_eq!(step.name(), NAMES[number as usize]);
        }
        assert_eq!(Step::PidNs.name(), msg!("--pid-ns"));
        assert_eq!(
            ChildFailure::from_bytes(&[17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            None
        );
    }
}
