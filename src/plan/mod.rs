//! From a validated flow to the engine commands of every task: rendering templates with what is
//! known, building each task's argv for the chosen dialect, and turning builder findings into
//! diagnostics that point at the flow file.

pub mod backend;
pub mod build;
pub mod command;
pub mod context;
pub mod dialect;
pub mod engine_commands;
pub mod expr_host;
pub mod file_functions;
pub mod flow_text;
pub mod host_process;
pub mod image_task;
pub mod json;
pub mod labels;
pub mod python_deps;
pub mod run_vars;
pub mod runs;
pub mod scope;
pub mod script;
pub mod storage;
pub mod swarm;
pub mod tar;
pub mod taskrun;
pub mod text;
pub mod working_directory;

use std::collections::{BTreeMap, HashSet};

use crate::diag::Diags;
use crate::flow::model::{Flow, ScriptTask, Task};
use build::TaskCommands;
use command::Secret;
use context::PlanContext;
use scope::Scope;
use taskrun::TaskRunContext;

/// Input values: `--input name=value` over the flow's defaults. Every given value must name a
/// declared input and be a value of its type and properties (defaults are checked when the flow
/// is read); all problems are reported at once, `; `-separated. Inputs are resolved in their
/// `dependsOn` order, and one whose `dependsOn.condition` is false is left out (Kestra's rule:
/// neither needed nor set). ARRAY and MULTISELECT values are JSON lists.
pub fn resolve_inputs(
    flow: &Flow,
    given: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, String> {
    let mut problems = Vec::new();
    let mut checked: BTreeMap<&str, String> = BTreeMap::new();
    for (k, v) in given {
        match flow.inputs.iter().find(|i| &i.id == k) {
            None => {
                let names: Vec<&str> = flow.inputs.iter().map(|i| i.id.as_str()).collect();
                problems.push(format!(
                    "--input {k}: the flow declares no input `{k}`{}",
                    crate::suggest::hint(k, names)
                ));
            }
            Some(i) => match crate::flow::input_types::check_input(i, v) {
                Ok(v) => {
                    checked.insert(&i.id, v);
                }
                Err(e) => problems.push(format!(
                    "--input {k}: input `{k}` (line {}): {e}",
                    i.pos.line
                )),
            },
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    let mut out = BTreeMap::new();
    let mut done: Vec<&str> = Vec::new();
    while done.len() < flow.inputs.len() {
        let before = done.len();
        for i in &flow.inputs {
            if done.contains(&i.id.as_str())
                || !i
                    .props
                    .depends_on
                    .iter()
                    .all(|d| done.contains(&d.as_str()))
            {
                continue;
            }
            done.push(&i.id);
            if !input_condition(flow, i, &out)? {
                continue;
            }
            let value = match (checked.get(i.id.as_str()), &i.default) {
                (Some(v), _) => Some(v.clone()),
                // An expression: rendered now, then checked as a given value is.
                (None, Some(d)) if crate::flow::decode::is_expression(d) => {
                    Some(render_default(flow, i, d, &out)?)
                }
                // Checked when the flow was read; normalized here (ARRAY items).
                (None, Some(d)) => {
                    Some(crate::flow::input_types::check_input(i, d).unwrap_or_else(|_| d.clone()))
                }
                (None, None) => None,
            };
            if let Some(v) = value {
                out.insert(i.id.clone(), v);
            }
        }
        if done.len() == before {
            return Err("the inputs' `dependsOn` form a cycle".into());
        }
    }
    Ok(out)
}

/// The inputs resolved so far, typed as Kestra types them (what `{{ inputs.x }}` reads while
/// the inputs are resolved, and in every task: [`Scope`]'s `inputs`). The run keeps the text
/// (what `--input` gave, what the journal records), so a resumed run types the same values; a
/// value no declared input names stays text.
pub(crate) fn typed_inputs(
    declared: &[crate::flow::model::Input],
    resolved: &BTreeMap<String, String>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    // An optional input given no value is there, null, as Kestra has it (`{{ inputs.x }}`
    // renders empty); a required one without a value stopped the run before.
    let nulls = declared
        .iter()
        .filter(|x| !x.required && !resolved.contains_key(&x.id))
        .map(|x| (&x.id, None));
    let given = resolved.iter().map(|(id, v)| (id, Some(v)));
    for (id, v) in nulls.chain(given) {
        let typed = match (v, declared.iter().find(|x| &x.id == id)) {
            (None, _) => serde_json::Value::Null,
            (Some(v), Some(x)) => crate::flow::input_types::typed_value(&x.kind, v),
            (Some(v), None) => serde_json::Value::String(v.clone()),
        };
        // A dotted id nests, as Kestra's `MapUtils.flattenToNestedMap`: `a.b` is `inputs.a.b`.
        let mut parts: Vec<&str> = id.split('.').collect();
        let last = parts.pop().unwrap_or_default();
        let mut map = &mut out;
        for p in parts {
            let slot = map
                .entry(p.to_string())
                .or_insert_with(|| serde_json::Value::Object(Default::default()));
            if !slot.is_object() {
                *slot = serde_json::Value::Object(Default::default());
            }
            map = slot.as_object_mut().expect("an object");
        }
        map.insert(last.to_string(), typed);
    }
    out
}

/// A `defaults` written as an expression, rendered as Kestra 1.0 renders input defaults (over
/// the flow's ids and variables and the inputs resolved before it, its `dependsOn`), then
/// checked as a value of its type; an error names the input.
fn render_default(
    flow: &Flow,
    i: &crate::flow::model::Input,
    template: &str,
    resolved: &BTreeMap<String, String>,
) -> Result<String, String> {
    let ctx = serde_json::json!({
        "flow": { "id": flow.id, "namespace": flow.namespace },
        "vars": flow.variables,
        "inputs": typed_inputs(&flow.inputs, resolved),
    });
    struct NoHost;
    impl crate::pebble::Host for NoHost {}
    let at = |e: String| {
        format!(
            "input `{}` (line {}): its default `{template}`: {e}",
            i.id, i.pos.line
        )
    };
    let out = crate::pebble::render(template, &crate::pebble::Value::from(&ctx), &NoHost)
        .map_err(|e| at(e.message))?;
    let text = out.text.trim().to_string();
    crate::flow::input_types::check_input(i, &text)
        .map_err(|e| at(format!("renders `{text}`: {e}")))
}

/// Whether an input takes part: true unless its `dependsOn.condition`, rendered over the values
/// of the inputs before it (typed as Kestra types them), is false.
pub fn input_condition(
    flow: &Flow,
    i: &crate::flow::model::Input,
    resolved: &BTreeMap<String, String>,
) -> Result<bool, String> {
    let Some(cond) = &i.props.condition else {
        return Ok(true);
    };
    let ctx = serde_json::json!({ "inputs": typed_inputs(&flow.inputs, resolved) });
    struct NoHost;
    impl crate::pebble::Host for NoHost {}
    let out = crate::pebble::render(cond, &crate::pebble::Value::from(&ctx), &NoHost)
        .map_err(|e| format!("input `{}`: its dependsOn condition: {}", i.id, e.message))?;
    Ok(out.text.trim() == "true")
}

/// The outputs of the tasks that ended, by task id and output name.
pub type Outputs = BTreeMap<String, BTreeMap<String, serde_json::Value>>;

/// The template scope of the texts of `flow` (`outputs`: those of the tasks that ended, or
/// none for `plan`); [`scope_for`] adds a task's own values.
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
        task_type: "",
        labels: &flow.labels,
        run: &ctx.run_vars,
        taskrun: None,
        attempt: ctx.attempt,
        inputs,
        declared_inputs: &flow.inputs,
        vars: &flow.variables,
        outputs,
        host: ctx.expr_host.get(),
        outputs_tree: None,
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
    plan_task_run(flow, task, script, ctx, inputs, outputs, None)
}

/// One run of a task (`run`: its context and the outputs as Kestra exposes them; the run's id,
/// `t` or `t.1` inside a ForEach, names its container and working directory).
pub fn plan_task_run(
    flow: &Flow,
    task: &Task,
    script: &ScriptTask,
    ctx: &PlanContext,
    inputs: &BTreeMap<String, String>,
    outputs: Option<&Outputs>,
    run: Option<(&TaskRunContext, &serde_json::Map<String, serde_json::Value>)>,
) -> Result<(ScriptTask, TaskCommands), String> {
    let run_id = run.map_or(task.id.as_str(), |(r, _)| r.id.as_str());
    let mut scope = scope_for(flow, task, ctx, inputs, outputs);
    if let Some((r, tree)) = run {
        scope.taskrun = Some(r);
        scope.outputs_tree = Some(tree);
    }
    let r = scope.render(&task.id, &ctx.workdir(run_id), script, outputs.is_some())?;
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
    let tc = rebuild_run(flow, run_id, &r.task, &ctx);
    Ok((r.task, tc))
}

/// What the expressions of `task` see, from the flow and the context.
pub fn scope_for<'a>(
    flow: &'a Flow,
    task: &'a Task,
    ctx: &'a PlanContext,
    inputs: &'a BTreeMap<String, String>,
    outputs: Option<&'a Outputs>,
) -> Scope<'a> {
    Scope {
        task_type: flow.task_types.get(&task.path).map_or("", String::as_str),
        taskrun: ctx.taskrun.as_ref(),
        ..scope(flow, ctx, inputs, outputs)
    }
}

/// Renders a text of the flow outside its tasks (a flow output's `value`) with the outputs of
/// the tasks that ran, as a task's texts are rendered.
pub fn render_flow_text(
    flow: &Flow,
    ctx: &PlanContext,
    inputs: &BTreeMap<String, String>,
    outputs: &Outputs,
    text: &str,
) -> Result<String, String> {
    scope(flow, ctx, inputs, Some(outputs)).render_flow_text(text)
}

/// Renders one expression of a flow-control task or a `runIf` (If's condition, ForEach's
/// values) for a run, with the outputs as Kestra exposes them; a missing value is an error.
pub fn render_expression(
    flow: &Flow,
    task: &Task,
    text: &str,
    ctx: &PlanContext,
    inputs: &BTreeMap<String, String>,
    run: &TaskRunContext,
    outputs: &serde_json::Map<String, serde_json::Value>,
) -> Result<String, String> {
    let flat = Outputs::new();
    let mut scope = scope_for(flow, task, ctx, inputs, Some(&flat));
    scope.taskrun = Some(run);
    scope.outputs_tree = Some(outputs);
    scope
        .render_expression(&task.id, &ctx.workdir(&run.id), text)
        .map(|(s, _)| s)
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
    for p in runs::runs(flow) {
        let mut scope = scope_for(flow, p.task, ctx, inputs, None);
        scope.taskrun = Some(&p.run);
        if let Ok(r) = scope.render(&p.task.id, &ctx.workdir(&p.run.id), p.script, false) {
            for v in r.secrets {
                if !v.is_empty() && !out.contains(&v) {
                    out.push(v);
                }
            }
        }
    }
    // The in-process tasks' texts too: a `Log` of a secret is masked like a container's line.
    for (task, core) in crate::flow::core_task::core_tasks(flow) {
        let read = with_task_texts(flow, task, ctx, inputs, None, None, |r| {
            for (_, text) in core.texts() {
                let _ = r.text(text);
            }
            std::mem::take(&mut r.secrets)
        });
        for v in read {
            if !v.is_empty() && !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

/// Renders the texts of an in-process task (`f` asks for each), in the scope `plan_task` gives
/// a container task: the same values, and with `outputs` (the executor's) an expression
/// without a value is an error. `run` is the task run (inside a ForEach: `taskrun.value`,
/// `parent`) with the outputs as Kestra exposes them, as [`plan_task_run`] takes it.
pub fn with_task_texts<T>(
    flow: &Flow,
    task: &Task,
    ctx: &PlanContext,
    inputs: &BTreeMap<String, String>,
    outputs: Option<&Outputs>,
    run: Option<(&TaskRunContext, &serde_json::Map<String, serde_json::Value>)>,
    f: impl FnOnce(&mut scope::TextRenderer) -> T,
) -> T {
    let run_id = run.map_or(task.id.as_str(), |(r, _)| r.id.as_str());
    let mut scope = scope_for(flow, task, ctx, inputs, outputs);
    if let Some((r, tree)) = run {
        scope.taskrun = Some(r);
        scope.outputs_tree = Some(tree);
    }
    let mut r = scope.texts(&task.id, &ctx.workdir(run_id), outputs.is_some());
    f(&mut r)
}

/// The commands of a task `plan_task` rendered, for another context (a new attempt).
pub fn rebuild(flow: &Flow, task: &Task, rendered: &ScriptTask, ctx: &PlanContext) -> TaskCommands {
    rebuild_run(flow, &task.id, rendered, ctx)
}

/// [`rebuild`] for one run of a task (`t.1` inside a ForEach).
pub fn rebuild_run(
    flow: &Flow,
    run_id: &str,
    rendered: &ScriptTask,
    ctx: &PlanContext,
) -> TaskCommands {
    if rendered.task_runner == crate::flow::model::RunnerKind::Process {
        return host_process::build(run_id, rendered, ctx);
    }
    if ctx.backend.is_swarm() {
        return swarm::build(&flow.namespace, &flow.id, run_id, rendered, ctx);
    }
    build::build(&flow.namespace, &flow.id, run_id, rendered, ctx)
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
        let msg = match &ctx.backend {
            backend::Backend::Swarm(_) => format!("{} (backend swarm)", f.message),
            backend::Backend::Engine => format!("{} (engine {})", f.message, ctx.dialect),
        };
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

/// A planned run of a script task: the task as the plan shows it and its commands.
pub type PlannedTask<'a> = (runs::ShownTask<'a>, TaskCommands);

/// The plan of a whole flow: every enabled script task's commands, in order. A SECRET input
/// without a value gets a stand-in, so that the plan shows its tasks as they will run (command
/// in a private file) whether or not the value was given.
pub fn plan_flow<'a>(
    flow: &'a Flow,
    ctx: &PlanContext,
    inputs: &BTreeMap<String, String>,
    diags: &mut Diags,
) -> Vec<PlannedTask<'a>> {
    let mut inputs = inputs.clone();
    for i in flow.inputs.iter().filter(|i| i.kind == "SECRET") {
        inputs
            .entry(i.id.clone())
            .or_insert_with(|| format!("<secret inputs.{}>", i.id));
    }
    let mut ctx = ctx.clone();
    ctx.shared_workdirs = flow.shared_workdirs();
    for s in secret_values(flow, &inputs) {
        if !ctx.secrets.contains(&s) {
            ctx.secrets.push(s);
        }
    }
    let (ctx, inputs) = (&ctx, &inputs);
    let mut out = Vec::new();
    let empty = serde_json::Map::new();
    // A task that runs once per ForEach value is planned per run; its findings are told once.
    let mut told: HashSet<&str> = HashSet::new();
    runs::each(flow, &mut |p| {
        let task = p.task;
        let first = told.insert(task.path.as_str());
        let run = Some((&p.run, &empty));
        match plan_task_run(flow, task, p.script, ctx, inputs, None, run) {
            Ok((_, tc)) => {
                if first {
                    report_findings(flow, task, &tc, ctx, diags);
                }
                // The flow's own task (a copy of each would double what the flow holds).
                out.push((runs::ShownTask::of(task, p.shown), tc));
            }
            Err(e) if first => diags.error(task.pos, task.path.clone(), e),
            Err(_) => {}
        }
    });
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
            owner: Some(7),
            ..PlanContext::new(dialect, "/w".into(), "e1")
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
