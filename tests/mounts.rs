//! `--bind`, `--tmpfs`, `--ro`: what the command sees, what it may do, what
//! leaks (nothing), what is refused (symbolic links, malformed values), and
//! the classic-mount fallback, forced by the fault harness of tests/common
//! (a seccomp filter installed around proctor, not by it) that makes the new
//! mount calls fail.
mod common;
use common::fault;
use common::*;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The kernel as proctor sees it: complete; with the new mount calls
/// refused the way an old kernel (ENOSYS) or a seccomp profile (EPERM)
/// refuses them; or as under Docker 20.10's profile, which predates
/// `mount_setattr` alone.
#[derive(Clone, Copy, Debug)]
enum Kernel {
    Full,
    Old(i32),
    Docker2010,
}

const KERNELS: [Kernel; 4] = [
    Kernel::Full,
    Kernel::Old(libc::ENOSYS),
    Kernel::Old(libc::EPERM),
    Kernel::Docker2010,
];

fn proctor_cmd(mode: Mode, kernel: Kernel, args: &[&str]) -> Command {
    let faults = match kernel {
        Kernel::Full => vec![],
        Kernel::Old(errno) => fault::fail_all(&fault::NEW_MOUNT_API, errno),
        Kernel::Docker2010 => vec![fault::fail(libc::SYS_mount_setattr, libc::EPERM)],
    };
    fault::command(mode, &faults, args)
}

fn run_in(mode: Mode, kernel: Kernel, args: &[&str]) -> Output {
    run_cmd(proctor_cmd(mode, kernel, args), Duration::from_secs(60))
}

/// The test's own mount table, without the mounts of the shared Docker
/// daemon's containers, which come and go while the tests run.
fn mountinfo() -> String {
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| {
            let point = l.split(' ').nth(4).unwrap_or_default();
            !point.starts_with("/run/docker/") && !point.starts_with("/var/lib/docker/")
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The command's mountinfo line whose mount point is `point`.
fn line_for<'a>(info: &'a str, point: &Path) -> Option<&'a str> {
    let point = point.to_str().unwrap();
    info.lines().rfind(|l| l.split(' ').nth(4) == Some(point))
}

/// The per-mount options (sixth field) of a mountinfo line.
fn options(line: &str) -> Vec<&str> {
    line.split(' ').nth(5).unwrap().split(',').collect()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A scratch tree with a source directory holding a file and a script.
struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    fn new() -> Tree {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        fs::create_dir(&src).unwrap();
        fs::write(src.join("file"), "submission\n").unwrap();
        fs::write(src.join("run.sh"), "#!/bin/sh\necho ran\n").unwrap();
        fs::set_permissions(src.join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        Tree { dir }
    }
    fn path(&self, rel: &str) -> std::path::PathBuf {
        self.dir.path().join(rel)
    }
}

/// Runs `script` under proctor with `opts`; checks that the parent's mount table is unchanged.
fn sandboxed(mode: Mode, kernel: Kernel, opts: &[&str], script: &str) -> Output {
    let before = mountinfo();
    let mut args: Vec<&str> = opts.to_vec();
    args.extend(["--", "sh", "-c", script]);
    let out = run_in(mode, kernel, &args);
    assert_eq!(
        before,
        mountinfo(),
        "a mount leaked into the parent namespace"
    );
    out
}

#[test]
fn ro_bind_reads_refuses_writes_and_shows_flags() {
    skip_unless!(ready());
    for kernel in KERNELS {
        for mode in MODES {
            let t = Tree::new();
            let dst = t.path("grader/submission");
            let bind = format!("{}:{}", s(&t.path("src")), s(&dst));
            let script = format!(
                "cat {d}/file; echo x > {d}/new || echo WRITE-REFUSED; cat /proc/self/mountinfo",
                d = s(&dst)
            );
            let out = sandboxed(mode, kernel, &["-v", "--bind", &bind], &script);
            let ctx = format!("{kernel:?} {mode:?}: {}", stderr(&out));
            assert_eq!(code(&out), 0, "{ctx}");
            let fell_back = stderr(&out).contains("falling back to classic mount(2)");
            assert_eq!(fell_back, !matches!(kernel, Kernel::Full), "{ctx}");
            let so = stdout(&out);
            assert!(so.starts_with("submission\n"), "{ctx}");
            assert!(so.contains("WRITE-REFUSED"), "{ctx}");
            assert!(stderr(&out).contains("Read-only file system"), "{ctx}");
            let opts = options(line_for(&so, &dst).expect("the bind in mountinfo"));
            for o in ["ro", "nosuid", "nodev"] {
                assert!(opts.contains(&o), "{ctx}: {opts:?}");
            }
            assert!(!opts.contains(&"noexec"), "{ctx}: {opts:?}");
            assert!(!t.path("src/new").exists());
            // The mountpoint was created as a directory, and stays.
            assert!(dst.is_dir());
        }
    }
}

#[test]
fn rw_and_noexec_binds() {
    skip_unless!(ready());
    for kernel in KERNELS {
        let t = Tree::new();
        let dst = t.path("dst");
        fs::create_dir(&dst).unwrap();
        let bind = format!("{}:{}:rw,noexec", s(&t.path("src")), s(&dst));
        let script = format!(
            "echo written > {d}/new; {d}/run.sh; echo exec=$?; cat /proc/self/mountinfo",
            d = s(&dst)
        );
        let out = sandboxed(Mode::Pid1, kernel, &["--bind", &bind], &script);
        let ctx = format!("{kernel:?}: {}", stderr(&out));
        assert_eq!(code(&out), 0, "{ctx}");
        let so = stdout(&out);
        // sh reports 126 for a file it may not execute (EACCES from noexec).
        assert!(so.contains("exec=126"), "{ctx}: {so}");
        assert!(!so.contains("ran"), "{ctx}");
        assert_eq!(fs::read_to_string(t.path("src/new")).unwrap(), "written\n");
        let opts = options(line_for(&so, &dst).unwrap());
        for o in ["rw", "nosuid", "nodev", "noexec"] {
            assert!(opts.contains(&o), "{ctx}: {opts:?}");
        }
    }
}

#[test]
fn bind_of_a_file_creates_an_empty_file() {
    skip_unless!(ready());
    for kernel in KERNELS {
        let t = Tree::new();
        let dst = t.path("made/here/answer.txt");
        let bind = format!("{}:{}", s(&t.path("src/file")), s(&dst));
        // A strict umask must not make the created directories unreadable.
        let mut cmd = proctor_cmd(Mode::Pid1, kernel, &["--bind", &bind, "--", "cat", s(&dst)]);
        // SAFETY: umask is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::umask(0o077);
                Ok(())
            })
        };
        let out = run_cmd(cmd, Duration::from_secs(60));
        assert_eq!(code(&out), 0, "{kernel:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "submission\n");
        assert!(dst.is_file());
        assert_eq!(
            fs::metadata(&dst).unwrap().len(),
            0,
            "left empty underneath"
        );
        let mode = fs::metadata(t.path("made/here"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o755, "{kernel:?}");
    }
}

#[test]
fn tmpfs_size_mode_and_flags() {
    skip_unless!(ready());
    for kernel in KERNELS {
        for mode in MODES {
            let t = Tree::new();
            let dst = t.path("scratch");
            let tmpfs = format!("{}:size=1m,mode=710,noexec", s(&dst));
            let script = format!(
                "dd if=/dev/zero of={d}/big bs=1k count=2048 2>&1; stat -c mode=%a {d}; cat /proc/self/mountinfo",
                d = s(&dst)
            );
            let out = sandboxed(mode, kernel, &["--tmpfs", &tmpfs], &script);
            let ctx = format!("{kernel:?} {mode:?}: {}", stderr(&out));
            assert_eq!(code(&out), 0, "{ctx}");
            let so = stdout(&out);
            assert!(so.contains("No space left on device"), "{ctx}: {so}");
            assert!(so.contains("mode=710\n"), "{ctx}: {so}");
            let line = line_for(&so, &dst).unwrap();
            assert!(line.contains(" - tmpfs "), "{line}");
            for o in ["rw", "nosuid", "nodev", "noexec"] {
                assert!(options(line).contains(&o), "{ctx}: {line}");
            }
            assert!(
                fs::read_dir(&dst).unwrap().next().is_none(),
                "tmpfs content leaked"
            );
        }
    }
}

#[test]
fn ro_of_an_existing_tree_with_a_mount_below() {
    skip_unless!(ready());
    for kernel in KERNELS {
        let t = Tree::new();
        let tree = t.path("tree");
        fs::create_dir_all(tree.join("deep/er")).unwrap();
        let inner = tree.join("inner");
        let tmpfs = format!("{}:size=1m", s(&inner));
        let script = format!(
            "touch {d}/deep/er/x || echo TREE-RO; touch {d}/inner/x || echo INNER-RO; touch {o}/ok && echo OUTSIDE-RW",
            d = s(&tree),
            o = s(t.dir.path())
        );
        let out = sandboxed(
            Mode::Pid1,
            kernel,
            &["--tmpfs", &tmpfs, "--ro", s(&tree)],
            &script,
        );
        let ctx = format!("{kernel:?}: {}", stderr(&out));
        assert_eq!(code(&out), 0, "{ctx}");
        assert_eq!(stdout(&out), "TREE-RO\nINNER-RO\nOUTSIDE-RW\n", "{ctx}");
        assert!(!tree.join("deep/er/x").exists());
        fs::remove_file(t.path("ok")).unwrap();
    }
}

#[test]
fn ro_root_then_bind_into_a_missing_directory() {
    skip_unless!(ready());
    for kernel in KERNELS {
        for mode in MODES {
            let t = Tree::new();
            let dst = t.path("not/yet/there");
            let bind = format!("{}:{}", s(&t.path("src")), s(&dst));
            let script = format!(
                "cat {d}/file; touch {o}/x || echo ROOT-RO; echo hi > /dev/null && echo DEVNULL-OK; grep -c ' / / ro,' /proc/self/mountinfo",
                d = s(&dst),
                o = s(t.dir.path())
            );
            let out = sandboxed(mode, kernel, &["--ro", "/", "--bind", &bind], &script);
            let ctx = format!("{kernel:?} {mode:?}: {}", stderr(&out));
            assert_eq!(code(&out), 0, "{ctx}");
            assert_eq!(
                stdout(&out),
                "submission\nROOT-RO\nDEVNULL-OK\n1\n",
                "{ctx}"
            );
            assert!(dst.is_dir());
        }
    }
}

#[test]
fn bind_below_an_earlier_tmpfs_is_made_inside_it() {
    skip_unless!(ready());
    for kernel in KERNELS {
        let t = Tree::new();
        let top = t.path("top");
        fs::create_dir(&top).unwrap();
        let tmpfs = format!("{}:size=1m", s(&top));
        let bind = format!("{}:{}/sub/mnt", s(&t.path("src")), s(&top));
        let out = sandboxed(
            Mode::Pid1,
            kernel,
            &["--tmpfs", &tmpfs, "--bind", &bind],
            &format!("cat {}/sub/mnt/file", s(&top)),
        );
        assert_eq!(code(&out), 0, "{kernel:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "submission\n");
        assert!(!top.join("sub").exists(), "created beneath the tmpfs");
    }
}

/// A refused mount: exit 125, the message names `named`, the command never
/// ran, and nothing was created through the link.
fn assert_link_refused(out: &Output, named: &Path, marker: &Path, ctx: &str) {
    eprintln!("case: {ctx}");
    assert_refused(out, 125, &[s(named), "symbolic link"]);
    assert!(!marker.exists(), "{ctx}: the command ran");
}

#[test]
fn symbolic_links_are_refused() {
    skip_unless!(ready());
    for kernel in KERNELS {
        for mode in MODES {
            let t = Tree::new();
            let outside = t.path("outside");
            fs::create_dir(&outside).unwrap();
            symlink(t.path("src"), t.path("src-link")).unwrap();
            symlink(&outside, t.path("dir-link")).unwrap();
            fs::create_dir(t.path("real")).unwrap();
            symlink(t.path("real"), t.path("mid")).unwrap();
            let marker = t.path("ran");
            let touch = format!("touch {}", s(&marker));
            let src = s(&t.path("src")).to_string();
            let cases = [
                // symlinked SRC
                (
                    format!("{}:{}", s(&t.path("src-link")), s(&t.path("d1"))),
                    t.path("src-link"),
                ),
                // symlinked DST
                (
                    format!("{src}:{}", s(&t.path("dir-link"))),
                    t.path("dir-link"),
                ),
                // a symlink in the middle of DST, with something to create below it
                (
                    format!("{src}:{}/new/dir", s(&t.path("mid"))),
                    t.path("mid"),
                ),
                // a symlink in the middle of SRC
                (
                    format!("{}/file:{}", s(&t.path("src-link")), s(&t.path("d2"))),
                    t.path("src-link"),
                ),
            ];
            for (bind, named) in &cases {
                let ctx = format!("{kernel:?} {mode:?} --bind {bind}");
                let out = sandboxed(mode, kernel, &["--bind", bind], &touch);
                assert_link_refused(&out, named, &marker, &ctx);
            }
            let tmpfs = format!("{}/t", s(&t.path("mid")));
            let out = sandboxed(mode, kernel, &["--tmpfs", &tmpfs], &touch);
            assert_link_refused(
                &out,
                &t.path("mid"),
                &marker,
                &format!("{kernel:?} --tmpfs"),
            );
            let out = sandboxed(mode, kernel, &["--ro", s(&t.path("dir-link"))], &touch);
            assert_link_refused(
                &out,
                &t.path("dir-link"),
                &marker,
                &format!("{kernel:?} --ro"),
            );
            assert!(
                fs::read_dir(&outside).unwrap().next().is_none(),
                "created through a link"
            );
            assert!(
                fs::read_dir(t.path("real")).unwrap().next().is_none(),
                "created through a link"
            );
            assert!(
                !t.path("d1").exists(),
                "mountpoint created for a refused bind"
            );
        }
    }
}

#[test]
fn missing_source_and_failures_name_step_path_errno() {
    skip_unless!(ready());
    let t = Tree::new();
    let marker = t.path("ran");
    let touch = format!("touch {}", s(&marker));
    let missing = t.path("nothing");
    let bind = format!("{}:{}", s(&missing), s(&t.path("dst")));
    let out = sandboxed(Mode::Pid1, Kernel::Full, &["--bind", &bind], &touch);
    assert_eq!(code(&out), 125);
    assert_eq!(
        stderr(&out),
        format!("proctor: --bind: {}: ENOENT\n", s(&missing))
    );
    assert!(!marker.exists());
    // With --report: status setup_error and the same message.
    let rep = t.path("report.json");
    let out = sandboxed(
        Mode::Subreaper,
        Kernel::Full,
        &["--report", s(&rep), "--bind", &bind],
        &touch,
    );
    assert_eq!(code(&out), 125);
    let r = report(&rep);
    assert_eq!(r["status"], "setup_error", "{r}");
    assert_eq!(
        r["message"],
        format!("--bind: {}: ENOENT", s(&missing)),
        "{r}"
    );
    let out = sandboxed(Mode::Pid1, Kernel::Full, &["--ro", s(&missing)], &touch);
    assert_eq!(
        stderr(&out),
        format!("proctor: --ro: {}: ENOENT\n", s(&missing))
    );
    // A file where a directory is needed.
    let below = format!("{}/file/x", s(&t.path("src")));
    let out = sandboxed(Mode::Pid1, Kernel::Full, &["--tmpfs", &below], &touch);
    assert_eq!(code(&out), 125);
    assert!(stderr(&out).contains("ENOTDIR"), "{}", stderr(&out));
    assert!(!marker.exists());
}

#[test]
fn malformed_values_are_refused_without_side_effects() {
    skip_unless!(ready());
    let t = Tree::new();
    let marker = t.path("ran");
    let touch = format!("touch {}", s(&marker));
    let src = s(&t.path("src")).to_string();
    let d = s(&t.path("dst")).to_string();
    let cases: Vec<(&str, String)> = vec![
        ("--bind", String::new()),
        ("--bind", src.clone()),
        ("--bind", format!("relative:{d}")),
        ("--bind", format!("{src}:relative")),
        ("--bind", format!("{src}:{d}:bogus")),
        ("--bind", format!("{src}:{d}:ro,rw")),
        ("--bind", format!("{src}:{d}:ro,")),
        ("--bind", format!("{src}/../src:{d}")),
        ("--bind", format!("{src}:{d}/..")),
        ("--bind", format!("{src}:/")),
        ("--tmpfs", String::new()),
        ("--tmpfs", "relative".into()),
        ("--tmpfs", format!("{d}:size=abc")),
        ("--tmpfs", format!("{d}:size=0")),
        ("--tmpfs", format!("{d}:size=-1")),
        ("--tmpfs", format!("{d}:size=99999999999t")),
        ("--tmpfs", format!("{d}:mode=8")),
        ("--tmpfs", format!("{d}:mode=77777")),
        ("--tmpfs", format!("{d}:bogus")),
        ("--tmpfs", "/".into()),
        ("--ro", String::new()),
        ("--ro", "relative".into()),
        ("--ro", format!("{d}/../x")),
    ];
    let before = mountinfo();
    for (opt, value) in &cases {
        let out = run_in(
            Mode::Pid1,
            Kernel::Full,
            &[opt, value, "--", "sh", "-c", &touch],
        );
        eprintln!("case: {opt} {value:?}");
        assert_refused(&out, 125, &[opt.trim_start_matches('-')]);
        assert!(!marker.exists(), "{opt} {value:?}: the command ran");
        assert!(
            !t.path("dst").exists(),
            "{opt} {value:?}: created a mountpoint"
        );
    }
    // A missing value at the end of the options.
    for opt in ["--bind", "--tmpfs", "--ro"] {
        let out = run_in(Mode::Pid1, Kernel::Full, &[opt]);
        assert_eq!(code(&out), 125, "{opt}: {}", stderr(&out));
    }
    assert_eq!(before, mountinfo());
}

/// Another thread keeps exchanging a directory on the way to DST with a
/// symbolic link to a directory outside while proctor resolves, creates and
/// mounts: every run either mounts into the intended directory or is
/// refused, and nothing ever lands or is created outside.
#[test]
fn swapping_a_component_never_mounts_outside() {
    skip_unless!(ready());
    for kernel in [Kernel::Full, Kernel::Old(libc::ENOSYS)] {
        // A directory in the middle of DST, with a mountpoint to create below it.
        race(kernel, "c", "c/mnt/sub", 200);
        // DST itself.
        race(kernel, "c/mnt", "c/mnt", 100);
    }
}

/// Bind the source at `base/dst` while `base/swapped` keeps trading places
/// with a link to the outside directory (named like it, so both paths work).
fn race(kernel: Kernel, swapped: &str, dst: &str, rounds: usize) {
    let t = Tree::new();
    let base = t.path("base");
    let outside = t.path("outside");
    fs::create_dir_all(base.join("c/mnt")).unwrap();
    fs::create_dir_all(outside.join("mnt")).unwrap();
    let link_target = if swapped == "c" {
        outside.clone()
    } else {
        outside.join("mnt")
    };
    let (real, link) = (base.join(swapped), base.join(format!("{swapped}.alt")));
    symlink(&link_target, &link).unwrap();
    let bind = format!("{}:{}", s(&t.path("src")), s(&base.join(dst)));
    let script = format!(
        "find {o} -name file | grep -q . && echo LEAK; awk '$4 == \"{src}\" {{ print \"AT \" $5 }}' /proc/self/mountinfo",
        o = s(&outside),
        src = s(&t.path("src"))
    );
    // Where the intended directory may be while it moves back and forth.
    let good: Vec<String> = [real.clone(), link.clone()]
        .iter()
        .map(|p| s(p).to_string() + &s(&base.join(dst))[s(&real).len()..])
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let stop = stop.clone();
        let (a, b) = (
            std::ffi::CString::new(s(&real)).unwrap(),
            std::ffi::CString::new(s(&link)).unwrap(),
        );
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // SAFETY: both paths are valid C strings.
                let r = unsafe {
                    libc::renameat2(
                        libc::AT_FDCWD,
                        a.as_ptr(),
                        libc::AT_FDCWD,
                        b.as_ptr(),
                        libc::RENAME_EXCHANGE,
                    )
                };
                assert_eq!(r, 0, "{}", std::io::Error::last_os_error());
                swaps += 1;
            }
            swaps
        })
    };
    let (mut mounted, mut refused) = (0, 0);
    for round in 0..rounds {
        let out = run_in(
            Mode::Pid1,
            kernel,
            &["--bind", &bind, "--", "sh", "-c", &script],
        );
        let (so, se) = (stdout(&out), stderr(&out));
        let ctx = format!("{kernel:?} {swapped} round {round}: {so} {se}");
        assert!(!so.contains("LEAK"), "{ctx}");
        match code(&out) {
            0 => {
                let at = so.lines().find_map(|l| l.strip_prefix("AT ")).expect(&ctx);
                assert!(good.iter().any(|g| g == at), "{ctx}: {good:?}");
                mounted += 1;
            }
            125 => {
                let named = se.contains("symbolic link") || se.contains("replaced while");
                assert!(named, "{ctx}");
                refused += 1;
            }
            other => panic!("{ctx}: exit {other}"),
        }
        let found: Vec<_> = fs::read_dir(outside.join("mnt")).unwrap().collect();
        assert!(found.is_empty(), "{ctx}: created outside: {found:?}");
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    eprintln!("{kernel:?} {swapped}: {mounted} mounted, {refused} refused, {swaps} swaps");
    assert!(swaps > rounds as u64, "the swapper hardly ran");
}

#[test]
fn without_cap_sys_admin_the_message_says_so() {
    skip_unless!(
        ready(),
        tool("setpriv", "runs proctor without capabilities")
    );
    let t = Tree::new();
    let marker = t.path("ran");
    let bind = format!("{}:{}", s(&t.path("src")), s(&t.path("dst")));
    // As tests/common does, in a throwaway PID namespace; setpriv execs
    // proctor as an unprivileged PID 1 there.
    let mut cmd = throwaway_pid_namespace();
    cmd.args([
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ])
    .arg(proctor())
    .args(["--bind", &bind, "--", "touch", s(&marker)]);
    let out = run_cmd(cmd, Duration::from_secs(60));
    let err = stderr(&out);
    assert_eq!(code(&out), 125, "{err}");
    assert!(
        err.contains("CAP_SYS_ADMIN") && err.contains("EPERM"),
        "{err}"
    );
    assert!(!marker.exists() && !t.path("dst").exists());
}

#[test]
fn the_working_directory_is_looked_up_after_the_mounts() {
    skip_unless!(ready());
    for kernel in [Kernel::Full, Kernel::Old(libc::ENOSYS)] {
        let t = Tree::new();
        let work = t.path("work");
        fs::create_dir(&work).unwrap();
        fs::write(work.join("underneath"), "").unwrap();
        let tmpfs = format!("{}:size=1m", s(&work));
        let mut cmd = proctor_cmd(
            Mode::Pid1,
            kernel,
            &[
                "--tmpfs",
                &tmpfs,
                "--",
                "sh",
                "-c",
                "pwd; ls -A; touch mine",
            ],
        );
        cmd.current_dir(&work);
        let out = run_cmd(cmd, Duration::from_secs(60));
        assert_eq!(code(&out), 0, "{kernel:?}: {}", stderr(&out));
        // The command sees the fresh tmpfs, not the directory below it.
        assert_eq!(stdout(&out), format!("{}\n", s(&work)), "{kernel:?}");
        assert!(!work.join("mine").exists());
    }
}
