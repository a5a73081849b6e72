//! Every input the fuzzers kept (fuzz/corpus/<target>/) and every crasher
//! they found (fuzz/crashers/<target>/), run through the same checks as the
//! fuzz targets, so what fuzzing once proved stays proved in the normal suite.
#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::Path;

fn run_dir(target: &str, f: fn(&[u8]), dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir.join(target)) else {
        return 0;
    };
    let mut n = 0;
    for entry in entries {
        let path = entry.expect("read_dir").path();
        let data = std::fs::read(&path).expect("read input");
        let outcome = std::panic::catch_unwind(|| f(&data));
        assert!(outcome.is_ok(), "{target}: {} fails", path.display());
        n += 1;
    }
    n
}

#[test]
fn corpora_and_crashers_still_pass() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for (target, f) in checks::TARGETS {
        let corpus = run_dir(target, f, &fuzz.join("corpus"));
        assert!(corpus > 0, "{target}: the corpus is committed");
        run_dir(target, f, &fuzz.join("crashers"));
    }
}

/// The findings, spelled out (the files in fuzz/crashers/ are their raw form).
#[test]
fn findings() {
    // An environment entry without '=' made env::get slice past its end.
    checks::env(b"\x06PATH\x00\x05PATH\x00\x05");
    // A newline, ESC or C1 control in a value broke the one-line usage error.
    checks::args(b"--en\n\x000");
    checks::args(b"--timeout\x00\x1b[2J\x00x");
    checks::rlimit_spec("\u{8b}k".as_bytes());
}
