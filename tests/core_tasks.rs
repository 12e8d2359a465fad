//! The core tasks dockhand does itself (README, "Core tasks"), through the built binary: log
//! lines, outputs in `--json` and in later tasks, states and exit codes, labels, Exit, Sleep
//! with Ctrl-C and timeout, resume after `kill -9`, and `plan`. Flows with only in-process
//! tasks run with no engine at all: every run here has a PATH without docker or podman. The
//! mixed flows (a Return read by a shell task) run on Docker and Podman (`e2e_test!`).

#[macro_use]
mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{IMAGE, Run, Spawned};
use serde_json::{Value, json};

/// A temp dir with a flow file, a state dir and a work dir; runs dockhand with no engine on
/// PATH.
struct NoEngine {
    tmp: tempfile::TempDir,
}

impl NoEngine {
    fn new() -> NoEngine {
        let tmp = tempfile::Builder::new()
            .prefix("dockhand-core-")
            .tempdir()
            .unwrap();
        std::fs::create_dir_all(tmp.path().join("empty-path")).unwrap();
        NoEngine { tmp }
    }

    fn flow(&self, name: &str, yaml: &str) -> PathBuf {
        let p = self.tmp.path().join(format!("{name}.yaml"));
        std::fs::write(&p, yaml).unwrap();
        common::assert_schema_accepts(&p.display().to_string(), yaml);
        p
    }

    /// A flow file `name.yaml` of flow `id` in namespace dev.core, `body` after the header.
    fn flow_of(&self, name: &str, id: &str, body: &str) -> PathBuf {
        self.flow(name, &flow(id, body))
    }

    fn args(&self, cmd: &str, flow: &Path, extra: &[&str]) -> Vec<String> {
        let mut a = vec![
            cmd.to_string(),
            flow.display().to_string(),
            "--work-dir".into(),
            self.tmp.path().join("work").display().to_string(),
            "--json".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    }

    fn env(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let state = self.tmp.path().join("state").display().to_string();
        let mut v = vec![
            // No docker, no podman: in-process tasks need none.
            (
                "PATH".to_string(),
                self.tmp.path().join("empty-path").display().to_string(),
            ),
            ("DOCKHAND_ENGINE".to_string(), String::new()),
            ("DOCKHAND_STATE_DIR".to_string(), state.clone()),
            ("XDG_STATE_HOME".to_string(), state),
        ];
        v.extend(extra.iter().map(|(k, x)| (k.to_string(), x.to_string())));
        v
    }

    fn spawn(&self, flow: &Path, extra: &[&str], env: &[(&str, &str)]) -> Spawned {
        Spawned::start(&self.args("run", flow, extra), &self.env(env))
    }

    fn run(&self, flow: &Path, extra: &[&str]) -> Run {
        self.spawn(flow, extra, &[]).finish(Duration::from_secs(60))
    }

    /// `dockhand validate FLOW`, with exit code `code`; stderr must hold each of `says`.
    fn validate(&self, flow: &Path, code: i32, says: &[&str]) -> Run {
        let r = self.dockhand(&["validate", &flow.display().to_string()]);
        r.assert_code(code);
        for s in says {
            assert!(r.stderr.contains(s), "no `{s}` in\n{}", r.dump());
        }
        r
    }

    /// Runs `flow` as execution `id` until a line holds `line`, waits `then`, kills dockhand
    /// with SIGKILL and resumes the execution: the killed run and the resumed one (exit 0).
    fn kill9_then_resume(&self, flow: &Path, id: &str, line: &str, then: Duration) -> (Run, Run) {
        let first = self.killed_after(flow, id, line, then);
        let r = self.dockhand(&["resume", id, "--json"]);
        r.assert_code(0);
        (first, r)
    }

    fn dockhand(&self, args: &[&str]) -> Run {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        Spawned::start(&args, &self.env(&[])).finish(Duration::from_secs(60))
    }

    /// [`Self::kill9_then_resume`] with `extra` arguments to the first run, killed as soon as
    /// `line` is printed.
    fn kill9_then_resume_with(
        &self,
        flow: &Path,
        id: &str,
        line: &str,
        extra: &[&str],
    ) -> (Run, Run) {
        let mut args = vec!["--execution-id", id];
        args.extend_from_slice(extra);
        let s = self.spawn(flow, &args, &[]);
        assert!(
            s.wait_line(Duration::from_secs(30), |l| l.contains(line)),
            "{}",
            s.stderr_so_far()
        );
        s.signal(libc::SIGKILL);
        let first = s.finish(Duration::from_secs(10));
        assert_eq!(first.signal, Some(libc::SIGKILL), "{}", first.dump());
        let r = self.dockhand(&["resume", id, "--json"]);
        r.assert_code(0);
        (first, r)
    }

    /// Runs `flow` as execution `id` until a line holds `line`, then kills dockhand (`kill -9`).
    fn killed_at(&self, flow: &Path, id: &str, line: &str) -> Run {
        self.killed_after(flow, id, line, Duration::ZERO)
    }

    /// [`Self::killed_at`], `then` after the line.
    fn killed_after(&self, flow: &Path, id: &str, line: &str, then: Duration) -> Run {
        let s = self.spawn(flow, &["--execution-id", id], &[]);
        assert!(
            s.wait_line(Duration::from_secs(30), |l| l.contains(line)),
            "{}",
            s.stderr_so_far()
        );
        std::thread::sleep(then);
        s.signal(libc::SIGKILL);
        let first = s.finish(Duration::from_secs(10));
        assert_eq!(first.signal, Some(libc::SIGKILL), "{}", first.dump());
        first
    }
}

fn flow(id: &str, body: &str) -> String {
    format!("id: {id}\nnamespace: dev.core\n{body}")
}

#[test]
fn log_prints_each_message_with_the_task_prefix_and_level() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "log",
        "log",
        r#"tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "hello from {{ flow.id }} in {{ flow.namespace }}"
  - id: several
    type: io.kestra.core.tasks.log.Log
    level: WARN
    message:
      - first
      - "second {{ 20 + 22 }}"
  - id: debug
    type: io.kestra.plugin.core.log.Log
    level: DEBUG
    message: "two\nlines"
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    assert_eq!(r.logs("hello", '|'), vec!["hello from log in dev.core"]);
    assert_eq!(
        r.logs("several", '!'),
        vec!["WARN first", "WARN second 42"],
        "{}",
        r.dump()
    );
    assert_eq!(r.logs("debug", '|'), vec!["DEBUG two", "DEBUG lines"]);
    assert!(
        r.stderr.contains("on no engine (in-process tasks only)"),
        "{}",
        r.dump()
    );
    assert_eq!(r.json["engine"], "none");
    for t in ["hello", "several", "debug"] {
        let t = r.task(t);
        assert_eq!(t["state"], "SUCCESS");
        assert_eq!(t["outputs"], json!({}));
        assert_eq!(t["container"], Value::Null);
    }
    // The lines are kept with the execution, as a container task's are.
    let id = r.json["executionId"].as_str().unwrap();
    let kept = dh.dockhand(&["logs", id]);
    kept.assert_code(0);
    for line in [
        "hello from log in dev.core",
        "WARN second 42",
        "DEBUG lines",
    ] {
        assert!(kept.stdout.contains(line), "{line}: {}", kept.dump());
    }
}

#[test]
fn log_masks_secret_inputs_and_secret_function_values() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "mask",
        "mask",
        r#"inputs:
  - id: token
    type: SECRET
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message:
      - "token={{ inputs.token }}"
      - "api={{ secret('API_KEY') }}"
"#,
    );
    // secret('API_KEY') reads SECRET_API_KEY, base64 ("api-key-value-99").
    let r = dh
        .spawn(
            &f,
            &["--input", "token=tok-1234567890"],
            &[("SECRET_API_KEY", "YXBpLWtleS12YWx1ZS05OQ==")],
        )
        .finish(Duration::from_secs(60));
    r.assert_code(0);
    assert_eq!(r.logs("say", '|'), vec!["token=******", "api=******"]);
    assert!(!r.stderr.contains("tok-1234567890"), "{}", r.dump());
    assert!(!r.stderr.contains("api-key-value-99"), "{}", r.dump());
    assert!(!r.stdout.contains("api-key-value-99"), "{}", r.dump());
}

#[test]
fn return_and_output_values_are_outputs_of_later_tasks_and_json() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "values",
        "values",
            r#"variables:
  who: ada
tasks:
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "{{ vars.who | upper }}-{{ flow.id }}"
  - id: vals
    type: io.kestra.plugin.core.output.OutputValues
    values:
      name: "{{ outputs.ret.value }}"
      n: 3
      list: [1, "{{ 1 + 1 }}"]
      nested: {k: "{{ vars.who }}"}
  - id: use
    type: io.kestra.plugin.core.log.Log
    message: "{{ outputs.ret.value }} {{ outputs.vals.values.name }} {{ outputs.vals.values.n + 1 }} {{ outputs.vals.values.nested.k }}"
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    assert_eq!(r.task("ret")["outputs"], json!({"value": "ADA-values"}));
    assert_eq!(
        r.task("vals")["outputs"],
        json!({"values": {"name": "ADA-values", "n": 3, "list": [1, "2"], "nested": {"k": "ada"}}})
    );
    assert_eq!(r.logs("use", '|'), vec!["ADA-values ADA-values 4 ada"]);
}

#[test]
fn an_output_a_task_did_not_produce_fails_the_reading_task() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "missing",
        "missing",
        r#"tasks:
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: x
  - id: use
    type: io.kestra.plugin.core.log.Log
    message: "{{ outputs.ret.nothing }}"
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(1);
    let t = r.task("use");
    assert_eq!(t["state"], "FAILED");
    assert_eq!(t["failure"]["kind"], "setup");
    assert!(
        t["message"]
            .as_str()
            .unwrap()
            .contains("outputs.ret.nothing"),
        "{}",
        r.dump()
    );
}

#[test]
fn fail_stops_the_flow_and_exits_1() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "fail",
        "fail",
        r#"inputs:
  - id: n
    type: STRING
    defaults: "3"
tasks:
  - id: not-yet
    type: io.kestra.plugin.core.execution.Fail
    condition: "{{ inputs.n == '7' }}"
  - id: tolerated
    type: io.kestra.plugin.core.execution.Fail
    allowFailure: true
  - id: stop
    type: io.kestra.core.tasks.executions.Fail
    errorMessage: "n is {{ inputs.n }}"
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: never printed
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(1);
    assert_eq!(r.json["state"], "FAILED");
    assert_eq!(r.task("not-yet")["state"], "SUCCESS");
    let t = r.task("tolerated");
    assert_eq!(t["state"], "WARNING");
    assert_eq!(t["message"], "Task failure");
    let t = r.task("stop");
    assert_eq!(t["state"], "FAILED");
    assert_eq!(t["failure"], json!({"kind": "task", "message": "n is 3"}));
    assert!(!r.has_task("after"), "{}", r.dump());
    assert!(!r.stderr.contains("never printed"));
    // With the condition true: the message is logged as an error line.
    let r = dh.run(&f, &["--input", "n=7"]);
    r.assert_code(1);
    assert_eq!(r.task("not-yet")["state"], "FAILED");
    assert_eq!(r.logs("not-yet", '!'), vec!["ERROR Task failure"]);
}

/// `retry` on core tasks, as Kestra retries any runnable task: a Log whose message cannot be
/// rendered until its third attempt (`taskrun.attemptsCount` counts the attempts before)
/// succeeds then, WARNING with `warningOnRetry`; a Fail under the flow's `retry` makes every
/// attempt, then fails and its `errors` run once. (Core tasks used to get one attempt only.)
#[test]
fn core_tasks_are_retried_with_attempts_count() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "retried",
        "retried",
        r#"tasks:
  - id: third-time
    type: io.kestra.plugin.core.log.Log
    message: "{{ taskrun.attemptsCount >= 2 ? 'made it at ' ~ taskrun.attemptsCount : undefined_yet }}"
    retry:
      type: constant
      interval: PT0.1S
      maxAttempts: 5
      warningOnRetry: true
  - id: quiet
    type: io.kestra.plugin.core.log.Log
    message: "first go {{ taskrun.attemptsCount }}"
    retry:
      type: constant
      interval: PT0.1S
      maxAttempts: 5
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    assert_eq!(r.json["state"], "WARNING", "{}", r.dump());
    let t = r.task("third-time");
    assert_eq!(
        (t["state"].as_str(), t["attempts"].as_u64()),
        (Some("WARNING"), Some(3))
    );
    assert_eq!(r.logs("third-time", '|'), vec!["made it at 2"]);
    assert_eq!(
        r.stderr.matches("third-time: attempt ").count(),
        2,
        "{}",
        r.dump()
    );
    let t = r.task("quiet");
    assert_eq!(
        (t["state"].as_str(), t["attempts"].as_u64()),
        (Some("SUCCESS"), Some(1))
    );
    assert_eq!(r.logs("quiet", '|'), vec!["first go 0"]);

    let f = dh.flow_of(
        "flow-retry",
        "flow-retry",
        r#"retry:
  type: exponential
  interval: PT0.1S
  maxInterval: PT0.2S
  maxAttempts: 3
tasks:
  - id: always
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: "attempt {{ taskrun.attemptsCount + 1 }} failed"
  - id: never
    type: io.kestra.plugin.core.log.Log
    message: not reached
errors:
  - id: handler
    type: io.kestra.plugin.core.log.Log
    message: handled once
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(1);
    let t = r.task("always");
    assert_eq!(
        (t["state"].as_str(), t["attempts"].as_u64()),
        (Some("FAILED"), Some(3))
    );
    assert_eq!(t["message"], "attempt 3 failed");
    for n in 1..=2 {
        let line = format!(
            "always: attempt {n} FAILED (attempt {n} failed); attempt {}",
            n + 1
        );
        assert!(r.stderr.contains(&line), "no `{line}` in\n{}", r.dump());
    }
    assert!(!r.has_task("never"));
    assert_eq!(r.logs("handler", '|'), vec!["handled once"]);
}

/// A task with no `retry` of its own is retried under the closest enclosing flowable's (as
/// Kestra's executor picks it), else the flow's: here each ForEach value's run of a Log
/// nested in a Sequential gets the ForEach's two attempts, while a task with its own retry
/// keeps it. (A flowable's `retry` used to be ignored.)
#[test]
fn a_flowables_retry_retries_its_failing_children() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "flowable-retry",
        "flowable-retry",
        r#"retry:
  type: constant
  interval: PT0.1S
  maxAttempts: 9
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["x", "y"]
    retry:
      type: constant
      interval: PT0.1S
      maxAttempts: 2
    tasks:
      - id: group
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
          - id: second-go
            type: io.kestra.plugin.core.log.Log
            message: "{{ taskrun.attemptsCount == 1 ? parents[0].taskrun.value ~ ' ok' : not_yet }}"
          - id: own
            type: io.kestra.plugin.core.log.Log
            message: "{{ taskrun.attemptsCount == 3 ? 'own ok' : not_yet }}"
            retry:
              type: constant
              interval: PT0.1S
              maxAttempts: 4
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    let runs: Vec<(String, u64)> = r
        .tasks()
        .iter()
        .filter(|t| t["id"] == "second-go" || t["id"] == "own")
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_string(),
                t["attempts"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        runs,
        [("second-go", 2), ("own", 4), ("second-go", 2), ("own", 4)]
            .map(|(a, n)| (a.to_string(), n)),
        "{}",
        r.dump()
    );
    assert_eq!(r.logs("second-go.0", '|'), vec!["x ok"]);
    assert_eq!(r.logs("second-go.1", '|'), vec!["y ok"]);
}

/// A Subflow under `retry` (here the parent flow's) is retried as a new child execution per
/// attempt, as Kestra's executor retries an executable task: the child that fails on its
/// first execution (its KV counter) succeeds on the second, and the parent reads its outputs.
/// The child's KV tasks use the namespace's store, as in Kestra: the parent reads what the
/// child set (a child execution used to have no KV store: its kv.Set failed).
#[test]
fn a_retried_subflow_is_a_new_child_execution_per_attempt() {
    let dh = NoEngine::new();
    dh.flow(
        "flaky-child",
        r#"id: flaky-child
namespace: dev.core
outputs:
  - id: tries
    type: STRING
    value: "{{ outputs.count.value }}"
tasks:
  - id: count
    type: io.kestra.plugin.core.debug.Return
    format: "{{ kv('tries', errorOnMissing=false) is null ? 1 : kv('tries') + 1 }}"
  - id: keep
    type: io.kestra.plugin.core.kv.Set
    key: tries
    value: "{{ outputs.count.value }}"
    kvType: NUMBER
  - id: first-fails
    type: io.kestra.plugin.core.execution.Fail
    condition: "{{ outputs.count.value == '1' }}"
"#,
    );
    let f = dh.flow_of(
        "retry-parent",
        "retry-parent",
        r#"retry:
  type: constant
  interval: PT0.1S
  maxAttempts: 3
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: dev.core
    flowId: flaky-child
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: "child tried {{ outputs.call.outputs.tries }} times, kv says {{ kv('tries') }}"
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    let t = r.task("call");
    assert_eq!(
        (t["state"].as_str(), t["attempts"].as_u64()),
        (Some("SUCCESS"), Some(2)),
        "{}",
        r.dump()
    );
    assert_eq!(r.logs("after", '|'), vec!["child tried 2 times, kv says 2"]);
    assert_eq!(
        r.stderr.matches("call: attempt 1 FAILED").count(),
        1,
        "{}",
        r.dump()
    );
}

/// Input ids may hold `.`, as Kestra's (`^[a-zA-Z0-9][.a-zA-Z0-9_-]*`): each dot nests the
/// typed value, `nested.more.int` is `{{ inputs.nested.more.int }}`. (They were refused as
/// invalid ids.)
#[test]
fn dotted_input_ids_nest_their_values() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "dotted",
        "dotted",
        r#"inputs:
  - id: deep.text
    type: STRING
    defaults: hello
  - id: deep.er.count
    type: INT
    defaults: 41
  - id: deep.flag
    type: BOOLEAN
    required: false
tasks:
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.deep.text }} {{ inputs.deep.er.count + 1 }} {{ inputs.deep.flag }} {{ inputs.deep.er | json }}"
"#,
    );
    let r = dh.run(&f, &["--input", "deep.flag=true"]);
    r.assert_code(0);
    assert_eq!(r.logs("show", '|'), vec![r#"hello 42 true {"count":41}"#]);
    // (A leading `.` is no id: tests/schema.rs.)
}

/// An optional input given no value is there as null, as in Kestra ("null inputs are
/// serialized"): `{{ inputs.x }}` renders empty, `is null` is true and `??` takes its
/// fallback. (Reading it used to fail the task: "has no value".)
#[test]
fn an_optional_input_without_a_value_is_null() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "optional",
        "optional",
        r#"inputs:
  - id: note
    type: STRING
    required: false
  - id: deep.count
    type: INT
    required: false
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: "[{{ inputs.note }}] {{ inputs.deep.count is null }} {{ inputs.note ?? 'fallback' }}"
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    assert_eq!(r.task("r")["outputs"]["value"], "[] true fallback");
    let r = dh.run(&f, &["--input", "note=given", "--input", "deep.count=2"]);
    assert_eq!(r.task("r")["outputs"]["value"], "[given] false given");
}

/// `execution.Labels` with `labels` written as one template, as Kestra takes a string: it
/// renders to a JSON object of labels (non-string values as JSON prints them) or a list of
/// `{key, value}`; anything else fails the task. (The string form was refused at validation.)
#[test]
fn labels_from_one_template_render_to_an_object_or_a_list() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "labels-json",
        "labels-json",
        r#"inputs:
  - id: given
    type: JSON
tasks:
  - id: as-object
    type: io.kestra.plugin.core.execution.Labels
    labels: "{{ inputs.given }}"
  - id: as-list
    type: io.kestra.plugin.core.execution.Labels
    labels: '{{ [{"key": "listed", "value": flow.id}] | json }}'
  - id: not-labels
    type: io.kestra.plugin.core.execution.Labels
    labels: "{{ inputs.given.team }}"
"#,
    );
    let r = dh.run(&f, &["--input", r#"given={"team": "data", "count": 3}"#]);
    r.assert_code(1);
    assert_eq!(
        r.task("as-object")["labels"],
        json!({"team": "data", "count": "3"})
    );
    assert_eq!(
        r.task("as-list")["labels"],
        json!({"listed": "labels-json"})
    );
    let t = r.task("not-labels");
    assert_eq!(t["state"], "FAILED");
    assert_eq!(
        t["message"],
        "`labels` rendered to `data`: expected a JSON object of labels or a list of {key, value}"
    );
}

/// Kestra's `system.correlationId` label: every execution has it, its own id, and each
/// subflow down the chain has the root execution's. (It was missing: reading it failed.)
#[test]
fn the_correlation_id_label_is_the_root_executions_id() {
    let dh = NoEngine::new();
    dh.flow(
        "corr-leaf",
        "id: corr-leaf\nnamespace: dev.core\ntasks:\n  - id: say\n    type: io.kestra.plugin.core.log.Log\n    message: \"root {{ labels.system.correlationId }} me {{ execution.id }}\"\n",
    );
    dh.flow(
        "corr-mid",
        "id: corr-mid\nnamespace: dev.core\ntasks:\n  - id: down\n    type: io.kestra.plugin.core.flow.Subflow\n    namespace: dev.core\n    flowId: corr-leaf\n",
    );
    let f = dh.flow_of(
        "corr-root",
        "corr-root",
        r#"tasks:
  - id: own
    type: io.kestra.plugin.core.log.Log
    message: "{{ labels['system.correlationId'] ?? labels.system.correlationId }}"
  - id: down
    type: io.kestra.plugin.core.flow.Subflow
    namespace: dev.core
    flowId: corr-mid
"#,
    );
    let r = dh.run(&f, &["--execution-id", "corr-root-1"]);
    r.assert_code(0);
    assert_eq!(r.logs("own", '|'), vec!["corr-root-1"]);
    let say = r.logs("say", '|');
    assert_eq!(say.len(), 1, "{}", r.dump());
    assert!(
        say[0].starts_with("root corr-root-1 me corr-root-1-"),
        "{say:?}"
    );
}

/// `{{ taskrun.startDate }}` is the run's start (ISO-8601, UTC), as Kestra gives it: not before
/// the execution's start. (Reading it at run time failed: "not known when this task runs".)
#[test]
fn taskrun_start_date_is_known_when_the_task_runs() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "started",
        "started",
        r#"tasks:
  - id: when
    type: io.kestra.plugin.core.debug.Return
    format: "{{ taskrun.startDate }}|{{ execution.startDate }}"
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    let v = r.task("when")["outputs"]["value"]
        .as_str()
        .unwrap()
        .to_string();
    let (task, exec) = v.split_once('|').unwrap();
    let parse =
        |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    assert!(task.ends_with('Z') && parse(task) >= parse(exec), "{v}");
}

/// A WorkingDirectory's local `errors` run when one of its tasks fails, and its `finally` in
/// any case, as any flowable's (Kestra's `WorkingDirectoryTest.failed`: `error-t1` ran once).
/// (They were never run.)
#[test]
fn a_working_directorys_errors_and_finally_run() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "wd-handlers",
        "wd-handlers",
        r#"tasks:
  - id: shared
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: breaks
        type: io.kestra.plugin.core.execution.Fail
        errorMessage: broken on purpose
    errors:
      - id: on-error
        type: io.kestra.plugin.core.log.Log
        message: "handled {{ task.id }}"
    finally:
      - id: always
        type: io.kestra.plugin.core.log.Log
        message: tidy
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(1);
    assert_eq!(r.task("shared")["state"], "FAILED");
    assert_eq!(r.logs("on-error", '|'), vec!["handled on-error"]);
    assert_eq!(r.logs("always", '|'), vec!["tidy"]);
}

/// A WorkingDirectory inside a ForEach: its tasks see its run's `taskrun.value`, as Kestra's
/// worker runs them in the WorkingDirectory's task run (`WorkingDirectoryTest.taskRun`). (They
/// had no value: "it exists only inside a ForEach".)
#[test]
fn a_working_directorys_tasks_see_its_foreach_value() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "wd-value",
        "wd-value",
        r#"tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["red", "blue"]
    tasks:
      - id: wd
        type: io.kestra.plugin.core.flow.WorkingDirectory
        tasks: [{id: shows, type: io.kestra.plugin.core.debug.Return, format: "{{ taskrun.value }}#{{ taskrun.iteration }}"}]
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    let got: Vec<(Value, Value)> = r
        .tasks()
        .into_iter()
        .filter(|t| t["id"] == "shows")
        .map(|t| (t["values"].clone(), t["outputs"]["value"].clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (json!(["red"]), json!("red#0")),
            (json!(["blue"]), json!("blue#1"))
        ],
        "{}",
        r.dump()
    );
}

/// A WorkingDirectory's `outputFiles` are its output `outputs.ID.outputFiles['name']`, each a
/// `kestra://` URI that `read()` gives back, as Kestra's (`WorkingDirectoryTest.outputFiles`).
/// (Later tasks could not read them: "the task it names did not produce it".)
#[test]
fn a_working_directorys_output_files_are_its_outputs() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "wd-outputs",
        "wd-outputs",
        r#"tasks:
  - id: wd
    type: io.kestra.plugin.core.flow.WorkingDirectory
    outputFiles: [report.txt]
    tasks:
      - id: write
        type: io.kestra.plugin.core.storage.LocalFiles
        inputs:
          report.txt: "made in {{ task.id }}"
  - id: later
    type: io.kestra.plugin.core.log.Log
    message: "{{ read(outputs.wd.outputFiles['report.txt']) }}"
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    let uri = r.task("wd")["outputs"]["outputFiles"]["report.txt"].clone();
    assert!(
        uri.as_str()
            .is_some_and(|u| u.starts_with("kestra:///dev/core/wd-outputs/executions/")),
        "{}",
        r.dump()
    );
    assert_eq!(r.logs("later", '|'), vec!["made in write"]);
}

/// A LocalFiles task inside a WorkingDirectory works in the shared directory and leaves what
/// it wrote there: the next LocalFiles' `outputs` glob finds it (Kestra's
/// `WorkingDirectoryTest.success`). (Each LocalFiles pruned the shared directory to its own
/// outputs, so the file was gone.)
#[test]
fn local_files_in_a_working_directory_share_its_files() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "wd-local-files",
        "wd-local-files",
        r#"tasks:
  - id: shared
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: writes
        type: io.kestra.plugin.core.storage.LocalFiles
        inputs:
          data/note.txt: "from {{ task.id }}"
      - id: collects
        type: io.kestra.plugin.core.storage.LocalFiles
        outputs:
          - data/*
      - id: reads
        type: io.kestra.plugin.core.log.Log
        message: "{{ outputs.collects.uris | keys }}"
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    let uri = r.task("collects")["outputs"]["uris"]["data/note.txt"]
        .as_str()
        .unwrap_or_else(|| panic!("no data/note.txt in\n{}", r.dump()))
        .to_string();
    assert!(
        uri.starts_with("file://") && uri.ends_with("/shared/data/note.txt"),
        "{uri}"
    );
    assert_eq!(r.logs("reads", '|'), vec![r#"["data/note.txt"]"#]);
}

/// A failing core task (a Fail) stops its list as a failing container task does: every task
/// of `errors`, of `finally` and of `afterExecution` still runs after it, in order. (They used
/// to stop after their first task, as if the Fail were an Exit.)
#[test]
fn every_handler_task_runs_after_a_failing_core_task() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "handlers",
        "handlers",
        r#"tasks:
  - id: seq
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: boom
        type: io.kestra.plugin.core.execution.Fail
        errorMessage: inner
    errors:
      - {id: le1, type: io.kestra.plugin.core.log.Log, message: le1}
      - {id: le2, type: io.kestra.plugin.core.log.Log, message: le2}
errors:
  - {id: e1, type: io.kestra.plugin.core.log.Log, message: e1}
  - {id: e2, type: io.kestra.plugin.core.log.Log, message: e2}
finally:
  - {id: f1, type: io.kestra.plugin.core.log.Log, message: f1}
  - {id: f2, type: io.kestra.plugin.core.log.Log, message: f2}
afterExecution:
  - {id: a1, type: io.kestra.plugin.core.log.Log, message: a1}
  - {id: a2, type: io.kestra.plugin.core.log.Log, message: a2}
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(1);
    assert_eq!(r.json["state"], "FAILED");
    let order: Vec<&str> = r
        .stderr
        .lines()
        .filter_map(|l| l.split_once(" | ").map(|(_, m)| m))
        .collect();
    assert_eq!(
        order,
        ["le1", "le2", "e1", "e2", "f1", "f2", "a1", "a2"],
        "{}",
        r.dump()
    );
}

/// Inside a ForEach, each run of an in-process task that stores a file (`storage.Write`) stores
/// it under its own run, so the values do not overwrite each other's files.
#[test]
fn each_foreach_run_of_a_storage_write_keeps_its_own_file() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "writes",
        "writes",
        r#"tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: [a, b, c]
    tasks:
      - id: w
        type: io.kestra.plugin.core.storage.Write
        content: "value {{ taskrun.value }}"
        extension: .txt
  - id: all
    type: io.kestra.plugin.core.log.Log
    message: "{{ read(outputs.w.a.uri) }}/{{ read(outputs.w.b.uri) }}/{{ read(outputs.w.c.uri) }}"
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    assert_eq!(
        r.logs("all", '|'),
        vec!["value a/value b/value c"],
        "{}",
        r.dump()
    );
}

/// `afterExecution` runs once the execution has ended and sees its final state, as Kestra's
/// documented notification pattern (`runIf: "{{ execution.state == 'FAILED' }}"`) needs; the
/// tasks and `finally` still see RUNNING; an afterExecution failure does not change the state.
#[test]
fn after_execution_sees_the_state_the_execution_ended_in() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "after",
        "after",
        r#"inputs:
  - id: fail
    type: BOOLEAN
    defaults: false
tasks:
  - id: during
    type: io.kestra.plugin.core.log.Log
    message: "during {{ execution.state }}"
  - id: maybe
    type: io.kestra.plugin.core.execution.Fail
    runIf: "{{ inputs.fail }}"
finally:
  - id: fin
    type: io.kestra.plugin.core.log.Log
    message: "finally {{ execution.state }}"
afterExecution:
  - id: on_success
    type: io.kestra.plugin.core.log.Log
    runIf: "{{ execution.state == 'SUCCESS' }}"
    message: "succeeded"
  - id: on_failure
    type: io.kestra.plugin.core.log.Log
    runIf: "{{ execution.state == 'FAILED' }}"
    message: "failed"
  - id: broken
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: "after {{ execution.state }}"
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    assert_eq!(r.json["state"], "SUCCESS", "{}", r.dump());
    assert_eq!(r.logs("during", '|'), vec!["during RUNNING"]);
    assert_eq!(r.logs("fin", '|'), vec!["finally RUNNING"]);
    assert_eq!(r.task("on_success")["state"], "SUCCESS");
    assert_eq!(r.logs("on_success", '|'), vec!["succeeded"]);
    assert_eq!(r.task("on_failure")["state"], "SKIPPED");
    assert_eq!(r.task("broken")["state"], "FAILED");
    assert_eq!(r.task("broken")["failure"]["message"], "after SUCCESS");
    let r = dh.run(&f, &["--input", "fail=true"]);
    r.assert_code(1);
    assert_eq!(r.json["state"], "FAILED");
    assert_eq!(r.task("on_success")["state"], "SKIPPED");
    assert_eq!(r.logs("on_failure", '|'), vec!["failed"]);
    assert_eq!(r.task("broken")["failure"]["message"], "after FAILED");
}

/// `errorLogs()` in an `errors` handler: the ERROR entries so far, as maps of Kestra's
/// `LogEntry` fields, from the kept log (so masked): a Log at ERROR and the failure of the task
/// that failed, not a WARN line nor an INFO one.
#[test]
fn error_logs_in_an_errors_handler_lists_the_error_entries() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "errlogs",
        "errlogs",
        r#"tasks:
  - id: note
    type: io.kestra.plugin.core.log.Log
    message: all fine
  - id: careful
    type: io.kestra.plugin.core.log.Log
    level: WARN
    message: only a warning
  - id: disk
    type: io.kestra.plugin.core.log.Log
    level: ERROR
    message: "disk {{ secret('PW') }} is full"
  - id: stop
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: "gave up on {{ flow.id }}"
errors:
  - id: report
    type: io.kestra.plugin.core.log.Log
    message:
      - "count {{ errorLogs() | length }}"
      - "{% for e in errorLogs() %}{{ e.taskId }}/{{ e.level }}: {{ e.message }};{% endfor %}"
      - "{{ errorLogs()[0].flowId }} {{ errorLogs()[0].namespace }} {{ errorLogs()[0].executionId == execution.id }}"
      - "{{ errorLogs()[1].taskRunId }} {{ errorLogs()[1].timestamp }}"
"#,
    );
    let before = chrono::Utc::now();
    // "hunter2", base64.
    let r = dh
        .spawn(&f, &[], &[("SECRET_PW", "aHVudGVyMg==")])
        .finish(Duration::from_secs(60));
    let after = chrono::Utc::now();
    r.assert_code(1);
    assert_eq!(r.task("report")["state"], "SUCCESS", "{}", r.dump());
    let mut lines = r.logs("report", '|');
    // The entry's time is when its line was kept, as Kestra's `Instant` prints (UTC, ms).
    let last = lines.pop().unwrap_or_default();
    let at = last
        .strip_prefix("stop ")
        .unwrap_or_else(|| panic!("{}", r.dump()));
    assert!(at.ends_with('Z'), "{at}");
    let at = chrono::DateTime::parse_from_rfc3339(at).unwrap();
    let ms = |t: chrono::DateTime<chrono::Utc>| t.timestamp_millis();
    assert!(
        (ms(before)..=ms(after)).contains(&at.timestamp_millis()),
        "{at} not in {before}..{after}"
    );
    assert_eq!(
        lines,
        vec![
            "count 2",
            "disk/ERROR: disk ****** is full;stop/ERROR: gave up on errlogs;",
            "errlogs dev.core true",
        ],
        "{}",
        r.dump()
    );
    assert!(!r.stderr.contains("hunter2"), "{}", r.dump());
    // The failure is kept with the execution's logs, as Kestra logs it at ERROR.
    let id = r.json["executionId"].as_str().unwrap();
    let kept = dh.dockhand(&["logs", id, "stop"]);
    kept.assert_code(0);
    assert_eq!(
        kept.stdout,
        "stop    # ERROR gave up on errlogs\n",
        "{}",
        kept.dump()
    );
}

#[test]
fn assert_logs_each_falsy_condition_and_fails_with_kestras_message() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "assert",
        "assert",
        r#"inputs:
  - id: param
    type: STRING
    defaults: ok
tasks:
  - id: good
    type: io.kestra.plugin.core.execution.Assert
    conditions:
      - "{{ inputs.param == 'ok' }}"
  - id: bad
    type: io.kestra.plugin.core.execution.Assert
    conditions:
      - "{{ inputs.param == 'ok' }}"
      - "{{ 1 + 1 == 3 }}"
      - "{{ 0 }}"
      # Kestra trims a rendered condition (TruthUtils): this one is false too.
      - "{{ false }} "
    errorMessage: "checks on {{ inputs.param }}"
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(1);
    assert_eq!(r.task("good")["state"], "SUCCESS");
    let t = r.task("bad");
    assert_eq!(t["state"], "FAILED");
    assert_eq!(
        t["failure"]["message"],
        "3 assertions failed!\nchecks on ok"
    );
    assert_eq!(
        r.logs("bad", '!'),
        vec![
            "ERROR Assertion `{{ 1 + 1 == 3 }}` failed!",
            "ERROR Assertion `{{ 0 }}` failed!",
            "ERROR Assertion `{{ false }} ` failed!"
        ]
    );
}

/// `--label KEY=VALUE` gives the execution labels as Kestra's execution creation does: over the
/// flow's of the same key, seen by `{{ labels.KEY }}`, in the result and in `executions`, and
/// kept by a resume.
#[test]
fn labels_given_on_the_command_line_are_the_executions() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "given",
        "given",
        r#"labels:
  team: data
  stage: draft
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "team {{ labels.team }} stage {{ labels.stage }} run {{ labels.run }}"
  - id: wait
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT3S
  - id: again
    type: io.kestra.plugin.core.log.Log
    message: "again {{ labels.stage }} {{ labels.run }}"
"#,
    );
    let (first, resumed) = dh.kill9_then_resume_with(
        &f,
        "lbl1",
        "Waiting for PT3S",
        &["--label", "stage=prod", "--label", "run=7"],
    );
    assert!(
        first.stderr.contains("| team data stage prod run 7"),
        "{}",
        first.dump()
    );
    assert_eq!(
        resumed.json["labels"],
        json!({"team": "data", "stage": "prod", "run": "7"}),
        "{}",
        resumed.dump()
    );
    assert!(
        resumed.stderr.contains("| again prod 7"),
        "{}",
        resumed.dump()
    );
    let listed = dh.dockhand(&["executions", "--json"]);
    listed.assert_code(0);
    assert!(
        listed.stdout.contains("\"run\":\"7\"") || listed.stdout.contains("\"run\": \"7\""),
        "{}",
        listed.dump()
    );
}

#[test]
fn labels_are_the_executions_in_the_result() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "labels",
        "labels",
        r#"labels:
  team: data
  stage: draft
tasks:
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: v2
  - id: map
    type: io.kestra.plugin.core.execution.Labels
    labels:
      stage: "{{ outputs.ret.value }}"
  - id: list
    type: io.kestra.core.tasks.executions.Labels
    labels:
      - key: owner
        value: "{{ flow.id }}"
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    assert_eq!(
        r.json["labels"],
        json!({"team": "data", "stage": "v2", "owner": "labels"})
    );
    let table = Spawned::start(
        &[
            "run".to_string(),
            f.display().to_string(),
            "--work-dir".into(),
            dh.tmp.path().join("work").display().to_string(),
        ],
        &dh.env(&[]),
    )
    .finish(Duration::from_secs(60));
    assert!(
        table
            .stderr
            .contains("labels owner=labels stage=v2 team=data"),
        "{}",
        table.dump()
    );
    // System labels are Kestra's own.
    let f = dh.flow_of(
        "system",
        "system",
            "tasks:\n  - id: l\n    type: io.kestra.plugin.core.execution.Labels\n    labels: {system.correlationId: x}\n",
    );
    let r = dh.run(&f, &[]);
    r.assert_code(1);
    assert!(
        r.task("l")["message"]
            .as_str()
            .unwrap()
            .contains("System labels can only be set by Kestra itself"),
        "{}",
        r.dump()
    );
}

#[test]
fn exit_ends_the_execution_in_its_state() {
    let dh = NoEngine::new();
    for (state, code, flow_state) in [
        ("SUCCESS", 0, "SUCCESS"),
        ("WARNING", 0, "WARNING"),
        ("FAILED", 1, "FAILED"),
        ("KILLED", 1, "KILLED"),
        ("CANCELED", 1, "KILLED"),
    ] {
        let f = dh.flow(
            "exit",
            &flow(
                "exit",
                &format!(
                    "tasks:\n  - id: before\n    type: io.kestra.plugin.core.log.Log\n    message: before\n  - id: exit\n    type: io.kestra.plugin.core.execution.Exit\n    state: {state}\n  - id: after\n    type: io.kestra.plugin.core.log.Log\n    message: after\n"
                ),
            ),
        );
        let r = dh.run(&f, &[]);
        r.assert_code(code);
        assert_eq!(r.json["state"], flow_state, "{state}\n{}", r.dump());
        assert_eq!(r.task("exit")["state"], flow_state, "{state}");
        assert_eq!(r.logs("before", '|'), vec!["before"]);
        assert!(!r.has_task("after"), "{state}: {}", r.dump());
        assert!(r.logs("after", '|').is_empty(), "{state}");
    }
}

#[test]
fn sleep_waits_and_ctrl_c_stops_it() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "nap",
        "nap",
        "tasks:\n  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT0.5S\n",
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    assert_eq!(r.logs("nap", '|'), vec!["Waiting for PT0.5S"]);
    let ms = r.task("nap")["durationMs"].as_u64().unwrap();
    assert!((500..3000).contains(&ms), "{ms} ms\n{}", r.dump());

    let f = dh.flow_of(
        "long",
        "long",
            "tasks:\n  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT1H\n  - id: after\n    type: io.kestra.plugin.core.log.Log\n    message: after\n",
    );
    let s = dh.spawn(&f, &[], &[]);
    assert!(
        s.wait_line(Duration::from_secs(30), |l| l.contains("Waiting for PT1H")),
        "{}",
        s.stderr_so_far()
    );
    s.signal(libc::SIGINT);
    let r = s.finish(Duration::from_secs(10));
    r.assert_code(130);
    assert_eq!(r.task("nap")["state"], "KILLED");
    assert!(!r.has_task("after"));
}

#[test]
fn a_timeout_ends_an_in_process_task_failed() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "timeout",
        "timeout",
            "tasks:\n  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT1H\n    timeout: PT0.3S\n",
    );
    let r = dh.run(&f, &[]);
    r.assert_code(1);
    let t = r.task("nap");
    assert_eq!(t["state"], "FAILED");
    assert_eq!(t["failure"], json!({"kind": "timeout", "afterMs": 300}));
    assert!(r.elapsed < Duration::from_secs(20));
}

#[test]
fn bad_properties_are_errors_at_their_line() {
    let dh = NoEngine::new();
    let f = dh.tmp.path().join("bad.yaml");
    std::fs::write(
        &f,
        flow(
            "bad",
            r#"tasks:
  - id: a
    type: io.kestra.plugin.core.log.Log
    level: LOUD
  - id: b
    type: io.kestra.plugin.core.flow.Sleep
    duration: soon
  - id: c
    type: io.kestra.plugin.core.debug.Return
    format: "{{ unclosed"
    colour: red
"#,
        ),
    )
    .unwrap();
    let r = dh.dockhand(&["validate", f.to_str().unwrap()]);
    r.assert_code(2);
    let file = f.display().to_string();
    for want in [
        format!("{file}:6:12"),
        "`LOUD` is not one of TRACE, DEBUG, INFO, WARN, ERROR".to_string(),
        "missing required property `message`".to_string(),
        format!("{file}:4:5: error: `tasks[0]`: missing required property `message`"),
        format!("{file}:9:15"),
        format!("{file}:12:5: error: `tasks[2].format`: unclosed expression"),
        "unknown property `colour`".to_string(),
    ] {
        assert!(r.stderr.contains(&want), "{want}\n{}", r.dump());
    }
}

#[test]
fn plan_shows_what_an_in_process_task_does() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "plan",
        "plan",
            "tasks:\n  - id: hi\n    type: io.kestra.plugin.core.log.Log\n    message: \"hi {{ flow.id }}\"\n    allowFailure: true\n",
    );
    let r = dh.dockhand(&["plan", f.to_str().unwrap(), "--execution-id", "e1"]);
    r.assert_code(0);
    assert!(
        r.stdout.contains(
            "## task hi (tasks[0], line 4)\n# in process, no container: log 1 line at INFO: \"hi {{ flow.id }}\"\n# allowFailure: a failure ends the task in WARNING\n"
        ),
        "{}",
        r.dump()
    );
}

/// `kill -9` during a Sleep: on resume the tasks that ended are not done again (no line twice,
/// outputs from the journal) and the rest runs once.
#[test]
fn kill9_then_resume_does_not_redo_finished_core_tasks() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "crash",
        "crash",
        r#"tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: first line
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "{{ execution.id }}"
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT2S
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: "after {{ outputs.ret.value }}"
"#,
    );
    let (first, r) = dh.kill9_then_resume(&f, "crash1", "Waiting for PT2S", Duration::ZERO);
    assert_eq!(first.logs("first", '|'), vec!["first line"]);
    assert!(r.logs("first", '|').is_empty(), "{}", r.dump());
    assert!(
        r.stderr
            .contains("first: SUCCESS (from the journal, not run again)"),
        "{}",
        r.dump()
    );
    assert_eq!(r.task("ret")["outputs"], json!({"value": "crash1"}));
    assert_eq!(r.logs("nap", '|'), vec!["Waiting for PT2S"]);
    assert_eq!(r.logs("after", '|'), vec!["after crash1"]);
}

#[test]
fn kv_tasks_and_the_kv_function_share_a_store_per_namespace() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "kv",
        "kv",
            r#"tasks:
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: greeting
    value: "hello {{ flow.id }}"
  - id: number
    type: io.kestra.plugin.core.kv.Set
    key: n
    value: "41"
    kvType: NUMBER
  - id: json
    type: io.kestra.plugin.core.kv.Set
    namespace: dev.other
    key: cfg
    value: '{"a": [1, 2]}'
    kvType: JSON
  - id: get
    type: io.kestra.plugin.core.kv.Get
    key: greeting
  - id: absent
    type: io.kestra.plugin.core.kv.Get
    key: nothing
  - id: use
    type: io.kestra.plugin.core.log.Log
    message: "{{ outputs.get.value }} {{ kv('n') + 1 }} {{ kv('cfg', 'dev.other').a[1] }} {{ kv('nothing', errorOnMissing=false) ?? 'none' }}"
  - id: keys
    type: io.kestra.plugin.core.kv.GetKeys
  - id: prefixed
    type: io.kestra.plugin.core.kv.GetKeys
    prefix: gr
  - id: del
    type: io.kestra.plugin.core.kv.Delete
    key: greeting
  - id: again
    type: io.kestra.plugin.core.kv.Delete
    key: greeting
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    assert_eq!(r.task("get")["outputs"], json!({"value": "hello kv"}));
    assert_eq!(r.task("absent")["outputs"], json!({"value": null}));
    assert_eq!(
        r.logs("use", '|'),
        vec!["hello kv 42 2 none"],
        "{}",
        r.dump()
    );
    assert_eq!(
        r.task("keys")["outputs"],
        json!({"keys": ["greeting", "n"]})
    );
    assert_eq!(r.task("prefixed")["outputs"], json!({"keys": ["greeting"]}));
    assert_eq!(r.task("del")["outputs"], json!({"deleted": true}));
    assert_eq!(r.task("again")["outputs"], json!({"deleted": false}));
    // One file per key, per namespace, under the state directory; the value survives the run.
    let kv = dh.tmp.path().join("state/kv");
    let stored: Value =
        serde_json::from_slice(&std::fs::read(kv.join("dev.other/cfg")).unwrap()).unwrap();
    assert_eq!(stored["value"], json!({"a": [1, 2]}));
    assert!(!kv.join("dev.core/greeting").exists());
    assert!(kv.join("dev.core/n").exists());

    // A later execution reads what an earlier one stored; overwrite: false and errorOnMissing
    // fail with Kestra's words; a key outside Kestra's rule is refused.
    let f = dh.flow_of(
        "kv2",
        "kv",
        r#"tasks:
  - id: keep
    type: io.kestra.plugin.core.kv.Set
    key: n
    value: "0"
    overwrite: false
    allowFailure: true
  - id: must
    type: io.kestra.plugin.core.kv.Get
    key: greeting
    errorOnMissing: true
    allowFailure: true
  - id: bad-key
    type: io.kestra.plugin.core.kv.Set
    key: "../{{ flow.id }}"
    value: x
    allowFailure: true
  - id: read
    type: io.kestra.plugin.core.log.Log
    message: "n is {{ kv('n') }}"
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    assert_eq!(
        r.task("keep")["failure"]["message"],
        "Cannot set value for key 'n'. Key already exists and `overwrite` is set to `false`."
    );
    assert_eq!(
        r.task("must")["failure"]["message"],
        "No value found for key 'greeting' in namespace 'dev.core' and `errorOnMissing` is set to true"
    );
    assert!(
        r.task("bad-key")["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid KV key `../kv`"),
        "{}",
        r.dump()
    );
    assert_eq!(r.logs("read", '|'), vec!["n is 41"]);
    assert!(!dh.tmp.path().join("state/kv/kv").exists());
}

#[test]
fn a_kv_ttl_expires_the_entry() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "ttl",
        "ttl",
        r#"tasks:
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: brief
    value: x
    ttl: PT0.2S
  - id: wait
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.4S
  - id: keys
    type: io.kestra.plugin.core.kv.GetKeys
  - id: get
    type: io.kestra.plugin.core.kv.Get
    key: brief
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(1);
    assert_eq!(r.task("keys")["outputs"], json!({"keys": []}));
    assert_eq!(
        r.task("get")["failure"]["message"],
        "The requested value has expired"
    );
}

#[test]
fn plan_shows_kv_reads_as_a_stand_in() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "plankv",
        "plankv",
            &format!(
                "tasks:\n  - id: s\n    type: io.kestra.plugin.scripts.shell.Commands\n    containerImage: {IMAGE}\n    commands: [\"echo {{{{ kv('token') }}}}\"]\n"
            ),
    );
    let r = dh.dockhand(&["plan", f.to_str().unwrap(), "--execution-id", "e1"]);
    r.assert_code(0);
    assert!(r.stdout.contains("echo <kv token>"), "{}", r.dump());
}

/// A small HTTP/1.1 server on 127.0.0.1 for the http tasks: one thread per connection,
/// `Connection: close`. Routes: `/hello` (200, header `x-test`), `/echo` (the request's method,
/// content type, authorization and body back), `/missing` (404), `/data.csv` (a file),
/// `/named` (Content-Disposition), `/empty`, `/slow` (answers after 3 s), `/redirect` (302 to
/// `/hello`), `/per/V/data.csv` (`data of V`).
fn http_server() -> u16 {
    use std::io::{BufRead, BufReader, Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut r = BufReader::new(conn.try_clone().unwrap());
                let mut first = String::new();
                if r.read_line(&mut first).is_err() {
                    return;
                }
                let mut head: Vec<(String, String)> = Vec::new();
                loop {
                    let mut l = String::new();
                    if r.read_line(&mut l).unwrap_or(0) == 0 || l == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = l.trim_end().split_once(':') {
                        head.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                    }
                }
                let get = |k: &str| {
                    head.iter()
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                let len: usize = get("content-length").parse().unwrap_or(0);
                let mut body = vec![0; len];
                let _ = r.read_exact(&mut body);
                let mut parts = first.split_whitespace();
                let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                let (status, extra, text): (&str, String, String) = match path {
                    "/hello" => ("200 OK", "x-test: yes\r\n".into(), "hi there".into()),
                    "/echo" => (
                        "200 OK",
                        String::new(),
                        format!(
                            "{method} {} {} {}",
                            get("content-type"),
                            get("authorization"),
                            String::from_utf8_lossy(&body)
                        ),
                    ),
                    "/missing" => ("404 Not Found", String::new(), "no such thing".into()),
                    "/data.csv" => ("200 OK", String::new(), "a,b\n1,2\n".into()),
                    "/named" => (
                        "200 OK",
                        "content-disposition: attachment; filename=\"report.txt\"\r\n".into(),
                        "report".into(),
                    ),
                    "/empty" => ("200 OK", String::new(), String::new()),
                    "/slow" => {
                        std::thread::sleep(Duration::from_secs(3));
                        ("200 OK", String::new(), "late".into())
                    }
                    "/redirect" => ("302 Found", "location: /hello\r\n".into(), String::new()),
                    // `/per/V/data.csv`: a file of the same name whose content says V.
                    p if p.starts_with("/per/") => {
                        let v = p["/per/".len()..].split('/').next().unwrap_or("");
                        ("200 OK", String::new(), format!("data of {v}\n"))
                    }
                    _ => ("500 Internal Server Error", String::new(), String::new()),
                };
                let mut w = conn;
                let _ = write!(
                    w,
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{text}",
                    text.len()
                );
            });
        }
    });
    port
}

/// A [`NoEngine`] with [`http_server`] running, and flow `name` (its id too) whose text after
/// the header `body` writes with the server's base URL.
fn http_flow(name: &str, body: impl FnOnce(&str) -> String) -> (NoEngine, PathBuf) {
    let port = http_server();
    let dh = NoEngine::new();
    let f = dh.flow_of(name, name, &body(&format!("http://127.0.0.1:{port}")));
    (dh, f)
}

#[test]
fn http_request_outputs_code_headers_and_body_and_fails_on_4xx() {
    let port = http_server();
    let dh = NoEngine::new();
    let base = format!("http://127.0.0.1:{port}");
    let f = dh.flow_of(
        "http",
        "http",
        &format!(
            r#"tasks:
  - id: hello
    type: io.kestra.plugin.core.http.Request
    uri: {base}/hello
  - id: post
    type: io.kestra.plugin.fs.http.Request
    uri: "{base}/echo"
    method: POST
    body: '{{"from": "{{{{ outputs.hello.body }}}}"}}'
    options:
      basicAuthUser: ada
      basicAuthPassword: s3cret
  - id: form
    type: io.kestra.plugin.core.http.Request
    uri: "{base}/echo"
    method: PUT
    formData:
      a: "{{{{ flow.id }}}}"
      b: "x y"
  - id: redirected
    type: io.kestra.plugin.core.http.Request
    uri: "{base}/redirect"
  - id: not-followed
    type: io.kestra.plugin.core.http.Request
    uri: "{base}/redirect"
    options:
      followRedirects: false
  - id: tolerated
    type: io.kestra.plugin.core.http.Request
    uri: "{base}/missing"
    allowFailed: true
  - id: missing
    type: io.kestra.plugin.core.http.Request
    uri: "{base}/missing"
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: never
"#
        ),
    );
    let r = dh.run(&f, &[]);
    r.assert_code(1);
    let t = r.task("hello");
    assert_eq!(t["state"], "SUCCESS", "{}", r.dump());
    assert_eq!(t["outputs"]["code"], 200);
    assert_eq!(t["outputs"]["body"], "hi there");
    assert_eq!(t["outputs"]["headers"]["x-test"], json!(["yes"]));
    assert_eq!(t["outputs"]["uri"], format!("{base}/hello"));
    // base64("ada:s3cret")
    assert_eq!(
        r.task("post")["outputs"]["body"],
        "POST application/json Basic YWRhOnMzY3JldA== {\"from\": \"hi there\"}"
    );
    assert_eq!(
        r.task("form")["outputs"]["body"],
        "PUT application/x-www-form-urlencoded  a=http&b=x+y"
    );
    assert_eq!(r.task("redirected")["outputs"]["body"], "hi there");
    assert_eq!(r.task("not-followed")["outputs"]["code"], 302);
    let t = r.task("tolerated");
    assert_eq!(t["state"], "SUCCESS");
    assert_eq!(t["outputs"]["code"], 404);
    assert_eq!(t["outputs"]["body"], "no such thing");
    let t = r.task("missing");
    assert_eq!(t["state"], "FAILED");
    assert_eq!(
        t["failure"],
        json!({"kind": "task", "message": "HTTP request failed with response code 404 (Not Found)"})
    );
    assert!(!r.has_task("after"));
}

#[test]
fn http_timeouts_and_unreachable_servers_fail_the_task() {
    let port = http_server();
    // A port nothing listens on: bound, then closed.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "slow",
        "slow",
        &format!(
            r#"tasks:
  - id: slow
    type: io.kestra.plugin.core.http.Request
    uri: http://127.0.0.1:{port}/slow
    options:
      readTimeout: PT0.5S
    allowFailure: true
  - id: refused
    type: io.kestra.plugin.core.http.Request
    uri: http://127.0.0.1:{closed}/x
    allowFailure: true
  - id: scheme
    type: io.kestra.plugin.core.http.Request
    uri: ftp://127.0.0.1/x
    allowFailure: true
"#
        ),
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    for (t, words) in [
        ("slow", "timed out"),
        ("refused", "Connection refused"),
        ("scheme", "only http and https are supported"),
    ] {
        let t = r.task(t);
        assert_eq!(t["state"], "WARNING", "{}", r.dump());
        let m = t["failure"]["message"].as_str().unwrap();
        assert!(m.contains(words), "{m}");
    }
    assert!(r.task("slow")["durationMs"].as_u64().unwrap() < 2500);
}

#[test]
fn http_download_stores_the_body_as_a_file_of_the_execution() {
    let port = http_server();
    let dh = NoEngine::new();
    let base = format!("http://127.0.0.1:{port}");
    let f = dh.flow_of(
        "dl",
        "dl",
        &format!(
            r#"tasks:
  - id: csv
    type: io.kestra.plugin.core.http.Download
    uri: {base}/data.csv
  - id: use
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    inputFiles:
      data.csv: "{{{{ outputs.csv.uri }}}}"
    commands:
      - while read -r l; do echo "$l"; done < data.csv
  - id: named
    type: io.kestra.plugin.fs.http.Download
    uri: {base}/named
  - id: empty-ok
    type: io.kestra.plugin.core.http.Download
    uri: {base}/empty
    failOnEmptyResponse: false
  - id: empty
    type: io.kestra.plugin.core.http.Download
    uri: {base}/empty
"#
        ),
    );
    let r = dh.run(&f, &["--execution-id", "dl1"]);
    r.assert_code(1);
    let work = dh.tmp.path().join("work/dl1");
    let t = r.task("csv");
    assert_eq!(t["outputs"]["code"], 200, "{}", r.dump());
    assert_eq!(t["outputs"]["length"], 8);
    let file = work.join("csv/data.csv");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "a,b\n1,2\n");
    // The file is in the local internal storage, and `uri` is its kestra:// URI, as Kestra's.
    let uri = "kestra:///dev/core/dl/executions/dl1/tasks/csv/1/data.csv";
    assert_eq!(t["outputs"]["uri"], uri, "{}", r.dump());
    assert_eq!(t["storedFiles"][0]["uri"], uri, "{}", r.dump());
    let stored = t["storedFiles"][0]["path"].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(stored).unwrap(), "a,b\n1,2\n");
    // A later task reads it as an input file by that URI.
    assert_eq!(r.logs("use", '|'), vec!["a,b", "1,2"], "{}", r.dump());
    assert_eq!(
        std::fs::read_to_string(work.join("named/report.txt")).unwrap(),
        "report"
    );
    let t = r.task("empty-ok");
    assert_eq!(t["state"], "SUCCESS");
    assert_eq!(t["outputs"]["length"], 0);
    assert_eq!(t["message"], format!("File '{base}/empty' is empty"));
    assert_eq!(r.task("empty")["state"], "FAILED");
}

/// Inside a ForEach, each run of an in-process task that writes files (http Download, the old
/// `fs.http.Download`, LocalFiles) has its own working directory (`dl.1`, as a container
/// task's) and its own storage URI, so the values' files of the same name do not overwrite
/// each other; after `kill -9` and `resume` the runs taken from the journal keep their URIs.
#[test]
fn each_foreach_run_of_a_file_task_has_its_own_files_through_resume() {
    let (dh, f) = http_flow("perrun", |base| {
        format!(
            r#"tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: [a, b, c]
    tasks:
      - id: dl
        type: io.kestra.plugin.core.http.Download
        uri: "{base}/per/{{{{ taskrun.value }}}}/data.csv"
      - id: legacy
        type: io.kestra.plugin.fs.http.Download
        uri: "{base}/per/{{{{ taskrun.value }}}}/data.csv"
      - id: local
        type: io.kestra.core.tasks.storages.LocalFiles
        inputs:
          out.txt: "local {{{{ taskrun.value }}}}"
        outputs: ["*.txt"]
      - id: sh
        type: io.kestra.plugin.scripts.shell.Commands
        taskRunner:
          type: io.kestra.plugin.core.runner.Process
        outputFiles: ["out.txt"]
        commands:
          - echo "sh {{{{ taskrun.value }}}}" > out.txt
      - id: nap
        type: io.kestra.plugin.core.flow.Sleep
        duration: PT1S
  - id: use
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    inputFiles:
      a.csv: "{{{{ outputs.dl['a'].uri }}}}"
      b.csv: "{{{{ outputs.legacy['b'].uri }}}}"
      c.csv: "{{{{ outputs.dl['c'].uri }}}}"
    commands:
      - for f in a.csv b.csv c.csv; do while read -r l; do echo "$l"; done < $f; done
"#
        )
    });
    let first = dh.killed_at(&f, "perrun1", "nap.1  | Waiting");
    assert!(!first.stderr.contains("dl[c]"), "{}", first.dump());
    let r = dh.dockhand(&["resume", "perrun1", "--json"]);
    r.assert_code(0);
    assert!(
        r.stderr
            .contains("dl[a]: SUCCESS (from the journal, not run again)"),
        "{}",
        r.dump()
    );
    let work = dh.tmp.path().join("work/perrun1");
    let storage = dh
        .tmp
        .path()
        .join("state/storage/dev/core/perrun/executions/perrun1/tasks");
    for task in ["dl", "legacy"] {
        let runs = runs_of(&r, task);
        assert_eq!(runs.len(), 3, "{}", r.dump());
        for (n, (values, state, outputs)) in runs.iter().enumerate() {
            let v = &values[0];
            assert_eq!(state, "SUCCESS");
            let uri =
                format!("kestra:///dev/core/perrun/executions/perrun1/tasks/{task}.{n}/1/data.csv");
            assert_eq!(outputs["uri"], uri.as_str(), "{}", r.dump());
            let want = format!("data of {v}\n");
            let stored = storage.join(format!("{task}.{n}/1/data.csv"));
            assert_eq!(
                std::fs::read_to_string(&stored).unwrap(),
                want,
                "{task}[{v}]"
            );
            let local = work.join(format!("{task}.{n}/data.csv"));
            assert_eq!(
                std::fs::read_to_string(&local).unwrap(),
                want,
                "{task}[{v}]"
            );
        }
    }
    for (n, (values, _, outputs)) in runs_of(&r, "local").iter().enumerate() {
        let file = work.join(format!("local.{n}/out.txt"));
        assert_eq!(
            outputs["uris"]["out.txt"],
            format!("file://{}", file.display()).as_str(),
            "{}",
            r.dump()
        );
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            format!("local {}", values[0])
        );
    }
    // A container task's output files too (here a Process task's): each run's are stored
    // under its own URI (they were not stored at all before, outside `sh`'s directory).
    let sh: Vec<Value> = r.tasks().into_iter().filter(|t| t["id"] == "sh").collect();
    assert_eq!(sh.len(), 3, "{}", r.dump());
    for (n, t) in sh.iter().enumerate() {
        let f = &t["storedFiles"][0];
        let uri = format!("kestra:///dev/core/perrun/executions/perrun1/tasks/sh.{n}/1/out.txt");
        assert_eq!(f["uri"], uri.as_str(), "{}", r.dump());
        let text = std::fs::read_to_string(f["path"].as_str().unwrap()).unwrap();
        assert_eq!(text, format!("sh {}\n", t["values"][0].as_str().unwrap()));
    }
    // A later task reads each value's download by its URI.
    assert_eq!(
        r.logs("use", '|'),
        vec!["data of a", "data of b", "data of c"],
        "{}",
        r.dump()
    );
}

#[test]
fn local_files_and_purging_the_executions_files() {
    let port = http_server();
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "files",
        "files",
        &format!(
            r#"tasks:
  - id: nothing
    type: io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles
  - id: local
    type: io.kestra.core.tasks.storages.LocalFiles
    inputs:
      data/a.txt: "a from {{{{ flow.id }}}}"
      b.csv: "1,2"
      scratch.tmp: gone
    outputs: ["data/*.txt", "*.csv"]
  - id: dl
    type: io.kestra.plugin.core.http.Download
    uri: http://127.0.0.1:{port}/data.csv
  - id: purge
    type: io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles
"#
        ),
    );
    let r = dh.run(&f, &["--execution-id", "files1"]);
    r.assert_code(0);
    let work = dh.tmp.path().join("work/files1");
    assert_eq!(
        r.logs("nothing", '|'),
        vec!["No file to purge: execution files1 has stored none"]
    );
    assert_eq!(r.task("nothing")["outputs"], json!({"uris": []}));
    let a = work.join("local/data/a.txt");
    let b = work.join("local/b.csv");
    assert_eq!(
        r.task("local")["outputs"],
        json!({"uris": {"data/a.txt": format!("file://{}", a.display()), "b.csv": format!("file://{}", b.display())}})
    );
    // Purged: the local files and the download, listed.
    let dl = work.join("dl/data.csv");
    let mut uris: Vec<String> = r.task("purge")["outputs"]["uris"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().to_string())
        .collect();
    uris.sort();
    let mut want: Vec<String> = [&dl, &b, &a]
        .iter()
        .map(|p| format!("file://{}", p.display()))
        .collect();
    want.sort();
    assert_eq!(uris, want, "{}", r.dump());
    assert_eq!(
        r.logs("purge", '|'),
        vec!["Purged 3 file(s) of execution files1"]
    );
    assert!(!a.exists() && !b.exists() && !dl.exists());
    assert!(!work.join("local/scratch.tmp").exists());
}

#[test]
fn echo_logs_its_format_at_its_level_with_a_deprecation_warning() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "echo",
        "echo",
        r#"tasks:
  - id: plain
    type: io.kestra.plugin.core.debug.Echo
    format: "{{ task.id }} of {{ flow.id }}"
  - id: warn
    type: io.kestra.core.tasks.debugs.Echo
    level: WARN
    format: careful
"#,
    );
    let v = dh.validate(&f, 0, &[]);
    assert_eq!(
        v.stderr
            .matches("`io.kestra.plugin.core.debug.Echo` is deprecated in Kestra; write `type: io.kestra.plugin.core.log.Log`")
            .count(),
        2,
        "{}",
        v.dump()
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    assert_eq!(r.logs("plain", '|'), vec!["plain of echo"]);
    assert_eq!(r.logs("warn", '!'), vec!["WARN careful"], "{}", r.dump());
    assert_eq!(r.task("plain")["outputs"], json!({}));
}

#[test]
fn write_stores_its_content_under_a_kestra_uri_that_read_gives_back() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "write",
        "write",
        r#"tasks:
  - id: w
    type: io.kestra.plugin.core.storage.Write
    content: "hello {{ flow.id }}"
    extension: json
  - id: plain
    type: io.kestra.plugin.core.storage.Write
    content: x
  - id: back
    type: io.kestra.plugin.core.log.Log
    message: "read {{ read(outputs.w.uri) }} from {{ outputs.w.uri }}"
"#,
    );
    let r = dh.run(&f, &["--execution-id", "write1"]);
    r.assert_code(0);
    let uri = "kestra:///dev/core/write/executions/write1/tasks/w/1/w.json";
    assert_eq!(
        r.task("w")["outputs"],
        json!({ "uri": uri }),
        "{}",
        r.dump()
    );
    assert_eq!(
        r.task("plain")["outputs"]["uri"],
        "kestra:///dev/core/write/executions/write1/tasks/plain/1/plain.tmp"
    );
    assert_eq!(
        r.logs("back", '|'),
        vec![format!("read hello write from {uri}")]
    );
    // The file itself, under the state directory's storage.
    let stored = dh
        .tmp
        .path()
        .join("state/storage/dev/core/write/executions/write1/tasks/w/1/w.json");
    assert_eq!(std::fs::read_to_string(&stored).unwrap(), "hello write");
}

#[test]
fn storage_size_concat_reverse_and_delete_work_on_stored_files() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "files2",
        "files2",
        r#"tasks:
  - id: a
    type: io.kestra.plugin.core.storage.Write
    content: "1\n2\n3\n"
    extension: .csv
  - id: b
    type: io.kestra.plugin.core.storage.Write
    content: "4\n"
  - id: size
    type: io.kestra.plugin.core.storage.Size
    uri: "{{ outputs.a.uri }}"
  - id: both
    type: io.kestra.plugin.core.storage.Concat
    files: ["{{ outputs.a.uri }}", "{{ outputs.b.uri }}"]
    separator: "--\n"
    extension: .txt
  - id: json
    type: io.kestra.core.tasks.storages.Concat
    files: '["{{ outputs.b.uri }}", "{{ outputs.b.uri }}"]'
  - id: rev
    type: io.kestra.plugin.core.storage.Reverse
    from: "{{ outputs.a.uri }}"
    separator: ";"
  - id: show
    type: io.kestra.plugin.core.log.Log
    message:
      - "{{ read(outputs.both.uri) | replace({'\n': '/'}) }}"
      - "{{ read(outputs.json.uri) | replace({'\n': '/'}) }}"
      - "{{ read(outputs.rev.uri) }} {{ outputs.size.size }}"
  - id: del
    type: io.kestra.plugin.core.storage.Delete
    uri: "{{ outputs.a.uri }}"
  - id: again
    type: io.kestra.plugin.core.storage.Delete
    uri: "{{ outputs.a.uri }}"
  - id: strict
    type: io.kestra.plugin.core.storage.Delete
    uri: "{{ outputs.a.uri }}"
    errorOnMissing: true
"#,
    );
    let r = dh.run(&f, &["--execution-id", "st1"]);
    r.assert_code(1);
    assert_eq!(
        r.task("size")["outputs"],
        json!({"size": 6}),
        "{}",
        r.dump()
    );
    let base = "kestra:///dev/core/files2/executions/st1/tasks";
    assert_eq!(
        r.task("both")["outputs"]["uri"],
        format!("{base}/both/1/both.txt")
    );
    assert_eq!(
        r.task("rev")["outputs"]["uri"],
        format!("{base}/rev/1/rev.csv")
    );
    assert_eq!(
        r.logs("show", '|'),
        vec!["1/2/3/--/4/--/", "4/4/", "3;2;1; 6"],
        "{}",
        r.dump()
    );
    let a = format!("{base}/a/1/a.csv");
    assert_eq!(r.task("del")["outputs"], json!({"uri": a, "deleted": true}));
    assert_eq!(
        r.task("again")["outputs"],
        json!({"uri": a, "deleted": false})
    );
    assert_eq!(r.task("strict")["state"], "FAILED");
    assert_eq!(
        r.task("strict")["message"],
        format!("Unable to find file '{a}'")
    );
}

/// The rows of a stored `log.Fetch` file, each parsed (JSON objects a line, which is ION),
/// each row's `timestamp` (when the line was kept, as Kestra's `Instant` prints: UTC to the
/// millisecond, within the last minute) checked and taken out.
fn fetched_rows(dh: &NoEngine, uri: &Value) -> Vec<Value> {
    let rel = uri.as_str().unwrap().strip_prefix("kestra:///").unwrap();
    let text = std::fs::read_to_string(dh.tmp.path().join("state/storage").join(rel)).unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    text.lines()
        .map(|l| {
            let mut row: Value = serde_json::from_str(l).unwrap();
            let at = row.as_object_mut().unwrap().remove("timestamp");
            let at = at
                .as_ref()
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{l}"));
            let t = chrono::DateTime::parse_from_rfc3339(at).unwrap();
            assert!(at.ends_with('Z') && (now - 60_000..=now).contains(&t.timestamp_millis()));
            row
        })
        .collect()
}

#[test]
fn log_fetch_stores_the_kept_lines_at_or_above_a_level() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "fetch",
        "fetch",
        r#"tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: Hello World
  - id: error_message
    type: io.kestra.plugin.core.log.Log
    level: ERROR
    message: This is an error message
  - id: quiet
    type: io.kestra.plugin.core.log.Log
    level: DEBUG
    message: [one, two]
  - id: all
    type: io.kestra.plugin.core.log.Fetch
  - id: errors
    type: io.kestra.plugin.core.log.Fetch
    executionId: "{{ execution.id }}"
    level: ERROR
  - id: some
    type: io.kestra.core.tasks.log.Fetch
    level: DEBUG
    tasksId: [quiet, hello]
"#,
    );
    let r = dh.run(&f, &["--execution-id", "fetch1"]);
    r.assert_code(0);
    let row = |task: &str, level: &str, message: &str| {
        json!({"namespace": "dev.core", "flowId": "fetch", "executionId": "fetch1",
               "taskId": task, "taskRunId": task, "level": level, "message": message})
    };
    let all = &r.task("all")["outputs"];
    assert_eq!(
        all["uri"],
        "kestra:///dev/core/fetch/executions/fetch1/tasks/all/1/all.ion",
        "{}",
        r.dump()
    );
    assert_eq!(all["size"], 2);
    assert_eq!(
        fetched_rows(&dh, &all["uri"]),
        vec![
            row("hello", "INFO", "Hello World"),
            row("error_message", "ERROR", "This is an error message")
        ]
    );
    let errors = &r.task("errors")["outputs"];
    assert_eq!(errors["size"], 1);
    assert_eq!(
        fetched_rows(&dh, &errors["uri"]),
        vec![row("error_message", "ERROR", "This is an error message")]
    );
    // `tasksId` in its order, each task's lines in theirs.
    let some = &r.task("some")["outputs"];
    assert_eq!(some["size"], 3);
    assert_eq!(
        fetched_rows(&dh, &some["uri"]),
        vec![
            row("quiet", "DEBUG", "one"),
            row("quiet", "DEBUG", "two"),
            row("hello", "INFO", "Hello World")
        ]
    );

    // Another execution's kept logs, by id; an unknown id fails the task.
    let g = dh.flow_of(
        "fetch2",
        "fetch2",
        r#"tasks:
  - id: other
    type: io.kestra.plugin.core.log.Fetch
    executionId: fetch1
    level: WARN
  - id: missing
    type: io.kestra.plugin.core.log.Fetch
    executionId: nosuch
"#,
    );
    let r2 = dh.run(&g, &["--execution-id", "fetch2"]);
    r2.assert_code(1);
    let other = &r2.task("other")["outputs"];
    assert_eq!(other["size"], 1, "{}", r2.dump());
    assert_eq!(
        fetched_rows(&dh, &other["uri"]),
        vec![json!({"executionId": "fetch1", "taskId": "error_message",
                    "taskRunId": "error_message", "level": "ERROR",
                    "message": "This is an error message"})]
    );
    assert_eq!(r2.task("missing")["state"], "FAILED");
    assert!(
        r2.task("missing")["message"]
            .as_str()
            .unwrap()
            .contains("no execution \"nosuch\""),
        "{}",
        r2.dump()
    );
}

// A flow's `sla` is accepted with one warning naming what is not checked (the run goes on as
// if there were none).
#[test]
fn a_flow_sla_is_a_warning_naming_what_is_not_checked() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "sla",
        "sla",
        r#"sla:
  - id: slow
    type: MAX_DURATION
    duration: PT110S
    behavior: FAIL
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hi
"#,
    );
    dh.validate(&f, 0, &["sla", "MAX_DURATION `duration`", "not checked"]);
    dh.run(&f, &["--execution-id", "sla1"]).assert_code(0);
}

#[test]
fn split_cuts_a_stored_file_into_stored_files() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "split",
        "split",
        r#"tasks:
  - id: data
    type: io.kestra.plugin.core.storage.Write
    content: "a\nb\nc\n"
    extension: csv
  - id: rows
    type: io.kestra.plugin.core.storage.Split
    from: "{{ outputs.data.uri }}"
    rows: 2
  - id: parts
    type: io.kestra.core.tasks.storages.Split
    from: "{{ outputs.data.uri }}"
    partitions: "{{ 1 + 1 }}"
    separator: ";"
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "{% for u in outputs.rows.uris %}[{{ read(u) | trim }}]{% endfor %} {% for u in outputs.parts.uris %}[{{ read(u) }}]{% endfor %}"
"#,
    );
    dh.validate(&f, 0, &[]);
    let r = dh.run(&f, &["--execution-id", "sp1"]);
    r.assert_code(0);
    let base = "kestra:///dev/core/split/executions/sp1/tasks/rows/1";
    assert_eq!(
        r.task("rows")["outputs"],
        json!({"uris": [format!("{base}/rows_0.csv"), format!("{base}/rows_1.csv")]}),
        "{}",
        r.dump()
    );
    assert_eq!(
        r.logs("show", '|'),
        vec!["[a", "b][c] [a;c;][b;]"],
        "{}",
        r.dump()
    );
    // Without a way to split: an error at validate.
    let bad = dh.flow_of(
        "split-bad",
        "split-bad",
        "tasks:\n  - id: s\n    type: io.kestra.plugin.core.storage.Split\n    from: kestra:///x/y.csv\n",
    );
    dh.validate(&bad, 2, &["a Split needs `bytes`, `partitions` or `rows`"]);
}

#[test]
fn pause_tasks_run_once_the_pause_ends_and_after_a_resume() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "pause-tasks",
        "pause-tasks",
        r#"tasks:
  - id: before
    type: io.kestra.plugin.core.log.Log
    message: before
  - id: pause
    type: io.kestra.plugin.core.flow.Pause
    delay: PT0.2S
    tasks:
      - id: sub1
        type: io.kestra.plugin.core.log.Log
        message: sub1 ran
      - id: sub2
        type: io.kestra.plugin.core.debug.Return
        format: two
  - id: last
    type: io.kestra.plugin.core.log.Log
    message: "last {{ outputs.sub2.value }}"
"#,
    );
    dh.validate(
        &f,
        0,
        &["`tasks[1].tasks`: a Pause's `tasks` are deprecated in Kestra"],
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    assert_eq!(r.logs("sub1", '|'), vec!["sub1 ran"]);
    assert_eq!(r.logs("last", '|'), vec!["last two"]);
    // In order: the pause's wait, then its tasks, then the next task.
    let at = |needle: &str| {
        r.stderr
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} missing\n{}", r.dump()))
    };
    assert!(at("pause: pausing") < at("| sub1 ran") && at("| sub1 ran") < at("| last two"));
    for t in ["pause", "sub1", "sub2", "last"] {
        assert_eq!(r.task(t)["state"], "SUCCESS", "{t}");
    }

    // Without a delay: the run stops PAUSED before the tasks; `resume` runs them, once.
    let f = dh.flow_of(
        "pause-manual",
        "pause-manual",
        r#"tasks:
  - id: pause
    type: io.kestra.plugin.core.flow.Pause
    tasks:
      - id: sub
        type: io.kestra.plugin.core.log.Log
        message: resumed sub
  - id: last
    type: io.kestra.plugin.core.log.Log
    message: last
"#,
    );
    let r = dh.run(&f, &["--execution-id", "pm1"]);
    r.assert_code(4);
    assert!(r.logs("sub", '|').is_empty(), "{}", r.dump());
    let r = dh.dockhand(&["resume", "pm1", "--json"]);
    r.assert_code(0);
    assert_eq!(r.logs("sub", '|'), vec!["resumed sub"], "{}", r.dump());
    assert_eq!(r.logs("last", '|'), vec!["last"]);
}

#[test]
fn kill9_in_a_pause_delay_then_resume_runs_its_tasks_once() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "pause-crash",
        "pause-crash",
        r#"tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: first line
  - id: pause
    type: io.kestra.plugin.core.flow.Pause
    delay: PT3S
    tasks:
      - id: sub
        type: io.kestra.plugin.core.log.Log
        message: sub line
"#,
    );
    // Killed well into the delay (its start is journaled with whole seconds).
    let (first, r) = dh.kill9_then_resume(&f, "pc1", "pause: pausing", Duration::from_millis(1500));
    assert!(first.logs("sub", '|').is_empty(), "{}", first.dump());
    assert!(r.logs("first", '|').is_empty(), "{}", r.dump());
    assert_eq!(r.logs("sub", '|'), vec!["sub line"], "{}", r.dump());
    // The wait goes on where it was, not from the start.
    assert!(r.elapsed < Duration::from_millis(2900), "{}", r.dump());
}

#[test]
fn variables_of_any_yaml_type_keep_their_type() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "vars",
        "vars",
        r#"variables:
  n: 3
  on: true
  list: [a, b]
  map: {k: v, inner: [1, 2]}
  text: "{{ flow.id }}"
tasks:
  - id: show
    type: io.kestra.plugin.core.log.Log
    message:
      - "{{ vars.n + 1 }} {{ vars.on ? 'yes' : 'no' }} {{ vars.list[1] }} {{ vars.list | length }} {{ vars.map.k }} {{ vars.map.inner | last }}"
      - "{{ vars.text }} / {{ render(vars.text) }}"
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    assert_eq!(
        r.logs("show", '|'),
        vec!["4 yes b 2 v 2", "{{ flow.id }} / vars"],
        "{}",
        r.dump()
    );
}

#[test]
fn an_expression_default_is_rendered_at_run_start_then_type_checked() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "defaults",
        "defaults",
        r#"variables:
  base: 40
inputs:
  - id: year
    type: INT
    defaults: "{{ now() | date('yyyy') }}"
  - id: n
    type: INT
    defaults: "{{ vars.base + 2 }}"
  - id: label
    type: STRING
    defaults: "{{ inputs.n }}-{{ flow.id }}"
    dependsOn:
      inputs: [n]
tasks:
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.year }} {{ inputs.n * 2 }} {{ inputs.label }}"
"#,
    );
    dh.validate(&f, 0, &[]);
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    let year = chrono::Utc::now().format("%Y").to_string();
    assert_eq!(
        r.logs("show", '|'),
        vec![format!("{year} 84 42-defaults")],
        "{}",
        r.dump()
    );
    // A value given wins over the expression.
    let r = dh.run(&f, &["--input", "n=1"]);
    r.assert_code(0);
    assert_eq!(r.logs("show", '|'), vec![format!("{year} 2 1-defaults")]);

    // validate checks the expression, not its type; the run names the input.
    let bad = dh.flow_of(
        "bad-default",
        "bad-default",
        r#"inputs:
  - id: count
    type: INT
    defaults: "{{ 'many' }}"
tasks:
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.count }}"
"#,
    );
    dh.validate(&bad, 0, &[]);
    let r = dh.run(&bad, &[]);
    r.assert_code(2);
    assert!(
        r.stderr
            .contains("input `count` (line 4): its default `{{ 'many' }}`: renders `many`: `many` is not a valid INT"),
        "{}",
        r.dump()
    );
    let broken = dh.flow_of(
        "broken-default",
        "broken-default",
        r#"inputs:
  - id: count
    type: INT
    defaults: "{{ now( }}"
tasks:
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.count }}"
"#,
    );
    dh.validate(
        &broken,
        2,
        &["broken-default.yaml:6:15: error: `inputs[0].defaults`"],
    );
}

#[test]
fn flow_outputs_read_tasks_at_any_depth() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "deep-outputs",
        "deep-outputs",
        r#"tasks:
  - id: check
    type: io.kestra.plugin.core.flow.If
    condition: "{{ true }}"
    then:
      - id: inner
        type: io.kestra.plugin.core.debug.Return
        format: deep
outputs:
  - id: got
    type: STRING
    value: "{{ outputs.inner.value }}"
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    assert_eq!(r.json["outputs"]["got"], "deep", "{}", r.dump());
}

/// A FLOAT and a DATETIME flow output are Kestra's values in `--json` (`typedOutputs`: a
/// `Float` written as `5.0`, an `Instant` in UTC), from inputs given as `5` and with an offset.
#[test]
fn float_and_datetime_outputs_are_kestras_values_in_json() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "typed-outputs",
        "typed-outputs",
        r#"inputs:
  - id: f
    type: FLOAT
  - id: d
    type: DATETIME
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.f }} {{ inputs.d }}"
outputs:
  - id: f
    type: FLOAT
    value: "{{ inputs.f }}"
  - id: d
    type: DATETIME
    value: "{{ inputs.d }}"
"#,
    );
    let r = dh.run(
        &f,
        &["--input", "f=5", "--input", "d=2024-01-15T10:30:00+02:00"],
    );
    r.assert_code(0);
    assert_eq!(
        r.logs("say", '|'),
        vec!["5.0 2024-01-15T08:30:00Z"],
        "{}",
        r.dump()
    );
    let outputs = &r.json["outputs"];
    assert!(outputs["f"].is_f64(), "{}", r.dump());
    assert_eq!(outputs["f"].to_string(), "5.0");
    assert_eq!(outputs["d"], "2024-01-15T08:30:00Z");
}

// ---------------------------------------------------------------- with a container (e2e)

e2e_test!(a_return_value_feeds_a_shell_task_and_back, |cx| {
    let f = cx.flow(
        "mixed",
        &format!(
            r#"id: mixed
namespace: dev.core
tasks:
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "from-{{{{ flow.id }}}}"
  - id: shell
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
      pullPolicy: NEVER
    commands:
      - echo "shell read {{{{ outputs.ret.value }}}}"
      - echo '::{{"outputs":{{"back":"{{{{ outputs.ret.value }}}}-ok"}}}}::'
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "log read {{{{ outputs.shell.vars.back }}}}"
"#
        ),
    );
    let r = cx.run(&f);
    r.assert_code(0);
    assert_eq!(r.logs("shell", '|'), vec!["shell read from-mixed"]);
    assert_eq!(r.logs("log", '|'), vec!["log read from-mixed-ok"]);
    assert_eq!(r.task("ret")["outputs"], json!({"value": "from-mixed"}));
    assert_eq!(r.task("shell")["outputs"], json!({"back": "from-mixed-ok"}));
});

e2e_test!(a_shell_task_reads_a_kv_entry_an_earlier_task_set, |cx| {
    let f = cx.flow(
        "kvshell",
        &format!(
            r#"id: kvshell
namespace: dev.core
tasks:
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: who
    value: "{{{{ flow.id }}}}-{{{{ execution.id }}}}"
  - id: shell
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
      pullPolicy: NEVER
    commands:
      - echo "kv says {{{{ kv('who') }}}}"
"#
        ),
    );
    let r = cx.run(&f);
    r.assert_code(0);
    assert_eq!(
        r.logs("shell", '|'),
        vec![format!("kv says kvshell-{}", cx.id)]
    );
});

#[test]
fn namespace_files_upload_download_and_delete() {
    let dh = NoEngine::new();
    let root = dh.tmp.path();
    // The upload's working directory, as an earlier task of the execution would leave it.
    let wd = root.join("work/ns1/up");
    std::fs::create_dir_all(wd.join("sub")).unwrap();
    std::fs::write(wd.join("a.txt"), "A").unwrap();
    std::fs::write(wd.join("sub/b.txt"), "B").unwrap();
    std::fs::write(wd.join("c.log"), "C").unwrap();
    // A link in the namespace to a file outside it: never listed, never deleted.
    let ns = root.join("nsfiles");
    std::fs::create_dir_all(ns.join("dev.target")).unwrap();
    std::fs::write(root.join("outside.txt"), "outside").unwrap();
    std::os::unix::fs::symlink(root.join("outside.txt"), ns.join("dev.target/link.txt")).unwrap();
    let f = dh.flow_of(
        "nsf",
        "nsf",
        r#"tasks:
  - id: up
    type: io.kestra.plugin.core.namespace.UploadFiles
    namespace: dev.target
    files: ["**.txt"]
    destination: /in
  - id: dl
    type: io.kestra.plugin.core.namespace.DownloadFiles
    namespace: dev.target
    files: "/in/**"
  - id: copy
    type: io.kestra.plugin.core.namespace.UploadFiles
    namespace: dev.copy
    filesMap:
      copied/a.txt: "{{ outputs.dl.files['/in/a.txt'] }}"
    conflict: ERROR
  - id: del
    type: io.kestra.plugin.core.namespace.DeleteFiles
    namespace: dev.target
    files: ["b.txt", "link.txt"]
    deleteParentFolder: true
"#,
    );
    let nsarg = ns.display().to_string();
    let r = dh.run(&f, &["--execution-id", "ns1", "--namespace-files", &nsarg]);
    r.assert_code(0);
    let t = &ns.join("dev.target");
    assert_eq!(std::fs::read_to_string(t.join("in/a.txt")).unwrap(), "A");
    assert!(!t.join("in/c.log").exists(), "only the globbed files");
    // DownloadFiles: `/path` -> kestra:// URI of the execution's storage.
    let files = &r.task("dl")["outputs"]["files"];
    let keys: Vec<&String> = files.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["/in/a.txt", "/in/sub/b.txt"], "{}", r.dump());
    assert_eq!(
        files["/in/a.txt"],
        "kestra:///dev/core/nsf/executions/ns1/tasks/dl/1/in/a.txt"
    );
    let stored = root.join("state/storage/dev/core/nsf/executions/ns1/tasks/dl/1/in/sub/b.txt");
    assert_eq!(std::fs::read_to_string(stored).unwrap(), "B");
    // filesMap from a URI.
    assert_eq!(
        std::fs::read_to_string(ns.join("dev.copy/copied/a.txt")).unwrap(),
        "A"
    );
    // DeleteFiles: b.txt at any depth, its empty folder too; the link is not a file.
    assert!(!t.join("in/sub").exists());
    assert!(t.join("in/a.txt").exists());
    assert!(t.join("link.txt").symlink_metadata().is_ok());
    assert_eq!(
        std::fs::read_to_string(root.join("outside.txt")).unwrap(),
        "outside"
    );
    assert_eq!(
        r.logs("del", '|'),
        ["Deleted 1 file(s) of namespace dev.target"]
    );
    for id in ["up", "copy", "del"] {
        assert_eq!(r.task(id)["outputs"], json!({}), "{id}");
    }

    // Again: `conflict: ERROR` fails on the copied file, with Kestra's words.
    let r = dh.run(&f, &["--execution-id", "ns2", "--namespace-files", &nsarg]);
    r.assert_code(1);
    let msg = r.task("copy")["message"].as_str().unwrap().to_string();
    assert!(
        msg.contains("File '/copied/a.txt' already exists in namespace 'dev.copy' and conflict is set to ERROR"),
        "{msg}"
    );

    // A namespace that is a path, and a link on the way, are refused.
    std::os::unix::fs::symlink(root, ns.join("dev.target/escape")).unwrap();
    let bad = dh.flow_of(
        "nsbad",
        "nsbad",
        r#"tasks:
  - id: up
    type: io.kestra.plugin.core.namespace.UploadFiles
    namespace: dev.target
    files: ["a.txt"]
    destination: /escape
    allowFailure: true
  - id: dl
    type: io.kestra.plugin.core.namespace.DownloadFiles
    namespace: "{{ '../dev.target' }}"
    files: "**"
"#,
    );
    let wd = root.join("work/ns3/up");
    std::fs::create_dir_all(&wd).unwrap();
    std::fs::write(wd.join("a.txt"), "A").unwrap();
    let r = dh.run(
        &bad,
        &["--execution-id", "ns3", "--namespace-files", &nsarg],
    );
    r.assert_code(1);
    let m = r.task("up")["message"].as_str().unwrap().to_string();
    assert!(m.contains("is a symbolic link"), "{m}");
    assert!(!root.join("a.txt").exists(), "written through the link");
    let m = r.task("dl")["message"].as_str().unwrap().to_string();
    assert!(m.contains("is not a namespace name"), "{m}");
}

#[test]
fn trigger_values_come_from_the_command_line() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "trig",
        "trig",
        r#"triggers:
  - id: daily
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 9 * * *"
tasks:
  - id: when
    type: io.kestra.plugin.core.log.Log
    message: "{{ trigger.date ?? 'manual' }} {{ trigger.body.id ?? '-' }}"
  - id: bare
    type: io.kestra.plugin.core.log.Log
    message: "{{ trigger.date }}"
"#,
    );
    let v = dh.dockhand(&["validate", f.to_str().unwrap()]);
    v.assert_code(0);
    assert!(
        v.stderr.contains(
            "trigger `daily` (io.kestra.plugin.core.trigger.Schedule) is not started by dockhand"
        ),
        "{}",
        v.dump()
    );
    // By hand: no trigger, as in Kestra; the fallback renders, a bare read fails.
    let r = dh.run(&f, &[]);
    r.assert_code(1);
    assert_eq!(r.logs("when", '|'), ["manual -"]);
    let m = r.task("bare")["message"].as_str().unwrap().to_string();
    assert!(m.contains("`{{ trigger.date }}` has no value"), "{m}");
    // Given on the command line (JSON first, pairs over it); kept for resume.
    let r = dh.run(
        &f,
        &[
            "--execution-id",
            "trig1",
            "--trigger-json",
            r#"{"date": "old", "body": {"id": 7}}"#,
            "--trigger",
            "date=2026-01-01T00:00:00Z",
        ],
    );
    r.assert_code(0);
    assert_eq!(r.logs("when", '|'), ["2026-01-01T00:00:00Z 7"]);
    assert_eq!(r.logs("bare", '|'), ["2026-01-01T00:00:00Z"]);
    let journal =
        std::fs::read_to_string(dh.tmp.path().join("state/executions/trig1.jsonl")).unwrap();
    assert!(
        journal.lines().next().unwrap().contains(r#""trigger":{"#),
        "{journal}"
    );
    // `plan` takes them too; bad JSON is bad input.
    let p = dh.dockhand(&["plan", f.to_str().unwrap(), "--trigger", "date=D"]);
    p.assert_code(0);
    let p = dh.dockhand(&["plan", f.to_str().unwrap(), "--trigger-json", "[1]"]);
    p.assert_code(2);
    assert!(
        p.stderr.contains("--trigger-json must be a JSON object"),
        "{}",
        p.dump()
    );
}

#[test]
fn a_cached_download_is_not_fetched_again() {
    use std::io::{Read, Write};
    // A server that answers one request, then is gone: a second fetch would fail.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut c, _) = l.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = c.read(&mut buf);
        let body = "id,n\n1,2\n";
        let _ = write!(
            c,
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
    });
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "cdl",
        "cdl",
        &format!(
            r#"tasks:
  - id: products
    type: io.kestra.plugin.core.http.Download
    uri: http://127.0.0.1:{port}/products.csv
    taskCache:
      enabled: true
      ttl: PT1H
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ outputs.products.uri }}}} {{{{ outputs.products.code }}}}"
"#
        ),
    );
    let r = dh.run(&f, &["--execution-id", "cdl1"]);
    r.assert_code(0);
    server.join().unwrap();
    let work = dh.tmp.path().join("work");
    assert_eq!(r.task("products").get("cached"), None, "{}", r.dump());
    let p = dh.dockhand(&["plan", f.to_str().unwrap()]);
    p.assert_code(0);
    assert!(
        p.stdout.contains(
            "# task products: taskCache: would hit (result of execution cdl1, 1 output file)"
        ),
        "{}",
        p.dump()
    );
    let r = dh.run(&f, &["--execution-id", "cdl2"]);
    r.assert_code(0);
    let t = r.task("products");
    assert_eq!(t["cached"], true, "{}", r.dump());
    // The file is back in this execution's working directory and storage, where `uri` says.
    let file = work.join("cdl2/products/products.csv");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "id,n\n1,2\n");
    let uri = "kestra:///dev/core/cdl/executions/cdl2/tasks/products/1/products.csv";
    assert_eq!(t["outputs"]["uri"], uri);
    let stored = dh
        .tmp
        .path()
        .join("state/storage")
        .join(&uri["kestra:///".len()..]);
    assert_eq!(std::fs::read_to_string(stored).unwrap(), "id,n\n1,2\n");
    assert_eq!(r.logs("show", '|'), [format!("{uri} 200")]);
}
e2e_test!(a_written_file_is_a_later_tasks_input_file, |cx| {
    let f = cx.flow(
        "write-in",
        &format!(
            r#"id: write-in
namespace: dev.core
tasks:
  - id: w
    type: io.kestra.plugin.core.storage.Write
    content: "written by {{{{ flow.id }}}}"
    extension: .txt
  - id: shell
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
      pullPolicy: NEVER
    inputFiles:
      in.txt: "{{{{ outputs.w.uri }}}}"
    commands:
      - cat in.txt
"#
        ),
    );
    let r = cx.run(&f);
    r.assert_code(0);
    assert_eq!(
        r.logs("shell", '|'),
        vec!["written by write-in"],
        "{}",
        r.dump()
    );
});
/// `inputFiles` as one text that renders to a JSON object (Kestra's `transformInputFiles`):
/// its files are written, each content rendered as a map's is.
#[test]
fn input_files_as_a_json_text_with_expressions() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "jsonfiles",
        "jsonfiles",
        r#"tasks:
  - id: files
    type: io.kestra.core.tasks.debugs.Return
    format: '{"a.txt": "from {{ flow.id }}", "d/b.txt": "two"}'
  - id: use
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    inputFiles: "{{ outputs.files.value }}"
    commands:
      - read -r a < a.txt || :; read -r b < d/b.txt || :; echo "$a|$b"
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    assert_eq!(
        r.logs("use", '|'),
        vec!["from jsonfiles|two"],
        "{}",
        r.dump()
    );
}

/// Kestra's file functions: a namespace file by path, `nsfile://` or its `kestra://` URI, an
/// execution's stored file by `kestra://` URI; `fileURI` gives a namespace file's URI in the
/// internal storage; a missing file does not exist, and its size is an error naming it; a URI
/// that is not an execution file, or of another scheme, is refused in Kestra's words.
#[test]
fn file_functions_read_namespace_files_and_the_storage_as_kestra_does() {
    let dh = NoEngine::new();
    let ns = dh.tmp.path().join("_files/dev.core/data");
    std::fs::create_dir_all(&ns).unwrap();
    std::fs::write(ns.join("a.txt"), "hello").unwrap();
    std::fs::write(ns.join("empty.txt"), "").unwrap();
    let stored = dh
        .tmp
        .path()
        .join("state/storage/dev/core/other/executions/e9/tasks/t/1");
    std::fs::create_dir_all(&stored).unwrap();
    std::fs::write(stored.join("x.csv"), "a,b\n1,2\n").unwrap();
    let f = dh.flow_of(
        "files",
        "files",
        r#"tasks:
  - id: facts
    type: io.kestra.plugin.core.log.Log
    message:
      - "{{ fileExists('data/a.txt') }} {{ fileSize('data/a.txt') }} {{ isFileEmpty('data/a.txt') }} {{ isFileEmpty('nsfile:///data/empty.txt') }}"
      - "{{ fileExists('data/none.txt') }} {{ fileExists('kestra:///dev/core/_files/data/a.txt') }} {{ fileExists('data/a.txt', namespace='other.ns') }}"
      - "{{ fileURI('data/a.txt') }}"
      - "{{ fileSize('kestra:///dev/core/other/executions/e9/tasks/t/1/x.csv') }}"
  - id: elsewhere
    type: io.kestra.plugin.core.log.Log
    allowFailure: true
    message: "{{ fileExists('kestra:///dev/core/notes.txt') }}"
  - id: scheme
    type: io.kestra.plugin.core.log.Log
    allowFailure: true
    message: "{{ fileSize('s3://bucket/key') }}"
  - id: missing
    type: io.kestra.plugin.core.log.Log
    allowFailure: true
    message: "{{ fileSize('data/none.txt') }}"
"#,
    );
    let r = dh.run(&f, &[]);
    r.assert_code(0);
    assert_eq!(
        r.logs("facts", '|'),
        vec![
            "true 5 false true",
            "false true false",
            "kestra:///dev/core/_files/data/a.txt",
            "8",
        ],
        "{}",
        r.dump()
    );
    let message = |t: &str| {
        r.task(t)["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        message("elsewhere").contains(
            "Unable to read the file 'kestra:///dev/core/notes.txt' as it is not an execution file"
        ),
        "{}",
        r.dump()
    );
    assert!(
        message("scheme").contains("Cannot process the URI s3://bucket/key: scheme not supported."),
        "{}",
        r.dump()
    );
    assert!(message("missing").contains("data/none.txt"), "{}", r.dump());
}

/// The runs of task `id` in a result, one per ForEach value: (values, state, outputs).
fn runs_of(r: &Run, id: &str) -> Vec<(Vec<String>, String, Value)> {
    r.tasks()
        .into_iter()
        .filter(|t| t["id"] == id)
        .map(|t| {
            let values = t["values"]
                .as_array()
                .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            let state = t["state"].as_str().unwrap_or("?").to_string();
            (values, state, t["outputs"].clone())
        })
        .collect()
}

/// `kill -9` in the middle of a ForEach of core tasks, then `resume`: each value's run is
/// journaled on its own (`log.1`, as a container task's), so the runs that ended are not done
/// again (no line twice, outputs from the journal) and the values after them run once (a
/// journal keyed by task id took `log` as done for every value once one had run).
#[test]
fn kill9_mid_foreach_of_core_tasks_then_resume_runs_each_value_once() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "crash_each",
        "crash_each",
        r#"tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: [a, b, c]
    tasks:
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: "log {{ taskrun.value }} at {{ taskrun.iteration }}"
      - id: ret
        type: io.kestra.plugin.core.debug.Return
        format: "ret-{{ taskrun.value }}"
      - id: nap
        type: io.kestra.plugin.core.flow.Sleep
        duration: PT1S
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: "after {{ outputs.ret['a'].value }} {{ outputs.ret.b.value }} {{ outputs.ret.c.value }}"
"#,
    );
    let first = dh.killed_at(&f, "crasheach1", "nap.1 | Waiting");
    assert_eq!(
        first.logs("log.0", '|'),
        vec!["log a at 0"],
        "{}",
        first.dump()
    );
    assert_eq!(first.logs("log.1", '|'), vec!["log b at 1"]);

    let r = dh.dockhand(&["resume", "crasheach1", "--json"]);
    r.assert_code(0);
    // Every line once over both runs: a and b were logged before the kill, c after it.
    assert!(r.logs("log.0", '|').is_empty(), "{}", r.dump());
    assert!(r.logs("log.1", '|').is_empty(), "{}", r.dump());
    assert_eq!(r.logs("log.2", '|'), vec!["log c at 2"], "{}", r.dump());
    for said in [
        "log[a]: SUCCESS (from the journal, not run again)",
        "ret[b]: SUCCESS (from the journal, not run again)",
    ] {
        assert!(r.stderr.contains(said), "{said}\n{}", r.dump());
    }
    assert_eq!(r.logs("after", '|'), vec!["after ret-a ret-b ret-c"]);
    // One result per run, with its value, in the summary's order of runs.
    let one = |v: &str, outputs: Value| (vec![v.to_string()], "SUCCESS".to_string(), outputs);
    assert_eq!(
        runs_of(&r, "log"),
        ["a", "b", "c"].map(|v| one(v, json!({}))).to_vec()
    );
    assert_eq!(
        runs_of(&r, "ret"),
        ["a", "b", "c"]
            .map(|v| one(v, json!({ "value": format!("ret-{v}") })))
            .to_vec()
    );
    // The journal holds one end per run, under the run's id.
    let journal =
        std::fs::read_to_string(dh.tmp.path().join("state/executions/crasheach1.jsonl")).unwrap();
    let ends: Vec<String> = journal
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|j| j["t"] == "task_end")
        .map(|j| j["task"].as_str().unwrap().to_string())
        .collect();
    for run in [
        "log.0", "log.1", "log.2", "ret.0", "ret.1", "ret.2", "after",
    ] {
        assert_eq!(
            ends.iter().filter(|e| *e == run).count(),
            1,
            "{run}: {ends:?}"
        );
    }
}

/// Each input type's value in expressions, as Kestra types it (`FlowInputOutput.parseType`):
/// (input declaration, `--input` value, expression, what it renders). A number adds and
/// compares as a number (`"9" < 10` as text would be false), a BOOLEAN equals `true`, JSON,
/// YAML, ARRAY and MULTISELECT values are maps and lists; what prints is Kestra's Java value
/// (a FLOAT is a `Float`, printed `5.0`; a DATETIME an `Instant`, printed in UTC).
const TYPED_INPUTS: &[(&str, &str, &str, &str)] = &[
    ("type: INT", "2026", "{{ inputs.x + 1 }}", "2027"),
    ("type: INT", "2026", "{{ inputs.x }}", "2026"),
    ("type: INT", "9", "{{ inputs.x < 10 }}", "true"),
    ("type: INT", "-3", "{{ inputs.x * 2 }}", "-6"),
    ("type: FLOAT", "1.5", "{{ inputs.x + 1 }}", "2.5"),
    ("type: FLOAT", "9.5", "{{ inputs.x < 10 }}", "true"),
    ("type: BOOLEAN", "true", "{{ inputs.x == true }}", "true"),
    ("type: BOOL", "false", "{{ inputs.x ? 'yes' : 'no' }}", "no"),
    ("type: BOOLEAN", "true", "{{ inputs.x }}", "true"),
    (
        "type: JSON",
        r#"{"a":[1,2,3]}"#,
        "{{ inputs.x.a | length }}",
        "3",
    ),
    (
        "type: JSON",
        r#"{"a":[1,2,3]}"#,
        "{{ inputs.x.a[0] + 1 }}",
        "2",
    ),
    ("type: JSON", "[10,20]", "{{ inputs.x[1] }}", "20"),
    ("type: YAML", "a: 1\nb: [p, q]", "{{ inputs.x.b[1] }}", "q"),
    ("type: YAML", "a: 1\nb: [p, q]", "{{ inputs.x.a + 1 }}", "2"),
    (
        "type: ARRAY\n    itemType: INT",
        "[1, 2, 3]",
        "{{ inputs.x[0] + 1 }}",
        "2",
    ),
    (
        "type: ARRAY\n    itemType: INT",
        "[1, 2, 3]",
        "{{ inputs.x | length }}",
        "3",
    ),
    (
        "type: MULTISELECT\n    values: [a, b, c]",
        r#"["a","c"]"#,
        "{{ inputs.x | length }} {{ inputs.x[1] }}",
        "2 c",
    ),
    ("type: STRING", "2026", "{{ inputs.x | length }}", "4"),
    (
        "type: DATETIME",
        "2026-12-01T10:00:00Z",
        "{{ inputs.x }}",
        "2026-12-01T10:00:00Z",
    ),
    ("type: DURATION", "PT1H", "{{ inputs.x }}", "PT1H"),
    ("type: FLOAT", "5", "{{ inputs.x }}", "5.0"),
    ("type: FLOAT", "5", "{{ inputs.x + 1 }}", "6.0"),
    (
        "type: DATETIME",
        "2024-01-15T10:30:00+02:00",
        "{{ inputs.x }}",
        "2024-01-15T08:30:00Z",
    ),
    (
        "type: ARRAY\n    itemType: FLOAT",
        "[1, 2.5]",
        "{{ inputs.x }}",
        "[1.0,2.5]",
    ),
];

#[test]
fn inputs_have_their_types_in_expressions() {
    let dh = NoEngine::new();
    let mut failures = Vec::new();
    for (n, (decl, given, expr, want)) in TYPED_INPUTS.iter().enumerate() {
        let f = dh.flow_of(
            &format!("typed{n}"),
            &format!("typed{n}"),
            &format!(
                "inputs:\n  - id: x\n    {decl}\ntasks:\n  - id: say\n    type: io.kestra.plugin.core.log.Log\n    message: \"{expr}\"\n"
            ),
        );
        let r = dh.run(&f, &["--input", &format!("x={given}")]);
        let got = r.logs("say", '|');
        if r.code != Some(0) || got != vec![want.to_string()] {
            failures.push(format!(
                "{decl} = {given:?}: {expr} gave {got:?}, want {want:?}\n{}",
                r.dump()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A resumed run reads the inputs from the journal as text and types them again: the same
/// typed values as the first run.
#[test]
fn a_resumed_run_types_the_inputs_again() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "typedresume",
        "typedresume",
        r#"inputs:
  - id: year
    type: INT
tasks:
  - id: before
    type: io.kestra.plugin.core.log.Log
    message: "before {{ inputs.year + 1 }}"
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT2S
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: "after {{ inputs.year + 1 }}"
"#,
    );
    let s = dh.spawn(
        &f,
        &["--execution-id", "typed1", "--input", "year=2026"],
        &[],
    );
    assert!(
        s.wait_line(Duration::from_secs(30), |l| l.contains("Waiting for PT2S")),
        "{}",
        s.stderr_so_far()
    );
    s.signal(libc::SIGKILL);
    let first = s.finish(Duration::from_secs(10));
    assert_eq!(
        first.logs("before", '|'),
        vec!["before 2027"],
        "{}",
        first.dump()
    );
    let r = dh.dockhand(&["resume", "typed1", "--json"]);
    r.assert_code(0);
    assert_eq!(r.logs("after", '|'), vec!["after 2027"], "{}", r.dump());
}

/// A Subflow whose `flowId` is rendered when it runs (here from an input) is found then, so
/// validation cannot see that the flow calls itself: the run stops at the depth validation
/// allows, the eleventh nested Subflow task failing with the chain of flows named, and the
/// failure reaches the top (`transmitFailed`, Kestra's default).
#[test]
fn a_flow_calling_itself_through_a_rendered_flow_id_stops_at_the_depth_limit() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "selfcall",
        "selfcall",
        r#"inputs:
  - id: me
    type: STRING
    defaults: selfcall
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "in {{ execution.id }}"
  - id: again
    type: io.kestra.plugin.core.flow.Subflow
    namespace: dev.core
    flowId: "{{ inputs.me }}"
    inputs:
      me: "{{ inputs.me }}"
"#,
    );
    // A flow found at run time may hold container tasks: the run needs an engine named, the
    // fake one (this flow's tasks never call it).
    let fake = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake-engine/docker");
    let engine = fake.display().to_string();
    let r = dh.run(&f, &["--execution-id", "self1", "--engine", &engine]);
    r.assert_code(1);
    let chain = ["dev.core.selfcall"; 12].join(" -> ");
    let want = format!("subflows nest more than 10 deep: {chain} (does a flow call itself?)");
    assert_eq!(
        r.stderr.matches(&format!("again: {want}")).count(),
        1,
        "{}",
        r.dump()
    );
    // The root and the ten executions under it ran their first task; no twelfth did.
    let journals = std::fs::read_dir(dh.tmp.path().join("state/executions"))
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().ends_with(".jsonl")
        })
        .count();
    assert_eq!(journals, 11, "{}", r.dump());
    assert_eq!(r.task("again")["state"], "FAILED", "{}", r.dump());
}

/// The same with `wait: false`: each child runs detached, as its own `dockhand resume`, and is
/// told the flows above it, so the chain of detached executions stops at the limit too.
#[test]
fn a_detached_flow_calling_itself_stops_at_the_depth_limit() {
    let dh = NoEngine::new();
    let f = dh.flow_of(
        "selfdetach",
        "selfdetach",
        r#"inputs:
  - id: me
    type: STRING
    defaults: selfdetach
tasks:
  - id: again
    type: io.kestra.plugin.core.flow.Subflow
    namespace: dev.core
    flowId: "{{ inputs.me }}"
    wait: false
    inputs:
      me: "{{ inputs.me }}"
"#,
    );
    let fake = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake-engine/docker");
    let engine = fake.display().to_string();
    let r = dh.run(&f, &["--execution-id", "det1", "--engine", &engine]);
    r.assert_code(0);
    let state = dh.tmp.path().join("state");
    let count = |dir: &str, ext: &str| {
        std::fs::read_dir(state.join(dir)).map_or(0, |d| {
            d.filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                name.to_string_lossy().ends_with(ext)
            })
            .count()
        })
    };
    let logs = || {
        std::fs::read_dir(state.join("detached")).map_or(String::new(), |d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".log"))
                .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                .collect()
        })
    };
    let chain = ["dev.core.selfdetach"; 12].join(" -> ");
    let want = format!("again: subflows nest more than 10 deep: {chain}");
    let until = std::time::Instant::now() + Duration::from_secs(60);
    while !logs().contains(&want) && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(logs().contains(&want), "{}\n{}", logs(), r.dump());
    // The root and ten detached executions, no more, each with its own log but the root.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(count("executions", ".jsonl"), 11, "{}", logs());
    assert_eq!(count("detached", ".log"), 10, "{}", logs());
}
