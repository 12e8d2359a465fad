#!/usr/bin/env bash
# scripts/soak.sh — soak test for the engine under dockhand's ForEach pattern: R rounds, each a
# ForEach over N `echo` values at concurrencyLimit 4 run by dockhand through a logging wrapper
# (the calls it makes: `run`s beside batched `rm --force --volumes A B …`), then the same N
# containers by `xargs -P4 ENGINE run --rm`. A round that does not end within DEADLINE seconds
# is a hang: the script collects what is needed to tell whose it is, then exits 1.
#
# Why: once, dockerd 20.10 stopped answering `inspect`/`rm -f` for the four containers a
# ForEach had running (the engine-call count step of scripts/bench.sh, figure 11). This
# repeats that step until it happens again, with the evidence kept.
#
# Usage (root, engines up: scripts/setup-engines.sh; release build: cargo build --release):
#   scripts/soak.sh [--engine docker|podman] [--rounds R] [--values N] [--deadline S] [--out DIR]
# Defaults: docker, 20 rounds, 100 values, 150 s, out /tmp/dockhand-soak.
# On a hang, DIR/hang-ROUND/ holds: `ps` of the engine's containers, the process table with
# wait channels, each shim's children with their kernel stacks and open files, dockerd's and
# containerd's goroutine dumps (SIGUSR1; docker only) and the end of the dockerd log. The
# engine is left as it is: restart it yourself (kill "$(cat /var/run/docker.pid)";
# scripts/setup-engines.sh).
set -u
ENGINE=docker ROUNDS=20 VALUES=100 DEADLINE=150 OUT=/tmp/dockhand-soak
while [ $# -gt 0 ]; do
    case "$1" in
        --engine) ENGINE="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --values) VALUES="$2"; shift 2 ;;
        --deadline) DEADLINE="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "soak.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DOCKHAND="$ROOT/target/release/dockhand"
[ -x "$DOCKHAND" ] || { echo "soak.sh: build first: cargo build --release" >&2; exit 2; }
REAL="$(command -v "$ENGINE")" || { echo "soak.sh: $ENGINE not found" >&2; exit 2; }
IMAGE=busybox:latest
mkdir -p "$OUT/bin"
rm -rf "$OUT/state" "$OUT/hang-"*
CALLS="$OUT/calls.log"
# The wrapper logs each call when it ends. The docker one must not mention podman (dockhand
# would take it for podman-docker).
cat > "$OUT/bin/$ENGINE" <<EOF
#!/bin/bash
t0=\$EPOCHREALTIME
$REAL "\$@"
rc=\$?
printf '%s %s %s %s\n' "\$t0" "\$EPOCHREALTIME" "\$rc" "\$1" >> $CALLS
exit \$rc
EOF
chmod +x "$OUT/bin/$ENGINE"
{
    printf 'id: soak\nnamespace: soak\ntasks:\n  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n'
    printf '    values: [%s]\n' "$(seq -s, 1 "$VALUES")"
    printf '    concurrencyLimit: 4\n    tasks:\n      - id: echo\n'
    printf '        type: io.kestra.plugin.scripts.shell.Commands\n        containerImage: %s\n' "$IMAGE"
    printf '        commands: ["echo value {{ taskrun.value }}"]\n'
} > "$OUT/flow.yaml"

# The process table from /proc (procps is not installed everywhere): pid ppid state wchan cmd.
proc_table() {
    local d pid
    for d in /proc/[0-9]*; do
        pid=${d#/proc/}
        [ -r "$d/stat" ] || continue
        printf '%s %s %s %s\n' "$pid" "$(awk '{print $4, $3}' "$d/stat" 2>/dev/null)" \
            "$(cat "$d/wchan" 2>/dev/null)" "$(tr '\0' ' ' < "$d/cmdline" 2>/dev/null)"
    done
}

# The pids whose command line matches an extended regular expression.
pids_matching() {
    proc_table | awk -v re="$1" '{ pid = $1; $1 = $2 = $3 = $4 = ""; if ($0 ~ re) print pid }'
}

evidence() {
    local d="$OUT/hang-$1" shim c f newest=""
    mkdir -p "$d"
    timeout 10 "$REAL" ps -a --format '{{.ID}} {{.Names}} {{.Status}}' > "$d/ps" 2>&1
    proc_table > "$d/processes"
    for shim in $(pids_matching 'containerd-shim|conmon'); do
        for c in $(awk -v p="$shim" '$2 == p {print $1}' "$d/processes"); do
            echo "== shim $shim child $c: $(tr '\0' ' ' < "/proc/$c/cmdline") $(grep State "/proc/$c/status")"
            cat "/proc/$c/stack" 2>/dev/null
            for f in /proc/"$c"/fd/*; do echo "$f -> $(readlink "$f")"; done
        done
    done > "$d/shim-children" 2>&1
    if [ "$ENGINE" = docker ] && [ -f /var/run/docker.pid ]; then
        kill -USR1 "$(cat /var/run/docker.pid)" 2>/dev/null
        for c in $(pids_matching '^ *containerd '); do kill -USR1 "$c" 2>/dev/null; done
        sleep 3
        for f in /var/run/docker/goroutine-stacks-*; do
            [ -e "$f" ] && { [ -z "$newest" ] || [ "$f" -nt "$newest" ]; } && newest="$f"
        done
        [ -n "$newest" ] && cp "$newest" "$d/"
        tail -400 "${DOCKERD_LOG:-/var/log/dockhand-dockerd.log}" > "$d/dockerd-tail.log" 2>/dev/null
    fi
    cp "$OUT/round.out" "$d/" 2>/dev/null
    cp "$CALLS" "$d/" 2>/dev/null
    echo "soak.sh: HANG in round $1; evidence in $d" >&2
}

# Seconds since $1 (an $EPOCHREALTIME), to a tenth.
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

for i in $(seq 1 "$ROUNDS"); do
    rm -f "$CALLS"
    t0=$EPOCHREALTIME
    timeout -s KILL "$DEADLINE" "$DOCKHAND" run -q --wait-removal --state-dir "$OUT/state" \
        --engine "$OUT/bin/$ENGINE" "$OUT/flow.yaml" > "$OUT/round.out" 2>&1
    rc=$?
    calls="$(awk '{ n[$4]++ } END { for (k in n) printf " %s x%d", k, n[k] }' "$CALLS" 2>/dev/null)"
    printf 'round %s dockhand rc=%s %s s, calls:%s; load %s\n' "$i" "$rc" "$(since "$t0")" \
        "$calls" "$(cut -d' ' -f1 /proc/loadavg)"
    if [ "$rc" -eq 137 ]; then evidence "$i-dockhand"; exit 1; fi
    [ "$rc" -eq 0 ] || { echo "soak.sh: dockhand exited $rc:"; tail -5 "$OUT/round.out"; exit 1; }
    t0=$EPOCHREALTIME
    seq 1 "$VALUES" | timeout -s KILL "$DEADLINE" xargs -P4 -I{} "$REAL" run --rm "$IMAGE" \
        sh -c 'echo value {}' > "$OUT/round.out" 2>&1
    rc=$?
    printf 'round %s xargs    rc=%s %s s\n' "$i" "$rc" "$(since "$t0")"
    if [ "$rc" -ne 0 ]; then evidence "$i-xargs"; exit 1; fi
done
echo "soak.sh: $ROUNDS rounds of $VALUES values on $ENGINE, no hang"
