//! `--landlock`, `--writable`, `--no-tcp`: a sandbox that needs no privilege
//! (SPEC: Sandbox without privileges). The command reads and executes
//! everywhere, writes only under the `--writable` paths, a few devices and
//! its output files, and with `--no-tcp` neither binds nor connects TCP.
//!
//! The ruleset is built in proctor before the fork, at the highest ABI the
//! kernel offers (rights of newer ABIs are handled, so their restrictions
//! apply: REFER 2, TRUNCATE 3, TCP 4, IOCTL_DEV 5, scopes 6); the child only
//! calls `landlock_restrict_self` on it, after no_new_privs. Without the
//! options nothing here runs: not one system call.

use crate::args::{Config, Mount};
use crate::error::Error;
use crate::rt::vec::extend;
use crate::seccomp::{self, JEQ, JGE, JSET, LD_ABS, RET};
use crate::sys::fs::{self, O_DIRECTORY, O_NOFOLLOW, O_PATH};
use crate::sys::landlock::{self as sys, Handled};
use crate::sys::seccomp::Insn;
use crate::sys::{Errno, Fd};
use crate::{mounts, msg};
use alloc::vec::Vec;
use core::ffi::CStr;

// Filesystem rights: ABI 1 has bits 0-12, then REFER (2), TRUNCATE (3), IOCTL_DEV (5).
pub const EXECUTE: u64 = 1 << 0;
pub const WRITE_FILE: u64 = 1 << 1;
pub const READ_FILE: u64 = 1 << 2;
pub const READ_DIR: u64 = 1 << 3;
pub const TRUNCATE: u64 = 1 << 14;
pub const IOCTL_DEV: u64 = 1 << 15;
/// The rights a rule may give on something that is not a directory.
pub const FILE_RIGHTS: u64 = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV;
/// What the command may do everywhere.
pub const READ_EXECUTE: u64 = EXECUTE | READ_FILE | READ_DIR;
// Network rights (ABI 4) and scopes (ABI 6).
pub const BIND_TCP: u64 = 1 << 0;
pub const CONNECT_TCP: u64 = 1 << 1;
pub const SCOPE_ABSTRACT_UNIX_SOCKET: u64 = 1 << 0;
pub const SCOPE_SIGNAL: u64 = 1 << 1;

/// The newest ABI whose rights proctor knows (ABI 7 added audit-logging
/// flags, no right). A newer kernel is used at this level: an unknown right
/// would be a restriction nobody tested.
pub const KNOWN_ABI: u32 = 7;

/// What the command may do everywhere, and the devices it may write
/// (`TRUNCATE` too: a shell's `>` opens with `O_TRUNC`; `/dev/tty` also
/// takes terminal ioctls). A device the container lacks is skipped. The
/// paths NUL-terminated one after another (a table of `&CStr` would cost
/// 16 bytes of data a row); their rights by place, in [`Sandbox::finish`].
const ALWAYS: &[u8] = b"/\0/dev/null\0/dev/zero\0/dev/full\0/dev/tty\0";

/// What a ruleset handles at `abi` (capped at [`KNOWN_ABI`]) for the
/// filesystem (`fs`) and TCP (`tcp`). Scopes come with any ruleset from ABI
/// 6 on: the command can then neither signal proctor nor reach an abstract
/// unix socket outside its sandbox.
pub fn handled(abi: u32, fs: bool, tcp: bool) -> Handled {
    let abi = abi.min(KNOWN_ABI);
    // How many filesystem rights each ABI has (0 to KNOWN_ABI).
    const FS_BITS: [u8; KNOWN_ABI as usize + 1] = [0, 13, 14, 15, 15, 16, 16, 16];
    let fs_bits = FS_BITS.get(abi as usize).copied().unwrap_or(16);
    Handled {
        fs: if fs { (1u64 << fs_bits) - 1 } else { 0 },
        net: if tcp && abi >= 4 {
            BIND_TCP | CONNECT_TCP
        } else {
            0
        },
        scoped: if abi >= 6 {
            SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        } else {
            0
        },
    }
}

/// An asked feature that the kernel's ABI lacks: 125, never a silent run without it.
pub fn check_abi(abi: Result<u32, Errno>, landlock: bool, no_tcp: bool) -> Result<u32, Error> {
    let none = msg!("the kernel offers no Landlock");
    let (step, errno, why) = match abi {
        Err(e) if landlock => (msg!("--landlock"), Some(e), none),
        Err(e) => (msg!("--no-tcp"), Some(e), none),
        Ok(v) if no_tcp && v < 4 => (
            msg!("--no-tcp"),
            None,
            msg!("TCP rules need Landlock ABI 4 (Linux 6.7)"),
        ),
        Ok(v) => return Ok(v),
    };
    Err(Error::noted(step, errno, why))
}

/// What a rule allows under a writable path: every handled right on a
/// directory, the file rights on anything else (the kernel refuses others).
pub fn writable(handled_fs: u64, dir: bool) -> u64 {
    if dir {
        handled_fs
    } else {
        handled_fs & FILE_RIGHTS
    }
}

/// Whether a `--writable` path is opened only after the mounts: at or below
/// where a bind or tmpfs of proctor's puts something new (which may not
/// exist yet, and covers what is there now). Elsewhere, at start.
pub fn after_mounts(path: &CStr, mounts: &[Mount]) -> bool {
    mounts
        .iter()
        .filter(|m| !matches!(m, Mount::ReadOnly { .. }))
        .any(|m| mounts::under(path, mounts::path(m)))
}

/// The ruleset being built (before the fork).
pub struct Sandbox {
    ruleset: Fd,
    fs: u64,
}

/// At start: check that the kernel offers what the options ask for, create
/// the ruleset and add the `--writable` paths no mount of proctor's
/// changes (what is checked is what is used). `outputs` are the
/// `--stdout`/`--stderr` files, which the command may reopen for writing.
/// `None`, without a system call, when no option asks for Landlock.
pub fn prepare(cfg: &Config, outputs: [Option<&Fd>; 2]) -> Result<Option<Sandbox>, Error> {
    if !cfg.landlock && !cfg.no_tcp {
        return Ok(None);
    }
    let abi = check_abi(sys::abi_version(), cfg.landlock, cfg.no_tcp)?;
    let handled = handled(abi, cfg.landlock, cfg.no_tcp);
    let ruleset = sys::create_ruleset(&handled).map_err(|e| Error::sys(msg!("landlock"), e))?;
    let sandbox = Sandbox {
        ruleset,
        fs: handled.fs,
    };
    if cfg.landlock {
        sandbox.allow_writable(cfg, false)?;
        for out in outputs.iter().flatten() {
            sandbox.allow(out, WRITE_FILE | TRUNCATE)?;
        }
    }
    Ok(Some(sandbox))
}

impl Sandbox {
    /// After the mounts (a VM's init mounts `/dev` itself): `/`, the
    /// devices, and the `--writable` paths a mount of proctor's made. Then
    /// the ruleset is complete; returns its descriptor for the child.
    pub fn finish(&self, cfg: &Config) -> Result<i32, Error> {
        if cfg.landlock {
            // A counter costs less than `enumerate`.
            let mut paths = mounts::c_strings(ALWAYS);
            for i in 0.. {
                let Some(path) = paths.next() else { break };
                let access = match i {
                    0 => READ_EXECUTE,                      // `/`
                    4 => WRITE_FILE | TRUNCATE | IOCTL_DEV, // `/dev/tty`
                    _ => WRITE_FILE | TRUNCATE,
                };
                if let Ok(fd) = fs::open(path, O_PATH | O_NOFOLLOW) {
                    self.allow(&fd, access & self.fs)?;
                }
            }
            self.allow_writable(cfg, true)?;
        }
        Ok(self.ruleset.raw())
    }

    /// The `--writable` paths opened at start (`later` false) or after the
    /// mounts, each resolved without a symbolic link in any component.
    fn allow_writable(&self, cfg: &Config, later: bool) -> Result<(), Error> {
        for &path in cfg
            .writable
            .iter()
            .filter(|p| after_mounts(p, &cfg.mounts) == later)
        {
            let fd = mounts::open_no_symlinks(msg!("--writable"), path)?;
            let st = fs::stat_fd(fd.raw())
                .map_err(|e| mounts::error(msg!("--writable"), path.to_bytes(), e))?;
            self.allow(&fd, writable(self.fs, st.kind() == fs::S_IFDIR))?;
        }
        Ok(())
    }

    /// Allow `access` beneath `fd`. Rights are masked to what the ruleset
    /// handles and to the file's kind, so the kernel has no reason to refuse.
    fn allow(&self, fd: &Fd, access: u64) -> Result<(), Error> {
        sys::allow_beneath(&self.ruleset, fd, access).map_err(|e| Error::sys(msg!("landlock"), e))
    }
}

/// Whether Landlock leaves the command free to write in the directory
/// `dir`: always without `--landlock`; with it, only when `dir` is at or
/// below a `--writable` path, found by walking `..` up to the root. In
/// doubt (an error), yes.
pub fn reaches(cfg: &Config, dir: &CStr) -> bool {
    if !cfg.landlock {
        return true;
    }
    let Ok(mut at) = fs::open(dir, O_PATH | O_DIRECTORY) else {
        return true;
    };
    for _ in 0..4096 {
        let Ok(here) = fs::stat_fd(at.raw()) else {
            return true;
        };
        let is_here = |w: &&CStr| fs::stat_at(fs::AT_FDCWD, w, 0).is_ok_and(|s| s.same_file(&here));
        if cfg.writable.iter().any(is_here) {
            return true;
        }
        let Ok(up) = fs::openat(at.raw(), c"..", O_PATH | O_DIRECTORY, 0) else {
            return true;
        };
        if fs::stat_fd(up.raw()).is_ok_and(|s| s.same_file(&here)) {
            return false; // the root, which is no --writable path
        }
        at = up;
    }
    true
}

/// In the child, after no_new_privs: enforce the ruleset. Allocates nothing.
pub fn enforce(ruleset: i32) -> Result<(), Errno> {
    sys::restrict_self(ruleset)
}

/// With `--no-tcp`, put [`NO_FAST_OPEN`] in front of the seccomp program
/// (`filter`, empty with `--seccomp none`: then a tail that allows what is
/// native): one filter, compiled once, installed last as the SPEC orders.
pub fn guard_fast_open(filter: &mut Vec<Insn>) -> Result<(), Error> {
    let mut all = Vec::new();
    let tail: &[Insn] = if filter.is_empty() {
        &NATIVE_ONLY
    } else {
        filter
    };
    extend(&mut all, &NO_FAST_OPEN)?;
    extend(&mut all, tail)?;
    *filter = all;
    Ok(())
}

/// `sendto`, `sendmsg` and `sendmmsg` with `MSG_FASTOPEN` connect a TCP
/// socket without `connect(2)`, which Landlock does not see: answered
/// `EACCES` (as Landlock answers `connect`), native calls only; everything
/// else goes on to the instruction after it. Its verdict depends on the
/// arguments of those three calls only, so the kernel still caches "allow"
/// for every other one.
pub const NO_FAST_OPEN: [Insn; 11] = {
    const MSG_FASTOPEN: u32 = 0x2000_0000;
    #[cfg(target_arch = "x86_64")]
    const CALLS: (u32, u32, u32) = (44, 46, 307);
    #[cfg(target_arch = "aarch64")]
    const CALLS: (u32, u32, u32) = (206, 211, 269);
    let (sendto, sendmsg, sendmmsg) = CALLS;
    [
        op(LD_ABS, 0, 0, seccomp::ARCH),
        op(JEQ, 0, 9, AUDIT), // a foreign ABI: next
        op(LD_ABS, 0, 0, seccomp::NR),
        op(JEQ, 4, 0, sendto),   // flags in args[3]
        op(JEQ, 3, 0, sendmmsg), // flags in args[3]
        op(JEQ, 0, 5, sendmsg),  // flags in args[2]; else next
        op(LD_ABS, 0, 0, seccomp::ARG0 + 16),
        op(JSET, 2, 3, MSG_FASTOPEN),
        op(LD_ABS, 0, 0, seccomp::ARG0 + 24),
        op(JSET, 0, 1, MSG_FASTOPEN),
        op(RET, 0, 0, 0x0005_0000 | 13), // SECCOMP_RET_ERRNO | EACCES
    ]
};

/// The end of a program without the deny-list: native calls allowed, the
/// foreign ABIs (whose socket calls [`NO_FAST_OPEN`] cannot see) `EPERM`.
const NATIVE_ONLY: [Insn; 6] = [
    op(LD_ABS, 0, 0, seccomp::ARCH),
    op(JEQ, 0, 3, AUDIT),
    op(LD_ABS, 0, 0, seccomp::NR),
    op(JGE, 1, 0, seccomp::X32_BIT),
    op(RET, 0, 0, seccomp::RET_ALLOW),
    op(RET, 0, 0, seccomp::RET_EPERM),
];

#[cfg(target_arch = "x86_64")]
const AUDIT: u32 = seccomp::X86_64.audit;
#[cfg(target_arch = "aarch64")]
const AUDIT: u32 = seccomp::AARCH64.audit;

const fn op(code: u16, jt: u8, jf: u8, k: u32) -> Insn {
    Insn { code, jt, jf, k }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;

    #[test]
    fn each_abi_handles_its_rights() {
        let fs = |abi| handled(abi, true, false).fs;
        assert_eq!(fs(1), 0x1fff);
        assert_eq!(fs(2), 0x3fff, "REFER");
        assert_eq!(fs(3) & TRUNCATE, TRUNCATE);
        assert_eq!(fs(4), fs(3), "ABI 4 adds only TCP");
        assert_eq!(fs(5) & IOCTL_DEV, IOCTL_DEV);
        assert_eq!(fs(7), 0xffff);
        assert_eq!(fs(9), fs(7), "unknown rights of newer ABIs are not handled");
        assert_eq!(handled(3, true, true).net, 0);
        assert_eq!(handled(4, false, true).net, BIND_TCP | CONNECT_TCP);
        assert_eq!(
            handled(4, false, true).fs,
            0,
            "--no-tcp alone handles no file right"
        );
        assert_eq!(handled(7, true, false).net, 0, "TCP only with --no-tcp");
        assert_eq!(handled(5, true, true).scoped, 0);
        assert_eq!(
            handled(6, false, true).scoped,
            SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        );
    }

    #[test]
    fn what_the_kernel_lacks_is_named() {
        assert_eq!(check_abi(Ok(1), true, false).unwrap(), 1);
        assert_eq!(check_abi(Ok(4), true, true).unwrap(), 4);
        let text = |abi, landlock, no_tcp| check_abi(abi, landlock, no_tcp).unwrap_err().text();
        assert_eq!(
            text(Ok(3), true, true),
            b"--no-tcp: TCP rules need Landlock ABI 4 (Linux 6.7)"
        );
        let none = Err(Errno::ENOSYS);
        assert_eq!(
            text(none, true, true),
            b"--landlock: the kernel offers no Landlock: ENOSYS"
        );
        assert_eq!(
            text(Err(Errno::EOPNOTSUPP), false, true),
            b"--no-tcp: the kernel offers no Landlock: EOPNOTSUPP"
        );
    }

    #[test]
    fn the_fast_open_guard_jumps_to_what_follows_it() {
        let deny = crate::seccomp::program().to_vec();
        for base in [deny, Vec::new()] {
            let mut p = base.clone();
            guard_fast_open(&mut p).unwrap();
            let next = NO_FAST_OPEN.len();
            assert_eq!(p[..next], NO_FAST_OPEN);
            assert_eq!(
                &p[next..],
                if base.is_empty() {
                    &NATIVE_ONLY[..]
                } else {
                    &base[..]
                }
            );
            // Every jump of the guard lands inside it or on what follows it.
            for (pc, i) in NO_FAST_OPEN.iter().enumerate() {
                if i.code & 0x07 == 0x05 {
                    assert!(pc + 1 + (i.jt.max(i.jf) as usize) <= next, "{pc}: {i:?}");
                }
            }
            assert_eq!(
                NO_FAST_OPEN[1].jf as usize + 2,
                next,
                "a foreign ABI goes on"
            );
            assert_eq!(NO_FAST_OPEN[5].jf as usize + 6, next, "other calls go on");
            assert_eq!(NO_FAST_OPEN[9].jf as usize + 10, next);
        }
    }

    #[test]
    fn files_get_only_file_rights() {
        let all = handled(7, true, false).fs;
        assert_eq!(writable(all, true), all);
        assert_eq!(writable(all, false), FILE_RIGHTS);
        let abi1 = handled(1, true, false).fs;
        assert_eq!(writable(abi1, false), EXECUTE | WRITE_FILE | READ_FILE);
    }

    #[test]
    fn writable_paths_made_by_a_mount_wait_for_it() {
        use crate::rt::cstr::OwnedCStr;
        let tmpfs = |d: &[u8]| Mount::Tmpfs {
            dst: OwnedCStr::new(d).unwrap(),
            size: 1,
            mode: 0,
            noexec: false,
        };
        let mounts = [
            tmpfs(b"/tmp"),
            Mount::Bind {
                src: OwnedCStr::new(b"/staging/out").unwrap(),
                dst: OwnedCStr::new(b"/out").unwrap(),
                writable: true,
                noexec: false,
            },
            Mount::ReadOnly { path: c"/" },
        ];
        assert!(after_mounts(c"/tmp", &mounts));
        assert!(after_mounts(c"/tmp/x/", &mounts));
        assert!(after_mounts(c"/out", &mounts));
        assert!(!after_mounts(c"/outside", &mounts));
        assert!(
            !after_mounts(c"/var/tmp", &mounts),
            "--ro / changes no path's meaning"
        );
        assert!(!after_mounts(c"/tmp", &[]));
    }
}
