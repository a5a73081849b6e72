//! The seccomp deny-list as a classic BPF program, and its installation.
//!
//! The program, for the architecture proctor was built for:
//!
//! ```text
//!  0      ld  arch                 foreign ABI (i386 on x86_64, arm32 on aarch64)
//!  1      jeq AUDIT_ARCH, next, EPERM
//!  2      ld  nr
//!  3      (search)                 jge only: a binary search over the runs of
//!                                  numbers that share a verdict, each run
//!                                  jumping straight to its block:
//!                                  EPERM    a denied number; on x86_64 also
//!                                           the x32 ABI (0x40000000 and up)
//!                                  ENOSYS   clone3, so that libc falls back
//!                                           to clone, which we can inspect
//!                                  IOCTL, CLONE, SOCKET, PERSONALITY
//!                                  ALLOW    every other number
//! IOCTL:  ld args[1]; jeq TIOCSTI, EPERM; jeq TIOCLINUX, EPERM, ALLOW
//! CLONE:  ld args[0]; jset CLONE_NEW*, EPERM, ALLOW
//! SOCKET: ld args[0]; jeq AF_VSOCK, EAFNOSUPPORT, ALLOW
//! PERSONALITY: ld args[0]; jeq 0xFFFFFFFF (the query), ALLOW;
//!         jset any bit but Docker's (UNAME26, PER_LINUX32), EPERM, ALLOW
//!         ret ALLOW
//!         ret ERRNO|EPERM
//!         ret ERRNO|ENOSYS
//!         ret ERRNO|EAFNOSUPPORT
//! ```
//!
//! Every jump lands on a search node below it or on a block after the
//! search. Arguments are compared on their low 32 bits only: the kernel
//! reads the ioctl request, the socket family and the personality as 32-bit
//! integers, so high bits set by the caller change nothing for it and must
//! change nothing here (a 64-bit compare would let `0x1_0000_5412` through).
//! The result depends on the arguments only for those four syscalls, so
//! kernels from 5.11 on cache "allow" for every other one and run no filter
//! at all for them.
//!
//! Building that cache is most of what installing the filter costs: the
//! kernel runs the program once for every syscall number of the native and
//! compat ABIs (~900 runs), each up to a return or an argument load. So
//! every number's path is kept short: no compare precedes the search, the
//! search compares only where the verdict changes (a run of denied
//! numbers costs what one does), and each split is the run start nearest
//! the middle of its range's numbers, so that the wide runs of allowed
//! numbers are found in few compares: 4.9 per number below 512 on
//! average, 9 at most (the x32 check, five compares and a search of the
//! denied numbers took 12.4: installing cost 42 µs, now 32 µs, against
//! 10 µs for a one-instruction filter).

use crate::sys::seccomp::{self as sys, Insn};
use crate::sys::Errno;

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
/// The `personality` values Docker's default profile allows: the query,
/// and `PER_LINUX` (0) with any of `PER_LINUX32` (0x8) and `UNAME26`
/// (0x20000): 0, 0x8, 0x20000, 0x20008.
pub const PERSONALITY_QUERY: u32 = 0xFFFF_FFFF;
pub const PERSONALITY_FLAGS: u32 = 0x0002_0008;

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
    /// The first compare of the search, after `ld nr`.
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
        let search = 3;
        // One jge for each run start but the first (at 0).
        let ioctl = search + Runs::of(arch).len - 1;
        Layout {
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
const T_IOCTL: usize = 0;
const T_CLONE: usize = 3;
const T_SOCKET: usize = 5;
const T_PERSONALITY: usize = 7;
const T_ALLOW: usize = 10;
const T_EPERM: usize = 11;
const T_ENOSYS: usize = 12;
const T_EAFNOSUPPORT: usize = 13;

/// The blocks of the syscalls whose arguments decide (ioctl, clone, socket,
/// personality), then the shared returns. Every jump in it stays inside
/// it, so it is one constant for every architecture.
const TAIL: [Insn; 14] = [
    stmt(LD_ABS, ARG1),
    rel(JEQ, TIOCSTI, 1, T_EPERM, 2),
    rel(JEQ, TIOCLINUX, 2, T_EPERM, T_ALLOW),
    stmt(LD_ABS, ARG0),
    rel(JSET, CLONE_NEW, 4, T_EPERM, T_ALLOW),
    stmt(LD_ABS, ARG0),
    rel(JEQ, AF_VSOCK, 6, T_EAFNOSUPPORT, T_ALLOW),
    stmt(LD_ABS, ARG0),
    rel(JEQ, PERSONALITY_QUERY, 8, T_ALLOW, 9),
    rel(JSET, !PERSONALITY_FLAGS, 9, T_EPERM, T_ALLOW),
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

/// The deny-list program for this architecture.
pub fn program() -> &'static [Insn] {
    &PROGRAM
}

/// The deny-list program for `arch` (see the module's documentation);
/// `N` is its [`program_len`].
pub const fn build<const N: usize>(arch: &Arch) -> [Insn; N] {
    assert!(N == program_len(arch));
    let at = Layout::of(arch);
    let runs = Runs::of(arch);
    let mut p = Builder {
        insns: [stmt(0, 0); N],
        len: 0,
    };
    p.push(stmt(LD_ABS, ARCH));
    p.jump(JEQ, arch.audit, 2, at.eperm);
    p.push(stmt(LD_ABS, NR));
    search(&mut p, &runs, 0, runs.len, at.ioctl);
    let mut i = 0;
    while i < TAIL.len() {
        p.push(TAIL[i]);
        i += 1;
    }
    assert!(p.len == N);
    p.insns
}

/// The syscall tables of both architectures end below this: the numbers
/// the kernel runs the program for at install (up to ~470 in Linux 6.18),
/// the ones the search balances. Above it, all is allowed but x32.
const TABLE_END: u32 = 512;

/// At most this many runs (the x86_64 table makes 54).
const MAX_RUNS: usize = 128;

/// Every syscall number's block, as runs of numbers that share one: run
/// `i` starts at `start[i]` (the first at 0) and ends where the next one
/// starts; its numbers lead to `TAIL[block[i]]`.
struct Runs {
    start: [u32; MAX_RUNS],
    block: [usize; MAX_RUNS],
    len: usize,
}

impl Runs {
    const fn of(arch: &Arch) -> Runs {
        let mut runs = Runs {
            start: [0; MAX_RUNS],
            block: [T_ALLOW; MAX_RUNS],
            len: 1,
        };
        let mut named = 0;
        let mut nr = 0;
        while nr < TABLE_END {
            let block = block_of(arch, nr);
            named += (block != T_ALLOW) as usize;
            runs.add(nr, block);
            nr += 1;
        }
        // Every number the tables name (ioctl, clone, socket, personality,
        // clone3, the denied ones) is below TABLE_END, once.
        assert!(named == 5 + arch.denied.len() + DENIED_COMMON.len());
        if arch.x32 {
            runs.add(X32_BIT, T_EPERM);
        }
        runs
    }

    /// Start a run at `nr` if its block is not the previous run's.
    const fn add(&mut self, nr: u32, block: usize) {
        if block != self.block[self.len - 1] {
            self.start[self.len] = nr;
            self.block[self.len] = block;
            self.len += 1;
        }
    }

    /// The run that splits runs `from..to` (two or more) in two: the one
    /// whose start is nearest the middle of their numbers below TABLE_END.
    const fn split(&self, from: usize, to: usize) -> usize {
        let low = self.start[from];
        let high = if to < self.len {
            self.start[to]
        } else {
            TABLE_END
        };
        let mut best = from + 1;
        let mut i = from + 2;
        while i < to {
            if self.off_middle(i, low + high) < self.off_middle(best, low + high) {
                best = i;
            }
            i += 1;
        }
        best
    }

    /// How far run `i` starts from the middle of a range, given the sum of
    /// the range's ends, in half-numbers.
    const fn off_middle(&self, i: usize, ends: u32) -> u32 {
        let start = if self.start[i] < TABLE_END {
            self.start[i]
        } else {
            TABLE_END
        };
        (2 * start).abs_diff(ends)
    }

    /// Where the search over runs `from..to` starts if laid out at `at`,
    /// with the blocks at `tail`: a single run needs no search, only its block.
    const fn entry(&self, from: usize, to: usize, at: usize, tail: usize) -> usize {
        if to - from == 1 {
            tail + self.block[from]
        } else {
            at
        }
    }
}

/// The block of syscall number `nr`, an index in [`TAIL`].
const fn block_of(arch: &Arch, nr: u32) -> usize {
    let mut i = 0;
    while i < arch.denied.len() + DENIED_COMMON.len() {
        if denied(arch, i) as u32 == nr {
            return T_EPERM;
        }
        i += 1;
    }
    if nr == arch.ioctl as u32 {
        T_IOCTL
    } else if nr == arch.clone as u32 {
        T_CLONE
    } else if nr == arch.socket as u32 {
        T_SOCKET
    } else if nr == arch.personality as u32 {
        T_PERSONALITY
    } else if nr == CLONE3 as u32 {
        T_ENOSYS
    } else {
        T_ALLOW
    }
}

/// The `i`th denied number of `arch`: its own list, then [`DENIED_COMMON`].
const fn denied(arch: &Arch, i: usize) -> u16 {
    match i.checked_sub(arch.denied.len()) {
        None => arch.denied[i],
        Some(common) => DENIED_COMMON[common],
    }
}

/// The binary search over runs `from..to`, appended to `p`: one jge per
/// run start but the first, each going to the search (or the block) of the
/// runs below its split (laid out next) and above it (laid out after).
const fn search<const N: usize>(
    p: &mut Builder<N>,
    runs: &Runs,
    from: usize,
    to: usize,
    tail: usize,
) {
    if to - from < 2 {
        return;
    }
    let mid = runs.split(from, to);
    let below = runs.entry(from, mid, p.len + 1, tail);
    let above = runs.entry(mid, to, p.len + mid - from, tail);
    p.jump(JGE, runs.start[mid], above, below);
    search(p, runs, from, mid, tail);
    search(p, runs, mid, to, tail);
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
            jt: (jt - next) as u8,
            jf: (jf - next) as u8,
            k,
        });
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
