//! Growing a `Vec` without a panic path: `push` and `extend_from_slice`
//! abort through `handle_alloc_error` when memory runs out, and in a
//! `no_std` binary that is a panic. These answer [`OutOfMemory`] instead.
//!
//! Each asks for room, ignores the answer and checks that the room is
//! there: a failed reservation leaves too little, and comparing lengths is
//! less code than decoding a `TryReserveError` at every call.

use alloc::vec::Vec;

/// The allocator had no room: the one out-of-memory value, which becomes
/// proctor's one out-of-memory message (`error::Error`, `args::UsageError`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfMemory;

impl From<OutOfMemory> for crate::sys::Errno {
    fn from(_: OutOfMemory) -> Self {
        crate::sys::Errno::ENOMEM
    }
}

/// `v.push(x)`, or [`OutOfMemory`].
pub fn push<T>(v: &mut Vec<T>, x: T) -> Result<(), OutOfMemory> {
    let _ = v.try_reserve(1);
    let len = v.len();
    if len == v.capacity() {
        return Err(OutOfMemory);
    }
    // SAFETY: there is room for one more element at `len`, which is then
    // initialised.
    unsafe {
        v.as_mut_ptr().add(len).write(x);
        v.set_len(len + 1);
    }
    Ok(())
}

/// `v.extend_from_slice(s)`, or [`OutOfMemory`] (and `v` unchanged).
pub fn extend<T: Copy>(v: &mut Vec<T>, s: &[T]) -> Result<(), OutOfMemory> {
    let _ = v.try_reserve(s.len());
    let len = v.len();
    let spare = v
        .spare_capacity_mut()
        .get_mut(..s.len())
        .ok_or(OutOfMemory)?;
    for (slot, &x) in spare.iter_mut().zip(s) {
        slot.write(x);
    }
    // SAFETY: the `s.len()` elements after `len` were just initialised, within the capacity.
    unsafe { v.set_len(len + s.len()) };
    Ok(())
}

/// Add `n` zero bytes to `v`, or [`OutOfMemory`] (and `v` unchanged).
/// Unlike `extend(v, &[0; N])`, no N-byte constant lands in the binary.
pub fn extend_zeroed(v: &mut Vec<u8>, n: usize) -> Result<(), OutOfMemory> {
    let _ = v.try_reserve(n);
    let len = v.len();
    let spare = v.spare_capacity_mut().get_mut(..n).ok_or(OutOfMemory)?;
    for slot in spare.iter_mut() {
        slot.write(0);
    }
    // SAFETY: the `n` bytes after `len` were just initialised, within the capacity.
    unsafe { v.set_len(len + n) };
    Ok(())
}
