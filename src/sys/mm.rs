//! Memory mapping.

use super::Result;
use syscalls::{syscall, Sysno};

const PROT_READ: usize = 1;
const PROT_WRITE: usize = 2;
const MAP_PRIVATE: usize = 0x02;
const MAP_ANONYMOUS: usize = 0x20;

/// Map `len` bytes of fresh, zeroed, private read-write memory.
pub fn map_anonymous(len: usize) -> Result<*mut u8> {
    // SAFETY: an anonymous private mapping at an address the kernel picks
    // touches no existing memory.
    let addr = unsafe {
        syscall!(
            Sysno::mmap,
            0,
            len,
            PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS,
            -1isize,
            0
        )
    }?;
    Ok(addr as *mut u8)
}
