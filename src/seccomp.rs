//! The seccomp deny-list as a classic BPF program, and its installation.
//!
//! The program, for the architecture proctor was built for:
//!
//! ```text
//!  0      ld  arch                 foreign ABI (i386 on x86_64, arm32 on aarch64)
//!  1      jeq AUDIT_ARCH, next, EPERM
//!  2      ld  nr
//! (3      jge 0x40000000, EPERM    the x32 ABI, x86_64 only)
//!  3+x    jeq clone3, ENOSYS       so that libc falls back to clone, which we can inspect
//!  4+x    jeq clone, next, list
//!  5+x    ld  args[0] (low half)
//!  6+x    jset CLONE_NEW*, EPERM, ALLOW
//!  7+x    jeq denied[i], EPERM     one per denied syscall
//!         ret ALLOW
//!         ret ERRNO|EPERM
//!         ret ERRNO|ENOSYS
//! ```
//!
//! Every jump lands on one of the three shared returns, so the program is
//! 10 instructions plus one per denied syscall. Its result depends on the
//! arguments only for `clone`, so kernels from 5.11 on cache "allow" for
//! every other syscall and run no filter at all for them.

use crate::error::Error;
use crate::rt::vec::{extend, push, OutOfMemory};
use crate::sys::seccomp::{self as sys, Insn};
use crate::sys::Errno;
use alloc::vec::Vec;

/// What the filter needs to know about an architecture.
#[derive(Debug)]
pub struct Arch {
    /// `AUDIT_ARCH_*`, the value of `seccomp_data.arch` for the native ABI.
    pub audit: u32,
    /// Whether numbers with the x32 bit set reach the native table (x86_64).
    pub x32: bool,
    pub clone: u16,
    /// The syscalls below 424 that answer `EPERM` (then [`DENIED_COMMON`]).
    pub denied: &'static [u16],
}

/// Denied syscalls numbered from 424 on, where every architecture shares
/// one table (Linux 5.1+). Beyond the SPEC's list: `quotactl_fd` and
/// `open_tree_attr`, the newer twins of two listed calls.
pub const DENIED_COMMON: [u16; 12] = [
    425, // io_uring_setup
    426, // io_uring_enter
    427, // io_uring_register
    428, // open_tree
    429, // move_mount
    430, // fsopen
    431, // fsconfig
    432, // fsmount
    433, // fspick
    442, // mount_setattr
    443, // quotactl_fd
    467, // open_tree_attr
];
/// `clone3`, in the shared table too.
pub const CLONE3: u16 = 435;

/// x86_64: the SPEC's list below 424.
pub const X86_64: Arch = Arch {
    audit: 0xC000_003E,
    x32: true,
    clone: 56,
    denied: &[
        103, // syslog
        153, // vhangup
        155, // pivot_root
        159, // adjtimex
        163, // acct
        164, // settimeofday
        165, // mount
        166, // umount2
        167, // swapon
        168, // swapoff
        169, // reboot
        172, // iopl
        173, // ioperm
        175, // init_module
        176, // delete_module
        179, // quotactl
        212, // lookup_dcookie
        227, // clock_settime
        246, // kexec_load
        248, // add_key
        249, // request_key
        250, // keyctl
        272, // unshare
        298, // perf_event_open
        303, // name_to_handle_at
        304, // open_by_handle_at
        305, // clock_adjtime
        308, // setns
        313, // finit_module
        320, // kexec_file_load
        321, // bpf
        323, // userfaultfd
    ],
};

/// aarch64 (the generic table): the same list; it has no `iopl`/`ioperm`.
pub const AARCH64: Arch = Arch {
    audit: 0xC000_00B7,
    x32: false,
    clone: 220,
    denied: &[
        18,  // lookup_dcookie
        39,  // umount2
        40,  // mount
        41,  // pivot_root
        58,  // vhangup
        60,  // quotactl
        89,  // acct
        97,  // unshare
        104, // kexec_load
        105, // init_module
        106, // delete_module
        112, // clock_settime
        116, // syslog
        142, // reboot
        170, // settimeofday
        171, // adjtimex
        217, // add_key
        218, // request_key
        219, // keyctl
        224, // swapon
        225, // swapoff
        241, // perf_event_open
        264, // name_to_handle_at
        265, // open_by_handle_at
        266, // clock_adjtime
        268, // setns
        273, // finit_module
        280, // bpf
        282, // userfaultfd
        294, // kexec_file_load
    ],
};

#[cfg(target_arch = "x86_64")]
const NATIVE: &Arch = &X86_64;
#[cfg(target_arch = "aarch64")]
const NATIVE: &Arch = &AARCH64;

// Jump offsets are 8 bits: every jump must reach the returns at the end.
const _: () = assert!(search_len(X86_64.denied.len() + DENIED_COMMON.len()) < 240);
const _: () = assert!(search_len(AARCH64.denied.len() + DENIED_COMMON.len()) < 240);

/// `CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET`,
/// and `CLONE_NEWTIME` (0x80), which legacy `clone` reads as part of the
/// exit signal: no signal that high exists, so denying it costs nothing.
pub const CLONE_NEW: u32 = 0x7E02_0080;
/// Numbers from this bit on are x32 syscalls on x86_64.
pub const X32_BIT: u32 = 0x4000_0000;

/// `SECCOMP_RET_ALLOW`, and `SECCOMP_RET_ERRNO` with EPERM (1) and ENOSYS
/// (38): the generic errno numbers both architectures share.
pub const RET_ALLOW: u32 = 0x7FFF_0000;
pub const RET_EPERM: u32 = 0x0005_0000 | 1;
pub const RET_ENOSYS: u32 = 0x0005_0000 | 38;

/// Classic BPF opcodes used here.
pub const LD_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
pub const JEQ: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
pub const JGE: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
pub const JSET: u16 = 0x45; // BPF_JMP | BPF_JSET | BPF_K
pub const RET: u16 = 0x06; // BPF_RET | BPF_K

/// Offsets in `struct seccomp_data`: nr, arch, then args[0] from 16 (its
/// low 32 bits, on these little-endian machines).
pub const NR: u32 = 0;
pub const ARCH: u32 = 4;
pub const ARG0: u32 = 16;

/// The deny-list program for this architecture (or out of memory).
pub fn program() -> Result<Vec<Insn>, Error> {
    program_for(NATIVE)
}

/// The deny-list program for `arch` (see the module's documentation).
///
/// Both vectors get their whole length first, so no push after that can
/// fail (they go through `rt::vec` all the same, which cannot panic).
pub fn program_for(arch: &Arch) -> Result<Vec<Insn>, Error> {
    let mut denied: Vec<u16> = Vec::new();
    let count = arch.denied.len() + DENIED_COMMON.len();
    denied.try_reserve_exact(count).map_err(|_| OutOfMemory)?;
    for &nr in arch.denied.iter().chain(&DENIED_COMMON) {
        push(&mut denied, nr)?;
    }
    let list = 7 + arch.x32 as usize;
    let allow = list + search_len(denied.len());
    let (eperm, enosys) = (allow + 1, allow + 2);
    let mut p = Vec::new();
    p.try_reserve_exact(enosys + 1).map_err(|_| OutOfMemory)?;
    let _ = push(&mut p, stmt(LD_ABS, ARCH));
    jump(&mut p, JEQ, arch.audit, 2, eperm);
    let _ = push(&mut p, stmt(LD_ABS, NR));
    if arch.x32 {
        jump(&mut p, JGE, X32_BIT, eperm, 4);
    }
    jump(&mut p, JEQ, CLONE3 as u32, enosys, list - 3);
    jump(&mut p, JEQ, arch.clone as u32, list - 2, list);
    let _ = push(&mut p, stmt(LD_ABS, ARG0));
    jump(&mut p, JSET, CLONE_NEW, eperm, allow);
    search(&mut p, &denied, allow, eperm);
    let ret = [
        stmt(RET, RET_ALLOW),
        stmt(RET, RET_EPERM),
        stmt(RET, RET_ENOSYS),
    ];
    extend(&mut p, &ret)?;
    Ok(p)
}

/// Deny-list numbers compared one by one at the leaves of the search.
const LEAF: usize = 4;

/// A binary search over the sorted numbers `nrs` (the tables are sorted):
/// EPERM for a member, ALLOW otherwise. The kernel evaluates a new filter
/// for every syscall number to cache the always-allowed ones, so the path
/// length, not just the program length, sets the cost of installing it:
/// a linear list of 44 took 2× longer than this search.
fn search(p: &mut Vec<Insn>, nrs: &[u16], allow: usize, eperm: usize) {
    if nrs.len() <= LEAF {
        for (i, &nr) in nrs.iter().enumerate() {
            let miss = if i + 1 == nrs.len() {
                allow
            } else {
                p.len() + 1
            };
            jump(p, JEQ, nr as u32, eperm, miss);
        }
        return;
    }
    let (low, high) = nrs.split_at(nrs.len() / 2);
    let below = p.len() + 1;
    let above = below + search_len(low.len());
    jump(
        p,
        JGE,
        high.first().copied().unwrap_or(0) as u32,
        above,
        below,
    );
    search(p, low, allow, eperm);
    search(p, high, allow, eperm);
}

/// The length of `search` over `n` numbers.
const fn search_len(n: usize) -> usize {
    if n <= LEAF {
        n
    } else {
        1 + search_len(n / 2) + search_len(n - n / 2)
    }
}

/// Append a jump to the absolute targets `jt`/`jf` (BPF counts from the next instruction).
fn jump(p: &mut Vec<Insn>, code: u16, k: u32, jt: usize, jf: usize) {
    let next = p.len() + 1;
    let off = |t: usize| t.saturating_sub(next) as u8;
    let insn = Insn {
        code,
        jt: off(jt),
        jf: off(jf),
        k,
    };
    let _ = push(p, insn); // within the length reserved by program_for
}

const fn stmt(code: u16, k: u32) -> Insn {
    Insn {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

/// Install `prog` for this thread (needs no_new_privs or CAP_SYS_ADMIN).
pub fn install(prog: &[Insn]) -> Result<(), Errno> {
    sys::set_filter(prog)
}

#[cfg(test)]
mod tests;
