//! Installing a seccomp filter.

use super::{Errno, Result};
use syscalls::{syscall, Sysno};

/// One classic BPF instruction (`struct sock_filter`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// `struct sock_fprog`.
#[repr(C)]
struct Fprog {
    len: u16,
    filter: *const Insn,
}

/// Install `prog` as a seccomp filter of this thread: `seccomp(2)` (3.17+),
/// else `prctl(PR_SET_SECCOMP)`. Needs no_new_privs or CAP_SYS_ADMIN.
pub fn set_filter(prog: &[Insn]) -> Result<()> {
    const SECCOMP_SET_MODE_FILTER: usize = 1;
    const PR_SET_SECCOMP: u32 = 22;
    const SECCOMP_MODE_FILTER: usize = 2;
    let fprog = Fprog {
        len: u16::try_from(prog.len()).map_err(|_| Errno::EINVAL)?,
        filter: prog.as_ptr(),
    };
    let ptr = &fprog as *const Fprog;
    // SAFETY: fprog points to `len` valid instructions; the kernel copies them.
    match unsafe { syscall!(Sysno::seccomp, SECCOMP_SET_MODE_FILTER, 0, ptr) } {
        Err(Errno::ENOSYS) => {}
        r => return r.map(drop),
    }
    // SAFETY: as above; PR_SET_SECCOMP reads the sock_fprog at arg3.
    match unsafe { syscall!(Sysno::prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ptr, 0, 0) } {
        // No seccomp(2) and a prctl that knows no filter mode: a kernel
        // without CONFIG_SECCOMP_FILTER (or qemu-user, which refuses).
        Err(Errno::EINVAL) => Err(Errno::ENOSYS),
        r => r.map(drop),
    }
}
