//! The command's private mount namespace: `--bind`, `--tmpfs`, `--ro`.

use crate::args::Mount;
use crate::error::Error;

/// Unshare the mount namespace, make `/` private, then apply `mounts` in order.
pub fn apply(mounts: &[Mount]) -> Result<(), Error> {
    if mounts.is_empty() {
        return Ok(());
    }
    Err(crate::err!("mounts", None, "not implemented yet"))
}
