#!/usr/bin/env python3
"""Where proctor's code bytes come from, after LTO has inlined nearly
everything into a few functions: every instruction of .text is mapped back
through the line tables (addr2line -i) to the proctor source file whose code
it belongs to — the outermost proctor frame, so that library code inlined
into proctor counts for the proctor file that uses it — and separately to
the crate that wrote it (the innermost frame).

The binary is rebuilt with line tables only (same code, checked by comparing
.text sizes) into its own target directory.

usage: sizeprof.py REPO TARGET_DIR  → JSON on stdout
       sizeprof.py --diff OLD.json NEW.json  → what grew and shrank, by section and file
"""

import bisect
import json
import os
import re
import subprocess
import sys
from collections import Counter


def section_sizes(binary):
    out = subprocess.run(["size", "-A", binary], capture_output=True, text=True, check=True).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    return sizes


def build(repo, target_dir):
    env = dict(os.environ, CARGO_TARGET_DIR=target_dir, CARGO_PROFILE_RELEASE_DEBUG="line-tables-only")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=repo, env=env, check=True)
    return os.path.join(target_dir, "release", "proctor")


def instructions(binary):
    out = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", binary], capture_output=True, text=True, check=True
    ).stdout
    addrs = [int(m.group(1), 16) for m in re.finditer(r"^\s+([0-9a-f]+):", out, re.M)]
    sizes = {a: b - a for a, b in zip(addrs, addrs[1:])}
    if addrs:
        sizes[addrs[-1]] = 1
    return sizes


def frames(binary, addrs):
    """{address: [source file of each frame, innermost first]}."""
    res = subprocess.run(
        ["addr2line", "-i", "-a", "-e", binary],
        input="\n".join(hex(a) for a in addrs),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    out, cur = {}, None
    for line in res.splitlines():
        if line.startswith("0x"):
            cur = int(line, 16)
            out[cur] = []
        elif cur is not None:
            out[cur].append(line.rsplit(":", 1)[0])
    return out


def symbols(binary):
    """Sorted [(start, end, demangled name)] of the functions in .text."""
    out = subprocess.run(["nm", "-S", "-C", binary], capture_output=True, text=True, check=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[2] in "tT":
            start = int(parts[0], 16)
            syms.append((start, start + int(parts[1], 16), parts[3]))
    return sorted(syms)


def owner(path, repo):
    """('proctor', 'src/x.rs') for our files, else (crate, None)."""
    if path.startswith(repo + "/"):
        return "proctor", os.path.relpath(path, repo)
    m = re.search(r"/registry/src/[^/]+/([^/]+)-\d[^/]*/", path)
    if m:
        return m.group(1), None
    if "/library/" in path or "/rustc/" in path:
        return "core/alloc (Rust's library)", None
    return "unknown", None


def profile(repo, target_dir):
    repo = os.path.realpath(repo)
    binary = build(repo, target_dir)
    sizes = instructions(binary)
    syms = symbols(binary)
    starts = [s[0] for s in syms]
    by_file, by_crate, library = Counter(), Counter(), Counter()
    for addr, chain in frames(binary, list(sizes)).items():
        n = sizes[addr]
        owners = [owner(p, repo) for p in chain]
        by_crate[owners[0][0] if owners else "unknown"] += n
        ours = [f for c, f in owners if f]
        by_file[ours[0] if ours else "(library functions not inlined)"] += n
        if not ours:
            i = bisect.bisect_right(starts, addr) - 1
            inside = i >= 0 and syms[i][0] <= addr < syms[i][1]
            library[syms[i][2] if inside else "(no symbol)"] += n
    release = os.path.join(repo, "target", "release", "proctor")
    sections = section_sizes(binary)
    return {
        "sections": sections,
        "same_text_as_release": os.path.exists(release)
        and section_sizes(release).get(".text") == sections.get(".text"),
        "text_by_file": by_file.most_common(),
        "text_by_crate": by_crate.most_common(),
        "library_functions": library.most_common(12),
    }


def diff(old, new):
    """Lines: each section's size, then each file's .text, old → new, largest growth first."""
    out = [f"{k:8} {old['sections'].get(k, 0):7,} → {new['sections'].get(k, 0):7,}" for k in (".text", ".rodata", ".data")]
    a, b = dict(old["text_by_file"]), dict(new["text_by_file"])
    for f in sorted(set(a) | set(b), key=lambda f: a.get(f, 0) - b.get(f, 0)):
        if a.get(f, 0) != b.get(f, 0):
            out.append(f"{b.get(f, 0) - a.get(f, 0):+7,} {a.get(f, 0):7,} → {b.get(f, 0):7,}  {f}")
    return out


if __name__ == "__main__":
    if sys.argv[1] == "--diff":
        with open(sys.argv[2]) as o, open(sys.argv[3]) as n:
            print("\n".join(diff(json.load(o), json.load(n))))
    else:
        json.dump(profile(sys.argv[1], sys.argv[2]), sys.stdout, indent=1)
