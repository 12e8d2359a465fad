#!/usr/bin/env bash
# scripts/build-test-images.sh — build dockhand's local test image from
# Debian's busybox-static (no registry needed) and import it into Docker and
# Podman, tagged under the names the tests use.
#
# Usage (as root, engines running — see scripts/setup-engines.sh):
#   scripts/build-test-images.sh                 # both engines
#   scripts/build-test-images.sh --docker-only
#   scripts/build-test-images.sh --podman-only
#   scripts/build-test-images.sh --force         # re-import even if up to date
#   scripts/build-test-images.sh --help
#
# Image: dockhand-test/busybox:latest, also tagged centos:latest, ubuntu:latest
# and busybox:latest, as a user's `docker tag` / `podman tag` would: in Podman
# unqualified tags live under localhost/ (localhost/centos:latest ...), and that
# is all the script tags there (no docker.io/library/ names: a short name must
# find a local image the way `podman run` does, localhost/ first).
#
# Rootfs: /bin/busybox + a symlink per applet (`busybox --list`: sh, env, cat,
# seq, sleep, head, dd, yes, ...), /sbin, /usr/bin, /usr/sbin -> /bin,
# /tmp (1777), /root (0700), /etc/passwd + /etc/group with root(0) and
# nobody(65534; groups nobody/nogroup), CMD ["/bin/sh"].
#
# Idempotence: the rootfs tarball is built reproducibly (sorted, mtime 0,
# owner 0:0); its sha256 (plus the image config recipe) is stored as label
# dockhand.rootfs.sha256. An engine whose dockhand-test/busybox:latest carries
# the same label is not re-imported; only missing/stale tags are (re)applied.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$SCRIPT_DIR/lib.sh"

IMAGE="dockhand-test/busybox:latest"
ALIASES=(centos:latest ubuntu:latest busybox:latest)
LABEL_KEY="dockhand.rootfs.sha256"
IMAGE_PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Bump when the rootfs layout or the image config below changes.
RECIPE_VERSION=1

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; }

do_docker=1
do_podman=1
force=0
while [ $# -gt 0 ]; do
    case "$1" in
        --docker-only) do_podman=0 ;;
        --podman-only) do_docker=0 ;;
        --force) force=1 ;;
        -h | --help) usage; exit 0 ;;
        *) usage; die "unknown argument: $1" ;;
    esac
    shift
done
[ "$do_docker" -eq 1 ] || [ "$do_podman" -eq 1 ] || die "--docker-only and --podman-only are mutually exclusive"

require_root
have_cmd tar || die "tar not found"
have_cmd sha256sum || die "sha256sum not found"

BUSYBOX="/bin/busybox"
if [ ! -x "$BUSYBOX" ] || ! pkg_installed busybox-static; then
    apt_ensure busybox-static
fi
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing (package busybox-static)"
if have_cmd file && ! file -L "$BUSYBOX" | grep -q 'statically linked'; then
    die "$BUSYBOX is not statically linked (install busybox-static, not busybox)"
fi

# ------------------------------------------------------------ build rootfs
work="$(mktemp -d /tmp/dockhand-rootfs.XXXXXX)"
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
tarball="$work/rootfs.tar"
umask 022

mkdir -p "$root"/{bin,etc,root,tmp,var/tmp,home,proc,sys,dev,usr}
cp "$BUSYBOX" "$root/bin/busybox"
chmod 0755 "$root/bin/busybox"
applets=()
while IFS= read -r a; do
    [ -n "$a" ] && applets+=("$a")
done < <("$BUSYBOX" --list)
[ "${#applets[@]}" -gt 0 ] || die "'busybox --list' printed nothing"
for a in "${applets[@]}"; do
    case "$a" in busybox | */*) continue ;; esac
    ln -s busybox "$root/bin/$a"
done
for a in sh env cat seq sleep head dd yes; do
    [ -L "$root/bin/$a" ] || die "busybox lacks required applet '$a'"
done
# merged-/usr style layout so /usr/bin/env, /sbin/ip etc. also resolve
ln -s bin "$root/sbin"
ln -s ../bin "$root/usr/bin"
ln -s ../bin "$root/usr/sbin"

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
nogroup:x:65534:
EOF
chmod 0644 "$root/etc/passwd" "$root/etc/group"
chmod 0700 "$root/root"
chmod 1777 "$root/tmp" "$root/var/tmp"

tar --create --file "$tarball" --directory "$root" \
    --format=gnu --sort=name --mtime='@0' \
    --owner=0 --group=0 --numeric-owner .

changes=(
    "CMD [\"/bin/sh\"]"
    "ENV PATH=$IMAGE_PATH"
)
# The label covers both the tarball and the config recipe.
sum="$( { sha256sum "$tarball" | cut -d' ' -f1; printf 'recipe=%s\n' "$RECIPE_VERSION"; printf '%s\n' "${changes[@]}"; } | sha256sum | cut -d' ' -f1)"
log "rootfs: ${#applets[@]} busybox applets, $(stat -c %s "$tarball") bytes, $LABEL_KEY=$sum"

# ---------------------------------------------------------- import per engine
# engine_label ENGINE REF -> prints the label value (empty if image/label missing)
engine_label() {
    "$1" image inspect --format "{{index .Config.Labels \"$LABEL_KEY\"}}" "$2" 2>/dev/null || true
}
engine_id() {
    "$1" image inspect --format '{{.Id}}' "$2" 2>/dev/null || true
}

import_into() {
    local engine="$1" args=() c id alias current
    shift
    have_cmd "$engine" || die "$engine not found"
    "$engine" info >/dev/null 2>&1 || die "$engine engine not usable ('$engine info' fails); run scripts/setup-engines.sh"

    if [ "$force" -eq 0 ] && [ "$(engine_label "$engine" "$IMAGE")" = "$sum" ]; then
        log "$engine: $IMAGE already up to date"
    else
        for c in "${changes[@]}" "LABEL $LABEL_KEY=$sum"; do
            args+=(--change "$c")
        done
        [ "$engine" = podman ] && args+=(--quiet)
        log "$engine: importing $IMAGE"
        "$engine" import "${args[@]}" --message "dockhand busybox test image" "$tarball" "$IMAGE" >/dev/null ||
            die "$engine import failed"
        [ "$(engine_label "$engine" "$IMAGE")" = "$sum" ] || die "$engine: imported image does not carry the expected label"
    fi
    id="$(engine_id "$engine" "$IMAGE")"
    [ -n "$id" ] || die "$engine: cannot inspect $IMAGE after import"

    for alias in "$@"; do
        current="$(engine_id "$engine" "$alias")"
        if [ "$current" = "$id" ]; then
            continue
        fi
        "$engine" tag "$IMAGE" "$alias" || die "$engine tag $IMAGE $alias failed"
        log "$engine: tagged $alias"
    done
    log "$engine: ready: $IMAGE (${id#sha256:}) = ${*}"
}

if [ "$do_docker" -eq 1 ]; then
    import_into docker "${ALIASES[@]}"
fi
if [ "$do_podman" -eq 1 ]; then
    # Where `podman tag IMAGE centos:latest` puts the name, spelled out so the
    # "already tagged?" check is exact (podman would otherwise resolve e.g.
    # busybox:latest by repository-suffix match).
    podman_aliases=()
    for a in "${ALIASES[@]}"; do
        podman_aliases+=("localhost/$a")
    done
    import_into podman "${podman_aliases[@]}"
fi
log "done"
