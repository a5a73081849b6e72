use super::*;
extern crate std;
use std::vec::Vec;

/// The SPEC's deny-list, plus the two newer twins the tables add.
const NAMES: [&str; 44] = [
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
    // aarch64 has no port I/O syscalls.
    assert_eq!(arm.len(), NAMES.len() - 2);
    assert!("iopl".parse::<aarch64::Sysno>().is_err());
    assert_eq!(X86_64.clone, x86_64::Sysno::clone.id() as u16);
    assert_eq!(CLONE3, x86_64::Sysno::clone3.id() as u16);
    assert_eq!(AARCH64.clone, aarch64::Sysno::clone.id() as u16);
    assert_eq!(CLONE3, aarch64::Sysno::clone3.id() as u16);
}

#[test]
fn x86_64_program_instruction_by_instruction() {
    let p = program_for(&X86_64).unwrap();
    let n = search_len(X86_64.denied.len() + DENIED_COMMON.len());
    assert_eq!(p.len(), 11 + n);
    let (allow, eperm, enosys) = (8 + n, 9 + n, 10 + n);
    // Each jump's offset counts from the instruction after it.
    let to = |from: usize, target: usize| (target - from - 1) as u8;
    let head = [
        stmt(LD_ABS, ARCH),
        jump(JEQ, 0xC000_003E, 0, to(1, eperm)),
        stmt(LD_ABS, NR),
        jump(JGE, 0x4000_0000, to(3, eperm), 0),
        jump(JEQ, 435, to(4, enosys), 0),
        jump(JEQ, 56, 0, 2),
        stmt(LD_ABS, ARG0),
        jump(JSET, CLONE_NEW, to(7, eperm), to(7, allow)),
    ];
    assert_eq!(p[..8], head);
    // The search first splits the 44 numbers at the 23rd, 272 (unshare).
    assert_eq!(p[8], jump(JGE, 272, to(8, 9 + search_len(22)), 0));
    assert_eq!(p[allow], stmt(RET, 0x7FFF_0000));
    assert_eq!(p[eperm], stmt(RET, 0x0005_0001));
    assert_eq!(p[enosys], stmt(RET, 0x0005_0026));
}

#[test]
fn aarch64_program_has_no_x32_check() {
    let p = program_for(&AARCH64).unwrap();
    let n = search_len(AARCH64.denied.len() + DENIED_COMMON.len());
    assert_eq!(p.len(), 10 + n);
    let (allow, eperm, enosys) = (7 + n, 8 + n, 9 + n);
    let to = |from: usize, target: usize| (target - from - 1) as u8;
    let head = [
        stmt(LD_ABS, ARCH),
        jump(JEQ, 0xC000_00B7, 0, to(1, eperm)),
        stmt(LD_ABS, NR),
        jump(JEQ, 435, to(3, enosys), 0),
        jump(JEQ, 220, 0, 2),
        stmt(LD_ABS, ARG0),
        jump(JSET, CLONE_NEW, to(6, eperm), to(6, allow)),
    ];
    assert_eq!(p[..7], head);
    assert_eq!(p[7], jump(JGE, 241, to(7, 8 + search_len(21)), 0));
    assert_eq!(
        p[allow..],
        [
            stmt(RET, RET_ALLOW),
            stmt(RET, RET_EPERM),
            stmt(RET, RET_ENOSYS)
        ]
    );
}

#[test]
fn native_program_is_the_build_architectures() {
    #[cfg(target_arch = "x86_64")]
    assert_eq!(program().unwrap(), program_for(&X86_64).unwrap());
    #[cfg(target_arch = "aarch64")]
    assert_eq!(program().unwrap(), program_for(&AARCH64).unwrap());
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

#[test]
fn every_path_is_short() {
    // The kernel runs a new filter once per syscall number (its allow cache):
    // a long linear list made installing it cost 2× more.
    for arch in [&X86_64, &AARCH64] {
        let p = program_for(arch).unwrap();
        for nr in 0..1024u32 {
            let mut steps = 0;
            let mut pc = 7 + arch.x32 as usize;
            while p[pc].code != RET {
                steps += 1;
                let i = p[pc];
                let taken = match i.code {
                    JEQ => nr == i.k,
                    JGE => nr >= i.k,
                    _ => break,
                };
                pc += 1 + if taken { i.jt } else { i.jf } as usize;
            }
            assert!(steps <= 10, "{arch:?} nr {nr}: {steps} compares");
        }
    }
}

fn verdict(arch: &Arch, nr: u32, arg0: u64) -> u32 {
    run(
        &program_for(arch).unwrap(),
        &Data {
            nr,
            arch: arch.audit,
            arg0,
        },
    )
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
        let p = program_for(arch).unwrap();
        for foreign in [AUDIT_ARCH_I386, AUDIT_ARCH_ARM, X86_64.audit, AARCH64.audit] {
            if foreign == arch.audit {
                continue;
            }
            for nr in [0, 1, 20, 39, 172, 250] {
                let d = Data {
                    nr,
                    arch: foreign,
                    arg0: 0,
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
