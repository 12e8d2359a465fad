//! From a validated flow to the engine commands of every task: rendering templates with what is
//! known, building each task's argv for the chosen dialect, and turning builder findings into
//! diagnostics that point at the flow file.

pub mod build;
pub mod command;
pub mod context;
pub mod dialect;
pub mod engine_commands;
pub mod expr_host;
pub mod image_task;
pub mod labels;
pub mod python_deps;
pub mod scope;
pub mod script;
pub mod tar;
pub mod text;

use std::collections::BTreeMap;

use crate::diag::Diags;
use crate::flow::model::{Flow, ScriptTask, Task};
use build::TaskCommands;
use command::Secret;
use context::PlanContext;
use scope::Scope;

/// Input values: `--input name=value` over the flow's defaults. Every given value must name a
/// declared input and be a value of its type (defaults are checked when the flow is read); all
/// problems are reported at once, `; `-separated.
pub fn resolve_inputs(
    flow: &Flow,
    given: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, String> {
    let mut problems = Vec::new();
    for (k, v) in given {
        match flow.inputs.iter().find(|i| &i.id == k) {
            None => {
                let names: Vec<&str> = flow.inputs.iter().map(|i| i.id.as_str()).collect();
                problems.push(format!(
                    "--input {k}: the flow declares no input `{k}`{}",
                    crate::suggest::hint(k, names)
                ));
            }
            Some(i) => {
                if let Err(e) = crate::flow::input_types::check(&i.kind, &i.values, v) {
                    problems.push(format!(
                        "--input {k}: input `{k}` (line {}): {e}",
                        i.pos.line
                    ));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    let mut out = BTreeMap::new();
    for i in &flow.inputs {
        if let Some(v) = given.get(&i.id).or(i.default.as_ref()) {
            out.insert(i.id.clone(), v.clone());
        }
    }
    Ok(out)
}

/// The outputs of the tasks that ended, by task id and output name.
pub type Outputs = BTreeMap<String, BTreeMap<String, serde_json::Value>>;

/// The template scope of a task of `flow` (`outputs`: those of the tasks that ended, or none
/// for `plan`).
pub(crate) fn scope<'a>(
    flow: &'a Flow,
    ctx: &'a PlanContext,
    inputs: &'a BTreeMap<String, String>,
    outputs: Option<&'a Outputs>,
) -> Scope<'a> {
    Scope {
        flow_id: &flow.id,
        namespace: &flow.namespace,
        execution_id: &ctx.execution_id,
        inputs,
        vars: &flow.variables,
        outputs,
        host: ctx.expr_host.get(),
    }
}

/// The one planner `plan` and `run` share: renders a task with what is known and builds its
/// commands for `ctx`. `plan` gives no `outputs` (they exist only at run time, so output
/// expressions stay as written); the executor gives the outputs of the tasks before, and then
/// an expression without a value is an error. What `plan` shows is what runs, by construction.
pub fn plan_task(
    flow: &Flow,
    task: &Task,
    script: &ScriptTask,
    ctx: &PlanContext,
    inputs: &BTreeMap<String, String>,
    outputs: Option<&Outputs>,
) -> Result<(ScriptTask, TaskCommands), String> {
    let scope = scope(flow, ctx, inputs, outputs);
    let r = scope.render(&task.id, &ctx.workdir(&task.id), script, outputs.is_some())?;
    // Values read with `secret()` route the commands that hold them into the private command
    // file, as SECRET inputs do (the executor also adds them to its context up front, see
    // `expression_secrets`, so a rebuilt attempt keeps them).
    let mut ctx = std::borrow::Cow::Borrowed(ctx);
    for v in r.secrets.iter().filter(|v| !v.is_empty()) {
        let s = Secret::new(v.clone());
        if !ctx.secrets.contains(&s) {
            ctx.to_mut().secrets.push(s);
        }
    }
    let tc = rebuild(flow, task, &r.task, &ctx);
    Ok((r.task, tc))
}

/// The values every task's expressions read with `secret()`, rendered as before the run (with
/// `ctx`'s host): the executor masks them and keeps them off argv. A task that cannot be
/// rendered is skipped here (planning reports it).
pub fn expression_secrets(
    flow: &Flow,
    ctx: &PlanContext,
    inputs: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (task, script) in flow.scripts() {
        let scope = Scope {
            flow_id: &flow.id,
            namespace: &flow.namespace,
            execution_id: &ctx.execution_id,
            inputs,
            vars: &flow.variables,
            outputs: None,
            host: ctx.expr_host.get(),
        };
        if let Ok(r) = scope.render(&task.id, &ctx.workdir(&task.id), script, false) {
            for v in r.secrets {
                if !v.is_empty() && !out.contains(&v) {
                    out.push(v);
                }
            }
        }
    }
    out
}

/// The commands of a task `plan_task` rendered, for another context (a new attempt).
pub fn rebuild(flow: &Flow, task: &Task, rendered: &ScriptTask, ctx: &PlanContext) -> TaskCommands {
    build::build(&flow.namespace, &flow.id, &task.id, rendered, ctx)
}

/// Reports a task's builder findings against the flow file.
fn report_findings(
    flow: &Flow,
    task: &Task,
    tc: &TaskCommands,
    ctx: &PlanContext,
    diags: &mut Diags,
) {
    for f in &tc.findings {
        let path = format!("{}.{}", task.path, f.property);
        let pos = flow.pos_of(&path).unwrap_or(task.pos);
        let msg = format!("{} (engine {})", f.message, ctx.dialect);
        if f.error {
            diags.error(pos, path, msg);
        } else {
            diags.warning(pos, path, msg);
        }
    }
}

/// The values of the flow's SECRET inputs among `inputs` (empty ones are no secret).
pub fn secret_values(flow: &Flow, inputs: &BTreeMap<String, String>) -> Vec<Secret> {
    flow.inputs
        .iter()
        .filter(|i| i.kind == "SECRET")
        .filter_map(|i| inputs.get(&i.id))
        .filter(|v| !v.is_empty())
        .map(|v| Secret::new(v.clone()))
        .collect()
}

/// The plan of a whole flow: every enabled script task's commands, in order. A SECRET input
/// without a value gets a stand-in, so that the plan shows its tasks as they will run (command
/// in a private file) whether or not the value was given.
pub fn plan_flow(
    flow: &Flow,
    ctx: &PlanContext,
    inputs: &BTreeMap<String, String>,
    diags: &mut Diags,
) -> Vec<(Task, TaskCommands)> {
    let mut inputs = inputs.clone();
    for i in flow.inputs.iter().filter(|i| i.kind == "SECRET") {
        inputs
            .entry(i.id.clone())
            .or_insert_with(|| format!("<secret inputs.{}>", i.id));
    }
    let mut ctx = ctx.clone();
    for s in secret_values(flow, &inputs) {
        if !ctx.secrets.contains(&s) {
            ctx.secrets.push(s);
        }
    }
    let (ctx, inputs) = (&ctx, &inputs);
    let mut out = Vec::new();
    for (task, script) in flow.scripts() {
        match plan_task(flow, task, script, ctx, inputs, None) {
            Ok((_, tc)) => {
                report_findings(flow, task, &tc, ctx, diags);
                out.push((task.clone(), tc));
            }
            Err(e) => diags.error(task.pos, task.path.clone(), e),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::dialect::Dialect;

    const FLOW: &str = r#"id: one-planner
namespace: dev.test
inputs:
  - id: name
    type: STRING
    defaults: world
  - id: token
    type: SECRET
variables:
  greeting: hello
tasks:
  - id: first
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    env:
      WHO: "{{ inputs.name }}"
    commands:
      - echo {{ vars.greeting }} {{ inputs.name }} in {{ workingDir }} of {{ flow.id }}
  - id: second
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
      host: tcp://10.0.0.1:2375
    commands:
      - echo {{ inputs.token }} after {{ outputs.first.vars.n }}
"#;

    fn ctx(dialect: Dialect) -> PlanContext {
        PlanContext {
            execution_id: "e1".into(),
            attempt: 1,
            dialect,
            work_root: "/w".into(),
            private_root: "/w/.private".into(),
            host: None,
            owner: Some(7),
            secrets: vec![],
            local_images: Default::default(),
            expr_host: Default::default(),
        }
    }

    /// `plan` and the executor go through `plan_task`: for the same context and inputs, the
    /// commands `plan_flow` shows are the ones the run path builds, task by task; the only
    /// difference is what exists only at run time (another task's outputs).
    #[test]
    fn plan_shows_what_runs() {
        let loaded = crate::flow::decode::load("one-planner.yaml", FLOW);
        let flow = loaded.flow.expect("the flow reads");
        let given = BTreeMap::from([("token".to_string(), "s3cr3t-value".to_string())]);
        let inputs = resolve_inputs(&flow, &given).unwrap();
        let outputs: Outputs = BTreeMap::from([(
            "first".to_string(),
            BTreeMap::from([("n".to_string(), serde_json::json!(3))]),
        )]);
        for d in [Dialect::Docker, Dialect::Podman] {
            // As `run` fills its context: the SECRET inputs' values.
            let mut ctx = ctx(d);
            ctx.secrets = secret_values(&flow, &inputs);
            let mut diags = Diags::new("one-planner.yaml");
            let planned = plan_flow(&flow, &ctx, &inputs, &mut diags);
            assert!(!diags.has_errors());
            assert_eq!(planned.len(), 2);
            let (task, script) = flow.scripts()[0];
            let (_, ran) = plan_task(&flow, task, script, &ctx, &inputs, Some(&outputs)).unwrap();
            assert_eq!(planned[0].1, ran, "{d}: plan and run differ for `first`");
            // `second` names an output: the plan leaves it as written, the run fills it in;
            // with the plan's own rendering the commands are the same.
            let (task, script) = flow.scripts()[1];
            let (_, ran) = plan_task(&flow, task, script, &ctx, &inputs, Some(&outputs)).unwrap();
            assert_ne!(planned[1].1, ran);
            let (_, shown) = plan_task(&flow, task, script, &ctx, &inputs, None).unwrap();
            assert_eq!(planned[1].1, shown);
        }
    }

    /// Answers `secret('TOKEN')` as the executor's host would.
    struct TokenHost;
    impl crate::pebble::Host for TokenHost {
        fn secret(&self, name: &str) -> Result<String, String> {
            match name {
                "TOKEN" => Ok("tok-7f3a9c1e55".to_string()),
                _ => Err(format!("secret `{name}` is not set")),
            }
        }
    }

    const PEBBLE_FLOW: &str = r#"id: pebble
namespace: dev.test
inputs:
  - id: name
    type: STRING
    defaults: ada
tasks:
  - id: first
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    commands:
      - echo {{ inputs.name | upper }} {{ secret('TOKEN') }}
  - id: second
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    commands:
      - echo {{ outputs.first.vars.n }} {{ outputs.first.vars.n | upper }} {{ inputs['name'] ?? 'x' }}
      - echo {{ outputs.first.vars.gone }}
"#;

    /// `secret()` values come back from rendering, go into the private command file (never the
    /// argv) and are what the executor masks; output tags stay as written in the plan.
    #[test]
    fn pebble_secrets_and_outputs() {
        let flow = crate::flow::decode::load("pebble.yaml", PEBBLE_FLOW)
            .flow
            .expect("the flow reads");
        let inputs = resolve_inputs(&flow, &BTreeMap::new()).unwrap();
        let mut ctx = ctx(Dialect::Docker);
        ctx.expr_host = expr_host::ExprHost(Some(std::sync::Arc::new(TokenHost)));
        assert_eq!(
            expression_secrets(&flow, &ctx, &inputs),
            vec!["tok-7f3a9c1e55".to_string()]
        );
        let (task, script) = flow.scripts()[0];
        let (rendered, tc) = plan_task(&flow, task, script, &ctx, &inputs, None).unwrap();
        assert_eq!(
            rendered.body,
            crate::flow::model::Body::Commands(vec!["echo ADA tok-7f3a9c1e55".to_string()])
        );
        let argv = format!("{:?}", tc.steps());
        assert!(!argv.contains("tok-7f3a9c1e55"), "{argv}");
        assert!(argv.contains("/.dockhand/command"), "{argv}");

        let (task, script) = flow.scripts()[1];
        let (shown, _) = plan_task(&flow, task, script, &ctx, &inputs, None).unwrap();
        assert_eq!(
            shown.body,
            crate::flow::model::Body::Commands(vec![
                "echo {{ outputs.first.vars.n }} {{ outputs.first.vars.n | upper }} ada"
                    .to_string(),
                "echo {{ outputs.first.vars.gone }}".to_string()
            ])
        );
        let outputs: Outputs = BTreeMap::from([(
            "first".to_string(),
            BTreeMap::from([("n".to_string(), serde_json::json!("three"))]),
        )]);
        let err = plan_task(&flow, task, script, &ctx, &inputs, Some(&outputs)).unwrap_err();
        assert_eq!(
            err,
            "`{{ outputs.first.vars.gone }}` has no value: the task it names did not produce it"
        );
    }
}
