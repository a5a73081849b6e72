//! Resource limits, applied in the child with `prlimit64` (step 5.3).

use crate::args::rlimit::{Limit, CORE};
use crate::spawn::{ChildFailure, Step};
use crate::sys::process;

/// Apply the limits in the child, plus `core=0` unless `core` was given.
/// A failure names the resource.
pub fn apply(limits: &[Limit]) -> Result<(), ChildFailure> {
    let no_core = Limit {
        resource: CORE,
        soft: 0,
        hard: 0,
    };
    let first = (!limits.iter().any(|l| l.resource == CORE)).then_some(&no_core);
    first.into_iter().chain(limits).try_for_each(|&l| set(l))
}

fn set(l: Limit) -> Result<(), ChildFailure> {
    process::set_rlimit(l.resource, l.soft, l.hard).map_err(|e| Step::Rlimit.failed(l.resource, e))
}
