//! No dead code in the library. The binary is a separate crate over a
//! `pub` library, so rustc takes every `pub` item for an export and never
//! reports one as unused. This check compiles a copy of `src/` as ONE
//! binary crate — lib.rs with its modules private and main.rs as one of
//! them — where rustc's `dead_code` lint sees every item that `entry`
//! cannot reach, and fails on any. Code that only unit tests use is dead
//! too: a test must test what the binary runs.
use std::fs;
use std::path::Path;
use std::process::Command;

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            fs::copy(entry.path(), dest).unwrap();
        }
    }
}

#[test]
fn the_library_has_no_dead_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Its own target directory: the one running this test stays locked.
    let work = root.join("target").join("dead-code");
    let krate = work.join("crate");
    let _ = fs::remove_dir_all(&krate);
    copy_dir(&root.join("src"), &krate.join("src"));
    for file in ["Cargo.lock", "build.rs"] {
        fs::copy(root.join(file), krate.join(file)).unwrap();
    }
    // A workspace of its own, not a member of the project's.
    let manifest = fs::read_to_string(root.join("Cargo.toml")).unwrap();
    fs::write(krate.join("Cargo.toml"), manifest + "\n[workspace]\n").unwrap();
    // lib.rs as the root of a binary: private modules, main.rs among them.
    let lib = fs::read_to_string(root.join("src/lib.rs")).unwrap();
    let lib: String = lib
        .lines()
        .map(|l| match l.strip_prefix("pub ") {
            Some(rest) if rest.starts_with("mod ") || rest.starts_with("use ") => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let lib = format!(
        "#![no_main]\n{lib}\nextern crate self as proctor;\n#[path = \"main.rs\"]\nmod main;\n"
    );
    fs::write(krate.join("src/lib.rs"), lib).unwrap();
    let out = Command::new(env!("CARGO"))
        .args(["rustc", "--offline", "--lib", "--profile", "check"])
        .args(["--crate-type", "bin", "--manifest-path"])
        .arg(krate.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(work.join("target"))
        .args(["--", "-D", "dead_code"])
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "dead code in the library (remove it, or use it):\n{stderr}"
    );
}
