/*
 * The kernel floor of proctor's default mode over pure-init mode: only the
 * kernel work that the default mode adds, timed inside a fresh child (the
 * credential changes are one-way, so every round forks):
 *
 *   capbset-drop   PR_CAPBSET_DROP of every capability up to cap_last_cap,
 *                  what the SPEC's step 5.6 asks for (no call drops several)
 *   capbset-read   PR_CAPBSET_READ of the same capabilities: the cheap half
 *                  of "drop only what is there"
 *   seccomp-own    seccomp() with proctor's own default program, read from
 *                  FILTER (raw struct sock_filter array, as the kernel hands
 *                  it out with PTRACE_SECCOMP_GET_FILTER)
 *   seccomp-1      seccomp() with a one-instruction "allow" program: what
 *                  any filter costs to install
 *
 * usage: default_floor ROUNDS FILTER
 * prints one JSON object per measurement: {"name":…,"samples":[ns,…]}
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { DROP, READ, OWN, ONE, KINDS };
static const char *const NAMES[KINDS] = {"capbset-drop", "capbset-read", "seccomp-own", "seccomp-1"};

static struct sock_filter own[4096];
static unsigned short own_len;
static int last_cap;

static void die(const char *what) {
    fprintf(stderr, "default_floor: %s: %s\n", what, strerror(errno));
    exit(2);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The timed work of one kind; 0 on success. */
static int work(int kind) {
    static struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = {kind == OWN ? own_len : 1, kind == OWN ? own : &allow};
    switch (kind) {
    case DROP:
    case READ:
        for (int cap = 0; cap <= last_cap; cap++)
            if (prctl(kind == DROP ? PR_CAPBSET_DROP : PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
                return -1;
        return 0;
    default:
        return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
    }
}

/* One round of one kind in a fresh child; the child's own clock, in ns. */
static uint64_t round_of(int kind) {
    int fds[2];
    if (pipe(fds) < 0) die("pipe");
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        /* seccomp() without CAP_SYS_ADMIN needs no_new_privs; set it untimed */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) _exit(1);
        uint64_t t0 = now_ns();
        int rc = work(kind);
        uint64_t t = now_ns() - t0;
        if (rc < 0) _exit(1);
        _exit(write(fds[1], &t, sizeof t) == sizeof t ? 0 : 1);
    }
    close(fds[1]);
    uint64_t t = 0;
    ssize_t n = read(fds[0], &t, sizeof t);
    close(fds[0]);
    int status;
    if (waitpid(pid, &status, 0) < 0) die("waitpid");
    if (n != sizeof t || status != 0) {
        fprintf(stderr, "default_floor: %s failed in the child\n", NAMES[kind]);
        exit(2);
    }
    return t;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: default_floor ROUNDS FILTER\n");
        return 2;
    }
    int rounds = atoi(argv[1]);
    FILE *f = fopen(argv[2], "rb");
    if (!f) die(argv[2]);
    own_len = (unsigned short)fread(own, sizeof own[0], sizeof own / sizeof own[0], f);
    fclose(f);
    FILE *c = fopen("/proc/sys/kernel/cap_last_cap", "r");
    if (!c || fscanf(c, "%d", &last_cap) != 1) die("/proc/sys/kernel/cap_last_cap");
    fclose(c);

    uint64_t *samples = calloc((size_t)rounds * KINDS, sizeof *samples);
    if (!samples) die("calloc");
    for (int r = 0; r < rounds; r++) /* interleaved, starting kind rotating */
        for (int i = 0; i < KINDS; i++) {
            int kind = (i + r) % KINDS;
            samples[(size_t)kind * rounds + r] = round_of(kind);
        }
    for (int kind = 0; kind < KINDS; kind++) {
        printf("{\"name\":\"%s\",\"calls\":%d,\"instructions\":%d,\"samples\":[", NAMES[kind],
               kind <= READ ? last_cap + 1 : 1, kind == OWN ? own_len : kind == ONE ? 1 : 0);
        for (int r = 0; r < rounds; r++)
            printf("%s%llu", r ? "," : "", (unsigned long long)samples[(size_t)kind * rounds + r]);
        printf("]}\n");
    }
    return 0;
}
