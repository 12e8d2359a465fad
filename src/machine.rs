//! The `--json` documents of `validate`, `ps`, `executions` and `run`/`resume` (`plan`'s is
//! [`crate::plan::json`]): one versioned shape per command
//! (`"version": 1`), each described by a JSON Schema in `docs/json/` that the tests check the
//! output against. Secrets cannot appear: commands are shown as their arguments, their
//! environment by name only, their stdin and private files by description.

use serde_json::{Value, json};

use crate::diag::{Diags, Severity};
use crate::exec::maintenance::Row;

/// The version every document carries; raised when a field changes meaning or goes away.
pub const VERSION: u64 = 1;

/// A document: its version, then its own fields.
#[derive(serde::Serialize)]
pub struct Versioned<T: serde::Serialize> {
    pub version: u64,
    #[serde(flatten)]
    pub body: T,
}

/// `body` (an object) as a version-1 document.
pub fn document<T: serde::Serialize>(body: T) -> Value {
    serde_json::to_value(Versioned {
        version: VERSION,
        body,
    })
    .expect("documents serialize")
}

/// `run --json` and `resume --json`: the execution's result, its fields in their own order.
pub fn run(
    result: &crate::exec::result::FlowResult,
) -> Versioned<&crate::exec::result::FlowResult> {
    Versioned {
        version: VERSION,
        body: result,
    }
}

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
    document(json!({ "files": files }))
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
    document(json!({ "containers": rows }))
}
