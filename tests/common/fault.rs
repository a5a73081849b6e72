//! Fault injection: the test harness (never proctor) installs a seccomp
//! filter that makes chosen system calls fail, then execs proctor under it,
//! to show how proctor behaves on an old kernel, under a container's seccomp
//! profile, or when the kernel runs out of something.
//!
//! The filter is installed by the test binary itself, re-executed as
//! `TESTBIN --fault-filter HEX PROCTOR ARGS…` in place of proctor inside
//! the throwaway PID namespace of [`super::command`]: an `.init_array` hook
//! runs before the test harness, installs the filter and execs proctor,
//! which thus stays PID 1 (or the subreaper) exactly as in every other test,
//! and alone (with what it starts) runs under the filter.
use super::Mode;
use libc::{c_char, c_int, c_long, sock_filter};
use std::ffi::{CStr, OsStr};
use std::process::{Command, Output};
use std::time::Duration;

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7;

/// The mount calls of kernels newer than 4.18 (`openat2` included), which
/// an old kernel lacks (ENOSYS) or a container's profile refuses (EPERM).
pub const NEW_MOUNT_API: [c_long; 7] = [
    libc::SYS_openat2,
    libc::SYS_open_tree,
    libc::SYS_move_mount,
    libc::SYS_mount_setattr,
    libc::SYS_fsopen,
    libc::SYS_fsconfig,
    libc::SYS_fsmount,
];

/// Which calls of a system call fail.
#[derive(Clone, Copy, Debug)]
pub enum When {
    Always,
    /// The low 32 bits of argument `n` have one of these bits set.
    ArgHas(u32, u32),
}

/// Make system call `nr` answer `errno` (when `when` holds).
#[derive(Clone, Copy, Debug)]
pub struct Fault {
    pub nr: c_long,
    pub when: When,
    pub errno: c_int,
}

/// System call `nr` always answers `errno`.
pub fn fail(nr: c_long, errno: c_int) -> Fault {
    Fault {
        nr,
        when: When::Always,
        errno,
    }
}

/// Each of `nrs` always answers `errno`.
pub fn fail_all(nrs: &[c_long], errno: c_int) -> Vec<Fault> {
    nrs.iter().map(|&nr| fail(nr, errno)).collect()
}

/// proctor with `args` in `mode`, under a filter that injects `faults`
/// (none: [`super::command`] itself).
pub fn command(mode: Mode, faults: &[Fault], args: &[&str]) -> Command {
    if faults.is_empty() {
        return super::command(mode, args);
    }
    wrapped(mode, &[], faults, args)
}

/// As [`command`], with `outer` (e.g. [`super::AS_UID_1000`]) exec'ing the
/// harness that installs the filter and execs proctor.
pub fn wrapped(mode: Mode, outer: &[&OsStr], faults: &[Fault], args: &[&str]) -> Command {
    let me = std::env::current_exe().expect("test binary");
    let filter = hex(&program(faults));
    let mut wrapper = outer.to_vec();
    wrapper.extend([me.as_os_str(), "--fault-filter".as_ref(), filter.as_ref()]);
    super::wrapped(mode, &wrapper, args)
}

/// Run [`command`] with the usual time limit.
pub fn run(mode: Mode, faults: &[Fault], args: &[&str]) -> Output {
    super::run_cmd(command(mode, faults, args), Duration::from_secs(60))
}

/// `PROGRAM ARGS…` (not proctor) under `faults`: to check the harness itself.
pub fn plain(faults: &[Fault], program: &str, args: &[&str]) -> Command {
    let mut c = Command::new(std::env::current_exe().expect("test binary"));
    c.arg("--fault-filter").arg(hex(&self::program(faults)));
    c.arg(program).args(args);
    c
}

/// The classic BPF program: other architectures and other calls are allowed.
fn program(faults: &[Fault]) -> Vec<sock_filter> {
    const LD_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
    const JEQ: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
    const JSET: u16 = (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16;
    const RET: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
    let op = |code, jt, jf, k| sock_filter { code, jt, jf, k };
    let mut p = vec![
        op(LD_ABS, 0, 0, 4), // seccomp_data.arch
        op(JEQ, 1, 0, AUDIT_ARCH),
        op(RET, 0, 0, libc::SECCOMP_RET_ALLOW),
    ];
    for f in faults {
        let errno = op(RET, 0, 0, libc::SECCOMP_RET_ERRNO | f.errno as u32);
        p.push(op(LD_ABS, 0, 0, 0)); // seccomp_data.nr
        match f.when {
            When::Always => p.extend([op(JEQ, 0, 1, f.nr as u32), errno]),
            When::ArgHas(n, bits) => p.extend([
                op(JEQ, 0, 3, f.nr as u32),
                op(LD_ABS, 0, 0, 16 + 8 * n), // low word of seccomp_data.args[n]
                op(JSET, 0, 1, bits),
                errno,
            ]),
        }
    }
    p.push(op(RET, 0, 0, libc::SECCOMP_RET_ALLOW));
    p
}

fn hex(p: &[sock_filter]) -> String {
    p.iter()
        .map(|i| format!("{:04x}{:02x}{:02x}{:08x}", i.code, i.jt, i.jf, i.k))
        .collect()
}

fn unhex(s: &[u8]) -> Option<Vec<sock_filter>> {
    let num = |b: &[u8]| u32::from_str_radix(std::str::from_utf8(b).ok()?, 16).ok();
    s.chunks(16)
        .map(|c| {
            (c.len() == 16).then_some(())?;
            Some(sock_filter {
                code: num(c.get(..4)?)? as u16,
                jt: num(c.get(4..6)?)? as u8,
                jf: num(c.get(6..8)?)? as u8,
                k: num(c.get(8..)?)?,
            })
        })
        .collect()
}

/// Runs before the test harness: `--fault-filter HEX PROGRAM ARGS…`
/// installs the filter and execs PROGRAM (exit 120: a bad filter, 121: it
/// could not be installed or PROGRAM not run); any other command line is a
/// test run.
#[used]
#[link_section = ".init_array"]
static FAULT_HOOK: extern "C" fn(c_int, *const *const c_char, *const *const c_char) = hook;

extern "C" fn hook(argc: c_int, argv: *const *const c_char, _envp: *const *const c_char) {
    // SAFETY: glibc passes the process's argc/argv/envp to .init_array functions.
    let arg = |i: usize| unsafe { CStr::from_ptr(*argv.add(i)) };
    if argc < 4 || arg(1) != c"--fault-filter" {
        return;
    }
    let Some(prog) = unhex(arg(2).to_bytes()) else {
        // SAFETY: _exit has no preconditions.
        unsafe { libc::_exit(120) }
    };
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_ptr() as *mut sock_filter,
    };
    // SAFETY: plain prctl/seccomp calls with a valid program; execve gets
    // the process's own null-terminated argv tail and envp.
    unsafe {
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        let on = libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &fprog as *const libc::sock_fprog,
        );
        if on == 0 {
            libc::execvp(*argv.add(3), argv.add(3));
        }
        libc::_exit(121)
    }
}
