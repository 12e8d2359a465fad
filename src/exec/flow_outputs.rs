//! The flow's `outputs`, computed when its tasks have ended, as Kestra's executor does on the
//! execution's end: each `value` rendered with the tasks' outputs, then typed as its `type`
//! (`FlowInputOutput.typedOutputs`: the input types' formats). An output that cannot be
//! rendered or typed, or a required one that is empty, fails the execution ("Failed to render
//! output values").

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::flow::input_types;
use crate::flow::model::Flow;
use crate::plan::{self, context::PlanContext};

/// The typed outputs, or why they cannot be given.
pub fn compute(
    flow: &Flow,
    ctx: &PlanContext,
    inputs: &BTreeMap<String, String>,
    outputs: &plan::Outputs,
) -> Result<BTreeMap<String, Json>, String> {
    let mut out = BTreeMap::new();
    for o in &flow.outputs {
        let text = plan::render_flow_text(flow, ctx, inputs, outputs, &o.value)
            .map_err(|e| format!("output `{}`: {e}", o.id))?;
        out.insert(o.id.clone(), typed(&o.id, &o.kind, o.required, &text)?);
    }
    Ok(out)
}

/// One rendered output as its type: numbers, booleans, JSON values and lists as JSON, anything
/// else as text. Pure.
pub fn typed(id: &str, kind: &str, required: bool, text: &str) -> Result<Json, String> {
    if text.is_empty() {
        return if required {
            Err(format!("output `{id}` is required but its value is empty"))
        } else {
            Ok(Json::Null)
        };
    }
    let checked = match kind {
        // A list output is a JSON list; its items are not typed further.
        "ARRAY" | "MULTISELECT" => match serde_json::from_str::<Json>(text) {
            Ok(Json::Array(_)) => Ok(()),
            _ => Err(format!(
                "`{text}` is not a valid {kind}: expected a JSON list"
            )),
        },
        // The value of a SELECT output has no list to be checked against.
        "SELECT" | "ENUM" | "FILE" => Ok(()),
        _ => input_types::check(kind, &[], text),
    };
    checked.map_err(|e| format!("output `{id}`: {e}"))?;
    Ok(input_types::typed_value(kind, text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outputs_are_typed_as_kestra_types_them() {
        let rows: &[(&str, &str, Result<Json, &str>)] = &[
            ("STRING", "hello", Ok(json!("hello"))),
            ("INT", "42", Ok(json!(42))),
            ("INT", "4.2", Err("not a valid INT")),
            ("FLOAT", "1.5", Ok(json!(1.5))),
            // Kestra's `Float`, through `JacksonMapper.toMap`: a `Double` 5.0.
            ("FLOAT", "5", Ok(json!(5.0))),
            (
                "DATETIME",
                "2024-01-15T10:30:00+02:00",
                Ok(json!("2024-01-15T08:30:00Z")),
            ),
            ("BOOLEAN", "true", Ok(json!(true))),
            ("BOOLEAN", "maybe", Err("not a valid BOOLEAN")),
            ("JSON", "{\"a\": [1]}", Ok(json!({"a": [1]}))),
            ("JSON", "{a", Err("not a valid JSON")),
            ("ARRAY", "[1, \"b\"]", Ok(json!([1, "b"]))),
            ("ARRAY", "x", Err("expected a JSON list")),
            (
                "DATETIME",
                "2024-01-15T10:30:00Z",
                Ok(json!("2024-01-15T10:30:00Z")),
            ),
            ("DURATION", "soon", Err("not a valid DURATION")),
            ("STRING", "", Err("required but its value is empty")),
        ];
        for (kind, text, want) in rows {
            let got = typed("o", kind, true, text);
            match want {
                Ok(v) => assert_eq!(got.as_ref(), Ok(v), "{kind} {text}"),
                Err(w) => assert!(
                    got.as_ref().is_err_and(|e| e.contains(w)),
                    "{kind} {text}: {got:?}"
                ),
            }
        }
        assert_eq!(typed("o", "STRING", false, ""), Ok(Json::Null));
    }
}
