//! Reading the flow's `outputs` (`id`, `type`, `value`, `required`, ...), and checking what their
//! values refer to: the tasks named in `outputs.TASK...` must be tasks of the flow. They are
//! rendered and typed when the tasks have ended (`exec::flow_outputs`).

use crate::flow::model::{Flow, FlowOutput, Task};
use crate::flow::reader::{Cx, Obj, as_seq};
use crate::flow::spec::{self, INPUT_TYPES, TASK_ID};
use crate::flow::yaml::{Node, Value};

pub(super) fn read_outputs(cx: &mut Cx, n: &Node) -> Vec<FlowOutput> {
    let Some(items) = as_seq(cx, n, "outputs") else {
        return vec![];
    };
    let mut out: Vec<FlowOutput> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("outputs[{i}]");
        let Some(mut o) = Obj::new(cx, item, &path) else {
            continue;
        };
        let id = o.need_string(cx, "id");
        let kind = o.enumeration(cx, "type", INPUT_TYPES, |s| {
            INPUT_TYPES.contains(&s).then(|| s.to_string())
        });
        if !o.has("type") {
            cx.error(item.pos, &path, "missing required property `type`");
        }
        let value = o.need(cx, "value").map(|v| match &v.value {
            Value::Scalar { text, .. } => text.clone(),
            _ => v.to_json().to_string(),
        });
        if let (Some(v), Some(n)) = (&value, o.get(cx, "value"))
            && let Err(e) = crate::pebble::Template::parse(v)
        {
            cx.error(n.pos, &o.key_path("value"), e.message);
        }
        o.string(cx, "description");
        o.string(cx, "displayName");
        let required = o.bool(cx, "required").unwrap_or(true);
        o.finish_described(cx, &spec::FLOW_OUTPUT);
        let Some(id) = id else { continue };
        if !TASK_ID.is_match(&id) {
            cx.error(item.pos, &path, format!("invalid output id `{id}`"));
        }
        if out.iter().any(|x| x.id == id) {
            cx.error(item.pos, &path, format!("duplicate output id `{id}`"));
        }
        out.push(FlowOutput {
            id,
            kind: kind.unwrap_or_default(),
            value: value.unwrap_or_default(),
            required,
            pos: item.pos,
        });
    }
    out
}

/// Each `outputs.TASK` an output's value reads names a task of the flow, at any depth (a
/// WorkingDirectory's or an If's child too: Kestra's outputs are the execution's).
pub(super) fn check_references(cx: &mut Cx, flow: &Flow) {
    fn ids<'a>(t: &'a Task, out: &mut Vec<&'a str>) {
        out.push(&t.id);
        for c in t.children() {
            ids(c, out);
        }
    }
    let mut known = Vec::new();
    for t in flow.top_level() {
        ids(t, &mut known);
    }
    for (i, o) in flow.outputs.iter().enumerate() {
        let Ok(a) = crate::pebble::analyze(&o.value) else {
            continue;
        };
        for r in &a.references {
            if r.path.first().map(String::as_str) == Some("outputs")
                && let Some(task) = r.path.get(1)
                && !known.contains(&task.as_str())
            {
                let pos = flow.pos_of(&format!("outputs[{i}].value")).unwrap_or(o.pos);
                cx.error(
                    pos,
                    &format!("outputs[{i}].value"),
                    format!(
                        "`outputs.{task}` names no task of the flow{}",
                        crate::suggest::hint(task, known.iter().copied())
                    ),
                );
            }
        }
    }
}
