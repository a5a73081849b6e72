//! `--net none`: a network namespace of the command's own with only loopback,
//! so neither a sidecar's network nor cloud metadata endpoints are reachable.

use crate::err;
use crate::error::Error;
use crate::sys::net;
use crate::sys::process::{self, Namespace};
use crate::sys::Errno;

const STEP: &str = "--net none";

/// Unshare the network namespace and bring `lo` up. Runs in proctor before
/// the fork, so the command (and everything it starts) inherits it.
pub fn isolate() -> Result<(), Error> {
    process::unshare(Namespace::Network).map_err(|e| match e {
        // Also what a container's seccomp profile answers without CAP_SYS_ADMIN.
        Errno::EPERM => err!(STEP, Some(e), "a network namespace needs CAP_SYS_ADMIN"),
        _ => err!(STEP, Some(e), "unshare"),
    })?;
    bring_up_loopback().map_err(|e| match e {
        // Docker's default set has CAP_SYS_ADMIN (when added) but not CAP_NET_ADMIN.
        Errno::EPERM => err!(
            STEP,
            Some(e),
            "bringing up loopback needs CAP_NET_ADMIN (docker run --cap-add NET_ADMIN)"
        ),
        _ => err!(STEP, Some(e), "bringing up loopback"),
    })?;
    log!(
        Verbose,
        "network namespace of the command's own, with only lo"
    );
    Ok(())
}

/// `lo` exists, down, in every new network namespace (and at boot).
pub fn bring_up_loopback() -> Result<(), Errno> {
    net::bring_up(b"lo")
}
