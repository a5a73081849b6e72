//! Resource limits, applied in the child with `prlimit64` (step 5.3).

use crate::args::rlimit::{Limit, CORE};
use crate::spawn::Step;
use crate::sys::process;
use crate::sys::Errno;

/// Apply the limits in the child, plus `core=0` unless `core` was given.
/// A failure names the resource.
pub fn apply(limits: &[Limit]) -> Result<(), (Step, Errno)> {
    if !limits.iter().any(|l| l.resource == CORE) {
        set(Limit {
            resource: CORE,
            soft: 0,
            hard: 0,
        })?;
    }
    limits.iter().try_for_each(|&l| set(l))
}

fn set(l: Limit) -> Result<(), (Step, Errno)> {
    process::set_rlimit(l.resource, l.soft, l.hard).map_err(|e| (Step::Rlimit(l.resource), e))
}
