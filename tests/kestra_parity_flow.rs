//! Flow control, handlers and states checked against what Kestra's own executor tests assert
//! (its `core/src/test/java/io/kestra/**` tests over `flows/valids/*`): each test here is a
//! flow of our own, made only of in-process core tasks, run through the built binary with no
//! engine on PATH, and asserts the execution state, each task run's state, outputs and log
//! lines Kestra gives. The Kestra test each one follows is named in its doc comment; the sweep
//! that found them is in notes/parity1.md.

#[macro_use]
mod common;

use std::time::Duration;

use common::{Run, Spawned};

/// Runs `body` (a flow without its `id`/`namespace` header) with `--json` and no engine on
/// PATH, in a fresh temp dir; `extra` are more `run` arguments.
fn run(id: &str, body: &str, extra: &[&str]) -> Run {
    let tmp = tempfile::Builder::new()
        .prefix("dockhand-parity-")
        .tempdir()
        .unwrap();
    let yaml = format!("id: {id}\nnamespace: dev.parity\n{body}");
    let file = tmp.path().join(format!("{id}.yaml"));
    std::fs::write(&file, &yaml).unwrap();
    common::assert_schema_accepts(&file.display().to_string(), &yaml);
    let empty = tmp.path().join("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let state = tmp.path().join("state").display().to_string();
    let mut args = vec![
        "run".to_string(),
        file.display().to_string(),
        "--work-dir".into(),
        tmp.path().join("work").display().to_string(),
        "--json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let env = [
        ("PATH", empty.display().to_string()),
        ("DOCKHAND_ENGINE", String::new()),
        ("DOCKHAND_STATE_DIR", state.clone()),
        ("XDG_STATE_HOME", state),
    ]
    .map(|(k, v)| (k.to_string(), v));
    Spawned::start(&args, &env).finish(Duration::from_secs(60))
}

/// The runs of task `id` in the result, in the order they are listed.
fn runs_of(r: &Run, id: &str) -> Vec<serde_json::Value> {
    r.tasks().into_iter().filter(|t| t["id"] == id).collect()
}

/// Kestra sets `taskrun.startDate` on every task run (`RunVariables.of(TaskRun)`), so a task
/// reading it outside a ForEach, or in a ForEach over no values, succeeds (EachSequentialTest
/// `eachEmpty`: SUCCESS with the task after the empty ForEach run).
#[test]
fn taskrun_start_date_is_set_on_every_run() {
    let r = run(
        "started",
        r#"tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.ForEach
    values: []
    tasks:
      - id: never
        type: io.kestra.plugin.core.log.Log
        message: "{{ taskrun.value }}"
  - id: stamp
    type: io.kestra.plugin.core.debug.Return
    format: "at {{ taskrun.startDate }}"
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["x"]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.log.Log
        message: "{{ taskrun.value }} at {{ taskrun.startDate }}"
"#,
        &[],
    );
    r.assert_code(0);
    assert_eq!(r.json["state"], "SUCCESS", "{}", r.dump());
    assert!(runs_of(&r, "never").is_empty(), "{}", r.dump());
    let v = r.task("stamp")["outputs"]["value"]
        .as_str()
        .unwrap()
        .to_string();
    // An ISO-8601 instant of today, e.g. `at 2026-12-01T18:30:00.123Z`.
    let date = v.strip_prefix("at ").unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(date).is_ok(),
        "not an instant: {v}"
    );
    let line = &r.logs("inner.0", '|');
    assert_eq!(line.len(), 1, "{}", r.dump());
    assert!(line[0].starts_with("x at 20"), "{}", r.dump());
}

/// Kestra lists a Sequential's and a Parallel's run among the task runs, in the state its
/// children give it (AllowFailureTest: the Sequential holding the failure FAILED, the
/// AllowFailure and the Sequential around it WARNING; SequentialTest and ParallelTest count
/// them): here one run per task of the flow, flowables included.
#[test]
fn sequential_and_parallel_are_task_runs_with_their_state() {
    let r = run(
        "groups",
        r#"tasks:
  - id: outer
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: tolerate
        type: io.kestra.plugin.core.flow.AllowFailure
        tasks:
          - id: inner
            type: io.kestra.plugin.core.flow.Sequential
            tasks:
              - id: boom
                type: io.kestra.plugin.core.execution.Fail
                errorMessage: inner broke
              - id: never
                type: io.kestra.plugin.core.log.Log
                message: not reached
            errors:
              - id: mop
                type: io.kestra.plugin.core.log.Log
                message: mopping up
  - id: fan
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: left
        type: io.kestra.plugin.core.log.Log
        message: left side
      - id: right
        type: io.kestra.plugin.core.log.Log
        message: right side
"#,
        &[],
    );
    r.assert_code(0);
    assert_eq!(r.json["state"], "WARNING", "{}", r.dump());
    for (id, state) in [
        ("boom", "FAILED"),
        ("mop", "SUCCESS"),
        ("inner", "FAILED"),
        ("tolerate", "WARNING"),
        ("outer", "WARNING"),
        ("left", "SUCCESS"),
        ("right", "SUCCESS"),
        ("fan", "SUCCESS"),
    ] {
        let runs = runs_of(&r, id);
        assert_eq!(runs.len(), 1, "{id}: {}", r.dump());
        assert_eq!(runs[0]["state"], state, "{id}: {}", r.dump());
    }
    // A group is reported once its children ended: after them in the list.
    let ids: Vec<String> = r
        .tasks()
        .iter()
        .filter(|t| t["state"] != "SKIPPED")
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    let at = |id: &str| ids.iter().position(|x| x == id).unwrap();
    assert!(
        at("mop") < at("inner") && at("inner") < at("tolerate"),
        "{ids:?}"
    );
    assert!(at("left") < at("fan") && at("right") < at("fan"), "{ids:?}");
    assert_eq!(r.logs("mop", '|'), ["mopping up"], "{}", r.dump());
}

/// A Switch on `blue` with only a `red` case; the tests add what follows it.
const BLUE_SWITCH: &str = r#"tasks:
  - id: choose
    type: io.kestra.plugin.core.flow.Switch
    value: "{{ 'blue' }}"
    cases:
      red:
        - id: stop
          type: io.kestra.plugin.core.log.Log
          message: red
"#;

/// A Switch whose value matches no case and that has no `defaults` fails, with Kestra's
/// warning (SwitchTest `switchImpossible`: FAILED); with `defaults` it takes them.
#[test]
fn a_switch_with_no_matching_case_and_no_defaults_fails() {
    let r = run(
        "pick",
        &format!(
            "{BLUE_SWITCH}  - id: after\n    type: io.kestra.plugin.core.log.Log\n    message: not reached\n"
        ),
        &[],
    );
    r.assert_code(1);
    assert_eq!(r.json["state"], "FAILED", "{}", r.dump());
    assert_eq!(r.task("choose")["state"], "FAILED", "{}", r.dump());
    assert!(runs_of(&r, "stop").is_empty(), "{}", r.dump());
    assert!(runs_of(&r, "after").is_empty(), "{}", r.dump());
    let warned = r.logs("choose", '!');
    assert_eq!(warned.len(), 1, "{}", r.dump());
    assert!(
        warned[0].starts_with("WARN No task found on flow 'dev.parity.pick', task 'choose'"),
        "{}",
        r.dump()
    );

    let r = run(
        "fallback",
        &format!(
            "{BLUE_SWITCH}    defaults:\n      - id: other\n        type: io.kestra.plugin.core.log.Log\n        message: another colour\n"
        ),
        &[],
    );
    r.assert_code(0);
    assert_eq!(r.task("choose")["state"], "SUCCESS", "{}", r.dump());
    assert_eq!(r.logs("other", '|'), ["another colour"], "{}", r.dump());
}

/// A Switch's and an If's outputs are on their task run, as Kestra's (SwitchTest reads
/// `value` and `defaults` off the Switch's run; If has `evaluationResult`).
#[test]
fn switch_and_if_outputs_are_in_the_result() {
    let r = run(
        "decide",
        r#"tasks:
  - id: route
    type: io.kestra.plugin.core.flow.Switch
    value: "{{ 'two' }}"
    cases:
      one:
        - id: first
          type: io.kestra.plugin.core.log.Log
          message: one
      two:
        - id: second
          type: io.kestra.plugin.core.log.Log
          message: two
  - id: check
    type: io.kestra.plugin.core.flow.If
    condition: "{{ outputs.route.value == 'one' }}"
    then:
      - id: yes
        type: io.kestra.plugin.core.log.Log
        message: yes
"#,
        &[],
    );
    r.assert_code(0);
    assert_eq!(
        r.task("route")["outputs"],
        serde_json::json!({"value": "two", "defaults": false}),
        "{}",
        r.dump()
    );
    assert_eq!(
        r.task("check")["outputs"],
        serde_json::json!({"evaluationResult": false}),
        "{}",
        r.dump()
    );
    assert!(runs_of(&r, "yes").is_empty(), "{}", r.dump());
}

/// `allowWarning` on a core task: with `allowFailure` its failure ends SUCCESS, and a WARNING
/// it gives ends SUCCESS (TaskWithAllowWarningTest `runnableTask`: the execution SUCCESS).
#[test]
fn allow_warning_on_a_core_task_makes_its_failure_success() {
    let r = run(
        "tolerant",
        r#"tasks:
  - id: broken
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: on purpose
    allowFailure: true
    allowWarning: true
  - id: lenient
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: tolerated
    allowFailure: true
  - id: next
    type: io.kestra.plugin.core.log.Log
    message: carried on
"#,
        &[],
    );
    r.assert_code(0);
    assert_eq!(r.task("broken")["state"], "SUCCESS", "{}", r.dump());
    assert_eq!(r.task("lenient")["state"], "WARNING", "{}", r.dump());
    assert_eq!(r.json["state"], "WARNING", "{}", r.dump());
    assert_eq!(r.logs("next", '|'), ["carried on"], "{}", r.dump());
}

/// `currentEachOutput(outputs.T)` is T's outputs for the ForEach values the run is in, at any
/// depth (CurrentEachOutputFunctionTest: `return-v11-v21-v31` and so on for each value pair).
#[test]
fn current_each_output_reads_the_outputs_of_this_iteration() {
    let r = run(
        "current",
        r#"tasks:
  - id: outer
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b"]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.flow.ForEach
        values: ["x", "y"]
        tasks:
          - id: make
            type: io.kestra.plugin.core.debug.Return
            format: "{{ parent.taskrun.value }}{{ taskrun.value }}"
          - id: read
            type: io.kestra.plugin.core.log.Log
            message: "got {{ currentEachOutput(outputs.make).value }}"
"#,
        &[],
    );
    r.assert_code(0);
    let mut got: Vec<String> = ["read.0.0", "read.0.1", "read.1.0", "read.1.1"]
        .iter()
        .flat_map(|id| r.logs(id, '|'))
        .collect();
    got.sort();
    assert_eq!(
        got,
        ["got ax", "got ay", "got bx", "got by"],
        "{}",
        r.dump()
    );
}

/// A ForEach whose values hold a null fails before any run, with Kestra's message, and that
/// message is an ERROR entry of the execution (EachSequentialTest `eachNull` finds it in the
/// logs): `errorLogs()` in the flow's `errors` reads it.
#[test]
fn a_null_foreach_value_fails_with_kestras_message_as_an_error_log() {
    let r = run(
        "nulls",
        r#"tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: "{{ '[\"a\", null, {\"k\": 1}]' }}"
    tasks:
      - id: never
        type: io.kestra.plugin.core.log.Log
        message: "{{ taskrun.value }}"
errors:
  - id: told
    type: io.kestra.plugin.core.log.Log
    message: "{% for e in errorLogs() %}{{ e.taskId }}: {{ e.message }}{% endfor %}"
"#,
        &[],
    );
    r.assert_code(1);
    assert_eq!(r.task("each")["state"], "FAILED", "{}", r.dump());
    assert!(runs_of(&r, "never").is_empty(), "{}", r.dump());
    let want = "Found '1' null values on Each, with values=[a, null, {k=1}]";
    let told = r.logs("told", '|');
    assert_eq!(told.len(), 1, "{}", r.dump());
    assert!(
        told[0].starts_with("each: ") && told[0].contains(want),
        "{}",
        r.dump()
    );
}
