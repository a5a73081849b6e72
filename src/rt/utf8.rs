//! UTF-8 decoding one character at a time, as `Utf8Chunks` splits text:
//! what `Show` and the report's JSON strings need, without the standard
//! library's chunk iterator.

/// The UTF-8 character that starts with `first` (followed by `rest`):
/// `Ok(its length)`, or `Err(n)` for the n bytes of a broken one — the lead
/// byte and the continuation bytes that fit it so far, the grouping of
/// `Utf8Chunks::invalid`. No overlong forms, surrogates or code points
/// above U+10FFFF.
pub fn char_len(first: u8, rest: &[u8]) -> Result<usize, usize> {
    // The length, from the lead byte's high ones.
    let len = match first {
        0x00..=0x7f => return Ok(1),
        0xc2..=0xf4 => first.leading_ones() as usize,
        _ => return Err(1),
    };
    // The range of the second byte, which rules out the overlong forms,
    // the surrogates and what lies above U+10FFFF.
    let (mut low, mut high) = match first {
        0xe0 => (0xa0, 0xbf),
        0xed => (0x80, 0x9f),
        0xf0 => (0x90, 0xbf),
        0xf4 => (0x80, 0x8f),
        _ => (0x80, 0xbf),
    };
    let mut n = 1;
    while n < len {
        match rest.get(n - 1) {
            Some(b) if (low..=high).contains(b) => {}
            _ => return Err(n),
        }
        (low, high) = (0x80, 0xbf);
        n += 1;
    }
    Ok(len)
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
