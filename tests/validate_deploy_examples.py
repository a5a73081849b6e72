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
- examples/firecracker/*.json: against a JSON schema of Firecracker's
  `--config-file` shape, written from Firecracker's API description
  (BootSource, Drive, MachineConfiguration, NetworkInterface: required
  fields, types, enums, no unknown field), and the VM wiring: proctor's
  options after `--` on the kernel command line, `--reboot` with `reboot=k`
  or `reboot=t` (x86_64 Firecracker has no ACPI power-off), an initramfs and
  no root drive, each `--mount /dev/vdX` a read-only drive in that order;
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
import jsonschema
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
    "--memory": True, "--pids": True, "--cpus": True, "--cpu-time": True, "--cgroup": False,
    "--landlock": False, "--writable": True, "--no-tcp": False,
    "--pid-ns": False,
}
# cgroup options: containers get the cgroup filesystem read-only, and proctor
# remounts it writable in a mount namespace of its own (docs/resources.md).
CGROUP_OPTIONS = {"--memory", "--pids", "--cpus", "--cpu-time", "--cgroup"}
NEEDS_SYS_ADMIN = {"--bind", "--tmpfs", "--ro", "--net", "--pid-ns"} | CGROUP_OPTIONS
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
        if name in ("--wait-for", "--ro", "--report", "--chdir", "--writable") and not val.startswith("/"):
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
        if name in ("--timeout", "--wait-timeout", "--kill-after", "--cpus", "--cpu-time"):
            if float(val) <= 0:
                raise ValueError(f"{name}: {val!r} is not positive")
        if name == "--memory":
            size_bytes(val)
        if name == "--pids" and not (val.isdigit() and 0 < int(val) <= 4194304):
            raise ValueError(f"--pids: {val!r}")
    names = [n for n, _ in opts]
    if "--writable" in names and "--landlock" not in names:
        raise ValueError("--writable without --landlock")
    return opts, command


def size_bytes(val):
    """proctor's sizes: digits with an optional k m g t (powers of 1024)."""
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    num, unit = (val[:-1], units[val[-1].lower()]) if val[-1:].lower() in units else (val, 1)
    if not num.isdigit():
        raise ValueError(f"--memory: {val!r} is not a size")
    return int(num) * unit


def k8s_quantity(q):
    """A Kubernetes memory quantity (binary suffixes, or a plain number) in bytes."""
    units = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40}
    q = str(q)
    for suffix, mult in units.items():
        if q.endswith(suffix):
            return int(q[: -len(suffix)]) * mult
    return int(q)


def check_landlock(label, opts, writable_mounts=None):
    """Where proctor has no CAP_SYS_ADMIN, the grader is sandboxed with Landlock:
    writes only under --writable /tmp, no TCP. writable_mounts: with a read-only
    root filesystem, the container paths that are writable volumes."""
    names = [n for n, _ in opts]
    writable = [v for n, v in opts if n == "--writable"]
    if "--landlock" not in names or "--no-tcp" not in names:
        raise ValueError("without CAP_SYS_ADMIN the grader must run with --landlock and --no-tcp")
    if writable != ["/tmp"]:
        raise ValueError(f"--writable {writable}: the grader should write only under /tmp")
    if writable_mounts is not None:
        for w in writable:
            if not any(under(w, m) for m in writable_mounts):
                raise ValueError(f"--writable {w} is on the read-only root filesystem")
    ok(f"{label}: Landlock: writes only under {', '.join(writable)}, no TCP")


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
        restricted = spec.get("securityContext", {}).get("runAsNonRoot") is True
        opts = check_wiring(label, argv, mounts(grader), mounts(init), mounts(sidecar),
                            "\n".join(sidecar.get("command", []) + sidecar.get("args", [])),
                            caps, expect_sys_admin=not restricted)
        values = dict((n, v) for n, v in opts if n != "--tmpfs")
        if restricted:
            check_restricted(label, spec)
            broken = copy.deepcopy(spec)
            broken["containers"][-1]["securityContext"]["capabilities"]["add"] = ["SYS_ADMIN"]
            try:
                check_restricted(label, broken)
            except ValueError:
                ok(f"{label}: a copy that adds SYS_ADMIN is rejected as not restricted")
            else:
                raise ValueError("check_restricted accepted a container that adds SYS_ADMIN")
            ro_root = grader.get("securityContext", {}).get("readOnlyRootFilesystem") is True
            rw = [m["mountPath"] for m in grader.get("volumeMounts", []) if not m.get("readOnly")]
            check_landlock(label, opts, rw if ro_root else None)
        else:
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
        if "--memory" in values:
            limit = grader.get("resources", {}).get("limits", {}).get("memory")
            if limit is None or size_bytes(values["--memory"]) != k8s_quantity(limit):
                raise ValueError(f"--memory {values['--memory']} does not match the pod's limit {limit}")
            ok(f"{label}: --memory {values['--memory']} matches the grader's memory limit {limit}")
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


def check_restricted(label, spec):
    """The "restricted" Pod Security Standard (Kubernetes 1.33), for every container."""
    pod = spec.get("securityContext", {})
    if spec.get("automountServiceAccountToken") is not False:
        raise ValueError("restricted: set automountServiceAccountToken: false (no token to hide)")
    if any("hostPath" in v for v in spec["volumes"]):
        raise ValueError("restricted: hostPath volumes are forbidden")
    for c in spec.get("initContainers", []) + spec["containers"]:
        sc = c.get("securityContext", {})
        if sc.get("allowPrivilegeEscalation") is not False:
            raise ValueError(f"restricted: {c['name']} needs allowPrivilegeEscalation: false")
        caps = sc.get("capabilities", {})
        if "ALL" not in caps.get("drop", []) or set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
            raise ValueError(f"restricted: {c['name']} must drop ALL capabilities and add none")
        if not (sc.get("runAsNonRoot", pod.get("runAsNonRoot")) is True
                and sc.get("runAsUser", pod.get("runAsUser", 1)) != 0):
            raise ValueError(f"restricted: {c['name']} must run as non-root")
        seccomp = sc.get("seccompProfile", pod.get("seccompProfile", {})).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            raise ValueError(f"restricted: {c['name']} needs a RuntimeDefault or Localhost seccomp profile")
        if sc.get("privileged"):
            raise ValueError(f"restricted: {c['name']} is privileged")
    ok(f"{label}: restricted Pod Security Standard: non-root, no capability, no escalation, RuntimeDefault seccomp, no token")


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
    if fargate:
        check_landlock(label, opts)
    report = dict(opts).get("--report")
    if report and report not in "\n".join(sidecar.get("command", [])):
        raise ValueError(f"nobody collects the report {report}")
    ok(f"{label}: {'Fargate: Landlock, no privilege' if fargate else 'EC2: SYS_ADMIN, apparmor:unconfined'}; report {report} collected by the sidecar")
    broken = copy.deepcopy(td)
    broken["cpu"] = 1024
    broken["containerDefinitions"][0]["essentiall"] = True
    if not ecs_errors(broken):
        raise ValueError("the ECS validator accepted a broken task definition")
    ok(f"{label}: broken copy rejected by the validator (cpu as a number, unknown field)")


# ------------------------------------------------------------------ Firecracker

def _obj(required, props):
    return {"type": "object", "required": required, "properties": props,
            "additionalProperties": False}


_STR, _BOOL, _INT = {"type": "string"}, {"type": "boolean"}, {"type": "integer"}
_TOKEN_BUCKET = _obj(["size", "refill_time"],
                     {"size": _INT, "one_time_burst": _INT, "refill_time": _INT})
_RATE_LIMITER = _obj([], {"bandwidth": _TOKEN_BUCKET, "ops": _TOKEN_BUCKET})
# Firecracker's `--config-file` (the FullVmConfiguration of its API
# description, with the definitions a grading VM uses spelled out).
FIRECRACKER_SCHEMA = _obj(["boot-source"], {
    "boot-source": _obj(["kernel_image_path"], {
        "kernel_image_path": _STR, "initrd_path": _STR, "boot_args": _STR}),
    "drives": {"type": "array", "items": _obj(["drive_id", "is_root_device"], {
        "drive_id": _STR, "partuuid": _STR, "is_root_device": _BOOL,
        "cache_type": {"enum": ["Unsafe", "Writeback"]}, "is_read_only": _BOOL,
        "path_on_host": _STR, "rate_limiter": _RATE_LIMITER,
        "io_engine": {"enum": ["Sync", "Async"]}, "socket": _STR})},
    "machine-config": _obj(["mem_size_mib", "vcpu_count"], {
        "vcpu_count": {"type": "integer", "minimum": 1, "maximum": 32},
        "mem_size_mib": {"type": "integer", "minimum": 1},
        "smt": _BOOL, "track_dirty_pages": _BOOL,
        "cpu_template": {"enum": ["C3", "T2", "T2S", "T2CL", "T2A", "V1N1", "None"]},
        "huge_pages": {"enum": ["None", "Transparent", "2M"]}}),
    "network-interfaces": {"type": "array", "items": _obj(["iface_id", "host_dev_name"], {
        "iface_id": _STR, "host_dev_name": _STR, "guest_mac": _STR,
        "mtu": {"type": "integer", "minimum": 68, "maximum": 65535},
        "rx_rate_limiter": _RATE_LIMITER, "tx_rate_limiter": _RATE_LIMITER})},
    "vsock": _obj(["guest_cid", "uds_path"], {
        "guest_cid": {"type": "integer", "minimum": 3}, "uds_path": _STR, "vsock_id": _STR}),
    "logger": _obj([], {"log_path": _STR, "show_level": _BOOL, "show_log_origin": _BOOL,
                        "module": _STR,
                        "level": {"enum": ["Error", "Warning", "Info", "Debug", "Trace", "Off"]}}),
    "metrics": _obj(["metrics_path"], {"metrics_path": _STR}),
})


def firecracker_errors(cfg):
    v = jsonschema.Draft7Validator(FIRECRACKER_SCHEMA)
    return [f"{'/'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in v.iter_errors(cfg)]


def check_firecracker_wiring(cfg):
    """The VM wiring; returns a summary, raises ValueError on a fault."""
    boot = cfg["boot-source"]
    kernel_args, sep, init_args = boot.get("boot_args", "").partition(" -- ")
    if not sep:
        raise ValueError("no ' -- ' in boot_args: proctor gets no options")
    params = kernel_args.split()
    if not any(p in ("reboot=k", "reboot=t") for p in params):
        raise ValueError("boot_args lack reboot=k (or reboot=t): the VM would not end")
    if not any(p.startswith("panic=") for p in params):
        raise ValueError("boot_args lack panic=: a crash of /init would hang the VM")
    opts, command = parse_proctor(init_args.split())
    names = [n for n, _ in opts]
    if "--reboot" not in names or "--poweroff" in names:
        raise ValueError("x86_64 Firecracker has no ACPI power-off: use --reboot, not --poweroff")
    if not boot.get("initrd_path"):
        raise ValueError("no initrd_path: proctor is /init of an initramfs")
    drives = cfg.get("drives", [])
    if any(d["is_root_device"] for d in drives):
        raise ValueError("a root drive replaces the initramfs holding proctor")
    for name, val in opts:
        if name != "--mount":
            continue
        dev, dst, fstype, *rest = val.split(":")
        if not (dev.startswith("/dev/vd") and len(dev) == 8):
            raise ValueError(f"--mount {val}: not a virtio-blk device /dev/vdX")
        index = ord(dev[-1]) - ord("a")
        if not 0 <= index < len(drives):
            raise ValueError(f"--mount {val}: no drive number {index + 1}")
        drive = drives[index]
        writable = bool(rest) and "rw" in rest[0].split(",")
        if not writable and not drive.get("is_read_only"):
            raise ValueError(f"--mount {val}: drive {drive['drive_id']!r} is writable")
    return f"{len(opts)} proctor options, command {command}, {len(drives)} drive(s)"


def check_firecracker(path):
    label = os.path.relpath(path)
    with open(path) as f:
        cfg = json.load(f)
    errs = firecracker_errors(cfg)
    if errs:
        raise ValueError(f"not Firecracker's config shape: {errs}")
    ok(f"{label}: valid Firecracker --config-file shape (boot-source, drives, machine-config)")
    ok(f"{label}: --reboot with reboot=k, initramfs, read-only submission drive: "
       + check_firecracker_wiring(cfg))
    broken = copy.deepcopy(cfg)
    broken["machine-config"]["mem_size_mib"] = "512"
    broken["drives"][0]["read_only"] = True
    if len(firecracker_errors(broken)) < 2:
        raise ValueError("the schema accepted a broken config (a string size, an unknown field)")
    broken = copy.deepcopy(cfg)
    broken["boot-source"]["boot_args"] = broken["boot-source"]["boot_args"].replace("--reboot", "--poweroff")
    try:
        check_firecracker_wiring(broken)
        raise AssertionError("--poweroff accepted")
    except ValueError:
        pass
    ok(f"{label}: broken copies rejected (wrong type, unknown field, --poweroff on Firecracker)")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "examples"
    jobs = sorted(glob.glob(os.path.join(root, "kubernetes", "*.yaml")))
    tds = sorted(glob.glob(os.path.join(root, "ecs", "*.json")))
    vms = sorted(glob.glob(os.path.join(root, "firecracker", "*.json")))
    if not jobs or not tds or not vms:
        fail(f"no examples found under {root}/kubernetes, {root}/ecs and {root}/firecracker")
    checks = [(p, check_k8s_job) for p in jobs] + [(p, check_ecs) for p in tds]
    for path, check in checks + [(p, check_firecracker) for p in vms]:
        try:
            check(path)
        except Exception as e:  # noqa: BLE001 - every failure is reported
            fail(f"{path}: {e}")
    print(f"{len(jobs) + len(tds) + len(vms) - len(failures)} examples valid, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
