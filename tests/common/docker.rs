//! Docker runs against the suite's daemon (`dockerd --bridge=none`, started
//! by tests/setup.sh): the example grader image, built once per test binary
//! from examples/Dockerfile with Debian's static busybox (no registry), a
//! `docker run` builder that names and removes its container, and the
//! outcome of a run.
use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The example grader image (examples/Dockerfile), as the suite tags it.
pub const IMAGE: &str = "proctor-example-grader:latest";

/// `docker` with the classic builder (no BuildKit: no extra daemon, no registry).
pub fn docker() -> Command {
    let mut c = Command::new("docker");
    c.env("DOCKER_BUILDKIT", "0");
    c
}

/// What a docker command did.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            f,
            "exit {:?} in {:.2} s\n--- stdout\n{}--- stderr\n{}",
            self.code,
            self.elapsed.as_secs_f64(),
            self.stdout,
            self.stderr
        )
    }
}

/// Run a docker command to its end.
pub fn outcome(cmd: &mut Command) -> Run {
    let start = Instant::now();
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("run docker");
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

/// A daemon answers, or why the Docker tests cannot run here.
pub fn daemon() -> Result<(), String> {
    match docker().arg("info").output() {
        Err(e) => Err(format!("the docker client cannot be run: {e}")),
        Ok(o) if !o.status.success() => Err(format!(
            "no Docker daemon answers: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Ok(_) => Ok(()),
    }
}

/// Builds the example grader image once per test binary. Err: the reason
/// the tests cannot run here (no daemon, no busybox); a failing build with a
/// daemon present fails the test.
pub fn image() -> Result<&'static str, String> {
    static BUILT: OnceLock<Result<&'static str, String>> = OnceLock::new();
    BUILT.get_or_init(build).clone()
}

fn build() -> Result<&'static str, String> {
    daemon()?;
    if !Path::new("/bin/busybox").is_file() {
        return Err("/bin/busybox (busybox-static) is not installed".into());
    }
    let repo = super::repo();
    let ctx = tempfile::tempdir().map_err(|e| e.to_string())?;
    let c = ctx.path();
    let copy = |from: &Path, to: &Path| {
        std::fs::copy(from, to).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    };
    copy(&repo.join("examples/Dockerfile"), &c.join("Dockerfile"));
    std::fs::create_dir(c.join("grader")).unwrap();
    copy(
        &repo.join("examples/grader/grade.sh"),
        &c.join("grader/grade.sh"),
    );
    copy(Path::new("/bin/busybox"), &c.join("busybox"));
    let r = outcome(docker().args(["build", "-q", "-t", IMAGE]).arg(c));
    assert_eq!(r.code, Some(0), "docker build of examples/Dockerfile: {r}");
    eprintln!("docker: built {IMAGE} in {:.2} s", r.elapsed.as_secs_f64());
    Ok(IMAGE)
}

/// A container name unique to this test process, removed (with whatever
/// runs in it) when dropped, whatever the test's outcome.
pub struct Container(pub String);

impl Container {
    pub fn new(scenario: &str) -> Self {
        let name = format!("proctor-test-{}-{scenario}", std::process::id());
        let _ = docker().args(["rm", "-f", &name]).output();
        Container(name)
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = docker().args(["rm", "-f", &self.0]).output();
    }
}

/// `docker run --name proctor-test-PID-SCENARIO --network none …`, built up
/// argument by argument; the container is removed when this is dropped.
pub struct DockerRun {
    cmd: Command,
    pub container: Container,
}

impl DockerRun {
    pub fn new(scenario: &str) -> Self {
        Self::on_network(scenario, "none")
    }

    /// As [`DockerRun::new`] with `--network NETWORK` (e.g. `container:NAME`,
    /// a pod's shared network namespace).
    pub fn on_network(scenario: &str, network: &str) -> Self {
        let container = Container::new(scenario);
        let mut cmd = docker();
        cmd.args(["run", "--name", &container.0, "--network", network]);
        DockerRun { cmd, container }
    }

    pub fn arg(&mut self, a: impl AsRef<std::ffi::OsStr>) -> &mut Self {
        self.cmd.arg(a);
        self
    }

    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// `--cap-add CAP` for each of `caps`.
    pub fn cap_add(&mut self, caps: &[&str]) -> &mut Self {
        for c in caps {
            self.cmd.args(["--cap-add", c]);
        }
        self
    }

    /// What the mount options need: `--cap-add SYS_ADMIN --security-opt apparmor=unconfined`.
    pub fn mount_privileges(&mut self) -> &mut Self {
        self.cap_add(&["SYS_ADMIN"])
            .args(["--security-opt", "apparmor=unconfined"])
    }

    /// `-v HOST:CONTAINER`.
    pub fn volume(&mut self, host: &Path, container: &str) -> &mut Self {
        self.cmd
            .arg("-v")
            .arg(format!("{}:{container}", host.display()));
        self
    }

    /// The built proctor bind-mounted read-only at `at`, the entrypoint of
    /// `image`: what follows are proctor's arguments.
    pub fn proctor(&mut self, at: &str, image: &str) -> &mut Self {
        self.cmd
            .arg("-v")
            .arg(format!("{}:{at}:ro", super::proctor().display()))
            .args(["--entrypoint", at, image]);
        self
    }

    /// Run it to its end.
    pub fn run(&mut self) -> Run {
        outcome(&mut self.cmd)
    }

    /// Run it once, killed if it outlives `limit`, for the helpers that take
    /// an [`Output`] (`code`, `stdout`, `assert_refused`).
    pub fn output(&mut self, limit: Duration) -> Output {
        super::run_cmd(std::mem::replace(&mut self.cmd, docker()), limit)
    }
}

/// A staging directory shared with a container, readable by uid 1000.
pub fn staging() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    d
}
