//! The seccomp deny-list as a classic BPF program, and its installation.
//!
//! The program, for the architecture proctor was built for:
//!
//! ```text
//!  0      ld  arch                 foreign ABI (i386 on x86_64, arm32 on aarch64)
//!  1      jeq AUDIT_ARCH, next, EPERM
//!  2      ld  nr
//! (3      jge 0x40000000, EPERM    the x32 ABI, x86_64 only)
//!  3+x    jeq ioctl, IOCTL         the syscalls whose arguments decide
//!  4+x    jeq clone, CLONE
//!  5+x    jeq socket, SOCKET
//!  6+x    jeq personality, PERSONALITY
//!  7+x    jeq clone3, ENOSYS       so that libc falls back to clone, which we can inspect
//!  8+x    (binary search)          EPERM for the denied syscalls, else ALLOW
//! IOCTL:  ld args[1]; jeq TIOCSTI, EPERM; jeq TIOCLINUX, EPERM, ALLOW
//! CLONE:  ld args[0]; jset CLONE_NEW*, EPERM, ALLOW
//! SOCKET: ld args[0]; jeq AF_VSOCK, EAFNOSUPPORT, ALLOW
//! PERSONALITY: ld args[0]; jeq each of Docker's values, ALLOW; EPERM
//!         ret ALLOW
//!         ret ERRNO|EPERM
//!         ret ERRNO|ENOSYS
//!         ret ERRNO|EAFNOSUPPORT
//! ```
//!
//! Every jump lands on a block below it or on one of the shared returns.
//! Arguments are compared on their low 32 bits only: the kernel reads the
//! ioctl request, the socket family and the personality as 32-bit
//! integers, so high bits set by the caller change nothing for it and must
//! change nothing here (a 64-bit compare would let `0x1_0000_5412` through).
//! The result depends on the arguments only for those four syscalls, so
//! kernels from 5.11 on cache "allow" for every other one and run no filter
//! at all for them.

use crate::error::Error;
use crate::rt::vec::extend;
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
    pub ioctl: u16,
    pub clone: u16,
    pub socket: u16,
    pub personality: u16,
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

/// x86_64: the SPEC's list below 424 (`modify_ldt` exists only here).
pub const X86_64: Arch = Arch {
    audit: 0xC000_003E,
    x32: true,
    ioctl: 16,
    clone: 56,
    socket: 41,
    personality: 135,
    denied: &[
        103, // syslog
        153, // vhangup
        154, // modify_ldt
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

/// aarch64 (the generic table): the same list; it has no `iopl`, `ioperm`
/// or `modify_ldt`.
pub const AARCH64: Arch = Arch {
    audit: 0xC000_00B7,
    x32: false,
    ioctl: 29,
    clone: 220,
    socket: 198,
    personality: 92,
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

// Jump offsets are 8 bits: the whole program must stay shorter than 256.
const _: () = assert!(program_len(&X86_64) < 256);
const _: () = assert!(program_len(&AARCH64) < 256);

/// `CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET`,
/// and `CLONE_NEWTIME` (0x80), which legacy `clone` reads as part of the
/// exit signal: no signal that high exists, so denying it costs nothing.
pub const CLONE_NEW: u32 = 0x7E02_0080;
/// Numbers from this bit on are x32 syscalls on x86_64.
pub const X32_BIT: u32 = 0x4000_0000;
/// The ioctls that type into a terminal (`TIOCSTI`: bubblewrap's
/// CVE-2017-5226) or paste its selection (`TIOCLINUX`), the same numbers on
/// both architectures.
pub const TIOCSTI: u32 = 0x5412;
pub const TIOCLINUX: u32 = 0x541C;
/// `AF_VSOCK`: in a micro-VM, a socket to the host.
pub const AF_VSOCK: u32 = 40;
/// The `personality` values Docker's default profile allows: `PER_LINUX`,
/// `UNAME26`, `PER_LINUX32`, `PER_LINUX32|UNAME26`, and the query.
pub const PERSONALITIES: [u32; 5] = [0, 0x8, 0x20000, 0x20008, 0xFFFF_FFFF];

/// `SECCOMP_RET_ALLOW`, and `SECCOMP_RET_ERRNO` with EPERM (1), ENOSYS
/// (38) and EAFNOSUPPORT (97): the generic errno numbers both
/// architectures share.
pub const RET_ALLOW: u32 = 0x7FFF_0000;
pub const RET_EPERM: u32 = 0x0005_0000 | 1;
pub const RET_ENOSYS: u32 = 0x0005_0000 | 38;
pub const RET_EAFNOSUPPORT: u32 = 0x0005_0000 | 97;

/// Classic BPF opcodes used here.
pub const LD_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
pub const JEQ: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
pub const JGE: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
pub const JSET: u16 = 0x45; // BPF_JMP | BPF_JSET | BPF_K
pub const RET: u16 = 0x06; // BPF_RET | BPF_K

/// Offsets in `struct seccomp_data`: nr, arch, then args[0] from 16 and
/// args[1] from 24 (their low 32 bits, on these little-endian machines).
pub const NR: u32 = 0;
pub const ARCH: u32 = 4;
pub const ARG0: u32 = 16;
pub const ARG1: u32 = 24;

/// Where each part of the program starts (see the module's documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The first syscall-number compare, after `ld nr` (and the x32 check).
    pub head: usize,
    pub search: usize,
    pub ioctl: usize,
    pub clone: usize,
    pub socket: usize,
    pub personality: usize,
    pub allow: usize,
    pub eperm: usize,
    pub enosys: usize,
    pub eafnosupport: usize,
}

impl Layout {
    pub const fn of(arch: &Arch) -> Layout {
        let head = 3 + arch.x32 as usize;
        let search = head + 5;
        let ioctl = search + search_len(arch.denied.len() + DENIED_COMMON.len());
        Layout {
            head,
            search,
            ioctl,
            clone: ioctl + T_CLONE,
            socket: ioctl + T_SOCKET,
            personality: ioctl + T_PERSONALITY,
            allow: ioctl + T_ALLOW,
            eperm: ioctl + T_EPERM,
            enosys: ioctl + T_ENOSYS,
            eafnosupport: ioctl + T_EAFNOSUPPORT,
        }
    }
}

/// The number of instructions of `arch`'s program.
pub const fn program_len(arch: &Arch) -> usize {
    Layout::of(arch).ioctl + TAIL.len()
}

/// Where the blocks and returns start in [`TAIL`].
const T_CLONE: usize = 3;
const T_SOCKET: usize = 5;
const T_PERSONALITY: usize = 7;
const T_ALLOW: usize = 13;
const T_EPERM: usize = 14;
const T_ENOSYS: usize = 15;
const T_EAFNOSUPPORT: usize = 16;

/// The blocks of the syscalls whose arguments decide (ioctl, clone, socket,
/// personality), then the shared returns. Every jump in it stays inside
/// it, so it is one constant for every architecture.
const TAIL: [Insn; 17] = [
    stmt(LD_ABS, ARG1),
    rel(JEQ, TIOCSTI, 1, T_EPERM, 2),
    rel(JEQ, TIOCLINUX, 2, T_EPERM, T_ALLOW),
    stmt(LD_ABS, ARG0),
    rel(JSET, CLONE_NEW, 4, T_EPERM, T_ALLOW),
    stmt(LD_ABS, ARG0),
    rel(JEQ, AF_VSOCK, 6, T_EAFNOSUPPORT, T_ALLOW),
    stmt(LD_ABS, ARG0),
    rel(JEQ, PERSONALITIES[0], 8, T_ALLOW, 9),
    rel(JEQ, PERSONALITIES[1], 9, T_ALLOW, 10),
    rel(JEQ, PERSONALITIES[2], 10, T_ALLOW, 11),
    rel(JEQ, PERSONALITIES[3], 11, T_ALLOW, 12),
    rel(JEQ, PERSONALITIES[4], 12, T_ALLOW, T_EPERM),
    stmt(RET, RET_ALLOW),
    stmt(RET, RET_EPERM),
    stmt(RET, RET_ENOSYS),
    stmt(RET, RET_EAFNOSUPPORT),
];

/// A jump at `at` to `jt`/`jf`, all three counted from the same origin.
const fn rel(code: u16, k: u32, at: usize, jt: usize, jf: usize) -> Insn {
    Insn {
        code,
        jt: (jt - at - 1) as u8,
        jf: (jf - at - 1) as u8,
        k,
    }
}

/// The deny-list program of the architecture proctor was built for, laid
/// out by the compiler: no code builds it at run time.
static PROGRAM: [Insn; program_len(NATIVE)] = build(NATIVE);

/// The deny-list program for this architecture, in a vector of its own
/// (`--no-tcp` adds to it), or out of memory.
pub fn program() -> Result<Vec<Insn>, Error> {
    let mut p = Vec::new();
    extend(&mut p, &PROGRAM)?;
    Ok(p)
}

/// The deny-list program for `arch` (see the module's documentation);
/// `N` is its [`program_len`].
pub const fn build<const N: usize>(arch: &Arch) -> [Insn; N] {
    assert!(N == program_len(arch));
    let at = Layout::of(arch);
    let mut p = Builder {
        insns: [stmt(0, 0); N],
        len: 0,
    };
    p.push(stmt(LD_ABS, ARCH));
    p.jump(JEQ, arch.audit, 2, at.eperm);
    p.push(stmt(LD_ABS, NR));
    if arch.x32 {
        p.jump(JGE, X32_BIT, at.eperm, at.head);
    }
    p.jump_if(JEQ, arch.ioctl as u32, at.ioctl);
    p.jump_if(JEQ, arch.clone as u32, at.clone);
    p.jump_if(JEQ, arch.socket as u32, at.socket);
    p.jump_if(JEQ, arch.personality as u32, at.personality);
    p.jump(JEQ, CLONE3 as u32, at.enosys, at.search);
    let count = arch.denied.len() + DENIED_COMMON.len();
    search(&mut p, arch, 0, count, at.allow, at.eperm);
    let mut i = 0;
    while i < TAIL.len() {
        p.push(TAIL[i]);
        i += 1;
    }
    assert!(p.len == N);
    p.insns
}

/// The `i`th denied number of `arch`: its own list, then [`DENIED_COMMON`]
/// (together sorted, as the search needs).
const fn denied(arch: &Arch, i: usize) -> u16 {
    match i.checked_sub(arch.denied.len()) {
        None => arch.denied[i],
        Some(common) => DENIED_COMMON[common],
    }
}

/// Deny-list numbers compared one by one at the leaves of the search.
const LEAF: usize = 4;

/// A binary search over the denied numbers `from..to` of `arch`: EPERM for
/// a member, ALLOW otherwise. The kernel evaluates a new filter for every
/// syscall number to cache the always-allowed ones, so the path length,
/// not just the program length, sets the cost of installing it: a linear
/// list of 44 took 2× longer than this search.
const fn search<const N: usize>(
    p: &mut Builder<N>,
    arch: &Arch,
    from: usize,
    to: usize,
    allow: usize,
    eperm: usize,
) {
    if to - from <= LEAF {
        let mut i = from;
        while i < to {
            let miss = if i + 1 == to { allow } else { p.len + 1 };
            p.jump(JEQ, denied(arch, i) as u32, eperm, miss);
            i += 1;
        }
        return;
    }
    let mid = from + (to - from) / 2;
    let below = p.len + 1;
    let above = below + search_len(mid - from);
    p.jump(JGE, denied(arch, mid) as u32, above, below);
    search(p, arch, from, mid, allow, eperm);
    search(p, arch, mid, to, allow, eperm);
}

/// The length of `search` over `n` numbers.
const fn search_len(n: usize) -> usize {
    if n <= LEAF {
        n
    } else {
        1 + search_len(n / 2) + search_len(n - n / 2)
    }
}

/// A program being written, at compile time.
struct Builder<const N: usize> {
    insns: [Insn; N],
    len: usize,
}

impl<const N: usize> Builder<N> {
    const fn push(&mut self, insn: Insn) {
        self.insns[self.len] = insn;
        self.len += 1;
    }

    /// Append a jump to the absolute targets `jt`/`jf` (BPF counts from the next instruction).
    const fn jump(&mut self, code: u16, k: u32, jt: usize, jf: usize) {
        let next = self.len + 1;
        self.push(Insn {
            code,
            jt: jt.saturating_sub(next) as u8,
            jf: jf.saturating_sub(next) as u8,
            k,
        });
    }

    /// Append a jump to `jt` that falls through to the next instruction otherwise.
    const fn jump_if(&mut self, code: u16, k: u32, jt: usize) {
        self.jump(code, k, jt, self.len + 1);
    }
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
