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

/// The `--help` text, byte-pair encoded (rt::pack::unpack reads it back):
/// about half its size, and the binary's largest constant.
fn pack_usage(dir: &str) {
    println!("cargo:rerun-if-changed=src/usage.txt");
    let text = std::fs::read(format!("{dir}/src/usage.txt")).expect("src/usage.txt");
    assert!(
        text.is_ascii(),
        "src/usage.txt: codes 128..=255 stand for pairs"
    );
    let (packed, pairs) = byte_pairs(&text);
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let code = format!(
        "pub const LEN: usize = {};\npub static PACKED: [u8; {}] = {:?};\npub static PAIRS: [[u8; 2]; {}] = {:?};\n",
        text.len(),
        packed.len(),
        packed,
        pairs.len(),
        pairs,
    );
    std::fs::write(format!("{out}/usage.rs"), code).expect("write usage.rs");
}

/// Replaces the most frequent pair of codes by a new code (128, 129, …)
/// while that saves bytes, keeping every code's expansion at most
/// rt::pack::DEPTH deep.
fn byte_pairs(text: &[u8]) -> (Vec<u8>, Vec<[u8; 2]>) {
    let mut data = text.to_vec();
    let mut pairs: Vec<[u8; 2]> = Vec::new();
    let mut depth = [1usize; 256];
    for code in 128..=255u8 {
        let mut counts = std::collections::BTreeMap::new();
        for w in data.windows(2) {
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
        let mut next = Vec::with_capacity(data.len());
        let mut i = 0;
        while i < data.len() {
            if data[i..].starts_with(&pair) {
                next.push(code);
                i += 2;
            } else {
                next.push(data[i]);
                i += 1;
            }
        }
        data = next;
        depth[code as usize] = 1 + depth[pair[0] as usize].max(depth[pair[1] as usize]);
        pairs.push(pair);
    }
    (data, pairs)
}
