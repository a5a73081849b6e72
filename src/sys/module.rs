//! Kernel modules: what the init of a VM on a distribution kernel loads
//! before it can see its drives.

use super::Result;
use core::ffi::CStr;
use syscalls::{syscall, Sysno};

/// `finit_module(fd, params, 0)`: load the module whose ELF image `fd`
/// reads, with `params` as its parameter string (needs CAP_SYS_MODULE).
pub fn load_module(fd: i32, params: &CStr) -> Result<()> {
    // SAFETY: params is NUL-terminated; the kernel reads the image from fd.
    unsafe { syscall!(Sysno::finit_module, fd, params.as_ptr(), 0) }.map(drop)
}
