//! Smoke test: proctor as `/init` of a QEMU micro-VM.
//!
//! Builds an initramfs (cpio "newc", written here) holding proctor as `/init`,
//! Debian's static busybox with its applet links, a grader script and a data
//! directory; boots the Debian kernel that tests/setup.sh caches in
//! `target/qemu/vmlinuz` under `qemu-system-x86_64 -accel tcg`, with proctor's
//! options on the kernel command line after `--`; reads the serial console.
//!
//! Needs qemu-system-x86_64, the cached kernel and /bin/busybox (all from
//! tests/setup.sh). When one is missing the test fails if CI=true and is
//! skipped, with the reason printed, otherwise.

mod common;
use common::*;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PROCTOR: &str = env!("CARGO_BIN_EXE_proctor");
const BOOT_TIMEOUT: Duration = Duration::from_secs(120);

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
    }
}

fn which(cmd: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(cmd))
        .find(|p| p.is_file())
}

// ------------------------------------------------------------------ cpio

/// A cpio archive in the "newc" format the kernel unpacks into its rootfs.
struct Cpio {
    buf: Vec<u8>,
    ino: u32,
}

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;
const S_IFCHR: u32 = 0o020000;

impl Cpio {
    fn new() -> Self {
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

    fn dir(&mut self, name: &str, perm: u32) {
        self.entry(name, S_IFDIR | perm, (0, 0), b"");
    }
    fn file(&mut self, name: &str, perm: u32, data: &[u8]) {
        self.entry(name, S_IFREG | perm, (0, 0), data);
    }
    fn symlink(&mut self, name: &str, target: &str) {
        self.entry(name, S_IFLNK | 0o777, (0, 0), target.as_bytes());
    }
    fn chardev(&mut self, name: &str, perm: u32, major: u32, minor: u32) {
        self.entry(name, S_IFCHR | perm, (major, minor), b"");
    }
    fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, (0, 0), b"");
        while !self.buf.len().is_multiple_of(512) {
            self.buf.push(0);
        }
        self.buf
    }
}

#[test]
fn cpio_newc_layout() {
    // The writer itself: header magic, hex fields, name and data padding.
    let mut c = Cpio::new();
    c.file("ab", 0o644, b"xyz");
    let b = c.finish();
    assert_eq!(&b[..6], b"070701");
    assert_eq!(&b[6..14], b"00000001"); // ino
    assert_eq!(&b[14..22], b"000081A4"); // S_IFREG | 0644
    assert_eq!(&b[54..62], b"00000003"); // filesize
    assert_eq!(&b[94..102], b"00000003"); // namesize "ab\0"
    assert_eq!(&b[110..113], b"ab\0"); // header is 110 bytes
    assert_eq!(&b[113..116], b"\0\0\0"); // padded to 116
    assert_eq!(&b[116..119], b"xyz");
    assert_eq!(b.len() % 512, 0);
    assert!(b.windows(10).any(|w| w == b"TRAILER!!!"));
}

// ------------------------------------------------------------------ the VM

/// The grader: runs as uid 1000 under proctor, prints facts as KEY=VALUE
/// lines, exits 7.
const GRADER: &str = r#"#!/bin/sh
export PATH=/bin
echo "GRADER_START=1"
echo "PID=$$"
echo "PPID=$PPID"
echo "PID1_CMDLINE=$(tr '\0' ' ' </proc/1/cmdline)"
for k in Uid Gid Groups CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs Seccomp; do
    echo "STATUS_$k=$(grep "^$k:" /proc/$$/status | cut -f2- | tr '\t' ' ')"
done
echo "NOFILE=$(ulimit -n)"
# --tmpfs /scratch: writable, a tmpfs, nosuid+nodev
echo hi >/scratch/probe && echo "TMPFS_WRITE=ok"
echo "TMPFS_MOUNT=$(grep ' /scratch ' /proc/self/mounts)"
# --bind /data:/mnt/data: readable, read-only
echo "BIND_READ=$(cat /mnt/data/hello.txt)"
if echo x >/mnt/data/new 2>/dev/null; then echo "BIND_WRITE=allowed"; else echo "BIND_WRITE=refused"; fi
echo "BIND_MOUNT=$(grep ' /mnt/data ' /proc/self/mounts)"
# orphans: 20 children whose parent exits at once; proctor must reap them
i=0
while [ $i -lt 10 ]; do
    (sleep 0.1 &)
    (setsid sh -c 'exit 0' &)
    i=$((i + 1))
done
sleep 1
z=0
for s in /proc/[0-9]*/stat; do
    st=$(cut -d' ' -f3 "$s" 2>/dev/null)
    [ "$st" = Z ] && z=$((z + 1))
done
echo "ZOMBIES=$z"
# a daemon left behind: proctor kills it when the grader exits. Wait until
# it is in its own session, or the SIGHUP that the exit of the grader (a
# session leader with the console as its terminal) sends could end it first.
setsid sh -c 'echo $$ >/scratch/daemon.pid; exec sleep 1000' </dev/null >/dev/null 2>&1 &
while [ ! -s /scratch/daemon.pid ]; do sleep 0.1; done
echo "DAEMON_SID=$(cut -d' ' -f6 /proc/$(cat /scratch/daemon.pid)/stat)"
echo "GRADER_END=1"
exit 7
"#;

fn build_initramfs(busybox: &Path) -> Vec<u8> {
    let mut c = Cpio::new();
    for d in ["bin", "dev", "proc", "sys", "tmp", "mnt", "data", "root"] {
        c.dir(d, 0o755);
    }
    c.chardev("dev/console", 0o600, 5, 1);
    c.chardev("dev/null", 0o666, 1, 3);
    let proctor = std::fs::read(PROCTOR).expect("read the proctor binary");
    c.file("init", 0o755, &proctor);
    let bb = std::fs::read(busybox).expect("read busybox");
    c.file("bin/busybox", 0o755, &bb);
    let list = Command::new(busybox)
        .arg("--list")
        .output()
        .expect("busybox --list");
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        let applet = applet.trim();
        if !applet.is_empty() && applet != "busybox" && !applet.contains('/') {
            c.symlink(&format!("bin/{applet}"), "busybox");
        }
    }
    c.file("grader.sh", 0o755, GRADER.as_bytes());
    c.file("data/hello.txt", 0o644, b"hello from the host\n");
    c.finish()
}

struct Boot {
    console: String,
    status: Option<i32>,
    elapsed: Duration,
    timed_out: bool,
}

fn boot(qemu: &Path, kernel: &Path, initrd: &Path, append: &str) -> Boot {
    let start = Instant::now();
    let mut child = Command::new(qemu)
        .args(["-accel", "tcg", "-m", "512", "-smp", "1"])
        .args(["-nographic", "-no-reboot", "-monitor", "none"])
        .arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(initrd)
        .arg("-append")
        .arg(append)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start qemu-system-x86_64");
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
        if start.elapsed() > BOOT_TIMEOUT {
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

fn value<'a>(console: &'a str, key: &str) -> Option<&'a str> {
    let prefix = format!("{key}=");
    console
        .lines()
        .find_map(|l| l.trim_end().strip_prefix(prefix.as_str()))
}

#[test]
fn proctor_as_init_of_a_qemu_vm() {
    let Some(qemu) = which("qemu-system-x86_64") else {
        skip!("qemu-system-x86_64 is not installed");
    };
    let kernel = target_dir().join("qemu/vmlinuz");
    if !kernel.is_file() {
        skip!("no cached kernel at {}", kernel.display());
    }
    let busybox = Path::new("/bin/busybox");
    if !busybox.is_file() {
        skip!("/bin/busybox (busybox-static) is not installed");
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let initrd = dir.path().join("initramfs.cpio");
    std::fs::write(&initrd, build_initramfs(busybox)).expect("write initramfs");

    // After the first `--` everything goes to /init; a second `--` would be
    // dropped by the kernel, so the command is simply the first argument
    // that does not start with `-`.
    let append = "console=ttyS0 panic=-1 quiet -- --poweroff -v \
                  --tmpfs /scratch --bind /data:/mnt/data \
                  --rlimit nofile=64 --user 1000:1000 --timeout 60 \
                  --report /dev/console /grader.sh";
    let b = boot(&qemu, &kernel, &initrd, append);
    let c = &b.console;
    eprintln!(
        "qemu: exit {:?} after {:.1} s{}",
        b.status,
        b.elapsed.as_secs_f64(),
        if b.timed_out { " (timed out)" } else { "" }
    );
    eprintln!("----- console -----\n{c}\n-------------------");

    assert!(
        !b.timed_out,
        "the VM did not power off within {BOOT_TIMEOUT:?}"
    );
    assert!(!c.contains("Kernel panic"), "kernel panic on the console");
    assert_eq!(b.status, Some(0), "qemu's exit status");
    assert!(
        c.contains("reboot: Power down"),
        "no power-off on the console"
    );
    assert_eq!(
        value(c, "GRADER_END"),
        Some("1"),
        "the grader did not finish"
    );

    // proctor is PID 1, the grader its child
    assert_eq!(value(c, "PPID"), Some("1"), "the grader's parent");
    let cmdline = value(c, "PID1_CMDLINE").unwrap_or_default();
    assert!(
        cmdline.starts_with("/init ") && cmdline.contains("--poweroff"),
        "PID 1 is not proctor: {cmdline:?}"
    );
    let pid: u32 = value(c, "PID").unwrap().parse().unwrap();
    assert!(pid > 1, "grader pid {pid}");

    // privilege drop visible in /proc/self/status
    assert_eq!(value(c, "STATUS_Uid"), Some("1000 1000 1000 1000"));
    assert_eq!(value(c, "STATUS_Gid"), Some("1000 1000 1000 1000"));
    assert_eq!(value(c, "STATUS_Groups"), Some(""));
    for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(
            value(c, &format!("STATUS_{cap}")),
            Some("0000000000000000"),
            "{cap}"
        );
    }
    assert_eq!(value(c, "STATUS_NoNewPrivs"), Some("1"));
    assert_eq!(value(c, "STATUS_Seccomp"), Some("2"));
    assert_eq!(value(c, "NOFILE"), Some("64"), "--rlimit nofile=64");

    // --tmpfs and --bind
    assert_eq!(value(c, "TMPFS_WRITE"), Some("ok"));
    let tm = value(c, "TMPFS_MOUNT").unwrap_or_default();
    assert!(
        tm.starts_with("tmpfs /scratch tmpfs ") && tm.contains("nosuid") && tm.contains("nodev"),
        "tmpfs mount: {tm:?}"
    );
    assert_eq!(value(c, "BIND_READ"), Some("hello from the host"));
    assert_eq!(value(c, "BIND_WRITE"), Some("refused"));
    let bm = value(c, "BIND_MOUNT").unwrap_or_default();
    let bm_opts = bm.split(' ').nth(3).unwrap_or_default();
    assert!(
        bm_opts.split(',').any(|o| o == "ro") && bm.contains("nosuid") && bm.contains("nodev"),
        "bind mount: {bm:?}"
    );

    let daemon = value(c, "DAEMON_SID").unwrap_or_default();
    assert!(
        !daemon.is_empty() && daemon != pid.to_string(),
        "the daemon did not get a session of its own: {daemon:?}"
    );

    // zombies reaped while the grader ran
    assert_eq!(value(c, "ZOMBIES"), Some("0"), "zombies seen by the grader");

    // --report /dev/console: a terminal, so written in place; the daemon the
    // grader left behind was killed
    let report_line = c
        .lines()
        .find(|l| l.trim_start().starts_with("{\"schema\""))
        .unwrap_or_else(|| panic!("no JSON report on the console"));
    let rep = parse_report(report_line.trim());
    assert_eq!(rep["status"], "exited", "{rep}");
    assert_eq!(rep["exit_code"], 7, "{rep}");
    assert!(
        rep["leftovers_killed"].as_u64().unwrap_or(0) >= 1,
        "the setsid daemon was not killed: {rep}"
    );

    // the exit status line carries the grader's code
    assert!(
        c.lines().any(|l| l.trim_end() == "proctor: exit status 7"),
        "no 'proctor: exit status 7' line on the console"
    );
}
