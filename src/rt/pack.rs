//! Constants stored smaller than Rust lays them out: the `--help` text and
//! the messages ([`Msg`]), byte-pair encoded by build.rs (a code `c` below
//! the alphabet's length is the character `ALPHABET[c]`, a code
//! `ALPHABET.len() + i` stands for the two codes `PAIRS[i]`), and tables of
//! names without a pointer per name ([`Names`]).

include!(concat!(env!("OUT_DIR"), "/usage.rs"));

use ufmt::{uDisplay, uWrite, Formatter};

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
            match pairs.get(usize::from(c).wrapping_sub(ALPHABET.len())) {
                Some(&[first, second]) => {
                    for c in [second, first] {
                        if let Some(slot) = stack.get_mut(top) {
                            *slot = c;
                            top += 1;
                        }
                    }
                }
                // Only characters of the alphabet come out: ASCII (build.rs
                // packs ASCII alone), so UTF-8.
                None => {
                    if let (Some(&letter), Some(slot)) =
                        (ALPHABET.get(usize::from(c)), out.get_mut(n))
                    {
                        *slot = letter;
                        n += 1;
                    }
                }
            }
        }
    }
    n
}

/// A message of the catalogue build.rs packs: `msg!("text")` is the text's
/// number, found at compile time. A `&'static str` costs its bytes, 16 of
/// pointer and length where it is stored and 12 of code where it is
/// passed; a `Msg` about half its bytes and two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Msg(u16);

impl Msg {
    /// The message `text` (only at compile time: see [`msg!`](crate::msg)).
    pub const fn of(text: &str) -> Msg {
        let mut i = 0;
        while i < TEXTS.len() {
            if eq(TEXTS[i].as_bytes(), text.as_bytes()) {
                return Msg(i as u16);
            }
            i += 1;
        }
        panic!("msg!: not in the catalogue (build.rs reads the literals of msg!, log! and err!)")
    }

    /// The text, unpacked into `buf`. Not inlined: every writer's `fmt`
    /// calls it.
    #[inline(never)]
    pub fn text(self, buf: &mut [u8; MSG_MAX]) -> &str {
        let catalogue: &Table<[u16]> = &MESSAGES;
        let codes = catalogue.row(usize::from(self.0)).unwrap_or_default();
        let n = unpack(codes, &PAIRS, buf);
        // SAFETY: unpack writes only ASCII.
        unsafe { core::str::from_utf8_unchecked(buf.get(..n).unwrap_or_default()) }
    }
}

const fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

impl uDisplay for Msg {
    fn fmt<W: uWrite + ?Sized>(&self, f: &mut Formatter<'_, W>) -> Result<(), W::Error> {
        f.write_str(self.text(&mut [0; MSG_MAX]))
    }
}

/// The longest message: build.rs refuses a longer one.
pub const MSG_MAX: usize = 160;

/// A [`Msg`]: `msg!("is not a number")`, the text a literal that build.rs
/// finds in the source.
#[macro_export]
macro_rules! msg {
    ($text:literal) => {
        const { $crate::rt::pack::Msg::of($text) }
    };
}

/// A table of names as the binary stores it: a `[&str; N]` costs 16 bytes of
/// relocated data a row, this the names concatenated plus a `u16` each.
/// Built at compile time by [`names!`](crate::names) from a readable array.
pub type Names<const N: usize> = Table<[u16; N]>;

/// Rows of bytes, concatenated: [`Names`], and the messages' codes. Its
/// methods work on `Table<[u16]>`, of any length: they take one (wide)
/// pointer, and are compiled once for every table size.
pub struct Table<Ends: ?Sized> {
    joined: &'static [u8],
    /// Where each row ends in `joined`.
    ends: Ends,
}

impl<const N: usize> Names<N> {
    /// For `names!`: `joined` is `join(&names)`.
    pub const fn new(joined: &'static [u8], names: &[&str; N]) -> Self {
        let mut ends = [0; N];
        let (mut end, mut i) = (0, 0);
        while i < N {
            end += names[i].len();
            assert!(end <= u16::MAX as usize);
            ends[i] = end as u16;
            i += 1;
        }
        // What makes `get`'s rows text.
        assert!(core::str::from_utf8(joined).is_ok(), "names are UTF-8");
        Table { joined, ends }
    }

    /// The `i`th name.
    pub fn get(&self, i: usize) -> Option<&'static str> {
        let table: &Table<[u16]> = self;
        let name = table.row(i)?;
        // SAFETY: `joined` is the names, each UTF-8 (checked in `new`),
        // concatenated, and a row is one of them.
        Some(unsafe { core::str::from_utf8_unchecked(name) })
    }

    /// The index of `name` (by the unsized table's `position`).
    pub fn position(&self, name: &[u8]) -> Option<usize> {
        let table: &Table<[u16]> = self;
        table.position(name)
    }
}

impl Table<[u16]> {
    /// The `i`th row.
    fn row(&self, i: usize) -> Option<&'static [u8]> {
        let end = *self.ends.get(i)?;
        let start = match i.checked_sub(1) {
            Some(before) => *self.ends.get(before)?,
            None => 0,
        };
        self.joined.get(usize::from(start)..usize::from(end))
    }

    /// The index of `name` (slices compare their lengths first, so a
    /// row of another length costs no byte comparison).
    fn position(&self, name: &[u8]) -> Option<usize> {
        (0..self.ends.len()).position(|i| self.row(i) == Some(name))
    }
}

/// The total length of `names`.
pub const fn joined_len(names: &[&str]) -> usize {
    let (mut n, mut i) = (0, 0);
    while i < names.len() {
        n += names[i].len();
        i += 1;
    }
    n
}

/// `names` concatenated (`L` is `joined_len(names)`).
pub const fn join<const L: usize>(names: &[&str]) -> [u8; L] {
    let mut bytes = [0; L];
    let (mut n, mut i) = (0, 0);
    while i < names.len() {
        let name = names[i].as_bytes();
        let mut j = 0;
        while j < name.len() {
            bytes[n] = name[j];
            n += 1;
            j += 1;
        }
        i += 1;
    }
    bytes
}

/// `static NAME: Names<N> = names!(ARRAY);` stores the `[&str; N]` constant
/// ARRAY packed (evaluated at compile time; ARRAY itself is not in the binary).
#[macro_export]
macro_rules! names {
    ($names:expr) => {{
        const LEN: usize = $crate::rt::pack::joined_len(&$names);
        const JOINED: [u8; LEN] = $crate::rt::pack::join(&$names);
        $crate::rt::pack::Names::new(&JOINED, &$names)
    }};
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_found_by_index_and_by_name() {
        const LIST: [&str; 3] = ["a", "bcd", "ef"];
        static PACKED: super::Names<3> = crate::names!(LIST);
        assert_eq!(PACKED.get(0), Some("a"));
        assert_eq!(PACKED.get(1), Some("bcd"));
        assert_eq!(PACKED.get(2), Some("ef"));
        assert_eq!(PACKED.get(3), None);
        assert_eq!(PACKED.position(b"ef"), Some(2));
        assert_eq!(PACKED.position(b"b"), None);
    }

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

    struct Written(String);

    impl ufmt::uWrite for Written {
        type Error = core::convert::Infallible;
        fn write_str(&mut self, s: &str) -> Result<(), Self::Error> {
            self.0.push_str(s);
            Ok(())
        }
    }

    #[test]
    fn every_message_unpacks_to_its_text() {
        for (i, text) in super::TEXTS.iter().enumerate() {
            let mut out = Written(String::new());
            let _ = ufmt::uwrite!(out, "{}", super::Msg(i as u16));
            assert_eq!(out.0, *text);
        }
        assert_eq!(crate::msg!("is empty"), super::Msg::of("is empty"));
        let packed: usize = super::MESSAGES.joined.len();
        let plain: usize = super::TEXTS.iter().map(|t| t.len()).sum();
        assert!(packed < plain * 6 / 10, "packing saves too little");
    }
}
