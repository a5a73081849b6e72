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

# release artifacts in target/dist: stripped static binaries for x86_64 and
# aarch64 with SHA256SUMS, the FROM-scratch image proctor:VERSION (needs a
# Docker daemon) and a Debian package with a man page made from --help
dist:
    #!/usr/bin/env bash
    set -euo pipefail
    version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
    out=target/dist
    rm -rf "$out" && mkdir -p "$out"
    cargo build --release
    cargo build --release --target aarch64-unknown-linux-musl --target-dir target/aarch64
    strip -o "$out/proctor-$version-x86_64" target/release/proctor
    aarch64-linux-gnu-strip -o "$out/proctor-$version-aarch64" \
        target/aarch64/aarch64-unknown-linux-musl/release/proctor
    # The image: only /proctor, for a grader's COPY --from=proctor:VERSION /proctor /init.
    ctx=$(mktemp -d) && trap 'rm -rf "$ctx"' EXIT
    cp "$out/proctor-$version-x86_64" "$ctx/proctor"
    printf 'FROM scratch\nCOPY proctor /proctor\nENTRYPOINT ["/proctor"]\n' > "$ctx/Dockerfile"
    docker build -q -t "proctor:$version" "$ctx" > /dev/null
    docker save "proctor:$version" | gzip -n > "$out/proctor-$version-image.tar.gz"
    # The Debian package, assembled by hand: control file, binary, man page.
    deb="$ctx/deb" && mkdir -p "$deb/DEBIAN" "$deb/usr/bin" "$deb/usr/share/man/man1"
    install -m 0755 "$out/proctor-$version-x86_64" "$deb/usr/bin/proctor"
    target/release/proctor --help | awk -v v="$version" '
        BEGIN { print ".TH PROCTOR 1 \"\" \"proctor " v "\" \"User Commands\""
                print ".SH NAME"; print "proctor \\- a tiny PID 1 that sandboxes and supervises untrusted graders"
                print ".SH SYNOPSIS"; print ".nf" }
        { gsub(/\\/, "\\e"); sub(/^[.\x27]/, "\\\\&&"); print }
        END { print ".fi"; print ".SH SEE ALSO"; print "tini(1), dumb-init(1), bwrap(1)" }' \
        | gzip -n -9 > "$deb/usr/share/man/man1/proctor.1.gz"
    printf '%s\n' "Package: proctor" "Version: $version" "Architecture: amd64" \
        "Maintainer: proctor developers <proctor@localhost>" "Section: admin" "Priority: optional" \
        "Installed-Size: $(du -sk "$deb/usr" | cut -f1)" \
        "Description: tiny static PID 1 that sandboxes and supervises untrusted graders" \
        " proctor waits for a submission, mounts it read-only, limits resources," \
        " drops privileges, runs the grader, reaps, reports and exits with its status." \
        > "$deb/DEBIAN/control"
    dpkg-deb --root-owner-group -Zxz --build "$deb" "$out/proctor_${version}_amd64.deb" > /dev/null
    (cd "$out" && sha256sum proctor-* proctor_* > SHA256SUMS)
    ls -l "$out"

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
