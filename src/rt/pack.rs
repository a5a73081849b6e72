//! The `--help` text, stored byte-pair encoded by build.rs: a code below 128
//! is itself, a code `128 + i` stands for the two codes `PAIRS[i]`.

include!(concat!(env!("OUT_DIR"), "/usage.rs"));

/// Expands the help text into `out`; returns the filled part.
pub fn usage(out: &mut [u8; LEN]) -> &[u8] {
    let n = unpack(&PACKED, &PAIRS, out);
    out.get(..n).unwrap_or_default()
}

/// Expands `packed` into `out` as far as it fits; returns the length written.
/// build.rs keeps every code's expansion less than 16 pairs deep, so the
/// stack of codes still to expand never holds more than 17.
fn unpack(packed: &[u8], pairs: &[[u8; 2]], out: &mut [u8]) -> usize {
    let mut n = 0;
    let mut stack = [0u8; 32];
    for &code in packed {
        stack[0] = code;
        let mut top = 1usize;
        while let Some(&c) = top.checked_sub(1).and_then(|t| stack.get(t)) {
            top -= 1;
            match pairs.get(usize::from(c).wrapping_sub(128)) {
                Some(&[first, second]) => {
                    for c in [second, first] {
                        if let Some(slot) = stack.get_mut(top) {
                            *slot = c;
                            top += 1;
                        }
                    }
                }
                None => {
                    if let Some(slot) = out.get_mut(n) {
                        *slot = c;
                        n += 1;
                    }
                }
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    #[test]
    fn usage_unpacks_to_the_source_text() {
        let mut buf = [0; super::LEN];
        let text = super::usage(&mut buf);
        assert_eq!(std::str::from_utf8(text), Ok(include_str!("../usage.txt")));
        assert!(
            super::PACKED.len() < super::LEN * 6 / 10,
            "packing saves too little"
        );
    }
}
