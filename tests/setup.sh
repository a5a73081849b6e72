#!/bin/sh
# Installs everything proctor's test suite needs on a fresh Debian 12 machine
# (root, no network but the package registries). Idempotent: a second run
# installs nothing, reuses a running Docker daemon and the cached kernel.
#
#   tests/setup.sh            # from the repository top (./just test runs it)
#
# What it provides:
#   - Debian packages: qemu-system-x86, qemu-system-arm, docker.io,
#     busybox-static, strace, iproute2, util-linux, tini, dumb-init,
#     catatonit, qemu-user-static, gcc-aarch64-linux-gnu (links the aarch64
#     build) and libc6-dev-arm64-cross, gcc and libc6-dev (static C probes
#     for the VM tests), e2fsprogs (mkfs.ext4 -d: a submission drive)
#   - Python packages for tests/deploy_examples.rs: kubernetes-validate, botocore
#   - rustup target aarch64-unknown-linux-musl (best effort)
#   - a Docker daemon (dockerd --bridge=none ...) when none answers
#   - Debian kernels for the VM tests in target/qemu/ (cloud-amd64 with its
#     virtio modules, arm64)
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
APT_PACKAGES="qemu-system-x86 qemu-system-arm docker.io busybox-static strace iproute2 util-linux \
tini dumb-init catatonit qemu-user-static gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
gcc libc6-dev e2fsprogs python3 debootstrap file"

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

# ---------------------------------------------------------------- kernels
# Debian kernels for the VM tests, cached in target/qemu/:
#   cloud/vmlinuz       linux-image-cloud-amd64 (ext4 built in; boots in half
#   cloud/modules/      the time of the generic one under TCG) and its virtio
#                       drivers as plain .ko files: tests/qemu.rs
#   arm64/vmlinuz       linux-image-arm64: tests/aarch64.rs (-M virt)
QEMU_DIR="$TARGET_DIR/qemu"

# The newest kernel package a meta-package (e.g. linux-image-amd64) names.
kernel_package() {
    apt-cache depends "$1" 2>/dev/null \
        | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1
}

# fetch_kernel META DIR [FILE...]: unpack /boot/vmlinuz-* of META's kernel
# package as DIR/vmlinuz and each named FILE (a path in the package) into
# DIR/modules/; skipped when DIR/vmlinuz exists.
fetch_kernel() {
    meta=$1 dir=$2
    shift 2
    if [ -s "$dir/vmlinuz" ]; then
        log "kernel cached: $dir/vmlinuz ($(cat "$dir/kernel-package" 2>/dev/null || echo unknown))"
        return
    fi
    mkdir -p "$dir"
    pkg=$(kernel_package "$meta")
    if [ -z "$pkg" ]; then
        apt_update_once
        pkg=$(kernel_package "$meta")
    fi
    if [ -z "$pkg" ]; then
        log "no kernel package found for $meta"; exit 1
    fi
    log "fetching kernel package $pkg"
    work=$(mktemp -d)
    (cd "$work" && apt-get download -q "$pkg" >/dev/null 2>&1) || {
        apt_update_once
        (cd "$work" && apt-get download -q "$pkg" >/dev/null)
    }
    deb=$(ls "$work"/*.deb | head -n 1)
    mkdir -p "$work/x"
    # Only the files asked for: a kernel package unpacks to hundreds of MB.
    members='./boot/vmlinuz-*'
    for f in "$@"; do members="$members ./lib/modules/*/$f"; done
    # shellcheck disable=SC2086
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/x" --wildcards $members
    if [ $# -gt 0 ]; then
        mkdir -p "$dir/modules"
        for f in "$@"; do
            cp $work/x/lib/modules/*/"$f" "$dir/modules/"
        done
    fi
    vmlinuz=$(ls "$work"/x/boot/vmlinuz-* | head -n 1)
    cp "$vmlinuz" "$dir/vmlinuz.tmp"
    mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
    echo "$pkg" >"$dir/kernel-package"
    rm -rf "$work"
    log "kernel cached: $dir/vmlinuz ($pkg)"
}

fetch_kernel linux-image-cloud-amd64 "$QEMU_DIR/cloud" \
    kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko \
    kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko \
    kernel/drivers/virtio/virtio_pci.ko kernel/drivers/block/virtio_blk.ko
# The arm64 kernel is a package of another architecture: apt must know it.
if ! dpkg --print-foreign-architectures | grep -qx arm64 && [ ! -s "$QEMU_DIR/arm64/vmlinuz" ]; then
    log "dpkg --add-architecture arm64 (for the arm64 kernel package)"
    $SUDO dpkg --add-architecture arm64
    apt_updated=no
    apt_update_once
fi
fetch_kernel linux-image-arm64:arm64 "$QEMU_DIR/arm64"

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
