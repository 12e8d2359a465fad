#!/usr/bin/env bash
# scripts/swarm-cluster.sh — a throw-away three-node Docker Swarm on this one
# machine, for dockhand's swarm tests and benchmarks: one manager and two
# workers, each its own dockerd in its own network namespace, none of them the
# machine's dockerd.
#
# Usage (as root):
#   scripts/swarm-cluster.sh up     [--name NAME] [--nodes N]
#   scripts/swarm-cluster.sh env    [--name NAME]
#   scripts/swarm-cluster.sh kill-node I [--name NAME]
#   scripts/swarm-cluster.sh down   [--name NAME]
#
#   up     Creates network namespaces NAME-hub (a bridge br0) and NAME-n0 ..
#          NAME-n{N-1} (default N=3), each node joined to the bridge by a veth
#          pair (eth0 10.77.0.{I+1}/24 inside the node's namespace: the
#          addresses exist only inside the namespaces). Starts one dockerd per
#          node, entered with `nsenter --net` (`ip netns exec` remounts /sys and
#          hides the cgroup v1 mounts) and its own UTS namespace (hostname
#          NAME-nI, so swarm tells the nodes apart), with a private data root,
#          exec root, pidfile, config file ({}; /etc/docker/daemon.json is not
#          read), cgroup parent and socket DIR/nI.sock, and `--bridge none
#          --iptables=false --ip-masq=false --userland-proxy=false
#          --storage-driver vfs`. n0 runs `swarm init` and the others join it
#          as workers; every node gets the label dockhand.node=nI. The test
#          image (dockhand-test/busybox:latest and its busybox:latest tag,
#          saved from the machine's docker, which is only read) is loaded on
#          every node. Prints KEY=VALUE lines (see `env`). Idempotent: a
#          cluster that is up is left as it is.
#   env    Prints SWARM_DIR, SWARM_MANAGER (the manager's DOCKER_HOST),
#          SWARM_NODE_I_HOST, SWARM_NODE_I_PID (its dockerd) and SWARM_NODE_I_ID
#          (its swarm node id) for each node; exit 1 when the cluster is not up.
#   kill-node I
#          kill -9 of node I's dockerd and its containerd (a node dying mid-task).
#   down   Kills every process in the cluster's namespaces (dockerd, their
#          containerd, shims and task containers), unmounts what they left
#          under DIR, deletes the namespaces and DIR. Idempotent.
#
# DIR: ${DOCKHAND_SWARM_STATE:-/tmp}/dhs-NAME (NAME defaults to dockhand-swarm;
# keep it short: socket paths are limited to 107 bytes).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$SCRIPT_DIR/lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; }

cmd="${1:-}"
[ -n "$cmd" ] || { usage; die "missing command (up|env|kill-node|down)"; }
shift
KILL_INDEX=""
case "$cmd" in
    -h | --help) usage; exit 0 ;;
    up | env | down) ;;
    kill-node)
        [ $# -ge 1 ] || die "kill-node needs a node index"
        KILL_INDEX="$1"
        shift
        ;;
    *) usage; die "unknown command: $cmd" ;;
esac

NAME="dockhand-swarm"
NODES=3
while [ $# -gt 0 ]; do
    case "$1" in
        --name) [ $# -ge 2 ] || die "--name needs a value"; NAME="$2"; shift ;;
        --name=*) NAME="${1#*=}" ;;
        --nodes) [ $# -ge 2 ] || die "--nodes needs a value"; NODES="$2"; shift ;;
        --nodes=*) NODES="${1#*=}" ;;
        *) usage; die "unknown argument: $1" ;;
    esac
    shift
done
case "$NAME" in *[!A-Za-z0-9_-]* | "") die "--name: letters, digits, _ and - only" ;; esac
case "$NODES" in *[!0-9]* | "" | 0) die "--nodes: a positive number" ;; esac

require_root

DIR="${DOCKHAND_SWARM_STATE:-/tmp}/dhs-$NAME"
HUB="$NAME-hub"
IMAGES=(dockhand-test/busybox:latest busybox:latest)

node_ns() { printf '%s-n%s' "$NAME" "$1"; }
node_sock() { printf '%s/n%s.sock' "$DIR" "$1"; }
node_docker() {
    local i="$1"
    shift
    docker --host "unix://$(node_sock "$i")" "$@"
}
node_pid() { cat "$DIR/n$1/dockerd.pid" 2>/dev/null; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

print_env() {
    printf 'SWARM_DIR=%s\n' "$DIR"
    printf 'SWARM_MANAGER=unix://%s\n' "$(node_sock 0)"
    printf 'SWARM_NODES=%s\n' "$NODES"
    local i
    for i in $(seq 0 $((NODES - 1))); do
        printf 'SWARM_NODE_%s_HOST=unix://%s\n' "$i" "$(node_sock "$i")"
        printf 'SWARM_NODE_%s_PID=%s\n' "$i" "$(node_pid "$i")"
        printf 'SWARM_NODE_%s_ID=%s\n' "$i" "$(node_docker "$i" info --format '{{.Swarm.NodeID}}' 2>/dev/null)"
        printf 'SWARM_NODE_%s_HOSTNAME=%s\n' "$i" "$(node_ns "$i")"
    done
}

is_up() {
    [ -f "$DIR/nodes" ] || return 1
    NODES="$(cat "$DIR/nodes")"
    local i
    for i in $(seq 0 $((NODES - 1))); do
        alive "$(node_pid "$i")" || return 1
    done
    [ "$(node_docker 0 info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)" = "true" ]
}

# Every process whose network namespace is one of the cluster's, and every process in the
# cgroups its daemons put containers under (a container has a network namespace of its own,
# and outlives a node whose dockerd was killed).
cluster_pids() {
    local ns f
    for f in /sys/fs/cgroup/pids/"dhs-$NAME"-n*/*/cgroup.procs /sys/fs/cgroup/pids/"dhs-$NAME"-n*/cgroup.procs; do
        [ -f "$f" ] && cat "$f"
    done
    for ns in "$HUB" $(ip netns list 2>/dev/null | awk -v p="$NAME-n" 'index($1, p) == 1 {print $1}'); do
        [ -e "/var/run/netns/$ns" ] && ip netns pids "$ns" 2>/dev/null
    done
    return 0
}

down() {
    local pids
    pids="$(cluster_pids | sort -u)"
    if [ -n "$pids" ]; then
        # shellcheck disable=SC2086
        kill -TERM $pids 2>/dev/null || true
        local deadline=$((SECONDS + 15))
        while [ -n "$(cluster_pids)" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.3; done
        pids="$(cluster_pids | sort -u)"
        # shellcheck disable=SC2086
        [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
        sleep 0.5
    fi
    # dockerd leaves bind mounts (netns files, container roots) under its roots.
    if [ -d "$DIR" ]; then
        local m
        awk -v d="$DIR/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r |
            while read -r m; do umount -l "$m" 2>/dev/null || true; done
        rm -rf "$DIR"
    fi
    local ns
    for ns in $(ip netns list 2>/dev/null | awk -v p="$NAME-" 'index($1, p) == 1 {print $1}'); do
        ip netns del "$ns" 2>/dev/null || true
    done
    # The cgroups the daemons' containers were put under.
    local c
    for c in /sys/fs/cgroup/*/"dhs-$NAME"-n*; do
        [ -d "$c" ] || continue
        rmdir "$c"/*/ 2>/dev/null || true
        rmdir "$c" 2>/dev/null || true
    done
    return 0
}

start_node() {
    local i="$1" ns root
    ns="$(node_ns "$i")"
    root="$DIR/n$i"
    mkdir -p "$root/data" "$root/exec"
    printf '{}\n' >"$root/daemon.json"
    spawn_daemon "$root/dockerd.log" nsenter "--net=/var/run/netns/$ns" -- \
        unshare --uts -- sh -c 'echo "$0" > /proc/sys/kernel/hostname && exec "$@"' "$ns" \
        dockerd --config-file "$root/daemon.json" --data-root "$root/data" \
        --exec-root "$root/exec" --pidfile "$root/dockerd.pid" -H "unix://$(node_sock "$i")" \
        --cgroup-parent "/dhs-$NAME-n$i" \
        --bridge none --iptables=false --ip-masq=false --userland-proxy=false \
        --storage-driver vfs
}

up() {
    if is_up; then
        log "cluster $NAME is up"
        print_env
        return 0
    fi
    down
    mkdir -p "$DIR"
    chmod 0700 "$DIR"
    printf '%s\n' "$NODES" >"$DIR/nodes"
    ip netns add "$HUB"
    ip -n "$HUB" link set lo up
    ip -n "$HUB" link add br0 type bridge
    ip -n "$HUB" link set br0 up
    local i ns
    for i in $(seq 0 $((NODES - 1))); do
        ns="$(node_ns "$i")"
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        ip -n "$HUB" link add "v$i" type veth peer name eth0 netns "$ns"
        ip -n "$HUB" link set "v$i" master br0 up
        ip -n "$ns" addr add "10.77.0.$((i + 1))/24" dev eth0
        ip -n "$ns" link set eth0 up
        start_node "$i"
    done
    for i in $(seq 0 $((NODES - 1))); do
        wait_until 60 "dockerd of node $i" node_docker "$i" info ||
            die "dockerd of node $i did not start: $(tail -5 "$DIR/n$i/dockerd.log")"
    done
    node_docker 0 swarm init --advertise-addr 10.77.0.1 --listen-addr 10.77.0.1:2377 >/dev/null
    local token
    token="$(node_docker 0 swarm join-token --quiet worker)"
    for i in $(seq 1 $((NODES - 1))); do
        node_docker "$i" swarm join --token "$token" --advertise-addr "10.77.0.$((i + 1))" \
            --listen-addr "10.77.0.$((i + 1)):2377" 10.77.0.1:2377 >/dev/null
    done
    local ready
    ready() { [ "$(node_docker 0 node ls --filter role=worker --format '{{.Status}}' | grep -c Ready)" -eq $((NODES - 1)) ]; }
    wait_until 60 "all workers Ready" ready || die "the workers did not join: $(node_docker 0 node ls)"
    for i in $(seq 0 $((NODES - 1))); do
        node_docker 0 node update --label-add "dockhand.node=n$i" \
            "$(node_docker "$i" info --format '{{.Swarm.NodeID}}')" >/dev/null
    done
    # The test image on every node (the machine's docker is only read from).
    docker save "${IMAGES[@]}" >"$DIR/images.tar"
    for i in $(seq 0 $((NODES - 1))); do
        node_docker "$i" load --quiet --input "$DIR/images.tar" >/dev/null
    done
    rm -f "$DIR/images.tar"
    log "cluster $NAME is up: $NODES nodes, manager unix://$(node_sock 0)"
    print_env
}

case "$cmd" in
    up) up ;;
    env) is_up || die "cluster $NAME is not up"; print_env ;;
    kill-node)
        [ -f "$DIR/nodes" ] || die "cluster $NAME is not up"
        pid="$(node_pid "$KILL_INDEX")"
        alive "$pid" || die "node $KILL_INDEX's dockerd is not running"
        # dockerd and the containerd it started (its child); their task containers are
        # left to die with the node's namespace at `down`.
        children="$(cat /proc/"$pid"/task/*/children 2>/dev/null || true)"
        # shellcheck disable=SC2086
        kill -KILL "$pid" $children 2>/dev/null || true
        log "killed node $KILL_INDEX (dockerd $pid)"
        ;;
    down) down ;;
esac
