# proctor's tasks. Run them through ./just (it installs `just` when missing):
#   ./just demo    a sample grading end to end (no Docker needed)
#   ./just test    installs the test tools, then the whole test suite

set shell := ["bash", "-euo", "pipefail", "-c"]

# list the recipes
default:
    @./just --list

# build the static release binary: target/release/proctor
build:
    cargo build --release

# run a sample grading end to end: examples/grader on examples/submission
demo: build
    sh examples/demo.sh

# install the test tools (tests/setup.sh), then run the whole suite (unit, integration, QEMU, Docker)
test:
    sh tests/setup.sh
    cargo test --release --no-fail-fast

# only the QEMU micro-VM smoke test (tests/qemu.rs)
test-qemu:
    sh tests/setup.sh
    cargo test --release --test qemu -- --nocapture

# only the Docker smoke tests (tests/docker.rs)
test-docker:
    sh tests/setup.sh
    cargo test --release --test docker -- --nocapture

# benchmarks against tini, dumb-init and catatonit (bench/run)
bench: build
    bench/run

# fuzz the pure parsers (fuzz/run)
fuzz:
    fuzz/run

# stripped size of the release binary, in bytes
size: build
    #!/usr/bin/env bash
    set -euo pipefail
    tmp=$(mktemp)
    trap 'rm -f "$tmp"' EXIT
    strip -o "$tmp" target/release/proctor
    echo "target/release/proctor: $(stat -c %s target/release/proctor) bytes, stripped: $(stat -c %s "$tmp") bytes"
