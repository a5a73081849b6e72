//! One error type for every failure: the step that failed, what it was
//! working on, and the errno the kernel gave. Printed once, at the top, as
//! `proctor: <step>: <detail>: <ERRNO>`; the same text goes into the report.

use crate::msg;
use crate::rt::pack::{Msg, MSG_MAX};
use crate::rt::utf8::char_len;
use crate::rt::vec::{extend, OutOfMemory};
use crate::sys::Errno;
use alloc::vec::Vec;
use core::alloc::Layout;
use ufmt::{uDisplay, uWrite, Formatter};

/// A failure of one step of proctor's work. Its parts are written once into
/// the heap and never freed (the heap is a bump arena that proctor outlives
/// briefly), so an `Error` is one pointer: `?` moves a word, and nothing
/// holding one needs dropping.
#[derive(Clone, Copy, Debug)]
pub struct Error(&'static Parts);

#[derive(Debug)]
struct Parts {
    /// A message of the catalogue: a number, where a `&str` took 16 bytes
    /// here and two loads at every call that names a step.
    step: Msg,
    detail: &'static [u8],
    errno: Option<Errno>,
}

/// The out-of-memory error, which needs no memory.
static OUT_OF_MEMORY_ERROR: Parts = Parts {
    step: OUT_OF_MEMORY,
    detail: &[],
    errno: Some(Errno::ENOMEM),
};

impl Error {
    /// A failed system call without further detail.
    #[inline(never)]
    pub fn sys(step: Msg, errno: Errno) -> Error {
        Error::fixed(step, Some(errno), &[])
    }

    /// `step` failed, on what the formatted `detail` says (see [`err!`](crate::err)).
    #[inline(never)]
    pub fn new(step: Msg, errno: Option<Errno>, detail: Text) -> Error {
        Error::fixed(step, errno, detail.0.leak())
    }

    /// `err!(step, errno, "{}", Show(bytes))`, without formatting: the
    /// detail is shown when the error is.
    #[inline(never)]
    pub fn showing(step: Msg, errno: Option<Errno>, bytes: Show<'_>) -> Error {
        let mut detail = Text::default();
        let _ = extend(&mut detail.0, bytes.0);
        Error::new(step, errno, detail)
    }

    /// `err!(step, errno, "format", args…)`: the format is a message of
    /// the catalogue.
    #[inline(never)]
    pub fn formatted(step: Msg, errno: Option<Errno>, format: Msg, args: &[Arg<'_>]) -> Error {
        let mut text = Text::default();
        let _ = render(&mut Formatter::new(&mut text), format, args);
        Error::new(step, errno, text)
    }

    /// `err!(step, errno, "constant detail")`: the detail is a message of
    /// the catalogue.
    #[inline(never)]
    pub fn noted(step: Msg, errno: Option<Errno>, detail: Msg) -> Error {
        let mut text = Text::default();
        let _ = ufmt::uwrite!(text, "{}", detail);
        Error::new(step, errno, text)
    }

    /// `step` failed, on what `detail` says, which lives as long as
    /// proctor (a constant, or leaked). Out of memory, the out-of-memory error.
    #[inline(never)]
    pub fn fixed(step: Msg, errno: Option<Errno>, detail: &'static [u8]) -> Error {
        let parts = Parts {
            step,
            detail,
            errno,
        };
        // SAFETY: `Parts` is not zero-sized.
        let slot = unsafe { alloc::alloc::alloc(Layout::new::<Parts>()) }.cast::<Parts>();
        if slot.is_null() {
            return OutOfMemory.into();
        }
        // SAFETY: `slot` is a fresh, aligned block for a `Parts`, never freed.
        unsafe {
            slot.write(parts);
            Error(&*slot)
        }
    }

    /// The whole message as bytes (for the report).
    pub fn text(self) -> Vec<u8> {
        let mut t = Text::default();
        let _ = ufmt::uwrite!(t, "{}", self);
        t.0
    }
}

/// Build an [`Error`] with a formatted detail:
/// `err!("bind", Some(errno), "{}", Show(path))`. The step is a literal
/// (looked up in the message catalogue) or the name of a [`Msg`]. The two commonest forms,
/// a bare path and a constant text, skip formatting at the call site: the
/// path is kept raw and shown with the error, which prints the same since
/// `Show` leaves its own output as it is.
#[macro_export]
macro_rules! err {
    ($step:tt, $errno:expr, "{}", Show($bytes:expr)) => {
        $crate::error::Error::showing($crate::step!($step), $errno, Show($bytes))
    };
    ($step:tt, $errno:expr, $detail:literal) => {
        $crate::error::Error::noted($crate::step!($step), $errno, {
            const _: () = $crate::error::check_format($detail, 0);
            $crate::msg!($detail)
        })
    };
    ($step:tt, $errno:expr, $format:literal, $($arg:expr),+ $(,)?) => {
        $crate::error::Error::formatted(
            $crate::step!($step),
            $errno,
            $crate::format_msg!($format, $($arg),+),
            &[$($crate::error::Arg::from($arg)),+],
        )
    };
}

/// An error's step: a literal is looked up in the message catalogue, a
/// name is already a [`Msg`].
#[macro_export]
macro_rules! step {
    ($step:literal) => {
        $crate::msg!($step)
    };
    ($step:ident) => {
        $step
    };
}

/// The catalogue's number of a format with one `{}` for each argument,
/// checked at compile time (for `log!` and `err!`).
#[macro_export]
macro_rules! format_msg {
    ($format:literal, $($arg:expr),+) => {{
        const _: () = $crate::error::check_format($format, [$(stringify!($arg)),+].len());
        $crate::msg!($format)
    }};
}

/// A format string holds exactly `args` placeholders `{}` and no other
/// brace: anything else fails the build. A constant text (`args` 0) is
/// printed as it is, so it may hold no brace at all.
pub const fn check_format(format: &str, args: usize) {
    let bytes = format.as_bytes();
    let (mut i, mut found) = (0, 0);
    while i < bytes.len() {
        if bytes[i] == b'{' {
            assert!(
                i + 1 < bytes.len() && bytes[i + 1] == b'}',
                "only {{}} formats"
            );
            found += 1;
            i += 1;
        } else {
            assert!(bytes[i] != b'}', "only {{}} formats");
        }
        i += 1;
    }
    assert!(found == args, "one {{}} for each argument");
}

/// An argument of a formatted `log!` or `err!`. The macros pass theirs as
/// a slice of these, so the text around them is one message of the
/// catalogue and each kind of argument is formatted in one place
/// ([`render`]), not at every call.
#[derive(Clone, Copy)]
pub enum Arg<'a> {
    Str(&'a str),
    Msg(Msg),
    /// Bytes as [`Show`] shows them.
    Show(&'a [u8]),
    /// An errno as [`ErrnoName`] names it.
    Errno(Errno),
    Error(Error),
    Int(isize),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Str(s)
    }
}

impl From<Msg> for Arg<'_> {
    fn from(m: Msg) -> Self {
        Arg::Msg(m)
    }
}

impl<'a> From<Show<'a>> for Arg<'a> {
    fn from(s: Show<'a>) -> Self {
        Arg::Show(s.0)
    }
}

impl From<ErrnoName> for Arg<'_> {
    fn from(e: ErrnoName) -> Self {
        Arg::Errno(e.0)
    }
}

impl From<Error> for Arg<'_> {
    fn from(e: Error) -> Self {
        Arg::Error(e)
    }
}

impl From<i32> for Arg<'_> {
    fn from(n: i32) -> Self {
        Arg::Int(n as isize)
    }
}

impl From<u32> for Arg<'_> {
    fn from(n: u32) -> Self {
        Arg::Int(n as isize)
    }
}

/// Counts, far below `isize::MAX`.
impl From<usize> for Arg<'_> {
    fn from(n: usize) -> Self {
        Arg::Int(n as isize)
    }
}

/// `format` with each `{}` replaced by the next of `args`, as ufmt's
/// `uwrite!` would write it.
pub fn render<W: uWrite + ?Sized>(
    f: &mut Formatter<'_, W>,
    format: Msg,
    args: &[Arg<'_>],
) -> Result<(), W::Error> {
    let mut buf = [0; MSG_MAX];
    let mut rest = format.text(&mut buf).as_bytes();
    let mut args = args.iter();
    loop {
        let at = rest.iter().position(|&b| b == b'{').unwrap_or(rest.len());
        let (piece, tail) = rest.split_at(at);
        // SAFETY: catalogue texts are ASCII, and `at` is a character boundary.
        f.write_str(unsafe { core::str::from_utf8_unchecked(piece) })?;
        let Some(arg) = tail.get(2..).and_then(|t| Some((t, args.next()?))) else {
            return Ok(());
        };
        rest = arg.0;
        match *arg.1 {
            Arg::Str(s) => f.write_str(s)?,
            Arg::Msg(m) => m.fmt(f)?,
            Arg::Show(b) => Show(b).fmt(f)?,
            Arg::Errno(e) => ErrnoName(e).fmt(f)?,
            Arg::Error(e) => e.fmt(f)?,
            Arg::Int(n) => n.fmt(f)?,
        }
    }
}

impl uDisplay for Error {
    fn fmt<W: uWrite + ?Sized>(&self, f: &mut Formatter<'_, W>) -> Result<(), W::Error> {
        let Parts {
            step,
            detail,
            errno,
        } = self.0;
        step.fmt(f)?;
        if !detail.is_empty() {
            f.write_str(": ")?;
            Show(detail).fmt(f)?;
        }
        if let Some(e) = *errno {
            f.write_str(": ")?;
            ErrnoName(e).fmt(f)?;
        }
        Ok(())
    }
}

/// A growable text buffer that ufmt can write into.
#[derive(Debug)]
pub struct Text(pub Vec<u8>);

/// Not inlined: an empty `Vec` takes three stores at each of the many
/// places that format (every `err!`), a call takes one.
impl Default for Text {
    #[inline(never)]
    fn default() -> Text {
        Text(Vec::new())
    }
}

impl uWrite for Text {
    type Error = core::convert::Infallible;
    /// Out of memory, the text is cut short: a message is never worth a crash.
    fn write_str(&mut self, s: &str) -> Result<(), Self::Error> {
        let _ = extend(&mut self.0, s.as_bytes());
        Ok(())
    }
}

/// The one spelling of running out of memory, wherever it is said.
pub const OUT_OF_MEMORY: Msg = msg!("out of memory");

/// Running out of memory: a clear error (exit 125), never a panic.
impl From<OutOfMemory> for Error {
    fn from(_: OutOfMemory) -> Error {
        Error(&OUT_OF_MEMORY_ERROR)
    }
}

/// Bytes shown as text: valid UTF-8 as is, other bytes and the bytes of
/// control characters (C0, DEL, C1) as `\xNN`, so a message stays one line and cannot drive a terminal.
pub struct Show<'a>(pub &'a [u8]);

impl uDisplay for Show<'_> {
    fn fmt<W: uWrite + ?Sized>(&self, f: &mut Formatter<'_, W>) -> Result<(), W::Error> {
        let mut result = Ok(());
        show(self.0, &mut |text| {
            if result.is_ok() {
                result = f.write_str(text);
            }
        });
        result
    }
}

/// Show's body, compiled once rather than once per writer: hands `out` the
/// text character by character (escaped ones as their `\xNN`s).
fn show(bytes: &[u8], out: &mut dyn FnMut(&str)) {
    let mut rest = bytes;
    while let [first, tail @ ..] = rest {
        let first = *first;
        let (len, escaped) = match char_len(first, tail) {
            Ok(1) => (1, first < 0x20 || first == 0x7f),
            // C1: U+0080..=U+009F.
            Ok(2) => (2, first == 0xc2 && tail.first().is_some_and(|&b| b < 0xa0)),
            Ok(len) => (len, false),
            Err(len) => (len, true),
        };
        let piece = rest.get(..len).unwrap_or_default();
        let next = rest.get(len..).unwrap_or_default();
        if escaped {
            for &b in piece {
                escape(out, b);
            }
        } else {
            // SAFETY: `char_len` found `piece` to be one whole character.
            out(unsafe { core::str::from_utf8_unchecked(piece) });
        }
        rest = next;
    }
}

/// `\xNN`. Not inlined: `show` is smaller calling it.
#[inline(never)]
fn escape(out: &mut dyn FnMut(&str), b: u8) {
    let digit = |n: u8| match n {
        0..=9 => b'0' + n,
        _ => b'a' - 10 + n,
    };
    let text = [b'\\', b'x', digit(b >> 4), digit(b & 15)];
    // SAFETY: `text` is ASCII.
    out(unsafe { core::str::from_utf8_unchecked(&text) });
}

/// An errno shown by its symbolic name (`ENOENT`), or as `errno N`.
pub struct ErrnoName(pub Errno);

impl uDisplay for ErrnoName {
    fn fmt<W: uWrite + ?Sized>(&self, f: &mut Formatter<'_, W>) -> Result<(), W::Error> {
        match errno_name(self.0) {
            Some(name) => f.write_str(name),
            None => ufmt::uwrite!(f, "errno {}", self.0.into_raw()),
        }
    }
}

/// Names of the errnos 1..=40 and four of the network's, the ones proctor
/// can meet (the full table would double its size).
const NAMES: [&str; 44] = [
    "EPERM",
    "ENOENT",
    "ESRCH",
    "EINTR",
    "EIO",
    "ENXIO",
    "E2BIG",
    "ENOEXEC",
    "EBADF",
    "ECHILD",
    "EAGAIN",
    "ENOMEM",
    "EACCES",
    "EFAULT",
    "ENOTBLK",
    "EBUSY",
    "EEXIST",
    "EXDEV",
    "ENODEV",
    "ENOTDIR",
    "EISDIR",
    "EINVAL",
    "ENFILE",
    "EMFILE",
    "ENOTTY",
    "ETXTBSY",
    "EFBIG",
    "ENOSPC",
    "ESPIPE",
    "EROFS",
    "EMLINK",
    "EPIPE",
    "EDOM",
    "ERANGE",
    "EDEADLK",
    "ENAMETOOLONG",
    "ENOLCK",
    "ENOSYS",
    "ENOTEMPTY",
    "ELOOP",
    "EOPNOTSUPP",
    "ENETUNREACH",
    "ETIMEDOUT",
    "ECONNREFUSED",
];
static PACKED: crate::rt::pack::Names<44> = crate::names!(NAMES);

fn errno_name(e: Errno) -> Option<&'static str> {
    let row = match e.into_raw() {
        n @ 1..=40 => n - 1,
        95 => 40,
        101 => 41,
        110 => 42,
        111 => 43,
        _ => return None,
    };
    PACKED.get(row as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_names_by_number() {
        let name = |n| errno_name(Errno::new(n));
        assert_eq!(name(1), Some("EPERM"));
        assert_eq!(name(21), Some("EISDIR"));
        assert_eq!(name(40), Some("ELOOP"));
        assert_eq!(name(110), Some("ETIMEDOUT"));
        assert_eq!(name(0), None);
        assert_eq!(name(41), None);
        for n in 1..=40 {
            assert!(
                name(n).is_some_and(|s| s.len() > 2 && s.starts_with('E')),
                "{n}"
            );
        }
    }

    #[test]
    fn formats_step_detail_errno() {
        let e = err!("bind", Some(Errno::ENOENT), "{}", Show(b"/shared/x"));
        assert_eq!(e.text(), b"bind: /shared/x: ENOENT");
        assert_eq!(
            Error::sys(msg!("fork"), Errno::EAGAIN).text(),
            b"fork: EAGAIN"
        );
        assert_eq!(
            Error::sys(msg!("x"), Errno::new(200)).text(),
            b"x: errno 200"
        );
        let e = err!("net", Some(Errno::EPERM), "needs CAP_NET_ADMIN");
        assert_eq!(e.text(), b"net: needs CAP_NET_ADMIN: EPERM");
        let e = err!("--ro", None, "{}: is a {}", Show(b"/a\tb"), "link");
        assert_eq!(e.text(), b"--ro: /a\\x09b: is a link");
    }

    /// Every kind of argument, rendered from the catalogue as ufmt would.
    #[test]
    fn formats_every_kind_of_argument() {
        let inner = Error::sys(msg!("fork"), Errno::EAGAIN);
        let (n, m) = (-7, crate::msg!("a message"));
        let e = err!(
            "x",
            None,
            "{} {} {}, {}; {}{}",
            n,
            m,
            ErrnoName(Errno::ENOENT),
            inner,
            3usize,
            4u32
        );
        assert_eq!(e.text(), b"x: -7 a message ENOENT, fork: EAGAIN; 34");
        let e = err!("y", None, "{}{}", "", Show(b"\x01"));
        assert_eq!(e.text(), b"y: \\x01");
    }

    /// `show` against the standard library's decoding: escaped are the
    /// bytes of broken sequences and of control characters.
    #[test]
    fn shows_what_the_standard_library_decodes() {
        extern crate std;
        use std::string::String;
        fn reference(bytes: &[u8]) -> String {
            let escape = |b: u8| std::format!("\\x{b:02x}");
            let mut t = String::new();
            for chunk in bytes.utf8_chunks() {
                for c in chunk.valid().chars() {
                    match c.is_control() {
                        true => c
                            .encode_utf8(&mut [0; 4])
                            .bytes()
                            .for_each(|b| t += &escape(b)),
                        false => t.push(c),
                    }
                }
                chunk.invalid().iter().for_each(|&b| t += &escape(b));
            }
            t
        }
        let pieces: [&[u8]; 12] = [
            b"a",
            b"\n",
            b"\x7f",
            "\u{85}".as_bytes(),
            "\u{9f}".as_bytes(),
            "\u{a0}".as_bytes(),
            "\u{e9}".as_bytes(),
            "\u{20ac}".as_bytes(),
            "\u{1f600}".as_bytes(),
            b"\xff",
            b"\xe2\x82",
            b"\xf0\x9f",
        ];
        let mut seed = 1u64;
        for _ in 0..50_000 {
            let mut bytes = std::vec::Vec::new();
            for _ in 0..6 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                bytes.extend_from_slice(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            let mut shown = String::new();
            show(&bytes, &mut |s| shown.push_str(s));
            assert_eq!(shown, reference(&bytes), "{bytes:x?}");
        }
    }

    #[test]
    fn shown_text_shows_as_itself() {
        // So a detail formatted with Show (escaped once) and one kept raw
        // (`Error::showing`, escaped when shown) print alike.
        let raw = b"a\n\x1b\xff\xc2\x85\xc3\xa9\\x41";
        let once = err!("s", None, "{}", Show(raw)).text();
        let mut t = Text::default();
        let _ = ufmt::uwrite!(t, "s: {}", Show(&once[3..]));
        assert_eq!(t.0, once);
    }

    #[test]
    fn invalid_utf8_is_escaped() {
        let e = err!("open", None, "{}", Show(b"a\xffb"));
        assert_eq!(e.text(), b"open: a\\xffb");
        let e = err!("open", None, "{}", Show(b"a\nb\x1b[2J\x7f\xc2\x9b\xc3\xa9"));
        assert_eq!(
            e.text(),
            "open: a\\x0ab\\x1b[2J\\x7f\\xc2\\x9b\u{e9}".as_bytes()
        );
        let e = err!("open", None, "{}", Show("a\nb\x1b\té".as_bytes()));
        assert_eq!(e.text(), "open: a\\x0ab\\x1b\\x09é".as_bytes());
    }
}
