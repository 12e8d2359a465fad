//! The context roots Kestra gives expressions (`flow`, `execution`, `task`, `taskrun`,
//! `parent`/`parents`, `labels`, `trigger`, `envs`, `globals`, `workingDir`, `outputDir`), as
//! `plan` renders them before the run and the executor's planning renders them at run time.

use std::collections::BTreeMap;

use dockhand::flow::decode::load;
use dockhand::flow::model::Body;
use dockhand::plan::context::PlanContext;
use dockhand::plan::dialect::Dialect;
use dockhand::plan::run_vars::{RunVars, envs_from};
use dockhand::plan::taskrun::{ParentRun, TaskRunContext};
use dockhand::plan::{Outputs, plan_task};
use serde_json::json;

const FLOW: &str = r#"id: ctx_roots
namespace: dev.ctx
labels:
  team: data
  app.tier: web
tasks:
  - id: show
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    commands:
      - echo {{ flow.id }} {{ flow.namespace }} {{ flow.revision }} {{ task.id }} {{ task.type }}
      - echo {{ labels.team }} {{ labels.app.tier }} {{ envs.region }} {{ globals['db-host'] }}
      - echo {{ workingDir }} {{ outputDir }} {{ execution.id }}
      - echo {{ execution.startDate }} {{ execution.state }} {{ taskrun.attemptsCount }}
      - echo {{ trigger.date ?? 'by hand' }} {{ trigger | length }}
"#;

/// A flow of one Commands task `t` running `commands`.
fn one_task(id: &str, commands: &[&str]) -> String {
    let mut f = format!(
        "id: {id}\nnamespace: dev.ctx\ntasks:\n  - id: t\n    type: io.kestra.plugin.scripts.shell.Commands\n    containerImage: busybox\n    commands:\n"
    );
    for c in commands {
        f.push_str(&format!("      - {c}\n"));
    }
    f
}

fn run_only() -> String {
    one_task(
        "ctx_run",
        &[
            "echo {{ taskrun.value }} {{ taskrun.iteration }} {{ parent.taskrun.value }} {{ parents | length }}",
            "echo {{ trigger.date }} {{ execution.originalId }}",
        ],
    )
}

fn ctx(run_vars: RunVars) -> PlanContext {
    PlanContext {
        attempt: 2,
        run_vars,
        ..PlanContext::new(Dialect::Docker, "/w".into(), "e1")
    }
}

fn host_vars() -> RunVars {
    RunVars {
        envs: envs_from([
            ("ENV_REGION".to_string(), "eu-west-1".to_string()),
            ("REGION".to_string(), "not read".to_string()),
        ]),
        globals: json!({"db-host": "pg.prod"}).as_object().unwrap().clone(),
        ..Default::default()
    }
}

/// Renders the first task with `ctx`: before the run (`outputs: None`) or at run time.
fn commands(flow: &str, ctx: &PlanContext, at_run: bool) -> Result<Vec<String>, String> {
    let loaded = load("ctx.yaml", flow);
    let flow = loaded.flow.unwrap_or_else(|| panic!("{}", loaded.diags));
    let (task, script) = flow.scripts()[0];
    let outputs = Outputs::new();
    let (rendered, _) = plan_task(
        &flow,
        task,
        script,
        ctx,
        &BTreeMap::new(),
        at_run.then_some(&outputs),
    )?;
    match rendered.body {
        Body::Commands(c) => Ok(c),
        Body::Script(s) => Ok(vec![s]),
    }
}

#[test]
fn plan_renders_what_is_known_before_the_run_and_shows_the_rest() {
    let c = commands(FLOW, &ctx(host_vars()), false).unwrap();
    assert_eq!(
        c,
        [
            "echo ctx_roots dev.ctx 1 show io.kestra.plugin.scripts.shell.Commands",
            "echo data web eu-west-1 pg.prod",
            "echo /w/e1/show /w/e1/show e1",
            // Known only once the execution runs: shown as written.
            "echo {{ execution.startDate }} {{ execution.state }} {{ taskrun.attemptsCount }}",
            "echo by hand 0",
        ]
    );
}

#[test]
fn the_run_renders_the_execution_and_the_task_run() {
    let mut vars = host_vars();
    vars.start_date = Some("2024-01-15T10:30:45.123Z".into());
    vars.state = Some("RUNNING".into());
    vars.trigger = json!({"date": "2024-01-15"}).as_object().unwrap().clone();
    let c = commands(FLOW, &ctx(vars), true).unwrap();
    // The second attempt: Kestra's `attemptsCount` counts the attempts before it.
    assert_eq!(c[3], "echo 2024-01-15T10:30:45.123Z RUNNING 1");
    assert_eq!(c[4], "echo 2024-01-15 1");
}

#[test]
fn the_executor_s_task_run_gives_value_iteration_and_parents() {
    let vars = RunVars {
        trigger: json!({"date": "d"}).as_object().unwrap().clone(),
        original_id: Some("e0".into()),
        ..Default::default()
    };
    let mut c = ctx(vars);
    c.taskrun = Some(TaskRunContext {
        id: "tr".into(),
        value: Some(json!("b")),
        iteration: Some(1),
        attempts_count: 1,
        parents: vec![ParentRun {
            value: Some(json!("outer")),
            outputs: None,
        }],
        ..Default::default()
    });
    let out = commands(&run_only(), &c, true).unwrap();
    assert_eq!(out, ["echo b 1 outer 1", "echo d e0"]);
    // Before the run, none of it is known.
    c.taskrun = None;
    c.run_vars = RunVars::default();
    let out = commands(&run_only(), &c, false).unwrap();
    assert_eq!(
        out,
        [
            "echo {{ taskrun.value }} {{ taskrun.iteration }} {{ parent.taskrun.value }} {{ parents | length }}",
            "echo {{ trigger.date }} {{ execution.originalId }}"
        ]
    );
}

#[test]
fn a_value_missing_at_run_time_is_an_error_naming_where_it_comes_from() {
    let e = commands(
        &one_task("ctx_missing", &["echo {{ envs.not_set }}"]),
        &ctx(RunVars::default()),
        true,
    )
    .unwrap_err();
    assert!(e.contains("`{{ envs.not_set }}` has no value"), "{e}");
    assert!(e.contains("ENV_NOT_SET"), "{e}");
    let e = commands(&run_only(), &ctx(RunVars::default()), true).unwrap_err();
    assert!(
        e.contains("taskrun.value") && e.contains("only inside a ForEach"),
        "{e}"
    );
}

const TYPED: &str = r#"id: ctx_typed
namespace: dev.ctx
inputs:
  - id: cpus
    type: STRING
    defaults: "1.5"
variables:
  mem: 256MB
tasks:
  - id: sized
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
      cpu:
        cpus: "{{ inputs.cpus }}"
      memory:
        memory: "{{ vars.mem }}"
      shmSize: "{{ 32 * 2 }}M"
    commands:
      - echo sized
"#;

/// Kestra types `cpus`, `memory` and `shmSize`: written as templates, they are rendered and
/// converted, and a rendered text of the wrong type is an error naming the property.
#[test]
fn typed_runner_properties_are_rendered_and_converted() {
    let loaded = load("typed.yaml", TYPED);
    let flow = loaded.flow.unwrap_or_else(|| panic!("{}", loaded.diags));
    let (task, script) = flow.scripts()[0];
    let c = ctx(RunVars::default());
    let (rendered, commands) = plan_task(
        &flow,
        task,
        script,
        &c,
        &BTreeMap::from([("cpus".to_string(), "1.5".to_string())]),
        None,
    )
    .unwrap();
    assert_eq!(rendered.runner.cpus, Some(1.5));
    assert_eq!(rendered.runner.memory.memory, Some(256 * 1024 * 1024));
    assert_eq!(rendered.runner.shm_size, Some(64 * 1024 * 1024));
    let argv = format!("{commands:?}");
    assert!(argv.contains("\"--cpus\", \"1.5\""), "{argv}");
    let bad = BTreeMap::from([("cpus".to_string(), "two".to_string())]);
    let e = plan_task(&flow, task, script, &c, &bad, None).unwrap_err();
    assert!(
        e.contains("`taskRunner.cpu.cpus`: expected a number of CPUs more than 0, but `{{ inputs.cpus }}` rendered as `two`"),
        "{e}"
    );
}

/// `dockhand plan` reads `envs` from its environment and `globals` from `$DOCKHAND_GLOBALS`;
/// a globals file that is not a map stops it with exit 2.
#[test]
fn the_command_line_reads_envs_and_the_globals_file() {
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("f.yaml");
    std::fs::write(
        &flow,
        one_task(
            "ctx_cli",
            &["echo {{ envs.region }} {{ globals['db-host'] }} {{ globals.region }}"],
        ),
    )
    .unwrap();
    let globals = dir.path().join("globals.yaml");
    std::fs::write(
        &globals,
        "kestra:\n  variables:\n    globals:\n      dbHost: pg.prod\n      region: eu\n",
    )
    .unwrap();
    let plan = |globals: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_dockhand"))
            .args(["plan", "--engine", "docker"])
            .arg(&flow)
            .env("ENV_REGION", "eu-west-1")
            .env("DOCKHAND_GLOBALS", globals)
            .output()
            .unwrap()
    };
    let out = plan(&globals);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("echo eu-west-1 pg.prod eu"), "{stdout}");
    std::fs::write(&globals, "- not a map\n").unwrap();
    let out = plan(&globals);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("globals.yaml") && stderr.contains("must hold a map"),
        "{stderr}"
    );
}
