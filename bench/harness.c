/*
 * Measurement harness for bench/run: the timing loops live here, in a small
 * static C program, so that the noise floor is a fork and a clock read, not
 * an interpreter.
 *
 * Every init runs as PID 1 of a PID namespace of its own (clone with
 * CLONE_NEWPID), and bench/run starts this harness itself under
 * `unshare --pid --fork --mount-proc`: whatever an init does with kill(-1)
 * stays inside a throwaway namespace.
 *
 * Drivers (run outside the init; print one JSON object per line on stdout):
 *   spawn ROUNDS NAME ARGV... [:: NAME ARGV...]...   interleaved timing of whole runs
 *                                                     (HARNESS_PAUSE_MS=N: idle N ms before each)
 *   exec1 ARGV...                                     run once as PID 1 (for strace)
 *   rss NAME ARGV...                                  VmHWM of PID 1 while the command sleeps
 *   flood NAME ARGV...                                PID 1 runs a `floodcmd`; relay its result
 *   signal ROUNDS NAME ARGV...                        kill(PID 1, SIGUSR1) -> ack round trips
 *   waitfor ROUNDS NAME ARGV...                       marker creation -> command start
 * Commands (run under the init):
 *   sleepms MS | floodcmd N | sigcmd FIFO | stamp
 * In ARGV, "@FIFO@" and "@MARKER@" are replaced by the driver's paths.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "harness: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void sleep_ns(uint64_t ns) {
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Print a JSON string (names and paths here are plain ASCII). */
static void json_str(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        putchar(*s);
    }
    putchar('"');
}

static void json_samples(const char *name, const uint64_t *v, int n, int failures) {
    printf("{\"name\":");
    json_str(name);
    printf(",\"failures\":%d,\"samples\":[", failures);
    for (int i = 0; i < n; i++)
        printf(i ? ",%llu" : "%llu", (unsigned long long)v[i]);
    printf("]}\n");
    fflush(stdout);
}

/* --- starting an init as PID 1 of a fresh PID namespace ------------------ */

enum { WITH_PROC = 1, QUIET = 2 };

struct child_setup {
    char **argv;
    int flags;
    int stdout_fd; /* -1: keep */
};

static int devnull = -1;

/* clone(CLONE_NEWPID) and exec argv as PID 1. With WITH_PROC, the child also
 * gets a private mount namespace with its own /proc (like unshare
 * --mount-proc), which the commands that read /proc/1 need. */
static pid_t start_pid1(const struct child_setup *cs) {
    unsigned long flags = CLONE_NEWPID | SIGCHLD;
    if (cs->flags & WITH_PROC)
        flags |= CLONE_NEWNS;
    pid_t pid = (pid_t)syscall(SYS_clone, flags, 0, 0, 0, 0);
    if (pid < 0)
        die("clone(CLONE_NEWPID)");
    if (pid == 0) {
        if (cs->flags & WITH_PROC) {
            if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
                mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
                _exit(120);
        }
        if (cs->stdout_fd >= 0)
            dup2(cs->stdout_fd, 1);
        else if (cs->flags & QUIET)
            dup2(devnull, 1);
        if (cs->flags & QUIET)
            dup2(devnull, 2);
        execv(cs->argv[0], cs->argv);
        _exit(127);
    }
    return pid;
}

static int wait_status(pid_t pid) {
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            die("waitpid");
    return st;
}

/* End a PID 1 and its namespace. SIGKILL: a bare command as PID 1 ignores
 * SIGTERM from outside. */
static void end_pid1(pid_t pid) {
    kill(pid, SIGKILL);
    wait_status(pid);
}

/* argv with @FIFO@ / @MARKER@ replaced; the array is leaked (one per run). */
static char **subst(char **argv, int argc, const char *fifo, const char *marker) {
    char **out = calloc((size_t)argc + 1, sizeof *out);
    for (int i = 0; i < argc; i++) {
        if (fifo && strcmp(argv[i], "@FIFO@") == 0)
            out[i] = (char *)fifo;
        else if (marker && strcmp(argv[i], "@MARKER@") == 0)
            out[i] = (char *)marker;
        else
            out[i] = argv[i];
    }
    return out;
}

/* --- spawn: interleaved whole-run timing ----------------------------------- */

struct variant {
    const char *name;
    char **argv;
    uint64_t *samples;
    int failures;
};

static int drv_spawn(int argc, char **argv) {
    int rounds = atoi(argv[0]);
    struct variant v[32];
    int nv = 0;
    for (int i = 1; i < argc && nv < 32;) {
        v[nv].name = argv[i++];
        v[nv].argv = &argv[i];
        while (i < argc && strcmp(argv[i], "::") != 0)
            i++;
        if (i < argc)
            argv[i++] = NULL; /* terminates this variant's argv */
        v[nv].samples = calloc((size_t)rounds, sizeof(uint64_t));
        v[nv].failures = 0;
        nv++;
    }
    /* Warm-up: page cache, dynamic loader caches. */
    for (int r = 0; r < 20; r++)
        for (int k = 0; k < nv; k++) {
            struct child_setup cs = {v[k].argv, QUIET, -1};
            wait_status(start_pid1(&cs));
        }
    /* A pause lets the kernel's deferred work settle and its fast paths go
     * cold, as between the jobs of a quiet host. */
    const char *pause = getenv("HARNESS_PAUSE_MS");
    uint64_t pause_ns = pause ? (uint64_t)atoi(pause) * 1000000u : 0;
    for (int r = 0; r < rounds; r++) {
        /* Rotate the starting variant so no one always follows the same neighbour. */
        for (int j = 0; j < nv; j++) {
            int k = (j + r) % nv;
            struct child_setup cs = {v[k].argv, QUIET, -1};
            if (pause_ns)
                sleep_ns(pause_ns);
            uint64_t t0 = now_ns();
            int st = wait_status(start_pid1(&cs));
            v[k].samples[r] = now_ns() - t0;
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                v[k].failures++;
        }
    }
    for (int k = 0; k < nv; k++)
        json_samples(v[k].name, v[k].samples, rounds, v[k].failures);
    return 0;
}

/* --- exec1: one run as PID 1, output passed through (for strace -f) -------- */

static int drv_exec1(int argc, char **argv) {
    (void)argc;
    struct child_setup cs = {argv, WITH_PROC, -1};
    int st = wait_status(start_pid1(&cs));
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* --- rss: peak resident set of PID 1 while its command sleeps -------------- */

/* Value in kB of `key` in /proc/PID/status, or -1. */
static long status_kb(pid_t pid, const char *key) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            kb = atol(line + n + 1);
    fclose(f);
    return kb;
}

/* Whether PID 1 (host pid `pid`) has a child that already runs `comm`. */
static int child_runs(pid_t pid, const char *comm) {
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int child = 0;
    int ok = fscanf(f, "%d", &child) == 1;
    fclose(f);
    if (!ok)
        return 0;
    snprintf(path, sizeof path, "/proc/%d/comm", child);
    f = fopen(path, "r");
    if (!f)
        return 0;
    ok = fgets(buf, sizeof buf, f) != NULL && strncmp(buf, comm, strlen(comm)) == 0;
    fclose(f);
    return ok;
}

static int drv_rss(int argc, char **argv) {
    (void)argc;
    struct child_setup cs = {&argv[1], QUIET, -1};
    pid_t pid = start_pid1(&cs);
    uint64_t deadline = now_ns() + 5000000000u;
    while (!child_runs(pid, "harness") && now_ns() < deadline)
        sleep_ns(1000000);
    sleep_ns(50000000); /* the command is asleep; the init waits for it */
    long hwm = status_kb(pid, "VmHWM"), rss = status_kb(pid, "VmRSS");
    int st = wait_status(pid);
    printf("{\"name\":");
    json_str(argv[0]);
    printf(",\"vmhwm_kb\":%ld,\"vmrss_kb\":%ld,\"status\":%d}\n", hwm, rss, st);
    return 0;
}

/* --- flood: zombie reaping ---------------------------------------------------- */

static int drv_flood(int argc, char **argv) {
    (void)argc;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        die("pipe");
    struct child_setup cs = {&argv[1], WITH_PROC | QUIET, fds[1]};
    pid_t pid = start_pid1(&cs);
    close(fds[1]);
    char buf[512];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 && (n = read(fds[0], buf + len, sizeof buf - 1 - len)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("read");
        }
        len += (size_t)n;
    }
    buf[len] = 0;
    int st = wait_status(pid);
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = 0;
    printf("{\"name\":");
    json_str(argv[0]);
    printf(",\"status\":%d,\"result\":%s}\n", st, len ? buf : "null");
    return 0;
}

/* The command: make `n` orphans as fast as the machine can, all at once.
 * A vforked child clones a grandchild (sharing this process's memory, so no
 * page tables are copied) that blocks on a pipe, then exits, so the
 * grandchild is handed to PID 1. Closing the pipe's last write end then ends
 * all of them together: PID 1 must reap `n` zombies in one burst. Done when
 * PID 1's children list holds only this process. */
enum { GC_STACK = 4096 };
static int gate[2];

static int grandchild(void *arg) {
    (void)arg;
    char b;
    syscall(SYS_close, gate[1]);
    syscall(SYS_read, gate[0], &b, 1);
    return 0;
}

/* CPU time PID 1 has used so far, in ns (/proc/1/schedstat), or 0. */
static uint64_t pid1_cpu_ns(void) {
    unsigned long long ns = 0;
    FILE *f = fopen("/proc/1/schedstat", "r");
    if (f) {
        if (fscanf(f, "%llu", &ns) != 1)
            ns = 0;
        fclose(f);
    }
    return ns;
}

static int cmd_flood(int n) {
    if (pipe(gate) != 0)
        die("pipe");
    char *stacks = malloc((size_t)n * GC_STACK);
    if (!stacks)
        die("malloc");
    uint64_t t0 = now_ns();
    for (int i = 0; i < n; i++) {
        pid_t c = vfork();
        if (c < 0)
            die("vfork");
        if (c == 0) {
            char *top = stacks + (size_t)(i + 1) * GC_STACK;
            _exit(clone(grandchild, top, CLONE_VM | SIGCHLD, NULL) < 0);
        }
        if (wait_status(c) != 0)
            die("clone a grandchild");
    }
    uint64_t cpu0 = pid1_cpu_ns();
    uint64_t created = now_ns();
    close(gate[1]);
    char me[32], buf[64];
    int melen = snprintf(me, sizeof me, "%d ", (int)getpid());
    int polls = 0;
    for (;;) {
        int fd = open("/proc/1/task/1/children", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            die("open /proc/1/task/1/children");
        ssize_t got = read(fd, buf, sizeof buf);
        close(fd);
        polls++;
        if (got == melen && memcmp(buf, me, (size_t)melen) == 0)
            break;
        if (now_ns() - created > 60000000000u) {
            printf("{\"error\":\"orphans still unreaped after 60 s\"}\n");
            return 1;
        }
        sleep_ns(100000);
    }
    uint64_t reaped = now_ns();
    uint64_t cpu = pid1_cpu_ns() - cpu0;
    printf("{\"orphans\":%d,\"create_ns\":%llu,\"reap_ns\":%llu,\"init_cpu_ns\":%llu,"
           "\"polls\":%d}\n",
           n, (unsigned long long)(created - t0), (unsigned long long)(reaped - created),
           (unsigned long long)cpu, polls);
    return 0;
}

/* --- signal: forwarding round trip -------------------------------------------- */

/* Read one byte from fd within `ms`; 1 on success, 0 on timeout. */
static int read_byte(int fd, int ms) {
    struct pollfd p = {fd, POLLIN, 0};
    for (;;) {
        int r = poll(&p, 1, ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 0;
        char c;
        ssize_t n = read(fd, &c, 1);
        if (n == 1)
            return 1;
        if (n < 0 && errno == EINTR)
            continue;
        return 0;
    }
}

static char tmpdir[64];

static void make_tmpdir(void) {
    strcpy(tmpdir, "/tmp/proctor-bench.XXXXXX");
    if (!mkdtemp(tmpdir))
        die("mkdtemp");
}

static int drv_signal(int argc, char **argv) {
    int rounds = atoi(argv[0]);
    const char *name = argv[1];
    make_tmpdir();
    char fifo[128];
    snprintf(fifo, sizeof fifo, "%s/ack", tmpdir);
    if (mkfifo(fifo, 0600) != 0)
        die("mkfifo");
    int fd = open(fifo, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        die("open fifo");
    struct child_setup cs = {subst(&argv[2], argc - 2, fifo, NULL), QUIET, -1};
    pid_t pid = start_pid1(&cs);
    uint64_t *s = calloc((size_t)rounds, sizeof *s);
    int lost = 0, got = 0;
    if (read_byte(fd, 10000)) {
        for (int r = 0; r < rounds; r++) {
            uint64_t t0 = now_ns();
            kill(pid, SIGUSR1);
            if (read_byte(fd, 2000))
                s[got++] = now_ns() - t0;
            else
                lost++;
        }
    } else {
        lost = rounds;
    }
    end_pid1(pid);
    unlink(fifo);
    rmdir(tmpdir);
    json_samples(name, s, got, lost);
    return 0;
}

static int ack_fd = -1;

static void on_usr1(int sig) {
    (void)sig;
    char c = 'a';
    if (write(ack_fd, &c, 1) != 1)
        _exit(3);
}

static int cmd_sig(const char *fifo) {
    ack_fd = open(fifo, O_WRONLY | O_CLOEXEC);
    if (ack_fd < 0)
        die("open fifo");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    char c = 'r';
    if (write(ack_fd, &c, 1) != 1)
        die("write");
    for (;;)
        pause();
    return 0;
}

/* --- waitfor: marker creation -> command start ----------------------------- */

static int drv_waitfor(int argc, char **argv) {
    int rounds = atoi(argv[0]);
    const char *name = argv[1];
    make_tmpdir();
    uint64_t *s = calloc((size_t)rounds, sizeof *s);
    int got = 0, lost = 0;
    srand((unsigned)now_ns());
    for (int r = 0; r < rounds; r++) {
        char marker[128];
        snprintf(marker, sizeof marker, "%s/ready.%d", tmpdir, r);
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0)
            die("pipe");
        struct child_setup cs = {subst(&argv[2], argc - 2, NULL, marker), QUIET, fds[1]};
        pid_t pid = start_pid1(&cs);
        close(fds[1]);
        /* Let the init settle into its wait; a random phase so that a
         * periodic poll shows its average cost, not a lucky alignment. */
        sleep_ns(50000000u + (uint64_t)(rand() % 100) * 1000000u);
        uint64_t t0 = now_ns();
        int m = open(marker, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
        if (m < 0)
            die("create marker");
        close(m);
        uint64_t started = 0;
        char buf[64];
        ssize_t n = 0, len = 0;
        struct pollfd p = {fds[0], POLLIN, 0};
        while (len < (ssize_t)sizeof buf - 1 && poll(&p, 1, 5000) > 0 &&
               (n = read(fds[0], buf + len, sizeof buf - 1 - (size_t)len)) > 0) {
            len += n;
            if (memchr(buf, '\n', (size_t)len))
                break;
        }
        buf[len] = 0;
        if (len > 0 && sscanf(buf, "%llu", (unsigned long long *)&started) == 1 && started >= t0)
            s[got++] = started - t0;
        else
            lost++;
        close(fds[0]);
        end_pid1(pid);
        unlink(marker);
    }
    rmdir(tmpdir);
    json_samples(name, s, got, lost);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: harness spawn|exec1|rss|flood|signal|waitfor|sleepms|floodcmd|sigcmd|stamp ...\n");
        return 2;
    }
    const char *cmd = argv[1];
    /* The command side: timestamp first, before anything else happens. */
    if (strcmp(cmd, "stamp") == 0) {
        printf("%llu\n", (unsigned long long)now_ns());
        return 0;
    }
    if (strcmp(cmd, "sleepms") == 0 && argc == 3) {
        sleep_ns((uint64_t)atol(argv[2]) * 1000000u);
        return 0;
    }
    if (strcmp(cmd, "floodcmd") == 0 && argc == 3)
        return cmd_flood(atoi(argv[2]));
    if (strcmp(cmd, "sigcmd") == 0 && argc == 3)
        return cmd_sig(argv[2]);
    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0)
        die("open /dev/null");
    if (strcmp(cmd, "spawn") == 0 && argc >= 4)
        return drv_spawn(argc - 2, argv + 2);
    if (strcmp(cmd, "exec1") == 0 && argc >= 3)
        return drv_exec1(argc - 2, argv + 2);
    if (strcmp(cmd, "rss") == 0 && argc >= 4)
        return drv_rss(argc - 2, argv + 2);
    if (strcmp(cmd, "flood") == 0 && argc >= 4)
        return drv_flood(argc - 2, argv + 2);
    if (strcmp(cmd, "signal") == 0 && argc >= 5)
        return drv_signal(argc - 2, argv + 2);
    if (strcmp(cmd, "waitfor") == 0 && argc >= 5)
        return drv_waitfor(argc - 2, argv + 2);
    fprintf(stderr, "harness: bad arguments for %s\n", cmd);
    return 2;
}
