//! The file a core task makes and names in its `uri` output (http `Download`) goes to the local
//! internal storage, as a script task's output files do, and the output becomes the file's
//! `kestra://` URI, as Kestra's is: so `{{ outputs.download.uri }}` is usable as an input file
//! of a later task (`inputFiles: {data.csv: "{{ outputs.download.uri }}"}`, which reads a
//! `file://` URI only under an allowed path), and `--json` lists it in `storedFiles`. The file
//! stays in the task's working directory too (PurgeCurrentExecutionFiles removes that copy).
//! `LocalFiles`' `uris` are left as `file://` URIs.

use serde_json::Value as Json;

use crate::exec::Runtime;
use crate::exec::result::TaskResult;
use crate::flow::model::Flow;

/// Keeps the file `res`'s `uri` output names (a `file://` path inside the working directory of
/// run `run_id`: `dl`, or `dl.1` inside a ForEach) in the storage, and gives the output its URI
/// instead; the URI names the run, so each value's file is its own.
pub(super) fn store(rt: &Runtime, flow: &Flow, run_id: &str, attempt: u32, res: &mut TaskResult) {
    let Some(st) = &rt.storage else { return };
    let workdir = rt.ctx.workdir(run_id);
    let inside = |v: &Json| {
        v.as_str()
            .and_then(|s| s.strip_prefix("file://"))
            .filter(|p| camino::Utf8Path::new(p).starts_with(&workdir))
            .map(str::to_string)
    };
    let Some(file) = res.outputs.get("uri").and_then(inside) else {
        return;
    };
    res.output_files = vec![file];
    if let Err(e) = st.keep(
        (&flow.namespace, &flow.id, &rt.ctx.execution_id),
        run_id,
        attempt,
        &workdir,
        res,
    ) {
        rt.status(&format!("{run_id}: warning: files not kept: {e}"));
        return;
    }
    let stored = res.stored_files.clone();
    let uri_of = |v: &mut Json| {
        if let Some(p) = v.as_str().and_then(|s| s.strip_prefix("file://"))
            && let Some(f) = stored_uri(&stored, &workdir, p)
        {
            *v = Json::String(f);
        }
    };
    if let Some(v) = res.outputs.get_mut("uri") {
        uri_of(v);
    }
}

/// The URI of the stored file whose name is `path` relative to `workdir`.
fn stored_uri(
    stored: &[crate::exec::result::StoredFile],
    workdir: &camino::Utf8Path,
    path: &str,
) -> Option<String> {
    let rel = camino::Utf8Path::new(path).strip_prefix(workdir).ok()?;
    stored
        .iter()
        .find(|f| f.name == rel.as_str())
        .map(|f| f.uri.clone())
}
