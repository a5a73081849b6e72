//! Offline validation of the deployment examples (examples/kubernetes,
//! examples/ecs, examples/firecracker) by tests/validate_deploy_examples.py:
//! the Kubernetes Job against the schemas bundled with PyPI's
//! kubernetes-validate, the ECS task definitions against botocore's
//! RegisterTaskDefinition input shape, the Firecracker VM configuration
//! against a schema of Firecracker's config file (jsonschema, which
//! kubernetes-validate brings), and proctor's command line in each against
//! the SPEC's option table.
//!
//! The Python packages are installed by tests/setup.sh. Without them this
//! test fails when CI=true and is skipped (with the reason printed) otherwise.

mod common;
use common::missing;

use std::path::Path;
use std::process::Command;

#[test]
fn deployment_examples_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let have = Command::new("python3")
        .args(["-c", "import kubernetes_validate, botocore, yaml"])
        .output();
    match have {
        Err(e) => return missing(&format!("python3 cannot be run: {e}")),
        Ok(o) if !o.status.success() => {
            return missing(&format!(
                "python3 lacks kubernetes-validate/botocore: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ))
        }
        Ok(_) => {}
    }
    let out = Command::new("python3")
        .arg(root.join("tests/validate_deploy_examples.py"))
        .arg(root.join("examples"))
        .current_dir(root)
        .output()
        .expect("run validate_deploy_examples.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "validation failed:\n{stdout}\n{stderr}"
    );
    for expected in [
        "examples/kubernetes/job.yaml: Job grade-hw1-12345 valid against the Kubernetes",
        "examples/kubernetes/job.yaml: --net none, service-account token hidden by --tmpfs",
        "examples/kubernetes/job.yaml: broken copies rejected",
        "examples/ecs/task-definition.json: valid RegisterTaskDefinition input",
        "examples/kubernetes/job.yaml: --pid-ns, since CAP_SYS_ADMIN is granted",
        "examples/ecs/task-definition.json: --pid-ns, since CAP_SYS_ADMIN is granted",
        "examples/ecs/task-definition.json: CAP_SYS_ADMIN added",
        "examples/ecs/task-definition-fargate.json: valid RegisterTaskDefinition input",
        "examples/ecs/task-definition-fargate.json: CAP_SYS_ADMIN not needed (plain init mode)",
        "examples/kubernetes/job-limits.yaml: Job grade-hw1-12345-limits valid against the Kubernetes",
        "examples/kubernetes/job-limits.yaml: --memory 512m matches the grader's memory limit 512Mi",
        "examples/kubernetes/job-limits.yaml: CAP_SYS_ADMIN added, for --bind, --cpu-time, --memory, --net, --pid-ns, --pids, --ro, --tmpfs",
        "examples/ecs/task-definition-fargate.json: Landlock: writes only under /tmp, no TCP",
        "examples/kubernetes/job-restricted.yaml: Job grade-hw1-12345-restricted valid against the Kubernetes",
        "examples/kubernetes/job-restricted.yaml: restricted Pod Security Standard: non-root, no capability",
        "examples/kubernetes/job-restricted.yaml: a copy that adds SYS_ADMIN is rejected as not restricted",
        "examples/kubernetes/job-restricted.yaml: Landlock: writes only under /tmp, no TCP",
        "examples/firecracker/vm_config.json: valid Firecracker --config-file shape",
        "examples/firecracker/vm_config.json: --reboot with reboot=k, initramfs, read-only submission drive",
        "examples/firecracker/vm_config.json: broken copies rejected",
        "6 examples valid, 0 failed",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}
