#!/usr/bin/env python3
"""Classifies every flow of the corpus as in or out of dockhand's scope.

Reads tests/corpus/SOURCES.tsv, parses each flow file (found under the corpus directory, see
tests/corpus/README.md) with PyYAML, walks every task type it uses and rewrites the `scope` and
`blocker` columns in place. No network. Usage:

    python3 scripts/corpus-scope.py [CORPUS_DIR]
    python3 scripts/corpus-scope.py --inventory [CORPUS_DIR]
    python3 scripts/corpus-scope.py --self-test

With --inventory it changes nothing and prints, over the in-scope flows, how many use each
top-level key, each task type and each property of each task type (what dockhand will meet).

CORPUS_DIR defaults to $DOCKHAND_CORPUS. A flow is `in` when every class named by a `type:` key
in its tasks (at any depth: tasks, then, else, cases, defaults, errors, finally, afterExecution,
taskRunner, ...) is in SCOPE below; else `out`, with the first out-of-scope type (in document
order) as `blocker`. Triggers are accepted with a warning by dockhand, so their types (and their
conditions) are not looked at; neither are pluginDefaults/taskDefaults, which only name types.

A Subflow (or ForEachItem) task whose `namespace` and `flowId` are written without `{{ }}` names
its child flow statically: when a flow of the same corpus directory (flows/SOURCE/) has that
namespace and id, the child is classified too (transitively), and an out-of-scope child makes
the parent out of scope, with `subflow NAMESPACE.ID: <the child's blocker>` as blocker. A child
that is not in the corpus, or is named by an expression, is not followed.

The `expect`, `expect_error` and `reason` columns (flows that are invalid on purpose) are kept
as they are: they are written by hand, from the Kestra test that uses the flow.
"""

import csv
import os
import re
import sys

import yaml

# What dockhand's issues put in scope, as exact class names or prefixes ending in '.'.
SCOPE_EXACT = {
    # CLI tasks that run one container, like a script task.
    "io.kestra.plugin.dbt.cli.DbtCLI",
    "io.kestra.plugin.terraform.cli.TerraformCLI",
    "io.kestra.plugin.aws.cli.AwsCLI",
    "io.kestra.plugin.gcp.cli.GCloudCLI",
    "io.kestra.plugin.azure.cli.AzCLI",
    "io.kestra.plugin.ansible.cli.AnsibleCLI",
    "io.kestra.plugin.docker.Run",
    "io.kestra.plugin.docker.Build",
    "io.kestra.plugin.docker.Push",
    # Their current class names (plugin-docker registers the three above as aliases of these).
    "io.kestra.plugin.docker.cli.Run",
    "io.kestra.plugin.docker.cli.Build",
    "io.kestra.plugin.docker.cli.Push",
    "io.kestra.plugin.git.Clone",
    # Task runners.
    "io.kestra.plugin.core.runner.Process",
    "io.kestra.plugin.scripts.runner.docker.Docker",
    # Old aliases Kestra still registers for in-scope tasks.
    "io.kestra.plugin.fs.http.Request",
    "io.kestra.plugin.fs.http.Download",
}
SCOPE_PREFIXES = (
    "io.kestra.plugin.core.flow.",
    "io.kestra.core.tasks.flows.",
    "io.kestra.plugin.core.log.",
    "io.kestra.plugin.core.debug.",
    "io.kestra.plugin.core.output.",
    "io.kestra.plugin.core.execution.",
    "io.kestra.plugin.core.kv.",
    "io.kestra.plugin.core.storage.",
    "io.kestra.plugin.core.namespace.",
    "io.kestra.plugin.core.http.",
    "io.kestra.core.tasks.log.",
    "io.kestra.core.tasks.debugs.",
    "io.kestra.core.tasks.outputs.",
    "io.kestra.core.tasks.executions.",
    "io.kestra.core.tasks.kv.",
    "io.kestra.core.tasks.storages.",
    "io.kestra.core.tasks.namespace.",
)
# Script tasks of every language: io.kestra.plugin.scripts.<language>.Script / Commands.
SCRIPT_TASK = re.compile(r"^io\.kestra\.plugin\.scripts\.[a-z]+\.(Script|Commands)$")
# A `type:` value that names a Java class (inputs' `type: STRING`, `retry: {type: constant}` do not).
CLASS_NAME = re.compile(r"^[a-z][A-Za-z0-9_]*(\.[A-Za-z0-9_$]+)+$")
# Top-level keys whose `type:` values are not tasks this flow runs.
NOT_TASKS = {"triggers", "pluginDefaults", "taskDefaults", "inputs", "outputs", "extend"}


def in_scope(t):
    return t in SCOPE_EXACT or t.startswith(SCOPE_PREFIXES) or SCRIPT_TASK.match(t) is not None


def types(node):
    """Every class-name `type:` value under node, in document order."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "type" and isinstance(v, str) and CLASS_NAME.match(v.strip()):
                yield v.strip()
            elif k != "triggers":
                yield from types(v)
    elif isinstance(node, list):
        for v in node:
            yield from types(v)


# Task types that start another flow, named by their `namespace` and `flowId`.
SUBFLOW_TYPES = {
    "io.kestra.plugin.core.flow.Subflow",
    "io.kestra.core.tasks.flows.Subflow",
    "io.kestra.core.tasks.flows.Flow",
    "io.kestra.plugin.core.flow.ForEachItem",
    "io.kestra.core.tasks.flows.ForEachItem",
}


def parse(text):
    """The flow's mapping, or (None, why not)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        return None, "yaml-parse-error: " + str(e).splitlines()[0]
    if not isinstance(doc, dict):
        return None, "not-a-flow"
    return doc, ""


def static_children(doc):
    """(namespace, flowId) of every Subflow/ForEachItem task written without expressions."""
    for key, value in doc.items():
        if key in NOT_TASKS:
            continue
        for task in tasks_in(value):
            if task["type"].strip() not in SUBFLOW_TYPES:
                continue
            ns, fid = task.get("namespace"), task.get("flowId")
            if isinstance(ns, str) and isinstance(fid, str) and "{{" not in ns + fid:
                yield ns.strip(), fid.strip()


def classify_doc(doc, child_of=None, seen=()):
    """("in", "") or ("out", blocker). child_of((namespace, id)) gives a child flow's mapping
    (or None when the corpus directory has none); seen guards against cycles."""
    for key, value in doc.items():
        if key in NOT_TASKS:
            continue
        for t in types(value):
            if not in_scope(t):
                return "out", t
    if child_of is not None:
        for ref in static_children(doc):
            child = child_of(ref)
            if child is None or ref in seen:
                continue
            scope, blocker = classify_doc(child, child_of, seen + (ref,))
            if scope == "out":
                return "out", f"subflow {ref[0]}.{ref[1]}: {blocker}"
    return "in", ""


def classify(text, child_of=None):
    doc, why = parse(text)
    if doc is None:
        return "out", why
    return classify_doc(doc, child_of)


def flows_by_dir(corpus, rows):
    """Per corpus directory (flows/SOURCE), its flows by (namespace, id)."""
    out = {}
    for row in rows:
        with open(os.path.join(corpus, row["path"]), "rb") as f:
            doc, _ = parse(f.read())
        if doc is None or not isinstance(doc.get("namespace"), str) or not isinstance(doc.get("id"), str):
            continue
        key = (doc["namespace"].strip(), doc["id"].strip())
        out.setdefault(os.path.dirname(row["path"]), {})[key] = doc
    return out


def tasks_in(node):
    """Every task-like mapping (one with a class-name `type`) under node, triggers left out."""
    if isinstance(node, dict):
        t = node.get("type")
        if isinstance(t, str) and CLASS_NAME.match(t.strip()):
            yield node
        for k, v in node.items():
            if k != "triggers":
                yield from tasks_in(v)
    elif isinstance(node, list):
        for v in node:
            yield from tasks_in(v)


def inventory(corpus, rows):
    from collections import Counter

    keys, types_, props = Counter(), Counter(), Counter()
    for row in rows:
        if row["scope"] != "in":
            continue
        with open(os.path.join(corpus, row["path"]), "rb") as f:
            doc = yaml.safe_load(f.read())
        keys.update(set(doc))
        seen_t, seen_p = set(), set()
        for key, value in doc.items():
            if key in NOT_TASKS:
                continue
            for task in tasks_in(value):
                t = task["type"].strip()
                seen_t.add(t)
                seen_p.update((t, p) for p in task if p != "type")
        types_.update(seen_t)
        props.update(seen_p)
    print("# flows using each top-level key")
    for k, n in keys.most_common():
        print(f"{n:4} {k}")
    print("# flows using each task type")
    for k, n in types_.most_common():
        print(f"{n:4} {k}")
    print("# flows using each task property")
    for (t, p), n in sorted(props.items(), key=lambda x: (-x[1], x[0])):
        print(f"{n:4} {t} {p}")


def self_test():
    """The classifier's rules on small flows (run by tests/corpus.rs)."""
    shell = "io.kestra.plugin.scripts.shell.Commands"
    sub = "io.kestra.plugin.core.flow.Subflow"
    flows = {
        ("a", "leaf"): {"id": "leaf", "namespace": "a", "tasks": [{"id": "t", "type": shell}]},
        ("a", "jdbc"): {"id": "jdbc", "namespace": "a", "tasks": [{"id": "q", "type": "io.kestra.plugin.jdbc.postgresql.Query"}]},
        ("a", "mid"): {"id": "mid", "namespace": "a", "tasks": [{"id": "s", "type": sub, "namespace": "a", "flowId": "jdbc"}]},
        ("a", "loop"): {"id": "loop", "namespace": "a", "tasks": [{"id": "s", "type": sub, "namespace": "a", "flowId": "loop"}]},
    }

    def parent(ns, fid):
        return {"id": "p", "namespace": "a", "tasks": [{"id": "s", "type": sub, "namespace": ns, "flowId": fid}]}

    cases = [
        (parent("a", "leaf"), ("in", "")),
        (parent("a", "jdbc"), ("out", "subflow a.jdbc: io.kestra.plugin.jdbc.postgresql.Query")),
        # Transitively, with the first child's name.
        (parent("a", "mid"), ("out", "subflow a.mid: subflow a.jdbc: io.kestra.plugin.jdbc.postgresql.Query")),
        (parent("a", "loop"), ("in", "")),
        # Not in the corpus, or named by an expression: not followed.
        (parent("a", "missing"), ("in", "")),
        (parent("a", "{{ inputs.f }}"), ("in", "")),
        ({"id": "p", "namespace": "a", "tasks": [{"id": "f", "type": "io.kestra.plugin.core.flow.ForEachItem", "namespace": "a", "flowId": "jdbc"}]},
         ("out", "subflow a.jdbc: io.kestra.plugin.jdbc.postgresql.Query")),
    ]
    for doc, want in cases:
        got = classify_doc(doc, flows.get)
        assert got == want, f"{doc}: {got}, want {want}"
    print(f"corpus-scope self-test: {len(cases)} cases pass")


def main():
    args = sys.argv[1:]
    if args == ["--self-test"]:
        self_test()
        return
    show_inventory = "--inventory" in args
    args = [a for a in args if a != "--inventory"]
    corpus = args[0] if args else os.environ.get("DOCKHAND_CORPUS")
    if not corpus:
        sys.exit("usage: corpus-scope.py CORPUS_DIR (or set DOCKHAND_CORPUS)")
    manifest = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "corpus", "SOURCES.tsv")
    with open(manifest, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    if show_inventory:
        inventory(corpus, rows)
        return
    fields = list(rows[0].keys()) if rows else []
    for col in ("scope", "blocker", "expect", "expect_error", "reason"):
        if col not in fields:
            fields.append(col)
    by_dir = flows_by_dir(corpus, rows)
    counts = {"in": 0, "out": 0}
    for row in rows:
        siblings = by_dir.get(os.path.dirname(row["path"]), {})
        with open(os.path.join(corpus, row["path"]), "rb") as f:
            row["scope"], row["blocker"] = classify(f.read(), siblings.get)
        for col in ("expect", "expect_error", "reason"):
            row[col] = row.get(col) or ""
        counts[row["scope"]] += 1
    with open(manifest, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE)
        w.writeheader()
        w.writerows(rows)
    print(f"{len(rows)} flows: {counts['in']} in scope, {counts['out']} out")


if __name__ == "__main__":
    main()
