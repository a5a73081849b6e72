//! Decimal numbers, as `strtoul` would read them but strictly: the one
//! parser of the command line's numbers and of `/proc`'s.

/// A plain decimal number: digits only, no sign, no overflow.
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |n, &b| {
        if b.is_ascii_digit() {
            n.checked_mul(10)?.checked_add((b - b'0') as u64)
        } else {
            None
        }
    })
}
