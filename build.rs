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
}
