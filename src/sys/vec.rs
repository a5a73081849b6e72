//! Growing a `Vec` without a panic path: `push` and `extend_from_slice`
//! abort through `handle_alloc_error` when memory runs out, and in a
//! `no_std` binary that is a panic. These answer `ENOMEM` instead. They live
//! here with the other `unsafe` edges: filling spare capacity needs `set_len`.

use super::{Errno, Result};
use alloc::vec::Vec;
use core::ffi::CStr;

/// `v.push(x)`, or `ENOMEM`.
pub fn push<T>(v: &mut Vec<T>, x: T) -> Result<()> {
    v.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    let len = v.len();
    let slot = v.spare_capacity_mut().first_mut().ok_or(Errno::ENOMEM)?;
    slot.write(x);
    // SAFETY: the element at `len` was just initialised, within the capacity.
    unsafe { v.set_len(len + 1) };
    Ok(())
}

/// `v.extend_from_slice(s)`, or `ENOMEM` (and `v` unchanged).
pub fn extend<T: Copy>(v: &mut Vec<T>, s: &[T]) -> Result<()> {
    v.try_reserve(s.len()).map_err(|_| Errno::ENOMEM)?;
    let len = v.len();
    let spare = v
        .spare_capacity_mut()
        .get_mut(..s.len())
        .ok_or(Errno::ENOMEM)?;
    for (slot, &x) in spare.iter_mut().zip(s) {
        slot.write(x);
    }
    // SAFETY: the `s.len()` elements after `len` were just initialised, within the capacity.
    unsafe { v.set_len(len + s.len()) };
    Ok(())
}

/// Add `n` zero bytes to `v`, or `ENOMEM` (and `v` unchanged). Unlike
/// `extend(v, &[0; N])`, no N-byte constant lands in the binary.
pub fn extend_zeroed(v: &mut Vec<u8>, n: usize) -> Result<()> {
    v.try_reserve(n).map_err(|_| Errno::ENOMEM)?;
    let len = v.len();
    let spare = v.spare_capacity_mut().get_mut(..n).ok_or(Errno::ENOMEM)?;
    for slot in spare.iter_mut() {
        slot.write(0);
    }
    // SAFETY: the `n` bytes after `len` were just initialised, within the capacity.
    unsafe { v.set_len(len + n) };
    Ok(())
}

/// An owned C string, built without `CString`, whose allocation panics
/// when memory runs out.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OwnedCStr(Vec<u8>);

impl OwnedCStr {
    /// `bytes` and a NUL: `EINVAL` if `bytes` holds a NUL, `ENOMEM` out of memory.
    pub fn new(bytes: &[u8]) -> Result<OwnedCStr> {
        if bytes.contains(&0) {
            return Err(Errno::EINVAL);
        }
        let mut v = Vec::new();
        extend(&mut v, bytes)?;
        push(&mut v, 0)?;
        Ok(OwnedCStr(v))
    }
}

impl core::ops::Deref for OwnedCStr {
    type Target = CStr;
    fn deref(&self) -> &CStr {
        CStr::from_bytes_with_nul(&self.0).unwrap_or_default()
    }
}
