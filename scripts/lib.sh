# shellcheck shell=bash
# scripts/lib.sh — shared helpers for the dockhand setup scripts.
#
# Not meant to be executed; source it from another script:
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Provides: log / warn / die (all on stderr), require_root, have_cmd,
# wait_until TIMEOUT_SECS DESCRIPTION CMD..., pkg_installed PKG,
# apt_ensure PKG... (installs only what is missing; `apt-get update` only
# when something must be installed; waits for a concurrent apt/dpkg run).

# Name used as the prefix of log lines (the calling script's file name).
DOCKHAND_LOG_NAME="${DOCKHAND_LOG_NAME:-$(basename "${0:-dockhand}")}"

log() { printf '[%s] %s\n' "$DOCKHAND_LOG_NAME" "$*" >&2; }
warn() { printf '[%s] WARNING: %s\n' "$DOCKHAND_LOG_NAME" "$*" >&2; }
die() {
    printf '[%s] ERROR: %s\n' "$DOCKHAND_LOG_NAME" "$*" >&2
    exit 1
}

have_cmd() { command -v "$1" >/dev/null 2>&1; }

require_root() {
    [ "$(id -u)" -eq 0 ] || die "must be run as root (uid 0); current uid is $(id -u)"
}

# wait_until TIMEOUT_SECS DESCRIPTION CMD [ARGS...]
# Runs CMD (output discarded) every 0.5 s until it succeeds or the timeout
# expires. Returns 0 on success, 1 on timeout.
wait_until() {
    local timeout="$1" what="$2"
    shift 2
    local deadline=$((SECONDS + timeout))
    while :; do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            warn "timed out after ${timeout}s waiting for: $what"
            return 1
        fi
        sleep 0.5
    done
}

# pkg_installed PKG — true when dpkg reports the package as installed.
pkg_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = "installed" ]
}

# True while some process holds one of the apt/dpkg locks. dpkg uses fcntl()
# locks, which `fuser`/`flock` do not see reliably, so look at /proc/locks
# through the lock files' inode numbers.
_dpkg_locked() {
    local f ino
    for f in /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock; do
        [ -e "$f" ] || continue
        ino=$(stat -c %i "$f") || continue
        if awk -v ino="$ino" '{ split($6, a, ":"); if (a[3] == ino) found = 1 } END { exit !found }' /proc/locks; then
            return 0
        fi
    done
    return 1
}

# wait_for_apt [TIMEOUT_SECS] — wait until no apt/dpkg process holds the locks.
wait_for_apt() {
    local timeout="${1:-900}"
    if _dpkg_locked; then
        log "another apt/dpkg run holds the package lock; waiting (up to ${timeout}s)..."
        local deadline=$((SECONDS + timeout))
        while _dpkg_locked; do
            [ "$SECONDS" -lt "$deadline" ] || die "apt/dpkg lock still held after ${timeout}s"
            sleep 2
        done
        log "package lock released"
    fi
}

# apt_ensure PKG... — install the packages that are not installed yet.
apt_ensure() {
    local missing=() p
    for p in "$@"; do
        pkg_installed "$p" || missing+=("$p")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        return 0
    fi
    # Something may be installing right now (e.g. a background apt-get);
    # wait and re-check before doing anything ourselves.
    wait_for_apt
    missing=()
    for p in "$@"; do
        pkg_installed "$p" || missing+=("$p")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        return 0
    fi
    log "installing missing apt packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 NEEDRESTART_MODE=l
    apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 ||
        die "apt-get update failed"
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >&2 ||
        die "apt-get install ${missing[*]} failed"
    for p in "${missing[@]}"; do
        pkg_installed "$p" || die "package $p is still not installed after apt-get install"
    done
}

# spawn_daemon LOGFILE CMD [ARGS...]
# Starts CMD in the background as a daemon: own session (setsid), immune to
# SIGHUP (nohup), stdin from /dev/null, stdout+stderr appended to LOGFILE and
# every other inherited file descriptor closed (so it does not keep the
# caller's pipes or lock files open). Sets SPAWNED_PID to the pid of the
# started process (setsid/nohup exec in place since the background subshell
# is not a process-group leader in a non-interactive script).
spawn_daemon() {
    local logfile="$1"
    shift
    (
        for fd in /proc/self/fd/*; do
            fd="${fd##*/}"
            case "$fd" in 0 | 1 | 2 | *[!0-9]*) continue ;; esac
            eval "exec ${fd}>&-" 2>/dev/null || true
        done
        exec setsid nohup "$@" </dev/null >>"$logfile" 2>&1
    ) &
    # shellcheck disable=SC2034  # consumed by the calling scripts
    SPAWNED_PID=$!
}
