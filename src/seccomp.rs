//! The seccomp deny-list as a classic BPF program, and its installation.

use crate::sys::Errno;
use alloc::vec::Vec;

/// One classic BPF instruction (`struct sock_filter`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// The deny-list program for this architecture.
pub fn program() -> Vec<Insn> {
    Vec::new()
}

/// Install `prog` for this thread (needs no_new_privs or CAP_SYS_ADMIN).
pub fn install(prog: &[Insn]) -> Result<(), Errno> {
    let _ = prog;
    Ok(())
}
