//! Hostile submissions: whatever a student puts in the submission directory
//! (symlinks out of it, hard links to secrets, FIFOs, device nodes, setuid
//! binaries, 100,000 files, names longer than PATH_MAX), the command sees
//! it read-only, nosuid and nodev through --bind, and proctor never walks it,
//! so none of it slows or blocks the setup.
mod common;
use common::*;

use std::ffi::CString;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::time::Duration;

const NOBODY: &str = "65534";

fn c(path: &Path) -> CString {
    CString::new(path.as_os_str().as_encoded_bytes()).unwrap()
}

/// A scratch directory that the unprivileged command may enter.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// A submission holding every kind of trap, next to a root-only secret.
fn hostile_submission(root: &Path) -> std::path::PathBuf {
    let sub = root.join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("solution.txt"), "42\n").unwrap();
    let secret = root.join("secret");
    std::fs::write(&secret, "root only\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    symlink("/etc/shadow", sub.join("shadow")).unwrap();
    symlink("../secret", sub.join("up")).unwrap();
    std::fs::hard_link(&secret, sub.join("hard")).unwrap();
    std::fs::copy("/usr/bin/id", sub.join("suid_id")).unwrap();
    std::fs::set_permissions(sub.join("suid_id"), std::fs::Permissions::from_mode(0o4755)).unwrap();
    // SAFETY: plain mknod/mkfifo calls with NUL-terminated paths.
    unsafe {
        assert_eq!(libc::mkfifo(c(&sub.join("fifo")).as_ptr(), 0o666), 0);
        let null = libc::makedev(1, 3);
        let node = c(&sub.join("null"));
        assert_eq!(libc::mknod(node.as_ptr(), libc::S_IFCHR | 0o666, null), 0);
        let disk = c(&sub.join("disk"));
        let sda = libc::makedev(8, 0);
        assert_eq!(libc::mknod(disk.as_ptr(), libc::S_IFBLK | 0o666, sda), 0);
    }
    sub
}

/// Each line is `name=yes` or `name=no`, from the command's own view.
const PROBE: &str = r#"
d=$1
t() { if eval "$2" >/dev/null 2>&1; then echo "$1=yes"; else echo "$1=no"; fi; }
t read_solution "cat $d/solution.txt"
t create "touch $d/new"
t write_solution "echo x >> $d/solution.txt"
t shadow "cat $d/shadow"
t up "cat $d/up"
t hard "cat $d/hard"
t null "echo x > $d/null"
t disk "head -c1 $d/disk"
t fifo "test -p $d/fifo"
echo "suid_euid=$($d/suid_id -u)"
echo "mount=$(awk -v d="$d" '$5 == d { print $6 }' /proc/self/mountinfo)"
exit 7
"#;

#[test]
fn the_command_sees_a_read_only_nosuid_nodev_submission() {
    skip_unless!(ready());
    let root = scratch();
    let sub = hostile_submission(root.path());
    let dst = root.path().join("view");
    let bind = format!("{}:{}", sub.display(), dst.display());
    let d = dst.to_str().unwrap();
    for mode in MODES {
        let out = run(
            mode,
            &[
                "--bind", &bind, "--user", NOBODY, "sh", "-c", PROBE, "probe", d,
            ],
        );
        assert_eq!(code(&out), 7, "{mode:?}: {}", stderr(&out));
        let seen = stdout(&out);
        for expected in [
            "read_solution=yes",
            "create=no",
            "write_solution=no",
            // The link is followed inside the command's own view, where it
            // points at a file that the unprivileged user cannot read.
            "shadow=no",
            "up=no",
            "hard=no",
            "null=no", // nodev: even a harmless device cannot be opened
            "disk=no",
            "fifo=yes",
            "suid_euid=65534",
        ] {
            assert!(
                seen.lines().any(|l| l == expected),
                "{mode:?}: {expected} in\n{seen}"
            );
        }
        let opts = status_line(&seen.replace('=', ":"), "mount").unwrap();
        for flag in ["ro", "nosuid", "nodev"] {
            assert!(
                opts.split(',').any(|o| o == flag),
                "{mode:?}: {flag} in {opts}"
            );
        }
    }
}

/// Create `count` empty files and a chain of directories whose whole path is
/// longer than PATH_MAX (only reachable step by step, with *at calls).
fn huge_submission(sub: &Path, count: usize) {
    let many = sub.join("many");
    std::fs::create_dir(&many).unwrap();
    for i in 0..count {
        std::fs::File::create(many.join(format!("f{i}"))).unwrap();
    }
    let long = "n".repeat(255);
    let name = CString::new(long.clone()).unwrap();
    // SAFETY: openat/mkdirat/close with valid NUL-terminated names and our own fds.
    unsafe {
        let mut dir = libc::open(c(sub).as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
        assert!(dir >= 0);
        for _ in 0..20 {
            assert_eq!(libc::mkdirat(dir, name.as_ptr(), 0o755), 0);
            let next = libc::openat(dir, name.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
            libc::close(dir);
            assert!(next >= 0);
            dir = next;
        }
        let fd = libc::openat(dir, name.as_ptr(), libc::O_CREAT | libc::O_WRONLY, 0o644);
        assert!(fd >= 0);
        libc::close(fd);
        libc::close(dir);
    }
}

#[test]
fn proctor_never_walks_the_submission() {
    skip_unless!(
        ready(),
        tool("strace", "shows which directories proctor reads")
    );
    let root = scratch();
    let sub = root.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    huge_submission(&sub, 100_000);
    let dst = root.path().join("view");
    let bind = format!("{}:{}", sub.display(), dst.display());
    let count = format!("ls {}/many | wc -l; exit 4", dst.display());
    for mode in MODES {
        let trace = root.path().join(format!("trace-{mode:?}"));
        // -D keeps proctor in its place (PID 1 or the subreaper); only proctor
        // is traced, not the command, which may read the submission as it likes.
        let strace: Vec<&std::ffi::OsStr> = vec![
            "strace".as_ref(),
            "-D".as_ref(),
            "-y".as_ref(),
            "-e".as_ref(),
            "trace=getdents64,getdents,openat,openat2,open_tree".as_ref(),
            "-o".as_ref(),
            trace.as_os_str(),
        ];
        let cmd = wrapped(mode, &strace, &["--bind", &bind, "sh", "-c", &count]);
        let out = run_cmd(cmd, Duration::from_secs(120));
        assert_eq!(code(&out), 4, "{mode:?}: {}", stderr(&out));
        assert_eq!(stdout(&out).trim(), "100000", "{mode:?}");
        let trace = std::fs::read_to_string(&trace).unwrap();
        let sub_path = sub.to_str().unwrap();
        assert!(
            trace.contains(&format!("\"{sub_path}\"")),
            "{mode:?}: the setup was traced:\n{trace}"
        );
        let listed: Vec<&str> = trace
            .lines()
            .filter(|l| l.starts_with("getdents") && l.contains(sub_path))
            .collect();
        assert!(
            listed.is_empty(),
            "{mode:?}: proctor listed the submission: {listed:?}"
        );
        // proctor opens the submission itself once or twice (to bind it), nothing inside.
        let inside = format!("{sub_path}/");
        let opened: Vec<&str> = trace.lines().filter(|l| l.contains(&inside)).collect();
        assert!(
            opened.is_empty(),
            "{mode:?}: proctor opened inside the submission: {opened:?}"
        );
    }
}
