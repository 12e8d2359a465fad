#!/usr/bin/env bash
# scripts/build-test-images.sh — build dockhand's local test images from
# Debian packages (no image registry needed) and import them into Docker and
# Podman, tagged under the names the tests and Kestra's flows use.
#
# Usage (as root, engines running — see scripts/setup-engines.sh):
#   scripts/build-test-images.sh                 # every image, both engines
#   scripts/build-test-images.sh --docker-only
#   scripts/build-test-images.sh --podman-only
#   scripts/build-test-images.sh --only python,node   # some images (busybox, python, ...)
#   scripts/build-test-images.sh --jobs N        # parallel builds (default: cores, at most 4)
#   scripts/build-test-images.sh --force         # re-import even if up to date
#   scripts/build-test-images.sh --rebuild       # rebuild the cached root filesystems too
#   scripts/build-test-images.sh --list          # print the images and their tags
#   scripts/build-test-images.sh --help
#
# 1. busybox: dockhand-test/busybox:latest, also tagged centos:latest,
#    ubuntu:latest and busybox:latest, from Debian's busybox-static on this
#    host. Rootfs: /bin/busybox + a symlink per applet (`busybox --list`: sh,
#    env, cat, seq, sleep, head, dd, yes, ...), /sbin, /usr/bin, /usr/sbin ->
#    /bin, /tmp (1777), /root (0700), /etc/passwd + /etc/group with root(0) and
#    nobody(65534; groups nobody/nogroup), CMD ["/bin/sh"].
#
# 2. Language images: Debian 12 (bookworm) from deb.debian.org. A shared base
#    root filesystem (Essential + apt: mmdebstrap --variant=apt; no
#    Recommends, docs, man pages or locales) is made once; each image is that
#    base with its packages apt-installed in a chroot (private mount
#    namespace, no service started). Tagged with the default image of Kestra's
#    task types (src/flow/spec LANGUAGES: python:3.13-slim, node, r-base, ruby,
#    golang, perl, php, nickblah/lua, groovy), so a flow without
#    `containerImage` runs as it does in Kestra. The versions are Debian's
#    (python3.11 under the python:3.13-slim name). Also dockhand-test/git
#    (git; also tagged alpine/git, the image dockhand's git Clone runs git in)
#    and dockhand-test/docker-cli (Debian's docker.io). Languages with
#    no Debian package (julia, bun, deno, powershell, jbang) get no image.
#    `--list` prints the table.
#
# Tags: as a user's `docker tag` / `podman tag` would make them: in Podman
# unqualified names live under localhost/ (localhost/centos:latest,
# localhost/python:3.13-slim ...), and that is all the script tags there (no
# docker.io/library/ names: a short name must find a local image the way
# `podman run` does, localhost/ first).
#
# Cache: the root filesystems are kept as tarballs in $DOCKHAND_IMAGE_CACHE
# (default /var/cache/dockhand-images): base-KEY.tar and NAME-KEY.tar, KEY a
# hash of the recipe (suite, mirror, options, the base's sha256, packages). A
# tarball with the current KEY is reused; older ones are deleted. Builds run
# in a tmpfs (/dev/shm) when it has room; their logs are NAME.log there.
#
# Idempotence: each image carries label dockhand.rootfs.sha256 (the rootfs
# tarball's sha256 plus the image config recipe). An engine whose image
# carries the same label is not re-imported; only missing/stale tags are
# (re)applied. A second run with everything cached takes seconds.
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

CACHE_DIR="${DOCKHAND_IMAGE_CACHE:-/var/cache/dockhand-images}"
SUITE=bookworm
MIRROR="http://deb.debian.org/debian"
# Bump when the language rootfs recipe (options, hooks) below changes.
LANG_RECIPE_VERSION=1
# One language image a line: name | tags (the first is imported, the rest
# tagged) | Debian packages | CMD (as the official image's) [| files removed
# after the install, globs relative to the root]. The tags are the
# `default_image` of the LANGUAGES rows in src/flow/spec/mod.rs
# (tests/e2e_languages.rs checks that every row with a Debian package has one).
LANG_IMAGES=(
    # Debian marks its python3 externally managed (PEP 668: a plain `pip install`
    # is refused); the python image's own Python is not, and flows `pip install`.
    "python|python:3.13-slim|python3 python3-pip python3-venv python-is-python3|python3|usr/lib/python3.*/EXTERNALLY-MANAGED"
    "node|node:latest|nodejs|node"
    "r|r-base:latest|r-base-core|R"
    "ruby|ruby:latest|ruby|irb"
    "go|golang:latest|golang-go ca-certificates|bash"
    "perl|perl:latest|perl|perl -de0"
    "php|php:latest|php-cli|php -a"
    "lua|nickblah/lua:latest|lua5.4|lua"
    "groovy|groovy:latest|groovy default-jre-headless|groovysh"
    "git|dockhand-test/git:latest alpine/git:latest|git ca-certificates|bash"
    "docker-cli|dockhand-test/docker-cli:latest|docker.io|bash"
)
MMDEBSTRAP_OPTS=(
    --variant=apt
    --mode=root
    --format=tar
    "--aptopt=APT::Install-Recommends \"false\""
    "--aptopt=APT::Install-Suggests \"false\""
    # The machine's mirror may serve an older snapshot whose Release has expired.
    "--aptopt=Acquire::Check-Valid-Until \"false\""
    # Nothing here needs the files to survive a crash; dpkg's fsyncs cost minutes.
    --dpkgopt=force-unsafe-io
    "--dpkgopt=path-exclude=/usr/share/doc/*"
    "--dpkgopt=path-exclude=/usr/share/man/*"
    "--dpkgopt=path-exclude=/usr/share/info/*"
    "--dpkgopt=path-exclude=/usr/share/locale/*"
    "--dpkgopt=path-include=/usr/share/locale/locale.alias"
)

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; }

do_docker=1
do_podman=1
force=0
rebuild=0
only=""
list=0
jobs="$(nproc 2>/dev/null || echo 2)"
[ "$jobs" -le 4 ] || jobs=4
while [ $# -gt 0 ]; do
    case "$1" in
        --docker-only) do_podman=0 ;;
        --podman-only) do_docker=0 ;;
        --force) force=1 ;;
        --rebuild) rebuild=1; force=1 ;;
        --only) [ $# -ge 2 ] || die "--only needs a list of image names"; only=",$2,"; shift ;;
        --jobs) [ $# -ge 2 ] && [ "$2" -ge 1 ] 2>/dev/null || die "--jobs needs a number >= 1"; jobs="$2"; shift ;;
        --list) list=1 ;;
        -h | --help) usage; exit 0 ;;
        *) usage; die "unknown argument: $1" ;;
    esac
    shift
done
[ "$do_docker" -eq 1 ] || [ "$do_podman" -eq 1 ] || die "--docker-only and --podman-only are mutually exclusive"

if [ "$list" -eq 1 ]; then
    printf 'busybox\t%s %s\tbusybox-static (host)\n' "$IMAGE" "${ALIASES[*]}"
    for entry in "${LANG_IMAGES[@]}"; do
        IFS='|' read -r name tags pkgs _ <<<"$entry"
        printf '%s\t%s\t%s\n' "$name" "$tags" "$pkgs"
    done
    exit 0
fi

# wanted NAME -> true when the image NAME is to be built (see --only).
wanted() { [ -z "$only" ] || [[ "$only" == *",$1,"* ]]; }
if [ -n "$only" ]; then
    known=",busybox,"
    for entry in "${LANG_IMAGES[@]}"; do known+="${entry%%|*},"; done
    IFS=',' read -r -a asked <<<"${only#,}"
    for a in "${asked[@]}"; do
        [ -z "$a" ] || [[ "$known" == *",$a,"* ]] || die "unknown image '$a' (known: ${known//,/ })"
    done
fi

require_root
have_cmd tar || die "tar not found"
have_cmd sha256sum || die "sha256sum not found"
started=$SECONDS

# ---------------------------------------------------------- import per engine
# engine_label ENGINE REF -> prints the label value (empty if image/label missing)
engine_label() {
    "$1" image inspect --format "{{index .Config.Labels \"$LABEL_KEY\"}}" "$2" 2>/dev/null || true
}
engine_id() {
    "$1" image inspect --format '{{.Id}}' "$2" 2>/dev/null || true
}

# engine_ref ENGINE TAG -> the name `ENGINE tag` stores TAG under: as given
# on docker; on podman under localhost/ unless TAG names a registry, spelled
# out so the "already tagged?" check is exact (podman would otherwise resolve
# e.g. busybox:latest by repository-suffix match).
engine_ref() {
    local engine="$1" ref="$2" first
    case "${ref##*/}" in *:*) ;; *) ref="$ref:latest" ;; esac
    if [ "$engine" = podman ]; then
        first="${ref%%/*}"
        if [ "$first" = "$ref" ] || { [[ "$first" != *.* ]] && [[ "$first" != *:* ]] && [ "$first" != localhost ]; }; then
            ref="localhost/$ref"
        fi
    fi
    printf '%s\n' "$ref"
}

# import_into ENGINE TARBALL SUM MESSAGE IMAGE [ALIAS...]: imports TARBALL as
# IMAGE with the config in the IMPORT_CHANGES array and label $LABEL_KEY=SUM
# (skipped when IMAGE already carries that label), then tags the aliases.
import_into() {
    local engine="$1" tarball="$2" sum="$3" message="$4" image args=() c id alias ref current old
    image="$(engine_ref "$engine" "$5")"
    shift 5
    old="$(engine_id "$engine" "$image")"

    if [ "$force" -eq 0 ] && [ "$(engine_label "$engine" "$image")" = "$sum" ]; then
        log "$engine: $image already up to date"
    else
        for c in "${IMPORT_CHANGES[@]}" "LABEL $LABEL_KEY=$sum"; do
            args+=(--change "$c")
        done
        [ "$engine" = podman ] && args+=(--quiet)
        log "$engine: importing $image"
        "$engine" import "${args[@]}" --message "$message" "$tarball" "$image" >/dev/null ||
            die "$engine import of $image failed"
        [ "$(engine_label "$engine" "$image")" = "$sum" ] || die "$engine: imported $image does not carry the expected label"
    fi
    id="$(engine_id "$engine" "$image")"
    [ -n "$id" ] || die "$engine: cannot inspect $image after import"

    for alias in "$@"; do
        ref="$(engine_ref "$engine" "$alias")"
        current="$(engine_id "$engine" "$ref")"
        if [ "$current" = "$id" ]; then
            continue
        fi
        "$engine" tag "$image" "$ref" || die "$engine tag $image $ref failed"
        log "$engine: tagged $ref"
    done
    log "$engine: ready: $image (${id#sha256:})${*:+ = $*}"
    remove_replaced "$engine" "$old" "$id"
}

# remove_replaced ENGINE OLD_ID NEW_ID — after a re-import, removes the image
# it replaced when that one was made by this script (it has the label) and no
# tag is left on it; one a container still uses stays.
remove_replaced() {
    local engine="$1" old="$2" new="$3" tags
    [ -n "$old" ] && [ "$old" != "$new" ] || return 0
    [ -n "$(engine_label "$engine" "$old")" ] || return 0
    tags="$("$engine" image inspect --format '{{len .RepoTags}}' "$old" 2>/dev/null || echo 1)"
    [ "$tags" = 0 ] || return 0
    if "$engine" image rm "$old" >/dev/null 2>&1; then
        log "$engine: removed the replaced image ${old#sha256:}"
    fi
}

# check_engine ENGINE — dies unless ENGINE's CLI reaches its engine.
check_engine() {
    have_cmd "$1" || die "$1 not found"
    "$1" info >/dev/null 2>&1 || die "$1 engine not usable ('$1 info' fails); run scripts/setup-engines.sh"
}

# import_everywhere TARBALL SUM MESSAGE IMAGE [ALIAS...] — into each engine asked for.
import_everywhere() {
    [ "$do_docker" -eq 0 ] || import_into docker "$@"
    [ "$do_podman" -eq 0 ] || import_into podman "$@"
}

# ------------------------------------------------------------ 1. busybox
build_busybox() {
    local BUSYBOX="/bin/busybox" work root tarball applets=() a sum
    if [ ! -x "$BUSYBOX" ] || ! pkg_installed busybox-static; then
        apt_ensure busybox-static
    fi
    [ -x "$BUSYBOX" ] || die "$BUSYBOX missing (package busybox-static)"
    if have_cmd file && ! file -L "$BUSYBOX" | grep -q 'statically linked'; then
        die "$BUSYBOX is not statically linked (install busybox-static, not busybox)"
    fi

    work="$(mktemp -d /tmp/dockhand-rootfs.XXXXXX)"
    # shellcheck disable=SC2064  # expand now: $work is local
    trap "rm -rf '$work'" EXIT
    root="$work/rootfs"
    tarball="$work/rootfs.tar"
    umask 022

    mkdir -p "$root"/{bin,etc,root,tmp,var/tmp,home,proc,sys,dev,usr}
    cp "$BUSYBOX" "$root/bin/busybox"
    chmod 0755 "$root/bin/busybox"
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

    IMPORT_CHANGES=(
        "CMD [\"/bin/sh\"]"
        "ENV PATH=$IMAGE_PATH"
    )
    # The label covers both the tarball and the config recipe.
    sum="$( { sha256sum "$tarball" | cut -d' ' -f1; printf 'recipe=%s\n' "$RECIPE_VERSION"; printf '%s\n' "${IMPORT_CHANGES[@]}"; } | sha256sum | cut -d' ' -f1)"
    log "busybox rootfs: ${#applets[@]} busybox applets, $(stat -c %s "$tarball") bytes, $LABEL_KEY=$sum"
    import_everywhere "$tarball" "$sum" "dockhand busybox test image" "$IMAGE" "${ALIASES[@]}"
    rm -rf "$work"
    trap - EXIT
}

# ------------------------------------------------------ 2. language images
# rootfs_key TEXT... -> a cache key of these recipe lines.
rootfs_key() {
    { printf '%s\n' "$@"; printf '%s\n' "${MMDEBSTRAP_OPTS[@]}"; } | sha256sum | cut -c1-16
}

# build_tmpdir NAME -> a new empty directory to build in: on the tmpfs
# /dev/shm when it has room (a build needs well under 2 GiB), else in the cache.
build_tmpdir() {
    local tmproot="$CACHE_DIR/tmp"
    if [ -d /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -gt $((6 * 1024 * 1024)) ]; then
        tmproot=/dev/shm
    fi
    mkdir -p "$tmproot"
    mktemp -d "$tmproot/dockhand-$1.XXXXXX"
}

# store_rootfs WORK_TARBALL CACHED_TARBALL NAME — moves a built tarball into
# the cache with its sha256 beside it, and deletes NAME's tarballs of older recipes.
store_rootfs() {
    local built="$1" tarball="$2" name="$3" f
    sha256sum "$built" | cut -d' ' -f1 >"$built.sha256"
    mv -f "$built" "$tarball.partial"
    mv -f "$built.sha256" "$tarball.sha256"
    mv -f "$tarball.partial" "$tarball"
    for f in "$CACHE_DIR/$name"-*.tar; do
        # NAME-KEY.tar only (KEY has no dash): not another image's whose name starts with NAME-.
        [ "$f" = "$tarball" ] || [ ! -e "$f" ] || [[ "${f#"$CACHE_DIR/$name"-}" == *-* ]] || rm -f "$f" "$f.sha256"
    done
}

# base_rootfs -> prints the path of the shared base rootfs tarball (Essential
# packages + apt), building it with mmdebstrap when the cache lacks it.
base_rootfs() {
    local key tarball work t0
    key="$(rootfs_key "base=$LANG_RECIPE_VERSION" "suite=$SUITE" "mirror=$MIRROR")"
    tarball="$CACHE_DIR/base-$key.tar"
    if [ "$rebuild" -eq 0 ] && [ -s "$tarball" ] && [ -s "$tarball.sha256" ]; then
        printf '%s\n' "$tarball"
        return 0
    fi
    work="$(build_tmpdir base)"
    t0=$SECONDS
    log "base: building the Debian $SUITE rootfs with mmdebstrap, log $CACHE_DIR/base.log"
    if ! TMPDIR="$work" mmdebstrap "${MMDEBSTRAP_OPTS[@]}" "$SUITE" "$work/rootfs.tar" "$MIRROR" >"$CACHE_DIR/base.log" 2>&1; then
        tail -n 30 "$CACHE_DIR/base.log" >&2
        rm -rf "$work"
        die "base: mmdebstrap failed (log above, in $CACHE_DIR/base.log)"
    fi
    store_rootfs "$work/rootfs.tar" "$tarball" base
    rm -rf "$work"
    log "base: rootfs built in $((SECONDS - t0))s ($(($(stat -c %s "$tarball") / 1048576)) MiB)"
    printf '%s\n' "$tarball"
}

# chroot_install ROOT PACKAGES... — run in a private mount namespace: apt-get
# installs the packages inside ROOT (with /proc, /dev, /sys mounted, the
# host's resolv.conf, and no service started), then apt's caches are emptied.
chroot_install() {
    local root="$1"
    shift
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount --rbind /sys "$root/sys"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    # update-alternatives (java) links man pages: their directories must exist, empty.
    mkdir -p "$root"/usr/share/man/man{1,2,3,4,5,6,7,8}
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 0755 "$root/usr/sbin/policy-rc.d"
    chroot "$root" apt-get -qq update
    DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get -qq -y install "$@"
    chroot "$root" apt-get clean
    rm -f "$root/usr/sbin/policy-rc.d"
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/apt/* "$root/var/log/dpkg.log"
}

# build_rootfs NAME PACKAGES [REMOVE] -> prints the path of the cached rootfs tarball:
# the base rootfs with PACKAGES apt-installed into it (a chroot in a private
# mount namespace), built when the cache lacks it.
build_rootfs() {
    local name="$1" pkgs="$2" remove="${3:-}" base key tarball work t0 pkg_list=() f
    base="$BASE_TARBALL"
    # The key covers how the packages are installed too (the function's text).
    key="$(rootfs_key "layer=$LANG_RECIPE_VERSION" "base=$(cat "$base.sha256")" "packages=$pkgs" "remove=$remove" "$(declare -f chroot_install)")"
    tarball="$CACHE_DIR/$name-$key.tar"
    if [ "$rebuild" -eq 0 ] && [ -s "$tarball" ] && [ -s "$tarball.sha256" ]; then
        printf '%s\n' "$tarball"
        return 0
    fi
    read -r -a pkg_list <<<"$pkgs"
    work="$(build_tmpdir "$name")"
    t0=$SECONDS
    log "$name: installing $pkgs into the base rootfs, log $CACHE_DIR/$name.log"
    mkdir "$work/root"
    tar --extract --file "$base" --directory "$work/root" --numeric-owner --preserve-permissions
    if ! unshare --mount --propagation private --fork \
        bash -c "set -euo pipefail; $(declare -f chroot_install); chroot_install \"\$@\"" \
        chroot_install "$work/root" "${pkg_list[@]}" >"$CACHE_DIR/$name.log" 2>&1; then
        tail -n 30 "$CACHE_DIR/$name.log" >&2
        rm -rf "$work"
        die "$name: installing $pkgs failed (log above, in $CACHE_DIR/$name.log)"
    fi
    for f in $remove; do
        # Unquoted on purpose: each entry is a glob inside the new root.
        # shellcheck disable=SC2086
        rm -f "$work/root/"$f
    done
    tar --create --file "$work/rootfs.tar" --directory "$work/root" \
        --numeric-owner --xattrs --xattrs-include='*' --sort=name .
    store_rootfs "$work/rootfs.tar" "$tarball" "$name"
    rm -rf "$work"
    log "$name: rootfs built in $((SECONDS - t0))s ($(($(stat -c %s "$tarball") / 1048576)) MiB)"
    printf '%s\n' "$tarball"
}

# lang_image ENTRY — build (or take from the cache) and import one language image.
lang_image() {
    local name tags pkgs cmd remove tarball sum tag_list=() c cmd_json=""
    IFS='|' read -r name tags pkgs cmd remove <<<"$1"
    read -r -a tag_list <<<"$tags"
    tarball="$(build_rootfs "$name" "$pkgs" "$remove")"
    for c in $cmd; do cmd_json+="${cmd_json:+, }\"$c\""; done
    IMPORT_CHANGES=(
        "CMD [$cmd_json]"
        "ENV PATH=$IMAGE_PATH"
        "ENV LANG=C.UTF-8"
    )
    sum="$( { cat "$tarball.sha256"; printf 'recipe=%s\n' "$LANG_RECIPE_VERSION"; printf '%s\n' "${IMPORT_CHANGES[@]}"; } | sha256sum | cut -d' ' -f1)"
    import_everywhere "$tarball" "$sum" "dockhand $name test image (Debian $SUITE: $pkgs)" "${tag_list[@]}"
}

[ "$do_docker" -eq 0 ] || check_engine docker
[ "$do_podman" -eq 0 ] || check_engine podman

if wanted busybox; then
    build_busybox
fi

lang_entries=()
for entry in "${LANG_IMAGES[@]}"; do
    if wanted "${entry%%|*}"; then
        lang_entries+=("$entry")
    fi
done
if [ "${#lang_entries[@]}" -gt 0 ]; then
    apt_ensure mmdebstrap
    have_cmd mmdebstrap || die "mmdebstrap not found (package mmdebstrap)"
    mkdir -p "$CACHE_DIR"
    BASE_TARBALL="$(base_rootfs)"
    # Up to $jobs images at once, each in its own subshell; its log lines
    # carry its name. A failed build fails the run after the others finish.
    failed=()
    declare -A pid_name=()
    # reap_one: wait for one build and note it when it failed.
    reap_one() {
        local pid=""
        wait -n -p pid "${!pid_name[@]}" || failed+=("${pid_name[$pid]}")
        unset "pid_name[$pid]"
    }
    for entry in "${lang_entries[@]}"; do
        while [ "${#pid_name[@]}" -ge "$jobs" ]; do
            reap_one
        done
        ( lang_image "$entry" ) &
        pid_name[$!]="${entry%%|*}"
    done
    while [ "${#pid_name[@]}" -gt 0 ]; do
        reap_one
    done
    [ "${#failed[@]}" -eq 0 ] || die "language images failed: ${failed[*]}"
fi
log "done in $((SECONDS - started))s"
