//! What the VM tests share (tests/qemu.rs, tests/aarch64.rs): an initramfs
//! writer (cpio "newc", the format the kernel unpacks into its rootfs), a
//! QEMU run under a time limit that collects the serial console, the kernels
//! tests/setup.sh caches in `target/qemu/`, and static C probes.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `target/` (or `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
    }
}

/// A file tests/setup.sh caches under `target/qemu/`.
pub fn cached(name: &str) -> PathBuf {
    target_dir().join("qemu").join(name)
}

pub fn which(cmd: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(cmd))
        .find(|p| p.is_file())
}

// ------------------------------------------------------------------ cpio

/// A cpio archive in the "newc" format the kernel unpacks into its rootfs.
pub struct Cpio {
    buf: Vec<u8>,
    ino: u32,
}

pub const S_IFDIR: u32 = 0o040000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFCHR: u32 = 0o020000;

impl Cpio {
    pub fn new() -> Self {
        Cpio {
            buf: Vec::new(),
            ino: 1,
        }
    }

    fn pad4(&mut self) {
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    fn entry(&mut self, name: &str, mode: u32, rdev: (u32, u32), data: &[u8]) {
        let ino = self.ino;
        self.ino += 1;
        let nlink = if mode & S_IFDIR != 0 { 2 } else { 1 };
        let fields = [
            ino,
            mode,
            0, // uid
            0, // gid
            nlink,
            0, // mtime
            data.len() as u32,
            0, // devmajor
            0, // devminor
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0, // check
        ];
        self.buf.extend_from_slice(b"070701");
        for f in fields {
            self.buf.extend_from_slice(format!("{f:08X}").as_bytes());
        }
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.push(0);
        self.pad4();
        self.buf.extend_from_slice(data);
        self.pad4();
    }

    pub fn dir(&mut self, name: &str, perm: u32) {
        self.entry(name, S_IFDIR | perm, (0, 0), b"");
    }
    pub fn file(&mut self, name: &str, perm: u32, data: &[u8]) {
        self.entry(name, S_IFREG | perm, (0, 0), data);
    }
    pub fn symlink(&mut self, name: &str, target: &str) {
        self.entry(name, S_IFLNK | 0o777, (0, 0), target.as_bytes());
    }
    pub fn chardev(&mut self, name: &str, perm: u32, major: u32, minor: u32) {
        self.entry(name, S_IFCHR | perm, (major, minor), b"");
    }
    /// The file at `from` on the host, as `name`.
    pub fn copy(&mut self, name: &str, perm: u32, from: &Path) {
        let data = std::fs::read(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display()));
        self.file(name, perm, &data);
    }
    /// The directories of a bare root, a console, and `init` as `/init`.
    pub fn bare_root(&mut self, init: &Path) {
        for d in ["bin", "dev", "proc", "sys", "tmp", "mnt", "root"] {
            self.dir(d, 0o755);
        }
        self.chardev("dev/console", 0o600, 5, 1);
        self.chardev("dev/null", 0o666, 1, 3);
        self.copy("init", 0o755, init);
    }
    /// The host's static busybox (x86_64) in `/bin`, with its applet links.
    pub fn busybox(&mut self, busybox: &Path) {
        self.copy("bin/busybox", 0o755, busybox);
        let list = Command::new(busybox)
            .arg("--list")
            .output()
            .expect("busybox --list");
        for applet in String::from_utf8_lossy(&list.stdout).lines() {
            let applet = applet.trim();
            if !applet.is_empty() && applet != "busybox" && !applet.contains('/') {
                self.symlink(&format!("bin/{applet}"), "busybox");
            }
        }
    }
    pub fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, (0, 0), b"");
        while !self.buf.len().is_multiple_of(512) {
            self.buf.push(0);
        }
        self.buf
    }
}

// ------------------------------------------------------------------ QEMU

/// What a VM run left: its serial console, QEMU's exit status, and how long
/// it took from QEMU's start to its end (boot to exit).
pub struct Boot {
    pub console: String,
    pub status: Option<i32>,
    pub elapsed: Duration,
    pub timed_out: bool,
}

/// Run `qemu` (a fully prepared command line whose first serial port is
/// stdio) until it exits, killing it after `limit`.
pub fn boot(mut qemu: Command, limit: Duration) -> Boot {
    let start = Instant::now();
    let mut child = qemu
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {qemu:?}: {e}"));
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let mut err = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let mut timed_out = false;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for qemu") {
            break st.code();
        }
        if start.elapsed() > limit {
            timed_out = true;
            let _ = child.kill();
            break child.wait().ok().and_then(|s| s.code());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let elapsed = start.elapsed();
    let mut console = String::from_utf8_lossy(&reader.join().unwrap()).replace('\r', "");
    let err = String::from_utf8_lossy(&err_reader.join().unwrap()).to_string();
    if !err.trim().is_empty() {
        console.push_str("\n[qemu stderr]\n");
        console.push_str(&err);
    }
    Boot {
        console,
        status,
        elapsed,
        timed_out,
    }
}

impl Boot {
    /// Print the run for the test log (`--nocapture` shows it), with the
    /// boot-to-exit time under `name`.
    pub fn show(&self, name: &str) {
        eprintln!(
            "{name}: qemu exit {:?} after {:.1} s (boot to exit){}",
            self.status,
            self.elapsed.as_secs_f64(),
            if self.timed_out { " (timed out)" } else { "" }
        );
        eprintln!("----- console -----\n{}\n-------------------", self.console);
    }

    /// The value of the first `KEY=VALUE` line the command printed.
    pub fn value(&self, key: &str) -> Option<&str> {
        value(&self.console, key)
    }

    /// The last `proctor: exit status N` line on the console.
    pub fn last_exit_line(&self) -> Option<&str> {
        self.console
            .lines()
            .map(str::trim_end)
            .rfind(|l| l.contains("proctor: exit status"))
    }
}

pub fn value<'a>(console: &'a str, key: &str) -> Option<&'a str> {
    let prefix = format!("{key}=");
    console
        .lines()
        .find_map(|l| l.trim_end().strip_prefix(prefix.as_str()))
}

/// QEMU under TCG with one CPU, the serial console on stdio, no reboot.
pub fn qemu(qemu: &Path, machine: &str, kernel: &Path, initrd: &Path, append: &str) -> Command {
    let mut c = Command::new(qemu);
    c.args(["-M", machine, "-accel", "tcg", "-m", "512", "-smp", "1"])
        .args(["-display", "none", "-monitor", "none", "-no-reboot"])
        .args(["-serial", "stdio"])
        .arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(initrd)
        .arg("-append")
        .arg(append);
    c
}

/// Compile the C source `src` into a static executable with `cc`.
pub fn static_c(cc: &str, src: &str, out: &Path) {
    let c = out.with_extension("c");
    std::fs::write(&c, src).unwrap();
    let res = Command::new(cc)
        .args(["-static", "-Os", "-pthread", "-o"])
        .arg(out)
        .arg(&c)
        .output()
        .unwrap_or_else(|e| panic!("{cc}: {e}"));
    assert!(
        res.status.success(),
        "{cc} failed: {}",
        String::from_utf8_lossy(&res.stderr)
    );
}
