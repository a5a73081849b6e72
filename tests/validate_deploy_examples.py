#!/usr/bin/env python3
"""Offline validation of proctor's deployment examples (run by tests/deploy_examples.rs).

- examples/kubernetes/*.yaml: every document against the Kubernetes OpenAPI
  schemas bundled with PyPI's kubernetes-validate (strict: unknown fields are
  errors);
- examples/ecs/*.json: against the input shape of ECS RegisterTaskDefinition
  from botocore's service model, with botocore's own ParamValidator;
- both: the grader's proctor command line against proctor's option table
  (SPEC.md), and the wiring between containers (the binary comes from a volume
  an init container fills, the ready marker and the submission from a volume
  the sidecar writes, CAP_SYS_ADMIN exactly where mount or --net options are
  used);
- and, so that a validator that accepts everything cannot pass: a broken copy
  of each example must be rejected.

Usage: validate_deploy_examples.py EXAMPLES_DIR
Prints one "ok: ..." line per check; exits 1 with the reasons on any failure.
"""

import copy
import glob
import json
import os
import sys

import botocore.session
import kubernetes_validate
import yaml
from botocore.validate import ParamValidator

K8S_VERSION = "1.33.0"

# proctor's options (SPEC.md, "Invocation"): name -> takes a value
OPTIONS = {
    "-h": False, "--help": False, "-V": False, "--version": False,
    "-v": False, "--verbose": False, "-q": False, "--quiet": False,
    "-s": False, "--subreaper": False, "-g": False, "--pgroup": False,
    "-c": False, "--single-child": False,
    "--wait-for": True, "--wait-timeout": True, "--bind": True, "--tmpfs": True,
    "--ro": True, "--net": True, "--chdir": True, "--timeout": True,
    "--kill-after": True, "--rlimit": True, "--user": True, "--groups": True,
    "--env": True, "--unset-env": True, "--clear-env": False, "--keep-env": True,
    "--keep-fd": True, "--keep-caps": False, "--seccomp": True, "--report": True,
    "--poweroff": False, "--reboot": False, "--mount": True, "--module": True,
    "--pid-ns": False,
}
NEEDS_SYS_ADMIN = {"--bind", "--tmpfs", "--ro", "--net", "--pid-ns"}
RLIMITS = set("as core cpu data fsize locks memlock msgqueue nice nofile nproc rss "
              "rtprio rttime sigpending stack".split())

failures = []


def ok(msg):
    print(f"ok: {msg}")


def fail(msg):
    print(f"FAIL: {msg}")
    failures.append(msg)


def parse_proctor(argv):
    """Split proctor's arguments into [(option, value)] and the command, as SPEC.md says."""
    opts, i = [], 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            i += 1
            break
        if not a.startswith("-"):
            break
        name, eq, val = a.partition("=")
        if name not in OPTIONS:
            raise ValueError(f"unknown proctor option {a!r}")
        if OPTIONS[name]:
            if not eq:
                i += 1
                if i >= len(argv):
                    raise ValueError(f"{name}: missing value")
                val = argv[i]
            opts.append((name, val))
        else:
            if eq:
                raise ValueError(f"{name} takes no value")
            opts.append((name, None))
        i += 1
    command = argv[i:]
    if not command:
        raise ValueError("no COMMAND after the options")
    for name, val in opts:
        if name in ("--wait-for", "--ro", "--report", "--chdir") and not val.startswith("/"):
            raise ValueError(f"{name}: {val!r} is not an absolute path")
        if name == "--bind":
            parts = val.split(":")
            if len(parts) not in (2, 3) or not all(p.startswith("/") for p in parts[:2]):
                raise ValueError(f"--bind: {val!r} is not SRC:DST[:OPTS] with absolute paths")
        if name == "--tmpfs" and not val.split(":")[0].startswith("/"):
            raise ValueError(f"--tmpfs: {val!r} is not an absolute path")
        if name == "--net" and val != "none":
            raise ValueError(f"--net: {val!r} (only 'none')")
        if name == "--rlimit":
            rname, _, rval = val.partition("=")
            if rname not in RLIMITS or not rval:
                raise ValueError(f"--rlimit: {val!r}")
        if name == "--user":
            if not all(p.isdigit() for p in val.split(":")):
                raise ValueError(f"--user: {val!r} is not numeric UID[:GID]")
        if name in ("--timeout", "--wait-timeout", "--kill-after"):
            float(val)
    return opts, command


def under(path, mount):
    return path == mount or path.startswith(mount.rstrip("/") + "/")


def check_wiring(label, grader_argv, grader_mounts, init_mounts, sidecar_mounts,
                 sidecar_script, caps_add, expect_sys_admin):
    """Common checks; *_mounts are {container path: volume name}."""
    binary = grader_argv[0]
    opts, command = parse_proctor(grader_argv[1:])
    ok(f"{label}: proctor command line parses: {len(opts)} options, command {command}")
    vol = next((v for p, v in grader_mounts.items() if under(binary, p)), None)
    if vol is None or vol not in init_mounts.values():
        raise ValueError(f"{binary} is not on a volume that the init container fills")
    ok(f"{label}: {binary} comes from volume {vol!r}, filled by the init container")
    names = [n for n, _ in opts]
    for n, v in opts:
        if n == "--wait-for":
            gv = next((vv for p, vv in grader_mounts.items() if under(v, p)), None)
            if gv is None or gv not in sidecar_mounts.values():
                raise ValueError(f"--wait-for {v} is not on a volume shared with the sidecar")
            if v not in sidecar_script:
                raise ValueError(f"the sidecar never creates the ready marker {v}")
            ok(f"{label}: ready marker {v} is created by the sidecar on volume {gv!r}")
        if n == "--bind":
            src = v.split(":")[0]
            gv = next((vv for p, vv in grader_mounts.items() if under(src, p)), None)
            if gv is None or gv not in sidecar_mounts.values():
                raise ValueError(f"--bind source {src} is not on the sidecar's volume")
            ok(f"{label}: submission {src} comes from the sidecar's volume {gv!r}")
        if n == "--report":
            # proctor opens the report's directory before it waits: it must
            # exist when the container starts (a volume's root, or /dev for
            # the termination log), not be made later by the sidecar
            d = os.path.dirname(v)
            if d != "/dev" and d not in grader_mounts:
                raise ValueError(f"--report {v}: {d} may not exist when proctor starts")
            ok(f"{label}: report directory {d} exists when proctor starts")
    uses_sys_admin = any(n in NEEDS_SYS_ADMIN for n in names)
    has = "SYS_ADMIN" in caps_add or "CAP_SYS_ADMIN" in caps_add
    if uses_sys_admin and not has:
        raise ValueError("mount or --net options without CAP_SYS_ADMIN")
    if has and not uses_sys_admin:
        raise ValueError("CAP_SYS_ADMIN added but no option needs it")
    if expect_sys_admin != has:
        raise ValueError(f"expected SYS_ADMIN={expect_sys_admin}, found {has}")
    # --net none also brings loopback up: CAP_NET_ADMIN (docs/unprivileged.md)
    has_net_admin = "NET_ADMIN" in caps_add or "CAP_NET_ADMIN" in caps_add
    if ("--net" in names) != has_net_admin:
        raise ValueError(f"--net {'without' if '--net' in names else 'absent but'} CAP_NET_ADMIN"
                         f"{'' if '--net' in names else ' added'}")
    if has_net_admin:
        ok(f"{label}: CAP_NET_ADMIN added, for --net none (loopback)")
    # where CAP_SYS_ADMIN is granted, the command gets a PID namespace of its
    # own: it can then neither see nor signal proctor (README, privileges.md)
    if has and "--pid-ns" not in names:
        raise ValueError("CAP_SYS_ADMIN granted but no --pid-ns")
    if has:
        ok(f"{label}: --pid-ns, since CAP_SYS_ADMIN is granted")
    ok(f"{label}: CAP_SYS_ADMIN {'added, for ' + ', '.join(sorted(set(names) & NEEDS_SYS_ADMIN)) if has else 'not needed (plain init mode)'}")
    return opts


# ------------------------------------------------------------------ Kubernetes

def k8s_schema_errors(doc):
    # validate() raises on the first error and returns the schema version used
    try:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        return [getattr(e, "message", None) or str(e)]
    return []


def check_k8s_job(path):
    label = os.path.relpath(path)
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    if not docs:
        raise ValueError("no documents")
    for doc in docs:
        errs = k8s_schema_errors(doc)
        if errs:
            raise ValueError(f"{doc.get('kind')}: schema errors: {errs}")
        ok(f"{label}: {doc['kind']} {doc['metadata']['name']} valid against the Kubernetes {K8S_VERSION} schema (strict)")
        if doc["kind"] != "Job":
            continue
        spec = doc["spec"]["template"]["spec"]
        if spec.get("restartPolicy") not in ("Never", "OnFailure"):
            raise ValueError("a Job's pod needs restartPolicy Never or OnFailure")
        vols = {v["name"] for v in spec["volumes"]}
        mounts = lambda c: {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
        for c in spec.get("initContainers", []) + spec["containers"]:
            for m in c.get("volumeMounts", []):
                if m["name"] not in vols:
                    raise ValueError(f"{c['name']}: volume {m['name']} is not declared")
        init = spec["initContainers"][0]
        grader = next(c for c in spec["containers"] if c.get("command", [""])[0].endswith("/proctor"))
        sidecar = next(c for c in spec["containers"] if c is not grader)
        argv = grader["command"] + grader.get("args", [])
        caps = grader.get("securityContext", {}).get("capabilities", {}).get("add", [])
        opts = check_wiring(label, argv, mounts(grader), mounts(init), mounts(sidecar),
                            "\n".join(sidecar.get("command", []) + sidecar.get("args", [])),
                            caps, expect_sys_admin=True)
        values = dict((n, v) for n, v in opts if n != "--tmpfs")
        if values.get("--net") != "none":
            raise ValueError("the grader must run with --net none")
        tmpfs = [v.split(":")[0] for n, v in opts if n == "--tmpfs"]
        if "/var/run/secrets/kubernetes.io/serviceaccount" not in tmpfs:
            raise ValueError("the service-account token is not hidden by a --tmpfs")
        ok(f"{label}: --net none, service-account token hidden by --tmpfs")
        report = values.get("--report")
        if report != grader.get("terminationMessagePath", "/dev/termination-log"):
            raise ValueError(f"--report {report} is not the termination message path")
        ok(f"{label}: report goes to the termination message ({report})")
        sc = grader.get("securityContext", {})
        if sc.get("allowPrivilegeEscalation") is False and caps:
            raise ValueError("allowPrivilegeEscalation: false contradicts capabilities.add SYS_ADMIN")
        broken = copy.deepcopy(doc)
        broken["spec"]["template"]["spec"]["containers"][1]["args"] = "--timeout 30"
        broken["spec"]["template"]["spec"]["containers"][1]["securityContext"]["capabilities"]["add"] = [{"cap": "SYS_ADMIN"}]
        if not k8s_schema_errors(broken):
            raise ValueError("the schema validator accepted a broken Job (args as a string)")
        broken = copy.deepcopy(doc)
        broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
        if not k8s_schema_errors(broken):
            raise ValueError("the strict schema validator accepted an unknown field")
        ok(f"{label}: broken copies rejected by the validator (wrong type, unknown field)")


# ------------------------------------------------------------------ ECS

_ecs_shape = None


def ecs_errors(params):
    global _ecs_shape
    if _ecs_shape is None:
        model = botocore.session.get_session().get_service_model("ecs")
        _ecs_shape = model.operation_model("RegisterTaskDefinition").input_shape
    report = ParamValidator().validate(params, _ecs_shape)
    return report.generate_report() if report.has_errors() else ""


def check_ecs(path):
    label = os.path.relpath(path)
    with open(path) as f:
        td = json.load(f)
    errs = ecs_errors(td)
    if errs:
        raise ValueError(f"RegisterTaskDefinition input invalid:\n{errs}")
    ok(f"{label}: valid RegisterTaskDefinition input (botocore {botocore.__version__} ParamValidator)")
    compat = td.get("requiresCompatibilities", [])
    defs = {c["name"]: c for c in td["containerDefinitions"]}
    if not any(c.get("essential", True) for c in defs.values()):
        raise ValueError("no essential container")
    vols = {v["name"] for v in td.get("volumes", [])}
    mounts = lambda c: {m["containerPath"]: m["sourceVolume"] for m in c.get("mountPoints", [])}
    for c in defs.values():
        for m in c.get("mountPoints", []):
            if m["sourceVolume"] not in vols:
                raise ValueError(f"{c['name']}: volume {m['sourceVolume']} is not declared")
    grader = next(c for c in defs.values() if c.get("entryPoint", [""])[0].endswith("/proctor"))
    init = next(defs[d["containerName"]] for d in grader.get("dependsOn", [])
                if d["condition"] in ("SUCCESS", "COMPLETE"))
    sidecar = next(c for c in defs.values() if c is not grader and c is not init)
    caps = grader.get("linuxParameters", {}).get("capabilities", {}).get("add", [])
    fargate = "FARGATE" in compat
    if fargate:
        if td.get("networkMode") != "awsvpc":
            raise ValueError("Fargate needs networkMode awsvpc")
        if not td.get("cpu") or not td.get("memory"):
            raise ValueError("Fargate needs task-level cpu and memory")
        if grader.get("dockerSecurityOptions"):
            raise ValueError("Fargate does not support dockerSecurityOptions")
    opts = check_wiring(label, grader["entryPoint"] + grader.get("command", []), mounts(grader),
                        mounts(init), mounts(sidecar),
                        "\n".join(sidecar.get("entryPoint", []) + sidecar.get("command", [])),
                        caps, expect_sys_admin=not fargate)
    if not fargate and "apparmor:unconfined" not in grader.get("dockerSecurityOptions", []):
        raise ValueError("mount options need apparmor:unconfined on AppArmor hosts")
    report = dict(opts).get("--report")
    if report and report not in "\n".join(sidecar.get("command", [])):
        raise ValueError(f"nobody collects the report {report}")
    ok(f"{label}: {'Fargate: plain init mode' if fargate else 'EC2: SYS_ADMIN, apparmor:unconfined'}; report {report} collected by the sidecar")
    broken = copy.deepcopy(td)
    broken["cpu"] = 1024
    broken["containerDefinitions"][0]["essentiall"] = True
    if not ecs_errors(broken):
        raise ValueError("the ECS validator accepted a broken task definition")
    ok(f"{label}: broken copy rejected by the validator (cpu as a number, unknown field)")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "examples"
    jobs = sorted(glob.glob(os.path.join(root, "kubernetes", "*.yaml")))
    tds = sorted(glob.glob(os.path.join(root, "ecs", "*.json")))
    if not jobs or not tds:
        fail(f"no examples found under {root}/kubernetes and {root}/ecs")
    for path, check in [(p, check_k8s_job) for p in jobs] + [(p, check_ecs) for p in tds]:
        try:
            check(path)
        except Exception as e:  # noqa: BLE001 - every failure is reported
            fail(f"{path}: {e}")
    print(f"{len(jobs) + len(tds) - len(failures)} examples valid, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
