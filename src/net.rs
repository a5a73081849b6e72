//! `--net none`: a network namespace of the command's own with only loopback,
//! so neither a sidecar's network nor cloud metadata endpoints are reachable.

use crate::error::Error;
use crate::msg;
use crate::rt::pack::Msg;
use crate::sys::net;
use crate::sys::process::{self, Namespace};
use crate::sys::Errno;

const STEP: Msg = msg!("--net none");

/// Unshare the network namespace and bring `lo` up. Runs in proctor before
/// the fork, so the command (and everything it starts) inherits it.
pub fn isolate() -> Result<(), Error> {
    process::unshare(Namespace::Network).map_err(|e| {
        // Also what a container's seccomp profile answers without CAP_SYS_ADMIN.
        let needs = msg!("a network namespace needs CAP_SYS_ADMIN");
        failed(e, msg!("unshare"), needs)
    })?;
    bring_up_loopback().map_err(|e| {
        // Docker's default set has CAP_SYS_ADMIN (when added) but not CAP_NET_ADMIN.
        let needs =
            msg!("bringing up loopback needs CAP_NET_ADMIN (docker run --cap-add NET_ADMIN)");
        failed(e, msg!("bringing up loopback"), needs)
    })?;
    log!(
        Verbose,
        "network namespace of the command's own, with only lo"
    );
    Ok(())
}

/// `--net none: <doing>: ERRNO`, or with `EPERM` the privilege it `needs`.
fn failed(e: Errno, doing: Msg, needs: Msg) -> Error {
    let why = if e == Errno::EPERM { needs } else { doing };
    Error::noted(STEP, Some(e), why)
}

/// `lo` exists, down, in every new network namespace (and at boot).
pub fn bring_up_loopback() -> Result<(), Errno> {
    net::bring_up(b"lo")
}
