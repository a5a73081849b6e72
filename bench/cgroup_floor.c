/*
 * The floor for the command's cgroup (issue 14): only the kernel work that
 * `--memory 256m --pids 64` adds to a run on a cgroup v1 host, and nothing
 * else — no discovery, no checks, no accounting, no leftovers to kill. It
 * is the least any tool can pay for the same cgroups, as floor.c is for
 * the init half. Not a tool anyone should use.
 *
 *   cgroup_floor [DIR...] -- COMMAND [ARG...]
 *
 * Each DIR is the cgroup the caller is in, in one v1 hierarchy. The parent
 * makes a child cgroup `floor-PID` in each, writes the limits where the
 * files are (memory.limit_in_bytes and memory.memsw.limit_in_bytes 256 MiB,
 * pids.max 64) and forks; the child writes itself into each `tasks` (as
 * proctor's does: the cheap path, see docs/resources.md) and execs; the
 * parent waits and removes the cgroups. With no DIR: fork, exec, wait.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_DIRS 8

static void die(const char *what) {
    perror(what);
    _exit(125);
}

/* Write `text` to DIR/FILE; a file this hierarchy lacks is no error. */
static void put(int dir, const char *file, const char *text) {
    int fd = openat(dir, file, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (write(fd, text, strlen(text)) < 0)
        die(file);
    close(fd);
}

int main(int argc, char **argv) {
    int n = 1;
    while (n < argc && strcmp(argv[n], "--") != 0)
        n++;
    int dirs = n - 1;
    if (n + 1 >= argc || dirs > MAX_DIRS) {
        fprintf(stderr, "usage: %s [DIR...] -- COMMAND [ARG...]\n", argv[0]);
        return 125;
    }
    char name[32];
    snprintf(name, sizeof name, "floor-%d", (int)getpid());
    int parent[MAX_DIRS], tasks[MAX_DIRS];
    for (int i = 0; i < dirs; i++) {
        parent[i] = open(argv[1 + i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent[i] < 0 || mkdirat(parent[i], name, 0755) < 0)
            die(argv[1 + i]);
        int cg = openat(parent[i], name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cg < 0)
            die(name);
        put(cg, "memory.limit_in_bytes", "268435456");
        put(cg, "memory.memsw.limit_in_bytes", "268435456");
        put(cg, "pids.max", "64");
        tasks[i] = openat(cg, "tasks", O_WRONLY | O_CLOEXEC);
        if (tasks[i] < 0)
            die("tasks");
        close(cg);
    }
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        for (int i = 0; i < dirs; i++)
            if (write(tasks[i], "0", 1) != 1)
                die("tasks");
        execv(argv[n + 1], &argv[n + 1]);
        die("execv");
    }
    int status;
    if (waitpid(pid, &status, 0) < 0)
        die("waitpid");
    for (int i = 0; i < dirs; i++) {
        close(tasks[i]);
        if (unlinkat(parent[i], name, AT_REMOVEDIR) < 0)
            die("rmdir");
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 125;
}
