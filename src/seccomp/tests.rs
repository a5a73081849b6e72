use super::*;
extern crate std;
use std::vec::Vec;

/// The SPEC's deny-list.
const NAMES: [&str; 45] = [
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "mount",
    "umount2",
    "pivot_root",
    "swapon",
    "swapoff",
    "reboot",
    "setns",
    "unshare",
    "open_by_handle_at",
    "name_to_handle_at",
    "iopl",
    "ioperm",
    "acct",
    "quotactl",
    "lookup_dcookie",
    "syslog",
    "vhangup",
    "settimeofday",
    "clock_settime",
    "adjtimex",
    "clock_adjtime",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "open_tree",
    "move_mount",
    "mount_setattr",
    "quotactl_fd",
    "open_tree_attr",
    "modify_ldt",
];

fn stmt(code: u16, k: u32) -> Insn {
    Insn {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Insn {
    Insn { code, jt, jf, k }
}

/// The numbers of `names` in a syscall table, skipping names it lacks.
fn numbers(lookup: impl Fn(&str) -> Option<u32>) -> Vec<u16> {
    let mut v: Vec<u16> = NAMES
        .iter()
        .filter_map(|n| lookup(n))
        .map(|n| n as u16)
        .collect();
    v.sort_unstable();
    v
}

#[test]
fn tables_match_the_kernel_numbers() {
    use syscalls::{aarch64, x86_64};
    let x86 = numbers(|n| n.parse::<x86_64::Sysno>().ok().map(|s| s.id() as u32));
    let arm = numbers(|n| n.parse::<aarch64::Sysno>().ok().map(|s| s.id() as u32));
    let table = |a: &Arch| [a.denied, &DENIED_COMMON[..]].concat();
    assert_eq!(table(&X86_64), x86);
    assert_eq!(table(&AARCH64), arm);
    assert_eq!(x86.len(), NAMES.len());
    // aarch64 has no port I/O and no LDT syscalls.
    assert_eq!(arm.len(), NAMES.len() - 3);
    for name in ["iopl", "ioperm", "modify_ldt"] {
        assert!(name.parse::<aarch64::Sysno>().is_err(), "{name}");
    }
    use x86_64::Sysno as X;
    let x = [X::ioctl, X::clone, X::socket, X::personality, X::clone3].map(|s| s.id() as u16);
    let a = &X86_64;
    assert_eq!(x, [a.ioctl, a.clone, a.socket, a.personality, CLONE3]);
    use aarch64::Sysno as A;
    let x = [A::ioctl, A::clone, A::socket, A::personality, A::clone3].map(|s| s.id() as u16);
    let a = &AARCH64;
    assert_eq!(x, [a.ioctl, a.clone, a.socket, a.personality, CLONE3]);
}

#[test]
#[allow(clippy::unnecessary_cast)] // libc's ioctl request type differs between targets
fn argument_constants_match_the_c_headers() {
    assert_eq!(TIOCSTI as u64, libc::TIOCSTI as u64);
    assert_eq!(TIOCLINUX as u64, libc::TIOCLINUX as u64);
    assert_eq!(AF_VSOCK as i32, libc::AF_VSOCK);
    assert_eq!(RET_EAFNOSUPPORT & 0xffff, libc::EAFNOSUPPORT as u32);
}

/// `arch`'s program, as [`build`] lays it out for the binary.
fn program_for(arch: &Arch) -> Vec<Insn> {
    const X86: usize = program_len(&X86_64);
    const ARM: usize = program_len(&AARCH64);
    match program_len(arch) {
        X86 => build::<X86>(arch).to_vec(),
        ARM => build::<ARM>(arch).to_vec(),
        n => panic!("no program of {n} instructions"),
    }
}

/// The blocks after the search and the returns, as `build` lays them out.
fn tail(at: Layout) -> Vec<Insn> {
    let to = |from: usize, target: usize| (target - from - 1) as u8;
    let (i, c, s, p) = (at.ioctl, at.clone, at.socket, at.personality);
    vec![
        stmt(LD_ABS, ARG1),
        jump(JEQ, 0x5412, to(i + 1, at.eperm), 0),
        jump(JEQ, 0x541C, to(i + 2, at.eperm), to(i + 2, at.allow)),
        stmt(LD_ABS, ARG0),
        jump(JSET, CLONE_NEW, to(c + 1, at.eperm), to(c + 1, at.allow)),
        stmt(LD_ABS, ARG0),
        jump(JEQ, 40, to(s + 1, at.eafnosupport), to(s + 1, at.allow)),
        stmt(LD_ABS, ARG0),
        jump(JEQ, 0xFFFF_FFFF, to(p + 1, at.allow), 0),
        jump(JSET, 0xFFFD_FFF7, to(p + 2, at.eperm), to(p + 2, at.allow)),
        stmt(RET, 0x7FFF_0000),
        stmt(RET, 0x0005_0001),
        stmt(RET, 0x0005_0026),
        stmt(RET, 0x0005_0061),
    ]
}

/// Check `arch`'s program: the head (arch check, `ld nr`), the search (jge
/// only, each on a number where the verdict changes, every jump forward
/// to a search node or a block), its first split, the tail.
fn check_program(arch: &Arch, runs: usize, first: u32) {
    let p = program_for(arch);
    let at = Layout::of(arch);
    assert_eq!((at.search, at.ioctl), (3, 3 + runs - 1));
    assert_eq!(p.len(), at.ioctl + 14);
    // Each jump's offset counts from the instruction after it.
    let to = |from: usize, target: usize| (target - from - 1) as u8;
    let head = [
        stmt(LD_ABS, ARCH),
        jump(JEQ, arch.audit, 0, to(1, at.eperm)),
        stmt(LD_ABS, NR),
    ];
    assert_eq!(p[..at.search], head);
    let blocks = [
        at.ioctl,
        at.clone,
        at.socket,
        at.personality,
        at.allow,
        at.eperm,
        at.enosys,
    ];
    let block = |nr: u32| search_for(&p, at, nr).0;
    for (pc, i) in p[at.search..at.ioctl].iter().enumerate() {
        let pc = at.search + pc;
        assert_eq!(i.code, JGE, "{pc}");
        assert_ne!(block(i.k - 1), block(i.k), "{pc}: {} starts no run", i.k);
        for target in [pc + 1 + i.jt as usize, pc + 1 + i.jf as usize] {
            assert!(target < at.ioctl || blocks.contains(&target), "{pc}");
        }
    }
    assert_eq!(p[at.search].k, first);
    assert_eq!(p[at.ioctl..], tail(at));
}

#[test]
fn x86_64_program_instruction_by_instruction() {
    assert_eq!(X86_64.audit, 0xC000_003E);
    // 26 runs of named numbers, the allowed ones between them and the
    // x32 ABI's; the first split is the run start nearest 256 (of 0..512).
    check_program(&X86_64, 54, 251);
}

#[test]
fn aarch64_program_has_no_x32_check() {
    assert_eq!(AARCH64.audit, 0xC000_00B7);
    // keyctl (219) and clone (220) are two runs with nothing between them.
    check_program(&AARCH64, 56, 264);
    assert!(program_for(&AARCH64).iter().all(|i| i.k != X32_BIT));
}

#[test]
fn native_program_is_the_build_architectures() {
    #[cfg(target_arch = "x86_64")]
    assert_eq!(program(), program_for(&X86_64));
    #[cfg(target_arch = "aarch64")]
    assert_eq!(program(), program_for(&AARCH64));
}

#[test]
fn clone_new_flags() {
    // CLONE_NEWTIME, NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET
    let flags = [
        0x80,
        0x2_0000,
        0x200_0000,
        0x400_0000,
        0x800_0000,
        0x1000_0000,
        0x2000_0000,
        0x4000_0000,
    ];
    assert_eq!(flags.iter().fold(0, |a, f| a | f), CLONE_NEW);
}

/// `struct seccomp_data` as the filter sees it.
struct Data {
    nr: u32,
    arch: u32,
    arg0: u64,
    arg1: u64,
}

/// A classic BPF interpreter for the instructions the program uses; any
/// other instruction, a jump out of the program or a missing return fails.
fn run(p: &[Insn], d: &Data) -> u32 {
    let mut acc = 0u32;
    let mut pc = 0usize;
    loop {
        let i = p[pc];
        pc += 1;
        let cond = |c: bool| if c { i.jt as usize } else { i.jf as usize };
        match i.code {
            LD_ABS => {
                acc = match i.k {
                    NR => d.nr,
                    ARCH => d.arch,
                    ARG0 => d.arg0 as u32,
                    ARG1 => d.arg1 as u32,
                    k => panic!("load of offset {k}"),
                }
            }
            JEQ => pc += cond(acc == i.k),
            JGE => pc += cond(acc >= i.k),
            JSET => pc += cond(acc & i.k != 0),
            RET => return i.k,
            c => panic!("opcode {c:#x}"),
        }
        assert!(pc < p.len(), "jump past the end");
    }
}

/// Where the search sends syscall number `nr`, and after how many compares
/// (what the kernel runs once per number to build its allow cache).
fn search_for(p: &[Insn], at: Layout, nr: u32) -> (usize, usize) {
    let mut steps = 0;
    let mut pc = at.search;
    while pc < at.ioctl {
        steps += 1;
        let i = p[pc];
        assert_eq!(i.code, JGE, "{pc}");
        pc += 1 + if nr >= i.k { i.jt } else { i.jf } as usize;
    }
    (pc, steps)
}

#[test]
fn every_path_is_short() {
    // The kernel runs a new filter once per syscall number (its allow cache):
    // a long linear list made installing it cost 2× more, five compares
    // before a search of the denied numbers ~30% more than this search.
    for arch in [&X86_64, &AARCH64] {
        let p = program_for(arch);
        let at = Layout::of(arch);
        let mut total = 0;
        for nr in 0..TABLE_END {
            let (_, steps) = search_for(&p, at, nr);
            assert!(steps <= 10, "{arch:?} nr {nr}: {steps} compares");
            total += steps;
        }
        // 4.9 and 4.8 on average (a search balanced by runs, not numbers: 5.8).
        assert!(total <= 5 * TABLE_END as usize, "{arch:?}: {total}");
        for nr in [TABLE_END, X32_BIT, u32::MAX] {
            assert!(search_for(&p, at, nr).1 <= 10, "{arch:?} nr {nr}");
        }
    }
}

fn verdict(arch: &Arch, nr: u32, arg0: u64) -> u32 {
    verdict2(arch, nr, arg0, 0)
}

fn verdict2(arch: &Arch, nr: u32, arg0: u64, arg1: u64) -> u32 {
    let d = Data {
        nr,
        arch: arch.audit,
        arg0,
        arg1,
    };
    run(&program_for(arch), &d)
}

#[test]
fn every_syscall_number_gets_the_right_verdict() {
    for arch in [&X86_64, &AARCH64] {
        for nr in 0..1024u32 {
            let denied = arch.denied.iter().chain(&DENIED_COMMON);
            let want = if denied.into_iter().any(|&d| d as u32 == nr) {
                RET_EPERM
            } else if nr == CLONE3 as u32 {
                RET_ENOSYS
            } else if nr == arch.personality as u32 {
                RET_EPERM // 0x11 is none of Docker's values
            } else {
                RET_ALLOW
            };
            assert_eq!(verdict(arch, nr, 0x11), want, "{arch:?} nr {nr}");
        }
    }
}

#[test]
fn clone_with_a_new_namespace_is_refused() {
    const SIGCHLD: u64 = 17;
    const THREAD: u64 = 0x0005_0f00; // VM|FS|FILES|SIGHAND|THREAD|SYSVSEM
    for arch in [&X86_64, &AARCH64] {
        let clone = arch.clone as u32;
        assert_eq!(verdict(arch, clone, SIGCHLD), RET_ALLOW);
        assert_eq!(verdict(arch, clone, THREAD), RET_ALLOW);
        for bit in 0..32 {
            let flag = 1u64 << bit;
            let want = if CLONE_NEW as u64 & flag != 0 {
                RET_EPERM
            } else {
                RET_ALLOW
            };
            assert_eq!(verdict(arch, clone, flag | SIGCHLD), want, "bit {bit}");
        }
        // Only the low 32 bits carry flags for clone.
        assert_eq!(verdict(arch, clone, 0x1_0000_0000 | SIGCHLD), RET_ALLOW);
        // The same flags on another syscall mean nothing.
        assert_eq!(verdict(arch, 0, 0x1000_0000), RET_ALLOW);
    }
}

#[test]
fn foreign_abis_are_refused() {
    const AUDIT_ARCH_I386: u32 = 0x4000_0003;
    const AUDIT_ARCH_ARM: u32 = 0x4000_0028;
    for arch in [&X86_64, &AARCH64] {
        let p = program_for(arch);
        for foreign in [AUDIT_ARCH_I386, AUDIT_ARCH_ARM, X86_64.audit, AARCH64.audit] {
            if foreign == arch.audit {
                continue;
            }
            for nr in [0, 1, 20, 39, 172, 250] {
                let d = Data {
                    nr,
                    arch: foreign,
                    arg0: 0,
                    arg1: 0,
                };
                assert_eq!(run(&p, &d), RET_EPERM, "{arch:?} {foreign:#x} {nr}");
            }
        }
    }
}

#[test]
fn x32_syscalls_are_refused_on_x86_64() {
    for nr in [0, 39, 56, 250, 435, 512, 547, 0x3FFF_FFFF + 1] {
        assert_eq!(verdict(&X86_64, nr | X32_BIT, 0), RET_EPERM, "{nr:#x}");
    }
    assert_eq!(verdict(&X86_64, u32::MAX, 0), RET_EPERM);
    assert_eq!(verdict(&X86_64, X32_BIT - 1, 0), RET_ALLOW);
    // aarch64 has no such ABI: the kernel itself answers ENOSYS there.
    assert_eq!(verdict(&AARCH64, X32_BIT | 39, 0), RET_ALLOW);
}

#[test]
fn terminal_injection_ioctls_are_refused_whatever_the_high_bits() {
    const TCGETS: u64 = 0x5401;
    const FIONREAD: u64 = 0x541B;
    for arch in [&X86_64, &AARCH64] {
        let ioctl = arch.ioctl as u32;
        for fd in [0, 1, 7] {
            for req in [0x5412, 0x541C, 0x1_0000_5412, 0xFFFF_FFFF_0000_541C] {
                assert_eq!(verdict2(arch, ioctl, fd, req), RET_EPERM, "{req:#x}");
            }
            for req in [TCGETS, FIONREAD, 0x5413, 0x5411, 0x1_0000_0000] {
                assert_eq!(verdict2(arch, ioctl, fd, req), RET_ALLOW, "{req:#x}");
            }
        }
        // The same numbers in another syscall's second argument mean nothing.
        assert_eq!(verdict2(arch, 0, 0, 0x5412), RET_ALLOW);
    }
}

#[test]
fn vsock_sockets_are_refused_with_eafnosupport() {
    for arch in [&X86_64, &AARCH64] {
        let socket = arch.socket as u32;
        assert_eq!(verdict(arch, socket, 40), RET_EAFNOSUPPORT);
        assert_eq!(verdict(arch, socket, 0x7_0000_0028), RET_EAFNOSUPPORT);
        for family in [1, 2, 10, 16, 17, 39, 41] {
            assert_eq!(verdict(arch, socket, family), RET_ALLOW, "{family}");
        }
    }
}

#[test]
fn personality_takes_only_dockers_values() {
    for arch in [&X86_64, &AARCH64] {
        let nr = arch.personality as u32;
        for v in [0, 0x8, 0x20000, 0x20008, 0xFFFF_FFFF, 0x1_0000_0000] {
            assert_eq!(verdict(arch, nr, v), RET_ALLOW, "{v:#x}");
        }
        // READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE, PER_BSD, MMAP_PAGE_ZERO, ...
        for v in [0x0040_0000, 0x0004_0000, 0x6, 0x0010_0000, 0x1, 0x20001] {
            assert_eq!(verdict(arch, nr, v), RET_EPERM, "{v:#x}");
        }
    }
}

/// What the deny-list means, written plainly: the verdict for a call.
fn reference(arch: &Arch, d: &Data) -> u32 {
    let (nr, a0, a1) = (d.nr, d.arg0 as u32, d.arg1 as u32);
    let is = |n: u16| nr == n as u32;
    let native = d.arch == arch.audit && !(arch.x32 && nr >= X32_BIT);
    let refused = !native
        || arch.denied.iter().chain(&DENIED_COMMON).any(|&n| is(n))
        || is(arch.ioctl) && (a1 == TIOCSTI || a1 == TIOCLINUX)
        || is(arch.clone) && a0 & CLONE_NEW != 0
        || is(arch.personality) && ![0, 0x8, 0x20000, 0x20008, u32::MAX].contains(&a0);
    if refused {
        RET_EPERM
    } else if is(CLONE3) {
        RET_ENOSYS
    } else if is(arch.socket) && a0 == AF_VSOCK {
        RET_EAFNOSUPPORT
    } else {
        RET_ALLOW
    }
}

#[test]
fn every_call_gets_the_reference_verdict() {
    // Each argument block's values and their neighbours, high bits set or not.
    let args0 = [
        0,
        0x11,
        0x80,
        40,
        41,
        0x8,
        0x9,
        0x20000,
        0x20008,
        0x20001,
        0x10008,
        0xFFFD_FFF7,
        0xFFFF_FFFE,
        u64::MAX,
        0x1_0000_0000,
        0x7_0000_0028,
        CLONE_NEW as u64,
        0x1000_0011,
    ];
    let args1 = [0, 0x5412, 0x541C, 0x5413, 0xFFFF_FFFF_0000_541C];
    let audits = [X86_64.audit, AARCH64.audit, 0x4000_0003, 0x4000_0028];
    let nrs: Vec<u32> = (0..=600)
        .chain([X32_BIT - 1, X32_BIT, X32_BIT | 39, X32_BIT | 435, u32::MAX])
        .collect();
    for arch in [&X86_64, &AARCH64] {
        let p = program_for(arch);
        for &audit in &audits {
            for &nr in &nrs {
                for arg0 in args0 {
                    for arg1 in args1 {
                        let d = Data {
                            nr,
                            arch: audit,
                            arg0,
                            arg1,
                        };
                        let (got, want) = (run(&p, &d), reference(arch, &d));
                        assert_eq!(got, want, "{audit:#x} {nr} {arg0:#x} {arg1:#x}");
                    }
                }
            }
        }
    }
}
