#!/usr/bin/env python3
"""scripts/bench_swarm.py — the swarm figures of scripts/bench.sh --swarm (run that, not this).

bench.sh brings up the test swarm (scripts/swarm-cluster.sh: three dockerd in network
namespaces) and passes its manager as BENCH_SWARM_MANAGER, besides bench.py's variables. The
timing helpers are bench.py's (interleaved rounds, ratio of medians).

  6. one `echo hello` task through `dockhand run --backend swarm` vs the same job by hand:
     `docker service create -d` + polling the task's state every 100 ms + `docker service logs`
     + `docker service rm` (target ratio <= 1.10), both pinned to the worker n1.
  7. a Parallel of 60 `sleep 1` tasks, `concurrent: 12`, all pinned to one node vs spread over
     the three nodes (reported).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as b  # noqa: E402

MANAGER = os.environ["BENCH_SWARM_MANAGER"]
R = {"overhead": (7, 1) if b.QUICK else (15, 2), "parallel": (1, 0) if b.QUICK else (3, 0)}

# The job by hand, as a user of the docker CLI would script it: create detached, poll the
# task's state, read the log, remove the service.
HAND_SH = r"""set -eu
host="$1"; image="$2"; name="bench-hand-$$"
d() { docker --host "$host" "$@"; }
d service create -d -q --name "$name" --mode replicated --replicas 1 --restart-condition none \
  --no-resolve-image --constraint node.labels.dockhand.node==n1 "$image" sh -c 'echo hello' >/dev/null
while :; do
  t="$(d service ps -q --no-trunc "$name" | head -1)"
  if [ -n "$t" ]; then
    case "$(d inspect --type task --format '{{.Status.State}}' "$t")" in
      complete | failed | rejected | shutdown) break ;;
    esac
  fi
  sleep 0.1
done
d service logs --raw "$name"
d service rm "$name" >/dev/null
"""


def swarm_flows():
    f = {}
    f["hello"] = b.write(f"{b.FLOWS}/swarm-hello.yaml", "id: bench_swarm_hello\nnamespace: bench\ntasks:\n" + b.script_task("hello", "echo hello"))
    par = "id: bench_swarm_parallel\nnamespace: bench\ntasks:\n  - id: fan_out\n    type: io.kestra.plugin.core.flow.Parallel\n    concurrent: 12\n    tasks:\n"
    par += "".join(b.script_task(f"sleep_{i:02d}", "sleep 1", indent=6) for i in range(1, 61))
    f["parallel"] = b.write(f"{b.FLOWS}/swarm-parallel.yaml", par)
    f["hand"] = b.write(f"{b.FLOWS}/swarm-hand.sh", HAND_SH)
    return f


def dockhand(flow, *extra):
    return [b.DOCKHAND, "run", "-q", "--engine", "docker", "--backend", "swarm", "--host", MANAGER, *extra, flow]


def main():
    rows, notes = [], []
    f = swarm_flows()
    n, w = R["overhead"]
    cmds = {
        "dockhand": (dockhand(f["hello"], "--placement", "*=node.labels.dockhand.node==n1"), None),
        "baseline": (["bash", f["hand"], MANAGER, b.IMAGE], None),
    }
    res = b.compare("swarm overhead", cmds, n, w)
    d, h = b.med(res["dockhand"]), b.med(res["baseline"])
    rows.append(("6. one `echo hello` task on a swarm (worker n1) vs `service create -d` + polling + `service logs` + `service rm` by hand", b.ms(d), b.ms(h), f"{d / h:.3f}", "≤ 1.10", b.verdict(d / h <= 1.10)))
    notes.append(f"swarm overhead: dockhand {b.spread(res['dockhand'])}; by hand {b.spread(res['baseline'])}")

    n, w = R["parallel"]
    cmds = {
        "one_node": (dockhand(f["parallel"], "--placement", "*=node.labels.dockhand.node==n0"), None),
        "three_nodes": (dockhand(f["parallel"]), None),
    }
    res = b.compare("swarm parallel", cmds, n, w)
    one, three = b.med(res["one_node"]), b.med(res["three_nodes"])
    rows.append(("7. Parallel, concurrent 12, 60 × `sleep 1`: 3 nodes vs 1 node", b.secs(three), f"{b.secs(one)} on 1 node", f"{three / one:.3f}", "report", "—"))
    notes.append(f"swarm parallel: 1 node {b.spread(res['one_node'])}; 3 nodes {b.spread(res['three_nodes'])}")

    head = ["figure", "dockhand", "baseline", "ratio", "target", "result"]
    table = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    table += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    print("\n".join(table))
    md = ["# dockhand on a swarm", "", "Reproduce: `scripts/bench.sh --swarm-only`.", "", "\n".join(table), "", "## Details", ""]
    md += [f"- {x}" for x in notes]
    b.write(os.path.join(b.OUT, "swarm.md"), "\n".join(md) + "\n")
    b.log(f"written {os.path.join(b.OUT, 'swarm.md')}")


if __name__ == "__main__":
    main()
