//! `--rlimit NAME=SOFT[:HARD]`: the resource names and their kernel numbers
//! (pure data; `limits.rs` applies them in the child).

/// `RLIMIT_CORE`: proctor's one default limit is no core dumps.
pub const CORE: u32 = 4;
/// `RLIMIT_NPROC`, which the kernel does not enforce for uid 0.
pub const NPROC: u32 = 6;

/// The resource names of `--rlimit`, in the order of their kernel numbers.
pub const NAMES: [&str; 16] = [
    "cpu",
    "fsize",
    "data",
    "stack",
    "core",
    "rss",
    "nproc",
    "nofile",
    "memlock",
    "as",
    "locks",
    "sigpending",
    "msgqueue",
    "nice",
    "rtprio",
    "rttime",
];
static PACKED: crate::rt::pack::Names<16> = crate::names!(NAMES);

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
    PACKED.position(name).map(|r| r as u32)
}

/// The name of a resource number.
pub fn name(resource: u32) -> &'static str {
    PACKED.get(resource as usize).unwrap_or("?")
}
