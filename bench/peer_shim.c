/*
 * Gives bubblewrap and firejail what they lack or need, then execs them, so
 * that the benchmark compares the same configuration: the two rlimits of
 * proctor's grading run, `container=lxc` (without it firejail runs
 * unsandboxed inside a PID namespace) and, for bwrap's `--seccomp 9`, a BPF
 * program opened afresh at descriptor 9 each run.
 *
 *   peer_shim FILTER|- PROGRAM [ARG...]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3)
        return 125;
    if (strcmp(argv[1], "-") != 0) {
        int fd = open(argv[1], O_RDONLY);
        if (fd < 0 || dup2(fd, 9) < 0)
            return perror(argv[1]), 125;
    }
    struct rlimit nofile = {256, 256}, cpu = {30, 30};
    if (setrlimit(RLIMIT_NOFILE, &nofile) < 0 || setrlimit(RLIMIT_CPU, &cpu) < 0)
        return perror("setrlimit"), 125;
    setenv("container", "lxc", 1);
    execv(argv[2], argv + 2);
    perror(argv[2]);
    return 127;
}
