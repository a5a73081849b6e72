//! Owned C strings, built without `CString`, whose allocation panics when
//! memory runs out.

use super::vec::{extend, push, OutOfMemory};
use alloc::vec::Vec;
use core::ffi::CStr;

/// An owned, NUL-terminated string.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OwnedCStr(Vec<u8>);

/// Why bytes did not become an [`OwnedCStr`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotCStr {
    /// The bytes hold a NUL.
    Nul,
    OutOfMemory,
}

impl From<OutOfMemory> for NotCStr {
    fn from(_: OutOfMemory) -> NotCStr {
        NotCStr::OutOfMemory
    }
}

impl From<NotCStr> for crate::sys::Errno {
    fn from(e: NotCStr) -> Self {
        match e {
            NotCStr::Nul => crate::sys::Errno::EINVAL,
            NotCStr::OutOfMemory => crate::sys::Errno::ENOMEM,
        }
    }
}

impl OwnedCStr {
    /// `bytes` and a NUL.
    pub fn new(bytes: &[u8]) -> Result<OwnedCStr, NotCStr> {
        if crate::sys::fs::position(bytes, 0).is_some() {
            return Err(NotCStr::Nul);
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
        crate::sys::fs::until_nul(&self.0).unwrap_or_default()
    }
}

/// `s` from byte `at` on: `c""` past its end. No search for the NUL (core's
/// checked constructors bring a `memchr` into the binary): a tail of a C
/// string ends with its NUL and holds no other.
#[inline(never)]
pub fn tail(s: &CStr, at: usize) -> &CStr {
    match s.to_bytes_with_nul().get(at..) {
        // SAFETY: the tail of a C string's bytes with their NUL ends with
        // that NUL and holds no other.
        Some(t) if !t.is_empty() => unsafe { CStr::from_bytes_with_nul_unchecked(t) },
        _ => c"",
    }
}
