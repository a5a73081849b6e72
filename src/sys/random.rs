//! Random numbers from the kernel.

use super::{Errno, Result};
use syscalls::{syscall, Sysno};

/// Eight random bytes, without ever blocking: `GRND_INSECURE` (5.6+), else
/// `GRND_NONBLOCK`, which answers `EAGAIN` while the pool is not ready yet
/// (early in a VM's boot on older kernels).
pub fn random_u64() -> Result<u64> {
    const GRND_NONBLOCK: usize = 1;
    const GRND_INSECURE: usize = 4;
    let mut v = 0u64;
    let p = &mut v as *mut u64;
    let call = |flags: usize| {
        // SAFETY: p points to 8 writable bytes.
        unsafe { syscall!(Sysno::getrandom, p, 8usize, flags) }
    };
    let got = match call(GRND_INSECURE) {
        Err(Errno::EINVAL) => call(GRND_NONBLOCK),
        r => r,
    }?;
    if got == 8 {
        Ok(v)
    } else {
        Err(Errno::EAGAIN)
    }
}
