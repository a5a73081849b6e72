//! The process entry point on x86_64.
//!
//! The kernel starts us with `rsp` pointing at `argc`, followed by the argv
//! pointers, a null, the envp pointers and a null (System V ABI, "Process
//! Initialization"). We hand that address to Rust and never return.

core::arch::global_asm!(
    ".section .text._start,\"ax\",@progbits",
    ".globl _start",
    ".type _start,@function",
    "_start:",
    "xor ebp, ebp",   // outermost frame: a null frame pointer ends backtraces
    "mov rdi, rsp",   // first argument: the initial stack (argc, argv, envp)
    "and rsp, -16",   // the ABI wants a 16-byte aligned stack at each call
    "call {entry}",   // main.rs's entry never returns
    "ud2",            // trap should it ever return
    entry = sym super::super::entry,
);
