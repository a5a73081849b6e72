#!/usr/bin/python3
"""Write, for bubblewrap's `--seccomp FD`, a BPF program with proctor's
deny-list (the SPEC's "Seccomp deny-list": the same syscalls answer EPERM,
clone3 ENOSYS, clone with a namespace flag, TIOCSTI and TIOCLINUX, AF_VSOCK),
so that the benchmark compares sandboxes of the same strength. Needs
Debian's python3-seccomp (libseccomp's bindings), hence /usr/bin/python3.

usage: bwrap_filter.py OUT
"""
import errno
import sys

import seccomp

DENY = """keyctl add_key request_key bpf perf_event_open userfaultfd io_uring_setup
io_uring_enter io_uring_register kexec_load kexec_file_load init_module
finit_module delete_module mount umount2 pivot_root swapon swapoff reboot
setns unshare open_by_handle_at name_to_handle_at iopl ioperm acct quotactl
lookup_dcookie syslog vhangup settimeofday clock_settime adjtimex
clock_adjtime fsopen fsconfig fsmount fspick open_tree move_mount
mount_setattr open_tree_attr quotactl_fd modify_ldt""".split()

CLONE_NEW = 0x7E020000  # NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
TIOCSTI, TIOCLINUX, AF_VSOCK = 0x5412, 0x541C, 40


def main(out):
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in DENY:
        try:
            f.add_rule(seccomp.ERRNO(errno.EPERM), name)
        except (RuntimeError, ValueError):
            pass  # a name this libseccomp does not know
    f.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    for bit in (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000):
        f.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, bit, bit))
    for req in (TIOCSTI, TIOCLINUX):
        f.add_rule(seccomp.ERRNO(errno.EPERM), "ioctl", seccomp.Arg(1, seccomp.EQ, req))
    f.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket", seccomp.Arg(0, seccomp.EQ, AF_VSOCK))
    with open(out, "wb") as fh:
        f.export_bpf(fh)


if __name__ == "__main__":
    main(sys.argv[1])
