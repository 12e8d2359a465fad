//! Files of a task's working directory that come from, or go to, the local KV store around its
//! run: DbtCLI's `loadManifest` writes a KV entry to `target/manifest.json` before the commands,
//! `storeManifest` stores that file (parsed as JSON) after them, as plugin-dbt's
//! `DbtCLI.run` does (`fetchAndStoreManifestIfExists`, `parseRunResults`).

use std::collections::BTreeMap;

use crate::exec::Runtime;
use crate::exec::result::{Failure, State, TaskResult};
use crate::flow::model::{Flow, KvFile, ScriptTask};
use crate::kv_store::Found;

type Outputs = BTreeMap<String, BTreeMap<String, serde_json::Value>>;

/// The entry's namespace and key, rendered.
fn where_(
    rt: &Runtime,
    flow: &Flow,
    outputs: &Outputs,
    f: &KvFile,
) -> Result<(String, String), String> {
    let render = |t: &str| crate::plan::render_flow_text(flow, &rt.ctx, &rt.inputs, outputs, t);
    Ok((render(&f.namespace)?, render(&f.key)?))
}

/// What a loaded entry puts in the file: a text as it is, any other value as JSON (plugin-dbt:
/// `value instanceof String ? value : writeValueAsString(value)`); `None` for a blank value.
pub fn file_text(value: &serde_json::Value) -> Option<String> {
    let text = match value {
        serde_json::Value::Null => return None,
        serde_json::Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    (!text.trim().is_empty()).then_some(text)
}

/// The task with each `load` entry as an input file (written over one of the same name, as
/// plugin-dbt writes over it), and the warnings to print (an entry that is not there).
pub fn with_loaded(
    rt: &Runtime,
    flow: &Flow,
    script: &ScriptTask,
    outputs: &Outputs,
) -> Result<(ScriptTask, Vec<String>), String> {
    let mut s = script.clone();
    let mut warnings = Vec::new();
    for f in script.kv_files.iter().filter(|f| f.load) {
        let (ns, key) = where_(rt, flow, outputs, f)?;
        let store = rt
            .kv
            .as_ref()
            .ok_or("loadManifest: this run has no KV store (no state directory)")?;
        let value = match store.get(&ns, &key)? {
            Found::Value(v) => file_text(&v),
            Found::Missing | Found::Expired => None,
        };
        match value {
            Some(text) => {
                s.input_files
                    .insert(f.path.clone(), crate::exec::namespace_files::verbatim(&text));
            }
            None => warnings.push(format!(
                "Property `loadManifest` has been used but no manifest has been found in the KV Store (key {key} of namespace {ns})."
            )),
        }
    }
    Ok((s, warnings))
}

/// After the run: each `store` entry's file, parsed as JSON, stored under its key. A file that
/// is not there is a warning (plugin-dbt: `dbt manifest not found`); one that is not JSON, or a
/// store that fails, fails the task.
pub fn store(
    rt: &Runtime,
    flow: &Flow,
    script: &ScriptTask,
    outputs: &Outputs,
    workdir: &camino::Utf8Path,
    res: &mut TaskResult,
) {
    for f in script.kv_files.iter().filter(|f| !f.load) {
        let path = workdir.join(&f.path);
        let stored = (|| -> Result<Option<String>, String> {
            let Ok(text) = std::fs::read_to_string(&path) else {
                return Ok(None);
            };
            let value: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| format!("storeManifest: {path} is not JSON: {e}"))?;
            let (ns, key) = where_(rt, flow, outputs, f)?;
            let store = rt
                .kv
                .as_ref()
                .ok_or("storeManifest: this run has no KV store (no state directory)")?;
            store.set(&ns, &key, value, true, None)?;
            Ok(Some(format!(
                "stored {} as KV key {key} of namespace {ns}",
                f.path
            )))
        })();
        match stored {
            Ok(Some(done)) => rt.status(&format!("{}: {done}", res.id)),
            Ok(None) => rt.status(&format!(
                "{}: warning: dbt manifest not found at {path}: nothing stored in the KV store",
                res.id
            )),
            Err(e) => {
                rt.status(&format!("{}: {e}", res.id));
                res.state = State::Failed;
                res.message = Some(e.clone());
                res.failure = Some(Failure::Setup { message: e });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::file_text;
    use serde_json::json;

    #[test]
    fn a_loaded_entry_is_its_text_or_its_json() {
        let rows = [
            (json!("{\"a\": 1}"), Some("{\"a\": 1}")),
            (json!({"nodes": {}}), Some("{\"nodes\":{}}")),
            (json!(""), None),
            (json!("  "), None),
            (json!(null), None),
            (json!(3), Some("3")),
        ];
        for (v, want) in rows {
            assert_eq!(file_text(&v).as_deref(), want, "{v}");
        }
    }
}
