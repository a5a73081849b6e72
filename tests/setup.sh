#!/bin/sh
# Installs everything proctor's test suite needs on a fresh Debian 12 machine
# (root, no network but the package registries). Idempotent: a second run
# installs nothing, reuses a running Docker daemon and the cached kernel.
#
#   tests/setup.sh            # from the repository top (./just test runs it)
#
# What it provides:
#   - Debian packages: qemu-system-x86, docker.io, busybox-static, strace,
#     iproute2, util-linux, tini, dumb-init, catatonit, qemu-user-static,
#     gcc-aarch64-linux-gnu (links the aarch64 build)
#   - Python packages for tests/deploy_examples.rs: kubernetes-validate, botocore
#   - rustup target aarch64-unknown-linux-musl (best effort)
#   - a Docker daemon (dockerd --bridge=none ...) when none answers
#   - a Debian kernel for the QEMU test in target/qemu/vmlinuz
#   - a minimal Debian root (debootstrap) in target/debian-root, into which
#     tests/dist.rs installs the .deb
set -eu

cd "$(dirname "$0")/.."
ROOT=$(pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
mkdir -p "$TARGET_DIR"

log() { printf 'setup: %s\n' "$*" >&2; }

SUDO=
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        log "not root and no sudo: cannot install packages"; exit 1
    fi
fi

# ---------------------------------------------------------------- apt
APT_PACKAGES="qemu-system-x86 docker.io busybox-static strace iproute2 util-linux \
tini dumb-init catatonit qemu-user-static gcc-aarch64-linux-gnu python3 debootstrap file"

apt_updated=no
apt_update_once() {
    if [ "$apt_updated" = no ]; then
        log "apt-get update"
        $SUDO apt-get update -qq
        apt_updated=yes
    fi
}

missing=
for p in $APT_PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    apt_update_once
    log "apt-get install$missing"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
    log "apt packages already installed"
fi

# ---------------------------------------------------------------- python
# kubernetes-validate and botocore validate examples/kubernetes and examples/ecs.
if python3 -c 'import kubernetes_validate, botocore' 2>/dev/null; then
    log "python packages already installed"
else
    log "pip install kubernetes-validate botocore"
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore kubernetes-validate botocore \
        || python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --break-system-packages \
            kubernetes-validate botocore
fi

# ---------------------------------------------------------------- rust targets
if command -v rustup >/dev/null 2>&1; then
    if rustup target list --installed 2>/dev/null | grep -q '^aarch64-unknown-linux-musl$'; then
        log "rust target aarch64-unknown-linux-musl already installed"
    elif rustup target add aarch64-unknown-linux-musl >/dev/null 2>&1; then
        log "rust target aarch64-unknown-linux-musl installed"
    else
        log "warning: rustup target add aarch64-unknown-linux-musl failed (aarch64 checks will skip)"
    fi
fi

# ---------------------------------------------------------------- docker
if docker info >/dev/null 2>&1; then
    log "docker daemon answers"
else
    mkdir -p "$TARGET_DIR/docker"
    DOCKERD_LOG="$TARGET_DIR/docker/dockerd.log"
    log "starting dockerd (log: $DOCKERD_LOG)"
    # A daemon killed with SIGKILL (as a session's leftovers are before CI)
    # leaves its pid files, and dockerd then refuses to start. A pid file is
    # stale when its process is gone, is a zombie, or is something else.
    for entry in /var/run/docker.pid:dockerd /var/run/docker/containerd/containerd.pid:containerd; do
        file=${entry%%:*} name=${entry##*:}
        [ -f "$file" ] || continue
        pid=$(cat "$file" 2>/dev/null || true)
        state=$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null || true)
        comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
        if [ -z "$pid" ] || [ "$comm" != "$name" ] || [ "$state" = Z ]; then
            log "removing the stale $file"
            $SUDO rm -f "$file"
        fi
    done
    # setsid + nohup: the daemon must outlive this script and the just recipe.
    # shellcheck disable=SC2086
    $SUDO setsid nohup dockerd --bridge=none --iptables=false --ip-masq=false \
        >>"$DOCKERD_LOG" 2>&1 </dev/null &
    i=0
    until docker info >/dev/null 2>&1; do
        i=$((i + 1))
        if [ "$i" -ge 60 ]; then
            log "dockerd did not answer within 60 s; last log lines:"
            tail -n 20 "$DOCKERD_LOG" >&2 || true
            exit 1
        fi
        sleep 1
    done
    log "docker daemon up after ${i} s"
fi

# ---------------------------------------------------------------- kernel
# A Debian kernel for tests/qemu.rs, cached as target/qemu/vmlinuz.
QEMU_DIR="$TARGET_DIR/qemu"
if [ -s "$QEMU_DIR/vmlinuz" ]; then
    log "kernel cached: $QEMU_DIR/vmlinuz ($(cat "$QEMU_DIR/kernel-package" 2>/dev/null || echo unknown))"
else
    mkdir -p "$QEMU_DIR"
    find_kernel_pkg() {
        # The meta-package names the newest kernel of the release.
        apt-cache depends linux-image-amd64 2>/dev/null \
            | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1
    }
    pkg=$(find_kernel_pkg)
    if [ -z "$pkg" ]; then
        apt_update_once
        pkg=$(find_kernel_pkg)
    fi
    if [ -z "$pkg" ]; then
        # Fall back to the highest-numbered plain amd64 image apt knows.
        pkg=$(apt-cache search --names-only '^linux-image-[0-9.]+-[0-9]+-amd64$' \
            | cut -d' ' -f1 | sort -V | tail -n 1)
    fi
    if [ -z "$pkg" ]; then
        log "no linux-image-*-amd64 package found"; exit 1
    fi
    log "fetching kernel package $pkg"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    (cd "$work" && apt-get download -q "$pkg" >/dev/null 2>&1) || {
        apt_update_once
        (cd "$work" && apt-get download -q "$pkg" >/dev/null)
    }
    deb=$(ls "$work"/*.deb | head -n 1)
    mkdir -p "$work/x"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/x" --wildcards './boot/vmlinuz-*'
    vmlinuz=$(ls "$work"/x/boot/vmlinuz-* | head -n 1)
    cp "$vmlinuz" "$QEMU_DIR/vmlinuz.tmp"
    mv "$QEMU_DIR/vmlinuz.tmp" "$QEMU_DIR/vmlinuz"
    echo "$pkg" >"$QEMU_DIR/kernel-package"
    log "kernel cached: $QEMU_DIR/vmlinuz ($pkg)"
fi

# ---------------------------------------------------------------- debian root
# A minbase Debian 12 root for tests/dist.rs (the .deb installs into an
# overlay over it, so the cached root stays pristine). About 2 minutes once.
DEBROOT="$TARGET_DIR/debian-root"
if [ -x "$DEBROOT/usr/bin/dpkg" ] && [ -f "$DEBROOT/.complete" ]; then
    log "debian root cached: $DEBROOT"
else
    log "debootstrap bookworm into $DEBROOT"
    rm -rf "$DEBROOT"
    $SUDO debootstrap --variant=minbase bookworm "$DEBROOT" \
        >"$TARGET_DIR/debootstrap.log" 2>&1 || {
        tail -n 20 "$TARGET_DIR/debootstrap.log" >&2; exit 1; }
    touch "$DEBROOT/.complete"
fi

log "done"
