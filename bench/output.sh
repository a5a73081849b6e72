#!/bin/sh
# Throughput of --output-limit: 4 GiB from a command writing 1 MiB blocks
# (dd bs=1M), into /dev/null and into a file, four ways:
#   direct   the command writes to DEST itself (no proctor, no pipe)
#   cat      COMMAND | cat > DEST (the SPEC's reference copy)
#   proctor  proctor --output-limit 8g -- COMMAND > DEST
#   plain    proctor -- COMMAND > DEST (no --output-limit: no copy at all)
# Each is run BENCH_OUTPUT_RUNS times (default 3); the best run counts.
# Prints one table and the figure the SPEC asks for: proctor / cat >= 90%.
#
# Usage (root: proctor runs as PID 1 of a throwaway PID namespace):
#   sh bench/output.sh [PROCTOR]      (default target/release/proctor)
# BENCH_OUTPUT_GIB sets the size (default 4); BENCH_OUTPUT_DIR the
# directory of the file destination (default target/bench).
set -eu
cd "$(dirname "$0")/.."
proctor=$(realpath "${1:-target/release/proctor}")
runs=${BENCH_OUTPUT_RUNS:-3}
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

# Seconds (with nanoseconds) that the shell code $1 takes.
elapsed() {
    t0=$(date +%s.%N)
    sh -c "$1"
    t1=$(date +%s.%N)
    calc "$t1 - $t0"
}

# Best of $runs for shell code $1 writing to $2, in GiB/s.
best() {
    top=0
    i=0
    while [ "$i" -lt "$runs" ]; do
        rm -f "$file"
        s=$(elapsed "$1")
        if [ "$2" != /dev/null ]; then
            size=$(stat -c %s "$2")
            [ "$size" = $((count * 1048576)) ] || { echo "bench/output.sh: $2 has $size bytes" >&2; exit 1; }
        fi
        top=$(calc "($gib / $s > $top) ? $gib / $s : $top")
        i=$((i + 1))
    done
    rm -f "$file"
    printf '%.2f' "$top"
}

printf '%-10s %-10s %10s %10s %10s %10s %14s\n' destination "" direct cat proctor plain "proctor/cat"
for dest in /dev/null "$file"; do
    label=$([ "$dest" = /dev/null ] && echo /dev/null || echo file)
    direct=$(best "$writer > $dest" "$dest")
    viacat=$(best "$writer | cat > $dest" "$dest")
    carried=$(best "$ns $proctor --output-limit 8g -- $writer > $dest" "$dest")
    plain=$(best "$ns $proctor -- $writer > $dest" "$dest")
    ratio=$(calc "100 * $carried / $viacat")
    printf '%-10s %-10s %10s %10s %10s %10s %13.0f%%\n' "$label" "GiB/s" "$direct" "$viacat" "$carried" "$plain" "$ratio"
done
echo "($gib GiB in 1 MiB blocks, best of $runs; proctor: --output-limit 8g; plain: no --output-limit)"
