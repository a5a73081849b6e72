/*
 * The floor for every figure of an init: fork, exec, wait — nothing else.
 * No libc, no signal handling, no reaping of orphans: not an init anyone
 * should use, only the reference bench/run sets proctor against.
 * x86_64 only: `floor -- COMMAND [ARG...]`.
 */
typedef unsigned long u64;

static long sys(long n, long a, long b, long c, long d) {
    long ret;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
}

enum { SYS_wait4 = 61, SYS_execve = 59, SYS_exit = 60, SYS_fork = 57 };

/* Called by _start with the initial stack: argc, argv..., 0, envp..., 0. */
__attribute__((used, noreturn)) void floor_main(u64 *sp) {
    long argc = (long)sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;
    char **cmd = argv + 2; /* argv[1] is "--" */
    if (argc < 3)
        sys(SYS_exit, 125, 0, 0, 0);
    long pid = sys(SYS_fork, 0, 0, 0, 0);
    if (pid == 0) {
        sys(SYS_execve, (long)cmd[0], (long)cmd, (long)envp, 0);
        sys(SYS_exit, 127, 0, 0, 0);
    }
    int status = 0;
    while (sys(SYS_wait4, -1, (long)&status, 0, 0) != pid) {
    }
    sys(SYS_exit, (status & 0x7f) ? 128 + (status & 0x7f) : (status >> 8) & 0xff, 0, 0, 0);
    __builtin_unreachable();
}

__asm__(".globl _start\n_start:\n mov %rsp, %rdi\n and $-16, %rsp\n call floor_main\n");
