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
        if bytes.contains(&0) {
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
        CStr::from_bytes_until_nul(&self.0).unwrap_or_default()
    }
}
