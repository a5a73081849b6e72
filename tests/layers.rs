//! The layers of ARCHITECTURE.md hold: an import may only point down.
//!
//!     main → phases → args → error, log → rt → sys
//!
//! `sys/` (typed raw syscalls) imports nothing from the rest of the crate,
//! `rt/` only `sys`, `error` and `log` only what is below them, and `args`
//! (pure parsing) no phase. Read from the sources: every `crate::NAME` path
//! outside a comment, and a `super::` that would climb out of `sys/`.
//! (`crate::names!` is rt's macro: `#[macro_export]` puts it at the root.)
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The source without comments (line, doc and block comments).
fn code(text: &str) -> String {
    let mut out = String::new();
    let mut in_block = false;
    for line in text.lines() {
        let mut l = line;
        if in_block {
            match l.find("*/") {
                Some(end) => {
                    l = &l[end + 2..];
                    in_block = false;
                }
                None => continue,
            }
        }
        if let Some(start) = l.find("/*") {
            in_block = !l[start..].contains("*/");
            l = &l[..start];
        }
        out.push_str(l.split("//").next().unwrap_or(""));
        out.push('\n');
    }
    out
}

/// The top-level modules `file` names through `crate::` (or `$crate::`).
fn crate_paths(file: &Path) -> Vec<(usize, String)> {
    let text = code(&std::fs::read_to_string(file).unwrap());
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let tail = &rest[at + 7..];
            let name: String = tail
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.push((n + 1, name));
            rest = tail;
        }
    }
    found
}

fn check(files: &[PathBuf], allowed: &[&str], layer: &str) -> Vec<String> {
    let mut bad = Vec::new();
    for f in files {
        // Unit tests may use anything: they test, they do not ship.
        if f.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        for (line, name) in crate_paths(f) {
            if !allowed.contains(&name.as_str()) {
                bad.push(format!(
                    "{}:{line}: {layer} imports crate::{name}",
                    f.display()
                ));
            }
        }
    }
    bad
}

#[test]
fn sys_imports_nothing_above_it() {
    let sys = files(&src().join("sys"));
    assert!(sys.len() > 5, "src/sys/ is where the syscalls are");
    let mut bad = check(&sys, &["sys"], "sys");
    // Not even its comments point up: sys knows nothing above it.
    for f in &sys {
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.contains("crate::") && !line.contains("crate::sys") {
                bad.push(format!(
                    "{}:{}: sys names the crate above it: {line}",
                    f.display(),
                    n + 1
                ));
            }
        }
    }
    // In sys/mod.rs, `super::` is the crate itself.
    let root = code(&std::fs::read_to_string(src().join("sys/mod.rs")).unwrap());
    if root.contains("super::") {
        bad.push("src/sys/mod.rs: sys imports through super::".into());
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn rt_error_and_log_stay_below_the_phases() {
    let mut bad = check(
        &files(&src().join("rt")),
        &["rt", "sys", "names", "msg"],
        "rt",
    );
    for f in ["error.rs", "log.rs"] {
        bad.extend(check(
            &[src().join(f)],
            &[
                "error",
                "log",
                "rt",
                "sys",
                "names",
                "msg",
                "format_msg",
                "step",
            ],
            f,
        ));
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn args_is_pure_and_imports_no_phase() {
    let mut args = vec![src().join("args.rs")];
    args.extend(files(&src().join("args")));
    let bad = check(
        &args,
        &["args", "error", "log", "rt", "sys", "names", "msg"],
        "args",
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // Pure: the only things args takes from sys are plain types, never a call.
    for f in &args {
        let text = code(&std::fs::read_to_string(f).unwrap());
        for (n, line) in text.lines().enumerate() {
            if line.contains("crate::sys::") && !line.contains("crate::sys::time::Nanos") {
                panic!(
                    "{}:{}: args uses sys beyond its types: {line}",
                    f.display(),
                    n + 1
                );
            }
        }
    }
}

#[test]
fn the_check_sees_a_violation() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.rs");
    std::fs::write(
        &f,
        "// crate::mounts in a comment is fine\nuse crate::mounts::apply; /* crate::vm */\n",
    )
    .unwrap();
    assert_eq!(check(&[f], &["sys"], "sys").len(), 1);
}
