//! `--rlimit NAME=SOFT[:HARD]`: the resource names and their kernel numbers
//! (pure data; `limits.rs` applies them in the child).

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

/// One `--rlimit` setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// `RLIMIT_*`.
    pub resource: u32,
    pub soft: u64,
    pub hard: u64,
}

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
