//! `--net none`: a network namespace of the command's own with only loopback.

use crate::error::Error;

/// Unshare the network namespace and bring `lo` up.
pub fn isolate() -> Result<(), Error> {
    Err(crate::err!("--net none", None, "not implemented yet"))
}
