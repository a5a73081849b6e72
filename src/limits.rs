//! Resource limits: the names the CLI accepts and their application in the
//! child with `prlimit64`.

use crate::sys::process::{self, Rlimit};
use crate::sys::Errno;

/// `RLIMIT_CORE`: proctor's one default limit is no core dumps.
pub const CORE: u32 = 4;
/// `RLIMIT_NPROC`, which the kernel does not enforce for uid 0.
pub const NPROC: u32 = 6;

/// The resource names of `--rlimit`, with their kernel numbers.
pub const NAMES: [(&str, u32); 16] = [
    ("cpu", 0),
    ("fsize", 1),
    ("data", 2),
    ("stack", 3),
    ("core", CORE),
    ("rss", 5),
    ("nproc", NPROC),
    ("nofile", 7),
    ("memlock", 8),
    ("as", 9),
    ("locks", 10),
    ("sigpending", 11),
    ("msgqueue", 12),
    ("nice", 13),
    ("rtprio", 14),
    ("rttime", 15),
];

/// The kernel number of a resource name.
pub fn resource(name: &[u8]) -> Option<u32> {
    NAMES
        .iter()
        .find(|(n, _)| n.as_bytes() == name)
        .map(|&(_, r)| r)
}

/// The name of a resource number.
pub fn name(resource: u32) -> &'static str {
    NAMES
        .iter()
        .find(|&&(_, r)| r == resource)
        .map_or("?", |&(n, _)| n)
}

/// One `--rlimit` setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub resource: u32,
    pub value: Rlimit,
}

/// Apply the limits in the child, plus `core=0` unless `core` was given.
/// A failure names the resource.
pub fn apply(limits: &[Limit]) -> Result<(), (u32, Errno)> {
    if !limits.iter().any(|l| l.resource == CORE) {
        set(Limit {
            resource: CORE,
            value: Rlimit { soft: 0, hard: 0 },
        })?;
    }
    limits.iter().try_for_each(|&l| set(l))
}

fn set(l: Limit) -> Result<(), (u32, Errno)> {
    process::set_rlimit(l.resource, l.value).map_err(|e| (l.resource, e))
}
