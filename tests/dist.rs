//! Shipped the way inits are shipped: `./just dist` builds the release
//! binaries with SHA256SUMS, the FROM-scratch image `proctor:VERSION` and a
//! Debian package; and proctor replaces `docker-init` on a real Docker
//! daemon (`dockerd --init-path`).
//!
//! Needs dockerd, busybox-static and the Debian root that tests/setup.sh
//! makes; without them the tests fail under CI=true and skip otherwise.
mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn sh(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed\n--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn docker_ready() -> bool {
    let ok = Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        missing("no Docker daemon answers");
    }
    ok && Path::new("/bin/busybox").exists()
}

/// `./just dist`, once per test binary: the directory of the artifacts.
fn dist() -> &'static Path {
    static DIST: OnceLock<PathBuf> = OnceLock::new();
    DIST.get_or_init(|| {
        sh(Command::new(repo().join("just"))
            .arg("dist")
            .current_dir(repo()));
        repo().join("target/dist")
    })
}

/// A FROM-scratch build context with busybox and `dockerfile`.
fn context(dockerfile: &str) -> tempfile::TempDir {
    let ctx = tempfile::tempdir().unwrap();
    std::fs::copy("/bin/busybox", ctx.path().join("busybox")).unwrap();
    std::fs::write(ctx.path().join("Dockerfile"), dockerfile).unwrap();
    ctx
}

#[test]
fn dist_checksums_verify() {
    if !docker_ready() {
        return;
    }
    let dir = dist();
    sh(Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(dir));
    for name in [
        format!("proctor-{VERSION}-x86_64"),
        format!("proctor-{VERSION}-aarch64"),
        format!("proctor_{VERSION}_amd64.deb"),
    ] {
        assert!(dir.join(&name).exists(), "{name}");
    }
    let out = sh(Command::new(dir.join(format!("proctor-{VERSION}-x86_64"))).arg("-V"));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("proctor {VERSION}\n")
    );
    let file = sh(Command::new("file").arg(dir.join(format!("proctor-{VERSION}-aarch64"))));
    let file = String::from_utf8_lossy(&file.stdout);
    assert!(
        file.contains("ARM aarch64") && file.contains("statically linked"),
        "{file}"
    );
}

/// A grader image takes proctor with `COPY --from=proctor:VERSION` and grades.
#[test]
fn grader_image_copies_proctor_from_the_dist_image() {
    if !docker_ready() {
        return;
    }
    dist();
    let tag = format!("proctor-dist-grader-{}", std::process::id());
    let ctx = context(&format!(
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n\
         COPY --from=proctor:{VERSION} /proctor /init\nCOPY grade.sh /grader/grade.sh\n\
         COPY submission /shared/submission\nENTRYPOINT [\"/init\", \"--user\", \"1000:1000\", \"--\", \"/grader/grade.sh\"]\n"
    ));
    std::fs::copy(
        repo().join("examples/grader/grade.sh"),
        ctx.path().join("grade.sh"),
    )
    .unwrap();
    std::fs::create_dir(ctx.path().join("submission")).unwrap();
    std::fs::copy(
        repo().join("examples/submission/solution.sh"),
        ctx.path().join("submission/solution.sh"),
    )
    .unwrap();
    sh(Command::new("docker")
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "-q", "-t", &tag])
        .arg(ctx.path()));
    let out = Command::new("docker")
        .args(["run", "--rm", "--network", "none", &tag])
        .output()
        .unwrap();
    let _ = Command::new("docker").args(["rmi", "-f", &tag]).output();
    let text = String::from_utf8_lossy(&out.stdout);
    // The sample submission passes two of three tests: the grader exits 1.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("\"score\": 2") || text.contains("\"score\":2"),
        "{text}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("grader: uid 1000, gid 1000"), "{err}");
}

/// The .deb installs with dpkg into a Debian root (an overlay over the one
/// tests/setup.sh made, so it stays pristine) and `proctor -V` runs there.
#[test]
fn deb_installs_into_debian() {
    if !docker_ready() || !require("unshare", "a private mount namespace for the overlay") {
        return;
    }
    let root = repo().join("target/debian-root");
    if !root.join(".complete").exists() {
        missing("target/debian-root is missing");
        return;
    }
    let deb = dist().join(format!("proctor_{VERSION}_amd64.deb"));
    let work = tempfile::tempdir().unwrap();
    let script = r#"set -e
        w=$1 root=$2 deb=$3
        mkdir -p "$w/upper" "$w/work" "$w/merged"
        mount -t overlay overlay -o "lowerdir=$root,upperdir=$w/upper,workdir=$w/work" "$w/merged"
        cp "$deb" "$w/merged/tmp/proctor.deb"
        chroot "$w/merged" dpkg -i /tmp/proctor.deb
        chroot "$w/merged" dpkg -s proctor | grep -q '^Status: install ok installed'
        chroot "$w/merged" test -s /usr/share/man/man1/proctor.1.gz
        chroot "$w/merged" /usr/bin/proctor -V
        umount "$w/merged""#;
    let out = sh(Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .arg(work.path())
        .arg(&root)
        .arg(&deb));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.ends_with(&format!("proctor {VERSION}\n")), "{text}");
}

/// A Docker daemon of the test's own, whose `--init` is proctor installed as
/// `docker-init`; stopped by its pid and removed with its directories.
struct Daemon {
    dir: tempfile::TempDir,
    child: std::process::Child,
}

impl Daemon {
    fn start() -> Daemon {
        // A short path: the socket's must fit in sun_path.
        let dir = tempfile::Builder::new()
            .prefix("pdi")
            .tempdir_in("/tmp")
            .unwrap();
        let init = dir.path().join("docker-init");
        std::fs::copy(proctor(), &init).unwrap();
        let p = |name: &str| dir.path().join(name);
        let child = Command::new("dockerd")
            .arg("--data-root")
            .arg(p("data"))
            .arg("--exec-root")
            .arg(p("exec"))
            .arg("--pidfile")
            .arg(p("dockerd.pid"))
            .arg("--host")
            .arg(format!("unix://{}", p("docker.sock").display()))
            .args(["--bridge=none", "--iptables=false", "--ip-masq=false"])
            .arg("--init-path")
            .arg(&init)
            .stdout(std::fs::File::create(p("dockerd.log")).unwrap())
            .stderr(std::fs::File::create(p("dockerd.err")).unwrap())
            .spawn()
            .expect("dockerd");
        let d = Daemon { dir, child };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !d
            .docker()
            .arg("info")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            assert!(
                Instant::now() < deadline,
                "the test's dockerd did not answer"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        d
    }

    /// `docker run --rm --network none --init pdi-busybox ARGS`.
    fn run_init(&self, args: &[&str]) -> Output {
        self.docker()
            .args(["run", "--rm", "--network", "none", "--init", "pdi-busybox"])
            .args(args)
            .output()
            .unwrap()
    }

    fn docker(&self) -> Command {
        let mut c = Command::new("docker");
        c.env("DOCKER_BUILDKIT", "0").arg("--host").arg(format!(
            "unix://{}",
            self.dir.path().join("docker.sock").display()
        ));
        c
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SAFETY: kill has no memory preconditions.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Whatever the daemon left mounted under its roots, before removal.
        let _ = Command::new("sh")
            .args([
                "-c",
                "grep -o \" $0/[^ ]*\" /proc/self/mounts | sort -r | xargs -r -n1 umount -l",
            ])
            .arg(self.dir.path())
            .output();
    }
}

#[test]
fn docker_run_init_uses_proctor_as_pid1() {
    if !docker_ready() || !require("dockerd", "a Docker daemon of the test's own") {
        return;
    }
    let d = Daemon::start();
    let ctx = context("FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n");
    sh(d.docker()
        .args(["build", "-q", "-t", "pdi-busybox"])
        .arg(ctx.path()));
    let script = "tr '\\0' ' ' < /proc/1/cmdline; echo; grep -E '^(CapEff|Seccomp):' /proc/self/status; exit 7";
    let out = d.run_init(&["sh", "-c", script]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!(
        "docker run --init:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(7), "{text}");
    assert!(
        text.starts_with("/sbin/docker-init -- sh -c"),
        "PID 1 is docker-init: {text}"
    );
    // The binary Docker started as PID 1 is proctor.
    let out = d.run_init(&["/sbin/docker-init", "-V"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("proctor {VERSION}\n")
    );
    // Docker's own seccomp profile, as with its tini.
    assert_caps_kept(&text, "2");

    // docker stop: SIGTERM reaches the sleeping command through proctor.
    let name = format!("pdi-stop-{}", std::process::id());
    sh(d.docker()
        .args(["run", "-d", "--name", &name, "--network", "none", "--init"])
        .args(["pdi-busybox", "sleep", "300"]));
    let t = Instant::now();
    sh(d.docker().args(["stop", "-t", "20", &name]));
    let stopped = t.elapsed();
    let code = sh(d
        .docker()
        .args(["inspect", "-f", "{{.State.ExitCode}}", &name]));
    let _ = d.docker().args(["rm", "-f", &name]).output();
    eprintln!("docker stop returned in {:.2} s", stopped.as_secs_f64());
    assert_eq!(String::from_utf8_lossy(&code.stdout).trim(), "143");
    assert!(
        stopped < Duration::from_secs(15),
        "docker stop waited for its SIGKILL: {stopped:?}"
    );
}
