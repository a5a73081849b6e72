#!/bin/sh
# Throughput of --output-limit: 4 GiB from a command writing 1 MiB blocks
# (dd bs=1M), into /dev/null and into a file, four ways:
#   direct   the command writes to DEST itself (no proctor, no pipe)
#   cat      COMMAND | cat > DEST (the SPEC's reference copy)
#   proctor  proctor --output-limit 8g -- COMMAND > DEST
#   plain    proctor -- COMMAND > DEST (no --output-limit: no copy at all)
# Rounds run the four ways one after the other (BENCH_OUTPUT_RUNS rounds,
# default 5), so that a change of the machine's load hits them alike; the
# best round of each counts. Prints one table and the figure the SPEC asks
# for: proctor / cat >= 90%.
#
# Usage (root: proctor runs as PID 1 of a throwaway PID namespace):
#   sh bench/output.sh [PROCTOR]      (default target/release/proctor)
# BENCH_OUTPUT_GIB sets the size (default 4); BENCH_OUTPUT_DIR the
# directory of the file destination (default target/bench).
set -eu
cd "$(dirname "$0")/.."
proctor=$(realpath "${1:-target/release/proctor}")
runs=${BENCH_OUTPUT_RUNS:-5}
gib=${BENCH_OUTPUT_GIB:-4}
dir=${BENCH_OUTPUT_DIR:-target/bench}
mkdir -p "$dir"
file=$(realpath "$dir")/output-bench.out
[ "$(id -u)" = 0 ] || { echo "bench/output.sh: needs root (PID namespaces)" >&2; exit 1; }
[ -x "$proctor" ] || { echo "bench/output.sh: no $proctor (cargo build --release)" >&2; exit 1; }

count=$((gib * 1024))
writer="dd if=/dev/zero bs=1M count=$count status=none"
ns="unshare --pid --fork --mount-proc --kill-child"

# Arithmetic on decimals (POSIX sh has integers only).
calc() { awk "BEGIN { print $1 }"; }

# GiB/s of the shell code $1, which writes $gib GiB to $2.
rate() {
    rm -f "$file"
    t0=$(date +%s.%N)
    sh -c "$1"
    t1=$(date +%s.%N)
    if [ "$2" != /dev/null ]; then
        size=$(stat -c %s "$2")
        [ "$size" = $((count * 1048576)) ] || { echo "bench/output.sh: $2 has $size bytes" >&2; exit 1; }
        rm -f "$file"
    fi
    calc "$gib / ($t1 - $t0)"
}

max() { calc "($1 > $2) ? $1 : $2"; }

printf '%-10s %-6s %9s %9s %9s %9s %12s\n' destination "" direct cat proctor plain "proctor/cat"
for dest in /dev/null "$file"; do
    direct=0 viacat=0 carried=0 plain=0
    i=0
    while [ "$i" -lt "$runs" ]; do
        direct=$(max "$direct" "$(rate "$writer > $dest" "$dest")")
        viacat=$(max "$viacat" "$(rate "$writer | cat > $dest" "$dest")")
        carried=$(max "$carried" "$(rate "$ns $proctor --output-limit 8g -- $writer > $dest" "$dest")")
        plain=$(max "$plain" "$(rate "$ns $proctor -- $writer > $dest" "$dest")")
        i=$((i + 1))
    done
    label=$([ "$dest" = /dev/null ] && echo /dev/null || echo file)
    printf '%-10s %-6s %9.2f %9.2f %9.2f %9.2f %11.0f%%\n' "$label" GiB/s \
        "$direct" "$viacat" "$carried" "$plain" "$(calc "100 * $carried / $viacat")"
done
echo "($gib GiB in 1 MiB blocks from dd, best of $runs interleaved rounds;" \
    "proctor: --output-limit 8g; plain: proctor without --output-limit)"
