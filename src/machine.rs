//! The `--json` documents of `validate`, `plan` and `ps`: one versioned shape per command
//! (`"version": 1`), each described by a JSON Schema in `docs/json/` that the tests check the
//! output against. Secrets cannot appear: commands are shown as their arguments, their
//! environment by name only, their stdin and private files by description.

use serde_json::{Value, json};

use crate::diag::{Diags, Severity};
use crate::exec::maintenance::Row;
use crate::flow::model::{Flow, Task};
use crate::plan::build::TaskCommands;
use crate::plan::command::EngineCommand;
use crate::plan::context::PlanContext;

/// The version every document carries; raised when a field changes meaning or goes away.
pub const VERSION: u64 = 1;

/// One file's diagnostics, for `validate --json`.
pub fn diagnostics(d: &Diags) -> Value {
    let items: Vec<Value> = d
        .sorted()
        .into_iter()
        .map(|x| {
            json!({
                "file": x.file,
                "line": x.pos.line,
                "column": x.pos.col,
                "property": x.property,
                "severity": match x.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "message": x.message,
            })
        })
        .collect();
    json!({ "file": d.file(), "valid": !d.has_errors(), "diagnostics": items })
}

/// `validate --json`: every file's diagnostics.
pub fn validate(files: Vec<Value>) -> Value {
    json!({ "version": VERSION, "files": files })
}

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
    tasks: &[(Task, TaskCommands)],
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
    json!({
        "version": VERSION,
        "flow": { "namespace": flow.namespace, "id": flow.id, "file": flow.file },
        "engine": ctx.dialect.name(),
        "program": program,
        "executionId": ctx.execution_id,
        "notes": notes,
        "tasks": tasks,
    })
}

/// `ps --json`: dockhand's containers.
pub fn ps(rows: &[Row]) -> Value {
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "container": r.container,
                "execution": r.execution,
                "flow": r.flow,
                "task": r.task,
                "state": r.state,
                "age": r.age,
                "watched": r.watched,
            })
        })
        .collect();
    json!({ "version": VERSION, "containers": rows })
}
