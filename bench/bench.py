#!/usr/bin/env python3
"""Measure proctor against tini, tini-static, dumb-init and catatonit, side by
side in one run, and write docs/benchmarks.md and docs/benchmarks.png.

Started by bench/run, which installs the tools, builds proctor and the
harness, and runs this script as PID 1 of a throwaway PID namespace
(`unshare --pid --fork --mount-proc`): nothing an init does with kill(-1)
can reach the machine. The timing loops are in bench/harness.c.
"""

import argparse
import ctypes
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter

import report

KIB = 1024


def env_int(name, default):
    return int(os.environ.get(name, default))


PARAMS = {
    "BENCH_RUNS": env_int("BENCH_RUNS", 2000),  # interleaved rounds of the spawn loop
    "BENCH_ORPHANS": env_int("BENCH_ORPHANS", 10000),
    "BENCH_FLOOD_RUNS": env_int("BENCH_FLOOD_RUNS", 5),
    "BENCH_SIGNALS": env_int("BENCH_SIGNALS", 2000),
    "BENCH_WAITS": env_int("BENCH_WAITS", 30),
    "BENCH_STRACE_RUNS": env_int("BENCH_STRACE_RUNS", 3),
    "BENCH_RSS_RUNS": env_int("BENCH_RSS_RUNS", 3),
    "BENCH_SANDBOX_RUNS": env_int("BENCH_SANDBOX_RUNS", 400),  # rounds of the sandbox table
    "BENCH_FLOOR_RUNS": env_int("BENCH_FLOOR_RUNS", 500),  # rounds of bench/default_floor.c
    "BENCH_COLD_RUNS": env_int("BENCH_COLD_RUNS", 20),  # rounds after an idle pause (cgroup row)
    "BENCH_COLD_PAUSE_MS": env_int("BENCH_COLD_PAUSE_MS", 250),
    # 1: time on one CPU under SCHED_FIFO, out of reach of the other users'
    # load (which otherwise widens the spread tenfold); 0: as scheduled.
    "BENCH_RT": env_int("BENCH_RT", 1),
}


def timing_prefix():
    """taskset + chrt for the timed harness runs, when asked and possible."""
    if not PARAMS["BENCH_RT"]:
        return [], "normal scheduling, any CPU"
    cpu = max(os.sched_getaffinity(0))
    prefix = ["taskset", "-c", str(cpu), "chrt", "-f", "10"]
    if subprocess.run([*prefix, "true"], capture_output=True).returncode != 0:
        return [], "normal scheduling, any CPU (SCHED_FIFO refused)"
    return prefix, f"pinned to CPU {cpu}, SCHED_FIFO priority 10 (`taskset -c {cpu} chrt -f 10`)"


PREFIX, SCHEDULING = timing_prefix()

FLOOR = "floor (reference)"

# The signal loop runs in chunks, each init in turn, so that a change of the
# machine's load falls on all of them alike.
SIGNAL_CHUNKS = 4


class Init:
    def __init__(self, name, path, args, proctor=False, forwards=True):
        self.name, self.path, self.args = name, path, args
        self.proctor = proctor
        self.forwards = forwards  # forwards signals (the floor does not)

    def argv(self, command):
        return [self.path, *self.args, "--", *command]


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def pct(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(p * len(s)))]


# --- size ------------------------------------------------------------------


def elf_facts(path):
    """(has PT_INTERP, DT_NEEDED names) from the ELF headers."""
    out = subprocess.run(["readelf", "-ld", "-W", path], capture_output=True, text=True).stdout
    interp = "INTERP" in out.split()
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.*?)\]", out)
    return interp, needed


def size_of(init, scratch):
    copy = os.path.join(scratch, "stripped-" + os.path.basename(init.path))
    subprocess.run(["strip", "-o", copy, init.path], check=True)
    size = os.path.getsize(copy)
    interp, needed = elf_facts(init.path)
    with open(init.path, "rb") as f:
        blob = f.read()
    if interp or needed:
        libc = "yes: dynamic (" + ", ".join(needed) + ")"
        needs = True
    elif b"glibc." in blob or b"GLIBC" in blob:
        libc = "no: static, bundles glibc"
        needs = False
    else:
        libc = "no: static, no libc"
        needs = False
    return {"stripped": size, "libc": libc, "needs_libc": needs}


# --- the harness -------------------------------------------------------------


def harness(h, *args, prefix=None, **kw):
    # A generous limit: an init that hangs must not hang the benchmark.
    cmd = [*(PREFIX if prefix is None else prefix), h, *args]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    if res.returncode != 0:
        raise RuntimeError(f"harness {args[0]} failed ({res.returncode}): {res.stderr.strip()}")
    return [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]


def check_runs(h, init, command, cwd):
    """None if `init -- command` runs and exits 0 as PID 1, else the reason."""
    res = subprocess.run(
        [h, "exec1", *init.argv(command)], capture_output=True, text=True, cwd=cwd, timeout=60
    )
    if res.returncode == 0:
        return None
    err = res.stderr.strip().splitlines()
    return f"exit {res.returncode}: {err[-1] if err else '(no message)'}"


def spawn_overhead(h, inits, rounds, cwd, prefix=None, versus=None, pause_ms=0):
    """Interleaved rounds: baseline, then each init, with the start rotating.
    versus {name: other}: also the paired cost of `name` over `other`.
    pause_ms: idle that long before each run (a quiet host's pace)."""
    args = [str(rounds), "/bin/true", "/bin/true"]
    for i in inits:
        args += ["::", i.name, *i.argv(["/bin/true"])]
    env = {**os.environ, "HARNESS_PAUSE_MS": str(pause_ms)}
    rows = {r["name"]: r for r in harness(h, "spawn", *args, cwd=cwd, prefix=prefix, env=env)}
    base = rows["/bin/true"]["samples"]
    result = {"baseline_us": statistics.median(base) / 1e3}
    # Any two inits of the same rounds, paired per round: (a, b) -> median of a - b.
    result["paired"] = {
        (a.name, b.name): statistics.median(
            x - y for x, y in zip(rows[a.name]["samples"], rows[b.name]["samples"])
        )
        / 1e3
        for a in inits
        for b in inits
        if a is not b
    }
    for i in inits:
        s = rows[i.name]["samples"]
        # Paired per round: the same moment's baseline is subtracted, which
        # cancels most of the load the machine's other users add.
        diffs = [a - b for a, b in zip(s, base)]
        result[i.name] = {
            "median_us": statistics.median(s) / 1e3,
            "overhead_us": statistics.median(diffs) / 1e3,
            "overhead_p25_us": pct(diffs, 0.25) / 1e3,
            "overhead_p75_us": pct(diffs, 0.75) / 1e3,
            "failures": rows[i.name]["failures"],
        }
    for name, other in (versus or {}).items():
        diffs = [a - b for a, b in zip(rows[name]["samples"], rows[other]["samples"])]
        result[name]["over_" + other] = {
            "median_us": statistics.median(diffs) / 1e3,
            "p25_us": pct(diffs, 0.25) / 1e3,
            "p75_us": pct(diffs, 0.75) / 1e3,
        }
    return result


# --- syscalls ------------------------------------------------------------------

LINE = re.compile(r"^(\d+)\s+(.*)$")


def syscalls_to_exec(trace, init_path, command_path):
    """The syscalls strace -f saw from the init and its children after the
    init's execve and before the command's execve (both excluded), in order."""
    lines = []
    with open(trace) as f:
        for raw in f:
            m = LINE.match(raw)
            if m:
                lines.append((int(m.group(1)), m.group(2)))
    start = next(
        i for i, (_, t) in enumerate(lines) if t.startswith(f'execve("{init_path}"') and "= 0" in t
    )
    init_pid = lines[start][0]
    # The harness is the only process before; every pid seen later is the init's.
    outsiders = {p for p, _ in lines[:start]} - {init_pid}
    calls = []
    for pid, text in lines[start + 1 :]:
        if pid in outsiders or text.startswith(("<...", "+++", "---")):
            continue
        if pid != init_pid and text.startswith(f'execve("{command_path}"'):
            return calls
        calls.append((pid == init_pid, text))
    raise RuntimeError(f"no execve of {command_path} in the trace of {init_path}")


def count_syscalls(h, init, runs, cwd, scratch, command=("/bin/true",)):
    trace = os.path.join(scratch, "strace.txt")
    counts, calls = [], None
    for _ in range(runs):
        res = subprocess.run(
            ["strace", "-f", "-qq", "-o", trace, h, "exec1", *init.argv(list(command))],
            capture_output=True,
            timeout=60,
            text=True,
            cwd=cwd,
        )
        if res.returncode != 0:
            err = res.stderr.strip().splitlines()
            return {"error": f"exit {res.returncode}: {err[-1] if err else ''}"}
        c = syscalls_to_exec(trace, init.path, command[0])
        counts.append(len(c))
        if calls is None or len(c) < len(calls):
            calls = c
    return {
        "median": int(statistics.median(counts)),
        "counts": counts,
        "by_name": Counter(t.split("(")[0] for _, t in calls).most_common(),
        "calls": [("init  " if parent else "child ") + t for parent, t in calls],
    }


DURATION = re.compile(r"^(\d+)\s+(?:<\.\.\. (\w+) resumed>|(\w+)\().*<(\d+\.\d+)>$")


def slowest_calls(h, init, cwd, scratch, top=5):
    """The longest syscalls of proctor itself in one --wait-for run (strace -T)."""
    trace = os.path.join(scratch, "strace-wait.txt")
    subprocess.run(
        ["strace", "-f", "-qq", "-T", "-o", trace, h, "waitfor", "1", "proctor", *init.argv([h, "stamp"])],
        capture_output=True,
        timeout=60,
        cwd=cwd,
    )
    calls = []
    with open(trace) as f:
        lines = f.read().splitlines()
    start = next((i for i, t in enumerate(lines) if f'execve("{init.path}"' in t), None)
    if start is None:
        return []
    pid = lines[start].split()[0]
    for line in lines[start + 1 :]:
        m = DURATION.match(line)
        if m and m.group(1) == pid:
            name = m.group(2) or m.group(3)
            # Waiting for the marker is the point; the rest is overhead.
            if name not in ("ppoll", "wait4", "rt_sigtimedwait", "read"):
                calls.append((float(m.group(4)) * 1e3, line.split(None, 1)[1][:100]))
    return sorted(calls, reverse=True)[:top]


def traced_kernel_time(h, init, runs, cwd, scratch):
    """Where a mode's time to the command's execve goes, by `strace -f -T`:
    the time inside the bounding-set drops, inside seccomp() and inside every
    other call, summed per run (median of `runs`). strace stops at every call,
    so each figure is inflated by that; the shares are what matter."""
    trace = os.path.join(scratch, "strace-T.txt")
    sums = {"PR_CAPBSET_DROP": [], "seccomp": [], "other": []}
    counts = {}
    for _ in range(runs):
        subprocess.run(
            ["strace", "-f", "-qq", "-T", "-o", trace, h, "exec1", *init.argv(["/bin/true"])],
            capture_output=True,
            timeout=60,
            cwd=cwd,
        )
        run = {k: 0.0 for k in sums}
        n = {k: 0 for k in sums}
        for _, text in syscalls_to_exec(trace, init.path, "/bin/true"):
            t = re.search(r"<(\d+\.\d+)>$", text)
            if not t:
                continue  # an interrupted call: its time is on the resumed line
            name = text.split("(")[0]
            key = "PR_CAPBSET_DROP" if "PR_CAPBSET_DROP" in text else "seccomp" if name == "seccomp" else "other"
            run[key] += float(t.group(1)) * 1e6
            n[key] += 1
        for k in sums:
            sums[k].append(run[k])
        counts = n
    return {k: {"calls": counts[k], "median_us": statistics.median(v)} for k, v in sums.items()}


# --- the sandbox half ------------------------------------------------------------

SANDBOX_FLOOR = "sandbox floor (reference)"

# Seen from inside each sandbox: what it really isolated.
PROBE = (
    "grep -E '^(Uid|CapEff|NoNewPrivs|Seccomp):' /proc/self/status; "
    "grep -E ' @S@/(mnt|scratch) ' /proc/self/mountinfo | cut -d' ' -f5,6; "
    "echo net $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ' ')"
)


def isolation(init, scratch, cwd):
    """What the command sees inside `init`: uid, capabilities, no_new_privs,
    seccomp, the submission's and the scratch's mount flags, the network."""
    probe = PROBE.replace("@S@", scratch)
    res = subprocess.run(init.argv(["/bin/sh", "-c", probe]), capture_output=True, text=True, cwd=cwd, timeout=60)
    facts = {"exit": res.returncode}
    for line in res.stdout.splitlines():
        if ":" in line and line.split(":", 1)[0] in ("Uid", "CapEff", "NoNewPrivs", "Seccomp"):
            k, v = line.split(":", 1)
            facts[k] = v.split()[0]
        elif line.startswith("net "):
            facts["net"] = line[4:].strip()
        elif line.startswith(scratch):
            path, flags = line.split(" ", 1)
            key = "submission" if path.endswith("/mnt") else "scratch"
            # The last mount at a path is the one the command sees.
            facts[key] = ",".join(f for f in flags.split(",") if f in ("ro", "rw", "nosuid", "nodev", "noexec"))
    return facts


def sandbox_section(h, p, scratch, cwd, floor, shim, bwrap_filter, seccomp_len):
    """The full grading configuration against the sandbox floor, bubblewrap
    and firejail, and proctor's cost option by option, in one interleaved loop."""
    sub, mnt, tmp = (os.path.join(scratch, d) for d in ("submission", "mnt", "scratch"))
    base = ["--keep-caps", "--seccomp", "none"]
    full = [
        "--bind", f"{sub}:{mnt}", "--tmpfs", tmp, "--net", "none", "--user", "65534:65534",
        "--rlimit", "nofile=256", "--rlimit", "cpu=30", "--timeout", "30",
    ]
    sandboxes = [Init("proctor (full grading)", p, full, proctor=True)]
    if floor:
        sandboxes.append(Init(SANDBOX_FLOOR, floor, [sub, mnt, tmp, str(seccomp_len)]))
    if shutil.which("bwrap") and shim and bwrap_filter:
        sandboxes.append(Init("bubblewrap", shim, [
            bwrap_filter, "/usr/bin/timeout", "30", shutil.which("bwrap"), "--seccomp", "9",
            "--bind", "/", "/", "--ro-bind", sub, mnt, "--tmpfs", tmp, "--proc", "/proc",
            "--unshare-net", "--unshare-user", "--uid", "65534", "--gid", "65534",
            "--cap-drop", "ALL", "--new-session", "--die-with-parent",
        ]))
    if shutil.which("firejail") and shim:
        sandboxes.append(Init("firejail", shim, [
            "-", "/usr/bin/timeout", "30", shutil.which("firejail"), "--quiet", "--noprofile",
            "--net=none", f"--bind={sub},{mnt}", f"--read-only={mnt}", f"--tmpfs={tmp}",
            "--caps.drop=all", "--nonewprivs", "--seccomp", "--rlimit-nofile=256", "--rlimit-cpu=30",
        ]))
    options = [
        ("pure init", []),
        ("+ --net none", ["--net", "none"]),
        ("+ --bind + --tmpfs", ["--bind", f"{sub}:{mnt}", "--tmpfs", tmp]),
        ("+ --user", ["--user", "65534:65534"]),
        ("+ 2 rlimits + --timeout", ["--rlimit", "nofile=256", "--rlimit", "cpu=30", "--timeout", "30"]),
        ("+ capability drop", ["--seccomp", "none"]),
        ("+ seccomp", ["--keep-caps"]),
        ("+ --memory --pids", ["--memory", "256m", "--pids", "64"]),
        ("+ --pid-ns", ["--pid-ns"]),
        ("+ --landlock", ["--landlock", "--writable", tmp]),
    ]
    rows = []
    for name, extra in options:
        # The capability drop and seccomp rows replace the pure-init pair.
        args = extra if name in ("+ capability drop", "+ seccomp") else [*base, *extra]
        rows.append(Init(f"option: {name}", p, args, proctor=True))
    out = {"runs": PARAMS["BENCH_SANDBOX_RUNS"], "sandboxes": {}, "options": {}, "errors": {}}
    timed = []
    for i in [*sandboxes, *rows]:
        err = check_runs(h, i, ["/bin/true"], cwd)
        if err:
            out["errors"][i.name] = err
            log(f"{i.name} does not run: {err}")
        else:
            timed.append(i)
    log(f"sandbox table: {out['runs']} interleaved rounds of the sandboxes")
    spawn = spawn_overhead(h, [i for i in timed if i in sandboxes], out["runs"], cwd)
    # Each option in a loop of its own beside pure init, paired round by
    # round: a network namespace's teardown (asynchronous, in the kernel's
    # workqueue) or a cgroup's removal would otherwise land on its neighbours.
    pure = next((i for i in timed if i.name == "option: pure init"), None)
    for i in timed:
        if i in sandboxes or i is pure or pure is None:
            continue
        log(f"{i.name}: {out['runs']} rounds beside pure init")
        pair = spawn_overhead(h, [pure, i], out["runs"], cwd)
        spawn[i.name] = pair[i.name]
        spawn[i.name]["over_pure_us"] = pair[i.name]["overhead_us"] - pair[pure.name]["overhead_us"]
        spawn.setdefault(pure.name, pair[pure.name])
    for i in timed:
        entry = {"spawn": spawn[i.name], "args": i.args}
        if i.proctor or i.name == SANDBOX_FLOOR:
            entry["syscalls"] = count_syscalls(h, i, PARAMS["BENCH_STRACE_RUNS"], cwd, scratch)
        if i in sandboxes:
            entry["isolation"] = isolation(i, scratch, cwd)
            out["sandboxes"][i.name] = entry
        else:
            out["options"][i.name.split(": ", 1)[1]] = entry
    return out


def cgroup_floor(h, floor, cwd):
    """The kernel's part of `--memory --pids` on a v1 host (bench/cgroup_floor.c
    in the cgroups this process is in), paired per round with the same program
    making no cgroup; None where no v1 hierarchy proctor would use is mounted."""
    dirs = []
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, names, where = line.rstrip("\n").split(":", 2)
            if {"memory", "pids", "cpuacct", "freezer"} & set(names.split(",")):
                dirs.append(f"/sys/fs/cgroup/{names}{where}")
    if not dirs:
        return None
    plain = Init("cgroup floor without a cgroup", floor, [])
    full = Init("cgroup floor", floor, dirs)
    runs = PARAMS["BENCH_SANDBOX_RUNS"]
    spawn = spawn_overhead(h, [plain, full], runs, cwd, versus={full.name: plain.name})
    return {**spawn[full.name]["over_" + plain.name], "hierarchies": len(dirs)}


def seccomp_program_length(h, p, cwd, scratch):
    """Instructions in proctor's default seccomp program, from strace."""
    trace = os.path.join(scratch, "strace-seccomp.txt")
    subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=seccomp", "-o", trace, h, "exec1", p, "--", "/bin/true"],
        capture_output=True, timeout=60, cwd=cwd,
    )
    with open(trace) as f:
        lens = [int(m) for m in re.findall(r"len=(\d+)", f.read())]
    return max(lens) if lens else 0


def seccomp_program(p, h, cwd, out):
    """proctor's default seccomp program as the kernel holds it, written raw to
    `out` (PTRACE_SECCOMP_GET_FILTER on the command while it sleeps); its length."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    run = subprocess.Popen([p, "--", h, "sleepms", "3000"], cwd=cwd)
    try:
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            kids = open(f"/proc/{run.pid}/task/{run.pid}/children").read().split()
            if kids and "Seccomp:\t2" in open(f"/proc/{kids[0]}/status").read():
                break
            time.sleep(0.01)
        else:
            raise RuntimeError("proctor's command never ran under its filter")
        pid = int(kids[0])
        if libc.ptrace(16, pid, None, None) != 0:  # PTRACE_ATTACH
            raise OSError(ctypes.get_errno(), "PTRACE_ATTACH")
        os.waitpid(pid, 0x40000000)  # __WALL
        buf = ctypes.create_string_buffer(8 * 4096)
        n = libc.ptrace(0x420C, pid, ctypes.c_void_p(0), buf)  # PTRACE_SECCOMP_GET_FILTER
        libc.ptrace(17, pid, None, None)  # PTRACE_DETACH
        if n <= 0:
            raise OSError(ctypes.get_errno(), "PTRACE_SECCOMP_GET_FILTER")
        with open(out, "wb") as f:
            f.write(buf.raw[: 8 * n])
        return n
    finally:
        run.kill()
        run.wait()


def default_floor(floor, p, h, cwd, scratch):
    """The kernel work the default mode adds over pure init, each part timed
    alone in a fresh child by bench/default_floor.c: {name: {median_us, calls, instructions}}."""
    program = os.path.join(scratch, "seccomp-program.bpf")
    seccomp_program(p, h, cwd, program)
    rows = harness(floor, str(PARAMS["BENCH_FLOOR_RUNS"]), program, cwd=cwd)
    return {
        r["name"]: {
            "median_us": statistics.median(r["samples"]) / 1e3,
            "calls": r["calls"],
            "instructions": r["instructions"],
        }
        for r in rows
    }


# --- main ----------------------------------------------------------------------


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    distro = "?"
    if os.path.exists("/etc/os-release"):
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    distro = line.split("=", 1)[1].strip().strip('"')
    try:
        with open("/proc/sys/kernel/sched_autogroup_enabled") as f:
            autogroup = f.read().strip()
    except OSError:
        autogroup = "absent"
    return {
        "autogroup": autogroup,
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024),
        "kernel": platform.release(),
        "distro": distro,
    }


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def versions():
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package} ${Version}\n", "tini", "dumb-init", "catatonit"],
        capture_output=True,
        text=True,
    ).stdout
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def git_rev(repo):
    res = subprocess.run(
        ["git", "-C", repo, "describe", "--always", "--dirty", "--abbrev=10"],
        capture_output=True,
        text=True,
    )
    return res.stdout.strip() or "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--proctor", required=True)
    ap.add_argument("--harness", required=True)
    ap.add_argument("--floor", help="bench/floor.c built: fork/exec/wait and nothing else")
    ap.add_argument("--default-floor", help="bench/default_floor.c built: the default mode's kernel work only")
    ap.add_argument("--sandbox-floor", help="bench/sandbox_floor.c built: the grading run's kernel work only")
    ap.add_argument("--cgroup-floor", help="bench/cgroup_floor.c built: the v1 cgroup work only")
    ap.add_argument("--peer-shim", help="bench/peer_shim.c built: rlimits and a filter fd for the peers")
    ap.add_argument("--bwrap-filter", help="bench/bwrap_filter.py's BPF program: proctor's deny-list")
    ap.add_argument("--docs", required=True, help="directory for benchmarks.md/.png")
    ap.add_argument("--json", required=True, help="where to keep the raw results")
    ap.add_argument("--sizeprof", help="bench/sizeprof.py's JSON, if it ran")
    ap.add_argument("--command", default="./just bench", help="the command line, for the record")
    opts = ap.parse_args()
    if os.getpid() != 1:
        sys.exit("bench.py must run as PID 1 of a throwaway PID namespace (use bench/run)")

    h = os.path.abspath(opts.harness)
    p = os.path.abspath(opts.proctor)
    pure = Init("proctor", p, ["--keep-caps", "--seccomp", "none"], proctor=True)
    default = Init("proctor (default)", p, [], proctor=True)
    peers = [
        Init("tini", "/usr/bin/tini", []),
        Init("tini-static", "/usr/bin/tini-static", []),
        Init("dumb-init", "/usr/bin/dumb-init", []),
        Init("catatonit", "/usr/bin/catatonit", []),
    ]
    inits = [pure, default, *peers]
    if opts.floor:
        inits.append(Init(FLOOR, os.path.abspath(opts.floor), [], forwards=False))
    started = datetime.datetime.now(datetime.timezone.utc)
    res = {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_before": loadavg(),
        "params": PARAMS,
        "command": opts.command,
        "scheduling": SCHEDULING,
        "proctor_rev": git_rev(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        "versions": versions(),
        "inits": {},
    }
    if opts.sizeprof and os.path.exists(opts.sizeprof):
        with open(opts.sizeprof) as f:
            res["sizeprof"] = json.load(f)
    scratch = tempfile.mkdtemp(prefix="proctor-bench.")
    os.chmod(scratch, 0o755)  # the grading run's --user must reach its cwd
    cwd = scratch
    try:
        # A full grading configuration: marker already there, a bind, a tmpfs,
        # rlimits, --user and the default seccomp filter.
        for d in ("submission", "mnt", "scratch"):
            os.mkdir(os.path.join(scratch, d))
        with open(os.path.join(scratch, "ready"), "w"):
            pass
        grading = Init(
            "proctor (grading)",
            p,
            [
                "--wait-for",
                f"{scratch}/ready",
                "--bind",
                f"{scratch}/submission:{scratch}/mnt",
                "--tmpfs",
                f"{scratch}/scratch",
                "--rlimit",
                "nofile=256",
                "--rlimit",
                "cpu=30",
                "--user",
                "65534:65534",
            ],
            proctor=True,
        )
        res["grading_args"] = grading.args
        res["grading_error"] = check_runs(h, grading, ["/bin/true"], cwd)
        # The same with the command's cgroup: what --memory and --pids add
        # (finding, creating and limiting the cgroup, placing the command,
        # and at the end the kill, the accounting and the removal).
        cgroup = Init(
            "proctor (grading + cgroup)",
            p,
            [*grading.args, "--memory", "256m", "--pids", "64"],
            proctor=True,
        )
        res["cgroup_args"] = cgroup.args[len(grading.args) :]
        res["cgroup_error"] = check_runs(h, cgroup, ["/bin/true"], cwd)
        # The same configuration with --pid-ns: its cost is the difference.
        pidns = Init("proctor (grading, --pid-ns)", p, [*grading.args, "--pid-ns"], proctor=True)
        timed = list(inits)
        if res["grading_error"]:
            log(f"grading configuration fails: {res['grading_error']}")
        else:
            timed.append(grading)
            res["pidns_error"] = check_runs(h, pidns, ["/bin/true"], cwd)
            if res["pidns_error"]:
                log(f"grading configuration with --pid-ns fails: {res['pidns_error']}")
            else:
                timed.append(pidns)
        if res["cgroup_error"]:
            log(f"grading configuration + cgroup fails: {res['cgroup_error']}")
        else:
            timed.append(cgroup)
        # The default mode with Landlock (issue 19): its cost is paired, round
        # by round, with the same run without it.
        landlock = Init(
            "proctor (landlock)",
            p,
            ["--landlock", "--writable", f"{scratch}/scratch", "--no-tcp"],
            proctor=True,
        )
        res["landlock_args"] = landlock.args
        res["landlock_error"] = check_runs(h, landlock, ["/bin/true"], cwd)
        if res["landlock_error"]:
            log(f"landlock configuration fails: {res['landlock_error']}")
        else:
            timed.append(landlock)

        for i in inits:
            res["inits"][i.name] = {"size": size_of(i, scratch)}
        for i in inits:
            err = check_runs(h, i, ["/bin/true"], cwd)
            if err:
                sys.exit(f"bench: {i.name} cannot run /bin/true: {err}")

        log(f"spawn overhead: {PARAMS['BENCH_RUNS']} interleaved rounds of {len(timed) + 1}")
        versus = {} if res["landlock_error"] else {landlock.name: default.name}
        spawn = spawn_overhead(h, timed, PARAMS["BENCH_RUNS"], cwd, versus=versus)
        res["spawn_baseline_us"] = spawn["baseline_us"]
        if not res["grading_error"]:
            res["grading_spawn"] = spawn[grading.name]
        if not res["cgroup_error"]:
            res["cgroup_spawn"] = spawn[cgroup.name]
        if not res["cgroup_error"] and not res["grading_error"]:
            # Back to back, the kernel's fast paths stay warm; a quiet host
            # runs one job now and then. (A cold cgroup.procs write waits out
            # an RCU grace period: 5-35 ms here.)
            n, ms = PARAMS["BENCH_COLD_RUNS"], PARAMS["BENCH_COLD_PAUSE_MS"]
            log(f"the cgroup's cost after an idle pause: {n} rounds, {ms} ms before each run")
            cold = spawn_overhead(
                h, [grading, cgroup], n, cwd, versus={cgroup.name: grading.name}, pause_ms=ms
            )
            res["cgroup_cold"] = cold[cgroup.name]["over_" + grading.name]
            if opts.cgroup_floor:
                log("the cgroup's kernel floor: bench/cgroup_floor.c")
                res["cgroup_floor"] = cgroup_floor(h, os.path.abspath(opts.cgroup_floor), cwd)
        if not res["landlock_error"]:
            res["landlock_spawn"] = spawn[landlock.name]
        if pidns.name in spawn:
            res["pidns_spawn"] = spawn[pidns.name]
            res["pidns_cost_us"] = spawn["paired"][(pidns.name, grading.name)]
        for i in inits:
            res["inits"][i.name]["spawn"] = spawn[i.name]
        if PREFIX:
            log("spawn overhead again, as the machine schedules it (other users' load included)")
            loaded = spawn_overhead(h, inits, PARAMS["BENCH_RUNS"], cwd, prefix=[])
            res["spawn_loaded_baseline_us"] = loaded["baseline_us"]
            for i in inits:
                res["inits"][i.name]["spawn_loaded"] = loaded[i.name]

        log("syscalls to the command's execve (strace -f)")
        for i in inits:
            res["inits"][i.name]["syscalls"] = count_syscalls(
                h, i, PARAMS["BENCH_STRACE_RUNS"], cwd, scratch
            )
        res["grading_syscalls"] = (
            {"error": res["grading_error"]}
            if res["grading_error"]
            else count_syscalls(h, grading, PARAMS["BENCH_STRACE_RUNS"], cwd, scratch)
        )
        res["cgroup_syscalls"] = (
            {"error": res["cgroup_error"]}
            if res["cgroup_error"]
            else count_syscalls(h, cgroup, PARAMS["BENCH_STRACE_RUNS"], cwd, scratch)
        )

        log("peak RSS of the init while the command sleeps")
        for i in inits:
            hwm = []
            for _ in range(PARAMS["BENCH_RSS_RUNS"]):
                (r,) = harness(h, "rss", i.name, *i.argv([h, "sleepms", "300"]), cwd=cwd)
                hwm.append(r["vmhwm_kb"])
            res["inits"][i.name]["rss_kib"] = statistics.median(hwm)

        n = PARAMS["BENCH_ORPHANS"]
        log(f"reaping {n} orphans, {PARAMS['BENCH_FLOOD_RUNS']} runs each")
        flood = {i.name: [] for i in inits}
        for _ in range(PARAMS["BENCH_FLOOD_RUNS"]):
            for i in inits:  # interleaved, like the spawn loop
                (r,) = harness(h, "flood", i.name, *i.argv([h, "floodcmd", str(n)]), cwd=cwd)
                if not r.get("result") or "reap_ns" not in r["result"]:
                    sys.exit(f"bench: flood under {i.name} failed: {r}")
                flood[i.name].append(r["result"])
        for i in inits:
            runs = flood[i.name]
            res["inits"][i.name]["reap_ms"] = statistics.median(r["reap_ns"] for r in runs) / 1e6
            res["inits"][i.name]["reap_runs_ms"] = [round(r["reap_ns"] / 1e6, 1) for r in runs]
            res["inits"][i.name]["create_ms"] = statistics.median(r["create_ns"] for r in runs) / 1e6
            res["inits"][i.name]["reap_cpu_ms"] = (
                statistics.median(r["init_cpu_ns"] for r in runs) / 1e6
            )

        rounds = PARAMS["BENCH_SIGNALS"]
        log(f"signal round trips, {rounds} each, in {SIGNAL_CHUNKS} interleaved chunks")
        direct = Init("direct", h, [])
        forwarding = [direct, *(i for i in inits if i.forwards)]
        signal = {i.name: ([], [0]) for i in forwarding}
        chunk = str(max(1, rounds // SIGNAL_CHUNKS))
        for _ in range(SIGNAL_CHUNKS):
            for i in forwarding:
                argv = [h, "sigcmd", "@FIFO@"] if i is direct else i.argv([h, "sigcmd", "@FIFO@"])
                (r,) = harness(h, "signal", chunk, i.name, *argv, cwd=cwd)
                signal[i.name][0].extend(r["samples"])
                signal[i.name][1][0] += r["failures"]
        res["signal_direct_us"] = statistics.median(signal["direct"][0]) / 1e3
        for i in inits:
            s, (lost,) = signal.get(i.name, ([], [None]))
            res["inits"][i.name]["signal"] = {
                "median_us": statistics.median(s) / 1e3 if s else None,
                "p90_us": pct(s, 0.9) / 1e3 if s else None,
                "lost": lost,
            }

        log("the sandbox half: the full grading configuration against its floor and the peers")
        seccomp_len = seccomp_program_length(h, p, cwd, scratch)
        res["sandbox"] = sandbox_section(
            h,
            p,
            scratch,
            cwd,
            opts.sandbox_floor and os.path.abspath(opts.sandbox_floor),
            opts.peer_shim and os.path.abspath(opts.peer_shim),
            opts.bwrap_filter and os.path.abspath(opts.bwrap_filter),
            seccomp_len,
        )
        res["sandbox"]["seccomp_len"] = seccomp_len
        if opts.default_floor:
            log("the default mode's kernel floor: the bounding-set drop and seccomp() alone")
            res["default_floor"] = default_floor(os.path.abspath(opts.default_floor), p, h, cwd, scratch)
        log("the default mode under strace -T")
        res["default_traced"] = traced_kernel_time(h, default, PARAMS["BENCH_STRACE_RUNS"], cwd, scratch)

        waits = PARAMS["BENCH_WAITS"]
        log(f"--wait-for latency, {waits} runs")
        wait_init = Init("proctor", p, [*pure.args, "--wait-for", "@MARKER@"], proctor=True)
        (r,) = harness(h, "waitfor", str(waits), "proctor", *wait_init.argv([h, "stamp"]), cwd=cwd)
        s = r["samples"]
        res["wait_for"] = {
            "median_ms": statistics.median(s) / 1e6 if s else None,
            "p90_ms": pct(s, 0.9) / 1e6 if s else None,
            "max_ms": max(s) / 1e6 if s else None,
            "lost": r["failures"],
            "slowest_calls": slowest_calls(h, wait_init, cwd, scratch),
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    res["load_after"] = loadavg()
    res["seconds"] = round((datetime.datetime.now(datetime.timezone.utc) - started).total_seconds())
    with open(opts.json, "w") as f:
        json.dump(res, f, indent=1)
    report.write(res, opts.docs)
    log(f"done in {res['seconds']} s: {opts.docs}/benchmarks.md")


if __name__ == "__main__":
    main()
