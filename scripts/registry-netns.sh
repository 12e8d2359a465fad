#!/usr/bin/env bash
# scripts/registry-netns.sh — run a throw-away plain-HTTP image registry
# (Debian's docker-registry, distribution v2) inside a private network
# namespace, reachable from the host over a veth pair. Used by dockhand tests
# for private-registry / auth / "insecure registry" scenarios without any
# internet access.
#
# Usage (as root):
#   scripts/registry-netns.sh up     [--htpasswd USER:PASS] [--name NS] [--ip 10.10.1.5] [--port 5000] [--host-ip 10.10.1.1]
#   scripts/registry-netns.sh seed REF [--image SRC] [--name NS]
#   scripts/registry-netns.sh status [--name NS]
#   scripts/registry-netns.sh down   [--name NS]
#
#   up     Creates netns NS (default dockhand-reg) + veth pair (host side
#          --host-ip/24, default = <first three octets of --ip>.1; ns side
#          --ip/24, default 10.10.1.5; loopback up in the ns), writes a
#          registry config (storage: filesystem under the state dir) and
#          starts `docker-registry serve` via `ip netns exec`. With
#          --htpasswd a bcrypt htpasswd file is generated (`htpasswd -B`,
#          package apache2-utils, apt-installed on demand) and auth.htpasswd
#          is configured. Waits until http://IP:PORT/v2/ answers 200 (401 with
#          auth). Idempotent: if it already runs with the same settings it
#          only prints the state; with different settings it is restarted.
#          Prints KEY=VALUE lines on stdout (REGISTRY, REGISTRY_URL,
#          REGISTRY_PID, REGISTRY_STATE_DIR, REGISTRY_NETNS, REGISTRY_USER,
#          REGISTRY_PASSWORD) so callers can `eval` them.
#   seed   Pushes SRC (default dockhand-test/busybox:latest, from podman's
#          storage — see scripts/build-test-images.sh) to IP:PORT/REF with
#          `podman push --tls-verify=false` (+ --creds when auth is on), so
#          no engine has to trust the registry. REF: "name[:tag]" (tag
#          defaults to latest). Verifies the manifest via the registry API.
#   status Prints the KEY=VALUE lines; exit 1 if not running.
#   down   Kills the registry (and anything else in the netns), deletes the
#          veth pair, the netns and the state dir. Idempotent.
#
# State dir: ${DOCKHAND_REGISTRY_STATE:-/tmp/dockhand-registry}/NS
# (config.yml, htpasswd, creds, registry.pid, registry.log, storage/).
#
# Note: docker pulls from this registry are expected to FAIL with
#   http: server gave HTTP response to HTTPS client
# because it is not listed in /etc/docker/daemon.json "insecure-registries";
# this script never changes the docker daemon configuration.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$SCRIPT_DIR/lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; }

# ----------------------------------------------------------------- arguments
cmd="${1:-}"
[ -n "$cmd" ] || { usage; die "missing command (up|seed|status|down)"; }
shift
case "$cmd" in
    -h | --help) usage; exit 0 ;;
    up | down | seed | status) ;;
    *) usage; die "unknown command: $cmd" ;;
esac

NS="dockhand-reg"
REG_IP="10.10.1.5"
HOST_IP=""
PORT="5000"
HTPASSWD=""
SEED_REF=""
SEED_SRC="dockhand-test/busybox:latest"
while [ $# -gt 0 ]; do
    case "$1" in
        --htpasswd) [ $# -ge 2 ] || die "--htpasswd needs USER:PASS"; HTPASSWD="$2"; shift ;;
        --htpasswd=*) HTPASSWD="${1#*=}" ;;
        --name) [ $# -ge 2 ] || die "--name needs a value"; NS="$2"; shift ;;
        --name=*) NS="${1#*=}" ;;
        --ip) [ $# -ge 2 ] || die "--ip needs a value"; REG_IP="$2"; shift ;;
        --ip=*) REG_IP="${1#*=}" ;;
        --host-ip) [ $# -ge 2 ] || die "--host-ip needs a value"; HOST_IP="$2"; shift ;;
        --host-ip=*) HOST_IP="${1#*=}" ;;
        --port) [ $# -ge 2 ] || die "--port needs a value"; PORT="$2"; shift ;;
        --port=*) PORT="${1#*=}" ;;
        --image) [ $# -ge 2 ] || die "--image needs a value"; SEED_SRC="$2"; shift ;;
        --image=*) SEED_SRC="${1#*=}" ;;
        -h | --help) usage; exit 0 ;;
        -*) usage; die "unknown option: $1" ;;
        *)
            if [ "$cmd" = seed ] && [ -z "$SEED_REF" ]; then
                SEED_REF="$1"
            else
                usage; die "unexpected argument: $1"
            fi
            ;;
    esac
    shift
done

require_root

[[ "$NS" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$ ]] || die "invalid --name '$NS'"
STATE_ROOT="${DOCKHAND_REGISTRY_STATE:-/tmp/dockhand-registry}"
STATE="$STATE_ROOT/$NS"
PIDFILE="$STATE/registry.pid"
LOGFILE="$STATE/registry.log"
CONFIG="$STATE/config.yml"
SETTINGS_FILE="$STATE/settings"
CREDS_FILE="$STATE/creds"

# veth names must fit IFNAMSIZ (15); derive short, stable ones from NS.
ns_tag="$(printf '%s' "$NS" | sha256sum | cut -c1-8)"
VETH_HOST="dhr${ns_tag}h"
VETH_NS="dhr${ns_tag}n"

ipv4_ok() {
    local IFS=. o
    # shellcheck disable=SC2206
    local parts=($1)
    [ "${#parts[@]}" -eq 4 ] || return 1
    for o in "${parts[@]}"; do
        [[ "$o" =~ ^[0-9]{1,3}$ ]] && [ "$o" -le 255 ] || return 1
    done
}

# ------------------------------------------------------------------ helpers
netns_exists() { [ -e "/run/netns/$NS" ] || ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$NS"; }
link_exists() { ip link show "$1" >/dev/null 2>&1; }

registry_pid() {
    local pid
    [ -f "$PIDFILE" ] || return 1
    pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "docker-registry" ] || return 1
    printf '%s\n' "$pid"
}

# http_code URL [curl args...] -> prints the HTTP status ("000" if no answer)
http_code() {
    local url="$1"
    shift
    curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --max-time 3 "$@" "$url" 2>/dev/null || true
}

load_settings() {
    # shellcheck disable=SC1090
    [ -f "$SETTINGS_FILE" ] && . "$SETTINGS_FILE"
}

print_state() {
    local pid user="" pass=""
    pid="$(registry_pid || echo "")"
    if [ -f "$CREDS_FILE" ]; then
        user="$(cut -d: -f1 "$CREDS_FILE")"
        pass="$(cut -d: -f2- "$CREDS_FILE")"
    fi
    printf 'REGISTRY=%q\n' "$S_IP:$S_PORT"
    printf 'REGISTRY_URL=http://%s/v2/\n' "$S_IP:$S_PORT"
    printf 'REGISTRY_PID=%q\n' "$pid"
    printf 'REGISTRY_STATE_DIR=%q\n' "$STATE"
    printf 'REGISTRY_NETNS=%q\n' "$NS"
    printf 'REGISTRY_USER=%q\n' "$user"
    printf 'REGISTRY_PASSWORD=%q\n' "$pass"
}

expected_code() { if [ -n "$1" ]; then echo 401; else echo 200; fi; }

# is_up: registry process alive and answering as configured (uses S_* vars)
is_up() {
    registry_pid >/dev/null || return 1
    [ "$(http_code "http://$S_IP:$S_PORT/v2/")" = "$(expected_code "$S_AUTH")" ]
}

do_down() {
    local pids pid
    pids="$(registry_pid || true)"
    if netns_exists; then
        pids="$pids $(ip netns pids "$NS" 2>/dev/null | tr '\n' ' ')"
    fi
    # shellcheck disable=SC2086  # intentional word splitting of the pid list
    pids="$(printf '%s\n' $pids | sort -un | tr '\n' ' ')"
    if [ -n "${pids// /}" ]; then
        log "stopping processes in netns $NS: $pids"
        # shellcheck disable=SC2086
        kill -TERM $pids 2>/dev/null || true
        for _ in $(seq 1 50); do
            alive=""
            for pid in $pids; do [ -d "/proc/$pid" ] && alive="$alive $pid"; done
            [ -z "$alive" ] && break
            sleep 0.1
        done
        if [ -n "${alive:-}" ]; then
            warn "processes did not exit on SIGTERM, sending SIGKILL:$alive"
            # shellcheck disable=SC2086
            kill -KILL $alive 2>/dev/null || true
            sleep 0.2
        fi
    fi
    if link_exists "$VETH_HOST"; then
        ip link del "$VETH_HOST" && log "deleted veth $VETH_HOST"
    fi
    if netns_exists; then
        ip netns del "$NS" && log "deleted netns $NS"
    fi
    if [ -d "$STATE" ]; then
        rm -rf "$STATE" && log "removed state dir $STATE"
    fi
    rmdir "$STATE_ROOT" 2>/dev/null || true
    log "registry '$NS' is down"
}

# serialize concurrent invocations for the same NS
mkdir -p /run/lock
exec 9>"/run/lock/dockhand-registry-$NS.lock"
flock -w 120 9 || die "could not lock /run/lock/dockhand-registry-$NS.lock"

# ---------------------------------------------------------------- commands
case "$cmd" in
down)
    do_down
    ;;

status)
    S_IP="" S_PORT="" S_AUTH=""
    load_settings || true
    if [ -z "$S_IP" ]; then
        log "registry '$NS' is not set up (no $SETTINGS_FILE)"
        exit 1
    fi
    print_state
    if is_up; then
        log "registry '$NS' is up"
    else
        log "registry '$NS' is NOT answering (http $(http_code "http://$S_IP:$S_PORT/v2/"))"
        exit 1
    fi
    ;;

up)
    ipv4_ok "$REG_IP" || die "invalid --ip '$REG_IP'"
    [[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || die "invalid --port '$PORT'"
    if [ -z "$HOST_IP" ]; then
        HOST_IP="${REG_IP%.*}.1"
        [ "$HOST_IP" != "$REG_IP" ] || HOST_IP="${REG_IP%.*}.2"
    fi
    ipv4_ok "$HOST_IP" || die "invalid --host-ip '$HOST_IP'"
    [ "$HOST_IP" != "$REG_IP" ] || die "--host-ip and --ip must differ"
    [ "${HOST_IP%.*}" = "${REG_IP%.*}" ] || die "--host-ip and --ip must be in the same /24"
    if [ -n "$HTPASSWD" ]; then
        [[ "$HTPASSWD" == *:* ]] || die "--htpasswd expects USER:PASS"
        h_user="${HTPASSWD%%:*}"
        h_pass="${HTPASSWD#*:}"
        [ -n "$h_user" ] && [ -n "$h_pass" ] || die "--htpasswd: empty user or password"
    fi

    apt_ensure docker-registry iproute2 curl
    [ -z "$HTPASSWD" ] || apt_ensure apache2-utils
    have_cmd docker-registry || die "docker-registry not found"

    auth_id=""   # fingerprint of USER:PASS, empty = no auth
    [ -z "$HTPASSWD" ] || auth_id="$(printf '%s' "$HTPASSWD" | sha256sum | cut -c1-16)"
    want_settings="S_IP='$REG_IP'
S_HOST_IP='$HOST_IP'
S_PORT='$PORT'
S_AUTH='$auth_id'"

    S_IP="" S_PORT="" S_AUTH=""
    if load_settings; then
        if [ "$(cat "$SETTINGS_FILE")" = "$want_settings" ] && is_up; then
            log "registry '$NS' already up with the same settings"
            print_state
            exit 0
        fi
        log "registry '$NS' exists with other settings or is unhealthy; restarting it"
    fi
    # Start from a clean slate (also removes leftovers of a crashed run).
    if netns_exists || link_exists "$VETH_HOST" || [ -d "$STATE" ]; then
        do_down
    fi

    # Refuse to shadow an existing route/address on the host.
    if ip -4 addr show | grep -q "inet $HOST_IP/" ||
        ip -4 route show | grep -q "^${REG_IP%.*}.0/24 "; then
        die "${REG_IP%.*}.0/24 is already in use on the host (ip addr/route); pick another --ip"
    fi

    mkdir -p "$STATE/storage"
    chmod 0700 "$STATE"

    # --- network namespace + veth pair
    cleanup_on_fail() {
        local rc=$?
        if [ "$rc" -ne 0 ]; then
            warn "'up' failed (exit $rc)"
            if [ -f "$LOGFILE" ]; then
                warn "last lines of $LOGFILE:"
                tail -n 20 "$LOGFILE" >&2 || true
            fi
            do_down || true
        fi
    }
    trap cleanup_on_fail EXIT

    ip netns add "$NS"
    ip link add "$VETH_HOST" type veth peer name "$VETH_NS" netns "$NS"
    ip addr add "$HOST_IP/24" dev "$VETH_HOST"
    ip link set "$VETH_HOST" up
    ip -n "$NS" link set lo up
    ip -n "$NS" addr add "$REG_IP/24" dev "$VETH_NS"
    ip -n "$NS" link set "$VETH_NS" up
    log "netns $NS: $VETH_HOST ($HOST_IP/24, host) <-> $VETH_NS ($REG_IP/24, ns)"

    # --- registry config
    auth_yaml=""
    if [ -n "$HTPASSWD" ]; then
        have_cmd htpasswd || die "htpasswd not found (package apache2-utils)"
        htpasswd -B -b -c "$STATE/htpasswd" "$h_user" "$h_pass" 2>/dev/null ||
            die "htpasswd -B failed"
        chmod 0600 "$STATE/htpasswd"
        printf '%s\n' "$HTPASSWD" >"$CREDS_FILE"
        chmod 0600 "$CREDS_FILE"
        auth_yaml="auth:
  htpasswd:
    realm: dockhand-registry
    path: $STATE/htpasswd
"
    fi
    cat >"$CONFIG" <<EOF
# generated by dockhand scripts/registry-netns.sh
version: 0.1
log:
  level: info
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: $STATE/storage
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $REG_IP:$PORT
  secret: $(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: false
${auth_yaml}
EOF
    printf '%s\n' "$want_settings" >"$SETTINGS_FILE"
    S_IP="$REG_IP" S_PORT="$PORT"
    load_settings

    # --- start (ip netns exec execs in place, so the spawned pid is the registry's)
    log "starting docker-registry in netns $NS on $REG_IP:$PORT (log: $LOGFILE)"
    # spawn_daemon closes inherited fds, notably the flock fd 9 (else the
    # daemon would hold the lock forever).
    spawn_daemon "$LOGFILE" ip netns exec "$NS" docker-registry serve "$CONFIG"
    echo "$SPAWNED_PID" >"$PIDFILE"

    code_ok="$(expected_code "$HTPASSWD")"
    registry_answers() { [ "$(http_code "http://$REG_IP:$PORT/v2/")" = "$code_ok" ]; }
    if ! wait_until 30 "http://$REG_IP:$PORT/v2/ -> $code_ok" registry_answers; then
        die "registry did not answer $code_ok (last: $(http_code "http://$REG_IP:$PORT/v2/"))"
    fi
    if ! registry_pid >/dev/null; then
        # fall back to looking the daemon up inside the netns
        for p in $(ip netns pids "$NS"); do
            if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = docker-registry ]; then
                echo "$p" >"$PIDFILE"
                break
            fi
        done
        registry_pid >/dev/null || die "cannot find the docker-registry process in netns $NS"
    fi
    if [ -n "$HTPASSWD" ]; then
        c="$(http_code "http://$REG_IP:$PORT/v2/" -u "$HTPASSWD")"
        [ "$c" = 200 ] || die "registry rejects the configured credentials (http $c)"
    fi
    trap - EXIT
    log "registry '$NS' up: http://$REG_IP:$PORT/v2/ (pid $(registry_pid), auth: $([ -n "$HTPASSWD" ] && echo "htpasswd user $h_user" || echo none), state: $STATE)"
    print_state
    ;;

seed)
    [ -n "$SEED_REF" ] || die "usage: $0 seed REF [--image SRC] [--name NS]"
    S_IP="" S_PORT="" S_AUTH=""
    load_settings || die "registry '$NS' is not up (run: $0 up --name $NS)"
    is_up || die "registry '$NS' is not answering (run: $0 up --name $NS)"
    have_cmd podman || die "podman not found"
    podman image exists "$SEED_SRC" ||
        die "podman has no image '$SEED_SRC' (run scripts/build-test-images.sh --podman-only)"

    ref="${SEED_REF#"$S_IP:$S_PORT/"}"
    repo="$ref" tag="latest"
    # split off a :tag (only after the last '/')
    last="${ref##*/}"
    if [[ "$last" == *:* ]]; then
        tag="${last##*:}"
        repo="${ref%:*}"
    fi
    [[ "$repo" =~ ^[a-z0-9]+([._-]+[a-z0-9]+)*(/[a-z0-9]+([._-]+[a-z0-9]+)*)*$ ]] || die "invalid repository name '$repo'"
    [[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "invalid tag '$tag'"
    target="$S_IP:$S_PORT/$repo:$tag"

    creds_args=() curl_auth=()
    if [ -f "$CREDS_FILE" ]; then
        creds_args=(--creds "$(cat "$CREDS_FILE")")
        curl_auth=(-u "$(cat "$CREDS_FILE")")
    fi
    log "pushing $SEED_SRC -> $target (podman push --tls-verify=false)"
    podman push --quiet --tls-verify=false "${creds_args[@]}" "$SEED_SRC" "$target" >&2 ||
        die "podman push $SEED_SRC $target failed"
    c="$(http_code "http://$S_IP:$S_PORT/v2/$repo/manifests/$tag" "${curl_auth[@]}" -I \
        -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
        -H 'Accept: application/vnd.docker.distribution.manifest.v2+json')"
    [ "$c" = 200 ] || die "manifest $repo:$tag not found in the registry after push (http $c)"
    log "seeded $target"
    printf 'IMAGE=%q\n' "$target"
    ;;
esac
