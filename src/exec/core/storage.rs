//! The execution's files: `storage.PurgeCurrentExecutionFiles` removes what the execution
//! stored (everything under `WORK_DIR/EXECUTION/`: output files, downloads, local files), and
//! the legacy `storage.LocalFiles` writes files into its working directory and hands out those
//! its `outputs` globs match; `storage.Write` puts a text into a file of the local internal
//! storage and outputs its `kestra://` URI.

use std::collections::BTreeMap;

use camino::Utf8Path;
use serde_json::{Value as Json, json};

use super::Done;
use super::log::print;
use crate::exec::Runtime;
use crate::flow::core_task::LogLevel;
use crate::plan::scope::TextRenderer;

/// Every regular file (or link) under `dir`, sorted; directories are walked, never followed.
fn files_under(dir: &Utf8Path) -> Vec<camino::Utf8PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = d.read_dir_utf8() else { continue };
        for e in rd.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path().to_path_buf()),
                Ok(_) => out.push(e.path().to_path_buf()),
                Err(_) => {}
            }
        }
    }
    out.sort();
    out
}

pub(super) fn purge(rt: &Runtime, task: &str) -> Done {
    let dir = rt.ctx.work_root.join(&rt.ctx.execution_id);
    let files = files_under(&dir);
    if files.is_empty() {
        print(
            rt,
            task,
            LogLevel::Info,
            &format!(
                "No file to purge: execution {} has stored none",
                rt.ctx.execution_id
            ),
        );
        return Done::with_outputs(BTreeMap::from([("uris".into(), json!([]))]));
    }
    let mut uris = Vec::new();
    let mut errors = Vec::new();
    for f in &files {
        match std::fs::remove_file(f) {
            Ok(()) => uris.push(Json::String(format!("file://{f}"))),
            Err(e) => errors.push(format!("{f}: {e}")),
        }
    }
    // The directories left empty go too (the task's own, made on demand, comes back if needed).
    let mut dirs: Vec<_> = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        if let Ok(rd) = d.read_dir_utf8() {
            for e in rd.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(e.path().to_path_buf());
                    dirs.push(e.path().to_path_buf());
                }
            }
        }
    }
    for d in dirs.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
    print(
        rt,
        task,
        LogLevel::Info,
        &format!(
            "Purged {} file(s) of execution {}",
            uris.len(),
            rt.ctx.execution_id
        ),
    );
    if !errors.is_empty() {
        return Done::failed(format!("cannot remove {}", errors.join("; ")));
    }
    Done::with_outputs(BTreeMap::from([("uris".into(), Json::Array(uris))]))
}

pub(super) fn local_files(
    rt: &Runtime,
    task: &str,
    inputs: &BTreeMap<String, String>,
    outputs: &[String],
    r: &mut TextRenderer,
) -> Result<Done, String> {
    let workdir = rt.ctx.workdir(task);
    let mut rendered = BTreeMap::new();
    for (name, content) in inputs {
        rendered.insert(name.clone(), r.text(content)?);
    }
    let outputs: Vec<String> = outputs
        .iter()
        .map(|g| r.text(g))
        .collect::<Result<_, _>>()?;
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(&workdir)?;
        for (name, content) in &rendered {
            let path = workdir.join(name);
            if let Some(d) = path.parent() {
                std::fs::create_dir_all(d)?;
            }
            std::fs::write(&path, content)?;
        }
        Ok(())
    };
    if let Err(e) = write() {
        return Ok(Done::failed(format!(
            "cannot write the files in {workdir}: {e}"
        )));
    }
    let found = crate::exec::files::collect(&workdir, &outputs);
    for why in &found.refused {
        print(rt, task, LogLevel::Warn, why);
    }
    // As a script task's directory: only the files handed out stay.
    let keep: Vec<String> = found.files.iter().map(|f| f.to_string()).collect();
    if let Err(e) = crate::exec::files::prune(&workdir, &keep) {
        print(
            rt,
            task,
            LogLevel::Warn,
            &format!("cannot tidy {workdir}: {e}"),
        );
    }
    let uris: serde_json::Map<String, Json> = found
        .files
        .iter()
        .filter_map(|f| {
            let rel = f.strip_prefix(&workdir).ok()?;
            Some((rel.to_string(), Json::String(format!("file://{f}"))))
        })
        .collect();
    Ok(Done::with_outputs(BTreeMap::from([(
        "uris".into(),
        Json::Object(uris),
    )])))
}

/// The name `storage.Write` gives its file: Kestra's temporary files are `<random><suffix>`,
/// the suffix the extension with a dot added when it has none (`LocalWorkingDir.createTempFile`),
/// `.tmp` without one. dockhand names the file after the task, so that a resumed execution
/// (which takes the task's end from the journal) and the plan name the same file.
pub fn write_name(task: &str, extension: Option<&str>) -> String {
    match extension {
        None => format!("{task}.tmp"),
        Some(e) if e.starts_with('.') => format!("{task}{e}"),
        Some(e) => format!("{task}.{e}"),
    }
}

pub(super) fn write(
    rt: &Runtime,
    task: &str,
    (namespace, flow, attempt): (&str, &str, u32),
    content: &str,
    extension: Option<&str>,
    r: &mut TextRenderer,
) -> Result<Done, String> {
    let content = r.text(content)?;
    let extension = extension.map(|e| r.text(e)).transpose()?;
    let name = write_name(task, extension.as_deref());
    if crate::plan::storage::relative_inside(&name).is_err() || name.contains('/') {
        return Ok(Done::failed(format!(
            "`extension` {:?} is not a file name's extension",
            extension.unwrap_or_default()
        )));
    }
    let Some(st) = &rt.storage else {
        return Ok(Done::failed(
            "this run has no internal storage to write the file to",
        ));
    };
    let uri = crate::plan::storage::output_uri(
        namespace,
        flow,
        &rt.ctx.execution_id,
        task,
        attempt,
        &name,
    );
    let path = crate::plan::storage::storage_path(&st.root, &uri)?;
    let put = || -> std::io::Result<()> {
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d)?;
        }
        std::fs::write(&path, content.as_bytes())
    };
    if let Err(e) = put() {
        return Ok(Done::failed(format!("cannot write {path}: {e}")));
    }
    Ok(Done::with_outputs(BTreeMap::from([(
        "uri".into(),
        Json::String(uri),
    )])))
}

#[cfg(test)]
mod tests {
    use super::write_name;

    #[test]
    fn write_names_its_file_as_kestra_suffixes_it() {
        let rows = [
            (None, "w.tmp"),
            (Some(".sh"), "w.sh"),
            (Some("json"), "w.json"),
            (Some(".tar.gz"), "w.tar.gz"),
        ];
        for (ext, want) in rows {
            assert_eq!(write_name("w", ext), want, "{ext:?}");
        }
    }
}
