//! proctor: a tiny, static, libc-free PID 1 that runs an untrusted grader
//! in a private, read-only view of the submission, with limits and without
//! privileges, and reports how it ended.
//!
//! The library holds every piece of logic; `main.rs` only glues the phases
//! together in the SPEC's order. Pure parts (argument parsing, environment
//! building, the BPF program, the report's JSON) are unit-tested on the host.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod error;
#[macro_use]
pub mod log;
pub mod args;
pub mod cgroup;
pub mod env;
pub mod landlock;
pub mod leftovers;
pub mod limits;
pub mod mounts;
pub mod net;
pub mod output;
pub mod pidns;
pub mod privileges;
pub mod report;
pub mod rt;
pub mod seccomp;
pub mod signals;
pub mod spawn;
pub mod supervise;
pub mod sys;
pub mod unprivileged;
pub mod vm;
pub mod wait;

pub use error::Error;
