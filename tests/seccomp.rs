//! The seccomp deny-list, seen from a command: a small C program calls the
//! denied syscalls (with harmless arguments) and prints the errno of each.
mod common;
use common::*;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const PROBE: &str = r#"
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sched.h>

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_quotactl_fd
#define SYS_quotactl_fd 443
#endif
#ifndef SYS_open_tree_attr
#define SYS_open_tree_attr 467
#endif

/* Print name=errno (0: the call succeeded). */
static void show(const char *name, long r) { printf("%s=%d\n", name, r < 0 ? errno : 0); }
#define CALL(n) (errno = 0, show(#n, syscall(SYS_##n, 0, 0, 0, 0, 0, 0)))

/* clone() with flags, as a fork: the child exits at once. */
static void clone_with(const char *name, unsigned long flags) {
    long r = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    if (r == 0) _exit(0);
    show(name, r);
    if (r > 0) waitpid(r, 0, 0);
}

/* personality(value), named by the value; the old persona comes back. */
static void persona(unsigned long value) {
    char name[32];
    snprintf(name, sizeof name, "personality_%#lx", value);
    errno = 0;
    long old = syscall(SYS_personality, value);
    show(name, old);
    if (old >= 0 && value != 0xffffffffUL) syscall(SYS_personality, (unsigned long)old);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "personalities") == 0) {
        /* Docker's values (and the query), then values one bit away. */
        unsigned long v[] = {0, 0x8, 0x20000, 0x20008, 0xffffffffUL,
                             0x1, 0x9, 0x10008, 0x20001, 0x40000, 0x400000, 0xfffffffeUL};
        for (unsigned i = 0; i < sizeof v / sizeof v[0]; i++) persona(v[i]);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "denied") == 0) {
        CALL(keyctl); CALL(add_key); CALL(request_key); CALL(bpf);
        CALL(perf_event_open); CALL(userfaultfd); CALL(io_uring_setup);
        CALL(io_uring_enter); CALL(io_uring_register); CALL(kexec_load);
        CALL(kexec_file_load); CALL(init_module); CALL(finit_module);
        CALL(delete_module); CALL(mount); CALL(umount2); CALL(pivot_root);
        CALL(swapon); CALL(swapoff); CALL(reboot); CALL(setns); CALL(unshare);
        CALL(open_by_handle_at); CALL(name_to_handle_at);
#ifdef SYS_iopl
        CALL(iopl); CALL(ioperm);
#endif
        CALL(acct); CALL(quotactl); CALL(lookup_dcookie); CALL(syslog);
        CALL(vhangup); CALL(settimeofday); CALL(clock_settime); CALL(adjtimex);
        CALL(clock_adjtime); CALL(fsopen); CALL(fsconfig); CALL(fsmount);
        CALL(fspick); CALL(open_tree); CALL(move_mount); CALL(mount_setattr);
        CALL(quotactl_fd); CALL(open_tree_attr);
        return 0;
    }
    /* KEYCTL_GET_KEYRING_ID of the session keyring: allowed to anyone. */
    errno = 0; show("keyring", syscall(SYS_keyctl, 0, -3, 0));
    errno = 0; show("unshare_uts", syscall(SYS_unshare, CLONE_NEWUTS));
    errno = 0; clone_with("clone_plain", 0);
    errno = 0; clone_with("clone_newuser", CLONE_NEWUSER);
    errno = 0; clone_with("clone_newnet", CLONE_NEWNET);
    errno = 0; long f = fork(); if (f == 0) _exit(0); show("fork", f); if (f > 0) waitpid(f, 0, 0);
    errno = 0; show("clone3", syscall(SYS_clone3, 0, 0));
    errno = 0; show("getpid", syscall(SYS_getpid));
#ifdef __x86_64__
    errno = 0; show("x32_getpid", syscall(0x40000000 | SYS_getpid));
    /* i386's getpid (20) through int 0x80; the kernel answers -errno in eax. */
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
    printf("i386_getpid=%d\n", r < 0 ? (int)-r : 0);
#endif
    return 0;
}
"#;

/// The probe, compiled once per test run; Err (skip) without a C compiler.
fn probe() -> Result<&'static str, String> {
    static ONCE: OnceLock<Result<String, String>> = OnceLock::new();
    compile_c(&ONCE, "seccomp-probe", PROBE, &[])
}

/// Run the probe under proctor with `opts`; its name=errno lines.
fn results(mode: Mode, opts: &[&str], probe_args: &[&str]) -> BTreeMap<String, i32> {
    let mut args = opts.to_vec();
    args.push("--");
    args.push(probe().expect("the probe"));
    args.extend(probe_args);
    let out = run(mode, &args);
    assert_eq!(code(&out), 0, "{mode:?} {opts:?}: {}", stderr(&out));
    name_numbers(&out)
}

const EPERM: i32 = libc::EPERM;
const ENOSYS: i32 = libc::ENOSYS;

#[test]
fn every_denied_syscall_answers_eperm() {
    skip_unless!(ready(), probe());
    for mode in MODES {
        let on = results(mode, &[], &["denied"]);
        let expected = if cfg!(target_arch = "x86_64") { 44 } else { 42 };
        assert_eq!(on.len(), expected, "{on:?}");
        for (name, errno) in &on {
            assert_eq!(*errno, EPERM, "{mode:?}: {name} under the filter");
        }
        // Without the filter the same calls fail otherwise or succeed
        // (EFAULT, EINVAL, ENOSYS, 0), unless a missing capability says EPERM.
        let off = results(mode, &["--seccomp", "none"], &["denied"]);
        let other: Vec<_> = off.iter().filter(|(_, &e)| e != EPERM).collect();
        assert!(other.len() >= 10, "{mode:?}: without filter {off:?}");
        for name in [
            "keyctl",
            "perf_event_open",
            "io_uring_setup",
            "name_to_handle_at",
        ] {
            assert_ne!(off[name], EPERM, "{mode:?}: {name} without the filter");
        }
    }
}

#[test]
fn filter_makes_the_difference_with_capabilities_kept() {
    skip_unless!(ready(), probe());
    // With --keep-caps the command may unshare and clone into new
    // namespaces, so EPERM can only come from the filter.
    for mode in MODES {
        let off = results(mode, &["--keep-caps", "--seccomp", "none"], &[]);
        let on = results(mode, &["--keep-caps"], &[]);
        for name in ["unshare_uts", "clone_newuser", "clone_newnet", "keyring"] {
            assert_eq!(off[name], 0, "{mode:?}: {name} without the filter: {off:?}");
            assert_eq!(on[name], EPERM, "{mode:?}: {name} under the filter: {on:?}");
        }
        for name in ["clone_plain", "fork", "getpid"] {
            assert_eq!(on[name], 0, "{mode:?}: {name} must still work: {on:?}");
        }
        // clone3 answers ENOSYS so that libc falls back to clone.
        assert_eq!(off["clone3"], libc::EINVAL, "{mode:?}");
        assert_eq!(on["clone3"], ENOSYS, "{mode:?}");
    }
}

#[test]
fn personality_takes_dockers_values_only() {
    skip_unless!(ready(), probe());
    let mode = Mode::Pid1;
    let on = results(mode, &[], &["personalities"]);
    let off = results(mode, &["--seccomp", "none"], &["personalities"]);
    assert_eq!(on.len(), 12, "{on:?}");
    for (value, errno) in &on {
        let docker = ["0", "0x8", "0x20000", "0x20008", "0xffffffff"];
        if docker.contains(&value.trim_start_matches("personality_")) {
            assert_eq!(*errno, 0, "{value} under the filter: {on:?}");
        } else {
            assert_eq!(*errno, EPERM, "{value} under the filter: {on:?}");
            // The kernel itself takes any of them (EINVAL at worst).
            assert_ne!(off[value], EPERM, "{value} without the filter: {off:?}");
        }
    }
}

#[test]
#[cfg(target_arch = "x86_64")]
fn foreign_abis_are_refused() {
    skip_unless!(ready(), probe());
    for mode in MODES {
        let off = results(mode, &["--seccomp", "none"], &[]);
        let on = results(mode, &[], &[]);
        // This kernel has x32 disabled: ENOSYS without the filter, EPERM with it.
        assert_eq!(on["x32_getpid"], EPERM, "{mode:?}");
        assert_ne!(off["x32_getpid"], EPERM, "{mode:?}");
        // i386 through int 0x80 works without the filter (getpid succeeds)
        // where the kernel has IA32 emulation, and is refused with it.
        assert_eq!(on["i386_getpid"], EPERM, "{mode:?}");
        assert_ne!(off["i386_getpid"], EPERM, "{mode:?}");
    }
}

#[test]
fn status_shows_the_filter() {
    skip_unless!(ready());
    for mode in MODES {
        for (opts, want) in [
            (&[][..], "2"),
            (&["--seccomp", "default"][..], "2"),
            (&["--seccomp=none"][..], "0"),
        ] {
            let mut args = opts.to_vec();
            args.extend(["cat", "/proc/self/status"]);
            let out = run(mode, &args);
            assert_eq!(code(&out), 0, "{}", stderr(&out));
            let status = stdout(&out);
            assert_eq!(
                status_line(&status, "Seccomp").as_deref(),
                Some(want),
                "{opts:?}"
            );
            // no_new_privs is independent of the filter.
            assert_eq!(status_line(&status, "NoNewPrivs").as_deref(), Some("1"));
        }
    }
}
