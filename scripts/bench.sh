#!/usr/bin/env bash
# scripts/bench.sh — dockhand's performance benchmark against doing the same by hand with the
# engine CLI. Run on demand; not part of CI pass/fail (it always exits 0 once it has measured).
#
# Usage (as root, engines up: scripts/setup-engines.sh && scripts/build-test-images.sh):
#   scripts/bench.sh                 full run, Docker and Podman (~15-20 min)
#   scripts/bench.sh --quick         fewer rounds, 100 MB instead of 500 MB of log (~4 min)
#   scripts/bench.sh --docker-only   (or --podman-only) one engine
#   scripts/bench.sh --no-engines    only the figures that need no engine (5, 5b and 7)
#   scripts/bench.sh --only python_deps,plan_mixed   just those figures (names: overhead,
#                                    breakdown, processes, stream, parallel, keep, python_deps,
#                                    plan, plan_mixed, pebble, report)
#   scripts/bench.sh --history-only  only figures 8 and 9 (report, kept logs): --only keep,report
#   scripts/bench.sh --swarm         also the swarm figures (S1, S2; ~3 min more)
#   scripts/bench.sh --swarm-only    only those
#   scripts/bench.sh --foreach-only  only the ForEach figures (10, 11; ~10 min, --quick ~4 min)
#   scripts/bench.sh --help
#
# What it measures. Each figure runs dockhand and its baseline in the SAME invocation,
# interleaved round by round (so load drifting on the machine hits both), and reports the
# ratio of the medians; per engine:
#   1. overhead: a one-task flow (`echo hello`) through `dockhand run -q` vs
#      `ENGINE run --rm IMAGE sh -c 'echo hello'` by hand (target ratio <= 1.05); also
#      `dockhand run --wait-removal` (returns only once the container is gone, as `run --rm`
#      does; reported) and, on Docker, the Docker SDK for Python doing
#      create/start/wait/logs/remove (reported). dockhand leaves its last `rm` running detached
#      when it returns: after every command an untimed wait lets it finish, so it never slows
#      the next command down. A breakdown times each engine CLI call inside real dockhand runs
#      (a logging wrapper passed as --engine) and the same calls by hand.
#   2. engine CLI processes spawned per simple task, counted through that wrapper, for the
#      one-task flow and a 20-task Parallel flow (target 1-2 per task; a `version` check, made
#      only for remote engines, would be reported separately); cross-checked with strace -f.
#   3. log streaming: a task printing 500 MB of 64-byte lines, dockhand's stdout to /dev/null vs
#      `ENGINE run --rm ... > /dev/null` (target <= 1.10), and dockhand's own peak RSS
#      (target <= 20 MB; sampled VmHWM of the dockhand process; /usr/bin/time -v's figure is
#      also shown, but it is the maximum over the process tree, i.e. the engine CLI child's).
#   4. Parallel: io.kestra.plugin.core.flow.Parallel, concurrent: 4, 20 children `sleep 1` vs
#      `seq 20 | xargs -P4 -I{} ENGINE run --rm IMAGE sleep 1` (target <= 1.10).
#   5. `dockhand plan` on a generated 10,000-task flow, flat and in 1,000 Parallel groups:
#      under 1 s and under 100 MB peak RSS.
#   5b. `dockhand validate` and `dockhand plan` of a generated 1,000-task flow mixing the 16
#      script languages (Commands and Script, env, inputFiles, outputFiles, an expression
#      reading the task before): under 0.5 s each.
#   6. Python `dependencies`: a python Commands task with `dependencies: [dockhand-probe==1.0]`
#      (a wheel made here, served offline by `python3 -m http.server` on 127.0.0.1), its cache
#      warm after the warm-up round, vs the same task in an image that has the package already
#      (built here from BENCH_PY_IMAGE, default python:3.13-slim, with `ENGINE build`, nothing
#      pulled; removed afterwards) (target ratio <= 1.10).
#   7. Pebble expressions: parsing and rendering 100,000 expressions of the common forms
#      (`inputs.x`, `outputs.t.vars.k | upper`, `now() | date('yyyy-MM-dd')`, `secret('X')`) in
#      the `pebble_bench` example (release), vs 100,000 trivial `{{ x }}` measured in the same
#      process round by round (target: under 1 s); and `dockhand validate` of a generated flow
#      with 10,000 such expressions vs the same flow with them as plain text (target: under
#      0.5 s).
#   8. `dockhand report` of an execution with 1,000 task runs and 100,000 log lines (journal,
#      kept log and flow file written as dockhand writes them): under 1 s (`cat` of its journal
#      and log beside it); and the page opened in headless Chromium (Debian's chromium, a fresh
#      profile, the network cut off, a screenshot so it is loaded, laid out and painted) vs the
#      same browser opening an empty page, interleaved (target under 2 s).
#   9. keeping logs: the 500 MB stream task with every line kept (DOCKHAND_LOG_CAP=1GiB) and
#      with the default cap vs the same run keeping none (DOCKHAND_LOG_CAP=0), interleaved
#      (target <= 1.05); dockhand's peak RSS meanwhile (VmHWM, target <= 20 MB).
#  10. a ForEach over 1,000 values of a `Log` task (in process): under 2 s; the same flow over
#      one value is measured beside it (what starting dockhand costs; reported).
#  11. a ForEach over 100 values of a shell Commands task (`echo value {{ taskrun.value }}`) at
#      `concurrencyLimit: 4` vs `seq 100 | xargs -P4 -I{} ENGINE run --rm IMAGE sh -c 'echo
#      value {}'` (target <= 1.10); the engine calls of one more run are counted through the
#      logging wrapper (reported). BENCH_FOREACH_VALUES=N changes the 100.
#   With --swarm / --swarm-only, on a three-node test swarm (scripts/swarm-cluster.sh, taken down
#   afterwards; scripts/bench_swarm.py):
#   S1. one `echo hello` task through `dockhand run --backend swarm` vs the same job by hand
#      (`docker service create -d` + polling every 100 ms + `service logs` + `service rm`),
#      both on the worker n1 (target ratio <= 1.10).
#   S2. 60 `sleep 1` tasks in a Parallel with `concurrent: 12`, on 1 node vs 3 (reported).
#
# Timing is done by scripts/bench.py (stdlib python3), not hyperfine: hyperfine runs all of A
# and then all of B, while here A and B alternate round by round, and dockhand's own peak RSS
# and CPU time are sampled from /proc while it runs. scripts/bench_sdk.py is the SDK peer.
#
# Output: a table (figure, dockhand, baseline, ratio, target, PASS/FAIL) on stdout, the same
# plus details, the call breakdown and the environment in target/bench/results.md (the swarm
# figures in target/bench/swarm.md), raw numbers
# in target/bench/raw.json, engine call logs and strace output in target/bench/logs/.
#
# Idempotent: builds dockhand in release mode (cargo; honours CARGO_TARGET_DIR), recreates
# target/bench/{flows,work,state,logs} each run, creates the venv target/bench/venv with the
# `docker` package from PyPI only once (skipped with a note if PyPI is unreachable), and
# removes the containers it started. Nothing is pulled: the image (BENCH_IMAGE, default
# busybox:latest) must already be in each engine's store. Needs python3, /usr/bin/time
# (Debian's `time`, installed if missing), strace optional.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
# shellcheck source=scripts/lib.sh
. "$SCRIPT_DIR/lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; }

QUICK=0
SWARM=no
ONLY=""
ENGINES=(docker podman)
want_only=0
for a in "$@"; do
    if [ "$want_only" = 1 ]; then
        ONLY="$a"
        want_only=0
        continue
    fi
    case "$a" in
        --only) want_only=1 ;;
        --only=*) ONLY="${a#--only=}" ;;
        --quick) QUICK=1 ;;
        --swarm) SWARM=also ;;
        --swarm-only) SWARM=only; ENGINES=(docker) ;;
        --docker-only) ENGINES=(docker) ;;
        --podman-only) ENGINES=(podman) ;;
        --no-engines) ENGINES=() ;;
        --history-only) ONLY="keep,report" ;;
        --foreach-only) ONLY="foreach_log,foreach_containers" ;;
        -h | --help) usage; exit 0 ;;
        *) usage; die "unknown argument: $a" ;;
    esac
done

IMAGE="${BENCH_IMAGE:-busybox:latest}"
OUT="$ROOT/target/bench"
mkdir -p "$OUT"

# Tools.
have_cmd python3 || die "python3 is needed"
if [ ! -x /usr/bin/time ]; then
    require_root
    apt_ensure time
fi
have_cmd strace || warn "strace not found: the process count is not cross-checked"

# Engines: reachable, and the image present locally (never pulled).
for e in "${ENGINES[@]}"; do
    have_cmd "$e" || die "$e not found (scripts/setup-engines.sh installs it)"
    "$e" info >/dev/null 2>&1 || die "$e cannot reach its engine (scripts/setup-engines.sh starts it)"
    "$e" image inspect "$IMAGE" >/dev/null 2>&1 \
        || die "$e has no local image $IMAGE (scripts/build-test-images.sh builds it; this script pulls nothing)"
done

# dockhand, release build.
if [ "${BENCH_ONLY:-}" = history ]; then
    # Figures 8-9 need no pebble_bench (an example, which builds the library again in release
    # with the dev-dependencies' features: minutes).
    log "building dockhand (release)"
    (cd "$ROOT" && cargo build --release --quiet --bin dockhand)
else
    log "building dockhand and the pebble_bench example (release)"
    (cd "$ROOT" && cargo build --release --quiet --bin dockhand --example pebble_bench)
fi
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
DOCKHAND="$TARGET_DIR/release/dockhand"
[ -x "$DOCKHAND" ] || die "no binary at $DOCKHAND"
PEBBLE_BENCH="$TARGET_DIR/release/examples/pebble_bench"
[ "${BENCH_ONLY:-}" = history ] && PEBBLE_BENCH=""
[ -z "$PEBBLE_BENCH" ] || [ -x "$PEBBLE_BENCH" ] || die "no binary at $PEBBLE_BENCH"

# The Docker SDK peer: a venv with docker-py from PyPI, made once.
SDK_PY=""
SDK_NOTE=""
if [ "$SWARM" != only ] && [ "${BENCH_ONLY:-}" != history ] && [[ " ${ENGINES[*]} " == *" docker "* ]]; then
    VENV="$OUT/venv"
    if ! "$VENV/bin/python" -c 'import docker' >/dev/null 2>&1; then
        log "creating $VENV with the docker SDK (pip install docker)"
        rm -rf "$VENV"
        if python3 -m venv "$VENV" >/dev/null 2>&1 \
            && timeout 300 "$VENV/bin/pip" install --quiet --disable-pip-version-check docker >/dev/null 2>&1; then
            :
        else
            warn "could not install the docker SDK into $VENV: the SDK peer is skipped"
            SDK_NOTE="docker SDK not installable here"
        fi
    fi
    if "$VENV/bin/python" -c 'import docker' >/dev/null 2>&1; then
        SDK_PY="$VENV/bin/python"
    fi
fi

export BENCH_DOCKHAND="$DOCKHAND" BENCH_OUT="$OUT" BENCH_ENGINES="${ENGINES[*]}" BENCH_QUICK="$QUICK" \
    BENCH_IMAGE="$IMAGE" BENCH_SDK_PY="$SDK_PY" BENCH_SDK_NOTE="$SDK_NOTE" BENCH_REPO="$ROOT" \
    BENCH_PEBBLE="$PEBBLE_BENCH" BENCH_ONLY="$ONLY"
if [ "$SWARM" != only ]; then
    log "measuring (engines: ${ENGINES[*]:-none}; $([ "$QUICK" = 1 ] && echo quick || echo full))"
    python3 "$SCRIPT_DIR/bench.py"
fi

# The swarm figures, on a test swarm of the benchmark's own.
if [ "$SWARM" != no ]; then
    require_root
    log "bringing up the test swarm (scripts/swarm-cluster.sh)"
    trap 'bash "$SCRIPT_DIR/swarm-cluster.sh" down --name dhbench >/dev/null 2>&1 || true' EXIT
    SWARM_MANAGER="$(bash "$SCRIPT_DIR/swarm-cluster.sh" up --name dhbench | sed -n 's/^SWARM_MANAGER=//p')"
    [ -n "$SWARM_MANAGER" ] || die "the test swarm did not come up"
    log "measuring on the swarm ($([ "$QUICK" = 1 ] && echo quick || echo full))"
    BENCH_SWARM_MANAGER="$SWARM_MANAGER" python3 "$SCRIPT_DIR/bench_swarm.py"
fi
