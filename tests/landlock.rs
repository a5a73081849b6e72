//! `--landlock`, `--writable`, `--no-tcp` (issue 19): a sandbox without
//! privileges. Every run is proctor as uid 1000 without any capability
//! (`setpriv`), as PID 1 of a throwaway PID namespace and as a subreaper,
//! except the one that shows Landlock next to the privileged options.
//! A run without the options beside each check shows that the refusal
//! comes from Landlock, not from the files' modes.
mod common;
mod vmkit;
use common::*;

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

fn run_1000(mode: Mode, args: &[&str]) -> Output {
    let wrapper: Vec<&OsStr> = AS_UID_1000.iter().map(OsStr::new).collect();
    run_cmd(wrapped(mode, &wrapper, args), Duration::from_secs(60))
}

/// setpriv(1), which runs proctor as uid 1000 without capabilities.
fn setpriv() -> Result<(), String> {
    tool(
        "setpriv",
        "drops uid and capabilities before proctor starts",
    )
}

/// Debian's Python, for errno-exact checks of single system calls.
fn python() -> &'static str {
    "/usr/bin/python3"
}

fn have_python() -> Result<(), String> {
    if Path::new(python()).exists() {
        return Ok(());
    }
    Err("/usr/bin/python3 (errno-exact system-call checks) is missing".into())
}

/// The kernel's Landlock ABI (0 without Landlock).
fn abi() -> i64 {
    // SAFETY: LANDLOCK_CREATE_RULESET_VERSION reads no attribute.
    unsafe { libc::syscall(libc::SYS_landlock_create_ruleset, 0usize, 0usize, 1u32) }.max(0)
}

/// A scratch tree owned by uid 1000: `w` (to be --writable) and `o`
/// (outside it), both writable by uid 1000 as far as file modes go.
fn tree() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    for sub in ["w", "w/a", "w/b", "o"] {
        std::fs::create_dir(d.path().join(sub)).unwrap();
    }
    for f in ["o/existing", "w/a/f", "w/a/g", "w/a/k", "o/h"] {
        std::fs::write(d.path().join(f), "data\n").unwrap();
    }
    chown_1000(d.path());
    d
}

fn chown_1000(p: &Path) {
    let ok = std::process::Command::new("chown")
        .args(["-R", "1000:1000"])
        .arg(p)
        .status()
        .unwrap()
        .success();
    assert!(ok, "chown -R 1000:1000 {}", p.display());
}

/// `KEY=VALUE` lines of a probe's output.
fn value<'a>(out: &'a str, key: &str) -> Option<&'a str> {
    out.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
}

/// Each `(KEY, VALUE)` is a `KEY=VALUE` line of `text`.
fn assert_values(text: &str, expected: &[(&str, &str)], context: &str) {
    for &(key, want) in expected {
        assert_eq!(value(text, key), Some(want), "{context} {key}:\n{text}");
    }
}

/// Python's `t(NAME, f)`: prints `NAME=ok`, or `NAME=ERRNO` when `f` raises.
const PY_TRY: &str = r#"
import errno, os, socket
def t(name, f):
    try:
        f(); print(name + "=ok")
    except OSError as e:
        print(name + "=" + errno.errorcode[e.errno])
"#;

/// Run `argv` as uid 1000 in a fresh [`tree`] (its working directory),
/// with `--landlock --writable w` or without; the tree and the output.
fn in_tree(mode: Mode, landlock: bool, argv: &[&str]) -> (tempfile::TempDir, String) {
    let d = tree();
    let root = d.path().to_str().unwrap();
    let w = format!("{root}/w");
    let mut args = vec!["--chdir", root];
    if landlock {
        args.extend(["--landlock", "--writable", &w]);
    }
    args.extend(argv);
    let out = run_1000(mode, &args);
    assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
    let text = stdout(&out);
    (d, text)
}

#[test]
fn writes_only_under_writable_paths_and_devices() {
    skip_unless!(ready(), setpriv());
    let probe = r#"
try() { name=$1; shift; if err=$( ("$@") 2>&1 ); then echo "$name=ok"; else echo "$name=${err##*: }"; fi; }
try IN sh -c 'echo in > w/new'
try MKDIR_IN mkdir w/dir
try OUT sh -c 'echo out > o/new'
try TRUNC_OUT sh -c ': > o/existing'
try APPEND_OUT sh -c 'echo more >> o/existing'
try RM_OUT rm o/h
try MKDIR_OUT mkdir o/dir
try SYMLINK_OUT ln -s x o/sym
try FIFO_OUT mkfifo o/fifo
try NULL sh -c 'echo x > /dev/null'
try FULL sh -c 'exec 3>/dev/full'
try READ cat /etc/passwd
try LIST ls /
"#;
    for mode in MODES {
        for landlock in [true, false] {
            let (d, text) = in_tree(mode, landlock, &["sh", "-c", probe]);
            let denied = if landlock { "Permission denied" } else { "ok" };
            let expected = [
                ("IN", "ok"),
                ("MKDIR_IN", "ok"),
                ("OUT", denied),
                ("TRUNC_OUT", denied),
                ("APPEND_OUT", denied),
                ("RM_OUT", denied),
                ("MKDIR_OUT", denied),
                ("SYMLINK_OUT", denied),
                ("FIFO_OUT", denied),
                ("NULL", "ok"),
                ("FULL", "ok"),
                ("READ", "ok"),
                ("LIST", "ok"),
            ];
            assert_values(&text, &expected, &format!("{mode:?} landlock={landlock}"));
            let existing = std::fs::read_to_string(d.path().join("o/existing")).unwrap();
            assert_eq!(existing == "data\n", landlock, "{mode:?}: o/existing");
            assert_eq!(d.path().join("o/new").exists(), !landlock, "{mode:?}");
            assert!(d.path().join("w/new").exists(), "{mode:?}");
        }
    }
}

/// The REFER right (ABI 2): a file moves or links freely inside the
/// writable tree, but never out of it into a read-only directory, and a
/// read-only file never gets a writable name by a hard link.
#[test]
fn rename_and_link_across_the_writable_boundary() {
    skip_unless!(ready(), setpriv(), have_python());
    if abi() < 2 {
        skip!("Landlock ABI 2 (REFER)");
    }
    let probe = r#"
t("RENAME_INSIDE", lambda: os.rename("w/a/f", "w/b/f"))
t("RENAME_OUT", lambda: os.rename("w/a/g", "o/g"))
t("LINK_OUT", lambda: os.link("w/a/k", "o/k"))
t("LINK_IN", lambda: os.link("o/h", "w/h"))
t("RENAME_IN", lambda: os.rename("o/h", "w/h2"))
"#;
    let probe = format!("{PY_TRY}{probe}");
    for mode in MODES {
        for landlock in [true, false] {
            let (d, text) = in_tree(mode, landlock, &[python(), "-c", &probe]);
            let expect = |denied| if landlock { denied } else { "ok" };
            let expected = [
                ("RENAME_INSIDE", "ok"),
                ("RENAME_OUT", expect("EACCES")),
                ("LINK_OUT", expect("EACCES")),
                // A hard link would give the read-only file a writable name.
                ("LINK_IN", expect("EXDEV")),
                ("RENAME_IN", expect("EACCES")),
            ];
            assert_values(&text, &expected, &format!("{mode:?} landlock={landlock}"));
            if landlock {
                assert!(d.path().join("o/h").exists() && !d.path().join("w/h").exists());
                assert!(!d.path().join("o/g").exists() && !d.path().join("o/k").exists());
            }
        }
    }
}

#[test]
fn executes_from_anywhere() {
    skip_unless!(ready(), setpriv());
    for mode in MODES {
        let d = tree();
        let root = d.path();
        for (f, code) in [("o/prog", 7), ("w/prog", 8)] {
            let p = root.join(f);
            std::fs::write(&p, format!("#!/bin/sh\nexit {code}\n")).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::copy("/bin/echo", root.join("o/echo")).unwrap();
        chown_1000(root);
        let (r, w) = (root.to_str().unwrap(), format!("{}/w", root.display()));
        let script = format!("{r}/o/prog; a=$?; {r}/w/prog; b=$?; {r}/o/echo copied; echo $a $b");
        let out = run_1000(mode, &["--landlock", "--writable", &w, "sh", "-c", &script]);
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "copied\n7 8\n", "{mode:?}");
        // The command itself, from outside the writable tree.
        let prog = format!("{r}/o/prog");
        let out = run_1000(mode, &["--landlock", "--writable", &w, &prog]);
        assert_eq!(code(&out), 7, "{mode:?}: {}", stderr(&out));
    }
}

/// `--no-tcp`: connect and bind fail with EACCES, TCP Fast Open too (it
/// connects from `sendto`, which Landlock does not see), with or without
/// the seccomp deny-list; UDP still works.
/// From ABI 6, any ruleset also scopes abstract unix sockets and signals:
/// the command can neither reach a socket outside nor signal proctor.
#[test]
fn no_tcp_denies_connect_and_bind_but_not_udp() {
    skip_unless!(ready(), setpriv(), have_python());
    if abi() < 4 {
        skip!("Landlock ABI 4 (TCP)");
    }
    use std::os::linux::net::SocketAddrExt;
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let name = format!("proctor-landlock-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(&name).unwrap();
    let _abstract = std::os::unix::net::UnixListener::bind_addr(&addr).unwrap();
    let probe = format!(
        r#"{PY_TRY}
t("CONNECT", lambda: socket.create_connection(("127.0.0.1", {tcp}), timeout=10))
t("BIND", lambda: socket.socket().bind(("127.0.0.1", 0)))
t("FASTOPEN", lambda: socket.socket().sendto(b"x", 0x20000000, ("127.0.0.1", {tcp})))
t("UDP", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"udp", ("127.0.0.1", {udp})))
t("ABSTRACT", lambda: socket.socket(socket.AF_UNIX).connect("\0{name}"))
t("SIGNAL", lambda: os.kill(os.getppid(), 0))
"#,
        tcp = tcp.local_addr().unwrap().port(),
        udp = udp.local_addr().unwrap().port(),
    );
    let scoped = abi() >= 6;
    for mode in MODES {
        for (no_tcp, seccomp) in [(true, "default"), (true, "none"), (false, "default")] {
            let mut args = vec!["--seccomp", seccomp];
            if no_tcp {
                args.push("--no-tcp");
            }
            args.extend([python(), "-c", &probe]);
            let out = run_1000(mode, &args);
            let text = stdout(&out);
            assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
            let expect = |on, denied| if on { denied } else { "ok" };
            let expected = [
                ("CONNECT", expect(no_tcp, "EACCES")),
                ("BIND", expect(no_tcp, "EACCES")),
                ("FASTOPEN", expect(no_tcp, "EACCES")),
                ("UDP", "ok"),
                ("ABSTRACT", expect(no_tcp && scoped, "EPERM")),
                ("SIGNAL", expect(no_tcp && scoped, "EPERM")),
            ];
            let context = format!("{mode:?} no_tcp={no_tcp} seccomp={seccomp}");
            assert_values(&text, &expected, &context);
            let mut buf = [0u8; 8];
            let (n, _) = udp.recv_from(&mut buf).expect("the UDP datagram arrives");
            assert_eq!(&buf[..n], b"udp");
        }
    }
}

/// From ABI 6 the command cannot stop or kill proctor (which, as a
/// subreaper of the same uid, it otherwise could): proctor still ends the
/// command with its timeout and reports.
#[test]
fn the_command_cannot_signal_proctor() {
    skip_unless!(ready(), setpriv());
    if abi() < 6 {
        skip!("Landlock ABI 6 (signal scoping)");
    }
    for mode in MODES {
        let d = tree();
        let report = format!("{}/w/report.json", d.path().display());
        let out = run_1000(
            mode,
            &[
                "--landlock",
                "--report",
                &report,
                "--timeout",
                "1",
                "sh",
                "-c",
                "kill -STOP $PPID || kill -KILL $PPID || echo refused; sleep 30",
            ],
        );
        assert_eq!(code(&out), 124, "{mode:?}: {}", stderr(&out));
        assert!(stdout(&out).contains("refused"), "{mode:?}");
        let json = common::report(Path::new(&report));
        assert_eq!(json["status"], "timeout", "{mode:?}: {json}");
    }
}

/// A `--writable` that is a file: that file, and nothing beside it.
#[test]
fn a_writable_file() {
    skip_unless!(ready(), setpriv());
    for mode in MODES {
        let d = tree();
        let root = d.path().to_str().unwrap();
        let file = format!("{root}/o/existing");
        let script = format!(
            "echo new > {file} && echo FILE=ok; echo x > {root}/o/other 2>/dev/null || echo OTHER=denied"
        );
        let out = run_1000(
            mode,
            &["--landlock", "--writable", &file, "sh", "-c", &script],
        );
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "FILE=ok\nOTHER=denied\n", "{mode:?}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new\n");
    }
}

/// Bad input: 125 before anything runs, with one line naming the option and the path.
#[test]
fn bad_writable_paths_are_refused_at_start() {
    skip_unless!(ready(), setpriv());
    let d = tree();
    let root = d.path().to_str().unwrap();
    std::os::unix::fs::symlink(format!("{root}/w"), format!("{root}/link")).unwrap();
    let link = format!("{root}/link");
    let below_link = format!("{root}/link/a");
    let nonexistent = format!("{root}/nonexistent");
    let cases: [(&[&str], &str); 5] = [
        (
            &["--writable", "/tmp"],
            "--writable: \"/tmp\" needs --landlock",
        ),
        (
            &["--landlock", "--writable", "tmp"],
            "is not an absolute path",
        ),
        (&["--landlock", "--writable", &nonexistent], "ENOENT"),
        (&["--landlock", "--writable", &link], "is a symbolic link"),
        (
            &["--landlock", "--writable", &below_link],
            "is a symbolic link",
        ),
    ];
    for mode in MODES {
        for (args, message) in cases {
            let mut all = args.to_vec();
            all.extend(["echo", "RAN"]);
            let out = run_1000(mode, &all);
            let err = stderr(&out);
            assert_eq!(code(&out), 125, "{mode:?} {args:?}: {err}");
            assert!(
                !stdout(&out).contains("RAN"),
                "{mode:?} {args:?}: the command ran"
            );
            assert_eq!(err.lines().count(), 1, "{mode:?} {args:?}: {err}");
            assert!(
                err.starts_with("proctor: ") && err.contains(message),
                "{mode:?} {args:?}: {err}"
            );
        }
    }
    // A symlink in the path names the link itself.
    let out = run_1000(
        Mode::Pid1,
        &["--landlock", "--writable", &below_link, "true"],
    );
    assert!(
        stderr(&out).contains(&format!("{link}: is a symbolic link")),
        "{}",
        stderr(&out)
    );
}

/// With privileges, Landlock is one more layer: a `--bind …:rw` that is
/// not `--writable` stays unwritable, a `--tmpfs` made `--writable` (it
/// does not exist before the mounts) is writable, and `--no-tcp` goes
/// with `--net none` and `--pid-ns`.
#[test]
fn with_privileges_next_to_mounts_and_net_none() {
    skip_unless!(ready(), setpriv());
    for mode in MODES {
        let d = tree();
        let root = d.path().to_str().unwrap();
        let bind = format!("{root}/o:{root}/bound:rw");
        let tmpfs = format!("{root}/scratch");
        let script = format!(
            "echo x > {root}/bound/new 2>/dev/null || echo BIND=denied; \
             echo y > {tmpfs}/new && echo TMPFS=ok; echo z > {root}/w/new && echo W=ok"
        );
        let w = format!("{root}/w");
        let out = run(
            mode,
            &[
                "--landlock",
                "--no-tcp",
                "--net",
                "none",
                "--bind",
                &bind,
                "--tmpfs",
                &tmpfs,
                "--writable",
                &tmpfs,
                "--writable",
                &w,
                "--user",
                "1000",
                "--pid-ns",
                "sh",
                "-c",
                &script,
            ],
        );
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "BIND=denied\nTMPFS=ok\nW=ok\n", "{mode:?}");
        assert!(!d.path().join("o/new").exists());
    }
}

/// In a micro-VM on Debian's 6.1 kernel (Landlock ABI 2), proctor as
/// `/init` with `--poweroff --landlock --writable /tmp`: the devices are
/// allowed after proctor mounted `/dev` itself, writes elsewhere are
/// refused, and a nested proctor asking for `--no-tcp` (ABI 4) on this
/// kernel is a 125 naming what is missing — a real kernel too old for an
/// asked feature, not a simulated one.
#[test]
fn in_a_vm_on_an_older_kernel() {
    let kernel = vmkit::cached("cloud/vmlinuz");
    let (Some(qemu), true, true) = (
        vmkit::which("qemu-system-x86_64"),
        kernel.is_file(),
        Path::new("/bin/busybox").is_file(),
    ) else {
        return missing("qemu-system-x86_64, target/qemu/cloud/vmlinuz or /bin/busybox");
    };
    const GRADER: &str = r#"#!/bin/sh
export PATH=/bin
try() { name=$1; shift; if err=$( ("$@") 2>&1 ); then echo "$name=ok"; else echo "$name=${err##*: }"; fi; }
try TMP sh -c 'echo x > /tmp/f'
try ROOT sh -c 'echo x > /root/f'
try NULL sh -c 'echo x > /dev/null'
try RENAME_IN_TMP sh -c 'mkdir /tmp/a /tmp/b && echo y > /tmp/a/f && mv /tmp/a/f /tmp/b/f'
err=$(/init --no-tcp /bin/true 2>&1); echo "NOTCP=$? $err"
echo "GRADER_END=1"
exit 5
"#;
    let dir = tempfile::tempdir().unwrap();
    let initrd = dir.path().join("initramfs.cpio");
    let mut c = vmkit::Cpio::new();
    c.bare_root(&proctor());
    c.busybox(Path::new("/bin/busybox"));
    c.file("grader.sh", 0o755, GRADER.as_bytes());
    std::fs::write(&initrd, c.finish()).unwrap();
    let mut cmd = std::process::Command::new(qemu);
    cmd.args(["-M", "pc", "-accel", "tcg", "-m", "256", "-smp", "1"])
        .args([
            "-display",
            "none",
            "-monitor",
            "none",
            "-no-reboot",
            "-serial",
            "stdio",
        ])
        .arg("-kernel")
        .arg(&kernel)
        .arg("-initrd")
        .arg(&initrd)
        .arg("-append")
        .arg("console=ttyS0 panic=-1 quiet -- --poweroff --landlock --writable /tmp /grader.sh");
    let b = vmkit::boot(cmd, Duration::from_secs(180));
    b.show("landlock in a VM");
    assert!(!b.timed_out, "the VM did not end");
    assert_eq!(
        b.value("GRADER_END"),
        Some("1"),
        "the grader did not finish"
    );
    assert_eq!(b.last_exit_line(), Some("proctor: exit status 5"));
    for (key, want) in [
        ("TMP", "ok"),
        ("ROOT", "Permission denied"),
        ("NULL", "ok"),
        ("RENAME_IN_TMP", "ok"),
    ] {
        assert_eq!(b.value(key), Some(want), "{key}");
    }
    assert_eq!(
        b.value("NOTCP"),
        Some("125 proctor: --no-tcp: TCP rules need Landlock ABI 4 (Linux 6.7)")
    );
}

/// The warning that the command can write to the report's directory holds
/// only where Landlock lets it: not with `--landlock` alone, yes with the
/// directory (or a parent of it) `--writable`, and without Landlock.
#[test]
fn report_directory_warning_knows_landlock() {
    skip_unless!(ready(), setpriv());
    const WARNING: &str = "the command can write to the report's directory";
    for mode in MODES {
        let d = tree();
        let root = d.path().to_str().unwrap();
        let report = format!("{root}/w/a/report.json");
        let w = format!("{root}/w");
        for (args, warns) in [
            (vec!["--landlock"], false),
            (vec!["--landlock", "--writable", &w], true),
            (vec![], true),
        ] {
            let mut all = args.clone();
            all.extend(["--report", &report, "true"]);
            let out = run_1000(mode, &all);
            assert_eq!(code(&out), 0, "{mode:?} {args:?}: {}", stderr(&out));
            assert_eq!(
                stderr(&out).contains(WARNING),
                warns,
                "{mode:?} {args:?}: {}",
                stderr(&out)
            );
        }
    }
}

/// The `--stdout`/`--stderr` files stay writable by path, as
/// `>> /dev/stdout` reopens them (through `/proc/self/fd/1`); nothing
/// beside them is.
#[test]
fn output_files_stay_writable_by_path() {
    skip_unless!(ready(), setpriv());
    for mode in MODES {
        let d = tree();
        let root = d.path().to_str().unwrap();
        let (out, err) = (format!("{root}/o/out.txt"), format!("{root}/o/err.txt"));
        // Reopened with O_APPEND, last: what fd 1 writes later would go
        // at its own offset, over the appended line.
        let script = format!(
            "echo a; (echo e > {root}/o/other) 2>/dev/null || echo denied; \
             echo b >> /dev/stdout; echo c >&2; echo d >> /dev/stderr"
        );
        let args = [
            "--landlock",
            "--stdout",
            &out,
            "--stderr",
            &err,
            "sh",
            "-c",
            &script,
        ];
        let run = run_1000(mode, &args);
        assert_eq!(code(&run), 0, "{mode:?}: {}", stderr(&run));
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "a\ndenied\nb\n",
            "{mode:?}"
        );
        assert_eq!(std::fs::read_to_string(&err).unwrap(), "c\nd\n", "{mode:?}");
        assert!(!d.path().join("o/other").exists());
    }
}
