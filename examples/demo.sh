#!/bin/sh
# A sample grading, end to end, on this machine (no Docker needed):
#
#   1. a simulated co-process (the "sidecar") delivers the student's
#      submission into a staging directory after about a second, then
#      creates the ready marker;
#   2. proctor, PID 1 of a throwaway PID namespace, waits for the marker,
#      bind-mounts the submission read-only at /shared/submission in a
#      private mount namespace, mounts a tmpfs on /tmp, sets resource limits,
#      drops to uid/gid 65534 (nobody), runs the grader with a 30 s limit,
#      and writes its JSON report;
#   3. the grader's output, proctor's exit status and the report are shown.
#
# Run it as `./just demo` (builds proctor first) or `sh examples/demo.sh`.
# Needs root (namespaces, mounts, changing uid) and Debian's busybox-static
# (installed here when missing).
set -eu

cd "$(dirname "$0")/.."
ROOT=$(pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
PROCTOR="$TARGET_DIR/release/proctor"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        exec sudo CARGO_TARGET_DIR="$TARGET_DIR" sh "$0" "$@"
    fi
    echo "demo: needs root (PID and mount namespaces, --user); run it as root" >&2
    exit 1
fi

if [ ! -x /bin/busybox ]; then
    echo "demo: installing Debian's busybox-static (the grader's shell)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
fi
command -v unshare >/dev/null 2>&1 || {
    echo "demo: unshare (util-linux) is missing" >&2
    exit 1
}

say "building proctor"
cargo build --release --quiet
ls -l "$PROCTOR"

# Staging area, as a sidecar's shared volume would be. World-readable so the
# grader (uid 65534) can read what it is given.
# Not under /tmp: the grader gets a fresh tmpfs there.
STAGE=$(mktemp -d /var/tmp/proctor-demo.XXXXXX)
chmod 755 "$STAGE"
mkdir -m 755 "$STAGE/in" "$STAGE/grader" "$STAGE/out"
cp examples/grader/grade.sh "$STAGE/grader/grade.sh"
chmod 755 "$STAGE/grader/grade.sh"

# proctor creates missing mount points on the real filesystem (only the
# mounts are private); remove the ones this demo caused afterwards.
created=""
[ -e /shared ] || created="/shared/submission /shared"
cleanup() {
    for d in $created; do rmdir "$d" 2>/dev/null || true; done
    rm -rf "$STAGE"
}
trap cleanup EXIT INT TERM

say "starting the co-process: it delivers the submission after ~1 s"
(
    sleep 1
    cp -R examples/submission/. "$STAGE/in/"
    chmod -R a+rX "$STAGE/in"
    touch "$STAGE/ready"
    echo "co-process: submission delivered to $STAGE/in, marker $STAGE/ready created" >&2
) &
copier=$!

say "running the grader under proctor (PID 1 of a new PID namespace)"
set -- "$PROCTOR" -v \
    --wait-for "$STAGE/ready" --wait-timeout 60 \
    --bind "$STAGE/in:/shared/submission" \
    --tmpfs /tmp --chdir /tmp \
    --rlimit nproc=64 --rlimit nofile=256 --rlimit fsize=16m --rlimit cpu=20 \
    --user 65534:65534 \
    --timeout 30 \
    --report "$STAGE/out/report.json" \
    -- "$STAGE/grader/grade.sh"
echo "\$ unshare --pid --fork --mount-proc $*" | sed "s|$ROOT/||g"
echo
start=$(date +%s%N 2>/dev/null || echo 0)
status=0
unshare --pid --fork --mount-proc "$@" || status=$?
end=$(date +%s%N 2>/dev/null || echo 0)
wait "$copier" 2>/dev/null || true

say "result"
echo "proctor exit status: $status"
if [ "$start" != 0 ] && [ "$end" != 0 ]; then
    echo "elapsed (including the ~1 s wait for the submission): $(((end - start) / 1000000)) ms"
fi
echo "report ($STAGE/out/report.json):"
if [ -s "$STAGE/out/report.json" ]; then
    if command -v python3 >/dev/null 2>&1; then
        python3 -m json.tool "$STAGE/out/report.json"
    else
        cat "$STAGE/out/report.json"
    fi
else
    echo "  (no report written)"
    exit 1
fi

echo "(leftovers_killed: processes the grader left running -- here the watchdogs"
echo " of busybox's timeout, one per test -- which proctor killed at the end)"

# The grader exits 1 because the sample submission fails one test on purpose;
# that is the demo working. Anything else means something went wrong.
case "$status" in
    0) echo "demo: all tests passed" ;;
    1) echo "demo: the grader reported a failing test (expected: the sample submission has a bug)" ;;
    *)
        echo "demo: unexpected exit status $status" >&2
        exit "$status"
        ;;
esac
