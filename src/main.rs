//! proctor's entry point: read the initial stack, then run the SPEC's
//! phases in order — parse, signals, wait, namespaces, spawn, supervise,
//! clean up, report — and exit with the command's status.
#![no_std]
#![no_main]

extern crate alloc;

mod arch;
/// The binary's half of `src/rt/` (the library has the other).
mod rt {
    pub mod heap;
    pub mod mem;
}

use alloc::vec::Vec;
use core::ffi::{c_char, CStr};
use core::mem::ManuallyDrop;
use proctor::args::{self, Action, Config};
use proctor::cgroup::{self, Cgroup};
use proctor::msg;
use proctor::output::{self, Carrier};
use proctor::report::{Destination, Failed, Limits, Outcome, RunUsage, Status, Verdict};
use proctor::rt::pack;
use proctor::rt::vec::push;
use proctor::signals::{self, ParentDeath};
use proctor::spawn::{self, Plan};
use proctor::supervise::{self, Command, Watch};
use proctor::sys::process;
use proctor::sys::{fs, time};
use proctor::{env, error, landlock, leftovers, log, mounts, net, pidns, unprivileged, vm, wait};

#[global_allocator]
static HEAP: rt::heap::Arena = rt::heap::Arena::new();

/// PID 1 must not panic, and a release build proves it: should any panic
/// path survive optimisation, this handler stays referenced, and its call
/// to a symbol defined nowhere fails the link (`undefined symbol:
/// proctor_release_build_has_a_reachable_panic`). To find the path, build
/// with `RUSTFLAGS='--cfg proctor_find_panics'` and look for the callers of
/// `core::panicking`, `slice_index_fail` and `handle_error` in
/// `objdump -d -C target/release/proctor`. A debug build (whose checks are
/// not optimised away) and that one say so and exit like a setup failure.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    #[cfg(not(any(debug_assertions, proctor_find_panics)))]
    {
        extern "C" {
            fn proctor_release_build_has_a_reachable_panic() -> !;
        }
        // SAFETY: never runs: the release binary links only while no call remains.
        unsafe { proctor_release_build_has_a_reachable_panic() }
    }
    #[cfg(any(debug_assertions, proctor_find_panics))]
    {
        log!(Fatal, "internal error");
        process::exit(125)
    }
}

/// Without LTO (debug builds) the precompiled `core` still names the unwinder's
/// personality routine; with `panic = "abort"` nothing ever calls it.
#[cfg(debug_assertions)]
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}

/// Called by `arch::_start` with the initial stack pointer.
///
/// # Safety
/// `sp` must be the stack pointer the kernel gave the process: argc, the
/// argv pointers, a null, the envp pointers, a null.
#[no_mangle]
pub unsafe extern "C" fn entry(sp: *const usize) -> ! {
    // SAFETY: the kernel's initial stack layout, as documented above.
    let (argc, argv) = unsafe { (*sp, sp.add(1) as *const *const c_char) };
    // SAFETY: argv holds argc pointers to NUL-terminated strings, then a null.
    let mut args: Vec<&'static CStr> = Vec::new();
    for i in 1..argc {
        // SAFETY: i < argc.
        let arg = unsafe { CStr::from_ptr(*argv.add(i)) };
        if push(&mut args, arg).is_err() {
            out_of_memory();
        }
    }
    // SAFETY: envp starts after argv's null and ends with a null.
    let envp = unsafe { argv.add(argc + 1) };
    let mut environ: Vec<&'static CStr> = Vec::new();
    // SAFETY: as above; every entry up to the null is a NUL-terminated string.
    while let Some(p) = unsafe { envp.add(environ.len()).as_ref() }.filter(|p| !p.is_null()) {
        // SAFETY: p is a non-null entry of envp.
        if push(&mut environ, unsafe { CStr::from_ptr(*p) }).is_err() {
            out_of_memory();
        }
    }
    // SAFETY: argv[0], when argc > 0, is a NUL-terminated string.
    let argv0 = (argc > 0).then(|| unsafe { CStr::from_ptr(*argv) });
    // SAFETY: argv[1..] is a null-terminated array; argv + 1 + i is within it.
    let command_argv = |i: usize| unsafe { argv.add(1 + i) };
    let code = run(
        argv0.unwrap_or(c"proctor"),
        &args,
        &environ,
        envp,
        command_argv,
    );
    process::exit(code)
}

/// Before the options are known, no report can be written: say it and exit.
fn out_of_memory() -> ! {
    log!(Fatal, "out of memory");
    process::exit(125)
}

fn run(
    argv0: &CStr,
    args: &[&'static CStr],
    environ: &[&'static CStr],
    envp: *const *const c_char,
    argv_at: impl Fn(usize) -> *const *const c_char,
) -> u8 {
    let cfg = match args::parse_as(argv0.to_bytes(), environ, args) {
        // Lives until exit, and the arena would reuse none of its memory:
        // no drop glue.
        Ok(Action::Run(cfg)) => ManuallyDrop::new(cfg),
        Ok(Action::Help) => return print_usage(),
        Ok(Action::License) => return print(LICENSE),
        Ok(Action::Version) => return print(concat!("proctor ", env!("CARGO_PKG_VERSION"), "\n")),
        Err(e) => {
            log!(Fatal, "{}", e);
            return 125;
        }
    };
    log::set_verbosity(cfg.verbosity);
    if cfg.log_reaped {
        log::log_reaped_processes();
    }
    // tini's -p: the parent proctor has now, to tell later whether it died already.
    let parent_death = cfg.pdeathsig.map(|signal| ParentDeath {
        signal,
        parent: process::getppid(),
    });
    // A command with proctor's uid can then neither trace proctor nor read
    // its /proc entries (environ, mem, fd). Needs no privilege.
    if let Err(e) = process::prctl(process::PR_SET_DUMPABLE, 0, 0) {
        log!(Warning, "warning: PR_SET_DUMPABLE: {}", error::ErrnoName(e));
    }
    let is_pid1 = process::getpid() == 1;
    if cfg.vm() && is_pid1 {
        // Before anything is opened: a bare initramfs has an empty /dev.
        vm::mount_basics();
    }
    let opened = cfg
        .report
        .map(|r| Destination::open(r, !cfg.mounts.is_empty() || cfg.vm() || cfg.pid_ns));
    // Looked at where it is: a Destination is large, and moving it is code.
    let report = match &opened {
        Some(Err(e)) => {
            log!(Fatal, "{}", e);
            return 125;
        }
        Some(Ok(dest)) => Some(dest),
        None => None,
    };
    let invocation = Invocation {
        args,
        environ,
        envp,
        argv: argv_at(cfg.command),
    };
    let mut outcome = match phases(&cfg, is_pid1, parent_death, &invocation, report) {
        Ok(outcome) => outcome,
        Err(failed) => failed.into(),
    };
    let ms = |t: Option<u64>| t.map(|t| t / 1_000_000);
    // Without a cgroup, no limit of one.
    let r = cfg.cgroup.unwrap_or_default();
    outcome.limits = Limits {
        memory: r.memory,
        pids: r.pids,
        cpus_micro: r.cpus_micro,
        cpu_time_ms: ms(r.cpu_time),
        output: cfg.output_limit,
        timeout_ms: ms(cfg.timeout),
    };
    outcome.map_exit_codes_to_zero(&cfg.exit_zero);
    if let (Some(msg), false) = (&outcome.message, outcome.status == Status::Timeout) {
        if outcome.status == Status::Cancelled {
            log!(Warning, "{}", error::Show(msg));
        } else {
            log!(Fatal, "{}", error::Show(msg));
        }
    }
    if let Some(dest) = report {
        if let Err(e) = outcome.to_json().and_then(|json| dest.write(&json)) {
            log!(Fatal, "{}", e);
        }
    }
    if cfg.vm() && is_pid1 {
        vm::end(&cfg, outcome.exit_code);
    }
    let code = outcome.exit_code;
    // Freed by exit: no drop glue (a ManuallyDrop around the outcome would
    // copy it, 0.4 KiB of code).
    core::mem::forget((outcome, opened));
    code
}

/// proctor's arguments, its environment (as strings, and the raw `envp`
/// whose withheld values are wiped), and the command's argv.
struct Invocation<'a> {
    args: &'a [&'a CStr],
    environ: &'a [&'a CStr],
    envp: *const *const c_char,
    argv: *const *const c_char,
}

/// A slot of supervision's watches that watches nothing.
struct NoWatch;
impl Watch for NoWatch {}

/// Steps 2 to 7 of the SPEC's order of work. Until the command exists, any
/// failure ends the run with its outcome.
///
/// What it opens and builds lives until exit: a failure ends proctor, whose
/// exit closes and frees it all, so drops on each `?` would only be code
/// (hence the `ManuallyDrop`s). One function: handing what the command's
/// start made over to its supervision in a struct cost 0.25 KiB of moves.
fn phases(
    cfg: &Config,
    is_pid1: bool,
    parent_death: Option<ParentDeath>,
    inv: &Invocation,
    report: Option<&Destination>,
) -> Result<Outcome, Failed> {
    // Opened next to the report's directory, before any mount can hide them.
    let files = ManuallyDrop::new(output::Files::open(cfg)?);
    // What is checked now is what the command gets: no later mount can hide it.
    let sandbox = ManuallyDrop::new(landlock::prepare(cfg, files.outputs())?);
    // 2. Signals; open until exit, which closes it: a close before buys nothing.
    let mut signals = ManuallyDrop::new(signals::prepare(is_pid1, parent_death)?);
    unprivileged::check(cfg)?;
    if cfg.vm() {
        vm::init(cfg, is_pid1)?;
    }
    // 3. --wait-for.
    let watcher = ManuallyDrop::new(wait::wait(cfg, &mut signals)?);
    // 4. Namespaces, mounts, the cgroup.
    if cfg.net_none {
        net::isolate()?;
    }
    let cwd = ManuallyDrop::new(spawn::starting_directory(cfg)?);
    mounts::apply(&cfg.mounts, cfg.pid_ns)?;
    let mut cgroup = ManuallyDrop::new(match &cfg.cgroup {
        Some(r) => Some(cgroup::setup(r, is_pid1)?),
        None => None,
    });
    let mut carrier = ManuallyDrop::new(None);
    let stdio = match cfg.output_limit {
        Some(limit) => Carrier::open(&files, limit, &mut carrier)?,
        None => files.stdio(),
    };
    // Supervision will poll the output pipes or the inner init's pipe beside
    // the signalfd: open it while a failure is still a setup error.
    if carrier.is_some() || cfg.pid_ns {
        signals
            .fd()
            .map_err(|e| error::Error::sys(msg!("signalfd"), e))?;
    }
    // 5. The child's plan, and the fork.
    let mut plan = ManuallyDrop::new(Plan::new(
        cfg,
        inv.args,
        inv.argv,
        signals.inherited,
        cwd.as_deref(),
        cgroup.as_ref(),
        stdio,
    ));
    plan.prepare(cfg, inv.environ, ManuallyDrop::into_inner(sandbox))?;
    for i in env::withheld(inv.environ, plan.environment()) {
        // SAFETY: envp holds environ.len() pointers (i is an index of environ)
        // to the NUL-terminated strings of the initial stack, which is
        // writable; the withheld entries are never read again.
        unsafe { wipe_value(*inv.envp.add(i) as *mut u8) };
    }
    if cfg.vm() && is_pid1 {
        vm::protect(cfg);
    }
    let spawned = spawn::spawn(&plan);
    let inner_init = plan.take_inner_init();
    if let Some(cg) = cgroup.as_mut() {
        cg.placed();
    }
    let pid = match spawned {
        Ok(pid) => pid,
        Err(failed) => {
            if let Some(cg) = ManuallyDrop::into_inner(cgroup) {
                cg.remove();
            }
            return Err(failed);
        }
    };
    let started = time::monotonic();
    if let Some(c) = carrier.as_mut() {
        c.started();
    }
    // Once the command runs (a command that never ran was exposed to nothing).
    if let Some(r) = report.filter(|r| landlock::reaches(cfg, r.dir_path())) {
        r.warn_if_exposed(cfg.user, &cfg.groups, cfg.keep_caps);
    }
    // Slow to close (see wait::wait_for): only now that the command runs.
    drop(ManuallyDrop::into_inner(watcher));
    log!(Verbose, "started the command as pid {}", pid);
    // proctor's own working directory must not pin any mount.
    let _ = fs::chdir(c"/");
    let cmd = Command {
        pid,
        started,
        single_child: cfg.single_child,
        rewrite: &cfg.rewrite,
        inner_init: inner_init.as_ref().map(pidns::Reader::fd),
    };
    let mut cgroup = ManuallyDrop::into_inner(cgroup);
    // 6. Supervise until the command ends.
    let (mut idle, mut idle_out, mut idle_err) = (NoWatch, NoWatch, NoWatch);
    let mut cg = cgroup.as_mut();
    let cpu_time: &mut dyn Watch = match &mut cg {
        Some(cg) => cg,
        None => &mut idle,
    };
    let mut pumps = carrier.as_mut().map(Carrier::pumps);
    let (out, err): (&mut dyn Watch, &mut dyn Watch) = match &mut pumps {
        Some([out, err]) => (out, err),
        None => (&mut idle_out, &mut idle_err),
    };
    let watches = &mut [cpu_time, out, err];
    let ended = supervise::supervise(cmd, &mut signals, cfg.timeout, cfg.kill_after, watches);
    log!(Verbose, "the command ended");
    // 7. Its leftovers, and what it used. Read before the leftovers are
    // killed: the OOM kills that ended the command.
    let oom_killed = cgroup.as_ref().and_then(Cgroup::oom_kills).unwrap_or(0) > 0;
    let (exit, leftovers, usage) = match inner_init {
        None => {
            let leftovers = leftovers::kill(is_pid1, cfg.kill_after, cgroup.as_ref());
            (ended.exit, leftovers, process::children_usage())
        }
        // The inner init killed and counted the leftovers in the namespace,
        // whose end took everything with it; a cgroup goes at once too.
        Some(reader) => {
            let r = pidns::finish(reader, cmd.pid, cfg.kill_after);
            let deadline = leftovers::deadline(cfg.kill_after);
            let stragglers = cgroup
                .as_ref()
                .map_or(0, |cg| leftovers::kill_cgroup(cg, deadline));
            let usage = r.usage.unwrap_or_else(process::children_usage);
            (
                r.exit.unwrap_or(ended.exit),
                r.leftovers + stragglers,
                usage,
            )
        }
    };
    let usage = RunUsage::new(ended.wall, usage);
    let killed_by_oom = oom_killed && exit == process::Exit::Signal(9);
    // Leftovers are dead: nothing but the pipes' contents is left to carry.
    let output = carrier
        .as_mut()
        .map(|c| c.finish(time::monotonic().saturating_add(cfg.kill_after)));
    let truncated = output.is_some_and(|o| o.truncated);
    let verdict = ended
        .verdict
        .or(killed_by_oom.then_some(Verdict::MemoryLimit))
        .or(truncated.then_some(Verdict::OutputLimit));
    let mut outcome = Outcome::ran(exit, verdict, usage, leftovers);
    outcome.output = output;
    if let Some(cg) = cgroup {
        outcome.tree = Some(cg.usage());
        cg.remove();
    }
    Ok(outcome)
}

/// Overwrite the value of the `NAME=VALUE` string at `var` with zeros, so
/// that no later reader of proctor's memory finds it.
///
/// # Safety
/// `var` must point to a writable, NUL-terminated string that no reference
/// is used to read afterwards.
// Not inlined: smaller so (measured; this flips with others' changes).
#[inline(never)]
unsafe fn wipe_value(var: *mut u8) {
    let mut p = var;
    let mut in_value = false;
    // SAFETY: every byte up to the NUL belongs to the string (caller's contract).
    while unsafe { p.read() } != 0 {
        if in_value {
            // SAFETY: as above; volatile, so the stores are never elided.
            unsafe { p.write_volatile(0) };
        } else {
            // SAFETY: as above.
            in_value = unsafe { p.read() } == b'=';
        }
        // SAFETY: p is not at the NUL yet, so p + 1 is within the string.
        p = unsafe { p.add(1) };
    }
}

/// The help text is stored packed (rt::pack): expand it on the stack.
fn print_usage() -> u8 {
    let mut buf = [0; pack::LEN];
    print_bytes(pack::usage(&mut buf))
}

fn print(text: &str) -> u8 {
    print_bytes(text.as_bytes())
}

fn print_bytes(text: &[u8]) -> u8 {
    match fs::write_all(1, text) {
        Ok(()) => 0,
        Err(_) => 125,
    }
}

const LICENSE: &str = concat!(
    "proctor ",
    env!("CARGO_PKG_VERSION"),
    " is licensed under MIT OR Apache-2.0, at your option:\n",
    "https://opensource.org/licenses/MIT\n",
    "https://www.apache.org/licenses/LICENSE-2.0\n"
);
