//! Typed templates whose value is known before the run are converted at validation: a
//! `timeout: "{{ vars.limit }}"` whose variable is `ten minutes`, or `shmSize: "{{ 32 * 2 }}"`,
//! is an error at the template's `file:line:col`, naming the property, as it would be when the
//! task starts. "Known before the run" is strict: the template reads only the flow's id and
//! namespace and variables whose values are plain text, and calls no function (a function may
//! read the clock, a secret, a file or the KV store); anything else is converted when the task
//! starts (`flow::typed_template`).

use serde_json::json;

use crate::flow::model::{Flow, Task, TaskKind};
use crate::flow::reader::Cx;
use crate::flow::typed_template::{self, TypedTemplate};
use crate::pebble::{self, Family};

/// Converts every typed template of `task` that can be rendered now.
pub(super) fn check_task(cx: &mut Cx, flow: &Flow, task: &Task) {
    let mut typed: Vec<(String, &TypedTemplate)> = task
        .control
        .typed
        .iter()
        .map(|t| (format!("{}.{}", task.path, t.property), t))
        .collect();
    if let TaskKind::Script(s) = &task.kind {
        typed.extend(s.runner.typed.iter().map(|t| {
            // Under `taskRunner`, or at the task's top (docker Run has the runner's options there).
            let under = format!("{}.taskRunner.{}", task.path, t.path());
            let top = format!("{}.{}", task.path, t.path());
            (
                if flow.values.contains_key(&top) {
                    top
                } else {
                    under
                },
                t,
            )
        }));
    }
    for (path, t) in typed {
        let Some(rendered) = render_now(flow, &t.text) else {
            continue;
        };
        if let Err(e) = typed_template::convert_unnamed(t, &rendered) {
            let pos = flow.values.get(&path).copied().unwrap_or(task.pos);
            cx.error(pos, &path, e);
        }
    }
}

/// Does a variable's value (any YAML type) hold a template anywhere? Its text is known only
/// once rendered then.
fn holds_template(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => typed_template::is_template(s),
        serde_json::Value::Array(a) => a.iter().any(holds_template),
        serde_json::Value::Object(m) => m.values().any(holds_template),
        _ => false,
    }
}

/// The text of `text` when it can be rendered before the run (see the module's doc).
fn render_now(flow: &Flow, text: &str) -> Option<String> {
    let tpl = pebble::Template::parse(text).ok()?;
    let a = tpl.analysis();
    if a.calls.iter().any(|c| c.family == Family::Function) {
        return None;
    }
    let known = a.references.iter().all(|r| {
        let seg = |i: usize| r.path.get(i).map(String::as_str);
        match seg(0) {
            Some("flow") => matches!(seg(1), Some("id" | "namespace")),
            Some("vars") => seg(1)
                .and_then(|v| flow.variables.get(v))
                .is_some_and(|v| !holds_template(v)),
            _ => false,
        }
    });
    if !known {
        return None;
    }
    let vars: serde_json::Map<String, serde_json::Value> = flow
        .variables
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let ctx = json!({
        "flow": { "id": flow.id, "namespace": flow.namespace },
        "vars": vars,
    });
    let ctx = pebble::Value::from_json(&ctx.to_string()).ok()?;
    tpl.render(&ctx, &pebble::FixedHost::default())
        .ok()
        .map(|r| r.text)
}
