//! Smoke tests: proctor injected into a grader image and run by a real
//! Docker engine (dockerd --bridge=none, started by tests/setup.sh).
//!
//! The image is examples/Dockerfile, built FROM scratch with Debian's static
//! busybox (no registry). proctor is bind-mounted read-only at /init and made
//! the entrypoint, the way docs/deployment.md tells operators to do it.
//!
//! Without a Docker daemon (or /bin/busybox) the tests fail when CI=true and
//! are skipped, with the reason printed, otherwise.

mod common;
use common::docker::*;
use common::*;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The grader's JSON result: the last stdout line that parses as an object.
fn grader_result(stdout: &str) -> serde_json::Value {
    stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .unwrap_or_else(|| panic!("no JSON result line in the grader's output:\n{stdout}"))
}

macro_rules! need_image {
    () => {
        match image() {
            Ok(i) => i,
            Err(reason) => skip!("{reason}"),
        }
    };
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// Scenario 1: the full grading flow. A host-side co-process delivers the
/// submission after a delay and creates the ready marker; proctor waits,
/// binds it read-only at /shared/submission, drops to 1000:1000 and runs the
/// image's own grader; the grader's JSON, the exit status and the report are
/// checked. `fix` turns the sample's failing test into a passing one.
fn grading_flow(scenario: &str, fix: bool) {
    let image = need_image!();
    let stage = staging();
    let st = stage.path().to_path_buf();
    let delay = Duration::from_millis(1500);

    let deliver = {
        let st = st.clone();
        std::thread::spawn(move || {
            std::thread::sleep(delay);
            let sub = st.join("sub");
            copy_dir(&repo().join("examples/submission"), &sub);
            if fix {
                let f = sub.join("solution.sh");
                let s = std::fs::read_to_string(&f).unwrap();
                // test for 15 first, as the assignment intends
                let s = s.replacen(
                    "if [ $((i % 3)) -eq 0 ]; then\n            echo Fizz",
                    "if [ $((i % 15)) -eq 0 ]; then\n            echo FizzBuzz\n        elif [ $((i % 3)) -eq 0 ]; then\n            echo Fizz",
                    1,
                );
                std::fs::write(&f, s).unwrap();
            }
            std::fs::write(st.join("ready"), b"").unwrap();
            Instant::now()
        })
    };

    let start = Instant::now();
    let r = DockerRun::new(scenario)
        .mount_privileges()
        .volume(&st, "/staging")
        .proctor("/init", image)
        .args(["--wait-for", "/staging/ready", "--wait-timeout", "60"])
        .args(["--bind", "/staging/sub:/shared/submission"])
        .args(["--tmpfs", "/tmp", "--user", "1000:1000", "--timeout", "60"])
        .args(["--report", "/staging/report.json"])
        .args(["--", "/grader/grade.sh"])
        .run();
    let delivered = deliver.join().unwrap();
    eprintln!(
        "docker {scenario}: exit {:?} in {:.2} s (submission delivered after {:.2} s)\n--- stdout\n{}--- stderr\n{}",
        r.code,
        r.elapsed.as_secs_f64(),
        (delivered - start).as_secs_f64(),
        r.stdout,
        r.stderr
    );

    let result = grader_result(&r.stdout);
    let (want_score, want_code) = if fix { (3, 0) } else { (2, 1) };
    assert_eq!(result["score"], want_score, "grader result {result}");
    assert_eq!(result["max_score"], 3, "grader result {result}");
    assert_eq!(r.code, Some(want_code), "proctor's exit status");
    assert!(
        r.elapsed >= delay,
        "proctor did not wait for the submission"
    );
    if !fix {
        assert!(
            result["feedback"]
                .as_str()
                .unwrap_or("")
                .contains("fizzbuzz"),
            "feedback {result}"
        );
        assert!(r.stdout.contains("PASS wordcount") && r.stdout.contains("FAIL fizzbuzz"));
    }
    assert!(
        r.stderr.contains("grader: uid 1000, gid 1000"),
        "the grader did not run as 1000:1000: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains("the submission directory is read-only"),
        "the submission was not read-only: {}",
        r.stderr
    );
    // the submission itself is untouched
    assert!(!st.join("sub/.grader-probe").exists());

    let rep = report(&st.join("report.json"));
    assert_eq!(rep["schema"], 2, "{rep}");
    assert_eq!(rep["status"], "exited", "{rep}");
    assert_eq!(rep["exit_code"], want_code, "{rep}");
    assert!(rep["signal"].is_null(), "{rep}");
    assert!(rep["message"].is_null(), "{rep}");
    assert!(rep["wall_ms"].as_u64().is_some(), "{rep}");
    assert!(
        rep["wall_ms"].as_u64().unwrap() < r.elapsed.as_millis() as u64,
        "{rep}"
    );
    assert!(rep["cpu_user_ms"].as_u64().is_some(), "{rep}");
    assert!(rep["max_rss_kib"].as_u64().unwrap_or(0) > 0, "{rep}");
    // busybox's `timeout` (used by the grader per test) leaves a watchdog
    // process behind for each test; proctor kills and counts them
    assert!(rep["leftovers_killed"].as_u64().is_some(), "{rep}");
}

#[test]
fn s1_grading_flow_failing_submission() {
    grading_flow("grade-fail", false);
}

#[test]
fn s1_grading_flow_passing_submission() {
    grading_flow("grade-pass", true);
}

/// Scenario 2: pure init mode with Docker's default capabilities; `docker
/// stop` sends SIGTERM to PID 1 = proctor, which forwards it; the container
/// ends well within Docker's 10 s grace period, with 128+15.
fn stop_is_prompt(scenario: &str, extra: &[&str]) {
    let image = need_image!();
    let mut run = DockerRun::new(scenario);
    let r = run
        .arg("-d")
        .args(extra)
        .proctor("/init", image)
        .args(["--", "/bin/sh", "-c", "echo started; sleep 1000"])
        .run();
    let ctr = &run.container;
    assert_eq!(r.code, Some(0), "docker run -d: {}", r.stderr);
    // wait until the command runs
    let t = Instant::now();
    loop {
        let logs = outcome(docker().args(["logs", &ctr.0]));
        if logs.stdout.contains("started") {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the command never started: {} {}",
            logs.stdout,
            logs.stderr
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let stop = outcome(docker().args(["stop", "-t", "10", &ctr.0]));
    let code = outcome(docker().args(["inspect", "-f", "{{.State.ExitCode}}", &ctr.0]));
    let logs = outcome(docker().args(["logs", &ctr.0]));
    eprintln!(
        "docker {scenario}: docker stop took {:.2} s, exit code {}; logs: {}{}",
        stop.elapsed.as_secs_f64(),
        code.stdout.trim(),
        logs.stdout,
        logs.stderr
    );
    assert_eq!(stop.code, Some(0), "docker stop: {}", stop.stderr);
    assert!(
        stop.elapsed < Duration::from_secs(3),
        "docker stop took {:?}: SIGTERM was not forwarded",
        stop.elapsed
    );
    assert_eq!(code.stdout.trim(), "143", "exit status after SIGTERM");
}

#[test]
fn s2_docker_stop_forwards_sigterm() {
    stop_is_prompt("stop", &[]);
}

/// Scenario 3: --timeout inside Docker → 124, report status "timeout".
#[test]
fn s3_timeout_gives_124() {
    let image = need_image!();
    let stage = staging();
    let r = DockerRun::new("timeout")
        .volume(stage.path(), "/staging")
        .proctor("/init", image)
        .args(["--timeout", "1", "--report", "/staging/report.json"])
        .args(["--", "/bin/sleep", "30"])
        .run();
    eprintln!(
        "docker timeout: exit {:?} in {:.2} s; stderr: {}",
        r.code,
        r.elapsed.as_secs_f64(),
        r.stderr
    );
    assert_eq!(r.code, Some(124), "exit status after --timeout");
    assert!(
        r.elapsed >= Duration::from_secs(1) && r.elapsed < Duration::from_secs(10),
        "took {:?}",
        r.elapsed
    );
    let rep = report(&stage.path().join("report.json"));
    assert_eq!(rep["status"], "timeout", "{rep}");
    assert_eq!(rep["exit_code"], 124, "{rep}");
    assert_eq!(rep["signal"], 15, "sleep dies of the SIGTERM: {rep}");
    let wall = rep["wall_ms"].as_u64().expect("wall_ms");
    assert!((1000..5000).contains(&wall), "wall_ms {wall}");
    assert!(rep["message"].is_string(), "{rep}");
}

/// A grader that leaves orphans (reparented to proctor) and setsid daemons
/// behind, counts zombies before it exits, and lists the daemons it left.
const LITTERING_GRADER: &str = r#"
i=0
while [ $i -lt 30 ]; do
    (sleep 0.05 &)
    (setsid sh -c 'exit 3' &)
    i=$((i + 1))
done
setsid sleep 1001 </dev/null >/dev/null 2>&1 &
setsid sh -c 'sleep 1002' </dev/null >/dev/null 2>&1 &
(setsid sleep 1003 </dev/null >/dev/null 2>&1 &)
sleep 1 &
wait $!
sleep 1
z=0
for s in /proc/[0-9]*/stat; do
    [ "$(cut -d' ' -f3 "$s" 2>/dev/null)" = Z ] && z=$((z + 1))
done
echo "ZOMBIES=$z"
echo "DAEMONS=$(ps -o args | grep -c '^sleep 100[123]$')"
exit 5
"#;

fn count_key(out: &str, key: &str) -> Option<u32> {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.trim().parse().ok())
}

/// Scenario 4a: proctor as PID 1 of the container: orphans reaped while the
/// grader runs, daemons killed when it ends (report: leftovers_killed).
#[test]
fn s4_orphans_and_daemons_as_pid1() {
    let image = need_image!();
    let stage = staging();
    let r = DockerRun::new("litter-pid1")
        .volume(stage.path(), "/staging")
        .proctor("/init", image)
        .args(["--report", "/staging/report.json"])
        .args(["--", "/bin/sh", "-c", LITTERING_GRADER])
        .run();
    eprintln!(
        "docker litter-pid1: exit {:?} in {:.2} s\n{}{}",
        r.code,
        r.elapsed.as_secs_f64(),
        r.stdout,
        r.stderr
    );
    assert_eq!(r.code, Some(5), "the grader's exit code");
    assert_eq!(count_key(&r.stdout, "ZOMBIES"), Some(0), "zombies");
    assert_eq!(count_key(&r.stdout, "DAEMONS"), Some(3), "daemons running");
    let rep = report(&stage.path().join("report.json"));
    assert_eq!(rep["exit_code"], 5, "{rep}");
    assert!(
        rep["leftovers_killed"].as_u64().unwrap_or(0) >= 3,
        "the three daemons were not counted as killed: {rep}"
    );
}

/// Scenario 4b: proctor not PID 1 (a shell is the container's init) — it is
/// a subreaper and must find and kill the daemons itself; the shell then
/// lists what is left: only itself and ps.
#[test]
fn s4_orphans_and_daemons_as_subreaper() {
    let image = need_image!();
    let script = format!(
        "/init -- /bin/sh -c '{}'; echo PROCTOR_EXIT=$?; sleep 0.5; \
         echo LEFT=$(ps -o pid,args | grep -c 'sleep 100[123]$'); ps -o pid,ppid,stat,args",
        LITTERING_GRADER.replace('\'', "'\\''")
    );
    let r = DockerRun::new("litter-sub")
        .volume(&proctor(), "/init:ro")
        .args(["--entrypoint", "/bin/sh", image])
        .args(["-c", &script])
        .run();
    eprintln!(
        "docker litter-subreaper: exit {:?} in {:.2} s\n{}{}",
        r.code,
        r.elapsed.as_secs_f64(),
        r.stdout,
        r.stderr
    );
    assert_eq!(r.code, Some(0), "the outer shell");
    assert_eq!(count_key(&r.stdout, "PROCTOR_EXIT"), Some(5));
    assert_eq!(count_key(&r.stdout, "ZOMBIES"), Some(0), "zombies");
    assert_eq!(count_key(&r.stdout, "DAEMONS"), Some(3), "daemons running");
    assert_eq!(
        count_key(&r.stdout, "LEFT"),
        Some(0),
        "daemons survived proctor"
    );
}

/// Scenario 5 (issue 8): `--user 1000 --cap-drop ALL`, pure init mode: the
/// command runs, its orphans are reaped, its exit code passes through.
#[test]
fn s5_unprivileged_pure_init() {
    let image = need_image!();
    let script = "echo UID=$(id -u); grep CapEff /proc/1/status; \
                  i=0; while [ $i -lt 10 ]; do (sleep 0.05 &); i=$((i+1)); done; sleep 1; \
                  z=0; for s in /proc/[0-9]*/stat; do \
                  [ \"$(cut -d' ' -f3 $s 2>/dev/null)\" = Z ] && z=$((z+1)); done; \
                  echo ZOMBIES=$z; exit 42";
    let r = DockerRun::new("unpriv")
        .args(["--user", "1000", "--cap-drop", "ALL"])
        .proctor("/init", image)
        .args(["--", "/bin/sh", "-c", script])
        .run();
    eprintln!(
        "docker unprivileged: exit {:?} in {:.2} s\n{}{}",
        r.code,
        r.elapsed.as_secs_f64(),
        r.stdout,
        r.stderr
    );
    assert_eq!(r.code, Some(42), "the command's exit code");
    assert_eq!(count_key(&r.stdout, "UID"), Some(1000));
    assert!(
        r.stdout.contains("CapEff:\t0000000000000000"),
        "proctor had capabilities"
    );
    assert_eq!(count_key(&r.stdout, "ZOMBIES"), Some(0), "zombies");
}

#[test]
fn s5_unprivileged_docker_stop() {
    stop_is_prompt("unpriv-stop", &["--user", "1000", "--cap-drop", "ALL"]);
}

/// Scenario 5c (issue 8): asking for a mount without CAP_SYS_ADMIN is a 125
/// that names the missing privilege; the command never runs.
#[test]
fn s5_unprivileged_mount_refused() {
    let image = need_image!();
    let r = DockerRun::new("unpriv-mount")
        .args(["--user", "1000", "--cap-drop", "ALL"])
        .proctor("/init", image)
        .args(["--tmpfs", "/scratch", "--", "/bin/echo", "RAN"])
        .run();
    eprintln!(
        "docker unprivileged mount: exit {:?} in {:.2} s\n{}{}",
        r.code,
        r.elapsed.as_secs_f64(),
        r.stdout,
        r.stderr
    );
    assert_eq!(r.code, Some(125));
    assert!(!r.stdout.contains("RAN"), "the command ran");
    assert!(
        r.stderr.contains("proctor: ") && r.stderr.contains("CAP_SYS_ADMIN"),
        "the error does not name the missing privilege: {}",
        r.stderr
    );
}

/// The grader container of examples/kubernetes/job.yaml: `command` + `args`
/// and the capabilities it adds, read from the manifest (PyYAML, installed
/// with kubernetes-validate by tests/setup.sh). Err: why it cannot be read.
/// (command, args, added capabilities) of one container.
type GraderSpec = (Vec<String>, Vec<String>, Vec<String>);

fn kubernetes_grader(job: &str) -> Result<GraderSpec, String> {
    let script = r#"
import json, sys, yaml
job = yaml.safe_load(open(sys.argv[1]))
c = [c for c in job["spec"]["template"]["spec"]["containers"] if c["name"] == "grader"][0]
caps = c.get("securityContext", {}).get("capabilities", {})
print(json.dumps([c["command"] + c.get("args", []), caps.get("add", []), caps.get("drop", [])]))
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(repo().join("examples/kubernetes").join(job))
        .output()
        .map_err(|e| format!("python3 cannot be run: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cannot read the Job with python3/PyYAML: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let v: (Vec<String>, Vec<String>, Vec<String>) =
        serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    Ok(v)
}

/// A Job's proctor command line with `probe` (a shell script) in place of
/// the grader after `--`.
fn with_probe(argv: &mut Vec<String>, probe: Option<&str>) {
    assert_eq!(argv[0], "/proctor/proctor");
    if let Some(p) = probe {
        let dd = argv.iter().position(|a| a == "--").expect("-- in the Job");
        argv.truncate(dd + 1);
        argv.extend(["/bin/sh".to_string(), "-c".to_string(), p.to_string()]);
    }
}

/// The submission sidecar: after a second, the submission in `shared/in`
/// and the ready marker `shared/ready`.
fn deliver_submission(shared: std::path::PathBuf) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1000));
        copy_dir(&repo().join("examples/submission"), &shared.join("in"));
        std::fs::write(shared.join("ready"), b"").unwrap();
    })
}

/// Scenario 6: the Kubernetes Job's grader container, reproduced with
/// Docker: the same command line and capabilities (from the manifest), an
/// emptyDir-like `/shared` filled by a "sidecar" thread, a service-account
/// token directory, and `/dev/termination-log` as a bind-mounted file, as the
/// kubelet makes it. Run once with the manifest's own command (the grading),
/// once with a probe after `--` that looks at the sandbox.
fn kubernetes_recipe(scenario: &str, probe: Option<&str>) -> (Run, tempfile::TempDir) {
    use std::os::unix::fs::PermissionsExt;
    let (mut argv, add, drop) = kubernetes_grader("job.yaml").expect("read the Job");
    with_probe(&mut argv, probe);
    let stage = staging();
    let st = stage.path().to_path_buf();
    std::fs::create_dir(st.join("shared")).unwrap();
    std::fs::set_permissions(st.join("shared"), std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::create_dir(st.join("sa")).unwrap();
    std::fs::write(st.join("sa/token"), b"secret-service-account-token").unwrap();
    std::fs::write(st.join("termination-log"), b"").unwrap();
    let sidecar = deliver_submission(st.join("shared"));
    let mut cmd = DockerRun::new(scenario);
    cmd.args(["--security-opt", "apparmor=unconfined"]);
    for c in &add {
        cmd.args(["--cap-add", c]);
    }
    for c in &drop {
        cmd.args(["--cap-drop", c]);
    }
    cmd.volume(&st.join("shared"), "/shared").volume(
        &st.join("sa"),
        "/var/run/secrets/kubernetes.io/serviceaccount:ro",
    );
    let r = run_job(scenario, &mut cmd, &argv, &st, sidecar);
    (r, stage)
}

/// The end of a Job recipe: the termination log bind-mounted as the kubelet
/// does, the Job's proctor command line as entrypoint and arguments, the run.
fn run_job(
    scenario: &str,
    cmd: &mut DockerRun,
    argv: &[String],
    st: &Path,
    sidecar: std::thread::JoinHandle<()>,
) -> Run {
    let image = image().expect("image");
    let r = cmd
        .volume(&st.join("termination-log"), "/dev/termination-log")
        .proctor(&argv[0], image)
        .args(&argv[1..])
        .run();
    sidecar.join().unwrap();
    eprintln!(
        "docker {scenario}: exit {:?} in {:.2} s\n--- stdout\n{}--- stderr\n{}",
        r.code,
        r.elapsed.as_secs_f64(),
        r.stdout,
        r.stderr
    );
    r
}

/// Whether the image and `job` can be read; else skipped (or failed in CI).
fn job_ready(job: &str) -> Result<(), String> {
    image()?;
    kubernetes_grader(job).map(|_| ())
}

/// The grading of examples/submission: 2 of 3, proctor's exit status 1,
/// the grader as uid 1000 with a read-only submission, the report at `report`.
fn assert_graded(r: &Run, report: &Path) {
    let result = grader_result(&r.stdout);
    assert_eq!(result["score"], 2, "{result}");
    assert_eq!(r.code, Some(1), "proctor's exit status");
    assert!(
        r.stderr.contains("grader: uid 1000, gid 1000"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("the submission directory is read-only"));
    let rep = common::report(report);
    assert_eq!(rep["status"], "exited", "{rep}");
    assert_eq!(rep["exit_code"], 1, "{rep}");
}

#[test]
fn s6_kubernetes_job_recipe_grades() {
    skip_unless!(job_ready("job.yaml"));
    let (r, stage) = kubernetes_recipe("k8s-grade", None);
    assert_graded(&r, &stage.path().join("termination-log"));
}

#[test]
fn s6_kubernetes_job_recipe_sandbox() {
    skip_unless!(job_ready("job.yaml"));
    let probe = r#"
echo "UID=$(id -u)"
echo "TOKEN_FILES=$(ls -A /var/run/secrets/kubernetes.io/serviceaccount | wc -l)"
echo "IFACES=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ' ')"
if touch /shared/ready2 2>/dev/null; then echo SHARED=writable; else echo SHARED=read-only; fi
if touch /shared/submission/x 2>/dev/null; then echo SUB=writable; else echo SUB=read-only; fi
echo "SUB_FILES=$(ls /shared/submission | tr '\n' ' ')"
if echo x >/tmp/x; then echo TMP=writable; fi
grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status | tr -d '\t' | tr ':' '='
exit 9
"#;
    let (r, stage) = kubernetes_recipe("k8s-probe", Some(probe));
    let o = &r.stdout;
    let has = |s: &str| o.lines().any(|l| l.trim_end() == s);
    assert_eq!(r.code, Some(9), "exit status: {}", r.stderr);
    assert!(has("UID=1000"), "{o}");
    assert!(
        has("TOKEN_FILES=0"),
        "the service-account token is visible: {o}"
    );
    assert!(has("IFACES=lo"), "network interfaces besides lo: {o}");
    assert!(has("SHARED=read-only"), "/shared is writable: {o}");
    assert!(has("SUB=read-only"), "the submission is writable: {o}");
    assert!(o.contains("SUB_FILES=README.md solution.sh"), "{o}");
    assert!(has("TMP=writable"), "{o}");
    assert!(has("CapEff=0000000000000000"), "{o}");
    assert!(has("NoNewPrivs=1"), "{o}");
    assert!(has("Seccomp=2"), "{o}");
    assert!(!stage.path().join("shared/ready2").exists());
    let rep = report(&stage.path().join("termination-log"));
    assert_eq!(rep["exit_code"], 9, "{rep}");
}

/// Scenario 7: the grader container of an ECS task definition in
/// examples/ecs/, reproduced with Docker: its entryPoint, command, user,
/// environment, capabilities and docker security options read from the
/// file; a "fetch-submission" thread fills the shared volume; the report
/// lands in /shared, where the sidecar would collect it.
fn ecs_recipe(file: &str, scenario: &str) {
    use std::os::unix::fs::PermissionsExt;
    let image = image().expect("image");
    let text = std::fs::read_to_string(repo().join("examples/ecs").join(file))
        .expect("read the task definition");
    let td: serde_json::Value = serde_json::from_str(&text).expect("task definition JSON");
    let grader = td["containerDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "grader")
        .expect("a grader container");
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    let entry = strings(&grader["entryPoint"]);
    let command = strings(&grader["command"]);
    assert_eq!(entry, ["/proctor/proctor"]);
    let caps = &grader["linuxParameters"]["capabilities"];

    let stage = staging();
    let shared = stage.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
    let sidecar = deliver_submission(shared.clone());
    let mut cmd = DockerRun::new(scenario);
    if let Some(u) = grader["user"].as_str() {
        cmd.args(["--user", u]);
    }
    for e in grader["environment"].as_array().into_iter().flatten() {
        let (k, v) = (e["name"].as_str().unwrap(), e["value"].as_str().unwrap());
        cmd.args(["-e", &format!("{k}={v}")]);
    }
    for c in strings(&caps["add"]) {
        cmd.args(["--cap-add", &c]);
    }
    for c in strings(&caps["drop"]) {
        cmd.args(["--cap-drop", &c]);
    }
    for o in strings(&grader["dockerSecurityOptions"]) {
        // ECS writes "apparmor:PROFILE", Docker "apparmor=PROFILE"
        cmd.args(["--security-opt", &o.replacen(':', "=", 1)]);
    }
    let r = cmd
        .volume(&shared, "/shared")
        .proctor(&entry[0], image)
        .args(&command)
        .run();
    sidecar.join().unwrap();
    eprintln!(
        "docker {scenario}: exit {:?} in {:.2} s\n--- stdout\n{}--- stderr\n{}",
        r.code,
        r.elapsed.as_secs_f64(),
        r.stdout,
        r.stderr
    );
    assert_graded(&r, &shared.join("report.json"));
}

#[test]
fn s7_ecs_task_definition_recipe() {
    skip_unless!(image());
    ecs_recipe("task-definition.json", "ecs");
}

/// The Fargate variant: no added capability; the grader under
/// `--landlock --writable /tmp --no-tcp` (issue 19).
#[test]
fn s7_ecs_fargate_task_definition_recipe() {
    skip_unless!(image());
    ecs_recipe("task-definition-fargate.json", "fargate");
}

/// Scenario 8 (issue 19): the grader of examples/kubernetes/job-restricted.yaml
/// as `docker run --user 1000:1000 --cap-drop ALL --security-opt
/// no-new-privileges --read-only --tmpfs /tmp`: no privilege at all, so
/// proctor sandboxes the grader with Landlock (`--landlock --writable /tmp
/// --no-tcp`, from the manifest). As in a pod, the grader shares a network
/// namespace with a sidecar, which listens on TCP 8080; the termination log
/// is a bind-mounted file of mode 0666, as the kubelet makes it. The
/// sidecar first answers a plain client: a refusal under `--no-tcp` is
/// Landlock's.
fn restricted_recipe(scenario: &str, probe: Option<&str>) -> (Run, tempfile::TempDir) {
    use std::os::unix::fs::PermissionsExt;
    let (mut argv, add, _) = kubernetes_grader("job-restricted.yaml").expect("read the Job");
    assert!(add.is_empty(), "the restricted Job adds no capability");
    with_probe(&mut argv, probe);
    let image = image().expect("image");
    let stage = staging();
    let st = stage.path().to_path_buf();
    std::fs::create_dir(st.join("shared")).unwrap();
    std::fs::set_permissions(st.join("shared"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(st.join("termination-log"), b"").unwrap();
    std::fs::set_permissions(
        st.join("termination-log"),
        std::fs::Permissions::from_mode(0o666),
    )
    .unwrap();
    let mut net = DockerRun::new(&format!("{scenario}-sidecar"));
    let started = net
        .args(["-d", "--user", "1000:1000", "--cap-drop", "ALL"])
        .args(["--entrypoint", "/bin/nc", image])
        .args(["-ll", "-p", "8080", "-e", "/bin/true"])
        .run();
    assert_eq!(started.code, Some(0), "sidecar: {}", started.stderr);
    let pod_network = format!("container:{}", net.container.0);
    let answered = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        let probe = outcome(
            docker()
                .args([
                    "run",
                    "--rm",
                    "--network",
                    &pod_network,
                    "--user",
                    "1000:1000",
                ])
                .args([
                    "--entrypoint",
                    "/bin/nc",
                    image,
                    "-w",
                    "2",
                    "127.0.0.1",
                    "8080",
                ]),
        );
        probe.code == Some(0)
    });
    assert!(
        answered,
        "the sidecar's TCP port never answered a plain client"
    );
    let sidecar = deliver_submission(st.join("shared"));
    let mut cmd = DockerRun::on_network(scenario, &pod_network);
    cmd.args(["--user", "1000:1000", "--cap-drop", "ALL"])
        .args(["--security-opt", "no-new-privileges", "--read-only"])
        .args(["--tmpfs", "/tmp:mode=1777"])
        .volume(&st.join("shared"), "/shared:ro");
    let r = run_job(scenario, &mut cmd, &argv, &st, sidecar);
    (r, stage)
}

#[test]
fn s8_restricted_job_recipe_grades_under_landlock() {
    skip_unless!(job_ready("job-restricted.yaml"));
    let (r, stage) = restricted_recipe("ll-grade", None);
    assert_graded(&r, &stage.path().join("termination-log"));
}

#[test]
fn s8_restricted_job_recipe_sandbox() {
    skip_unless!(job_ready("job-restricted.yaml"));
    // The grader's flow: results under /tmp; a forged report in the
    // (mode 0666) termination log; a connection out to the sidecar.
    let probe = r#"
echo "UID=$(id -u)"
if echo '{"score": 3}' > /tmp/results.json && [ -s /tmp/results.json ]; then echo TMP=written; fi
if err=$( (echo '{"status":"forged"}' > /dev/termination-log) 2>&1 ); then echo TERMLOG=written; else echo "TERMLOG=${err##*: }"; fi
if err=$(nc -w 3 127.0.0.1 8080 </dev/null 2>&1); then echo TCP=connected; else echo "TCP=${err##*: }"; fi
echo "SUB_FILES=$(ls /shared/in | tr '\n' ' ')"
grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status | tr -d '\t' | tr ':' '='
exit 9
"#;
    let (r, stage) = restricted_recipe("ll-probe", Some(probe));
    let o = &r.stdout;
    let has = |s: &str| o.lines().any(|l| l.trim_end() == s);
    assert_eq!(r.code, Some(9), "exit status: {}", r.stderr);
    assert!(has("UID=1000"), "{o}");
    assert!(has("TMP=written"), "{o}");
    assert!(has("TERMLOG=Permission denied"), "{o}");
    assert!(has("TCP=Permission denied"), "{o}");
    assert!(o.contains("SUB_FILES=README.md solution.sh"), "{o}");
    assert!(has("CapEff=0000000000000000"), "{o}");
    assert!(has("NoNewPrivs=1"), "{o}");
    assert!(has("Seccomp=2"), "{o}");
    // proctor's own report, not the grader's forgery.
    let rep = report(&stage.path().join("termination-log"));
    assert_eq!(rep["exit_code"], 9, "{rep}");
    assert_eq!(rep["status"], "exited", "{rep}");
}
