//! `dockhand plan --json`: each task's engine commands as argument arrays, their environment
//! by name, their stdin and private files by description, never a secret value; in the
//! versioned envelope of [`crate::machine`].

use serde_json::{Value, json};

use crate::flow::model::Flow;
use crate::plan::command::EngineCommand;
use crate::plan::context::PlanContext;

fn command(c: &EngineCommand) -> Value {
    json!({
        "step": c.step.name(),
        "argv": c.argv(),
        "env": c.env.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        "stdin": if c.stdin.is_some() { Value::String(c.stdin_note.clone()) } else { Value::Null },
        "files": c.files.iter().map(|f| json!({ "path": f.path, "content": f.shown })).collect::<Vec<_>>(),
        "notes": c.notes,
    })
}

/// `plan --json`: each task's commands in the order `run` uses them (the stop and inspect
/// commands apart), as argument arrays after the program name.
pub fn plan(
    flow: &Flow,
    ctx: &PlanContext,
    program: &str,
    tasks: &[crate::plan::PlannedTask<'_>],
    notes: &[String],
) -> Value {
    let tasks: Vec<Value> = tasks
        .iter()
        .map(|(t, tc)| {
            json!({
                "id": t.id,
                "path": t.path,
                "line": t.pos.line,
                "disabled": t.disabled,
                "container": tc.container,
                "workdir": tc.workdir.as_str(),
                "inputFiles": tc.input_files.keys().collect::<Vec<_>>(),
                "outputFiles": tc.output_files,
                "commands": if t.disabled { vec![] } else { tc.steps().into_iter().map(command).collect::<Vec<_>>() },
                "stop": command(&tc.stop),
                "inspect": command(&tc.inspect),
                "findings": tc.findings.iter().map(|f| json!({
                    "error": f.error, "property": f.property, "message": f.message,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    crate::machine::document(json!({
        "flow": { "namespace": flow.namespace, "id": flow.id, "file": flow.file },
        "engine": ctx.dialect.name(),
        "program": program,
        "executionId": ctx.execution_id,
        "notes": notes,
        "tasks": tasks,
    }))
}
