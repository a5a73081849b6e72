//! Link the `proctor` binary freestanding: no C runtime, no libc, static, non-PIE,
//! laid out by our own linker script. Only the binary gets these flags
//! (`rustc-link-arg-bins`), so unit and integration tests link normally.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rerun-if-changed=linker/proctor.ld");
    // A release build that links despite a panic path, to find it (see main.rs).
    println!("cargo::rustc-check-cfg=cfg(proctor_find_panics)");
    for arg in [
        "-nostartfiles",
        "-nostdlib",
        "-static",
        "-no-pie",
        "-Wl,--gc-sections",
        "-Wl,--build-id=none",
        "-Wl,-z,norelro",
        "-Wl,-z,noexecstack",
    ] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
    println!("cargo:rustc-link-arg-bins=-Wl,-T,{dir}/linker/proctor.ld");
    pack_usage(&dir);
}

/// The `--help` text and every message written `msg!("…")` in src/,
/// byte-pair encoded with one table of pairs (rt::pack::unpack reads them
/// back): about half their size. The messages are one catalogue that
/// `Msg::of` looks a text up in at compile time, so a message costs its
/// packed bytes, two bytes of index and a 16-bit number where it is used.
fn pack_usage(dir: &str) {
    println!("cargo:rerun-if-changed=src/usage.txt");
    println!("cargo:rerun-if-changed=src");
    let text = std::fs::read(format!("{dir}/src/usage.txt")).expect("src/usage.txt");
    let (mut messages, mut in_tests) = (Vec::new(), Vec::new());
    find_messages(
        std::path::Path::new(&format!("{dir}/src")),
        &mut messages,
        &mut in_tests,
    );
    messages.sort();
    messages.dedup();
    in_tests.retain(|t| !messages.contains(t));
    in_tests.sort();
    in_tests.dedup();
    for m in messages.iter().chain(&in_tests) {
        assert!(m.len() <= 160, "msg!: longer than rt::pack::MSG_MAX: {m}");
        assert!(m.is_ascii(), "msg!: {m}: not ASCII");
    }
    assert!(text.is_ascii(), "src/usage.txt: not ASCII");
    // The characters used, in order: a text is first written as their
    // numbers, so the codes above them (often more than half) are free for pairs.
    let mut alphabet: Vec<u8> = text
        .iter()
        .chain(messages.iter().chain(&in_tests).flat_map(|m| m.as_bytes()))
        .copied()
        .collect();
    alphabet.sort();
    alphabet.dedup();
    let letters = |t: &[u8]| -> Vec<u8> {
        t.iter()
            .map(|b| alphabet.binary_search(b).expect("in the alphabet") as u8)
            .collect()
    };
    let mut texts = vec![letters(&text)];
    texts.extend(messages.iter().map(|m| letters(m.as_bytes())));
    let first = u8::try_from(alphabet.len()).expect("fewer than 256 characters");
    let (packed, pairs) = byte_pairs(&texts, first);
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let mut code = format!(
        "pub const LEN: usize = {};\nstatic ALPHABET: [u8; {}] = {:?};\npub static PACKED: [u8; {}] = {:?};\npub static PAIRS: [[u8; 2]; {}] = {:?};\n",
        text.len(),
        alphabet.len(),
        alphabet,
        packed[0].len(),
        packed[0],
        pairs.len(),
        pairs,
    );
    // The unit tests' own messages follow the code's, in their build only.
    let mut all = messages.clone();
    all.extend(in_tests.iter().cloned());
    let mut tested = packed[1..].to_vec();
    tested.extend(
        in_tests
            .iter()
            .map(|t| encode(&letters(t.as_bytes()), &pairs, first)),
    );
    for (cfg, texts, packed) in [
        ("not(test)", &messages, &packed[1..]),
        ("test", &all, &tested[..]),
    ] {
        let mut ends = Vec::new();
        let mut catalogue = Vec::new();
        for codes in packed {
            catalogue.extend_from_slice(codes);
            ends.push(u16::try_from(catalogue.len()).expect("a catalogue under 64 KiB"));
        }
        code += &format!(
            "#[cfg({cfg})]\nconst TEXTS: [&str; {}] = {:?};\n#[cfg({cfg})]\nstatic MESSAGES: Table<[u16; {}]> = Table {{ joined: &{:?}, ends: {:?} }};\n",
            texts.len(),
            texts,
            ends.len(),
            catalogue,
            ends,
        );
    }
    std::fs::write(format!("{out}/usage.rs"), code).expect("write usage.rs");
}

/// The messages under `dir`: the literal of every `msg!("…")`, and the
/// text or format of every `log!(Level, "…", …)` and `err!(step, errno,
/// "…", …)`, which those macros take from the catalogue; those of the code into
/// `code`, those of unit tests into `tests` (comments name none). A text
/// the scan misses is not in the catalogue, and `Msg::of` fails the build.
fn find_messages(dir: &std::path::Path, code: &mut Vec<String>, tests: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("read src").path();
        if path.is_dir() {
            find_messages(&path, code, tests);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let file = std::fs::read_to_string(&path).expect("read a source file");
            let lines = file.lines().filter(|l| !l.trim_start().starts_with("//"));
            let source = lines.collect::<Vec<_>>().join("\n");
            let (before, after) = match source.split_once("#[cfg(test)]") {
                _ if path.ends_with("tests.rs") => ("", source.as_str()),
                Some(parts) => parts,
                None => (source.as_str(), ""),
            };
            messages(before, code);
            messages(after, tests);
        }
    }
}

/// The texts of `source`'s `msg!`, `log!` and `err!` calls, into `out`.
fn messages(source: &str, out: &mut Vec<String>) {
    // (macro, which argument is the text or format, how many it then has at least)
    for (name, text, count) in [("msg!(", 0, 1), ("log!(", 1, 2), ("err!(", 2, 3)] {
        for (at, m) in source.match_indices(name) {
            let args = arguments(&source[at + m.len()..]);
            if args.len() >= count {
                out.extend(args[text].strip_prefix('"').and_then(literal));
                // err!'s step, when it is written out.
                if name == "err!(" {
                    out.extend(args[0].strip_prefix('"').and_then(literal));
                }
            }
        }
    }
}

/// The top-level arguments of a macro call whose `(` is just before
/// `rest`, trimmed (commas and brackets inside string literals count for
/// nothing; a trailing comma adds no argument).
fn arguments(rest: &str) -> Vec<&str> {
    let (mut args, mut start, mut depth) = (Vec::new(), 0, 0);
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' if depth > 0 => depth -= 1,
            b')' | b',' if depth == 0 => {
                let arg = rest[start..i].trim();
                if !arg.is_empty() {
                    args.push(arg);
                }
                if bytes[i] == b')' {
                    break;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    args
}

/// The text of a string literal that is all of `rest` but its opening
/// quote, or `None` for an expression that only begins with one. The
/// escapes messages use (`\"`, `\\`), no other.
fn literal(rest: &str) -> Option<String> {
    let mut text = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return chars.as_str().is_empty().then_some(text),
            '\\' => match chars.next() {
                Some(e @ ('"' | '\\')) => text.push(e),
                other => panic!("msg!: escape \\{other:?} not supported, in {text}"),
            },
            c => text.push(c),
        }
    }
    None
}

/// `text` packed with `pairs`, applied in the order they were found (the
/// first as code `first`).
fn encode(text: &[u8], pairs: &[[u8; 2]], first: u8) -> Vec<u8> {
    let mut data = text.to_vec();
    for (code, pair) in (first..=255).zip(pairs) {
        data = replace(&data, *pair, code);
    }
    data
}

/// `text` with every `pair`, left to right, replaced by `code`.
fn replace(text: &[u8], pair: [u8; 2], code: u8) -> Vec<u8> {
    let mut next = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with(&pair) {
            next.push(code);
            i += 2;
        } else {
            next.push(text[i]);
            i += 1;
        }
    }
    next
}

/// Replaces the most frequent pair of codes in `texts` (never across two
/// of them) by a new code (`first`, `first + 1`, … 255) while that saves
/// bytes, keeping every code's expansion less than 16 pairs deep.
fn byte_pairs(texts: &[Vec<u8>], first: u8) -> (Vec<Vec<u8>>, Vec<[u8; 2]>) {
    let mut data = texts.to_vec();
    let mut pairs: Vec<[u8; 2]> = Vec::new();
    let mut depth = [1usize; 256];
    for code in first..=255 {
        let mut counts = std::collections::BTreeMap::new();
        for w in data.iter().flat_map(|t| t.windows(2)) {
            if depth[w[0] as usize].max(depth[w[1] as usize]) < 16 {
                *counts.entry([w[0], w[1]]).or_insert(0usize) += 1;
            }
        }
        // The most frequent pair; the smallest one among equals.
        let Some((pair, n)) = counts
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        else {
            break;
        };
        if n < 3 {
            break;
        }
        for text in &mut data {
            *text = replace(text, pair, code);
        }
        depth[code as usize] = 1 + depth[pair[0] as usize].max(depth[pair[1] as usize]);
        pairs.push(pair);
    }
    (data, pairs)
}
