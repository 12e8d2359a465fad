//! A Script task's `script`: one text, or (as Kestra's `Property<String>` takes it) a list or
//! a map, which becomes its JSON text.
//!
//! Kestra reads `script` as a dynamic property; its deserializer writes a YAML list or map back
//! as compact JSON (`Property.PropertyDeserializer`), and that text is the script. So
//! `script: [console.log("hi")]` runs the script `["console.log(\"hi\")"]`, which for most
//! languages is an expression that prints nothing. dockhand does the same, with a warning, so a
//! flow from Kestra's own tests (plugin-scripts' sanity checks) runs as it does there.

use crate::flow::reader::{Cx, Obj, as_string};
use crate::flow::yaml::Value;

/// The script text of `o` (required): a string, or the JSON text of a list or map.
pub(super) fn read(cx: &mut Cx, o: &mut Obj<'_>) -> Option<String> {
    let path = o.key_path("script");
    let n = o.need(cx, "script")?;
    match &n.value {
        Value::Seq(_) | Value::Map(_) => {
            let text = serde_json::to_string(&n.to_json()).expect("JSON of a YAML tree");
            cx.diags.warning(
                n.pos,
                path,
                format!(
                    "`script` is {}: as Kestra does, the script is its JSON text `{}`; write the script as one text (`script: |`)",
                    n.kind(),
                    shorten(&text)
                ),
            );
            Some(text)
        }
        Value::Scalar { .. } => as_string(cx, n, &path),
    }
}

/// At most 60 characters of `s`, for a message.
fn shorten(s: &str) -> String {
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
