//! Landlock (Linux 5.13+): an unprivileged process restricts itself and
//! every process it starts afterwards. These are its three system calls;
//! which rights each ABI version handles is the caller's business.

use super::{Fd, Result};
use syscalls::{syscall, Sysno};

/// `struct landlock_ruleset_attr`: the access rights a ruleset handles
/// (denies unless a rule allows them). A kernel that knows fewer fields
/// accepts the whole struct as long as the fields it does not know are 0.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Handled {
    pub fs: u64,
    /// ABI 4 on.
    pub net: u64,
    /// ABI 6 on.
    pub scoped: u64,
}

/// The highest Landlock ABI version the kernel offers:
/// `ENOSYS` without Landlock, `EOPNOTSUPP` when it is built but disabled at boot.
pub fn abi_version() -> Result<u32> {
    const LANDLOCK_CREATE_RULESET_VERSION: u32 = 1 << 0;
    // SAFETY: with this flag the kernel reads no attribute (null, size 0).
    let v = unsafe {
        syscall!(
            Sysno::landlock_create_ruleset,
            0,
            0,
            LANDLOCK_CREATE_RULESET_VERSION
        )
    }?;
    Ok(v as u32)
}

/// A new, empty ruleset handling `handled` (a close-on-exec descriptor).
pub fn create_ruleset(handled: &Handled) -> Result<Fd> {
    let size = core::mem::size_of::<Handled>();
    // SAFETY: handled is a valid struct landlock_ruleset_attr of `size` bytes;
    // the kernel only reads it.
    let fd = unsafe {
        syscall!(
            Sysno::landlock_create_ruleset,
            handled as *const Handled,
            size,
            0
        )
    }?;
    Ok(Fd::from_raw(fd as i32))
}

/// Allow `access` on the file or directory tree that `beneath` (best an
/// `O_PATH` descriptor) refers to (`LANDLOCK_RULE_PATH_BENEATH`).
pub fn allow_beneath(ruleset: &Fd, beneath: &Fd, access: u64) -> Result<()> {
    const LANDLOCK_RULE_PATH_BENEATH: u32 = 1;
    #[repr(C, packed)]
    struct PathBeneath {
        allowed_access: u64,
        parent_fd: i32,
    }
    let rule = PathBeneath {
        allowed_access: access,
        parent_fd: beneath.raw(),
    };
    // SAFETY: rule is a valid, packed struct landlock_path_beneath_attr; the
    // kernel only reads it.
    unsafe {
        syscall!(
            Sysno::landlock_add_rule,
            ruleset.raw(),
            LANDLOCK_RULE_PATH_BENEATH,
            &rule as *const PathBeneath,
            0
        )
    }
    .map(drop)
}

/// Enforce the ruleset on the calling thread and everything it starts from
/// now on. Needs no_new_privs (or CAP_SYS_ADMIN). Allocates nothing: safe
/// in the child between `fork` and `execve`.
pub fn restrict_self(ruleset: i32) -> Result<()> {
    // SAFETY: takes a descriptor and flags (0: the default audit logging).
    unsafe { syscall!(Sysno::landlock_restrict_self, ruleset, 0) }.map(drop)
}
