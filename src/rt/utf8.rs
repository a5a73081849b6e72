//! UTF-8 decoding one character at a time, as `Utf8Chunks` splits text:
//! what `Show` and the report's JSON strings need, without the standard
//! library's chunk iterator.

/// The UTF-8 character that starts with `first` (followed by `rest`):
/// `Ok(its length)`, or `Err(n)` for the n bytes of a broken one — the lead
/// byte and the continuation bytes that fit it so far, the grouping of
/// `Utf8Chunks::invalid`. No overlong forms, surrogates or code points
/// above U+10FFFF.
pub fn char_len(first: u8, rest: &[u8]) -> Result<usize, usize> {
    // The length, and the range of the second byte, which rules out the
    // overlong forms, the surrogates and what lies above U+10FFFF.
    let (len, low, high) = match first {
        0x00..=0x7f => return Ok(1),
        0xc2..=0xdf => (2, 0x80, 0xbf),
        0xe0 => (3, 0xa0, 0xbf),
        0xed => (3, 0x80, 0x9f),
        0xe1..=0xef => (3, 0x80, 0xbf),
        0xf0 => (4, 0x90, 0xbf),
        0xf1..=0xf3 => (4, 0x80, 0xbf),
        0xf4 => (4, 0x80, 0x8f),
        _ => return Err(1),
    };
    let mut n = 1;
    for &b in rest.iter().take(len - 1) {
        let (low, high) = if n == 1 { (low, high) } else { (0x80, 0xbf) };
        if !(low..=high).contains(&b) {
            return Err(n);
        }
        n += 1;
    }
    if n == len {
        Ok(len)
    } else {
        Err(n)
    }
}

#[cfg(test)]
mod tests {
    use super::char_len;
    extern crate std;
    use std::vec::Vec;

    /// `char_len` applied along `bytes`: the valid characters and broken
    /// sequences, in order.
    fn split(bytes: &[u8]) -> Vec<Result<&[u8], &[u8]>> {
        let mut parts = Vec::new();
        let mut rest = bytes;
        while let [first, tail @ ..] = rest {
            let (part, ok) = match char_len(*first, tail) {
                Ok(n) => (n, true),
                Err(n) => (n, false),
            };
            let (part, next) = rest.split_at(part);
            parts.push(if ok { Ok(part) } else { Err(part) });
            rest = next;
        }
        parts
    }

    /// The same split by the standard library.
    fn reference(bytes: &[u8]) -> Vec<Result<&[u8], &[u8]>> {
        let mut parts = Vec::new();
        for chunk in bytes.utf8_chunks() {
            let valid = chunk.valid();
            for (at, c) in valid.char_indices() {
                parts.push(Ok(&valid.as_bytes()[at..at + c.len_utf8()]));
            }
            if !chunk.invalid().is_empty() {
                parts.push(Err(chunk.invalid()));
            }
        }
        parts
    }

    #[test]
    fn splits_as_the_standard_library_does() {
        // Every first and second byte, followed by a continuation byte, a
        // non-continuation byte, another lead byte or nothing.
        let tails: [&[u8]; 6] = [b"", b"\x80\x80", b"\xbf\xbf", b"a", b"\x80a", b"\xe0\x80"];
        for first in 0..=255u8 {
            for second in 0..=255u8 {
                for tail in tails {
                    let mut bytes = Vec::from([first, second]);
                    bytes.extend_from_slice(tail);
                    assert_eq!(split(&bytes), reference(&bytes), "{bytes:x?}");
                    assert_eq!(split(&bytes[..1]), reference(&bytes[..1]));
                }
            }
        }
    }
}
