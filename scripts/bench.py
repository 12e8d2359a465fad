#!/usr/bin/env python3
"""scripts/bench.py — the measuring half of scripts/bench.sh (run that, not this).

bench.sh builds dockhand, checks the engines and the local image, prepares the Docker SDK venv
and then runs this file with the system python3, passing everything through the environment:

  BENCH_DOCKHAND   the release binary            BENCH_OUT      output directory (target/bench)
  BENCH_ENGINES    "docker podman" (a subset)    BENCH_QUICK    1 for --quick
  BENCH_IMAGE      local image (busybox:latest)  BENCH_SDK_PY   venv python with `docker`, or ""
  BENCH_SDK_NOTE   why the SDK peer is missing   BENCH_REPO     repository root
  BENCH_PEBBLE     the release pebble_bench example (figure 6), or ""

Timing: every figure runs dockhand and its baseline in the same invocation, interleaved
(A B, then B A, ...) so that load drifting on a shared machine hits both alike; the figure is
the ratio of the medians. Wall time is taken around fork/exec/wait4; peak RSS of dockhand's own
process is sampled from /proc/PID/status VmHWM (wait4's ru_maxrss, which /usr/bin/time reports,
is the maximum over the whole process tree, i.e. usually the engine CLI child's).
"""

import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import threading

DOCKHAND = os.environ["BENCH_DOCKHAND"]
OUT = os.environ["BENCH_OUT"]
ENGINES = os.environ.get("BENCH_ENGINES", "docker podman").split()
QUICK = os.environ.get("BENCH_QUICK") == "1"
IMAGE = os.environ.get("BENCH_IMAGE", "busybox:latest")
SDK_PY = os.environ.get("BENCH_SDK_PY", "")
SDK_NOTE = os.environ.get("BENCH_SDK_NOTE", "")
REPO = os.environ.get("BENCH_REPO", ".")
# `--only a,b`: just those figures (overhead, breakdown, processes, stream, parallel,
# python_deps, plan, plan_mixed, pebble).
ONLY = {n for n in os.environ.get("BENCH_ONLY", "").split(",") if n}


def wanted(name):
    return not ONLY or name in ONLY

# Rounds per figure (each round runs dockhand and every baseline once).
R = {
    "overhead": (7, 1) if QUICK else (21, 3),  # (measured rounds, warm-up rounds)
    "stream": (2, 0) if QUICK else (3, 0),  # podman's stream is ~4x faster: it gets 5 rounds
    "stream_podman": (2, 0) if QUICK else (5, 0),
    "parallel": (2, 0) if QUICK else (5, 1),
    "plan": (3, 1) if QUICK else (7, 1),
    "breakdown": (5, 1) if QUICK else (11, 2),
    "python_deps": (5, 1) if QUICK else (15, 2),
    "pebble": (3, 1) if QUICK else (7, 1),
    "report": (3, 1) if QUICK else (7, 1),
    "browser": (3, 1) if QUICK else (7, 1),
    "keep": (2, 0) if QUICK else (3, 0),
    "keep_podman": (2, 0) if QUICK else (5, 0),
    "foreach_log": (3, 1) if QUICK else (7, 1),
    "foreach_containers": (1, 0) if QUICK else (3, 0),
}
# Figure 8's execution: task runs and log lines (100 per run).
REPORT_RUNS = 1_000
REPORT_LINES = 100_000
# The Python image (local, as scripts/build-test-images.sh builds it) for figure 6.
PY_IMAGE = os.environ.get("BENCH_PY_IMAGE", "python:3.13-slim")
STREAM_BYTES = 100_000_000 if QUICK else 500_000_000
LINE = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"  # 63 chars + newline
STREAM_SH = f"yes {LINE} | head -c {STREAM_BYTES}"
PLAN_TASKS = 10_000
# Figure 5b: a flow of 1,000 tasks mixing the script languages (target: validate and plan < 0.5 s).
MIXED_TASKS = 1_000
MIXED_LANGUAGES = ["shell", "python", "node", "r", "julia", "ruby", "go", "bun", "deno", "perl", "php", "lua", "powershell", "groovy", "jbang", "dotnet"]
PEBBLE_EXPRESSIONS = 10_000
PEBBLE_BENCH = os.environ.get("BENCH_PEBBLE", "")
# Figures 10 and 11: a ForEach over many values of a Log task, and over 100 values of a
# container task at concurrencyLimit 4 (BENCH_FOREACH_VALUES overrides the 100, e.g. for a quick
# profile); `bench.sh --foreach-only` is BENCH_ONLY=foreach_log,foreach_containers.
FOREACH_LOG_VALUES = 1_000
FOREACH_VALUES = int(os.environ.get("BENCH_FOREACH_VALUES", "100"))
FOREACH_LIMIT = 4

WORK = os.path.join(OUT, "work")
FLOWS = os.path.join(OUT, "flows")
STATE = os.path.join(OUT, "state")
LOGS = os.path.join(OUT, "logs")

ENV = dict(os.environ, DOCKHAND_STATE_DIR=STATE, DOCKHAND_WORK_DIR=os.path.join(WORK, "dockhand"), NO_COLOR="1")
ENV.pop("DOCKHAND_ENGINE", None)


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Running and measuring one command


def _proc_status(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _proc_cpu(pid):
    """utime + stime of a process (all its threads, not its children), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


class Result:
    def __init__(self, wall, rc, tree_maxrss_kb, own_hwm_kb=None, own_cpu=None):
        self.wall, self.rc, self.tree_maxrss_kb, self.own_hwm_kb, self.own_cpu = wall, rc, tree_maxrss_kb, own_hwm_kb, own_cpu


def run(argv, stdout=None, watch=None, env=None, stdin=None):
    """Runs argv to its end; wall seconds, exit code, wait4's ru_maxrss (whole tree) and, when
    `watch` names a program, the VmHWM and CPU time of the first process of that name in the
    tree (sampled every 20 ms; VmHWM is a high-water mark, so the last sample is the peak up to
    then)."""
    out = open(os.devnull, "wb") if stdout is None else stdout
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, stdin=stdin or subprocess.DEVNULL, env=env or ENV)
    sampled = {"hwm": None, "cpu": None}
    done = threading.Event()

    def sampler():
        target = None
        while not done.is_set():
            if target is None:
                cands = [p.pid] + _children(p.pid)
                for c in cands:
                    try:
                        with open(f"/proc/{c}/comm") as f:
                            if f.read().strip() == watch:
                                target = c
                                break
                    except OSError:
                        pass
            if target is not None:
                h, c = _proc_status(target, "VmHWM"), _proc_cpu(target)
                if h is not None:
                    sampled["hwm"] = h
                if c is not None and h is not None:
                    sampled["cpu"] = c
            done.wait(0.02)

    th = None
    if watch:
        th = threading.Thread(target=sampler, daemon=True)
        th.start()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    if th:
        th.join()
    if stdout is None:
        out.close()
    r = Result(wall, p.returncode, ru.ru_maxrss, sampled["hwm"], sampled["cpu"])
    # CPU time of the whole tree (user + system), from wait4: for a program without children
    # (`plan`, `validate`) its own, which load on the machine does not inflate as it does wall.
    r.tree_cpu = ru.ru_utime + ru.ru_stime
    return r


def compare(title, cmds, rounds, warmup, watch=None, check=True, settle=None, watched=("dockhand",)):
    """Runs the commands of `cmds` (label -> (argv, stdout-file-or-None)) interleaved, the order
    rotating each round. `settle`, if given, runs untimed after every command (e.g. to let a
    detached removal finish, so that it does not slow the next command down). Returns label ->
    list of Result (warm-up rounds dropped)."""
    labels = list(cmds)
    res = {k: [] for k in labels}
    last = {}
    total = warmup + rounds
    for i in range(total):
        order = labels[i % len(labels):] + labels[: i % len(labels)]
        if i % 2:
            order.reverse()
        for k in order:
            argv, out = cmds[k]
            r = run(argv, stdout=out, watch=watch if k in watched else None)
            if check and r.rc != 0:
                raise SystemExit(f"[bench] {title}: `{shlex.join(argv)}` exited with {r.rc}")
            last[k] = r.wall
            if settle:
                settle()
            if i >= warmup:
                res[k].append(r)
        log(f"{title}: round {i + 1}/{total}{' (warm-up)' if i < warmup else ''} " + ", ".join(f"{k} {last[k]:.3f}s" for k in labels))
    return res


def med(rs):
    return statistics.median(r.wall for r in rs)


def spread(rs):
    w = sorted(r.wall for r in rs)
    return f"median {statistics.median(w):.3f} s, min {w[0]:.3f}, max {w[-1]:.3f}, n={len(w)}"


# --------------------------------------------------------------------------------------------
# Flows


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def script_task(tid, command, indent=2):
    p = " " * indent
    return (
        f"{p}- id: {tid}\n{p}  type: io.kestra.plugin.scripts.shell.Commands\n{p}  containerImage: {IMAGE}\n"
        f"{p}  commands:\n{p}    - {json.dumps(command)}\n"
    )


def flows():
    f = {}
    f["hello"] = write(f"{FLOWS}/hello.yaml", "id: bench_hello\nnamespace: bench\ntasks:\n" + script_task("hello", "echo hello"))
    f["stream"] = write(f"{FLOWS}/stream.yaml", "id: bench_stream\nnamespace: bench\ntasks:\n" + script_task("stream", STREAM_SH))
    par = "id: bench_parallel\nnamespace: bench\ntasks:\n  - id: fan_out\n    type: io.kestra.plugin.core.flow.Parallel\n    concurrent: 4\n    tasks:\n"
    par += "".join(script_task(f"sleep_{i:02d}", "sleep 1", indent=6) for i in range(1, 21))
    f["parallel"] = write(f"{FLOWS}/parallel.yaml", par)
    big = ["id: bench_plan_10k\nnamespace: bench\ntasks:\n"]
    big += [script_task(f"task_{i:05d}", f"echo task {i}") for i in range(PLAN_TASKS)]
    f["plan"] = write(f"{FLOWS}/plan-10k.yaml", "".join(big))
    grp = ["id: bench_plan_10k_groups\nnamespace: bench\ntasks:\n"]
    for g in range(PLAN_TASKS // 10):
        grp.append(f"  - id: group_{g:04d}\n    type: io.kestra.plugin.core.flow.Parallel\n    concurrent: 4\n    tasks:\n")
        grp += [script_task(f"task_{g * 10 + k:05d}", f"echo task {g * 10 + k}", indent=6) for k in range(10)]
    f["plan_groups"] = write(f"{FLOWS}/plan-10k-groups.yaml", "".join(grp))
    # 1,000 tasks mixing every script language, Commands and Script in turn, each with the
    # common properties (env, inputFiles, outputFiles) and expressions reading the task before.
    mixed = ["id: bench_plan_mixed\nnamespace: bench\ninputs:\n  - id: x\n    type: STRING\n    defaults: hello\ntasks:\n"]
    for i in range(MIXED_TASKS):
        lang = MIXED_LANGUAGES[i % len(MIXED_LANGUAGES)]
        kind = "Script" if (i // len(MIXED_LANGUAGES)) % 2 else "Commands"
        prev = f"outputs.mixed_{i - 1:04d}.vars.k ?? 'none'" if i else "inputs.x"
        body = f"    script: |\n      print(\"{{{{ {prev} }}}}\")\n" if kind == "Script" else f"    commands:\n      - echo {{{{ {prev} }}}}\n"
        extra = "    dependencies: [six==1.16.0]\n" if lang == "python" and kind == "Script" else ""
        mixed.append(
            f"  - id: mixed_{i:04d}\n    type: io.kestra.plugin.scripts.{lang}.{kind}\n{extra}"
            f"    env: {{N: \"{i}\"}}\n    inputFiles: {{in.txt: \"{{{{ inputs.x }}}}\"}}\n    outputFiles: [\"*.txt\"]\n{body}"
        )
    f["plan_mixed"] = write(f"{FLOWS}/plan-mixed-1k.yaml", "".join(mixed))
    # 10,000 expressions of the common forms, 4 commands a task, each task reading the output
    # of the one before; and the same flow with the expressions written as plain text.
    for key, plain in (("pebble", False), ("pebble_plain", True)):
        text = [f"id: bench_pebble{'_plain' if plain else ''}\nnamespace: bench\ninputs:\n  - id: x\n    type: STRING\n    defaults: hello\ntasks:\n"]
        for i in range(PEBBLE_EXPRESSIONS // 4):
            prev = f"task_{max(i - 1, 0):05d}"
            forms = ["inputs.x", f"outputs.{prev}.vars.k | upper", "now() | date('yyyy-MM-dd')", "secret('X')"]
            if i == 0:
                forms[1] = "inputs.x | upper"
            cmds = [f"echo {'' if plain else '{{ '}{e}{'' if plain else ' }}'}" for e in forms]
            text.append(f"  - id: task_{i:05d}\n    type: io.kestra.plugin.scripts.shell.Commands\n    containerImage: {IMAGE}\n    commands:\n")
            text += [f"      - {json.dumps(c)}\n" for c in cmds]
        f[key] = write(f"{FLOWS}/{key.replace('_', '-')}-10k.yaml", "".join(text))
    # Figure 8: a ForEach over 1,000 values of a Log task, and the same flow over one value.
    for key, n in (("foreach_log", FOREACH_LOG_VALUES), ("foreach_log_1", 1)):
        vals = ", ".join(f'"v{i}"' for i in range(n))
        f[key] = write(
            f"{FLOWS}/{key.replace('_', '-')}.yaml",
            f"id: bench_{key}\nnamespace: bench\ntasks:\n  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n    values: [{vals}]\n    tasks:\n"
            "      - id: say\n        type: io.kestra.plugin.core.log.Log\n        message: \"value {{ taskrun.value }}\"\n",
        )
    # Figure 9: a ForEach over FOREACH_VALUES values of a container task, 4 at a time.
    vals = ", ".join(f'"{i}"' for i in range(1, FOREACH_VALUES + 1))
    f["foreach_containers"] = write(
        f"{FLOWS}/foreach-containers.yaml",
        f"id: bench_foreach\nnamespace: bench\ntasks:\n  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n    values: [{vals}]\n    concurrencyLimit: {FOREACH_LIMIT}\n    tasks:\n"
        + script_task("echo", "echo value {{ taskrun.value }}", indent=6),
    )
    return f


# --------------------------------------------------------------------------------------------
# Engine wrappers: log each engine CLI invocation (argv, start and end time) and run the real CLI


def wrapper(engine):
    real = shutil.which(engine)
    logf = f"{LOGS}/{engine}-calls.log"
    # The docker wrapper must not mention podman (dockhand would take it for podman-docker); the
    # podman one does, so dockhand drives it as Podman.
    text = f"""#!/bin/bash
# bench wrapper: log the call, run {real}
t0=$EPOCHREALTIME
{real} "$@"
rc=$?
printf -v q ' %q' "$@"
printf '%s %s %s%s\\n' "$t0" "$EPOCHREALTIME" "$rc" "$q" >> {logf}
exit $rc
"""
    path = write(f"{OUT}/bin/{engine}", text)
    os.chmod(path, 0o755)
    return path, logf


def calls(logf):
    out = []
    if os.path.exists(logf):
        with open(logf) as f:
            for line in f:
                t0, t1, rc, args = line.rstrip("\n").split(" ", 3)  # args: bash %q words
                out.append((float(t0), float(t1), int(rc), args))
    return out


def subcommand(args):
    words = args.split()
    # skip global options (--host X / --url X)
    i = 0
    while i < len(words) and words[i] in ("--host", "--url", "-H"):
        i += 2
    return words[i] if i < len(words) else "?"


def strace_execs(argv, program, out_path):
    """execve()s of `program` anywhere in the tree of argv (None when strace is missing)."""
    if not shutil.which("strace"):
        return None
    subprocess.run(["strace", "-f", "-qq", "-e", "trace=execve", "-o", out_path] + argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    n = 0
    real = os.path.realpath(shutil.which(program))
    with open(out_path) as f:
        for line in f:
            m = re.search(r'execve\("([^"]+)".*\) = 0', line)
            if m and os.path.realpath(m.group(1)) == real:
                n += 1
    return n


# --------------------------------------------------------------------------------------------
# The figures

rows = []  # (figure, dockhand, baseline, ratio, target, verdict)
notes = []  # free text sections for results.md
raw = {}


def verdict(ok):
    return "PASS" if ok else "FAIL"


def ms(s):
    return f"{s * 1000:.0f} ms"


def secs(s):
    return f"{s:.2f} s"


def mb(kb):
    return "n/a" if kb is None else f"{kb / 1024:.1f} MB"


def cleanup_containers(engine):
    for flow in ("bench_hello", "bench_stream", "bench_parallel", "bench_python_deps", "bench_python_baked", "bench_foreach"):
        ids = subprocess.run([engine, "ps", "-aq", "--filter", f"label=io.dockhand.flow={flow}"], capture_output=True, text=True).stdout.split()
        if ids:
            subprocess.run([engine, "rm", "-f", "-v"] + ids, capture_output=True)


def wait_gone(engine, flow, limit=30.0):
    """Untimed: until no container of the bench flow `flow` is left (dockhand hands its last
    removal to a detached `rm` when it returns)."""
    until = time.monotonic() + limit
    while time.monotonic() < until:
        ids = subprocess.run([engine, "ps", "-aq", "--filter", f"label=io.dockhand.flow={flow}"], capture_output=True, text=True).stdout.split()
        if not ids:
            return
        time.sleep(0.02)
    raise SystemExit(f"[bench] containers of {flow} still there after {limit:.0f} s")


def fig_overhead(engine, f):
    n, w = R["overhead"]
    dh = [DOCKHAND, "run", "-q", "--engine", engine, f["hello"]]
    dh_wait = dh[:2] + ["--wait-removal"] + dh[2:]
    base = [engine, "run", "--rm", IMAGE, "sh", "-c", "echo hello"]
    cmds = {"dockhand": (dh, None), "baseline": (base, None), "dockhand_wait": (dh_wait, None)}
    sdk = engine == "docker" and SDK_PY
    if sdk:
        cmds["sdk"] = ([SDK_PY, os.path.join(REPO, "scripts", "bench_sdk.py"), IMAGE], None)
    # The detached `rm` dockhand leaves finishes before the next command starts (untimed), so
    # that it never slows the baseline down.
    res = compare(f"overhead/{engine}", cmds, n, w, settle=lambda: wait_gone(engine, "bench_hello"))
    raw[f"overhead_{engine}"] = {k: [r.wall for r in v] for k, v in res.items()}
    d, b, dw = med(res["dockhand"]), med(res["baseline"]), med(res["dockhand_wait"])
    rows.append((f"1. overhead, one `echo hello` task, {engine}", ms(d), f"{ms(b)} `{engine} run --rm`", f"{d / b:.3f}", "≤ 1.05", verdict(d / b <= 1.05)))
    rows.append((f"1a. the same with `--wait-removal` (returns once the container is gone), {engine}", ms(dw), f"{ms(b)} `{engine} run --rm`", f"{dw / b:.3f}", "report", "—"))
    if engine == "docker":
        if sdk:
            s = med(res["sdk"])
            rows.append(("1b. the same, vs the Docker SDK (docker-py)", ms(d), f"{ms(s)} SDK create/start/wait/logs/remove", f"{d / s:.3f}", "report", "—"))
        else:
            rows.append(("1b. the same, vs the Docker SDK (docker-py)", ms(d), f"n/a ({SDK_NOTE})", "n/a", "report", "—"))
    notes.append(f"overhead/{engine}: dockhand {spread(res['dockhand'])}; dockhand --wait-removal {spread(res['dockhand_wait'])}; baseline {spread(res['baseline'])}" + (f"; sdk {spread(res['sdk'])}" if sdk else ""))


def fig_breakdown(engine, f):
    """Where dockhand's time goes in the one-task run: each engine CLI call it makes, timed by
    the logging wrapper inside real runs, and the same calls made by hand, in the same rounds."""
    n, w = R["breakdown"]
    wrap, logf = wrapper(engine)
    name = "dockhand-bench-breakdown"
    subprocess.run([engine, "rm", "-f", name], capture_output=True)
    ver = [engine, "version", "--format", "{{.Server.Version}}" if engine == "docker" else "{{.Client.Version}}"]
    by_hand = [
        ("version", ver),
        ("run (no --rm)", [engine, "run", "--name", name, IMAGE, "sh", "-c", "echo hello"]),
        ("rm", [engine, "rm", "--force", "--volumes", name]),
        ("run --rm", [engine, "run", "--rm", IMAGE, "sh", "-c", "echo hello"]),
    ]
    hand = {k: [] for k, _ in by_hand}
    per_run = []
    for i in range(w + n):
        if os.path.exists(logf):
            os.remove(logf)
        # --wait-removal: the wrapper logs a call when it ends, and the `rm` must be in the log.
        r = run([DOCKHAND, "run", "-q", "--wait-removal", "--engine", wrap, f["hello"]])
        if r.rc != 0:
            raise SystemExit(f"[bench] breakdown/{engine}: dockhand exited with {r.rc}")
        cs = calls(logf)
        times = {}
        for k, argv in by_hand:
            times[k] = run(argv).wall
        if i >= w:
            per_run.append((r.wall, cs))
            for k, t in times.items():
                hand[k].append(t)
    # Medians per call kind, and the time dockhand spends outside engine calls.
    kinds = {}
    gaps = []
    for wall, cs in per_run:
        for a, b, _, args in cs:
            kinds.setdefault(subcommand(args), []).append(b - a)
        gaps.append(wall - sum(b - a for a, b, _, _ in cs))
    lines = [f"### Breakdown of the one-task run, {engine} (medians of {n} rounds, each: dockhand through the logging wrapper, then the calls by hand)", "", "| step | inside dockhand runs (wrapper-timed) | by hand |", "|---|---|---|"]
    for k in sorted(kinds, key=lambda k: -statistics.median(kinds[k])):
        byhand = {"version": "version", "run": "run (no --rm)", "rm": "rm"}.get(k)
        lines.append(f"| `{engine} {k}` | {ms(statistics.median(kinds[k]))} (×{len(kinds[k]) // len(per_run)} per run) | {ms(statistics.median(hand[byhand])) if byhand else '—'} |")
    lines.append(f"| dockhand itself (wall minus engine calls; includes ~2-3 ms of bash per wrapped call) | {ms(statistics.median(gaps))} | — |")
    lines.append(f"| total | {ms(statistics.median(w for w, _ in per_run))} | `{engine} run --rm`: {ms(statistics.median(hand['run --rm']))} |")
    lines.append("")
    raw[f"breakdown_{engine}"] = {"calls": kinds, "gaps": gaps, "by_hand": hand}
    notes.append("\n".join(lines))


def fig_processes(engine, f):
    wrap, logf = wrapper(engine)
    counts = {}
    for key in ("hello", "parallel"):
        if os.path.exists(logf):
            os.remove(logf)
        # --wait-removal changes when the last `rm` ends, not which calls are made; the wrapper
        # logs a call when it ends, so this way the log is complete when dockhand returns.
        r = run([DOCKHAND, "run", "-q", "--wait-removal", "--engine", wrap, f[key]])
        if r.rc != 0:
            raise SystemExit(f"[bench] processes/{engine}: dockhand exited with {r.rc}")
        cs = calls(logf)
        kinds = {}
        for *_, args in cs:
            kinds[subcommand(args)] = kinds.get(subcommand(args), 0) + 1
        counts[key] = (len(cs), kinds, [a for *_, a in cs])
    tasks = {"hello": 1, "parallel": 20}
    # Per flow, not per task: `version` (remote engines, or a failure's diagnosis) and podman's
    # one `image inspect` of the flow's short image names (IF_NOT_PRESENT).
    per_flow_kinds = ("version", "image")
    per_flow_of = lambda k: sum(counts[k][1].get(x, 0) for x in per_flow_kinds)
    per_flow = per_flow_of("hello")
    per_task = (counts["hello"][0] - per_flow) / tasks["hello"]
    per_task_par = (counts["parallel"][0] - per_flow_of("parallel")) / tasks["parallel"]
    kinds_txt = ", ".join(f"{k} ×{v}" for k, v in counts["hello"][1].items() if k not in per_flow_kinds)
    flow_txt = ", ".join(f"{k} ×{counts['hello'][1].get(k, 0)}" for k in per_flow_kinds)
    rows.append((f"2. engine CLI processes per task, {engine}", f"{per_task:g} ({kinds_txt}); +{per_flow} per flow ({flow_txt}: `version` asked only of remote engines or to diagnose a failure; podman's `image inspect` of short image names)", f"1 `{engine} run --rm`", f"{per_task / 1:.2f}", "1–2 per task", verdict(1 <= per_task <= 2 and 1 <= per_task_par <= 2)))
    # Cross-check with strace: every exec of the engine binary in the whole tree, dockhand and
    # baseline alike (the engine may exec itself, e.g. podman's conmon runs `podman container cleanup`).
    st_d = strace_execs([DOCKHAND, "run", "-q", "--wait-removal", "--engine", engine, f["hello"]], engine, f"{LOGS}/{engine}-strace-dockhand.txt")
    st_b = strace_execs([engine, "run", "--rm", IMAGE, "sh", "-c", "echo hello"], engine, f"{LOGS}/{engine}-strace-baseline.txt")
    lines = [f"### Engine CLI calls, {engine}", "", f"One-task flow ({counts['hello'][0]} calls):", "```"]
    lines += [f"{engine} {a}" for a in counts["hello"][2]]
    lines += ["```", f"Parallel flow, 20 tasks: {counts['parallel'][0]} calls ({', '.join(f'{k} ×{v}' for k, v in counts['parallel'][1].items())}), {per_task_par:g} per task."]
    if st_d is not None:
        lines.append(f"strace -f, every execve of {shutil.which(engine)} in the tree: dockhand one-task run {st_d}, `{engine} run --rm` by hand {st_b}.")
    lines.append("")
    notes.append("\n".join(lines))
    raw[f"processes_{engine}"] = {"hello": counts["hello"][2], "parallel": counts["parallel"][2], "strace_dockhand": st_d, "strace_baseline": st_b}


def fig_stream(engine, f):
    n, w = R["stream_podman" if engine == "podman" else "stream"]
    os.makedirs(LOGS, exist_ok=True)
    tv_d, tv_b = f"{LOGS}/{engine}-stream-time-dockhand.txt", f"{LOGS}/{engine}-stream-time-baseline.txt"
    dh = ["/usr/bin/time", "-v", "-o", tv_d, DOCKHAND, "run", "-q", "--engine", engine, f["stream"]]
    base = ["/usr/bin/time", "-v", "-o", tv_b, engine, "run", "--rm", IMAGE, "sh", "-c", STREAM_SH]
    # Each writes 500 MB of output; /dev/null is where it goes for both.
    res = compare(f"stream/{engine}", {"dockhand": (dh, None), "baseline": (base, None)}, n, w, watch="dockhand", settle=lambda: wait_gone(engine, "bench_stream"))
    d, b = med(res["dockhand"]), med(res["baseline"])
    hwm = max((r.own_hwm_kb for r in res["dockhand"] if r.own_hwm_kb), default=None)
    cpu = statistics.median([r.own_cpu for r in res["dockhand"] if r.own_cpu is not None] or [float("nan")])
    tree_d = max(r.tree_maxrss_kb for r in res["dockhand"])
    tree_b = max(r.tree_maxrss_kb for r in res["baseline"])
    size = f"{STREAM_BYTES // 1_000_000} MB"
    rows.append((f"3. log streaming {size} of lines, {engine}", secs(d), f"{secs(b)} `{engine} run --rm … > /dev/null`", f"{d / b:.3f}", "≤ 1.10", verdict(d / b <= 1.10)))
    rows.append((f"3. peak RSS of dockhand while streaming, {engine}", mb(hwm), f"`/usr/bin/time -v`: {mb(tree_d)} (tree, incl. the {engine} CLI child); {engine} CLI alone {mb(tree_b)}", "—", "≤ 20 MB", verdict(hwm is not None and hwm <= 20 * 1024)))
    notes.append(f"stream/{engine}: dockhand {spread(res['dockhand'])}, dockhand's own CPU time {cpu:.2f} s (median); baseline {spread(res['baseline'])}")
    raw[f"stream_{engine}"] = {"dockhand": [r.wall for r in res["dockhand"]], "baseline": [r.wall for r in res["baseline"]], "own_hwm_kb": hwm, "own_cpu_s": cpu, "tree_maxrss_kb": [tree_d, tree_b]}


def versus_xargs(key, figure, engine, flow, flow_id, count, argv):
    """A flow of `count` container runs, 4 at a time, vs `seq COUNT | xargs -P4 -I{} ENGINE run
    --rm IMAGE ARGV…` (`{}` the item), interleaved; its row (target ≤ 1.10) and notes."""
    n, w = R[key]
    dh = [DOCKHAND, "run", "-q", "--engine", engine, flow]
    base = ["bash", "-c", f"seq {count} | xargs -P4 -I{{}} {engine} run --rm {IMAGE} {argv}"]
    res = compare(f"{key}/{engine}", {"dockhand": (dh, None), "baseline": (base, None)}, n, w, settle=lambda: wait_gone(engine, flow_id))
    d, b = med(res["dockhand"]), med(res["baseline"])
    rows.append((f"{figure}, {engine}", secs(d), f"{secs(b)} `seq {count} | xargs -P4 … {engine} run --rm`", f"{d / b:.3f}", "≤ 1.10", verdict(d / b <= 1.10)))
    notes.append(f"{key}/{engine}: dockhand {spread(res['dockhand'])}; baseline {spread(res['baseline'])}")
    raw[f"{key}_{engine}"] = {k: [r.wall for r in v] for k, v in res.items()}


def fig_parallel(engine, f):
    versus_xargs("parallel", "4. Parallel, concurrent 4, 20 × `sleep 1`", engine, f["parallel"], "bench_parallel", 20, "sleep 1")


def fig_foreach_log(f):
    """Figure 10: a ForEach over 1,000 values of a Log task (in process, no engine call), against
    the same flow over one value measured in the same rounds (what starting dockhand costs)."""
    n, w = R["foreach_log"]
    dh = [DOCKHAND, "run", "-q", f["foreach_log"]]
    one = [DOCKHAND, "run", "-q", f["foreach_log_1"]]
    res = compare("foreach log", {"dockhand": (dh, None), "one value": (one, None)}, n, w)
    d, b = med(res["dockhand"]), med(res["one value"])
    rows.append((f"10. ForEach over {FOREACH_LOG_VALUES:,} values of a `Log` task", secs(d), f"{secs(b)} the same flow over 1 value", f"{d / b:.3f}", "< 2 s", verdict(d < 2.0)))
    notes.append(f"foreach log: {spread(res['dockhand'])}; one value: {spread(res['one value'])}")
    raw["foreach_log"] = {k: [r.wall for r in v] for k, v in res.items()}


def fig_foreach_containers(engine, f):
    """Figure 11: a ForEach over FOREACH_VALUES values of a container task at concurrencyLimit 4
    vs `xargs -P4 ENGINE run --rm` doing the same, interleaved; and the engine calls dockhand
    made, counted through the logging wrapper in one more run (untimed)."""
    figure = f"11. ForEach, concurrencyLimit {FOREACH_LIMIT}, {FOREACH_VALUES} × `echo`"
    versus_xargs("foreach_containers", figure, engine, f["foreach_containers"], "bench_foreach", FOREACH_VALUES, "sh -c 'echo value {}'")
    wrap, logf = wrapper(engine)
    if os.path.exists(logf):
        os.remove(logf)
    r = run([DOCKHAND, "run", "-q", "--wait-removal", "--engine", wrap, f["foreach_containers"]])
    kinds = {}
    for *_, args in calls(logf):
        kinds[subcommand(args)] = kinds.get(subcommand(args), 0) + 1
    said = ", ".join(f"{k} ×{v}" for k, v in sorted(kinds.items()))
    notes.append(f"foreach/{engine}: engine calls of one more run (exit {r.rc}): {said}")
    raw[f"foreach_calls_{engine}"] = kinds
    wait_gone(engine, "bench_foreach")


def fig_plan(f):
    n, w = R["plan"]
    for key, label in (("plan", "flat"), ("plan_groups", "in 1,000 Parallel groups")):
        res = []
        for i in range(w + n):
            r = run([DOCKHAND, "plan", f[key]], watch="dockhand")
            if r.rc != 0:
                raise SystemExit(f"[bench] plan: dockhand exited with {r.rc}")
            if i >= w:
                res.append(r)
        t = med(res)
        # No children: wait4's ru_maxrss is dockhand's own peak.
        rss = max(r.tree_maxrss_kb for r in res)
        rows.append((f"5. `dockhand plan`, {PLAN_TASKS:,} tasks {label}: time", secs(t), "1 s budget", f"{t / 1.0:.3f}", "< 1 s", verdict(t < 1.0)))
        rows.append((f"5. `dockhand plan`, {PLAN_TASKS:,} tasks {label}: peak RSS", mb(rss), "100 MB budget", f"{rss / 1024 / 100:.3f}", "< 100 MB", verdict(rss < 100 * 1024)))
        notes.append(f"plan ({label}): {spread(res)}, peak RSS {mb(rss)}")
        raw[f"{key}"] = {"wall": [r.wall for r in res], "maxrss_kb": rss}


def fig_plan_mixed(f):
    """5b. `dockhand validate` and `dockhand plan` of 1,000 tasks mixing the languages."""
    n, w = R["plan"]
    for cmd in ("validate", "plan"):
        res = []
        for i in range(w + n):
            r = run([DOCKHAND, cmd, f["plan_mixed"]], watch="dockhand")
            if r.rc != 0:
                raise SystemExit(f"[bench] {cmd} of the mixed flow: dockhand exited with {r.rc}")
            if i >= w:
                res.append(r)
        t = med(res)
        cpu = statistics.median(r.tree_cpu for r in res)
        rows.append((f"5b. `dockhand {cmd}`, {MIXED_TASKS:,} tasks mixing {len(MIXED_LANGUAGES)} languages", f"{secs(t)} wall, {secs(cpu)} CPU", "0.5 s budget", f"{t / 0.5:.3f}", "< 0.5 s", verdict(t < 0.5)))
        notes.append(f"{cmd} (mixed languages): {spread(res)}; CPU (user + system) median {cpu:.3f} s, load average {os.getloadavg()[0]:.1f}")
        raw[f"plan_mixed_{cmd}"] = {"wall": [r.wall for r in res], "cpu": [r.tree_cpu for r in res]}


PROBE_WHEEL = "dockhand_probe-1.0-py3-none-any.whl"


def make_probe_index(root):
    """The wheel and simple index of scripts/make-probe-index.py (the e2e tests use it too)."""
    subprocess.run(["python3", os.path.join(REPO, "scripts", "make-probe-index.py"), root], check=True)


def python_task(tid, image, extra):
    return (
        f"  - id: {tid}\n    type: io.kestra.plugin.scripts.python.Commands\n    containerImage: {image}\n{extra}"
        "    taskRunner:\n      type: io.kestra.plugin.scripts.runner.docker.Docker\n      networkMode: host\n      pullPolicy: NEVER\n"
        "    commands:\n      - python3 -c 'import dockhand_probe; print(dockhand_probe.VALUE)'\n"
    )


def fig_python_deps(engine):
    """6. A Python task with `dependencies`, cache warm, vs the same task in an image that has
    the package already (built here from PY_IMAGE with the same wheel, offline)."""
    n, w = R["python_deps"]
    base_img = PY_IMAGE if engine == "docker" else f"localhost/{PY_IMAGE}"
    if subprocess.run([engine, "image", "inspect", base_img], capture_output=True).returncode != 0:
        rows.append((f"6. python dependencies (cache warm) vs in the image, {engine}", "n/a", f"no local {PY_IMAGE}", "n/a", "≤ 1.10", "—"))
        return
    root = os.path.join(OUT, "pyindex")
    shutil.rmtree(root, ignore_errors=True)
    make_probe_index(root)
    baked = "dockhand-bench/python-probe:latest"
    ctx = os.path.join(root, "files")
    write(os.path.join(ctx, "Dockerfile"), f"FROM {base_img}\nCOPY {PROBE_WHEEL} /tmp/\nRUN python3 -m pip install --no-index --no-cache-dir --break-system-packages /tmp/{PROBE_WHEEL} || python3 -m pip install --no-index --no-cache-dir /tmp/{PROBE_WHEEL}\n")
    b = subprocess.run([engine, "build", "-q", "-t", baked, ctx], capture_output=True, text=True)
    if b.returncode != 0:
        raise SystemExit(f"[bench] building {baked} failed: {b.stderr}")
    sock = __import__("socket").socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = subprocess.Popen(["python3", "-m", "http.server", "--bind", "127.0.0.1", str(port), "--directory", root], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        deps = write(f"{FLOWS}/python-deps-{engine}.yaml", "id: bench_python_deps\nnamespace: bench\ntasks:\n" + python_task("deps", PY_IMAGE, f"    dependencies: [dockhand-probe==1.0]\n    env:\n      PIP_INDEX_URL: http://127.0.0.1:{port}/simple/\n"))
        inimg = write(f"{FLOWS}/python-baked-{engine}.yaml", "id: bench_python_baked\nnamespace: bench\ntasks:\n" + python_task("baked", baked, ""))
        # The first (warm-up) run installs into the cache; the measured rounds reuse it.
        cmds = {"dockhand": ([DOCKHAND, "run", "-q", "--engine", engine, deps], None), "baseline": ([DOCKHAND, "run", "-q", "--engine", engine, inimg], None)}

        def settle():
            wait_gone(engine, "bench_python_deps")
            wait_gone(engine, "bench_python_baked")

        res = compare(f"python_deps/{engine}", cmds, n, max(w, 1), settle=settle)
    finally:
        server.kill()
        server.wait()
        subprocess.run([engine, "rmi", "-f", baked], capture_output=True)
    d, b = med(res["dockhand"]), med(res["baseline"])
    rows.append((f"6. python `dependencies` (cache warm) vs the package in the image, {engine}", ms(d), f"{ms(b)} same task, {baked}", f"{d / b:.3f}", "≤ 1.10", verdict(d / b <= 1.10)))
    notes.append(f"python_deps/{engine}: with dependencies (cached) {spread(res['dockhand'])}; package in the image {spread(res['baseline'])}")
    raw[f"python_deps_{engine}"] = {k: [r.wall for r in v] for k, v in res.items()}
def fig_pebble(f):
    """7. Pebble: rendering 100,000 expressions of the common forms (the pebble_bench example,
    which measures the trivial `{{ x }}` as its baseline in the same process, round by round),
    and `dockhand validate` of a flow with 10,000 expressions vs the same flow as plain text."""
    n, w = R["pebble"]
    if PEBBLE_BENCH:
        r = subprocess.run([PEBBLE_BENCH, str(n)], capture_output=True, text=True, check=True)
        got = json.loads(r.stdout)
        c, b = got["common"], got["baseline"]
        rows.append((f"7. Pebble: parse + render {got['expressions']:,} expressions of the common forms", secs(c), f"{secs(b)} as many `{{{{ x }}}}`", f"{c / b:.3f}", "< 1 s", verdict(c < 1.0)))
        notes.append(f"pebble render: medians of {got['rounds']} interleaved rounds in one process, common {c:.4f} s, baseline {b:.4f} s")
        raw["pebble_render"] = got
    res = compare("pebble validate", {"dockhand": ([DOCKHAND, "validate", f["pebble"]], None), "plain": ([DOCKHAND, "validate", f["pebble_plain"]], None)}, n, w)
    d, b = med(res["dockhand"]), med(res["plain"])
    rows.append((f"7. `dockhand validate`, {PEBBLE_EXPRESSIONS:,} expressions ({PEBBLE_EXPRESSIONS // 4:,} tasks)", secs(d), f"{secs(b)} the same flow as plain text", f"{d / b:.3f}", "< 0.5 s", verdict(d < 0.5)))
    notes.append(f"pebble validate: {spread(res['dockhand'])}; plain text: {spread(res['plain'])}")
    raw["pebble_validate"] = {"wall": [r.wall for r in res["dockhand"]], "plain": [r.wall for r in res["plain"]]}


def report_execution(exec_id):
    """Figure 8's execution, written as dockhand writes one (its journal, its kept log and its
    flow file): 1,000 task runs in 100 Parallel groups of 10 side by side, 100 log lines each
    (100,000 lines), start times to the millisecond, a few FAILED, WARNING and retried."""
    ex = os.path.join(STATE, "executions")
    os.makedirs(ex, exist_ok=True)
    groups, per = REPORT_RUNS // 10, 10
    lines_per = REPORT_LINES // REPORT_RUNS
    flow = ["id: bench_report\nnamespace: bench\ntasks:\n"]
    for g in range(groups):
        flow.append(f"  - id: group_{g:03d}\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks:\n")
        flow += [script_task(f"t{g:03d}_{k}", f"echo {k}", indent=6) for k in range(per)]
    flow_file = write(os.path.join(FLOWS, "report-1000.yaml"), "".join(flow))
    t0 = 1_764_583_443_120
    recs = [{"t": "start", "flow_file": flow_file, "flow_digest": "fnv1a64:0", "engine": "docker", "dialect": "docker", "host": None,
             "work_dir": WORK, "inputs": {}, "at": t0 / 1000, "namespace": "bench", "flow": "bench_report"}]
    log_lines = []
    at = t0
    for g in range(groups):
        longest = 0
        for k in range(per):
            tid = f"t{g:03d}_{k}"
            start = at + 7 * k
            dur = 150 + (g * 37 + k * 101) % 900
            state = "FAILED" if (g * per + k) % 97 == 13 else "WARNING" if (g * per + k) % 89 == 7 else "SUCCESS"
            recs.append({"t": "task_start", "task": tid, "container": f"dh-{exec_id}-{tid}-1", "attempt": 1, "at": start / 1000})
            recs.append({"t": "progress", "task": tid, "out": lines_per, "err": 0})
            recs.append({"t": "task_end", "task": tid, "attempt": 1, "result": {
                "id": tid, "state": state, "exitCode": 0 if state == "SUCCESS" else 1,
                "failure": None if state == "SUCCESS" else {"kind": "exitCode", "code": 1},
                "message": None if state == "SUCCESS" else "command failed with exit code 1",
                "container": f"dh-{exec_id}-{tid}-1", "removal": "removed", "durationMs": dur,
                "outputs": {"rows": g * per + k}, "metrics": [], "outputFiles": [], "storedFiles": []}})
            longest = max(longest, 7 * k + dur)
            log_lines += [f"{tid} | line {i} of {tid}: some ordinary log text, 64 bytes or so\n" for i in range(lines_per)]
        at += longest + 20
    recs.append({"t": "end", "state": "FAILED", "at": (at + 5) / 1000})
    write(os.path.join(ex, f"{exec_id}.jsonl"), "".join(json.dumps(r) + "\n" for r in recs))
    write(os.path.join(ex, f"{exec_id}.log"), "".join(log_lines))
    return len(log_lines)


def fig_report():
    """8. `dockhand report` of an execution with 1,000 task runs and 100,000 log lines (under
    1 s; reading its journal and log with `cat` is shown beside it), and the page opened in
    headless Chromium (a screenshot: loaded, laid out and painted; under 2 s), beside the same
    browser opening an empty page, interleaved."""
    exec_id = "benchreport1"
    n_lines = report_execution(exec_id)
    ex = os.path.join(STATE, "executions")
    html = os.path.join(OUT, "report-1000.html")
    n, w = R["report"]
    dh = [DOCKHAND, "report", exec_id, "-o", html]
    cat = ["cat", os.path.join(ex, f"{exec_id}.jsonl"), os.path.join(ex, f"{exec_id}.log")]
    res = compare("report", {"dockhand": (dh, None), "cat": (cat, None)}, n, w, watch="dockhand")
    d, c = med(res["dockhand"]), med(res["cat"])
    rss = max(r.tree_maxrss_kb for r in res["dockhand"])
    size = os.path.getsize(html)
    rows.append((f"8. `dockhand report`, {REPORT_RUNS:,} task runs, {n_lines:,} log lines", secs(d), f"{secs(c)} `cat` of its journal and log", f"{d / 1.0:.3f} of 1 s", "< 1 s", verdict(d < 1.0)))
    notes.append(f"report: {spread(res['dockhand'])}, peak RSS {mb(rss)}, HTML {size / 1e6:.1f} MB; cat: {spread(res['cat'])}")
    raw["report"] = {"wall": [r.wall for r in res["dockhand"]], "cat": [r.wall for r in res["cat"]], "maxrss_kb": rss, "html_bytes": size}
    if not shutil.which("chromium"):
        rows.append(("8a. the report opened in headless Chromium", "n/a", "chromium not installed (scripts/setup-engines.sh)", "n/a", "< 2 s", "—"))
        return
    blank = write(os.path.join(OUT, "blank.html"), "<!doctype html><title>blank</title>\n")
    n, w = R["browser"]

    def browser(page, shot):
        # A fresh profile each time, the network cut off: as the report's own test opens it.
        return ["bash", "-c", 'p=$(mktemp -d) && chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run '
                '--disable-background-networking --disable-component-update --disable-sync --hide-scrollbars '
                '--proxy-server=127.0.0.1:9 --proxy-bypass-list="<-loopback>" --user-data-dir="$p" --window-size=1280,900 '
                f'--screenshot={shlex.quote(shot)} {shlex.quote("file://" + page)} >/dev/null 2>&1; rc=$?; rm -rf "$p"; exit $rc']

    res = compare("report in chromium", {"report": (browser(html, os.path.join(OUT, "report-1000.png")), None),
                                         "blank": (browser(blank, os.path.join(OUT, "blank.png")), None)}, n, w)
    r, b = med(res["report"]), med(res["blank"])
    rows.append((f"8a. the report opened in headless Chromium (screenshot)", secs(r), f"{secs(b)} an empty page (the browser's start)", f"{r / b:.3f}", "< 2 s", verdict(r < 2.0)))
    notes.append(f"chromium: report {spread(res['report'])}; empty page {spread(res['blank'])}; the page's own share {r - b:.2f} s")
    raw["report_chromium"] = {k: [x.wall for x in v] for k, v in res.items()}


def fig_keep(engine, f):
    """9. Keeping logs: the 500 MB stream run with every line kept (DOCKHAND_LOG_CAP=1GiB) and
    with the default cap (64 MiB a task) vs the same run keeping nothing (DOCKHAND_LOG_CAP=0),
    interleaved (target ≤ 1.05), and dockhand's peak RSS while it keeps them (≤ 20 MB)."""
    n, w = R["keep_podman" if engine == "podman" else "keep"]
    dh = [DOCKHAND, "run", "-q", "--engine", engine, f["stream"]]
    env = lambda cap: ["env", f"DOCKHAND_LOG_CAP={cap}"]  # noqa: E731
    cmds = {"none": (env("0") + dh, None), "all": (env("1GiB") + dh, None), "default": (env("64MiB") + dh, None)}

    def settle():
        wait_gone(engine, "bench_stream")
        # The kept logs of these runs are 500 MB each: gone before the next run.
        for name in os.listdir(os.path.join(STATE, "executions")):
            if name.endswith(".log") and not name.startswith("benchreport"):
                os.remove(os.path.join(STATE, "executions", name))

    res = compare(f"keep/{engine}", cmds, n, w, watch="dockhand", settle=settle, watched=tuple(cmds))
    none, full, default = med(res["none"]), med(res["all"]), med(res["default"])
    hwm = max((r.own_hwm_kb for k in ("all", "default") for r in res[k] if r.own_hwm_kb), default=None)
    size = f"{STREAM_BYTES // 1_000_000} MB"
    rows.append((f"9. keeping all {size} of log (DOCKHAND_LOG_CAP=1GiB), {engine}", secs(full), f"{secs(none)} the same run keeping none (cap 0)", f"{full / none:.3f}", "≤ 1.05", verdict(full / none <= 1.05)))
    rows.append((f"9a. keeping the default 64 MiB of it, {engine}", secs(default), f"{secs(none)} keeping none", f"{default / none:.3f}", "≤ 1.05", verdict(default / none <= 1.05)))
    rows.append((f"9b. peak RSS of dockhand while keeping logs, {engine}", mb(hwm), "20 MB budget", "—", "≤ 20 MB", verdict(hwm is not None and hwm <= 20 * 1024)))
    cpu = {k: statistics.median([r.own_cpu for r in v if r.own_cpu is not None] or [float("nan")]) for k, v in res.items()}
    notes.append(f"keep/{engine}: all {spread(res['all'])}; default cap {spread(res['default'])}; none {spread(res['none'])}; "
                 f"dockhand's own CPU time (median): all {cpu['all']:.2f} s, default {cpu['default']:.2f} s, none {cpu['none']:.2f} s")
    raw[f"keep_{engine}"] = {k: [r.wall for r in v] for k, v in res.items()} | {"own_hwm_kb": hwm}


def environment():
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip()
        except Exception as e:  # noqa: BLE001
            return f"n/a ({e})"

    lines = [
        f"- date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"- host: {platform.node()}, {os.cpu_count()} CPUs, kernel {platform.release()}, load average {os.getloadavg()[0]:.2f} at the start",
        f"- dockhand: {out([DOCKHAND, '--version'])}, commit {out(['git', '-C', REPO, 'rev-parse', '--short', 'HEAD'])}" + (" (+ uncommitted changes)" if out(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"]) else ""),
    ]
    for e in ENGINES:
        if e == "docker":
            lines.append(f"- docker: client {out(['docker', 'version', '--format', '{{.Client.Version}}'])}, server {out(['docker', 'version', '--format', '{{.Server.Version}}'])}")
        else:
            lines.append(f"- podman: {out(['podman', 'version', '--format', '{{.Client.Version}}'])}")
    if SDK_PY:
        lines.append(f"- Docker SDK for Python: {out([SDK_PY, '-c', 'import docker; print(docker.__version__)'])}")
    lines.append(f"- image: {IMAGE} (local), mode: {'--quick' if QUICK else 'full'}")
    return "\n".join(lines)


def main():
    for d in (WORK, STATE, LOGS):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d, exist_ok=True)
    env_text = environment()
    f = flows()
    t_start = time.time()
    try:
        for e in ENGINES:
            cleanup_containers(e)
            for name, fig in (("overhead", fig_overhead), ("breakdown", fig_breakdown), ("processes", fig_processes), ("stream", fig_stream), ("parallel", fig_parallel), ("keep", fig_keep), ("foreach_containers", fig_foreach_containers)):
                if wanted(name):
                    fig(e, f)
            if wanted("python_deps"):
                fig_python_deps(e)
        for name, fig in (("plan", fig_plan), ("plan_mixed", fig_plan_mixed), ("pebble", fig_pebble), ("foreach_log", fig_foreach_log)):
            if wanted(name):
                fig(f)
        if wanted("report"):
            fig_report()
    finally:
        for e in ENGINES:
            cleanup_containers(e)
    took = time.time() - t_start

    head = ["figure", "dockhand", "baseline", "ratio", "target", "result"]
    table = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    table += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    table_text = "\n".join(table)
    print(table_text)
    md = [
        "# dockhand benchmark",
        "",
        f"Reproduce: `scripts/bench.sh{' --quick' if QUICK else ''}{'' if len(ENGINES) == 2 else ' --no-engines' if not ENGINES else ' --' + ENGINES[0] + '-only'}{' --only ' + ','.join(sorted(ONLY)) if ONLY else ''}` (took {took / 60:.1f} min).",
        "Ratios are dockhand's median over the baseline's median, both measured interleaved in the same run.",
        "",
        table_text,
        "",
        "## Environment",
        "",
        env_text,
        f"- load average at the end: {os.getloadavg()[0]:.2f} (other work on the machine widens the spread; the ratios come from interleaved runs)",
        "",
        "## Details",
        "",
    ]
    md += [n if n.startswith("###") else f"- {n}" for n in notes]
    write(os.path.join(OUT, "results.md"), "\n".join(md) + "\n")
    write(os.path.join(OUT, "raw.json"), json.dumps(raw, indent=1, default=str) + "\n")
    log(f"written {os.path.join(OUT, 'results.md')} and raw.json")


if __name__ == "__main__":
    main()
