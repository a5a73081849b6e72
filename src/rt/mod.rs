//! What a C runtime would provide: memory primitives and the heap.

pub mod heap;
pub mod mem;
