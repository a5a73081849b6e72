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
unshare --pid --fork --mount-proc taskset -c 1 chrt -f 10 "$work/harness" spawn "$rounds" /bin/true /bin/true \
    :: old-pure "$old" --keep-caps --seccomp none /bin/true \
    :: new-pure "$new" --keep-caps --seccomp none /bin/true \
    :: old-default "$old" /bin/true \
    :: new-default "$new" /bin/true >"$work/out.jsonl"
python3 - "$work/out.jsonl" "$rev" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows[r["name"]] = r["samples"]
base = rows["/bin/true"]
def paired(a, b):
    return statistics.median(x - y for x, y in zip(rows[a], rows[b])) / 1e3
print(f"{len(base)} interleaved rounds, µs over /bin/true (median of per-round differences)")
for mode in ("pure", "default"):
    old, new = paired(f"old-{mode}", "/bin/true"), paired(f"new-{mode}", "/bin/true")
    print(f"{mode:8} {sys.argv[2]}: {old:6.1f}   HEAD: {new:6.1f}   HEAD - {sys.argv[2]} paired: {paired(f'new-{mode}', f'old-{mode}'):+.1f}")
PY
