/*
 * The floor for the sandbox half: only the kernel work of proctor's full
 * grading configuration, and nothing else — no parsing, no checks, no
 * symlink-safe path walks, no report, no signal forwarding, no reaping of
 * orphans. It is the least any sandbox can cost for the same isolation, as
 * floor.c is for the init half. Not a sandbox anyone should use.
 *
 *   sandbox_floor SUBMISSION MNT SCRATCH FILTER_LEN -- COMMAND [ARG...]
 *
 * In a child: new mount and network namespaces, / made private, lo up, SUBMISSION
 * bound read-only (nosuid, nodev) at MNT, a tmpfs at SCRATCH, two rlimits,
 * no supplementary groups, uid and gid 65534, every capability dropped (the
 * uid change clears them), no_new_privs, a seccomp filter of FILTER_LEN
 * instructions (as long as proctor's), then exec. The parent waits.
 */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <grp.h>

static void die(const char *what) {
    perror(what);
    _exit(125);
}

static void loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        die("SIOCGIFFLAGS");
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        die("SIOCSIFFLAGS");
    close(s);
}

/* FILTER_LEN instructions: all but the last jump over nothing, the last allows. */
static void seccomp_filter(unsigned short len) {
    struct sock_filter *prog = calloc(len, sizeof *prog);
    if (!prog || len == 0)
        die("filter");
    for (unsigned i = 0; i + 1 < len; i++)
        prog[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0);
    prog[len - 1] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog fprog = {.len = len, .filter = prog};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0)
        die("seccomp");
}

int main(int argc, char **argv) {
    if (argc < 7 || strcmp(argv[5], "--") != 0) {
        fprintf(stderr, "usage: %s SUBMISSION MNT SCRATCH FILTER_LEN -- COMMAND [ARG...]\n", argv[0]);
        return 125;
    }
    const char *sub = argv[1], *mnt = argv[2], *scratch = argv[3];
    unsigned short len = (unsigned short)atoi(argv[4]);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0)
            die("unshare");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            die("private /");
        loopback_up();
        if (mount(sub, mnt, NULL, MS_BIND, NULL) < 0)
            die("bind");
        if (mount(NULL, mnt, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
            die("remount ro");
        if (mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777") < 0)
            die("tmpfs");
        struct rlimit nofile = {256, 256}, cpu = {30, 30};
        if (setrlimit(RLIMIT_NOFILE, &nofile) < 0 || setrlimit(RLIMIT_CPU, &cpu) < 0)
            die("setrlimit");
        if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
            setresuid(65534, 65534, 65534) < 0)
            die("ids");
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            die("no_new_privs");
        seccomp_filter(len);
        execv(argv[6], argv + 6);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
    }
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
