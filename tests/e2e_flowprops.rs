//! End-to-end tests of the flow-level properties on Docker and on Podman (`NAME::docker`,
//! `NAME::podman`): `pluginDefaults` reaching the container (`inspect`), flow `outputs` in the
//! `--json` result and the summary, and an output that cannot be rendered failing the run.
//!
//!     DOCKHAND_E2E=1 cargo test --test e2e_flowprops

#[macro_use]
mod common;

use common::IMAGE;

/// Writes flow `id` of namespace `tests.e2e` with the rest of its text, `body`.
fn e2e_flow(cx: &common::Ctx, id: &str, body: &str) -> std::path::PathBuf {
    cx.flow(id, &format!("id: {id}\nnamespace: tests.e2e\n{body}"))
}

// ------------------------------------------------------------------------ pluginDefaults

e2e_test!(plugin_defaults_reach_the_container, |cx| {
    let f = e2e_flow(
        cx,
        "defaults",
        &format!(
            r#"pluginDefaults:
  - type: io.kestra.plugin.scripts.shell.Commands
    values:
      containerImage: {IMAGE}
      env: {{FROM_DEFAULT: default-value, SHARED: default}}
  - type: io.kestra.plugin.scripts.runner.docker.Docker
    forced: true
    values:
      delete: false
tasks:
  - id: plain
    type: io.kestra.plugin.scripts.shell.Commands
    env: {{SHARED: task}}
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
      delete: true
    commands:
      - echo "$FROM_DEFAULT $SHARED"
"#
        ),
    );
    let run = cx.run(&f);
    run.assert_code(0);
    assert!(
        run.stderr
            .lines()
            .any(|l| l == "plain | default-value task"),
        "the defaults' env did not reach the command\n{}",
        run.dump()
    );
    // The forced `delete: false` won over the task's own `delete: true`: the container is
    // kept, with the default's image and env.
    let i = cx.eng.inspect(&cx.container("plain"));
    let env: Vec<String> = i["Config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(
        env.contains(&"FROM_DEFAULT=default-value".to_string()),
        "{env:?}"
    );
    assert!(env.contains(&"SHARED=task".to_string()), "{env:?}");
    let image = i["Config"]["Image"].as_str().unwrap();
    assert!(image.contains("busybox"), "image {image}");
    cx.eng.remove(&[cx.container("plain")]);
});

// --------------------------------------------------------------------------- flow outputs

/// A flow body: task `produce` prints the outputs `json`, then the flow's `outputs` list.
fn producing(json: &str, outputs: &str) -> String {
    format!(
        "tasks:\n  - id: produce\n    type: io.kestra.plugin.scripts.shell.Commands\n    containerImage: {IMAGE}\n    commands:\n      - 'echo \"::{{\\\"outputs\\\":{json}}}::\"'\noutputs:\n{outputs}"
    )
}

e2e_test!(flow_outputs_are_typed_in_the_result, |cx| {
    let f = e2e_flow(
        cx,
        "outputs",
        &producing(
            r#"{\"n\":41,\"word\":\"hi\"}"#,
            r#"  - id: count
    type: INT
    value: "{{ outputs.produce.vars.n + 1 }}"
  - id: greeting
    type: STRING
    value: "{{ outputs.produce.vars.word }} there"
"#,
        ),
    );
    let run = cx.run(&f);
    run.assert_code(0);
    assert_eq!(run.json["outputs"]["count"], 42, "{}", run.dump());
    assert_eq!(run.json["outputs"]["greeting"], "hi there");
    // The summary (without --json) lists them too.
    let mut args = cx.run_args(&f, &[]);
    args.retain(|a| a != "--json");
    args[5] = format!("{}-table", cx.id);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let table = cx.dockhand(&a, &[]);
    table.assert_code(0);
    assert!(
        table.stderr.lines().any(|l| l == "output count = 42"),
        "{}",
        table.dump()
    );
});

e2e_test!(an_output_that_cannot_be_typed_fails_the_execution, |cx| {
    let f = e2e_flow(
        cx,
        "bad-output",
        &producing(
            r#"{\"word\":\"many\"}"#,
            r#"  - id: count
    type: INT
    value: "{{ outputs.produce.vars.word }}"
"#,
        ),
    );
    let run = cx.run(&f);
    run.assert_code(1);
    assert_eq!(run.json["state"], "FAILED", "{}", run.dump());
    assert_eq!(run.task("produce")["state"], "SUCCESS");
    let e = run.json["error"].as_str().unwrap_or_default();
    assert!(
        e.contains("output `count`") && e.contains("not a valid INT"),
        "{e}"
    );
});

// ------------------------------------------------------------------------------- Subflow

fn child_flow() -> String {
    format!(
        r#"id: child
namespace: tests.e2e
inputs:
  - id: n
    type: INT
tasks:
  - id: double
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    commands:
      - 'echo "child got {{{{ inputs.n }}}}"'
      - 'echo "::{{\"outputs\":{{\"twice\":$(( {{{{ inputs.n }}}} * 2 ))}}}}::"'
outputs:
  - id: twice
    type: INT
    value: "{{{{ outputs.double.vars.twice }}}}"
"#
    )
}

e2e_test!(a_subflows_outputs_feed_the_parent, |cx| {
    cx.flow("child", &child_flow());
    let parent = e2e_flow(
        cx,
        "parent",
        &format!(
            r#"tasks:
  - id: sub
    type: io.kestra.plugin.core.flow.Subflow
    namespace: tests.e2e
    flowId: child
    inputs:
      n: 21
  - id: use
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    commands:
      - echo "parent saw {{{{ outputs.sub.outputs.twice }}}} from {{{{ outputs.sub.state }}}}"
"#
        ),
    );
    let run = cx.run(&parent);
    run.assert_code(0);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines
            .iter()
            .filter(|l| **l == "double | child got 21")
            .count(),
        1,
        "{}",
        run.dump()
    );
    assert!(
        lines.contains(&"use | parent saw 42 from SUCCESS"),
        "{}",
        run.dump()
    );
    let sub = run.task("sub");
    assert_eq!(sub["state"], "SUCCESS");
    assert_eq!(sub["outputs"]["outputs"]["twice"], 42);
    let child_id = sub["outputs"]["executionId"].as_str().unwrap().to_string();
    assert_ne!(child_id, cx.id);
    // The child is an execution of its own: its own journal, ended SUCCESS.
    let journal = cx
        .tmp
        .path()
        .join("state/executions")
        .join(format!("{child_id}.jsonl"));
    let text = std::fs::read_to_string(&journal).expect("the child's journal");
    assert!(text.contains("\"SUCCESS\""), "{text}");
    assert!(text.contains("\"flow\":\"child\""), "{text}");
});

e2e_test!(
    a_failed_subflow_fails_the_task_only_with_transmit_failed,
    |cx| {
        cx.flow(
        "failing",
        &format!(
            "id: failing\nnamespace: tests.e2e\ntasks:\n  - id: boom\n    type: io.kestra.plugin.scripts.shell.Commands\n    containerImage: {IMAGE}\n    commands: [exit 3]\n"
        ),
    );
        for (transmit, code, state) in [(false, 0, "SUCCESS"), (true, 1, "FAILED")] {
            let parent = cx.flow(
            "parent",
            &format!(
                "id: parent\nnamespace: tests.e2e\ntasks:\n  - id: sub\n    type: io.kestra.plugin.core.flow.Subflow\n    namespace: tests.e2e\n    flowId: failing\n    transmitFailed: {transmit}\n"
            ),
        );
            let mut args = cx.run_args(&parent, &[]);
            args[5] = format!("{}-{transmit}", cx.id);
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            let run = cx.dockhand(&a, &[]);
            run.assert_code(code);
            assert_eq!(run.task("sub")["state"], state, "{}", run.dump());
            assert_eq!(run.task("sub")["outputs"]["state"], "FAILED");
        }
    }
);

// ---------------------------------------------------------------------------- FILE inputs

e2e_test!(a_file_input_reaches_the_task_through_input_files, |cx| {
    let data = cx.tmp.path().join("data.csv");
    std::fs::write(&data, "a,b\n1,2\n").unwrap();
    let f = e2e_flow(
        cx,
        "file-input",
        &format!(
            r#"inputs:
  - id: data
    type: FILE
    allowedFileExtensions: [.csv]
tasks:
  - id: read
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    inputFiles:
      copy.csv: "{{{{ inputs.data }}}}"
    commands:
      - echo "uri {{{{ inputs.data }}}}"
      - cat copy.csv
"#
        ),
    );
    let input = format!("data={}", data.display());
    let run = cx.run_with(&f, &["--input", &input], &[]);
    run.assert_code(0);
    let uri = format!(
        "kestra:///tests/e2e/file-input/executions/{}/inputs/data/data.csv",
        cx.id
    );
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(
        lines.contains(&format!("read | uri {uri}").as_str()),
        "{}",
        run.dump()
    );
    assert!(
        lines.contains(&"read | a,b") && lines.contains(&"read | 1,2"),
        "{}",
        run.dump()
    );
    // The file is kept in the execution's storage, where the URI points.
    let stored = cx
        .tmp
        .path()
        .join("state/storage/tests/e2e/file-input/executions")
        .join(&cx.id)
        .join("inputs/data/data.csv");
    assert_eq!(std::fs::read_to_string(stored).unwrap(), "a,b\n1,2\n");
    // A missing file is bad input before anything starts.
    let mut args = cx.run_args(&f, &["--input", "data=/nonexistent/x.csv"]);
    args[5] = format!("{}-missing", cx.id);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let bad = cx.dockhand(&a, &[]);
    bad.assert_code(2);
    assert!(
        bad.stderr
            .contains("FILE input `data`: cannot read `/nonexistent/x.csv`"),
        "{}",
        bad.dump()
    );
});

// ---------------------------------------------------------------------------- concurrency

/// A flow allowing one execution at a time, whose task runs long enough for a second
/// dockhand process to find the slot taken.
fn limited(id: &str, behavior: &str) -> String {
    format!(
        r#"id: {id}
namespace: tests.e2e
concurrency:
  limit: 1
  behavior: {behavior}
tasks:
  - id: hold
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    commands:
      - echo held
      - sleep 4
      - echo released
"#
    )
}

/// Starts a first execution and waits until its task is running.
fn first_holding(cx: &common::Ctx, flow: &std::path::Path) -> common::Spawned {
    let first = cx.spawn(flow, &[], &[]);
    assert!(
        first.wait_line(std::time::Duration::from_secs(60), |l| l == "hold | held"),
        "the first execution did not start: {}",
        first.stderr_so_far()
    );
    first
}

fn second(cx: &common::Ctx, flow: &std::path::Path, suffix: &str) -> common::Run {
    let mut args = cx.run_args(flow, &[]);
    args[5] = format!("{}-{suffix}", cx.id);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    cx.dockhand(&a, &[])
}

/// FAIL and CANCEL end a second execution at once, without running a task.
fn refused_second(cx: &common::Ctx, behavior: &str, state: &str) {
    let id = format!("limited-{}", behavior.to_lowercase());
    let f = cx.flow(&id, &limited(&id, behavior));
    let first = first_holding(cx, &f);
    let run = second(cx, &f, behavior);
    run.assert_code(1);
    assert_eq!(run.json["state"], state, "{}", run.dump());
    assert!(
        run.json["tasks"].as_array().unwrap().is_empty(),
        "{}",
        run.dump()
    );
    assert!(
        run.json["error"]
            .as_str()
            .unwrap()
            .contains("concurrency limit"),
        "{}",
        run.dump()
    );
    assert!(
        run.elapsed < std::time::Duration::from_secs(3),
        "it waited: {:?}",
        run.elapsed
    );
    let done = first.finish(common::RUN_LIMIT);
    done.assert_code(0);
}

e2e_test!(concurrency_fail_ends_the_second_execution_failed, |cx| {
    refused_second(cx, "FAIL", "FAILED");
});

e2e_test!(
    concurrency_cancel_ends_the_second_execution_cancelled,
    |cx| {
        refused_second(cx, "CANCEL", "CANCELLED");
    }
);

e2e_test!(concurrency_queue_waits_for_the_running_execution, |cx| {
    let f = cx.flow("limited-queue", &limited("limited-queue", "QUEUE"));
    let first = first_holding(cx, &f);
    let run = second(cx, &f, "queued");
    // The second one started its task only once the first had released its slot.
    let done = first.finish(common::RUN_LIMIT);
    done.assert_code(0);
    run.assert_code(0);
    assert!(
        run.stderr
            .contains("waits: 1 execution(s) of the flow are running"),
        "{}",
        run.dump()
    );
    assert!(
        run.elapsed >= std::time::Duration::from_secs(5),
        "the second execution did not wait: {:?}",
        run.elapsed
    );
    assert_eq!(run.task("hold")["state"], "SUCCESS");
});

// ---------------------------------------------------------------------------------- Pause

/// `kill -9` of a running execution, then `dockhand resume` of it (which must succeed): the
/// first run's output and the resume.
fn kill_then_resume(cx: &common::Ctx, mut first: common::Spawned) -> (String, common::Run) {
    first.signal(9);
    assert!(first.wait_for(std::time::Duration::from_secs(10)).is_some());
    let before = first.stderr_so_far();
    let resumed = cx.dockhand(&["resume", &cx.id, "--json"], &[]);
    resumed.assert_code(0);
    (before, resumed)
}

/// How many task log lines of `task` (any task: None) say `msg`.
fn count_lines(all: &str, task: Option<&str>, msg: &str) -> usize {
    all.lines()
        .filter(|l| {
            l.split_once(" | ")
                .is_some_and(|(t, m)| task.is_none_or(|task| t.trim() == task) && m == msg)
        })
        .count()
}

fn paused_flow(pause: &str) -> String {
    format!(
        r#"id: paused
namespace: tests.e2e
tasks:
  - id: before
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    commands: [echo before the pause]
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
{pause}  - id: after
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    commands: [echo after the pause]
"#
    )
}

e2e_test!(
    a_pause_without_delay_stops_paused_and_resume_goes_on,
    |cx| {
        let f = cx.flow("paused", &paused_flow(""));
        let run = cx.run(&f);
        run.assert_code(4);
        assert_eq!(run.json["state"], "PAUSED", "{}", run.dump());
        assert_eq!(run.task("wait")["state"], "PAUSED");
        assert_eq!(run.task("after")["state"], "SKIPPED");
        let journal = std::fs::read_to_string(cx.state_journal()).unwrap();
        assert!(journal.contains("\"PAUSED\""), "{journal}");
        let resumed = cx.dockhand(&["resume", &cx.id, "--json"], &[]);
        resumed.assert_code(0);
        assert_eq!(resumed.json["state"], "SUCCESS", "{}", resumed.dump());
        assert_eq!(resumed.task("wait")["state"], "SUCCESS");
        assert_eq!(resumed.task("after")["state"], "SUCCESS");
        // Every line once over the two runs: `before` is not run again.
        let all = format!("{}{}", run.stderr, resumed.stderr);
        assert_eq!(
            count_lines(&all, Some("before"), "before the pause"),
            1,
            "{all}"
        );
        assert_eq!(
            count_lines(&all, Some("after"), "after the pause"),
            1,
            "{all}"
        );
    }
);

e2e_test!(a_pause_with_a_delay_waits_then_goes_on, |cx| {
    let f = cx.flow("paused", &paused_flow("    pauseDuration: PT2S\n"));
    let run = cx.run(&f);
    run.assert_code(0);
    assert_eq!(run.task("wait")["state"], "SUCCESS", "{}", run.dump());
    assert!(
        run.task("wait")["durationMs"].as_u64().unwrap() >= 2000,
        "{}",
        run.dump()
    );
    assert_eq!(run.task("after")["state"], "SUCCESS");
});

e2e_test!(a_pause_killed_mid_delay_resumes_for_the_rest, |cx| {
    let f = cx.flow("paused", &paused_flow("    pauseDuration: PT6S\n"));
    let first = cx.spawn(&f, &[], &[]);
    assert!(
        first.wait_line(std::time::Duration::from_secs(60), |l| l
            .starts_with("dockhand: wait: pausing")),
        "{}",
        first.stderr_so_far()
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    let (before, resumed) = kill_then_resume(cx, first);
    assert_eq!(
        resumed.task("after")["state"],
        "SUCCESS",
        "{}",
        resumed.dump()
    );
    // Only the rest of the delay is waited for, and `before` is not run again.
    assert!(
        resumed.elapsed < std::time::Duration::from_millis(5500),
        "waited the whole delay again: {:?}",
        resumed.elapsed
    );
    let all = format!("{before}{}", resumed.stderr);
    let count = |task: &str, msg: &str| count_lines(&all, Some(task), msg);
    assert_eq!(count("before", "before the pause"), 1, "{all}");
    assert_eq!(count("after", "after the pause"), 1, "{all}");
});

e2e_test!(a_subflow_killed_mid_run_resumes_its_child_execution, |cx| {
    cx.flow(
        "slow-child",
        &format!(
            "id: slow-child\nnamespace: tests.e2e\ntasks:\n  - id: first\n    type: io.kestra.plugin.scripts.shell.Commands\n    containerImage: {IMAGE}\n    commands: [echo child first]\n  - id: slow\n    type: io.kestra.plugin.scripts.shell.Commands\n    containerImage: {IMAGE}\n    commands: [echo slow started, sleep 4, echo slow done]\n"
        ),
    );
    let parent = e2e_flow(
        cx,
        "slow-parent",
        &format!(
            "tasks:\n  - id: sub\n    type: io.kestra.plugin.core.flow.Subflow\n    namespace: tests.e2e\n    flowId: slow-child\n  - id: last\n    type: io.kestra.plugin.scripts.shell.Commands\n    containerImage: {IMAGE}\n    commands: [echo parent last]\n"
        ),
    );
    let first = cx.spawn(&parent, &[], &[]);
    assert!(
        first.wait_line(std::time::Duration::from_secs(60), |l| l
            .ends_with("| slow started")),
        "{}",
        first.stderr_so_far()
    );
    let (before, resumed) = kill_then_resume(cx, first);
    assert_eq!(
        resumed.task("sub")["state"],
        "SUCCESS",
        "{}",
        resumed.dump()
    );
    assert_eq!(resumed.task("last")["state"], "SUCCESS");
    let all = format!("{before}{}", resumed.stderr);
    let count = |msg: &str| count_lines(&all, None, msg);
    // The child's finished task is not run again; its running one is re-attached, not rerun.
    for msg in ["child first", "slow started", "slow done", "parent last"] {
        assert_eq!(count(msg), 1, "`{msg}`:\n{all}");
    }
});

// Kestra's deprecated Pause `tasks` run once the pause ends; `kill -9` while one of them runs,
// then `resume`: the pause is not waited again, the finished child is not run again, the
// running one is re-attached to, and every line appears once.
e2e_test!(pause_tasks_killed_mid_child_resume_once, |cx| {
    let f = cx.flow(
        "pause-tasks",
        &paused_flow(&format!(
            "    pauseDuration: PT1S\n    tasks:\n      - id: child1\n        type: io.kestra.plugin.scripts.shell.Commands\n        containerImage: {IMAGE}\n        commands: [echo child one]\n      - id: child2\n        type: io.kestra.plugin.scripts.shell.Commands\n        containerImage: {IMAGE}\n        commands: [echo child two started, sleep 4, echo child two done]\n"
        )),
    );
    let first = cx.spawn(&f, &[], &[]);
    assert!(
        first.wait_line(std::time::Duration::from_secs(60), |l| l
            .ends_with("| child two started")),
        "{}",
        first.stderr_so_far()
    );
    let (before, resumed) = kill_then_resume(cx, first);
    for t in ["wait", "child1", "child2", "after"] {
        assert_eq!(
            resumed.task(t)["state"],
            "SUCCESS",
            "{t}\n{}",
            resumed.dump()
        );
    }
    let all = format!("{before}{}", resumed.stderr);
    let count = |task: &str, msg: &str| count_lines(&all, Some(task), msg);
    assert_eq!(count("before", "before the pause"), 1, "{all}");
    assert_eq!(count("child1", "child one"), 1, "{all}");
    assert_eq!(count("child2", "child two started"), 1, "{all}");
    assert_eq!(count("child2", "child two done"), 1, "{all}");
    assert_eq!(count("after", "after the pause"), 1, "{all}");
    // The children ran after the wait, in order.
    let at = |needle: &str| before.find(needle).unwrap_or(usize::MAX);
    assert!(
        at("wait: pausing") < at("| child one") && at("| child one") < at("| child two started")
    );
});
