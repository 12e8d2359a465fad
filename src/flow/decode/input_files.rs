//! A task's `inputFiles`: a map of file names to contents, or, as Kestra also takes it
//! (`PluginUtilsService.transformInputFiles`: a `String` is rendered, then read as a JSON
//! object of names to contents), one text. A text without expressions is read here; one with
//! expressions is kept and read when the task starts, once rendered.

use std::collections::BTreeMap;

use crate::flow::reader::{self, Cx, Obj};
use crate::flow::yaml::Value;

/// The files, and the text to render and read at run time (when it holds expressions).
pub(super) fn read(cx: &mut Cx, o: &mut Obj<'_>) -> (BTreeMap<String, String>, Option<String>) {
    let path = o.key_path("inputFiles");
    let Some(n) = o.get(cx, "inputFiles") else {
        return (BTreeMap::new(), None);
    };
    let files = match &n.value {
        Value::Scalar { text, .. } if text.contains("{{") || text.contains("{%") => {
            return (BTreeMap::new(), Some(text.clone()));
        }
        Value::Scalar { text, .. } => match parse_json(text) {
            Ok(m) => m,
            Err(e) => {
                cx.error(n.pos, &path, e);
                BTreeMap::new()
            }
        },
        _ => reader::as_string_map(cx, n, &path).unwrap_or_default(),
    };
    for name in files.keys() {
        let p = reader::join(&path, name);
        if let Err(e) = super::task::check_relative(name) {
            let pos = cx.spans.get(&p).copied().unwrap_or(n.pos);
            cx.error(pos, &p, format!("input file `{name}`: {e}"));
        }
    }
    (files, None)
}

/// `inputFiles` as text: a JSON object of file names to contents (a number or boolean is its
/// text, as Jackson reads a `Map<String, String>`; null leaves the file out, as Kestra does).
pub fn parse_json(text: &str) -> Result<BTreeMap<String, String>, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        format!("`inputFiles` as text must be a JSON object of file names to contents: {e}")
    })?;
    let serde_json::Value::Object(m) = v else {
        return Err(format!(
            "`inputFiles` as text must be a JSON object of file names to contents, not `{}`",
            shorten(text)
        ));
    };
    let mut out = BTreeMap::new();
    for (k, v) in m {
        let content = match v {
            serde_json::Value::Null => continue,
            serde_json::Value::String(s) => s,
            serde_json::Value::Bool(_) | serde_json::Value::Number(_) => v.to_string(),
            other => {
                return Err(format!(
                    "`inputFiles` as text: the content of `{k}` must be text, not {}",
                    if other.is_array() {
                        "a list"
                    } else {
                        "an object"
                    }
                ));
            }
        };
        out.insert(k, content);
    }
    Ok(out)
}

fn shorten(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_json;

    #[test]
    fn input_files_as_json_text() {
        let m = parse_json(r#"{"a.txt": "hi", "n.txt": 3, "gone": null}"#).unwrap();
        assert_eq!(m.get("a.txt").map(String::as_str), Some("hi"));
        assert_eq!(m.get("n.txt").map(String::as_str), Some("3"));
        assert!(!m.contains_key("gone"));
        assert!(parse_json("[1]").unwrap_err().contains("JSON object"));
        assert!(parse_json("{").unwrap_err().contains("JSON object"));
        assert!(parse_json(r#"{"a": [1]}"#).unwrap_err().contains("a list"));
    }
}
