#!/bin/sh
# proctor against an earlier revision of itself: pure-init and default mode,
# interleaved rounds, the overhead over /bin/true paired per round.
#   sh bench/versus.sh REV [ROUNDS]     e.g. sh bench/versus.sh db94e89 (0.1)
# Builds REV in a temporary worktree; needs root (a PID namespace per run).
set -eu
cd "$(dirname "$0")/.."
rev=$1 rounds=${2:-3000}
work=$(mktemp -d)
trap 'git worktree remove --force "$work/src" >/dev/null 2>&1; rm -rf "$work"' EXIT
git worktree add -q --detach "$work/src" "$rev"
(cd "$work/src" && CARGO_TARGET_DIR="$work/target" cargo build --release -q)
cargo build --release -q
cc -O2 -static -o "$work/harness" bench/harness.c
# Both side by side in one directory: exec from another filesystem costs differently.
old="$work/old" new="$work/new"
cp "$work/target/release/proctor" "$old"
cp target/release/proctor "$new"
# The timing and the paired medians are bench.py's own (spawn_overhead).
cd bench
PYTHONDONTWRITEBYTECODE=1 unshare --pid --fork --mount-proc python3 - "$work" "$rev" "$rounds" <<'PY'
import sys
import bench

work, rev, rounds = sys.argv[1:]
pure = ["--keep-caps", "--seccomp", "none"]
inits = [
    bench.Init(f"{rev} pure", f"{work}/old", pure),
    bench.Init("HEAD pure", f"{work}/new", pure),
    bench.Init(f"{rev} default", f"{work}/old", []),
    bench.Init("HEAD default", f"{work}/new", []),
]
versus = {"HEAD pure": f"{rev} pure", "HEAD default": f"{rev} default"}
res = bench.spawn_overhead(f"{work}/harness", inits, int(rounds), work, versus=versus)
print(f"{rounds} interleaved rounds, {bench.SCHEDULING}; µs over /bin/true (median of per-round differences)")
for mode in ("pure", "default"):
    old, new = res[f"{rev} {mode}"], res[f"HEAD {mode}"]
    paired = new[f"over_{rev} {mode}"]["median_us"]
    print(f"{mode:8} {rev}: {old['overhead_us']:6.1f}   HEAD: {new['overhead_us']:6.1f}   HEAD - {rev} paired: {paired:+.1f}")
PY
