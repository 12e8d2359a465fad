//! FILE inputs, as Kestra makes them available: the file given with `--input NAME=PATH` (a
//! local path, or a `file://` URI) is copied into the execution's storage under the state
//! directory, and the input's value is its internal-storage URI,
//! `kestra:///NAMESPACE/PATH/FLOW/executions/EXECUTION/inputs/NAME/FILE` (the namespace's dots
//! as slashes), which is what `{{ inputs.NAME }}` renders. An `inputFiles` entry whose value is
//! such a URI gets the stored file's content, as Kestra's `inputFiles` reads internal storage
//! (text files: input files are text in the plan's archive).
//! A value that already is a `kestra:///` URI of this storage (a resumed execution's) is kept.

use std::sync::OnceLock;

use camino::{Utf8Path, Utf8PathBuf};

use crate::flow::model::Flow;

/// The storage of this process's executions (`STATE_DIR/storage`), set when an execution
/// starts: the working-directory writer reads it to resolve `kestra:///` input files (one state
/// directory per process).
static STORAGE: OnceLock<Utf8PathBuf> = OnceLock::new();

pub fn storage_root(state_dir: &Utf8Path) -> Utf8PathBuf {
    state_dir.join("storage")
}

/// Records the storage root for [`stored_file`]; the first call wins.
pub fn set_storage(root: Utf8PathBuf) {
    let _ = STORAGE.set(root);
}

/// The internal-storage URI of FILE input `input` of an execution. Pure.
pub fn uri(namespace: &str, flow: &str, execution: &str, input: &str, file: &str) -> String {
    format!(
        "kestra:///{}/{flow}/executions/{execution}/inputs/{input}/{file}",
        namespace.replace('.', "/")
    )
}

/// The local file behind a `kestra:///` URI under `root`; none for any other text, or a path
/// that would leave the storage. Pure.
pub fn local(root: &Utf8Path, text: &str) -> Option<Utf8PathBuf> {
    let rest = text.strip_prefix("kestra:///")?;
    if rest.is_empty()
        || rest
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return None;
    }
    Some(root.join(rest))
}

/// The stored file an input file's content names, if it is one of this process's storage.
pub fn stored_file(content: &str) -> Option<Utf8PathBuf> {
    let root = STORAGE.get()?;
    local(root, content.trim()).filter(|p| p.is_file())
}

/// Replaces each input file whose value is a stored file's URI by the file's text; true when
/// one was.
pub fn resolve_input_files(
    files: &mut std::collections::BTreeMap<String, String>,
) -> Result<bool, String> {
    let mut changed = false;
    for (name, content) in files.iter_mut() {
        if let Some(src) = stored_file(content) {
            *content = std::fs::read_to_string(&src).map_err(|e| {
                format!("input file {name}: cannot read {src} as text ({e}); binary FILE inputs are not supported in inputFiles")
            })?;
            changed = true;
        }
    }
    Ok(changed)
}

/// Copies each FILE input's file into the storage and replaces its value with its URI. An
/// unreadable file, or a URI dockhand cannot read, is bad input (the message names the input).
pub fn store(
    flow: &Flow,
    inputs: &mut std::collections::BTreeMap<String, String>,
    state_dir: &Utf8Path,
    execution: &str,
) -> Result<(), String> {
    let root = storage_root(state_dir);
    for i in flow.inputs.iter().filter(|i| i.kind == "FILE") {
        let Some(v) = inputs.get(&i.id).cloned() else {
            continue;
        };
        if local(&root, &v).is_some_and(|p| p.is_file()) {
            continue;
        }
        let path = match v.strip_prefix("file://") {
            Some(p) => p.to_string(),
            None if v.contains("://") => {
                return Err(format!(
                    "FILE input `{}`: `{v}` is not a local file; give a path or a file:// URI",
                    i.id
                ));
            }
            None => v.clone(),
        };
        let src = Utf8Path::new(&path);
        let name = src
            .file_name()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| format!("FILE input `{}`: `{v}` names no file", i.id))?;
        let u = uri(&flow.namespace, &flow.id, execution, &i.id, name);
        let dest =
            local(&root, &u).ok_or_else(|| format!("FILE input `{}`: cannot store `{v}`", i.id))?;
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("FILE input `{}`: {dir}: {e}", i.id))?;
        }
        std::fs::copy(src, &dest)
            .map_err(|e| format!("FILE input `{}`: cannot read `{path}`: {e}", i.id))?;
        inputs.insert(i.id.clone(), u);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_kestras_and_stay_in_the_storage() {
        let u = uri("company.team", "f", "abc", "data", "x.csv");
        assert_eq!(
            u,
            "kestra:///company/team/f/executions/abc/inputs/data/x.csv"
        );
        let root = Utf8Path::new("/s");
        assert_eq!(
            local(root, &u).unwrap(),
            "/s/company/team/f/executions/abc/inputs/data/x.csv"
        );
        for bad in [
            "kestra:///../etc/passwd",
            "kestra:///a//b",
            "kestra:///",
            "/etc/passwd",
            "kestra:///a/./b",
        ] {
            assert_eq!(local(root, bad), None, "{bad}");
        }
    }
}
