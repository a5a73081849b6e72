//! What a C runtime would provide, above the raw syscalls and below
//! everything else.
//!
//! The library's half (this module): fallible `Vec` growth, owned C strings,
//! decimal numbers and UTF-8 — plain data and allocation, no system call. The
//! binary's half, in the same directory but compiled only into `main.rs`:
//! the memory primitives (`mem.rs`) and the heap (`heap.rs`).

pub mod cstr;
pub mod num;
pub mod pack;
pub mod utf8;
pub mod vec;
