//! From a validated flow to the engine commands of every task: rendering templates with what is
//! known, building each task's argv for the chosen dialect, and turning builder findings into
//! diagnostics that point at the flow file.

pub mod build;
pub mod command;
pub mod context;
pub mod dialect;
pub mod engine_commands;
pub mod labels;
pub mod scope;
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

/// Builds one task's commands and reports its findings against the flow file.
pub fn task_commands(
    flow: &Flow,
    task: &Task,
    script: &ScriptTask,
    ctx: &PlanContext,
    diags: &mut Diags,
) -> TaskCommands {
    let tc = build::build(&flow.namespace, &flow.id, &task.id, script, ctx);
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
    tc
}

/// Renders a task for display: inputs, variables and ids filled in, outputs of other tasks left
/// as written (they exist only at run time).
pub fn render_for_plan(
    flow: &Flow,
    task: &Task,
    script: &ScriptTask,
    ctx: &PlanContext,
    inputs: &BTreeMap<String, String>,
) -> Result<ScriptTask, String> {
    let scope = Scope {
        flow_id: &flow.id,
        namespace: &flow.namespace,
        execution_id: &ctx.execution_id,
        inputs,
        vars: &flow.variables,
        outputs: None,
    };
    scope.render(&task.id, &ctx.workdir(&task.id), script, false)
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
        match render_for_plan(flow, task, script, ctx, inputs) {
            Ok(rendered) => {
                let tc = task_commands(flow, task, &rendered, ctx, diags);
                out.push((task.clone(), tc));
            }
            Err(e) => diags.error(task.pos, task.path.clone(), e),
        }
    }
    out
}
