//! End-to-end tests of Subflow resolution and the executable tasks on Docker and on Podman
//! (`NAME::docker`, `NAME::podman`): a subflow missing from the flows directory fails its task
//! when it runs (its `errors` and `allowFailure` apply), a subflow named by `{{ taskrun.value }}`
//! is found when the task runs, the deprecated `outputs` rendered in the child's context,
//! `wait: false` running the child as a detached execution that outlives the parent, and
//! ForEachItem running a flow per batch of a file's lines.
//!
//!     DOCKHAND_E2E=1 cargo test --test e2e_subflow

#[macro_use]
mod common;

use std::time::{Duration, Instant};

use common::IMAGE;

/// A flow `id` of namespace `tests.e2e` whose one container task runs `commands`.
fn container_flow(cx: &common::Ctx, id: &str, inputs: &str, commands: &str, rest: &str) {
    cx.flow(
        id,
        &format!(
            "id: {id}\nnamespace: tests.e2e\n{inputs}tasks:\n  - id: work\n    type: io.kestra.plugin.scripts.shell.Commands\n    containerImage: {IMAGE}\n{commands}{rest}"
        ),
    );
}

e2e_test!(a_missing_subflow_fails_its_task_when_it_runs, |cx| {
    let parent = cx.flow(
        "parent",
        &format!(
            r#"id: parent
namespace: tests.e2e
tasks:
  - id: before
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    commands: [echo before-ran]
  - id: sub
    type: io.kestra.plugin.core.flow.Subflow
    namespace: tests.e2e
    flowId: not-there
errors:
  - id: handler
    type: io.kestra.plugin.core.log.Log
    message: "handled"
"#
        ),
    );
    // Valid on its own: a warning naming the flow and the directory searched.
    let v = cx.dockhand(&["validate", &parent.display().to_string()], &[]);
    v.assert_code(0);
    assert_holds(
        &v.stderr,
        &[
            "warning: `tasks[1].flowId`: no flow file defines flow tests.e2e.not-there under",
            "--flows-dir",
        ],
        &v,
    );
    let run = cx.run(&parent);
    run.assert_code(1);
    assert_eq!(run.task("before")["state"], "SUCCESS", "{}", run.dump());
    let sub = run.task("sub");
    assert_eq!(sub["state"], "FAILED", "{}", run.dump());
    assert_holds(
        sub["message"].as_str().unwrap_or_default(),
        &["cannot run flow tests.e2e.not-there: no flow file defines flow tests.e2e.not-there"],
        &run,
    );
    // The flow's `errors` ran after the failure.
    assert_eq!(run.task("handler")["state"], "SUCCESS", "{}", run.dump());
    // With allowFailure the task is a WARNING and the flow goes on.
    let tolerant = cx.flow(
        "tolerant",
        "id: tolerant\nnamespace: tests.e2e\ntasks:\n  - id: sub\n    type: io.kestra.plugin.core.flow.Subflow\n    namespace: tests.e2e\n    flowId: not-there\n    allowFailure: true\n  - id: after\n    type: io.kestra.plugin.core.log.Log\n    message: after\n",
    );
    let mut args = cx.run_args(&tolerant, &[]);
    args[5] = format!("{}-t", cx.id);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = cx.dockhand(&a, &[]);
    run.assert_code(0);
    assert_eq!(run.task("sub")["state"], "WARNING", "{}", run.dump());
    assert_eq!(run.task("after")["state"], "SUCCESS", "{}", run.dump());
});

e2e_test!(names_rendered_at_run_time_and_deprecated_outputs, |cx| {
    container_flow(
        cx,
        "emitter",
        "inputs:\n  - {id: n, type: INT}\n",
        "    commands:\n      - 'echo \"::{\\\"outputs\\\":{\\\"v\\\":\\\"got-{{ inputs.n }}\\\"}}::\"'\n",
        "",
    );
    let parent = cx.flow(
        "parent",
        r#"id: parent
namespace: tests.e2e
labels:
  team: parents
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["emitter"]
    tasks:
      - id: dynamic
        type: io.kestra.plugin.core.flow.Subflow
        namespace: "{{ flow.namespace }}"
        flowId: "{{ taskrun.value }}"
        inputs:
          n: 5
        labels:
          origin: "{{ flow.id }}"
        outputs:
          old: "{{ outputs.work.vars.v }} for {{ inputs.n }} in {{ flow.id }} from {{ labels.origin }} team {{ labels.team ?? 'none' }}"
  - id: use
    type: io.kestra.plugin.core.log.Log
    message: "parent read {{ outputs.dynamic.emitter.outputs.old }}"
"#,
    );
    let plan = cx.dockhand(
        &[
            "plan",
            &parent.display().to_string(),
            "--engine",
            cx.eng.name,
        ],
        &[],
    );
    plan.assert_code(0);
    assert_holds(
        &plan.stdout,
        &["runs flow {{ flow.namespace }}.{{ taskrun.value }} as a child execution, found under"],
        &plan,
    );
    assert_holds(&plan.stderr, &["`outputs` is deprecated"], &plan);
    let run = cx.run(&parent);
    run.assert_code(0);
    // The parent runs no container itself: the child's image (found only when the task runs)
    // is looked up then (Podman's short names).
    assert_holds(
        &run.stderr,
        &["parent read got-5 for 5 in emitter from parent team none"],
        &run,
    );
});

/// Asserts that `text` holds every one of `parts`, showing the run otherwise.
fn assert_holds(text: &str, parts: &[&str], run: &common::Run) {
    for p in parts {
        assert!(text.contains(p), "no `{p}` in\n{}", run.dump());
    }
}

/// Waits until the journal of execution `id` has its end record; its text.
fn wait_ended(cx: &common::Ctx, id: &str, limit: Duration) -> String {
    let journal = cx
        .tmp
        .path()
        .join("state/executions")
        .join(format!("{id}.jsonl"));
    let t0 = Instant::now();
    loop {
        let text = std::fs::read_to_string(&journal).unwrap_or_default();
        if text.contains("\"end\"") || t0.elapsed() > limit {
            return text;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits until the detached child execution `child` has ended, which must be SUCCESS; the
/// text of its output (`STATE_DIR/detached/ID.log`).
fn detached_log_of(cx: &common::Ctx, child: &str) -> String {
    let text = wait_ended(cx, child, Duration::from_secs(90));
    assert!(
        text.contains("\"SUCCESS\""),
        "the child did not end SUCCESS:\n{text}"
    );
    let log = cx
        .tmp
        .path()
        .join("state/detached")
        .join(format!("{child}.log"));
    std::fs::read_to_string(&log).unwrap_or_default()
}

e2e_test!(wait_false_runs_the_child_as_its_own_execution, |cx| {
    container_flow(
        cx,
        "slow",
        "inputs:\n  - {id: token, type: SECRET}\n",
        "    env: {T: \"{{ inputs.token }}\"}\n    commands: [sleep 4, 'echo child-done with a token of $(printf %s \"$T\" | wc -c) chars']\n",
        "",
    );
    let parent = cx.flow(
        "parent",
        "id: parent\nnamespace: tests.e2e\ntasks:\n  - id: sub\n    type: io.kestra.plugin.core.flow.Subflow\n    namespace: tests.e2e\n    flowId: slow\n    wait: false\n    inputs: {token: s3cr3t-value}\n  - id: after\n    type: io.kestra.plugin.core.log.Log\n    message: \"child {{ outputs.sub.executionId }} {{ outputs.sub.state }}\"\n",
    );
    let run = cx.run(&parent);
    run.assert_code(0);
    let sub = run.task("sub");
    assert_eq!(sub["state"], "SUCCESS", "{}", run.dump());
    assert_eq!(sub["outputs"]["state"], "CREATED", "{}", run.dump());
    let child = sub["outputs"]["executionId"].as_str().unwrap().to_string();
    assert_holds(&run.stderr, &[&format!("child {child} CREATED")], &run);
    // The parent did not wait: it ended before the child's 4 s task could.
    assert!(run.elapsed < Duration::from_secs(4), "{}", run.dump());
    // The child runs on after the parent's exit, and is listed as an execution.
    let listed = cx.dockhand(&["executions"], &[]);
    assert_holds(&listed.stdout, &[&child], &listed);
    let log = detached_log_of(cx, &child);
    assert_eq!(
        log.lines()
            .filter(|l| *l == "work | child-done with a token of 12 chars")
            .count(),
        1,
        "{log}"
    );
    assert!(cx.eng.wait_gone(&child).is_empty());
});

e2e_test!(for_each_item_runs_the_flow_per_batch, |cx| {
    container_flow(
        cx,
        "batch",
        "inputs:\n  - {id: items, type: STRING}\n  - {id: iteration, type: INT}\n",
        "    inputFiles:\n      batch.txt: \"{{ inputs.items }}\"\n    commands:\n      - 'echo \"batch {{ inputs.iteration }}: $(tr \"\\n\" , < batch.txt)\"'\n      - 'echo \"::{\\\"outputs\\\":{\\\"n\\\":$(wc -l < batch.txt)}}::\"'\n",
        "outputs:\n  - {id: lines, type: INT, value: \"{{ outputs.work.vars.n }}\"}\n",
    );
    let data = cx.tmp.path().join("items.txt");
    std::fs::write(&data, "a\nb\nc\nd\ne\n").unwrap();
    let parent = cx.flow(
        "parent",
        "id: parent\nnamespace: tests.e2e\ninputs:\n  - {id: file, type: FILE}\ntasks:\n  - id: each\n    type: io.kestra.plugin.core.flow.ForEachItem\n    items: \"{{ inputs.file }}\"\n    batch:\n      rows: 2\n    namespace: tests.e2e\n    flowId: batch\n    inputs:\n      items: \"{{ taskrun.items }}\"\n      iteration: \"{{ taskrun.iteration }}\"\n  - id: report\n    type: io.kestra.plugin.core.log.Log\n    message: \"{{ outputs.each_items.iterations.SUCCESS }} of {{ outputs.each_items.numberOfBatches }}: {{ read(outputs.each_merge.subflowOutputs) | trim | replace({'\\n': ' '}) }}\"\n",
    );
    let input = format!("file={}", data.display());
    let run = cx.run_with(&parent, &["--input", &input], &[]);
    run.assert_code(0);
    let mut lines = run.logs("work", '|');
    lines.sort();
    assert_eq!(
        lines,
        vec!["batch 1: a,b,", "batch 2: c,d,", "batch 3: e,"],
        "{}",
        run.dump()
    );
    assert_holds(
        &run.stderr,
        &[r#"3 of 3: {"lines":2} {"lines":2} {"lines":1}"#],
        &run,
    );
    assert_eq!(run.task("each")["state"], "SUCCESS", "{}", run.dump());
    // A failing batch fails the task (transmitFailed, Kestra's default).
    container_flow(
        cx,
        "failing",
        "inputs:\n  - {id: items, type: STRING}\n",
        "    commands: [exit 3]\n",
        "",
    );
    let parent = cx.flow(
        "parent2",
        "id: parent2\nnamespace: tests.e2e\ninputs:\n  - {id: file, type: FILE}\ntasks:\n  - id: each\n    type: io.kestra.plugin.core.flow.ForEachItem\n    items: \"{{ inputs.file }}\"\n    batch:\n      partitions: 2\n    namespace: tests.e2e\n    flowId: failing\n    inputs:\n      items: \"{{ taskrun.items }}\"\n",
    );
    let mut args = cx.run_args(&parent, &["--input", &input]);
    args[5] = format!("{}-f", cx.id);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = cx.dockhand(&a, &[]);
    run.assert_code(1);
    assert_eq!(run.task("each")["state"], "FAILED", "{}", run.dump());
    assert_holds(
        run.task("each")["message"].as_str().unwrap_or_default(),
        &["2 batch(es) of flow tests.e2e.failing: 2 FAILED"],
        &run,
    );
});

e2e_test!(a_for_each_item_killed_mid_batch_resumes_its_batches, |cx| {
    container_flow(
        cx,
        "slow-batch",
        "inputs:\n  - {id: iteration, type: INT}\n",
        "    commands: ['echo batch {{ inputs.iteration }} start', 'sleep 3', 'echo batch {{ inputs.iteration }} done']\n",
        "",
    );
    let data = cx.tmp.path().join("items.txt");
    std::fs::write(&data, "a\nb\nc\n").unwrap();
    let parent = cx.flow(
        "parent",
        "id: parent\nnamespace: tests.e2e\ninputs:\n  - {id: file, type: FILE}\ntasks:\n  - id: each\n    type: io.kestra.plugin.core.flow.ForEachItem\n    items: \"{{ inputs.file }}\"\n    namespace: tests.e2e\n    flowId: slow-batch\n    inputs:\n      iteration: \"{{ taskrun.iteration }}\"\n",
    );
    let input = format!("file={}", data.display());
    let first = cx.spawn(&parent, &["--input", &input], &[]);
    assert!(
        first.wait_line(Duration::from_secs(60), |l| l.ends_with("| batch 2 start")),
        "{}",
        first.stderr_so_far()
    );
    let (before, resumed) = cx.kill_then_resume(first, &cx.id);
    assert_eq!(
        resumed.task("each")["state"],
        "SUCCESS",
        "{}",
        resumed.dump()
    );
    // Batch 1 is not run again, batch 2's container is re-attached, batch 3 runs once.
    let all = format!("{before}{}", resumed.stderr);
    for n in 1..=3 {
        for what in ["start", "done"] {
            let line = format!("work | batch {n} {what}");
            assert_eq!(
                all.lines().filter(|l| *l == line).count(),
                1,
                "`{line}`:\n{all}"
            );
        }
    }
});

e2e_test!(detached_child_labels_are_journaled, |cx| {
    // The child's flow sets `team` itself: it wins over the inherited one (Kestra's
    // filterLabels); `env` is inherited, `origin` is the task's.
    container_flow(
        cx,
        "labelled",
        "labels:\n  kind: child\n  team: child-team\n",
        "    commands: ['echo \"labels team={{ labels.team }} env={{ labels.env }} origin={{ labels.origin }} kind={{ labels.kind }}\"']\n",
        "",
    );
    let parent = |wait: bool| {
        format!(
            "id: parent\nnamespace: tests.e2e\nlabels:\n  team: parents\n  env: test\ntasks:\n  - id: sub\n    type: io.kestra.plugin.core.flow.Subflow\n    namespace: tests.e2e\n    flowId: labelled\n    wait: {wait}\n    inheritLabels: true\n    labels:\n      origin: \"{{{{ flow.id }}}}\"\n"
        )
    };
    let want = serde_json::json!({"kind": "child", "team": "child-team", "env": "test", "origin": "parent"});
    let line = "work | labels team=child-team env=test origin=parent kind=child";
    let listed_labels = |id: &str| {
        let listed = cx.dockhand(&["executions", "--json"], &[]);
        listed.assert_code(0);
        listed.json["executions"]
            .as_array()
            .and_then(|l| l.iter().find(|e| e["id"] == id))
            .map(|e| e["labels"].clone())
            .unwrap_or_else(|| panic!("{id} not listed:\n{}", listed.dump()))
    };
    // Waited: the child runs in the parent's process.
    let waited = cx.flow("waited", &parent(true));
    let run = cx.run(&waited);
    run.assert_code(0);
    assert_holds(&run.stderr, &[line], &run);
    let child = run.task("sub")["outputs"]["executionId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(listed_labels(&child), want);
    // Detached: run by a `dockhand resume` of its own, which reads them from the journal.
    let detached = cx.flow("detached", &parent(false));
    let mut args = cx.run_args(&detached, &[]);
    args[5] = format!("{}-d", cx.id);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = cx.dockhand(&a, &[]);
    run.assert_code(0);
    let child = run.task("sub")["outputs"]["executionId"]
        .as_str()
        .unwrap()
        .to_string();
    let log = detached_log_of(cx, &child);
    assert_eq!(log.lines().filter(|l| *l == line).count(), 1, "{log}");
    assert_eq!(listed_labels(&child), want);
    // Its own result (`resume --json` of the ended child) has them as the execution's.
    let again = cx.dockhand(&["resume", &child, "--json"], &[]);
    again.assert_code(0);
    assert_eq!(again.json["labels"], want, "{}", again.dump());
    // A ForEachItem batch with `wait: false`: the same.
    let data = cx.tmp.path().join("one.txt");
    std::fs::write(&data, "x\n").unwrap();
    let each = cx.flow(
        "each",
        "id: parent\nnamespace: tests.e2e\nlabels:\n  team: parents\n  env: test\ninputs:\n  - {id: file, type: FILE}\ntasks:\n  - id: sub\n    type: io.kestra.plugin.core.flow.ForEachItem\n    items: \"{{ inputs.file }}\"\n    namespace: tests.e2e\n    flowId: labelled\n    wait: false\n    inheritLabels: true\n    labels:\n      origin: \"{{ flow.id }}\"\n",
    );
    let input = format!("file={}", data.display());
    let mut args = cx.run_args(&each, &["--input", &input]);
    // `-each`: no other child's id (the parent's, then hex digits) starts so.
    args[5] = format!("{}-each", cx.id);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    cx.dockhand(&a, &[]).assert_code(0);
    let listed = cx.dockhand(&["executions", "--json", "--flow", "labelled"], &[]);
    let head: String = args[5].chars().take(51).collect();
    let batch = listed.json["executions"]
        .as_array()
        .and_then(|l| {
            l.iter()
                .filter_map(|e| e["id"].as_str())
                .find(|id| id.starts_with(&format!("{head}-")))
        })
        .unwrap_or_else(|| panic!("no batch execution listed:\n{}", listed.dump()))
        .to_string();
    let log = detached_log_of(cx, &batch);
    assert_eq!(log.lines().filter(|l| *l == line).count(), 1, "{log}");
    assert_eq!(listed_labels(&batch), want);
});
