#!/usr/bin/env bash
# scripts/setup-engines.sh — make real Docker and Podman engines usable on this
# (Debian 12, root, possibly systemd-less) machine for dockhand's tests.
#
# Usage (as root):
#   scripts/setup-engines.sh            # install + configure + start, idempotent
#   scripts/setup-engines.sh --help
#
# What it does (each step is skipped when already done):
#   1. apt-installs every package the tests and scripts need, if any is
#      missing (`apt-get update` only then; waits for a concurrently running
#      apt/dpkg): the engines (docker.io podman runc iptables), the registry
#      tests' docker-registry iproute2 curl apache2-utils (htpasswd), the test
#      images' busybox-static, file and mmdebstrap, bench.sh's hyperfine
#      python3 time strace, and python3-yaml for scripts/corpus-scope.py. tests/host_programs.rs
#      checks that every program the tests and scripts run comes from this list
#      or from the base system.
#   2. Writes the podman drop-in /etc/containers/containers.conf.d/50-dockhand.conf:
#        [containers] default_ulimits = ["nofile=N:N", "nproc=P:P"]
#                     (N = `ulimit -Hn`, P = min(`ulimit -Hu`, pid_max); root here lacks
#                     CAP_SYS_RESOURCE, so podman's 1048576 defaults fail)
#        [engine]     runtime = "runc"                   (crun fails on this kernel)
#      A drop-in is used so an existing /etc/containers/containers.conf is not
#      clobbered (podman 4.3 reads containers.conf.d/*.conf after containers.conf).
#   3. Starts dockerd in the background (setsid/nohup, no systemd needed) when
#      `docker info` fails; log: /var/log/dockhand-dockerd.log, pidfile
#      /var/run/docker.pid. Debian's dockerd spawns its own containerd
#      (/var/run/docker/containerd/containerd.sock) when none is running.
#      Waits up to $DOCKERD_TIMEOUT (default 60) s for `docker info`.
#   4. Checks that `podman info` works with the expected runtime.
#   5. If dockhand-test/busybox:latest exists (scripts/build-test-images.sh),
#      smoke-tests `docker run` and `podman run` with it.
#
# Environment overrides: DOCKERD_LOG, DOCKERD_PIDFILE, DOCKERD_TIMEOUT,
# DOCKHAND_PODMAN_DROPIN.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$SCRIPT_DIR/lib.sh"

DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockhand-dockerd.log}"
DOCKERD_PIDFILE="${DOCKERD_PIDFILE:-/var/run/docker.pid}"
DOCKERD_TIMEOUT="${DOCKERD_TIMEOUT:-60}"
PODMAN_DROPIN="${DOCKHAND_PODMAN_DROPIN:-/etc/containers/containers.conf.d/50-dockhand.conf}"
APT_PACKAGES=(docker.io podman runc iptables docker-registry iproute2 curl apache2-utils busybox-static file mmdebstrap hyperfine python3 python3-yaml time strace zsh fish man-db chromium)

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; }

case "${1:-}" in
    -h | --help) usage; exit 0 ;;
    "") ;;
    *) usage; die "unknown argument: $1" ;;
esac

require_root

# ---------------------------------------------------------------- 1. packages
apt_ensure "${APT_PACKAGES[@]}"
for c in dockerd docker podman runc docker-registry ip curl htpasswd busybox file mmdebstrap hyperfine python3 strace zsh fish man chromium; do
    have_cmd "$c" || die "'$c' not found on PATH after installing packages"
done
log "packages OK (${APT_PACKAGES[*]})"

# --------------------------------------------------------- 2. podman config
# This sandbox's root lacks CAP_SYS_RESOURCE, so a container rlimit above the
# host's hard limit makes runc fail ("error setting rlimit type 7/6: operation
# not permitted"). Rootful podman defaults nofile AND nproc to 1048576, so
# pin both to the hard limits of the calling shell.
hard_nofile="$(ulimit -Hn)"
if [ "$hard_nofile" = "unlimited" ]; then
    # "unlimited" is not a valid value for nofile; the kernel caps it anyway.
    hard_nofile="$(cat /proc/sys/fs/nr_open)"
fi
# containers/common lowers podman's own RLIMIT_NPROC to kernel.pid_max at
# startup (getDefaultProcessLimits), so the usable nproc is min(-Hu, pid_max).
hard_nproc="$(ulimit -Hu)"
pid_max="$(cat /proc/sys/kernel/pid_max)"
if [ "$hard_nproc" = "unlimited" ] || [ "$hard_nproc" -gt "$pid_max" ]; then
    hard_nproc="$pid_max"
fi
ulimit_lines="  \"nofile=${hard_nofile}:${hard_nofile}\","
ulimit_lines+=$'\n'"  \"nproc=${hard_nproc}:${hard_nproc}\","
dropin_content="# Managed by dockhand scripts/setup-engines.sh — rewritten on every run.
# crun fails on this kernel, so force runc. Keep default ulimits within the
# host's hard limits (nofile: ulimit -Hn = $hard_nofile; nproc: min(ulimit -Hu,
# kernel.pid_max) = $hard_nproc, podman itself drops its nproc to pid_max):
# without CAP_SYS_RESOURCE runc cannot raise them to podman's defaults.
[containers]
default_ulimits = [
${ulimit_lines}
]

[engine]
runtime = \"runc\"
"
mkdir -p "$(dirname "$PODMAN_DROPIN")"
if [ -f "$PODMAN_DROPIN" ] && [ "$(cat "$PODMAN_DROPIN")" = "$(printf '%s' "$dropin_content")" ]; then
    log "podman drop-in $PODMAN_DROPIN already up to date"
else
    tmp="$(mktemp "${PODMAN_DROPIN}.XXXXXX")"
    printf '%s' "$dropin_content" >"$tmp"
    chmod 0644 "$tmp"
    mv -f "$tmp" "$PODMAN_DROPIN"
    log "wrote podman drop-in $PODMAN_DROPIN (runtime=runc, nofile=${hard_nofile}, nproc=${hard_nproc})"
fi
if [ -f /etc/containers/containers.conf ] && grep -Eq '^[[:space:]]*(runtime|default_ulimits)[[:space:]]*=' /etc/containers/containers.conf; then
    log "note: /etc/containers/containers.conf also sets runtime/default_ulimits; the drop-in overrides it"
fi

# ------------------------------------------------------------- 3. dockerd
dockerd_pid() {
    local pid
    [ -f "$DOCKERD_PIDFILE" ] || return 1
    pid="$(cat "$DOCKERD_PIDFILE" 2>/dev/null)" || return 1
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "dockerd" ] || return 1
    printf '%s\n' "$pid"
}

if docker info >/dev/null 2>&1; then
    log "docker engine already running ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'), pid $(dockerd_pid || echo '?'))"
else
    if pid="$(dockerd_pid)"; then
        log "dockerd (pid $pid) is running but not answering yet; waiting"
    else
        if [ -f "$DOCKERD_PIDFILE" ]; then
            log "removing stale pidfile $DOCKERD_PIDFILE"
            rm -f "$DOCKERD_PIDFILE"
        fi
        mkdir -p "$(dirname "$DOCKERD_LOG")"
        log "starting dockerd in the background (log: $DOCKERD_LOG)"
        printf '\n==== %s: started by %s ====\n' "$(date -Is)" "$0" >>"$DOCKERD_LOG"
        # own session (setsid), SIGHUP-immune, no inherited fds/pipes: the
        # daemon outlives this script and never holds the caller's output open.
        spawn_daemon "$DOCKERD_LOG" dockerd --pidfile "$DOCKERD_PIDFILE"
        log "dockerd launched (pid $SPAWNED_PID)"
    fi
    # Ready when `docker info` works; give up early if the dockerd we
    # launched has already exited.
    docker_ready_or_dead() {
        docker info >/dev/null 2>&1 && return 0
        if [ -n "${SPAWNED_PID:-}" ] && ! kill -0 "$SPAWNED_PID" 2>/dev/null; then
            dockerd_died=1
            return 0
        fi
        return 1
    }
    dockerd_died=0
    if ! wait_until "$DOCKERD_TIMEOUT" "docker info" docker_ready_or_dead || [ "$dockerd_died" -eq 1 ]; then
        [ "$dockerd_died" -eq 0 ] || warn "dockerd (pid $SPAWNED_PID) exited during startup"
        warn "dockerd did not become ready; last lines of $DOCKERD_LOG:"
        tail -n 40 "$DOCKERD_LOG" >&2 || true
        die "docker engine is not usable"
    fi
    log "docker engine is up ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'), pid $(dockerd_pid || echo '?'))"
fi

# Report how containerd is provided (system one vs. dockerd-managed child).
if [ -S /run/containerd/containerd.sock ]; then
    log "containerd: system instance at /run/containerd/containerd.sock"
elif [ -S /var/run/docker/containerd/containerd.sock ]; then
    log "containerd: managed by dockerd at /var/run/docker/containerd/containerd.sock"
else
    warn "containerd socket not found (docker info works, so dockerd found one somewhere)"
fi

# ------------------------------------------------------------- 4. podman
if ! podman_out="$(podman info --format '{{.Host.OCIRuntime.Name}} {{.Store.GraphDriverName}} {{.Host.CgroupManager}}' 2>&1)"; then
    printf '%s\n' "$podman_out" >&2
    die "podman info failed"
fi
read -r p_runtime p_driver p_cgroup <<<"$podman_out"
[ "$p_runtime" = "runc" ] || die "podman uses OCI runtime '$p_runtime', expected runc (is CONTAINERS_CONF set?)"
log "podman OK (runtime=$p_runtime, storage=$p_driver, cgroup manager=$p_cgroup)"

# ------------------------------------------------ 5. smoke test (if possible)
# Only when the test image exists already (scripts/build-test-images.sh);
# proves runc + the ulimit settings really work.
for engine in docker podman; do
    if "$engine" image exists dockhand-test/busybox:latest >/dev/null 2>&1 ||
        "$engine" image inspect dockhand-test/busybox:latest >/dev/null 2>&1; then
        if out="$("$engine" run --rm dockhand-test/busybox:latest echo ok 2>&1)" && [ "$out" = ok ]; then
            log "$engine run smoke test OK"
        else
            printf '%s\n' "$out" >&2
            die "$engine run --rm dockhand-test/busybox:latest echo ok failed"
        fi
    fi
done
log "engines ready: docker + podman"
