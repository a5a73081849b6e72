//! The process entry point on aarch64.
//!
//! The kernel starts us with `sp` pointing at `argc`, followed by the argv
//! pointers, a null, the envp pointers and a null. We hand that address to
//! Rust and never return.

core::arch::global_asm!(
    ".section .text._start,\"ax\",%progbits",
    ".globl _start",
    ".type _start,%function",
    "_start:",
    "mov x29, xzr",      // outermost frame: a null frame pointer ends backtraces
    "mov x30, xzr",      // and a null link register
    "mov x0, sp",        // first argument: the initial stack (argc, argv, envp)
    "and sp, x0, #-16",  // keep the stack 16-byte aligned, as the ABI requires
    "bl {entry}",        // main.rs's entry never returns
    "udf #0",            // trap should it ever return
    entry = sym super::super::entry,
);
